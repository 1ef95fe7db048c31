import { Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, screen, waitFor } from '@testing-library/react';

import {
  ClusterActionRunner,
  dashboardPages,
  describeError,
  IActionContext
} from '../actions';
import { APIError } from '../api';
import { DEFAULT_SETTINGS, ISettings } from '../tokens';
import { cluster } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

function runner(settings: Partial<ISettings> = {}) {
  const removed: string[] = [];
  const saved: [string, unknown][] = [];
  const context = {
    trans,
    model: {
      remove: async (name: string) => {
        removed.push(name);
        return cluster(name, { phase: 'Deleting' });
      }
    },
    settings: () => ({ ...DEFAULT_SETTINGS, ...settings }),
    saveSetting: async (key: string, value: unknown) => {
      saved.push([key, value]);
    }
  } as unknown as IActionContext;
  return { actions: new ClusterActionRunner(context), removed, saved };
}

/** JupyterLab shows its <dialog> with CSS; jsdom's style hides one without `open`. */
async function dialogShown(): Promise<HTMLElement> {
  const node = await waitFor(() => {
    const found = document.querySelector('dialog.jp-Dialog');
    expect(found).not.toBeNull();
    return found as HTMLElement;
  });
  node.setAttribute('open', '');
  return node;
}

describe('deleting a cluster', () => {
  afterEach(() => Dialog.flush());

  it('asks first, and deletes only after Delete', async () => {
    const { actions, removed } = runner();
    const cancelled = actions.deleteCluster('gpu-etl');
    await dialogShown();
    expect(screen.getByText(/^Delete gpu-etl\?/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await cancelled).toBe(false);
    expect(removed).toEqual([]);

    const confirmed = actions.deleteCluster('gpu-etl');
    await dialogShown();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(await confirmed).toBe(true);
    expect(removed).toEqual(['gpu-etl']);
  });

  it('"Do not ask again" turns the question off in the settings', async () => {
    const { actions, removed, saved } = runner();
    const done = actions.deleteCluster('a');
    await dialogShown();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Do not ask again' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(await done).toBe(true);
    expect(saved).toEqual([['confirmDelete', false]]);
    expect(removed).toEqual(['a']);
  });

  it('deletes at once when the user chose not to be asked', async () => {
    const { actions, removed } = runner({ confirmDelete: false });
    expect(await actions.deleteCluster('b')).toBe(true);
    expect(removed).toEqual(['b']);
    expect(document.querySelector('dialog.jp-Dialog')).toBeNull();
  });
});

describe('action helpers', () => {
  it('offers GPU plots only for clusters with GPUs', () => {
    expect(dashboardPages(cluster('cpu'))).not.toContain(
      'individual-gpu-memory'
    );
    expect(dashboardPages(cluster('gpu', { gpus_per_worker: 1 }))).toEqual(
      expect.arrayContaining([
        'status',
        'individual-gpu-memory',
        'individual-gpu-utilization'
      ])
    );
  });

  it('puts the server fix after the message', () => {
    expect(
      describeError(
        new APIError(
          403,
          'forbidden',
          'cannot create daskclusters',
          undefined,
          'kubectl apply -k manifests/'
        ),
        trans
      )
    ).toBe('cannot create daskclusters. Fix: kubectl apply -k manifests/');
    expect(describeError(new Error('boom'), trans)).toBe('boom');
  });
});

describe('tabs of a cluster that is gone', () => {
  function tabs() {
    const { WidgetTracker } = jest.requireActual('@jupyterlab/apputils');
    const { Widget } = jest.requireActual('@lumino/widgets');
    const dashboards = new WidgetTracker({ namespace: 'test-dashboards' });
    const logs = new WidgetTracker({ namespace: 'test-logs' });
    const tab = (tracker: any, name: string) => {
      const widget = new Widget();
      (widget as any).cluster = name;
      void tracker.add(widget);
      return widget;
    };
    return { dashboards, logs, tab };
  }

  it('closes its dashboard, plot and logs tabs, and only its own', () => {
    const { dashboards, logs, tab } = tabs();
    const gone = [
      tab(dashboards, 'gone'),
      tab(dashboards, 'gone'),
      tab(logs, 'gone')
    ];
    const kept = [tab(dashboards, 'kept'), tab(logs, 'kept')];
    const context = { trans, dashboards, logs } as unknown as IActionContext;
    new ClusterActionRunner(context).closeTabs('gone');
    expect(gone.map(w => w.isDisposed)).toEqual([true, true, true]);
    expect(kept.map(w => w.isDisposed)).toEqual([false, false]);
  });

  it('does not bring back logs or dashboards of a deleted cluster when the layout is restored', async () => {
    const { dashboards, logs } = tabs();
    const refresh = jest.fn(async () => undefined);
    const added: unknown[] = [];
    const context = {
      trans,
      dashboards,
      logs,
      model: { find: () => undefined, loaded: false, refresh },
      app: {
        shell: { add: (w: unknown) => added.push(w), activateById: jest.fn() }
      }
    } as unknown as IActionContext;
    const actions = new ClusterActionRunner(context);
    expect(await actions.showLogs('deleted')).toBeNull();
    expect(await actions.openDashboard('deleted', 'status')).toBeNull();
    expect(refresh).toHaveBeenCalled(); // it asked the server before deciding
    expect(added).toEqual([]);
    expect(logs.size + dashboards.size).toBe(0);
  });
});
