import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import { startingLines } from '../components/Timeline';
import { ICluster, ITimeline, ITimelineStep } from '../tokens';
import { cluster, fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');
const NOW = Date.parse('2026-11-29T15:03:20Z');
const GPU_SHORT = '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.';

function step(overrides: Partial<ITimelineStep>): ITimelineStep {
  return {
    component: 'worker',
    step: 'scheduled',
    state: 'done',
    at: '2026-11-29T15:00:01Z',
    seconds: 1,
    detail: '',
    pod: 'etl-default-worker-1a2b3c-6f7d8-xyz12',
    ...overrides
  };
}

function timeline(overrides: Partial<ITimeline> = {}): ITimeline {
  return {
    cluster: 'etl',
    image: 'rapidsai/base:26.10',
    created: '2026-11-29T15:00:00Z',
    ready: null,
    seconds: null,
    elapsed: 75,
    eta_seconds: 95,
    eta_basis: 'median of 3 recent start(s) of rapidsai/base:26.10: 170 s',
    steps: [
      step({ component: 'cluster', step: 'accepted', seconds: 0, pod: null }),
      step({
        component: 'scheduler',
        pod: 'etl-scheduler-1',
        detail: 'on node cpu-1'
      }),
      step({
        component: 'scheduler',
        step: 'image',
        state: 'waiting',
        seconds: null,
        at: null,
        pod: 'etl-scheduler-1',
        detail: 'pulling since 2026-11-29T15:00:02Z'
      }),
      step({
        state: 'waiting',
        seconds: null,
        at: null,
        detail: GPU_SHORT,
        pod: 'a-worker-1'
      }),
      step({
        state: 'waiting',
        seconds: null,
        at: null,
        detail: GPU_SHORT,
        pod: 'a-worker-2'
      })
    ],
    ...overrides
  };
}

function card(shown: ICluster, load: () => Promise<ITimeline>) {
  return render(
    <ClusterCard
      cluster={shown}
      pending={null}
      maxWorkers={16}
      actions={fakeActions({ timeline: jest.fn(load) })}
      trans={trans}
      now={NOW}
    />
  );
}

describe('the start-up timeline', () => {
  it('says what a starting cluster waits for and about how long is left', () => {
    expect(startingLines(timeline(), trans)).toEqual([
      'starting for 1 min 15 s, about 2 min left',
      'scheduler: image: pulling since 2026-11-29T15:00:02Z',
      `2 workers: placed on a node: ${GPU_SHORT}`
    ]);
    expect(
      startingLines(timeline({ eta_seconds: null, steps: [] }), trans)
    ).toEqual(['starting for 1 min 15 s']);
  });

  it('shows it on the card while the cluster starts, asking again as it goes', async () => {
    jest.useFakeTimers();
    const load = jest.fn(async () => timeline());
    try {
      card(cluster('etl', { phase: 'Pending' }), load);
      await act(async () => undefined);
      expect(
        screen.getByText(`2 workers: placed on a node: ${GPU_SHORT}`)
      ).toBeTruthy();
      await act(async () => {
        jest.advanceTimersByTime(2100);
      });
      expect(load).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps a Start-up view after the start, with each step and how long it took', async () => {
    const done = timeline({
      ready: '2026-11-29T15:02:50Z',
      seconds: 170,
      eta_seconds: null,
      steps: [
        step({
          component: 'scheduler',
          step: 'image',
          seconds: 152,
          detail: 'pulled in 150.1 s, 7.1 GB',
          pod: 'etl-scheduler-1'
        }),
        step({
          step: 'registered',
          seconds: 3,
          detail: "in the scheduler's worker list"
        })
      ]
    });
    const load = jest.fn(async () => done);
    card(cluster('etl'), load);
    expect(load).not.toHaveBeenCalled(); // nothing is asked of a running cluster unless opened
    expect(screen.queryByText(/starting for/)).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start-up' }));
    });
    expect(screen.getByText('Started in 2 min 50 s')).toBeTruthy();
    expect(screen.getByText('pulled in 150.1 s, 7.1 GB')).toBeTruthy();
    expect(screen.getByText('2 min 32 s')).toBeTruthy();
    expect(screen.getByText('3.0 s')).toBeTruthy();
    expect(
      screen.getByText('worker xyz12'.replace('xyz12', '1a2b3c-6f7d8-xyz12'))
    ).toBeTruthy();
  });
});
