/**
 * A main-area tab with the recent log lines of a cluster.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { LogComponent, LogView } from '../components/LogView';
import { gpuClustersIcon } from '../icons';
import { IPodLogs } from '../tokens';

export class LogsWidget extends MainAreaWidget<ReactWidget> {
  constructor(options: {
    cluster: string;
    trans: TranslationBundle;
    load: (component: LogComponent, tail: number) => Promise<IPodLogs[]>;
  }) {
    const content = ReactWidget.create(
      React.createElement(LogView, {
        cluster: options.cluster,
        trans: options.trans,
        load: options.load
      })
    );
    super({ content });
    this.cluster = options.cluster;
    this.id = LogsWidget.id(options.cluster);
    this.addClass('jp-RapidsKF-logsWidget');
    this.title.label = options.trans.__('Logs: %1', options.cluster);
    this.title.icon = gpuClustersIcon;
    this.title.closable = true;
  }

  readonly cluster: string;
}

export namespace LogsWidget {
  export function id(cluster: string): string {
    return `jp-RapidsKF-logs-${cluster}`;
  }
}
