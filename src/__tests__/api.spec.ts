import { ServerConnection } from '@jupyterlab/services';

import {
  adaptCluster,
  APIError,
  createCluster,
  dashboardUrl,
  deleteCluster,
  eventsUrl,
  getLogs,
  getSnippet,
  listClusters,
  openEvents,
  scaleCluster
} from '../api';
import { ICluster } from '../tokens';

/** Settings whose fetch answers with the given status and body, recording the requests. */
function fakeServer(status: number, body: unknown) {
  const requests: { url: string; method: string; body: string }[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/x/',
    fetch: (async (input: Request) => {
      requests.push({
        url: input.url,
        method: input.method,
        body: await input.text()
      });
      return new Response(body === undefined ? '' : JSON.stringify(body), {
        status
      });
    }) as any
  });
  return { settings, requests };
}

describe('api', () => {
  it('lists clusters from the rapids-kf route under the base URL', async () => {
    const { settings, requests } = fakeServer(200, { clusters: [] });
    expect(await listClusters(settings)).toEqual([]);
    expect(requests[0].url.split('?')[0]).toBe(
      'http://localhost:8888/user/x/rapids-kf/clusters'
    );
  });

  it('turns an Error body into an APIError with field and fix', async () => {
    const { settings, requests } = fakeServer(403, {
      error: {
        code: 'limit',
        message: 'workers must be between 0 and 16',
        field: 'workers',
        fix: 'ask your administrator'
      }
    });
    const failure = createCluster({ workers: 99 }, settings);
    await expect(failure).rejects.toBeInstanceOf(APIError);
    await failure.catch((error: APIError) => {
      expect(error.status).toBe(403);
      expect(error.code).toBe('limit');
      expect(error.field).toBe('workers');
      expect(error.fix).toBe('ask your administrator');
    });
    expect(requests[0].method).toBe('POST');
    expect(JSON.parse(requests[0].body)).toEqual({ workers: 99 });
  });

  it('says the server extension is missing on a bare 404', async () => {
    const { settings } = fakeServer(404, undefined);
    await expect(listClusters(settings)).rejects.toThrow(
      /server extension is not installed/
    );
  });

  it('builds proxied dashboard URLs for individual plots', () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://h/notebook/ns/nb/'
    });
    const cluster = {
      dashboard_url: 'rapids-kf/clusters/gpu-etl/dashboard/status'
    } as ICluster;
    expect(dashboardUrl(cluster, 'individual-gpu-memory', settings)).toBe(
      'http://h/notebook/ns/nb/rapids-kf/clusters/gpu-etl/dashboard/individual-gpu-memory'
    );
  });
});

describe('api writes and streams', () => {
  it('sends scale, adapt and delete to the cluster route', async () => {
    const { settings, requests } = fakeServer(202, { name: 'gpu-etl' });
    await scaleCluster('gpu-etl', 3, settings);
    await adaptCluster('gpu-etl', { minimum: 1, maximum: 4 }, settings);
    await adaptCluster('gpu-etl', null, settings);
    await deleteCluster('gpu-etl', settings);
    expect(requests.map(r => [r.method, r.url.split('?')[0], r.body])).toEqual([
      [
        'PATCH',
        'http://localhost:8888/user/x/rapids-kf/clusters/gpu-etl',
        '{"workers":3}'
      ],
      [
        'PATCH',
        'http://localhost:8888/user/x/rapids-kf/clusters/gpu-etl',
        '{"adapt":{"minimum":1,"maximum":4}}'
      ],
      [
        'PATCH',
        'http://localhost:8888/user/x/rapids-kf/clusters/gpu-etl',
        '{"adapt":null}'
      ],
      ['DELETE', 'http://localhost:8888/user/x/rapids-kf/clusters/gpu-etl', '']
    ]);
  });

  it('asks for a snippet kind and for log tails', async () => {
    const { settings, requests } = fakeServer(200, {
      kind: 'cudf',
      code: 'import dask',
      logs: []
    });
    expect(await getSnippet('a', 'cudf', settings)).toBe('import dask');
    expect(await getLogs('a', 'worker', 50, settings)).toEqual([]);
    expect(requests[0].url).toContain('rapids-kf/clusters/a/snippet?kind=cudf');
    expect(requests[1].url).toContain(
      'rapids-kf/clusters/a/logs?component=worker&tail=50'
    );
  });

  it('says the server cannot be reached when the request fails', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as any
    });
    await expect(listClusters(settings)).rejects.toMatchObject({
      status: 0,
      code: 'unavailable'
    });
  });

  it('opens the event stream with the settings of every other call', async () => {
    const seen: Request[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      token: 'secret',
      fetch: (async (request: Request) => {
        seen.push(request);
        return new Response('', {
          status: 200,
          headers: { 'Content-Type': 'text/event-stream' }
        });
      }) as any
    });
    const abort = new AbortController();
    const response = await openEvents(abort.signal, settings);
    expect(response.headers.get('Content-Type')).toBe('text/event-stream');
    expect(seen[0].url.split('?')[0]).toBe(
      'http://localhost:8888/rapids-kf/events'
    );
    expect(seen[0].headers.get('Accept')).toBe('text/event-stream');
    expect(seen[0].headers.get('Authorization')).toBe('token secret');
  });

  it('puts the token in the query for EventSource', () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://h/',
      token: 'a b'
    });
    expect(eventsUrl(settings)).toBe('http://h/rapids-kf/events?token=a%20b');
  });
});
