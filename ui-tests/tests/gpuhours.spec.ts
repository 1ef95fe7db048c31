/**
 * GPU-hours on the cards, the namespace total and the idle-GPU notification, in a real
 * JupyterLab on the local backend.
 *
 * Disclosed: this machine has no GPU, so the GPU readings are faked in the browser layer
 * only. An init script answers the page's `rapids-kf/events` request with a stream of two
 * hand-written GPU clusters (in the shape the server sends, `gpu_hours` included) and keeps
 * it open; every other request (environment, settings, the extension itself) goes to the
 * real server. The Scale to 0 click is answered by a Playwright route, which records what
 * the page sent. The server's accounting is tested against recorded readings in
 * tests/unit/test_gpu_hours.py and on a real (CPU) cluster in tests/api.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

const SCREENSHOTS =
  process.env.SCREENSHOT_DIR ??
  path.resolve(__dirname, '..', 'test-results', 'screenshots');
const PANEL_ID = 'jp-RapidsKF-sidebar';
const MIN = 60000;

// Tall enough for the total, the idle card and the warning in one screenshot.
test.use({ viewport: { width: 1280, height: 1000 } });

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}

/** A GPU cluster as the server would send it; the readings are faked (see above). */
function gpuCluster(
  name: string,
  now: number,
  gpuHours: Record<string, unknown>
) {
  return {
    name,
    namespace: 'local',
    backend: 'local',
    phase: 'Running',
    created: iso(now - 95 * MIN),
    image: null,
    worker_command: 'dask-cuda-worker',
    gpus_per_worker: 1,
    workers: { desired: 2, ready: 2, pending: 0 },
    scheduler: { ready: true, address: 'tcp://127.0.0.1:1' },
    dashboard_url: `rapids-kf/clusters/${name}/dashboard/status`,
    adapt: null,
    idle_timeout: 0,
    reasons: [],
    managed: true,
    cpu: '4',
    memory: '100Gi',
    gpus: {
      in_use: 2,
      memory_used: 2 * 2 ** 30,
      memory_total: 160 * 2 ** 30,
      utilization: gpuHours.utilization
    },
    worker_groups: [],
    version_skew: [],
    ends_with: null,
    lifetime: 0,
    idle_since: null,
    stopped_with_notebook: null,
    gpu_hours: {
      as_of: iso(now - MIN),
      held: 3.0,
      read: 3.0,
      busy: 1.2,
      busy_share: 0.4,
      gpus_held: 2,
      utilization: 60,
      counted_since: iso(now - 94 * MIN),
      idle_since: null,
      idle_below: 5,
      idle_after: 600,
      price_per_gpu_hour: 2.5,
      currency: 'USD',
      cost: 7.5,
      ...gpuHours
    }
  };
}

test('GPU-hours on the cards and a one-click Scale to 0 for idle GPUs (readings faked in the browser)', async ({
  page
}) => {
  const now = Date.now();
  const clusters = [
    gpuCluster('busy-gpus', now, { utilization: 63 }),
    gpuCluster('idle-gpus', now, {
      held: 2.0,
      read: 1.5,
      busy: 0.3,
      busy_share: 0.2,
      utilization: 1,
      idle_since: iso(now - 12 * MIN),
      cost: 5
    })
  ];
  const snapshot = `event: clusters\ndata: ${JSON.stringify({ clusters })}\n\n`;
  await page.addInitScript((first: string) => {
    const realFetch = window.fetch.bind(window);
    const encoder = new TextEncoder();
    window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const url =
        typeof input === 'string'
          ? input
          : ((input as Request).url ?? String(input));
      if (!/\/rapids-kf\/events(\?|$)/.test(url)) {
        return realFetch(input, init);
      }
      let timer: ReturnType<typeof setInterval>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(first));
          (window as any).__rapidsKfPush = (text: string) =>
            controller.enqueue(encoder.encode(text));
          timer = setInterval(
            () => controller.enqueue(encoder.encode(': keep-alive\n\n')),
            5000
          );
        },
        cancel() {
          clearInterval(timer);
        }
      });
      return Promise.resolve(
        new Response(body, {
          status: 200,
          headers: { 'Content-Type': 'text/event-stream' }
        })
      );
    };
  }, snapshot);
  const sent: unknown[] = [];
  await page.route(/\/rapids-kf\/clusters\/idle-gpus(\?|$)/, async route => {
    sent.push(route.request().postDataJSON());
    const scaled = {
      ...clusters[1],
      workers: { desired: 0, ready: 2, pending: 0 },
      phase: 'Scaling'
    };
    await route.fulfill({
      status: 202,
      contentType: 'application/json',
      body: JSON.stringify(scaled)
    });
  });
  await page.goto();

  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  const card = (name: string) => panel.locator(`[data-cluster-name="${name}"]`);
  await expect(card('busy-gpus').locator('.jp-RapidsKF-gpuHours')).toHaveText(
    /^3\.0\d held · 4\d% busy · ≈ \$7\.\d\d$/
  );
  await expect(
    card('idle-gpus').locator('.jp-RapidsKF-gpuHours')
  ).toContainText(
    /held · 1\d% busy \(of the 1\.5\d with readings\) · ≈ \$5\.\d\d/
  );
  await expect(card('idle-gpus').locator('.jp-RapidsKF-gpuIdle')).toHaveText(
    /^GPUs under 5% busy for 1[23] min$/
  );
  await expect(panel.locator('.jp-RapidsKF-gpuHoursTotal')).toContainText(
    /^GPU-hours of the 2 clusters listed: 5\.\d\d held · \d\d% busy \(of the 4\.\d\d with readings\) · ≈ \$1\d\.\d\d$/
  );

  // The warning, with its two buttons.
  const toast = page
    .locator('.Toastify__toast')
    .filter({ hasText: 'idle-gpus' });
  await expect(toast).toContainText(
    /GPU cluster idle-gpus: 2 GPUs under 5% busy for 1[23] min \(2\.0\d GPU-hours held\)\./
  );
  await expect(toast.getByRole('button', { name: 'Delete' })).toBeVisible();
  await card('idle-gpus')
    .locator('.jp-RapidsKF-gpuIdle')
    .scrollIntoViewIfNeeded();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'gpu-hours-idle-light.png'),
    animations: 'disabled'
  });

  // One click scales it to 0 workers.
  await toast.getByRole('button', { name: 'Scale to 0' }).click();
  await expect.poll(() => sent).toEqual([{ workers: 0 }]);
  // The GPUs are let go: the server's next event clears idle_since; the warning goes away.
  const released = {
    ...clusters[1],
    workers: { desired: 0, ready: 0, pending: 0 },
    gpus: { ...clusters[1].gpus, in_use: 0, utilization: null },
    gpu_hours: {
      ...clusters[1].gpu_hours,
      as_of: iso(Date.now()),
      gpus_held: 0,
      utilization: null,
      idle_since: null
    }
  };
  await page.evaluate(
    text => (window as any).__rapidsKfPush(text),
    `event: cluster\ndata: ${JSON.stringify(released)}\n\n`
  );
  await expect(toast).toHaveCount(0);
  await expect(card('idle-gpus').locator('.jp-RapidsKF-gpuIdle')).toHaveCount(
    0
  );
});
