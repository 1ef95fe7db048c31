import { ClusterFeed, FeedStatus, IFeedOptions } from '../feed';
import { ICluster } from '../tokens';
import { cluster, FakeStream, flush, sse } from './fakes';

/** A feed whose streams and list calls are fakes the test controls. */
function setup(options: Partial<IFeedOptions> = {}) {
  const streams: FakeStream[] = [];
  const opened: number[] = [];
  const log: string[] = [];
  const statuses: FeedStatus[] = [];
  let listed = 0;
  let nextStatus = 200;
  let refuse: Error | null = null;
  const feed = new ClusterFeed({
    openStream: async signal => {
      opened.push(Date.now());
      if (refuse) {
        throw refuse;
      }
      const stream = new FakeStream(signal, nextStatus);
      streams.push(stream);
      return stream.response();
    },
    listClusters: async () => {
      listed++;
      return [cluster('polled')];
    },
    onSnapshot: (clusters: ICluster[]) =>
      log.push(`snapshot ${clusters.map(c => c.name).join(',')}`),
    onCluster: c => log.push(`cluster ${c.name} ${c.workers.desired}`),
    onDeleted: name => log.push(`deleted ${name}`),
    onStatus: status => statuses.push(status),
    random: () => 0.5, // no jitter
    ...options
  });
  return {
    feed,
    streams,
    opened,
    log,
    statuses,
    listed: () => listed,
    answer: (status: number) => {
      nextStatus = status;
    },
    refuse: (error: Error | null) => {
      refuse = error;
    }
  };
}

describe('ClusterFeed', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(0);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('goes live with the snapshot, then applies cluster and deleted events in order', async () => {
    const t = setup();
    t.feed.start();
    await flush();
    expect(t.feed.status).toBe('connecting');
    t.streams[0].push(
      'retry: 2000\n\n' + sse('clusters', { clusters: [cluster('a')] })
    );
    await flush();
    expect(t.feed.status).toBe('live');
    t.streams[0].push(
      sse(
        'cluster',
        cluster('a', { workers: { desired: 3, ready: 2, pending: 1 } })
      ) +
        ': keepalive\n\n' +
        sse('deleted', { name: 'a', namespace: 'local' })
    );
    await flush();
    expect(t.log).toEqual(['snapshot a', 'cluster a 3', 'deleted a']);
    t.feed.stop();
  });

  it('reconnects with growing delays after the stream breaks, starting at the server retry', async () => {
    const t = setup({
      backoff: { initial: 500, max: 30000, factor: 2, jitter: 0.2 }
    });
    t.feed.start();
    await flush();
    t.streams[0].push('retry: 1000\n\n' + sse('clusters', { clusters: [] }));
    await flush();
    t.streams[0].end(); // the server restarted
    await flush();
    expect(t.feed.status).toBe('reconnecting');
    expect(t.opened).toHaveLength(1);

    t.refuse(new Error('connection refused'));
    await jest.advanceTimersByTimeAsync(999);
    expect(t.opened).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1); // 1 s: the server's retry
    expect(t.opened).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1999);
    expect(t.opened).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1); // then 2 s
    expect(t.opened).toHaveLength(3);
    expect(t.feed.failures).toBe(3);
    expect(t.feed.delay(4)).toBe(8000);
    expect(t.feed.delay(20)).toBe(30000); // capped
    t.feed.stop();
  });

  it('spreads reconnects by the jitter', () => {
    const low = setup({ random: () => 0 }).feed;
    const high = setup({ random: () => 1 }).feed;
    expect(low.delay(1)).toBe(400);
    expect(high.delay(1)).toBe(600);
  });

  it('polls the list while the stream keeps failing, and stops polling once it is back', async () => {
    const t = setup({ pollInterval: 2000, failuresBeforePolling: 3 });
    t.refuse(new Error('connection refused'));
    t.feed.start();
    await flush();
    expect(t.feed.status).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(500 + 1000); // failures 2 and 3
    expect(t.feed.status).toBe('polling');
    await flush();
    expect(t.listed()).toBe(1);
    expect(t.log).toEqual(['snapshot polled']);
    await jest.advanceTimersByTimeAsync(2000);
    expect(t.listed()).toBe(2);
    await jest.advanceTimersByTimeAsync(2000);
    expect(t.listed()).toBe(3);

    t.refuse(null); // the stream works again at the next attempt (after 2 s)
    await jest.advanceTimersByTimeAsync(2000);
    expect(t.streams).toHaveLength(1);
    t.streams[0].push(sse('clusters', { clusters: [cluster('b')] }));
    await flush();
    expect(t.feed.status).toBe('live');
    const polls = t.listed();
    await jest.advanceTimersByTimeAsync(10000);
    expect(t.listed()).toBe(polls);
    expect(t.feed.failures).toBe(0);
    t.feed.stop();
  });

  it('polls at once when the server has no event stream (404)', async () => {
    const t = setup();
    t.answer(404);
    t.feed.start();
    await flush();
    expect(t.feed.status).toBe('polling');
    await flush();
    expect(t.listed()).toBe(1);
    t.feed.stop();
  });

  it('treats an answer that is not an event stream (a login page) as a failure', async () => {
    const streams: FakeStream[] = [];
    const t = setup({
      openStream: async signal => {
        const stream = new FakeStream(signal, 200, 'text/html');
        streams.push(stream);
        return stream.response();
      }
    });
    t.feed.start();
    await flush();
    expect(t.feed.status).toBe('reconnecting');
    expect(t.feed.failures).toBe(1);
    expect(streams[0].aborted).toBe(true);
    t.feed.stop();
  });

  it('gives up on a stream that went silent and reconnects', async () => {
    const t = setup({ stallTimeout: 40000 });
    t.feed.start();
    await flush();
    t.streams[0].push(sse('clusters', { clusters: [] }));
    await flush();
    await jest.advanceTimersByTimeAsync(39000);
    expect(t.feed.status).toBe('live');
    t.streams[0].push(': keepalive\n\n'); // keepalives keep it alive
    await jest.advanceTimersByTimeAsync(39000);
    expect(t.feed.status).toBe('live');
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.feed.status).toBe('reconnecting');
    expect(t.streams[0].aborted).toBe(true);
    expect(t.feed.failures).toBe(1); // counted once, not again by the aborted read
    await jest.advanceTimersByTimeAsync(500);
    expect(t.streams).toHaveLength(2);
    t.feed.stop();
  });

  it('stop aborts the stream, stops polling and retries nothing', async () => {
    const t = setup();
    t.feed.start();
    await flush();
    t.streams[0].push(sse('clusters', { clusters: [] }));
    await flush();
    t.feed.stop();
    await flush();
    expect(t.streams[0].aborted).toBe(true);
    expect(t.feed.status).toBe('stopped');
    await jest.advanceTimersByTimeAsync(60000);
    expect(t.streams).toHaveLength(1);
    expect(t.listed()).toBe(0);
  });

  it('ignores events that are not JSON or that it does not know', async () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const t = setup();
    t.feed.start();
    await flush();
    t.streams[0].push(
      'event: cluster\ndata: {broken\n\n' +
        sse('future-kind', { x: 1 }) +
        sse('clusters', { clusters: [cluster('a')] })
    );
    await flush();
    expect(t.log).toEqual(['snapshot a']);
    expect(t.feed.status).toBe('live');
    t.feed.stop();
    warn.mockRestore();
  });
});
