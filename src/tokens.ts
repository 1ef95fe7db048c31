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
  /** TCP `address`; `ucx_address` too where the workers talk UCX. */
  scheduler: {
    ready: boolean;
    address: string | null;
    ucx_address?: string | null;
  };
  /** How the workers talk to each other (absent from older servers: tcp). */
  protocol?: Protocol;
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
  /** GPU-hours held and how busy the GPUs were (absent from servers before it). */
  gpu_hours?: IGpuHours | null;
  /** What happened lately (a worker replaced or out of memory, the scheduler restarted), newest first. */
  happened?: IHappening[];
  /** Where it stands in Kueue; null when its pods do not go through Kueue (also in reasons). */
  queue?: IQueued | null;
}

/**
 * GPU-hours counted by the server up to `as_of`; since then `gpus_held` GPUs add as many
 * GPU-hours per hour, busy at `utilization` percent (see gpuHours.ts).
 */
export interface IGpuHours {
  as_of: string;
  held: number;
  /** Of `held`, the GPU-hours that had a utilisation reading. */
  read: number;
  /** Of `read`, the GPU-hours busy; null when nothing was read. */
  busy: number | null;
  busy_share: number | null;
  gpus_held: number;
  utilization: number | null;
  counted_since: string | null;
  /** GPUs held and under `idle_below` % busy since; null: busy, none held or not read. */
  idle_since: string | null;
  idle_below: number;
  idle_after: number;
  price_per_gpu_hour: number | null;
  currency: string | null;
  cost: number | null;
}

/** Something that happened to a running cluster, told for a while after it recovered. */
export interface IHappening {
  at: string;
  what: string;
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

/** tcp, or ucx (GPU clusters: UCX, NVLink between the GPUs of one pod or machine). */
export type Protocol = 'tcp' | 'ucx';

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
  /** GPU clusters only; the server refuses ucx for CPU clusters. */
  protocol?: Protocol;
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
      'profile' | 'env' | 'image' | 'tie_to_notebook' | 'lifetime' | 'protocol'
    >
  > & {
    tie_to_notebook?: boolean;
    lifetime?: number;
    protocol?: Protocol;
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
  /** What a new GPU cluster may choose here (absent from older servers: tcp only). */
  protocols?: Protocol[];
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
