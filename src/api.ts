/**
 * One typed function per REST route of the server extension (api.md).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  IAdapt,
  ICluster,
  IClusterRequest,
  IEnvironment,
  IErrorBody,
  IImageNodes,
  IPodLogs,
  ITimeline,
  SnippetKind
} from './tokens';

/** An error answered by the server, with the field it concerns and the fix when known. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly fix?: string
  ) {
    super(message);
    this.name = 'APIError';
  }
}

export const API_ROOT = 'rapids-kf';

/** The URL of an API path, under the server's base URL. */
export function apiUrl(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, API_ROOT, path);
}

export async function request<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      apiUrl(path, settings),
      init,
      settings
    );
  } catch (error) {
    throw new APIError(
      0,
      'unavailable',
      `The Jupyter server cannot be reached: ${(error as Error).message}`
    );
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const body = (data as IErrorBody | null)?.error;
    if (body) {
      throw new APIError(
        response.status,
        body.code,
        body.message,
        body.field,
        body.fix
      );
    }
    throw new APIError(
      response.status,
      response.status === 404 ? 'not_found' : 'internal',
      response.status === 404
        ? 'The jupyter-rapids-kf server extension is not installed or not enabled.'
        : `Unexpected answer ${response.status} from the server`
    );
  }
  return data as T;
}

function json(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body) };
}

export function getEnvironment(
  settings?: ServerConnection.ISettings
): Promise<IEnvironment> {
  return request<IEnvironment>('environment', {}, settings);
}

export async function listClusters(
  settings?: ServerConnection.ISettings
): Promise<ICluster[]> {
  const data = await request<{ clusters: ICluster[] }>(
    'clusters',
    {},
    settings
  );
  return data.clusters;
}

export function getCluster(
  name: string,
  settings?: ServerConnection.ISettings
): Promise<ICluster> {
  return request<ICluster>(
    `clusters/${encodeURIComponent(name)}`,
    {},
    settings
  );
}

export function createCluster(
  body: IClusterRequest,
  settings?: ServerConnection.ISettings
): Promise<ICluster> {
  return request<ICluster>('clusters', json('POST', body), settings);
}

export function scaleCluster(
  name: string,
  workers: number,
  settings?: ServerConnection.ISettings
): Promise<ICluster> {
  return request<ICluster>(
    `clusters/${encodeURIComponent(name)}`,
    json('PATCH', { workers }),
    settings
  );
}

export function adaptCluster(
  name: string,
  adapt: IAdapt | null,
  settings?: ServerConnection.ISettings
): Promise<ICluster> {
  return request<ICluster>(
    `clusters/${encodeURIComponent(name)}`,
    json('PATCH', { adapt }),
    settings
  );
}

export function deleteCluster(
  name: string,
  settings?: ServerConnection.ISettings
): Promise<ICluster> {
  return request<ICluster>(
    `clusters/${encodeURIComponent(name)}`,
    { method: 'DELETE' },
    settings
  );
}

export async function getSnippet(
  name: string,
  kind: SnippetKind,
  settings?: ServerConnection.ISettings
): Promise<string> {
  const data = await request<{ kind: string; code: string }>(
    `clusters/${encodeURIComponent(name)}/snippet?kind=${kind}`,
    {},
    settings
  );
  return data.code;
}

export async function getLogs(
  name: string,
  component: 'scheduler' | 'worker',
  tail = 200,
  settings?: ServerConnection.ISettings
): Promise<IPodLogs[]> {
  const data = await request<{ logs: IPodLogs[] }>(
    `clusters/${encodeURIComponent(name)}/logs?component=${component}&tail=${tail}`,
    {},
    settings
  );
  return data.logs;
}

export function getImageNodes(
  image: string,
  settings?: ServerConnection.ISettings
): Promise<IImageNodes> {
  return request<IImageNodes>(
    `image-nodes?image=${encodeURIComponent(image)}`,
    {},
    settings
  );
}

export function getTimeline(
  name: string,
  settings?: ServerConnection.ISettings
): Promise<ITimeline> {
  return request<ITimeline>(
    `clusters/${encodeURIComponent(name)}/timeline`,
    {},
    settings
  );
}

/** The absolute URL of a cluster's proxied dashboard page (e.g. "status"). */
export function dashboardUrl(
  cluster: ICluster,
  page = 'status',
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const base = cluster.dashboard_url.replace(/\/status$/, '');
  return URLExt.join(settings.baseUrl, base, page);
}

/** The Server-Sent Events URL (the token travels as a query parameter for EventSource). */
export function eventsUrl(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = apiUrl('events', settings);
  return settings.token
    ? `${url}?token=${encodeURIComponent(settings.token)}`
    : url;
}

/**
 * Opens the Server-Sent Events stream as a streaming fetch (see feed.ts for why not
 * EventSource). Authentication and headers are those of every other call.
 */
export function openEvents(
  signal: AbortSignal,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  return ServerConnection.makeRequest(
    apiUrl('events', settings),
    { signal, cache: 'no-store', headers: { Accept: 'text/event-stream' } },
    settings
  );
}

/** The API calls the model makes; the real ones by default, fakes in tests. */
export interface IClusterAPI {
  getEnvironment(): Promise<IEnvironment>;
  listClusters(): Promise<ICluster[]>;
  createCluster(request: IClusterRequest): Promise<ICluster>;
  scaleCluster(name: string, workers: number): Promise<ICluster>;
  adaptCluster(name: string, adapt: IAdapt | null): Promise<ICluster>;
  deleteCluster(name: string): Promise<ICluster>;
  openEvents(signal: AbortSignal): Promise<Response>;
}

export const defaultAPI: IClusterAPI = {
  getEnvironment: () => getEnvironment(),
  listClusters: () => listClusters(),
  createCluster: request => createCluster(request),
  scaleCluster: (name, workers) => scaleCluster(name, workers),
  adaptCluster: (name, adapt) => adaptCluster(name, adapt),
  deleteCluster: name => deleteCluster(name),
  openEvents: signal => openEvents(signal)
};
