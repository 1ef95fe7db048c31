/**
 * A main-area tab showing one page of a cluster's Dask dashboard through the server's
 * proxy (the bokeh pages need scripts and same-origin websockets, as in dask-labextension).
 */
import { MainAreaWidget, ToolbarButton } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IFrame, launchIcon, refreshIcon } from '@jupyterlab/ui-components';

import { gpuClustersIcon } from '../icons';

export class DashboardWidget extends MainAreaWidget<IFrame> {
  constructor(options: {
    cluster: string;
    page: string;
    url: string;
    label: string;
    /** The scheduler's name of the plot, kept so that a restored pane is named alike. */
    plotTitle?: string;
    trans: TranslationBundle;
  }) {
    const content = new IFrame({
      sandbox: ['allow-scripts', 'allow-same-origin', 'allow-popups'],
      referrerPolicy: 'same-origin'
    });
    content.url = options.url;
    content.addClass('jp-RapidsKF-dashboardFrame');
    // Screen readers announce a frame by its title.
    content.node.querySelector('iframe')?.setAttribute('title', options.label);
    super({ content });
    this.cluster = options.cluster;
    this.page = options.page;
    this.plotTitle = options.plotTitle ?? '';
    this.id = DashboardWidget.id(options.cluster, options.page);
    this.addClass('jp-RapidsKF-dashboard');
    this.title.label = options.label;
    this.title.caption = options.url;
    this.title.icon = gpuClustersIcon;
    this.title.closable = true;
    const { trans } = options;
    this.toolbar.addItem(
      'reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Reload the dashboard'),
        onClick: () => this.reload()
      })
    );
    this.toolbar.addItem(
      'open-in-browser',
      new ToolbarButton({
        icon: launchIcon,
        tooltip: trans.__('Open the dashboard in a new browser tab'),
        onClick: () => window.open(options.url, '_blank', 'noopener')
      })
    );
  }

  readonly cluster: string;
  readonly page: string;
  readonly plotTitle: string;

  /** Reload the page (after the cluster restarted, for example). */
  reload(): void {
    const url = this.content.url;
    this.content.url = '';
    this.content.url = url;
  }
}

export namespace DashboardWidget {
  export function id(cluster: string, page: string): string {
    return `jp-RapidsKF-dashboard-${cluster}-${page.replace(/[^\w-]/g, '_')}`;
  }
}
