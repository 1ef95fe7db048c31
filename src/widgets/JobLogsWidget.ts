/**
 * A main-area tab with the log of a job's runner (the notebook's progress and errors).
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { LogView } from '../components/LogView';
import { gpuClustersIcon } from '../icons';

export class JobLogsWidget extends MainAreaWidget<ReactWidget> {
  constructor(options: {
    job: string;
    trans: TranslationBundle;
    load: (tail: number) => Promise<string[]>;
  }) {
    const content = ReactWidget.create(
      React.createElement(LogView, {
        cluster: options.job,
        trans: options.trans,
        components: ['job'],
        refreshEvery: 3000, // follows the job while the tab is open
        load: async (_component: string, tail: number) => [
          {
            pod: `${options.job}-runner`,
            component: 'job' as const,
            lines: await options.load(tail)
          }
        ]
      })
    );
    super({ content });
    this.job = options.job;
    this.id = `jp-RapidsKF-job-logs-${options.job}`;
    this.addClass('jp-RapidsKF-logsWidget');
    this.title.label = options.trans.__('Job log: %1', options.job);
    this.title.icon = gpuClustersIcon;
    this.title.closable = true;
  }

  readonly job: string;
}
