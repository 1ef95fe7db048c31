import { ServerConnection } from '@jupyterlab/services';

import { APIError, createCluster, dashboardUrl, listClusters } from '../api';
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
