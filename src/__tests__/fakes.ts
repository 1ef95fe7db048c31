/**
 * Test doubles: clusters, environments, and event streams fed by hand. No network.
 */
import { TextEncoder } from 'util';

import { IClusterAPI } from '../model';
import { IClusterActions, ICluster, IEnvironment } from '../tokens';

export function cluster(
  name: string,
  overrides: Partial<ICluster> = {}
): ICluster {
  return {
    name,
    namespace: 'local',
    backend: 'local',
    phase: 'Running',
    created: '2026-11-29T15:00:00Z',
    image: null,
    worker_command: 'dask worker',
    gpus_per_worker: 0,
    workers: { desired: 2, ready: 2, pending: 0 },
    scheduler: { ready: true, address: 'tcp://127.0.0.1:8786' },
    dashboard_url: `rapids-kf/clusters/${name}/dashboard/status`,
    adapt: null,
    idle_timeout: 0,
    reasons: [],
    managed: true,
    cpu: '1',
    memory: '4Gi',
    gpus: {
      in_use: 0,
      memory_used: null,
      memory_total: null,
      utilization: null
    },
    worker_groups: [],
    version_skew: [],
    ...overrides
  };
}

/** Card and panel actions that do nothing but record their calls. */
export function fakeActions(
  overrides: Partial<IClusterActions> = {}
): IClusterActions {
  return {
    newCluster: jest.fn(),
    openDashboard: jest.fn(),
    openDashboardMenu: jest.fn(),
    insertSnippet: jest.fn(),
    openSnippetMenu: jest.fn(),
    showLogs: jest.fn(),
    deleteCluster: jest.fn(),
    scale: jest.fn(async () => ''),
    adapt: jest.fn(async () => ''),
    ...overrides
  };
}

export function environment(
  overrides: Partial<IEnvironment> = {}
): IEnvironment {
  return {
    version: '0.1.0',
    backend: 'kubernetes',
    backend_reason: 'service account found and DaskCluster CRD served',
    namespace: 'kubeflow-user-example-com',
    gpus_available: 6,
    gpus: [],
    defaults: {
      name: 'gpu-etl-7f3c',
      workers: 2,
      gpus_per_worker: 1,
      image: 'rapidsai/base:26.10-cuda13-py3.12',
      worker_command: 'dask-cuda-worker',
      cpu: '4',
      memory: '16Gi',
      idle_timeout: 3600
    },
    limits: {
      max_workers: 16,
      max_gpu_workers: null,
      max_gpus_per_worker: 8,
      max_clusters: 5,
      max_idle_timeout: 0
    },
    profiles: [
      {
        name: 'gpu-large',
        title: '4 GPUs per worker, 4 workers',
        request: { workers: 4, gpus_per_worker: 4, memory: '64Gi' }
      }
    ],
    checks: [],
    notes: [],
    ...overrides
  };
}

/** One event of the text/event-stream format. */
export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * A streaming response whose chunks the test pushes. Aborting the request (the feed's
 * AbortSignal) fails the pending read, as fetch does.
 */
export class FakeStream {
  constructor(signal: AbortSignal, status = 200, type = 'text/event-stream') {
    this.status = status;
    this.type = type;
    signal.addEventListener('abort', () => {
      this.aborted = true;
      this.fail(new Error('The operation was aborted.'));
    });
  }

  status: number;
  type: string;
  aborted = false;

  push(text: string): void {
    this._deliver({ done: false, value: new TextEncoder().encode(text) });
  }

  end(): void {
    this._deliver({ done: true, value: undefined });
  }

  fail(error: Error): void {
    const waiting = this._waiting;
    this._waiting = null;
    if (waiting) {
      waiting.reject(error);
    } else {
      this._error = error;
    }
  }

  response(): Response {
    const reader = {
      read: () =>
        new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
          const queued = this._queue.shift();
          if (queued) {
            return resolve(queued);
          }
          if (this._error) {
            return reject(this._error);
          }
          this._waiting = { resolve, reject };
        }),
      releaseLock: () => undefined
    };
    return {
      ok: this.status >= 200 && this.status < 300,
      status: this.status,
      headers: new Headers({ 'Content-Type': this.type }),
      body: { getReader: () => reader }
    } as unknown as Response;
  }

  private _deliver(result: ReadableStreamReadResult<Uint8Array>): void {
    const waiting = this._waiting;
    this._waiting = null;
    if (waiting) {
      waiting.resolve(result);
    } else {
      this._queue.push(result);
    }
  }

  private _queue: ReadableStreamReadResult<Uint8Array>[] = [];
  private _waiting: {
    resolve: (r: ReadableStreamReadResult<Uint8Array>) => void;
    reject: (e: Error) => void;
  } | null = null;
  private _error: Error | null = null;
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

/** The model's API: lists `clusters`, opens event streams fed by hand (kept in `streams`). */
export function fakeAPI(
  streams: FakeStream[],
  clusters: ICluster[] = []
): IClusterAPI {
  const fail = () => Promise.reject(new Error('not in this test'));
  return {
    getEnvironment: async () => environment(),
    listClusters: async () => clusters,
    createCluster: async request =>
      cluster(request.name!, { phase: 'Creating' }),
    scaleCluster: fail,
    adaptCluster: fail,
    deleteCluster: fail,
    openEvents: async signal => {
      const stream = new FakeStream(signal);
      streams.push(stream);
      return stream.response();
    }
  };
}
