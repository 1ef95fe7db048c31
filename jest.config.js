const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// JupyterLab ships ES modules; these must be transformed for jest.
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@microsoft/fast',
  '@jupyterlab/',
  'exenv-es6',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  roots: ['<rootDir>/src'],
  collectCoverageFrom: ['src/**/*.{ts,tsx}', '!src/**/*.d.ts'],
  coverageReporters: ['lcov', 'text'],
  testRegex: 'src/.*/.*.spec.ts[x]?$',
  // The venv and the browser tests hold package.json files jest must not index.
  modulePathIgnorePatterns: [
    '<rootDir>/.venv/',
    '<rootDir>/ui-tests/',
    '<rootDir>/lib/',
    '<rootDir>/jupyter_rapids_kf/labextension/'
  ],
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
