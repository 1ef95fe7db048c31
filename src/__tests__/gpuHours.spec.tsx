/**
 * GPU-hours on the card, the namespace total and the idle-GPU warning.
 *
 * Disclosed: the GPU readings here are faked in this jest layer only (hand-written
 * `gpu_hours` objects in the shape the server sends, fed through a fake event stream). No
 * GPU was lent; the server's accounting itself is tested against a recording in
 * tests/unit/test_gpu_hours.py, and on a real local cluster (CPU) in tests/api.
 */
import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { render, screen } from '@testing-library/react';
import * as React from 'react';

import { NamespaceGpuHours } from '../components/GpuHours';
import { gpuHoursNow, totalGpuHours } from '../gpuHours';
import { IdleGpuWarnings, modelActions } from '../idleGpus';
import { ClusterListModel } from '../model';
import { ICluster, IGpuHours } from '../tokens';
import { cluster, fakeAPI, FakeStream, flush, sse } from './fakes';
import { renderCard } from './renderCard';

const trans = nullTranslator.load('jupyter_rapids_kf');
const AS_OF = '2026-11-29T15:00:00Z';
const T = Date.parse(AS_OF);
const MIN = 60000;

/** What the server sends for a GPU cluster, as of AS_OF (faked here, see above). */
function hours(overrides: Partial<IGpuHours> = {}): IGpuHours {
  return {
    as_of: AS_OF,
    held: 1.0,
    read: 1.0,
    busy: 0.4,
    busy_share: 0.4,
    gpus_held: 2,
    utilization: 70,
    counted_since: '2026-11-29T14:30:00Z',
    idle_since: null,
    idle_below: 5,
    idle_after: 600,
    price_per_gpu_hour: null,
    currency: null,
    cost: null,
    ...overrides
  };
}

function gpuCluster(name: string, gpuHours: IGpuHours | null): ICluster {
  return cluster(name, {
    backend: 'kubernetes',
    created: '2026-11-29T14:29:00Z',
    gpus_per_worker: 1,
    gpus: { in_use: 2, memory_used: null, memory_total: null, utilization: 70 },
    gpu_hours: gpuHours
  });
}

function gpuHoursText(): string {
  return document.querySelector('.jp-RapidsKF-gpuHours')!.textContent!;
}

describe('GPU-hours as of now', () => {
  it('grows between server events by the GPUs held, busy at the last reading', () => {
    // 30 min later: 2 GPUs x 0.5 h held, read at 70%.
    const now = gpuHoursNow(hours(), T + 30 * MIN);
    expect(now.held).toBeCloseTo(2.0);
    expect(now.read).toBeCloseTo(2.0);
    expect(now.busy).toBeCloseTo(0.4 + 0.7);
    expect(now.share).toBeCloseTo(1.1 / 2);
  });

  it('keeps the busy share to the hours with readings, and unknown without any', () => {
    const gap = gpuHoursNow(hours({ utilization: null }), T + 30 * MIN);
    expect([gap.held, gap.read, gap.share]).toEqual([2, 1, 0.4]);
    const never = gpuHoursNow(
      hours({ read: 0, busy: null, busy_share: null, utilization: null }),
      T + 30 * MIN
    );
    expect([never.held, never.busy, never.share]).toEqual([2, null, null]);
  });
});

