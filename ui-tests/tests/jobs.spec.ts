/**
 * Batch jobs from the file browser, in a real JupyterLab on the local backend (no GPU here:
 * the job's cluster is a CPU LocalCluster): right-click a notebook, Run as GPU job, follow it
 * in the Jobs list to Successful, read its log, open the executed copy; a failing notebook
 * shows its cell's error; delete. Takes docs/screenshots/jobs-light.png under `make screenshots`.
 * And Export as pipeline: the compiled KubeFlow Pipelines YAML appears next to the notebook.
 */
import { expect, test } from '@jupyterlab/galata';
import { PANEL_ID, shoot } from './helpers';

function notebook(...cells: { source: string; tags?: string[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: cells.map((cell, i) => ({
      id: `cell-${i}`,
      cell_type: 'code',
      execution_count: null,
      metadata: cell.tags ? { tags: cell.tags } : {},
      outputs: [],
      source: cell.source
    }))
  });
}

test.afterEach(async ({ request }) => {
  const response = await request.get('rapids-kf/jobs');
  if (response.ok()) {
    for (const { name } of (await response.json()).jobs) {
      await request.delete(`rapids-kf/jobs/${name}`);
    }
  }
});

test('a notebook runs as a job from the file browser; the Jobs list follows it', async ({
  page,
  tmpPath
}) => {
  await page.contents.uploadContent(
    notebook(
      { source: 'n = 10', tags: ['parameters'] },
      {
        source:
          'from distributed import Client\nclient = Client()\n' +
          "print('workers', len(client.scheduler_info()['workers']), 'total', client.submit(sum, range(n)).result())"
      }
    ),
    'text',
    `${tmpPath}/etl.ipynb`
  );
  await page.contents.uploadContent(
    notebook({ source: 'x = 1' }, { source: '1 / 0' }),
    'text',
    `${tmpPath}/broken.ipynb`
  );
  await page.filebrowser.openDirectory(tmpPath);

  // Right-click the notebook: Run as GPU job, one worker, a parameter.
  await page
    .locator('.jp-DirListing-item', { hasText: 'etl.ipynb' })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Run as GPU Job…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
    'Run as GPU job'
  );
  await dialog.getByLabel('Workers').fill('1');
  await dialog.getByLabel(/Parameters/).fill('{"n": 100}');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog).toHaveCount(0);

  // The panel opens on the Jobs list; the job runs and succeeds.
  const panel = page.locator(`#${PANEL_ID}`);
  const card = panel.locator('.jp-RapidsKF-jobCard').first();
  await expect(card).toBeVisible();
  const name = (await card.getAttribute('data-job-name'))!;
  expect(name).toMatch(/^etl-[0-9a-f]{4}$/);
  await expect(card.getByTestId('job-phase')).toHaveText('Successful', {
    timeout: 120000
  });
  await expect(card).toContainText(`${tmpPath}/etl.ipynb`);
  await expect(card).toContainText('1 worker');
  await expect(card).toContainText(/took \d+ s/);

  // A failing notebook: Failed, with the failing cell's error on its card.
  await page.sidebar.openTab('filebrowser');
  await page
    .locator('.jp-DirListing-item', { hasText: 'broken.ipynb' })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Run as GPU Job…' }).click();
  await dialog.getByLabel('Workers').fill('1');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  const broken = panel.locator('.jp-RapidsKF-jobCard', {
    hasText: 'broken.ipynb'
  });
  await expect(broken.getByTestId('job-phase')).toHaveText('Failed', {
    timeout: 120000
  });
  await expect(broken.getByRole('alert')).toHaveText(
    'ZeroDivisionError: division by zero'
  );
  await shoot(panel.locator('.jp-RapidsKF-jobs'), 'jobs-light.png');

  // Its log, in a tab.
  const etl = panel.locator(`.jp-RapidsKF-jobCard[data-job-name="${name}"]`);
  await etl.getByRole('button', { name: 'Logs', exact: true }).click();
  await expect(
    page.getByRole('tab', { name: `Job log: ${name}` })
  ).toBeVisible();
  await expect(
    page.locator('.jp-RapidsKF-logsWidget pre').last()
  ).toContainText(
    'rapids-kf: running etl.ipynb on the Dask cluster at tcp://127.0.0.1:'
  );

  // The executed copy, next to the notebook, with the job's output.
  await etl.getByRole('button', { name: 'Open output', exact: true }).click();
  await expect(
    page.getByRole('tab', { name: `etl.${name}.ipynb` })
  ).toBeVisible();
  await expect(page.locator('.jp-OutputArea-output').first()).toContainText(
    'workers 1 total 4950'
  );

  // Delete both: they leave the list.
  await page.sidebar.openTab(PANEL_ID);
  for (const job of [etl, broken]) {
    await job.getByRole('button', { name: 'Delete', exact: true }).click();
  }
  await expect(panel.locator('.jp-RapidsKF-jobCard')).toHaveCount(0);
  await expect(panel.locator('.jp-RapidsKF-jobs')).toContainText('No jobs.');
});

test('a notebook exports as a compiled pipeline from the file browser', async ({
  page,
  request,
  tmpPath
}) => {
  await page.contents.uploadContent(
    notebook(
      { source: 'n = 10', tags: ['parameters'] },
      {
        source:
          'from distributed import Client\nClient().submit(sum, range(n)).result()'
      }
    ),
    'text',
    `${tmpPath}/etl.ipynb`
  );
  await page.filebrowser.openDirectory(tmpPath);
  const item = (name: string) =>
    page.locator('.jp-DirListing-item', { hasText: name });
  await item('etl.ipynb').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Export as Pipeline…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
    'Export as pipeline'
  );
  const exportButton = dialog.getByRole('button', {
    name: 'Export',
    exact: true
  });
  // More workers than the admin allows (max_workers 16): the form cannot be sent.
  await dialog.getByLabel('Workers').fill('99');
  await expect(exportButton).toBeDisabled();
  await dialog.getByLabel('Workers').fill('3');
  await dialog.getByLabel(/Parameters/).fill('{"n": 1000}');
  await exportButton.click();
  await expect(dialog).toHaveCount(0);

  // The YAML is written next to the notebook and the file browser shows it at once.
  await expect(
    page.getByText(
      `Pipeline written to ${tmpPath}/etl.pipeline.yaml: upload it to KubeFlow Pipelines`
    )
  ).toBeVisible();
  await expect(item('etl.pipeline.yaml')).toBeVisible({ timeout: 5000 });

  // It is a compiled KFP v2 pipeline: our step inside an exit handler that deletes the
  // run's cluster, with the form's parameters and size as the run's defaults.
  const response = await request.get(
    `api/contents/${tmpPath}/etl.pipeline.yaml?type=file&format=text&content=1`
  );
  expect(response.ok()).toBe(true);
  const ir: string = (await response.json()).content;
  expect(ir).toMatch(/^\s*name: etl$/m);
  expect(ir).toMatch(/^sdkVersion: kfp-2\./m);
  expect(ir).toContain('exec-run-notebook-on-gpu-cluster:');
  expect(ir).toContain('- jupyter_rapids_kf.pipelines.step');
  expect(ir).toContain('delete-gpu-cluster:');
  expect(ir).toContain('strategy: ALL_UPSTREAM_TASKS_COMPLETED');
  expect(ir).toContain('defaultValue: \'{"n": 1000}\'');
  expect(ir).toMatch(/defaultValue: '\{.*"workers": 3/);
});
