/**
 * A KubeFlow user's first cluster, in a browser, on real pods. JupyterLab is served by a
 * KubeFlow notebook pod on the control-plane tier's real node (no Jupyter token, as KubeFlow's
 * images start it), reached through a loopback gateway that adds `kubeflow-userid` as Istio's
 * would. Started by tests/controlplane/test_real_browser.py, which passes:
 *   RAPIDS_KF_LAB_URL     the gateway's URL with NB_PREFIX (the config's baseURL)
 *   RAPIDS_KF_NAMESPACE   the profile namespace the panel must name
 *   RAPIDS_KF_BACKEND     what the panel must say the backend is
 *   RAPIDS_KF_RESULT      where to write what the test saw, for the pytest side to check
 *                         against the API server (the cluster's pods must all be gone)
 * The node has 2 CPUs and no GPU: the admin's defaults make "New GPU cluster" a CPU cluster.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import {
  dragSliderTo,
  PANEL_ID,
  requestsOffLoopback,
  shoot,
  stepClock
} from '../helpers';

// galata makes a folder per test, and closes the test's kernels, with requests to the
// server's root, where a server under NB_PREFIX does not answer: JupyterLab opens in the
// notebook's own folder instead, and its kernels end with the notebook pod.
test.use({ autoGoto: false, tmpPath: '', kernels: null, sessions: null });

const NAMESPACE = process.env.RAPIDS_KF_NAMESPACE ?? '';
const BACKEND = process.env.RAPIDS_KF_BACKEND ?? 'Kubernetes';
const RESULT = process.env.RAPIDS_KF_RESULT;

test('a KubeFlow user makes, uses, scales and deletes a cluster on real pods', async ({
  page
}) => {
  const started = Date.now();
  const external = requestsOffLoopback(page);
  const step = stepClock('open the panel');
  const seen: Record<string, unknown> = {};

  await page.goto();
  // 1. The panel names the profile namespace and Kubernetes, with no setup problem.
  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  await expect(panel.locator('.jp-RapidsKF-backend')).toHaveText(BACKEND);
  await expect(panel.locator('.jp-RapidsKF-namespace')).toHaveText(NAMESPACE);
  await expect(panel.getByRole('list', { name: 'Setup problems' })).toHaveCount(
    0
  );

  step('create');
  // 2. New GPU cluster with the admin's defaults.
  await panel
    .getByRole('button', { name: 'New GPU cluster', exact: true })
    .click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByLabel('Workers')).toHaveValue('2');
  const name = await dialog.getByLabel('Name').inputValue();
  seen.cluster = name;
  await shoot(
    dialog.locator('.jp-Dialog-content'),
    'kubeflow-new-cluster-dialog-light.png'
  );
  const clicked = Date.now();
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(dialog).toHaveCount(0);

  step('wait for 2/2');
  // 3. Its card: Running with 2 of 2 workers, i.e. both registered with the real scheduler.
  const card = panel.locator(`.jp-RapidsKF-card[data-cluster-name="${name}"]`);
  await expect(card.locator('.jp-RapidsKF-phase')).toHaveText('Running', {
    timeout: 300000
  });
  await expect(card.locator('.jp-RapidsKF-workersText')).toHaveText(
    '2 of 2 workers ready'
  );
  seen.create_to_running_ms = Date.now() - clicked;

  step('dashboard');
  // 4. The dashboard pane: the real scheduler's bokeh page through the notebook's proxy.
  await card.getByRole('button', { name: 'Dashboard', exact: true }).click();
  const dashboard = page.locator('.jp-RapidsKF-dashboard', {
    has: page.locator(`iframe[title="${name}: Status"]`)
  });
  const dashboardTab = page.getByRole('tab', { name: `${name}: Status` });
  await expect(dashboardTab).toBeVisible();
  const frame = page.frameLocator(`iframe[title="${name}: Status"]`);
  await expect(frame.locator('.bk-Figure').first()).toBeVisible({
    timeout: 60000
  });
  await expect
    .poll(() => frame.locator('.bk-Figure').count())
    .toBeGreaterThan(3);

  step('plot');
  // 5. One plot of the dashboard menu as its own pane.
  await card
    .getByRole('button', { name: `More dashboard plots of ${name}` })
    .click();
  await page
    .getByRole('menuitem', { name: 'Task stream', exact: true })
    .click();
  const plotTab = page.getByRole('tab', { name: `${name}: Task stream` });
  await expect(plotTab).toBeVisible();
  const plotFrame = page.frameLocator(`iframe[title="${name}: Task stream"]`);
  await expect(plotFrame.locator('.bk-Figure').first()).toBeVisible({
    timeout: 60000
  });

  step('snippet');
  // 6. The client snippet in a new notebook, run in a kernel of the notebook pod. (Not
  // renamed: galata renames through the REST API without the _xsrf this server requires.)
  await page.sidebar.openTab(PANEL_ID);
  await page.notebook.createNew();
  await card.getByRole('button', { name: `More snippets of ${name}` }).click();
  await page.getByRole('menuitem', { name: 'Insert Client (connect)' }).click();
  await expect(page.locator('.jp-Notebook .jp-Cell')).toHaveCount(2);
  expect(await page.notebook.getCellTextInput(1)).toContain(
    'from dask.distributed import Client'
  );
  await page.notebook.runCell(1);
  const cells = page.locator('.jp-Notebook .jp-Cell');
  await expect(cells.nth(1).locator('.jp-OutputArea')).toContainText(
    /Workers:\s*2/,
    { timeout: 120000 }
  );
  // Where the kernel runs and where its tasks ran; some work for the dashboard to show.
  await page.notebook.addCell(
    'code',
    [
      'import json, socket',
      'import dask.array as da',
      'mean = float(da.random.random((2000, 2000), chunks=250).mean().compute())',
      'print(json.dumps({"kernel": socket.gethostname(),',
      '                  "workers": sorted(client.run(socket.gethostname).values()),',
      '                  "mean": round(mean, 1)}))'
    ].join('\n')
  );
  const work = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(work);
  const printed = cells.nth(work).locator('.jp-OutputArea-output');
  await expect(printed).toContainText('"mean": 0.5', { timeout: 120000 });
  const ran = JSON.parse((await printed.last().textContent()) ?? '{}');
  seen.kernel = ran;
  expect(ran.workers).toHaveLength(2); // which pods they are, the pytest side checks
  await dashboardTab.click();
  await page.waitForTimeout(1500); // the task stream draws what it received
  await shoot(dashboard, 'kubeflow-dashboard-light.png');

  step('scale');
  // 7. The slider to 3: one PATCH on release, a third worker pod joins the scheduler.
  await page.sidebar.openTab(PANEL_ID);
  const patches: string[] = [];
  page.on('request', request => {
    if (request.method() === 'PATCH') {
      patches.push(request.postData() ?? '');
    }
  });
  await dragSliderTo(page, card.locator('jp-slider'), 3);
  await expect(card.locator('.jp-RapidsKF-workersText')).toHaveText(
    '3 of 3 workers ready',
    { timeout: 180000 }
  );
  await expect(card.locator('.jp-RapidsKF-phase')).toHaveText('Running');
  expect(patches).toEqual(['{"workers":3}']);
  await shoot(panel, 'kubeflow-sidebar-light.png');

  step('delete');
  // 8. Delete: the card and both panes go; the pytest side then asks the API server.
  await card.getByRole('button', { name: `Delete ${name}` }).click();
  const confirm = page.locator('.jp-Dialog');
  await expect(confirm).toContainText(`Delete ${name}?`);
  const deleteClicked = Date.now();
  // Which came first, the DELETE's answer or the card going (the stream's `deleted`): an
  // answer made after our server saw the DaskCluster gone carries no workers (0 desired).
  // A listener, never a wait: a missed answer must not hold the test.
  const answers: Promise<void>[] = [];
  page.on('response', response => {
    const path = new URL(response.url()).pathname;
    if (
      response.request().method() === 'DELETE' &&
      path.endsWith(`/rapids-kf/clusters/${name}`)
    ) {
      const ms = Date.now() - deleteClicked;
      answers.push(
        response
          .json()
          .catch(() => ({}))
          .then(body => {
            seen.delete_answer = {
              status: response.status(),
              phase: body.phase,
              desired: body.workers?.desired,
              ms
            };
          })
      );
    }
  });
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  try {
    await expect(card).toHaveCount(0, { timeout: 120000 });
  } catch (error) {
    // What the card showed and what our server answered the page: the pytest side adds what
    // the API server and the operator held, to tell where the deletion is stuck.
    const text = await card.innerText().catch(() => '(no card)');
    const answer = await page.evaluate(async cluster => {
      const app = (window as any).jupyterapp;
      const base: string = app.serviceManager.serverSettings.baseUrl;
      const resp = await fetch(`${base}rapids-kf/clusters/${cluster}`);
      return `${resp.status} ${(await resp.text()).slice(0, 600)}`;
    }, name);
    console.log(`card still there after 120 s: ${JSON.stringify(text)}`);
    console.log(`GET clusters/${name} from the page: ${answer}`);
    throw error;
  }
  await expect(dashboardTab).toHaveCount(0);
  await expect(plotTab).toHaveCount(0);
  await expect(panel.getByText('No clusters yet.')).toBeVisible();
  seen.deleted_at = new Date().toISOString();
  seen.card_gone_ms = Date.now() - deleteClicked;
  await Promise.all(answers);

  step('done');
  expect(external).toEqual([]);
  seen.seconds = Math.round((Date.now() - started) / 1000);
  console.log(`browser test on the real node took ${seen.seconds} s`);
  if (RESULT) {
    fs.writeFileSync(RESULT, JSON.stringify(seen, null, 2));
  }
});