describe('GPU-hours on the card', () => {
  it('shows hours held, the busy share and the money at the admin’s price', () => {
    renderCard(
      gpuCluster(
        'etl',
        hours({ price_per_gpu_hour: 2.5, currency: 'USD', cost: 2.5 })
      ),
      T + 30 * MIN
    );
    expect(gpuHoursText()).toBe('2.00 held · 55% busy · ≈ $5.00');
  });

  it('says the busy share is unknown when no reading came, never 0%', () => {
    renderCard(
      gpuCluster(
        'blind',
        hours({ read: 0, busy: null, busy_share: null, utilization: null })
      ),
      T
    );
    expect(gpuHoursText()).toBe('1.00 held · busy share unknown');
    expect(gpuHoursText()).not.toContain('0%');
  });

  it('says which hours the busy share covers when readings were missing for a while', () => {
    renderCard(
      gpuCluster(
        'gappy',
        hours({
          held: 2,
          read: 1,
          busy: 0.5,
          busy_share: 0.5,
          utilization: null
        })
      ),
      T
    );
    expect(gpuHoursText()).toBe(
      '2.00 held · 50% busy (of the 1.00 with readings)'
    );
  });

  it('says when counting began for a cluster first seen after it took its GPUs', () => {
    renderCard(
      gpuCluster('older', hours({ counted_since: '2026-11-29T14:50:00Z' })),
      T
    );
    expect(gpuHoursText()).toContain('counted since');
    document.body.innerHTML = '';
    renderCard(gpuCluster('fresh', hours()), T);
    expect(gpuHoursText()).not.toContain('counted since');
  });

  it('says how long the GPUs have been idle', () => {
    renderCard(
      gpuCluster(
        'idler',
        hours({ utilization: 1, idle_since: '2026-11-29T14:55:00Z' })
      ),
      T + 7 * MIN
    );
    expect(screen.getByRole('note').textContent).toBe(
      'GPUs under 5% busy for 12 min'
    );
  });

  it('gives a CPU cluster 0 GPU-hours, and an older server’s card no line', () => {
    renderCard(
      cluster('cpu', {
        gpu_hours: hours({
          held: 0,
          read: 0,
          busy: null,
          busy_share: null,
          gpus_held: 0,
          utilization: null,
          counted_since: null
        })
      }),
      T + 60 * MIN
    );
    expect(gpuHoursText()).toBe('0 (CPU workers)');
    document.body.innerHTML = '';
    renderCard(cluster('old-server'), T);
    expect(document.querySelector('.jp-RapidsKF-gpuHours')).toBeNull();
  });
});

describe('the namespace total', () => {
  it('adds the hours of the clusters listed and weighs busy by the hours read', () => {
    const clusters = [
      gpuCluster(
        'a',
        hours({
          gpus_held: 0,
          held: 3,
          read: 2,
          busy: 1,
          busy_share: 0.5,
          price_per_gpu_hour: 2,
          currency: 'USD',
          cost: 6
        })
      ),
      gpuCluster(
        'b',
        hours({
          gpus_held: 0,
          held: 1,
          read: 0,
          busy: null,
          busy_share: null,
          utilization: null,
          price_per_gpu_hour: 2,
          currency: 'USD',
          cost: 2
        })
      ),
      cluster('cpu', {
        gpu_hours: hours({
          gpus_held: 0,
          held: 0,
          read: 0,
          busy: null,
          busy_share: null
        })
      })
    ];
    const total = totalGpuHours(clusters, T + 60 * MIN)!;
    expect([total.held, total.read, total.busy, total.share]).toEqual([
      4, 2, 1, 0.5
    ]);
    render(<NamespaceGpuHours clusters={clusters} trans={trans} now={T} />);
    expect(screen.getByRole('status').textContent).toBe(
      'GPU-hours of the 3 clusters listed: 4.00 held · 50% busy (of the 2.00 with readings) · ≈ $8.00'
    );
  });

  it('is unknown-busy when nothing was read, and absent for an older server', () => {
    const blind = [
      gpuCluster(
        'a',
        hours({ read: 0, busy: null, busy_share: null, utilization: null })
      )
    ];
    render(<NamespaceGpuHours clusters={blind} trans={trans} now={T} />);
    expect(screen.getByRole('status').textContent).toBe(
      'GPU-hours of the 1 cluster listed: 1.00 held · busy share unknown'
    );
    expect(totalGpuHours([cluster('x')], T)).toBeNull();
    // CPU clusters only: no total line (their cards say 0).
    const cpu = [
      cluster('cpu', { gpu_hours: hours({ held: 0, read: 0, gpus_held: 0 }) })
    ];
    const { container } = render(
      <NamespaceGpuHours clusters={cpu} trans={trans} now={T} />
    );
    expect(container.textContent).toBe('');
  });
});

