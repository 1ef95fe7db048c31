/**
 * The queue on the card: a cluster waiting in Kueue, with its position, what it waits for and
 * the quota in use, then admitted, in a real JupyterLab on the local backend.
 *
 * Disclosed: the local backend has no Kueue, so the two clusters and their queue state are
 * faked in the browser layer only (fakeEvents.ts answers the page's `rapids-kf/events` request
 * with them, in the shape the server sends; every other request goes to the real server). The
 * server's side (Workloads, LocalQueue and ClusterQueue read by queue/state.py) is tested on the
 * real Kueue controller in tests/controlplane/test_kueue.py, whose card line this one copies.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import { clustersEvent, fakeEvents, push } from './fakeEvents';

const SCREENSHOTS =
  process.env.SCREENSHOT_DIR ??
  path.resolve(__dirname, '..', 'test-results', 'screenshots');
const PANEL_ID = 'jp-RapidsKF-sidebar';
const QUEUED_LINE =
  'Queued in team-a: position 2, waiting for 4 GPUs (8 of 8 in use by 3 workloads); 0 workers admitted, 4 queued';

function cluster(name: string, queued: boolean) {
  const now = Date.now();
  return {
    name,
    namespace: 'kubeflow-user-example-com',
    backend: 'kubernetes',
    phase: queued ? 'Pending' : 'Running',
    created: new Date(now - (queued ? 3 : 40) * 60000)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z'),
    image: 'kubeflownotebookswg/jupyter-rapids:latest',
    worker_command: 'dask-cuda-worker',
    gpus_per_worker: 1,
    workers: queued
      ? { desired: 4, ready: 0, pending: 4 }
      : { desired: 4, ready: 4, pending: 0 },
    scheduler: { ready: true, address: `tcp://${name}-scheduler:8786` },
    dashboard_url: `rapids-kf/clusters/${name}/dashboard/status`,
    adapt: null,
    idle_timeout: 0,
    reasons: queued ? [QUEUED_LINE, '4 of 4 workers not started yet'] : [],
    managed: true,
    cpu: '4',
    memory: '32Gi',
    gpus: {
      in_use: queued ? 0 : 4,
      memory_used: null,
      memory_total: null,
      utilization: null
    },
    worker_groups: [],
    version_skew: [],
    queue: {
      local_queue: 'team-a',
      cluster_queue: 'gpus',
      admitted: queued ? 0 : 4,
      queued: queued ? 4 : 0,
      scheduler_queued: false,
      position: queued ? 2 : null,
      waiting_for: queued ? 4 : 0,
      waiting_unit: 'GPU',
      use: { resource: 'GPU', in_use: 8, quota: 8, workloads: 3 },
      preempted: 0,
      inactive: null
    }
  };
}

test('a queued cluster shows its place in the Kueue queue, then starts (queue faked in the browser)', async ({
  page
}) => {
  await fakeEvents(
    page,
    clustersEvent([cluster('train', false), cluster('etl', true)])
  );
  await page.goto();
  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  const card = (name: string) => panel.locator(`[data-cluster-name="${name}"]`);

  const etl = card('etl');
  await expect(etl.locator('.jp-RapidsKF-reasons li').first()).toHaveText(
    QUEUED_LINE
  );
  await expect(etl.locator('.jp-RapidsKF-queued')).toHaveText(
    '0 admitted, 4 queued'
  );
  await expect(etl.locator('.jp-RapidsKF-workersText')).toContainText(
    '0 of 4 workers ready'
  );
  // The admitted cluster says nothing about the queue.
  await expect(card('train').locator('.jp-RapidsKF-queued')).toHaveCount(0);
  await expect(card('train').locator('.jp-RapidsKF-reasons')).toHaveCount(0);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await etl.screenshot({
    path: path.join(SCREENSHOTS, 'kueue-queued-light.png'),
    animations: 'disabled'
  });

  // Its turn: Kueue admitted the workers; the server's next event says so and the card follows.
  await push(
    page,
    `event: cluster\ndata: ${JSON.stringify(cluster('etl', false))}\n\n`
  );
  await expect(etl.locator('.jp-RapidsKF-reasons')).toHaveCount(0);
  await expect(etl.locator('.jp-RapidsKF-queued')).toHaveCount(0);
  await expect(etl.locator('.jp-RapidsKF-workersText')).toContainText(
    '4 of 4 workers ready'
  );
});
