/**
 * What the browser tests share: where screenshots go, the panel's id, taking a screenshot,
 * dragging the scale slider as a person does, timing the steps, and watching that every
 * request of the page stays on loopback.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

// `make screenshots` sets SCREENSHOT_DIR to docs/screenshots; a plain run keeps the tree clean.
export const SCREENSHOTS =
  process.env.SCREENSHOT_DIR ??
  path.resolve(__dirname, '..', 'test-results', 'screenshots');
export const PANEL_ID = 'jp-RapidsKF-sidebar';

/** Saves a screenshot of `target` as SCREENSHOTS/`name`, small enough for the docs. */
export async function shoot(target: Locator, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  await target.screenshot({ path: file, animations: 'disabled' });
  const size = fs.statSync(file).size;
  expect(size, `${name} must stay small`).toBeLessThan(300 * 1024);
}

/** Drags the slider's thumb with the mouse until it shows `value`, then releases it. */
export async function dragSliderTo(
  page: IJupyterLabPageFixture,
  slider: Locator,
  value: number
): Promise<void> {
  const thumb = slider.locator('.thumb-container');
  const track = slider.locator('.track');
  const thumbBox = (await thumb.boundingBox())!;
  const trackBox = (await track.boundingBox())!;
  const max = Number(await slider.getAttribute('max'));
  const y = thumbBox.y + thumbBox.height / 2;
  await page.mouse.move(thumbBox.x + thumbBox.width / 2, y);
  await page.mouse.down();
  let x = trackBox.x + (trackBox.width * value) / max;
  await page.mouse.move(x, y, { steps: 8 });
  // Rounding may land on a neighbour: nudge a pixel at a time, as a person would.
  for (let i = 0; i < 40; i++) {
    const now = Number(await slider.evaluate((node: any) => node.value));
    if (now === value) {
      break;
    }
    x += now < value ? 1 : -1;
    await page.mouse.move(x, y);
  }
  expect(Number(await slider.evaluate((node: any) => node.value))).toBe(value);
  await page.mouse.up();
}

/**
 * A clock for the steps of a test: each call logs how long the step that just ended took
 * (to see where the time goes) and starts `next`.
 */
export function stepClock(first: string): (next: string) => void {
  let clock = Date.now();
  let current = first;
  return (next: string) => {
    const now = Date.now();
    console.log(`  ${current}: ${((now - clock) / 1000).toFixed(1)} s`);
    clock = now;
    current = next;
  };
}

/** Every request of the page (and its frames) that leaves this machine's loopback. */
export function requestsOffLoopback(page: Page): string[] {
  const external: string[] = [];
  page.context().on('request', request => {
    const url = request.url();
    if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]|^(data|blob|about):/.test(url)) {
      external.push(url);
    }
  });
  return external;
}
