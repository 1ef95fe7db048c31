/**
 * How long a cluster lives and how it started, as a person sees it on the card (local
 * backend): the idle countdown from the scheduler's own idle clock, and the Start-up view
 * with the scheduler and each worker's steps. Takes the screenshot of docs/lifecycle.md.
 */
import { expect, test } from '@jupyterlab/galata';
import { PANEL_ID, shoot } from './helpers';

test('the card counts down an idle cluster and shows its start-up', async ({
  page
}) => {
  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  await panel
    .getByRole('button', { name: 'New GPU cluster', exact: true })
    .click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Name').fill('idle-etl');
  // Three workers: not the default shape, so no cluster started in advance is handed over
  // (c.RapidsKF.local_warm_cluster) and the timeline shows a whole start.
  await dialog.getByLabel('Workers').fill('3');
  await dialog.getByText('Advanced').click();
  await dialog.getByLabel('Idle timeout (seconds)').fill('900');
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(dialog).toHaveCount(0);

  const card = panel.locator('.jp-RapidsKF-card[data-cluster-name="idle-etl"]');
  await expect(card.locator('.jp-RapidsKF-phase')).toHaveText(/Running/, {
    timeout: 120000
  });
  // Nothing runs on it: the scheduler's idle clock runs, and the card counts down from it.
  await expect(card.getByText('stops in 15 min if still idle')).toBeVisible();

  await card.getByRole('button', { name: 'Start-up', exact: true }).click();
  const table = card.locator('.jp-RapidsKF-timelineTable');
  await expect(table.locator('caption')).toHaveText(/^Started in \d/);
  await expect(table.getByText('registered with the scheduler')).toHaveCount(3);
  await expect(table.getByText('ready', { exact: true })).toHaveCount(1);
  await shoot(card, 'startup-light.png');

  await card.getByRole('button', { name: 'Delete idle-etl' }).click();
  const confirm = page.locator('.jp-Dialog');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(card).toHaveCount(0, { timeout: 60000 });
});
