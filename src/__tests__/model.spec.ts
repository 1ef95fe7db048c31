import { APIError } from '../api';
import { ClusterListModel, IClusterAPI, IClusterChange } from '../model';
import { IAdapt, ICluster } from '../tokens';
import { cluster, environment, FakeStream, flush, sse } from './fakes';

/** A model on a fake API; the test drives the event stream by hand. */
function setup(options: { standbyDelay?: number; watchLimit?: number } = {}) {
  const streams: FakeStream[] = [];
  const calls: string[] = [];
  let scaleAnswer: (
    name: string,
    workers: number
  ) => Promise<ICluster> = async (name, workers) =>
    cluster(name, {
      phase: 'Scaling',
      workers: { desired: workers, ready: 2, pending: workers - 2 }
    });
  let deleteAnswer: (name: string) => Promise<ICluster> = async name =>
    cluster(name, { phase: 'Deleting' });
  const api: IClusterAPI = {
    getEnvironment: async () => environment(),
    listClusters: async () => [],
    createCluster: async request => {
      calls.push(`create ${request.name}`);
      return cluster(request.name!, {
        phase: 'Creating',
        workers: { desired: 2, ready: 0, pending: 2 }
      });
    },
    scaleCluster: (name, workers) => {
      calls.push(`scale ${name} ${workers}`);
      return scaleAnswer(name, workers);
    },
    adaptCluster: async (name, adapt: IAdapt | null) => {
      calls.push(`adapt ${name} ${JSON.stringify(adapt)}`);
      return cluster(name, { adapt });
    },
    deleteCluster: name => {
      calls.push(`delete ${name}`);
      return deleteAnswer(name);
    },
    openEvents: async signal => {
      const stream = new FakeStream(signal);
      streams.push(stream);
      return stream.response();
    }
  };
  const model = new ClusterListModel({ api, ...options });
  const changes: string[] = [];
  model.clusterChanged.connect((_, change: IClusterChange) =>
    changes.push(
      `${change.name}: ${change.before?.phase ?? 'new'} -> ${change.after?.phase ?? 'gone'}`
    )
  );
  return {
    model,
    streams,
    calls,
    changes,
    answerScale: (answer: typeof scaleAnswer) => {
      scaleAnswer = answer;
    },
    answerDelete: (answer: typeof deleteAnswer) => {
      deleteAnswer = answer;
    },
    live: async (clusters: ICluster[]) => {
      model.setVisible(true);
      await flush();
      streams[streams.length - 1].push(sse('clusters', { clusters }));
      await flush();
    },
    push: async (text: string) => {
      streams[streams.length - 1].push(text);
      await flush();
    }
  };
}

