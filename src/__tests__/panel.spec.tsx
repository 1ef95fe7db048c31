import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor
} from '@testing-library/react';
import * as React from 'react';

import { ClusterPanel } from '../components/ClusterPanel';
import { LogView } from '../components/LogView';
import { ClusterListModel } from '../model';
import { notifyChanges } from '../notifications';
import { chooseKind, snippetKinds } from '../snippets';
import {
  cluster,
  environment,
  fakeActions,
  fakeAPI,
  FakeStream,
  flush,
  sse
} from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

const noActions = fakeActions();

describe('ClusterPanel', () => {
  it('shows where clusters run and each failed preflight check with its fix', async () => {
    const model = new ClusterListModel({ api: fakeAPI([]) });
    model.setEnvironment(
      environment({
        checks: [
          {
            name: 'operator',
            ok: false,
            status: 'failed',
            message: 'the DaskCluster CRD is not served',
            fix: 'helm install dask-kubernetes-operator'
          },
          {
            name: 'gpus',
            ok: false,
            status: 'unknown',
            message: 'GPU capacity unknown: this notebook may not read nodes',
            fix: 'apply manifests/optional/gpu-capacity'
          },
          { name: 'dask', ok: true, status: 'ok', message: 'fine', fix: null }
        ]
      })
    );
    render(<ClusterPanel model={model} actions={noActions} trans={trans} />);
    expect(screen.getByText('kubeflow-user-example-com')).toBeTruthy();
    expect(screen.getByText('Kubernetes').getAttribute('title')).toBe(
      'service account found and DaskCluster CRD served'
    );
    const problems = screen.getByRole('list', { name: 'Setup problems' });
    expect(problems.textContent).toContain(
      'operator: the DaskCluster CRD is not served'
    );
    expect(problems.textContent).toContain(
      'Fix: helm install dask-kubernetes-operator'
    );
    expect(problems.textContent).not.toContain('fine'); // passed checks are not problems
    // A check that cannot tell is shown apart: not a problem, not a pass.
    expect(problems.textContent).not.toContain('GPU capacity unknown');
    const unknown = screen.getByRole('list', { name: 'Could not check' });
    expect(unknown.textContent).toContain(
      'gpus: GPU capacity unknown: this notebook may not read nodes'
    );
    expect(unknown.textContent).toContain(
      'Fix: apply manifests/optional/gpu-capacity'
    );
    model.dispose();
  });

  it('says when the service does not answer and offers no New button then', async () => {
    const model = new ClusterListModel({
      api: {
        ...fakeAPI([]),
        getEnvironment: () => Promise.reject(new Error('503 unavailable'))
      }
    });
    render(<ClusterPanel model={model} actions={noActions} trans={trans} />);
    await act(() => model.loadEnvironment());
    expect(screen.getByRole('alert').textContent).toBe(
      'The GPU cluster service does not answer: 503 unavailable'
    );
    expect(
      (
        screen.getByRole('button', {
          name: 'New GPU cluster'
        }) as HTMLButtonElement
      ).disabled
    ).toBe(true);
    model.dispose();
  });

  it('lists live clusters as they come and go, and says when updates are interrupted', async () => {
    const streams: FakeStream[] = [];
    const model = new ClusterListModel({ api: fakeAPI(streams) });
    model.setEnvironment(environment());
    const { container } = render(
      <ClusterPanel model={model} actions={noActions} trans={trans} />
    );
    const connection = () => container.querySelector('.jp-RapidsKF-connection');
    expect(connection()?.textContent).toBe(
      'Updates paused while the panel is hidden.'
    );
    await act(async () => {
      model.setVisible(true);
      await flush();
      streams[0].push(sse('clusters', { clusters: [] }));
      await flush();
    });
    expect(screen.getByText(/No clusters yet/)).toBeTruthy();
    expect(connection()).toBeNull(); // live needs no words
    await act(async () => {
      streams[0].push(
        sse('cluster', cluster('b-cluster')) +
          sse('cluster', cluster('a-cluster', { phase: 'Pending' }))
      );
      await flush();
    });
    const cards = screen
      .getByRole('list', { name: 'GPU clusters' })
      .querySelectorAll('.jp-RapidsKF-card');
    expect(
      Array.from(cards).map(card => card.getAttribute('data-cluster-name'))
    ).toEqual(['a-cluster', 'b-cluster']);
    await act(async () => {
      streams[0].end();
      await flush();
    });
    expect(connection()?.textContent).toBe(
      'Live updates interrupted (the event stream ended); reconnecting…'
    );
    fireEvent.click(screen.getByRole('button', { name: 'New GPU cluster' }));
    expect(noActions.newCluster).toHaveBeenCalled();
    model.dispose();
  });
});

