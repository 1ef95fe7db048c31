/**
 * One typed function per route of `rapids-kf/jobs` and `rapids-kf/pipelines`, with the same
 * authentication, XSRF and Error handling as the cluster routes (api.ts).
 */
import { ServerConnection } from '@jupyterlab/services';

import { request } from './api';
import { IExportedPipeline, IJob, IJobRequest } from './jobTokens';

function json(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body) };
}

export async function listJobs(
  settings?: ServerConnection.ISettings
): Promise<IJob[]> {
  return (await request<{ jobs: IJob[] }>('jobs', {}, settings)).jobs;
}

export function createJob(
  body: IJobRequest,
  settings?: ServerConnection.ISettings
): Promise<IJob> {
  return request<IJob>('jobs', json('POST', body), settings);
}

export function deleteJob(
  name: string,
  settings?: ServerConnection.ISettings
): Promise<IJob> {
  return request<IJob>(
    `jobs/${encodeURIComponent(name)}`,
    { method: 'DELETE' },
    settings
  );
}

export async function getJobLogs(
  name: string,
  tail = 200,
  settings?: ServerConnection.ISettings
): Promise<string[]> {
  const data = await request<{ lines: string[] }>(
    `jobs/${encodeURIComponent(name)}/logs?tail=${tail}`,
    {},
    settings
  );
  return data.lines;
}

export function exportPipeline(
  body: IJobRequest,
  settings?: ServerConnection.ISettings
): Promise<IExportedPipeline> {
  return request<IExportedPipeline>('pipelines', json('POST', body), settings);
}

/** The calls the jobs model makes; fakes in tests. */
export interface IJobsAPI {
  listJobs(): Promise<IJob[]>;
  createJob(body: IJobRequest): Promise<IJob>;
  deleteJob(name: string): Promise<IJob>;
}

export const defaultJobsAPI: IJobsAPI = {
  listJobs: () => listJobs(),
  createJob: body => createJob(body),
  deleteJob: name => deleteJob(name)
};
