import { nullTranslator } from '@jupyterlab/translation';

import { ClusterActionRunner, IActionContext } from '../actions';
import { orderPlots, readPastedDashboard } from '../plots';
import { cluster } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

/** What distributed 2024's scheduler answers at individual-plots.json (a part of it). */
const ANSWER = {
  'Individual Task Stream': '/individual-task-stream',
  'Individual Progress': '/individual-progress',
  'Individual Workers Memory': '/individual-workers-memory',
  'Individual Gpu Memory': '/individual-gpu-memory',
  'Individual Gpu Utilization': '/individual-gpu-utilization',
  'Individual Cluster Map': '/statics/individual-cluster-map.html'
};

describe('the plots of a scheduler', () => {
  it('lists every plot it serves, GPU memory and utilisation first on a GPU cluster', () => {
    const pages = orderPlots(ANSWER, true).map(plot => plot.page);
    expect(pages).toEqual([
      'individual-gpu-memory',
      'individual-gpu-utilization',
      'statics/individual-cluster-map.html',
      'individual-progress',
      'individual-task-stream',
      'individual-workers-memory'
    ]);
  });

  it('keeps them in name order without GPUs, named without the "Individual" prefix', () => {
    const plots = orderPlots(ANSWER, false);
    expect(plots.map(plot => plot.title)).toEqual([
      'Cluster Map',
      'Gpu Memory',
      'Gpu Utilization',
      'Progress',
      'Task Stream',
      'Workers Memory'
    ]);
  });

  it('drops what is not a page under the dashboard', () => {
    const plots = orderPlots(
      {
        Up: '/../../api/kernels',
        Odd: 3,
        Empty: '/',
        Fine: '/individual-nbytes'
      },
      false
    );
    expect(plots).toEqual([{ title: 'Fine', page: 'individual-nbytes' }]);
    expect(orderPlots(null, true)).toEqual([]);
    expect(orderPlots(['/individual-x'], true)).toEqual([]);
  });
});

describe('a pasted dashboard URL', () => {
  const here = 'https://hub.example/user/ana/lab/tree';
  const base = '/user/ana/';

  it('opens a page of our proxy as that cluster’s pane', () => {
    expect(
      readPastedDashboard(
        'https://hub.example/user/ana/rapids-kf/clusters/etl/dashboard/individual-gpu-memory',
        base,
        here
      )
    ).toEqual({ cluster: 'etl', page: 'individual-gpu-memory' });
    expect(
      readPastedDashboard(
        '/user/ana/rapids-kf/clusters/etl/dashboard/',
        base,
        here
      )
    ).toEqual({ cluster: 'etl', page: 'status' });
  });

  it('follows a Client’s host:port link through our proxy', () => {
    expect(
      readPastedDashboard(
        'https://hub.example/user/ana/rapids-kf/dashboards/10.0.0.7:8787/status',
        base,
        here
      )
    ).toEqual({
      link: 'https://hub.example/user/ana/rapids-kf/dashboards/10.0.0.7:8787',
      page: 'status'
    });
  });

  it('refuses anything else, so the browser is no open proxy', () => {
    for (const url of [
      'http://10.0.0.7:8787/status', // the scheduler itself
      'https://evil.example/user/ana/rapids-kf/clusters/etl/dashboard/status',
      'https://hub.example/user/bob/rapids-kf/clusters/etl/dashboard/status',
      'https://hub.example/user/ana/proxy/8787/status',
      'https://hub.example/user/ana/rapids-kf/clusters/etl/logs',
      'https://hub.example/user/ana/rapids-kf/clusters/etl/dashboard/%2e%2e/%2e%2e/x',
      'https://hub.example/user/ana/rapids-kf/dashboards/evil.example/status',
      'not a url at all ::'
    ]) {
      expect([url, 'error' in readPastedDashboard(url, base, here)]).toEqual([
        url,
        true
      ]);
    }
  });

  it('opens no pane for a refused URL', async () => {
    const added: unknown[] = [];
    const context = {
      trans,
      app: {
        serviceManager: { serverSettings: { baseUrl: base } },
        shell: { add: (w: unknown) => added.push(w), activateById: jest.fn() }
      },
      model: { find: () => cluster('etl') }
    } as unknown as IActionContext;
    const runner = new ClusterActionRunner(context);
    expect(
      await runner.openPastedDashboard('http://10.0.0.7:8787/status')
    ).toBeNull();
    expect(added).toEqual([]);
  });
});

describe('plot panes', () => {
  function context(clusters: string[]) {
    const { WidgetTracker } = jest.requireActual('@jupyterlab/apputils');
    const dashboards = new WidgetTracker({ namespace: 'test-plots' });
    const logs = new WidgetTracker({ namespace: 'test-plot-logs' });
    const added: any[] = [];
    const ctx = {
      trans,
      dashboards,
      logs,
      model: {
        find: (name: string) =>
          clusters.includes(name) ? cluster(name) : undefined,
        loaded: true,
        refresh: jest.fn()
      },
      app: {
        shell: {
          add: (w: any, area: string, options: any) =>
            added.push({ w, area, options }),
          activateById: jest.fn()
        }
      }
    } as unknown as IActionContext;
    return { runner: new ClusterActionRunner(ctx), dashboards, added };
  }

  it('opens a plot as a titled, docked pane that keeps its name for the restored layout', async () => {
    const { runner, added } = context(['etl']);
    const pane = await runner.openDashboard(
      'etl',
      'individual-gpu-memory',
      'GPU memory'
    );
    expect(pane?.title.label).toBe('etl: GPU memory');
    expect(pane?.plotTitle).toBe('GPU memory');
    expect(pane?.node.querySelector('iframe')?.getAttribute('title')).toBe(
      'etl: GPU memory'
    );
    expect(added[0].area).toBe('main');
    expect(added[0].options.mode).toBe('split-right');
    // The same plot again is the same pane, not a second one.
    expect(await runner.openDashboard('etl', 'individual-gpu-memory')).toBe(
      pane
    );
    pane?.dispose();
  });

  it('closes the panes of a deleted cluster and does not restore them', async () => {
    const { runner, dashboards } = context(['etl', 'kept']);
    const gone = await runner.openDashboard(
      'etl',
      'individual-progress',
      'Progress'
    );
    const kept = await runner.openDashboard(
      'kept',
      'individual-progress',
      'Progress'
    );
    runner.closeTabs('etl');
    expect(gone?.isDisposed).toBe(true);
    expect(kept?.isDisposed).toBe(false);
    const after = context(['kept']);
    expect(
      await after.runner.openDashboard('etl', 'individual-progress', 'Progress')
    ).toBeNull();
    expect(after.dashboards.size).toBe(0);
    expect(dashboards.size).toBe(1);
    kept?.dispose();
  });
});
