/**
 * Playwright configuration for the browser tests: Galata's defaults, Debian's Chromium
 * (no browser download is possible here), and a JupyterLab started by Playwright itself.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.RAPIDS_KF_UI_PORT || '8899';
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  reporter: [['list']],
  timeout: 240000,
  expect: { timeout: 30000 },
  retries: 0,
  workers: 1,
  outputDir: 'test-results',
  testDir: 'tests',
  // The KubeFlow test runs on the real node, started by the control-plane tier
  // (real-node.config.js, tests/controlplane/test_real_browser.py).
  testIgnore: 'real-node/**',
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    video: 'off',
    trace: 'off',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: 'jupyter lab --config jupyter_server_test_config.py',
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 180000,
    reuseExistingServer: false,
    // SIGTERM lets the server stop its local clusters (c.RapidsKF.stop_local_clusters_on_exit).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20000 },
    stdout: 'ignore',
    stderr: 'pipe'
  }
};