describe('LogView', () => {
  it('shows the lines of each process and reloads for another component', async () => {
    const load = jest.fn(async (component: string) =>
      component === 'scheduler'
        ? [
            {
              pod: 'a-scheduler',
              component: 'scheduler' as const,
              lines: ['started', 'listening']
            }
          ]
        : []
    );
    render(<LogView cluster="a" trans={trans} load={load} />);
    await waitFor(() =>
      expect(
        screen.getByRole('region', { name: 'a-scheduler' }).textContent
      ).toContain('started\nlistening')
    );
    fireEvent.change(screen.getByLabelText('Component'), {
      target: { value: 'worker' }
    });
    await waitFor(() =>
      expect(
        screen.getByText('No workers are running, so there are no worker logs.')
      ).toBeTruthy()
    );
    expect(load.mock.calls).toEqual([
      ['scheduler', 200],
      ['worker', 200]
    ]);
  });

  it('says why the logs could not be read', async () => {
    render(
      <LogView
        cluster="a"
        trans={trans}
        load={() => Promise.reject(new Error('cluster not found'))}
      />
    );
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe('cluster not found')
    );
  });
});

describe('notifications', () => {
  it('pops up for ready (clusters made here), failed and deleted clusters', async () => {
    const streams: FakeStream[] = [];
    const model = new ClusterListModel({ api: fakeAPI(streams) });
    const emitted: { type: string; message: string; autoClose: unknown }[] = [];
    for (const type of ['success', 'error', 'info'] as const) {
      jest
        .spyOn(Notification, type)
        .mockImplementation((message: string, options?: any) => {
          emitted.push({ type, message, autoClose: options?.autoClose });
          return '';
        });
    }
    notifyChanges(model, new CommandRegistry(), trans);
    model.setVisible(true);
    await flush();
    streams[0].push(
      sse('clusters', { clusters: [cluster('old', { phase: 'Pending' })] })
    );
    await flush();
    await model.create({ name: 'mine' });
    streams[0].push(
      sse('cluster', cluster('mine', { phase: 'Pending' })) +
        sse(
          'cluster',
          cluster('mine', {
            phase: 'Running',
            workers: { desired: 2, ready: 2, pending: 0 }
          })
        ) +
        sse('cluster', cluster('old', { phase: 'Running' })) + // not made here: no pop-up
        sse(
          'cluster',
          cluster('old', { phase: 'Failed', reasons: ['ImagePullBackOff'] })
        ) +
        sse('deleted', { name: 'mine', namespace: 'local' })
    );
    await flush();
    expect(emitted).toEqual([
      {
        type: 'success',
        message: 'GPU cluster mine is running with 2 workers.',
        autoClose: expect.any(Number)
      },
      {
        type: 'error',
        message: 'GPU cluster old failed: ImagePullBackOff',
        autoClose: false
      },
      {
        type: 'info',
        message: 'GPU cluster mine was deleted.',
        autoClose: expect.any(Number)
      }
    ]);
    expect(emitted.every(n => n.autoClose !== 0)).toBe(true);
    model.dispose();
    jest.restoreAllMocks();
  });
});

describe('snippet kinds', () => {
  it('offers KubeCluster only for clusters on Kubernetes', () => {
    expect(snippetKinds(cluster('a'))).toEqual(['client', 'cudf']);
    expect(snippetKinds(cluster('k', { backend: 'kubernetes' }))).toEqual([
      'client',
      'kubecluster',
      'cudf'
    ]);
    expect(chooseKind(cluster('a'), 'kubecluster')).toBe('client');
    expect(
      chooseKind(cluster('k', { backend: 'kubernetes' }), 'kubecluster')
    ).toBe('kubecluster');
    expect(chooseKind(cluster('a'), 'cudf')).toBe('cudf');
  });
});
