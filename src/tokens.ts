/**
 * Shared types of the REST API (see api.md) and the ids of this extension's commands.
 */

export type Phase =
  | 'Creating'
  | 'Pending'
  | 'Running'
  | 'Scaling'
  | 'Deleting'
  | 'Failed'
  | 'Unknown';

export interface IWorkers {
  desired: number;
  ready: number;
  pending: number;
}

export interface IAdapt {
  minimum: number;
  maximum: number;
}

export interface IGPUUsage {
  in_use: number;
  memory_used: number | null;
  memory_total: number | null;
  utilization: number | null;
}

/** A worker group besides the default one (KubeCluster.add_worker_group). */
export interface IWorkerGroup {
  name: string;
  desired: number;
  ready: number;
  gpus_per_worker: number;
}

export interface ICluster {
  name: string;
  namespace: string;
  backend: 'kubernetes' | 'local';
  phase: Phase;
  created: string;
  image: string | null;
  worker_command: string;
  gpus_per_worker: number;
  workers: IWorkers;
  scheduler: { ready: boolean; address: string | null };
  dashboard_url: string;
  adapt: IAdapt | null;
  idle_timeout: number;
  reasons: string[];
  managed: boolean;
  cpu: string | null;
  memory: string | null;
  gpus: IGPUUsage;
  /** Groups other than the default one, which `workers` and the slider concern. */
  worker_groups: IWorkerGroup[];
  /** Packages the cluster runs in another version than this notebook ([] when they agree). */
  version_skew: IVersionSkew[];
  /** The notebook whose deletion deletes this cluster (its Kubernetes owner); null: none. */
  ends_with?: IEndsWith | null;
  /** Seconds after `created` at which Kubernetes deletes it; 0: no limit. */
  lifetime?: number;
  /** Since when the scheduler has been idle (ISO); null while busy or not known. */
  idle_since?: string | null;
  /** Scaled to 0 workers by the admin's stopper when its notebook was stopped; null: not. */
  stopped_with_notebook?: IStoppedWithNotebook | null;
  /** Where it stands in Kueue; null when its pods do not go through Kueue (also in reasons). */
  queue?: IQueued | null;
}

/** What the stopper did when the cluster's KubeFlow notebook was stopped. */
export interface IStoppedWithNotebook {
  notebook: string;
  stopped_at: string;
  workers: number;
  adapt: IAdapt | null;
}

/** On which GPU nodes an image already is (GET image-nodes?image=...). */
export interface IImageNodes {
  image: string;
  /** False where nodes may not be read (or on the local backend). */
  known: boolean;
  nodes: string[];
  gpu_nodes: number;
  message: string;
}

/** One step of a cluster's start-up (GET clusters/{name}/timeline). */
export interface ITimelineStep {
  component: 'cluster' | 'scheduler' | 'worker';
  step: 'accepted' | 'scheduled' | 'image' | 'started' | 'ready' | 'registered';
  state: 'done' | 'waiting' | 'failed' | 'unknown';
  at: string | null;
  seconds: number | null;
  detail: string;
  pod: string | null;
}

export interface ITimeline {
  cluster: string;
  image: string | null;
  created: string;
  ready: string | null;
  seconds: number | null;
  elapsed: number;
  eta_seconds: number | null;
  eta_basis: string;
  steps: ITimelineStep[];
}

export interface IEndsWith {
  kind: 'Notebook' | 'StatefulSet';
  name: string;
}

export interface IVersionSkew {
  package: string;
  cluster: string;
  notebook: string;
}

export interface IClusterRequest {
  name?: string;
  workers?: number;
  gpus_per_worker?: number;
  image?: string;
  worker_command?: string;
  cpu?: string;
  memory?: string;
  idle_timeout?: number;
  profile?: string;
  env?: Record<string, string>;
  /** Kubernetes: end with the notebook (default from the environment). */
  tie_to_notebook?: boolean;
  /** Kubernetes: seconds after which the cluster is deleted, busy or not; 0: no limit. */
  lifetime?: number;
}

export interface ICheck {
  name: string;
  ok: boolean;
  /** 'unknown': the check could not tell (ok is false then, but nothing is known wrong). */
  status: 'ok' | 'failed' | 'unknown';
  message: string;
  fix: string | null;
}

export interface IProfile {
  name: string;
  title: string;
  request: IClusterRequest;
}

/** The most workers a cluster with this many GPUs per worker may have here. */
export function workerLimit(
  limits: IEnvironment['limits'],
  gpusPerWorker: number
): number {
  return gpusPerWorker > 0 && limits.max_gpu_workers !== null
    ? Math.min(limits.max_workers, limits.max_gpu_workers)
    : limits.max_workers;
}

