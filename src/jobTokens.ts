/**
 * Batch jobs and pipeline export: the objects of `rapids-kf/jobs` and `rapids-kf/pipelines`
 * (openapi.yaml) and the ids of their commands.
 */

/** The operator's job phases, plus ours before it acts and after a cancel. */
export type JobPhase =
  | 'Creating'
  | 'JobCreated'
  | 'ClusterCreated'
  | 'Running'
  | 'Successful'
  | 'Failed'
  | 'Deleting';

export interface IJob {
  name: string;
  namespace: string;
  backend: 'kubernetes' | 'local';
  /** The notebook or .py file, relative to the Jupyter root. */
  file: string;
  phase: JobPhase;
  created: string;
  started: string | null;
  finished: string | null;
  workers: number;
  gpus_per_worker: number;
  image: string | null;
  parameters: Record<string, unknown>;
  /** The executed copy next to the file, once saved. */
  output: string | null;
  /** The failing cell's error. */
  error: string | null;
  reasons: string[];
}

export interface IJobCluster {
  workers?: number;
  gpus_per_worker?: number;
  profile?: string;
}

export interface IJobRequest {
  path: string;
  name?: string;
  parameters?: Record<string, unknown>;
  cluster?: IJobCluster;
}

export interface IExportedPipeline {
  path: string;
  component: string;
  image: string;
  bytes: number;
}

export const FINISHED_PHASES: ReadonlyArray<JobPhase> = [
  'Successful',
  'Failed'
];

export function isFinished(job: IJob): boolean {
  return FINISHED_PHASES.includes(job.phase);
}

export namespace JobCommandIDs {
  export const runAsJob = 'rapids-kf:run-as-job';
  export const exportPipeline = 'rapids-kf:export-pipeline';
  export const showJobLogs = 'rapids-kf:show-job-logs';
  export const openJobOutput = 'rapids-kf:open-job-output';
  export const cancelJob = 'rapids-kf:cancel-job';
}

/** What the Jobs list can ask for (commands, wired in jobCommands.ts). */
export interface IJobActions {
  runCurrentNotebook(): void;
  showLogs(name: string): void;
  openOutput(path: string): void;
  /** Cancels a running job or deletes a finished one (with its pods and cluster). */
  remove(job: IJob): void;
}
