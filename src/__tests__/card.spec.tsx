import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import { ScaleControl } from '../components/ScaleControl';
import { IClusterActions, ICluster } from '../tokens';
import { cluster, fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');
const NOW = Date.parse('2026-11-29T15:03:20Z');

/** A card with the usual props; a test names only the cluster (and the actions it watches). */
function renderCard(shown: ICluster, spy: IClusterActions = fakeActions()) {
  return render(
    <ClusterCard
      cluster={shown}
      pending={null}
      maxWorkers={16}
      actions={spy}
      trans={trans}
      now={NOW}
    />
  );
}

/** A slider with the usual props; a test names only what it is about. */
function scaleControl(
  props: Partial<React.ComponentProps<typeof ScaleControl>> = {}
): JSX.Element {
  return (
    <ScaleControl
      cluster={cluster('a')}
      pending={null}
      maxWorkers={16}
      trans={trans}
      onScale={jest.fn()}
      onAdapt={jest.fn()}
      {...props}
    />
  );
}

describe('ClusterCard', () => {
  it('shows a queued cluster with its place in the Kueue queue, admitted and queued workers apart', () => {
    const line =
      'Queued in team-a: position 2, waiting for 4 GPUs (8 of 8 in use by 3 workloads); 0 workers admitted, 4 queued';
    renderCard(
      cluster('c', {
        phase: 'Pending',
        backend: 'kubernetes',
        gpus_per_worker: 1,
        workers: { desired: 4, ready: 0, pending: 4 },
        reasons: [line],
        queue: {
          local_queue: 'team-a',
          cluster_queue: 'gpus',
          admitted: 0,
          queued: 4,
          scheduler_queued: false,
          position: 2,
          waiting_for: 4,
          waiting_unit: 'GPU',
          use: { resource: 'GPU', in_use: 8, quota: 8, workloads: 3 },
          preempted: 0,
          inactive: null
        }
      })
    );
    expect(screen.getByText('0 admitted, 4 queued')).toBeTruthy();
    const reasons = screen.getByRole('list', { name: 'Why c is not ready' });
    expect(reasons.textContent).toBe(line);
  });

  it('shows phase, workers, age and why a cluster is not ready', () => {
    renderCard(
      cluster('gpu-etl', {
        phase: 'Pending',
        backend: 'kubernetes',
        image: 'rapidsai/base:26.10',
        gpus_per_worker: 1,
        workers: { desired: 3, ready: 1, pending: 2 },
        reasons: ['0/3 nodes are available: 3 Insufficient nvidia.com/gpu.']
      })
    );
    expect(screen.getByText('Pending')).toBeTruthy();
    expect(screen.getByText('1 of 3 workers ready')).toBeTruthy();
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe(
      '1'
    );
    expect(screen.getByText('3 min')).toBeTruthy();
    expect(screen.getByText('rapidsai/base:26.10')).toBeTruthy();
    const reasons = screen.getByRole('list', {
      name: 'Why gpu-etl is not ready'
    });
    expect(reasons.textContent).toContain('Insufficient nvidia.com/gpu');
  });

  it('counts started workers as ready only once they joined the scheduler', () => {
    renderCard(
      cluster('late', {
        phase: 'Scaling',
        backend: 'kubernetes',
        scheduler: { ready: true, address: 'tcp://late-scheduler.ns:8786' },
        workers: { desired: 2, ready: 0, pending: 2 },
        reasons: ['2 workers started, waiting for them to join the scheduler']
      })
    );
    expect(screen.getByText('0 of 2 workers ready')).toBeTruthy();
    expect(
      screen.getByText('Scaling').closest('[title]')?.getAttribute('title')
    ).toBe('0 of 2 workers have joined the scheduler.');
    const reasons = screen.getByRole('list', { name: 'Why late is not ready' });
    expect(reasons.textContent).toBe(
      '2 workers started, waiting for them to join the scheduler'
    );
  });

  it('tells what happened to a running cluster, newest first, apart from the reasons', () => {
    renderCard(
      cluster('etl', {
        phase: 'Running',
        backend: 'kubernetes',
        workers: { desired: 2, ready: 2, pending: 0 },
        happened: [
          {
            at: '2026-11-29T15:02:10Z',
            what: 'worker etl-default-worker-1a ran out of memory: it went over its memory limit of 768 MiB'
          },
          {
            at: '2026-11-29T14:58:20Z',
            what: 'worker etl-default-worker-2b was replaced'
          }
        ]
      })
    );
    const notes = screen.getByRole('list', { name: 'What happened to etl' });
    expect(
      Array.from(notes.querySelectorAll('li')).map(li => li.textContent)
    ).toEqual([
      '1 min ago: worker etl-default-worker-1a ran out of memory: it went over its memory limit of 768 MiB',
      '5 min ago: worker etl-default-worker-2b was replaced'
    ]);
    expect(
      screen.queryByRole('list', { name: 'Why etl is not ready' })
    ).toBeNull();
  });

  it('shows no notes when nothing happened, or a server does not send them', () => {
    renderCard(cluster('quiet', { happened: [] }));
    renderCard(cluster('old-server'));
    expect(screen.queryByRole('list', { name: /What happened/ })).toBeNull();
  });

  it('shows GPU memory and utilisation when the server measures them', () => {
    renderCard(
      cluster('g', {
        gpus_per_worker: 1,
        gpus: {
          in_use: 2,
          memory_used: 8 * 2 ** 30,
          memory_total: 32 * 2 ** 30,
          utilization: 41.6
        }
      })
    );
    expect(
      screen.getByText('2 in use · memory 8.0 GiB of 32 GiB · 42% busy')
    ).toBeTruthy();
    expect(screen.getByRole('meter').getAttribute('aria-valuenow')).toBe('25');
  });

  it('lists worker groups besides the default one, whose GPUs count too', () => {
    renderCard(
      cluster('mixed', {
        backend: 'kubernetes',
        gpus_per_worker: 0,
        gpus: {
          in_use: 4,
          memory_used: null,
          memory_total: null,
          utilization: null
        },
        worker_groups: [
          { name: 'highmem', desired: 3, ready: 2, gpus_per_worker: 2 }
        ]
      })
    );
    expect(screen.getByText('2 of 2 workers ready')).toBeTruthy();
    expect(screen.getByText('highmem: 2 of 3 ready')).toBeTruthy();
    expect(screen.getByText('4 in use')).toBeTruthy();
    expect(screen.queryByText('none (CPU workers)')).toBeNull();
  });

  it('says a CPU cluster has no GPUs and offers its actions', () => {
    const spy = fakeActions();
    renderCard(cluster('cpu'), spy);
    expect(screen.getByText('none (CPU workers)')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Dashboard' }));
    fireEvent.click(screen.getByRole('button', { name: 'Snippet' }));
    fireEvent.click(screen.getByRole('button', { name: 'Logs of cpu' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete cpu' }));
    fireEvent.click(
      screen.getByRole('button', { name: 'More dashboard plots of cpu' })
    );
    expect(spy.openDashboard).toHaveBeenCalledWith('cpu');
    expect(spy.insertSnippet).toHaveBeenCalledWith('cpu');
    expect(spy.showLogs).toHaveBeenCalledWith('cpu');
    expect(spy.deleteCluster).toHaveBeenCalledWith('cpu');
    expect(spy.openDashboardMenu).toHaveBeenCalledWith(
      'cpu',
      expect.any(HTMLElement)
    );
  });

  it('offers no dashboard or snippet before the scheduler is up, and no delete twice', () => {
    renderCard(
      cluster('new', {
        phase: 'Deleting',
        scheduler: { ready: false, address: null }
      })
    );
    expect(
      (screen.getByRole('button', { name: 'Dashboard' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
    expect(
      (screen.getByRole('button', { name: 'Snippet' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
    expect(
      (screen.getByRole('button', { name: 'Delete new' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
  });
});

describe('ScaleControl', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function slider(container: HTMLElement): HTMLElement & { value: string } {
    return container.querySelector('jp-slider') as any;
  }

  /** What the slider does under the user's hand: a new value and a change event. */
  function move(node: HTMLElement & { value: string }, value: number) {
    act(() => {
      node.value = String(value);
      node.dispatchEvent(new Event('change'));
    });
  }

  it('sends one request when the slider is released, not on every step', async () => {
    const onScale = jest.fn(async () => '');
    const { container } = render(scaleControl({ onScale }));
    const node = slider(container);
    fireEvent.pointerDown(node);
    move(node, 3);
    move(node, 4);
    move(node, 5);
    expect(screen.getByRole('status').textContent).toBe(
      'Release to scale to 5'
    );
    expect(onScale).not.toHaveBeenCalled();
    await act(async () => {
      window.dispatchEvent(new Event('pointerup'));
    });
    expect(onScale).toHaveBeenCalledTimes(1);
    expect(onScale).toHaveBeenCalledWith(5);
  });

  it('sends nothing when released where it started', async () => {
    const onScale = jest.fn(async () => '');
    const { container } = render(scaleControl({ onScale }));
    const node = slider(container);
    fireEvent.pointerDown(node);
    move(node, 6);
    move(node, 2);
    await act(async () => {
      window.dispatchEvent(new Event('pointerup'));
    });
    expect(onScale).not.toHaveBeenCalled();
  });

  it('with the keyboard, sends once after the keys rest', async () => {
    const onScale = jest.fn(async () => '');
    const { container } = render(scaleControl({ onScale, keyboardDelay: 500 }));
    const node = slider(container);
    for (const value of [3, 4]) {
      fireEvent.keyDown(node, { key: 'ArrowRight' });
      move(node, value);
      fireEvent.keyUp(node, { key: 'ArrowRight' });
      await act(async () => {
        jest.advanceTimersByTime(300);
      });
    }
    expect(onScale).not.toHaveBeenCalled();
    await act(async () => {
      jest.advanceTimersByTime(500);
    });
    expect(onScale).toHaveBeenCalledTimes(1);
    expect(onScale).toHaveBeenCalledWith(4);
  });

  it('shows the asked size as pending until the workers are ready', () => {
    render(
      scaleControl({
        cluster: cluster('a', {
          phase: 'Scaling',
          workers: { desired: 5, ready: 3, pending: 2 }
        }),
        pending: { workers: 5, sending: false, acknowledged: true }
      })
    );
    expect(screen.getByRole('status').textContent).toBe(
      'Scaling to 5 workers: 3 ready'
    );
    expect(document.querySelector('output')?.getAttribute('data-pending')).toBe(
      'true'
    );
  });

  it('goes back and says why when the server refuses', async () => {
    const onScale = jest.fn(
      async () => 'Not scaled to 9: workers must be between 0 and 8'
    );
    const { container } = render(scaleControl({ onScale }));
    const node = slider(container);
    fireEvent.pointerDown(node);
    move(node, 9);
    await act(async () => {
      window.dispatchEvent(new Event('pointerup'));
    });
    expect(screen.getByRole('alert').textContent).toBe(
      'Not scaled to 9: workers must be between 0 and 8'
    );
    expect(node.value).toBe('2');
    expect(document.querySelector('output')?.textContent).toBe('2');
  });

  it('turns adaptive scaling on and off, and applies a new range', async () => {
    const onAdapt = jest.fn(async () => '');
    const view = render(scaleControl({ onAdapt }));
    await act(async () => {
      fireEvent.click(screen.getByRole('switch', { name: 'Adaptive' }));
    });
    expect(onAdapt).toHaveBeenLastCalledWith({ minimum: 1, maximum: 2 });

    view.rerender(
      scaleControl({
        cluster: cluster('a', { adapt: { minimum: 1, maximum: 2 } }),
        onAdapt
      })
    );
    expect((view.container.querySelector('jp-slider') as any).disabled).toBe(
      true
    );
    fireEvent.change(screen.getByLabelText('Max'), { target: { value: '6' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    });
    expect(onAdapt).toHaveBeenLastCalledWith({ minimum: 1, maximum: 6 });

    fireEvent.change(screen.getByLabelText('Min'), { target: { value: '9' } });
    expect(screen.getByRole('alert').textContent).toContain(
      '0 ≤ min ≤ max ≤ 16'
    );
    expect(
      (screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);

    await act(async () => {
      fireEvent.click(screen.getByRole('switch', { name: 'Adaptive' }));
    });
    expect(onAdapt).toHaveBeenLastCalledWith(null);
  });

  it('offers an adaptive range that follows the current size and the limit', async () => {
    const onAdapt = jest.fn(async () => '');
    const view = render(scaleControl({ onAdapt, maxWorkers: 4 }));
    /** The cluster now has `desired` workers; the switch is clicked on. */
    const switchOnAt = async (desired: number) => {
      view.rerender(
        scaleControl({
          cluster: cluster('a', {
            workers: { desired, ready: desired, pending: 0 }
          }),
          onAdapt,
          maxWorkers: 4
        })
      );
      await act(async () => {
        fireEvent.click(screen.getByRole('switch', { name: 'Adaptive' }));
      });
    };
    await switchOnAt(3); // scaled from 2 to 3 after the card first rendered
    expect(onAdapt).toHaveBeenLastCalledWith({ minimum: 1, maximum: 3 });
    await switchOnAt(6); // above the server's limit (an admin lowered it)
    expect(onAdapt).toHaveBeenLastCalledWith({ minimum: 1, maximum: 4 });
  });

  it('says Logs in words and keeps the adaptive range on one line', () => {
    renderCard(cluster('cpu', { adapt: { minimum: 1, maximum: 8 } }));
    const logs = screen.getByRole('button', { name: 'Logs of cpu' });
    expect(logs.textContent).toContain('Logs');
    const range = screen.getByText('adaptive 1–8');
    expect(range.className).toContain('jp-RapidsKF-nowrap');
  });

  it('names a version skew with the notebook and what to do', () => {
    renderCard(
      cluster('old', {
        version_skew: [
          { package: 'distributed', cluster: '2025.1.0', notebook: '2026.8.0' }
        ]
      })
    );
    const note = screen.getByRole('note');
    expect(note.textContent).toContain(
      'distributed 2025.1.0 (notebook 2026.8.0)'
    );
    expect(note.textContent).toContain('this notebook’s image');
  });
});