export interface IEnvironment {
  version: string;
  backend: 'kubernetes' | 'local';
  backend_reason: string;
  namespace: string;
  gpus_available: number | null;
  gpus: { name: string; memory_total: number | null }[];
  defaults: Required<
    Omit<
      IClusterRequest,
      'profile' | 'env' | 'image' | 'tie_to_notebook' | 'lifetime'
    >
  > & {
    tie_to_notebook?: boolean;
    lifetime?: number;
    image: string | null;
  };
  limits: {
    max_workers: number;
    /** Most workers of a GPU cluster here (one per GPU locally); null: only max_workers. */
    max_gpu_workers: number | null;
    max_gpus_per_worker: number;
    max_clusters: number;
    max_idle_timeout: number;
    max_lifetime?: number;
  };
  profiles: IProfile[];
  checks: ICheck[];
  notes: string[];
  /** What new clusters end with; null when no notebook was found. */
  ends_with?: IEndsWith | null;
  /** The Kueue LocalQueue new clusters wait in (docs/kueue.md); null: no queue. */
  queue?: string | null;
}

/** A cluster's place in its Kueue queue (one workload per pod). */
export interface IQueued {
  local_queue: string;
  cluster_queue: string | null;
  admitted: number;
  queued: number;
  scheduler_queued: boolean;
  position: number | null;
  waiting_for: number;
  waiting_unit: 'GPU' | 'CPU';
  use: {
    resource: 'GPU' | 'CPU';
    in_use: number;
    quota: number;
    workloads: number;
  } | null;
  preempted: number;
  inactive: string | null;
}

export type SnippetKind = 'client' | 'kubecluster' | 'cudf';

export interface IPodLogs {
  pod: string;
  component: 'scheduler' | 'worker' | 'job';
  lines: string[];
}

export type ErrorCode =
  | 'invalid'
  | 'not_found'
  | 'exists'
  | 'failed'
  | 'forbidden'
  | 'unavailable'
  | 'limit'
  | 'internal';

export interface IErrorBody {
  error: { code: ErrorCode; message: string; field?: string; fix?: string };
}

/** Command ids, in one place so the palette, menus and tests agree. */
export namespace CommandIDs {
  export const newCluster = 'rapids-kf:new-cluster';
  export const openPanel = 'rapids-kf:open-panel';
  export const refresh = 'rapids-kf:refresh';
  export const openDashboard = 'rapids-kf:open-dashboard';
  export const openDashboardUrl = 'rapids-kf:open-dashboard-url';
  export const insertSnippet = 'rapids-kf:insert-snippet';
  export const copySnippet = 'rapids-kf:copy-snippet';
  export const showLogs = 'rapids-kf:show-logs';
  export const deleteCluster = 'rapids-kf:delete-cluster';
  export const scaleCluster = 'rapids-kf:scale-cluster';
  export const useInDaskExtension = 'rapids-kf:use-in-dask-extension';
}

/** The user's settings (schema/plugin.json). */
export interface ISettings {
  /** The snippet the Snippet button inserts. */
  snippetKind: SnippetKind;
  /** Ask before deleting a cluster. */
  confirmDelete: boolean;
  /** Poll the list this often (ms) while the live stream is unavailable. */
  pollInterval: number;
  /** Close a cluster's dashboard tabs when the cluster is deleted. */
  closeDashboardsOnDelete: boolean;
}

export const DEFAULT_SETTINGS: ISettings = {
  snippetKind: 'client',
  confirmDelete: true,
  pollInterval: 2000,
  closeDashboardsOnDelete: true
};

/**
 * What a cluster card can ask for. The panel implements these with commands, so that
 * cards, menus, the palette and the context menu do the same thing.
 */
export interface IClusterActions {
  newCluster(): void;
  openDashboard(name: string, page?: string): void;
  /** Opens the menu of dashboard plots under the given element. */
  openDashboardMenu(name: string, anchor: HTMLElement): void;
  /** Inserts the default snippet. */
  insertSnippet(name: string): void;
  /** Opens the menu of snippets (insert or copy) under the given element. */
  openSnippetMenu(name: string, anchor: HTMLElement): void;
  showLogs(name: string): void;
  deleteCluster(name: string): void;
  /** Resolves with an error message when refused, '' when accepted. */
  scale(name: string, workers: number): Promise<string>;
  adapt(name: string, adapt: IAdapt | null): Promise<string>;
  /** The cluster's start-up timeline; absent where it cannot be asked. */
  timeline?(name: string): Promise<ITimeline>;
}
