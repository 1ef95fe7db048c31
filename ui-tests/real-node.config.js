/**
 * The browser test on the real node (tests/real-node/): JupyterLab served by a KubeFlow
 * notebook pod, reached through the loopback gateway that tests/controlplane/
 * test_real_browser.py starts and names in RAPIDS_KF_LAB_URL (NB_PREFIX included). Same
 * browser and options as playwright.config.js, without the local JupyterLab it starts.
 */
const config = require('./playwright.config');

const { webServer, testIgnore, ...rest } = config; // eslint-disable-line @typescript-eslint/no-unused-vars

module.exports = {
  ...rest,
  testDir: 'tests/real-node',
  timeout: 600000,
  use: { ...config.use, baseURL: process.env.RAPIDS_KF_LAB_URL }
};