describe('ClusterListModel', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('keeps the list sorted and reports each cluster that appears, changes or goes', async () => {
    const t = setup();
    await t.live([cluster('b'), cluster('a', { phase: 'Pending' })]);
    expect(t.model.status).toBe('live');
    expect(t.model.loaded).toBe(true);
    expect(t.model.clusters.map(c => c.name)).toEqual(['a', 'b']);
    await t.push(sse('cluster', cluster('a')));
    await t.push(sse('deleted', { name: 'b', namespace: 'local' }));
    expect(t.model.clusters.map(c => c.name)).toEqual(['a']);
    expect(t.changes).toEqual([
      'b: new -> Running',
      'a: new -> Pending',
      'a: Pending -> Running',
      'b: Running -> gone'
    ]);
    t.model.dispose();
  });

  it('after a reconnect, a snapshot without a cluster means it was deleted meanwhile', async () => {
    const t = setup();
    await t.live([cluster('a'), cluster('b')]);
    t.streams[0].end();
    await flush();
    expect(t.model.status).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(1000);
    await t.push(sse('clusters', { clusters: [cluster('b')] }));
    expect(t.model.clusters.map(c => c.name)).toEqual(['b']);
    expect(t.changes).toContain('a: Running -> gone');
    t.model.dispose();
  });

  it('shows a scale as pending until the workers are ready', async () => {
    const t = setup();
    await t.live([cluster('a')]);
    const done = t.model.scale('a', 3);
    expect(t.model.pending('a')).toEqual({
      workers: 3,
      sending: true,
      acknowledged: false
    });
    await done;
    expect(t.calls).toEqual(['scale a 3']);
    expect(t.model.pending('a')?.workers).toBe(3);
    expect(t.model.pending('a')?.sending).toBe(false);
    // While live, the answer does not overwrite what the stream says; the stream catches up.
    await t.push(
      sse(
        'cluster',
        cluster('a', {
          phase: 'Scaling',
          workers: { desired: 3, ready: 2, pending: 1 }
        })
      )
    );
    expect(t.model.pending('a')?.workers).toBe(3);
    await t.push(
      sse(
        'cluster',
        cluster('a', { workers: { desired: 3, ready: 3, pending: 0 } })
      )
    );
    expect(t.model.pending('a')).toBeNull();
    t.model.dispose();
  });

  it('a stale event that arrives before the scale was acknowledged does not drop it', async () => {
    const t = setup();
    await t.live([cluster('a')]);
    let release: (c: ICluster) => void = () => undefined;
    t.answerScale(() => new Promise(resolve => (release = resolve)));
    const done = t.model.scale('a', 5);
    await t.push(
      sse(
        'cluster',
        cluster('a', { workers: { desired: 2, ready: 2, pending: 0 } })
      )
    );
    expect(t.model.pending('a')?.workers).toBe(5);
    release(cluster('a', { workers: { desired: 5, ready: 2, pending: 3 } }));
    await done;
    expect(t.model.pending('a')?.workers).toBe(5);
    // Someone else scales to 4 afterwards: the pending 5 is dropped, 4 shows.
    await t.push(
      sse(
        'cluster',
        cluster('a', { workers: { desired: 4, ready: 2, pending: 2 } })
      )
    );
    expect(t.model.pending('a')).toBeNull();
    t.model.dispose();
  });

  it('a cluster the stream said was deleted does not come back with the answer to the delete', async () => {
    // The operator can drop its finalizer before the DELETE's answer reaches the browser:
    // the stream's `deleted` comes first, then the answer still says Deleting.
    const t = setup();
    await t.live([cluster('a'), cluster('b')]);
    let release: (c: ICluster) => void = () => undefined;
    t.answerDelete(() => new Promise(resolve => (release = resolve)));
    const done = t.model.remove('a');
    await t.push(sse('deleted', { name: 'a', namespace: 'local' }));
    release(cluster('a', { phase: 'Deleting' }));
    expect((await done).phase).toBe('Deleting');
    expect(t.model.find('a')).toBeUndefined();
    expect(t.model.clusters.map(c => c.name)).toEqual(['b']);
    expect(t.changes).toEqual([
      'a: new -> Running',
      'b: new -> Running',
      'a: Running -> gone'
    ]);
    // A later cluster of the same name is shown as usual.
    await t.push(sse('cluster', cluster('a', { phase: 'Creating' })));
    expect(t.model.find('a')?.phase).toBe('Creating');
    t.model.dispose();
  });

  it('a scale answered after the stream said the cluster was deleted does not bring it back', async () => {
    const t = setup();
    await t.live([cluster('a')]);
    let release: (c: ICluster) => void = () => undefined;
    t.answerScale(() => new Promise(resolve => (release = resolve)));
    const done = t.model.scale('a', 3);
    await t.push(sse('deleted', { name: 'a', namespace: 'local' }));
    release(cluster('a', { workers: { desired: 3, ready: 2, pending: 1 } }));
    await done;
    expect(t.model.find('a')).toBeUndefined();
    expect(t.model.pending('a')).toBeNull();
    t.model.dispose();
  });

  it('drops a refused scale and passes the server error on', async () => {
    const t = setup();
    await t.live([cluster('a')]);
    t.answerScale(async () => {
      throw new APIError(
        403,
        'limit',
        'workers must be between 0 and 16',
        'workers',
        'ask your administrator'
      );
    });
    await expect(t.model.scale('a', 40)).rejects.toThrow(
      'workers must be between 0 and 16'
    );
    expect(t.model.pending('a')).toBeNull();
    expect(t.model.find('a')?.workers.desired).toBe(2);
    t.model.dispose();
  });

  it('takes answers to its own requests when the stream is not live', async () => {
    const t = setup();
    const created = await t.model.create({ name: 'new-one' });
    expect(created.phase).toBe('Creating');
    expect(t.model.find('new-one')?.phase).toBe('Creating');
    expect(t.model.createdHere('new-one')).toBe(true);
    await t.model.adapt('new-one', { minimum: 1, maximum: 4 });
    expect(t.model.find('new-one')?.adapt).toEqual({ minimum: 1, maximum: 4 });
    await t.model.remove('new-one');
    expect(t.model.find('new-one')?.phase).toBe('Deleting');
    expect(t.calls).toEqual([
      'create new-one',
      'adapt new-one {"minimum":1,"maximum":4}',
      'delete new-one'
    ]);
    t.model.dispose();
  });

  it('stands by a while after the panel is hidden, and catches up when shown again', async () => {
    const t = setup({ standbyDelay: 10000 });
    await t.live([cluster('a')]);
    t.model.setVisible(false);
    await jest.advanceTimersByTimeAsync(9000);
    expect(t.model.status).toBe('live');
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.model.status).toBe('stopped');
    expect(t.streams[0].aborted).toBe(true);
    t.model.setVisible(true);
    await flush();
    expect(t.streams).toHaveLength(2);
    await t.push(sse('clusters', { clusters: [cluster('a'), cluster('c')] }));
    expect(t.model.clusters.map(c => c.name)).toEqual(['a', 'c']);
    t.model.dispose();
  });

  it('a glance at another panel does not drop the stream', async () => {
    const t = setup({ standbyDelay: 10000 });
    await t.live([]);
    t.model.setVisible(false);
    await jest.advanceTimersByTimeAsync(3000);
    t.model.setVisible(true);
    await jest.advanceTimersByTimeAsync(20000);
    expect(t.streams).toHaveLength(1);
    expect(t.model.status).toBe('live');
    t.model.dispose();
  });

  it('stays awake while hidden until a cluster it created is running', async () => {
    const t = setup({ standbyDelay: 1000 });
    await t.live([]);
    await t.model.create({ name: 'mine' });
    t.model.setVisible(false);
    await jest.advanceTimersByTimeAsync(30000);
    expect(t.model.status).toBe('live');
    await t.push(sse('cluster', cluster('mine')));
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.model.status).toBe('stopped');
    t.model.dispose();
  });

  it('does not stay awake forever for an outcome that never comes', async () => {
    const t = setup({ standbyDelay: 1000, watchLimit: 30000 });
    await t.live([]);
    await t.model.create({ name: 'stuck' });
    t.model.setVisible(false);
    await t.push(': keepalive\n\n');
    await jest.advanceTimersByTimeAsync(29000);
    expect(t.model.status).toBe('live');
    await jest.advanceTimersByTimeAsync(2000 + 1000);
    expect(t.model.status).toBe('stopped');
    t.model.dispose();
  });

  it('reads the environment and reports why it could not', async () => {
    const t = setup();
    expect(await t.model.loadEnvironment()).toEqual(environment());
    const broken = new ClusterListModel({
      api: {
        ...defaultlessAPI(),
        getEnvironment: async () => Promise.reject(new Error('down'))
      }
    });
    expect(await broken.loadEnvironment()).toBeNull();
    expect(broken.environmentError).toBe('down');
    t.model.dispose();
    broken.dispose();
  });
});

function defaultlessAPI(): IClusterAPI {
  const fail = () => Promise.reject(new Error('not in this test'));
  return {
    getEnvironment: fail,
    listClusters: fail,
    createCluster: fail,
    scaleCluster: fail,
    adaptCluster: fail,
    deleteCluster: fail,
    openEvents: fail
  };
}