describe('the idle-GPU warning', () => {
  afterEach(() => jest.restoreAllMocks());

  it('warns once after 10 idle minutes, with one-click Delete and Scale to 0, and takes it back when the GPUs work', async () => {
    const streams: FakeStream[] = [];
    const model = new ClusterListModel({ api: fakeAPI(streams) });
    const shown: { message: string; options: any }[] = [];
    jest
      .spyOn(Notification, 'warning')
      .mockImplementation((message: string, options?: any) => {
        shown.push({ message, options });
        return `id-${shown.length}`;
      });
    const dismissed = jest
      .spyOn(Notification, 'dismiss')
      .mockImplementation(() => undefined);
    let now = T;
    const actions = {
      remove: jest.fn(async () => 0),
      scaleToZero: jest.fn(async () => 0)
    };
    const warnings = new IdleGpuWarnings({
      model,
      trans,
      actions,
      now: () => now,
      tick: 3600000
    });
    model.setVisible(true);
    await flush();
    // Idle (1% busy) since T; a busy neighbour is never warned about.
    const idle = hours({ utilization: 1, idle_since: AS_OF, held: 2 });
    streams[0].push(
      sse('clusters', {
        clusters: [gpuCluster('idler', idle), gpuCluster('busy', hours())]
      })
    );
    await flush();
    now = T + 9 * MIN;
    warnings.check();
    expect(shown).toEqual([]); // 9 minutes: not yet

    now = T + 10 * MIN;
    warnings.check();
    expect(shown).toHaveLength(1);
    expect(shown[0].message).toBe(
      'GPU cluster idler: 2 GPUs under 5% busy for 10 min (2.33 GPU-hours held).'
    );
    expect(shown[0].options.autoClose).toBe(false);
    const [remove, scale] = shown[0].options.actions;
    expect([remove.label, scale.label]).toEqual(['Delete', 'Scale to 0']);
    remove.callback(new MouseEvent('click'));
    scale.callback(new MouseEvent('click'));
    expect(actions.remove).toHaveBeenCalledWith('idler');
    expect(actions.scaleToZero).toHaveBeenCalledWith('idler');

    now = T + 20 * MIN;
    warnings.check();
    expect(shown).toHaveLength(1); // the same idle stretch: warned once

    // Busy again: the warning goes; a new idle stretch warns anew after its own 10 minutes.
    streams[0].push(sse('cluster', gpuCluster('idler', hours())));
    await flush();
    expect(dismissed).toHaveBeenCalledWith('id-1');
    const again = '2026-11-29T15:25:00Z';
    streams[0].push(
      sse(
        'cluster',
        gpuCluster('idler', hours({ utilization: 0, idle_since: again }))
      )
    );
    now = Date.parse(again) + 10 * MIN;
    await flush();
    expect(shown).toHaveLength(2);
    // Deleted: its warning is taken back.
    streams[0].push(sse('deleted', { name: 'idler', namespace: 'local' }));
    await flush();
    expect(dismissed).toHaveBeenCalledWith('id-2');
    warnings.dispose();
  });

  it('reads the list itself while the sidebar is hidden, and never warns from stale data', async () => {
    const listed = [
      gpuCluster('idler', hours({ utilization: 0, idle_since: AS_OF }))
    ];
    const api = fakeAPI([], listed);
    const lists = jest.spyOn(api, 'listClusters');
    const model = new ClusterListModel({ api }); // never shown: the feed stands by
    const shown: string[] = [];
    jest
      .spyOn(Notification, 'warning')
      .mockImplementation((message: string) => {
        shown.push(message);
        return `id-${shown.length}`;
      });
    const dismissed = jest
      .spyOn(Notification, 'dismiss')
      .mockImplementation(() => undefined);
    let now = T + 11 * MIN;
    const warnings = new IdleGpuWarnings({
      model,
      trans,
      now: () => now,
      tick: 3600000
    });
    await model.reloadClusters(); // what the panel last saw
    expect(model.status).toBe('stopped');
    warnings.check();
    expect(shown).toEqual([]); // not from a list nobody refreshes
    await warnings.tick(); // reads the list: still idle
    expect(shown).toHaveLength(1);
    listed[0] = gpuCluster('idler', hours()); // working again
    now += MIN;
    await warnings.tick();
    expect(dismissed).toHaveBeenCalledWith('id-1');
    // Nothing holds GPUs any more: no list is read for the warning.
    listed[0] = cluster('idler', { gpu_hours: hours({ gpus_held: 0 }) });
    now += MIN;
    await warnings.tick();
    const reads = lists.mock.calls.length;
    now += MIN;
    await warnings.tick();
    expect(lists.mock.calls.length).toBe(reads);
    warnings.dispose();
  });

  it('Scale to 0 turns adaptive scaling off first, or the cluster would scale back up', async () => {
    const calls: string[] = [];
    const model = {
      find: () => cluster('a', { adapt: { minimum: 1, maximum: 4 } }),
      adapt: async (_: string, adapt: unknown) => calls.push(`adapt ${adapt}`),
      scale: async (_: string, workers: number) =>
        calls.push(`scale ${workers}`),
      remove: async () => calls.push('remove')
    } as unknown as ClusterListModel;
    await modelActions(model).scaleToZero('a');
    expect(calls).toEqual(['adapt null', 'scale 0']);
  });
});
