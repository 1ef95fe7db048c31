/**
 * What the cluster commands do: open dashboards and logs as tabs, insert or copy
 * snippets, create and delete with dialogs, scale. Commands, cards and menus all call
 * these, so every way of asking does the same thing.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';

import { APIError, dashboardUrl, getLogs, getSnippet } from './api';
import { AUTO_CLOSE } from './notifications';
import { ClusterListModel } from './model';
import { IPlot, loadPlots, readPastedDashboard } from './plots';
import { chooseKind, copyToClipboard, insertBelowActiveCell } from './snippets';
import { IAdapt, ICluster, ISettings, SnippetKind } from './tokens';
import { DashboardWidget } from './widgets/DashboardWidget';
import { LogsWidget } from './widgets/LogsWidget';
import { NewClusterDialog } from './widgets/NewClusterDialog';

export interface IActionContext {
  app: JupyterFrontEnd;
  model: ClusterListModel;
  trans: TranslationBundle;
  notebooks: INotebookTracker | null;
  dashboards: WidgetTracker<DashboardWidget>;
  logs: WidgetTracker<LogsWidget>;
  settings: () => ISettings;
  /** Stores a setting the user chose in a dialog ("do not ask again"). */
  saveSetting: (key: keyof ISettings, value: unknown) => Promise<void>;
  /** Shows the sidebar. */
  showPanel: () => void;
}

/** A server error in one line, with its fix when the server gave one. */
export function describeError(
  error: unknown,
  trans: TranslationBundle
): string {
  if (error instanceof APIError && error.fix) {
    return trans.__('%1. Fix: %2', error.message, error.fix);
  }
  return (error as Error)?.message ?? String(error);
}

export function pageLabel(page: string, trans: TranslationBundle): string {
  const labels: Record<string, string> = {
    status: trans.__('Status'),
    'individual-task-stream': trans.__('Task stream'),
    'individual-progress': trans.__('Progress'),
    'individual-workers': trans.__('Workers'),
    'individual-gpu-memory': trans.__('GPU memory'),
    'individual-gpu-utilization': trans.__('GPU utilization')
  };
  return labels[page] ?? page;
}

/** Dashboard pages worth offering: GPU plots only where workers have GPUs. */
export function dashboardPages(cluster: ICluster | undefined): string[] {
  const pages = [
    'status',
    'individual-task-stream',
    'individual-progress',
    'individual-workers'
  ];
  if (cluster && cluster.gpus_per_worker > 0) {
    pages.push('individual-gpu-memory', 'individual-gpu-utilization');
  }
  return pages;
}

export class ClusterActionRunner {
  constructor(private readonly _ctx: IActionContext) {}

  async newCluster(): Promise<ICluster | null> {
    const { model, trans } = this._ctx;
    // Read again: the suggested name must not be one taken since, and limits may change.
    const environment = await model.loadEnvironment();
    if (!environment) {
      Notification.error(
        trans.__(
          'GPU clusters: the server does not answer: %1',
          model.environmentError
        ),
        { autoClose: AUTO_CLOSE }
      );
      return null;
    }
    const dialog = new NewClusterDialog({
      environment,
      trans,
      create: request => model.create(request)
    });
    const result = await dialog.launch();
    const cluster = result.value;
    if (!result.button.accept || !cluster) {
      return null;
    }
    this._ctx.showPanel();
    Notification.info(
      trans.__(
        'Creating GPU cluster %1; you will be told when it is running.',
        cluster.name
      ),
      { autoClose: AUTO_CLOSE }
    );
    return cluster;
  }

  /** Every plot the cluster's scheduler serves (GPU ones first); the usual few if it does not say. */
  async plots(name: string): Promise<IPlot[]> {
    const cluster = this._ctx.model.find(name);
    if (!cluster) {
      return [];
    }
    const gpus = cluster.gpus_per_worker > 0 || cluster.gpus.in_use > 0;
    try {
      const plots = await loadPlots(dashboardUrl(cluster, ''), gpus);
      if (plots.length > 0) {
        // Our names where we have them ("GPU memory", not "Gpu Memory").
        return plots.map(plot => {
          const label = pageLabel(plot.page, this._ctx.trans);
          return label === plot.page ? plot : { ...plot, title: label };
        });
      }
    } catch (error) {
      console.warn('rapids-kf: plots not listed', error);
    }
    return dashboardPages(cluster)
      .filter(page => page !== 'status')
      .map(page => ({ page, title: pageLabel(page, this._ctx.trans) }));
  }

  /**
   * Opens the dashboard page a user pasted, if it is one of ours (see plots.ts); a Client's
   * host:port link is followed to its cluster, so the pane closes with that cluster.
   */
  async openPastedDashboard(text: string): Promise<DashboardWidget | null> {
    const { app, trans } = this._ctx;
    const baseUrl = app.serviceManager.serverSettings.baseUrl;
    let pasted = readPastedDashboard(text, baseUrl);
    if ('link' in pasted) {
      const page = pasted.page;
      try {
        const response = await fetch(`${pasted.link}/individual-plots.json`, {
          credentials: 'same-origin'
        });
        pasted = response.ok
          ? readPastedDashboard(response.url, baseUrl)
          : { error: trans.__('no cluster of yours has this dashboard') };
      } catch (error) {
        pasted = { error: (error as Error).message };
      }
      if ('cluster' in pasted) {
        pasted = { cluster: pasted.cluster, page };
      }
    }
    if ('error' in pasted || !('cluster' in pasted)) {
      const reason = 'error' in pasted ? pasted.error : '';
      Notification.error(
        trans.__('This dashboard does not open here: %1', reason),
        { autoClose: AUTO_CLOSE }
      );
      return null;
    }
    if (!this._ctx.model.find(pasted.cluster)) {
      Notification.error(
        trans.__('No GPU cluster named %1 is listed.', pasted.cluster),
        { autoClose: AUTO_CLOSE }
      );
      return null;
    }
    return this.openDashboard(pasted.cluster, pasted.page);
  }

  async openDashboard(
    name: string,
    page = 'status',
    title?: string
  ): Promise<DashboardWidget | null> {
    const { app, trans, dashboards } = this._ctx;
    const cluster = await this._existing(name);
    if (!cluster) {
      return null; // gone: a restored layout does not bring its tabs back
    }
    const id = DashboardWidget.id(name, page);
    let widget = dashboards.find(w => w.id === id) ?? null;
    if (!widget) {
      widget = new DashboardWidget({
        cluster: name,
        page,
        url: dashboardUrl(cluster, page),
        label: `${name}: ${title || pageLabel(page, trans)}`,
        plotTitle: title,
        trans
      });
      void dashboards.add(widget);
    }
    if (!widget.isAttached) {
      app.shell.add(widget, 'main', {
        mode: page === 'status' ? 'tab-after' : 'split-right'
      });
    }
    app.shell.activateById(widget.id);
    return widget;
  }

  /** Closes every tab of a cluster that is gone: its dashboard pages and its logs. */
  closeTabs(name: string): void {
    const { dashboards, logs } = this._ctx;
    const tabs = [
      ...dashboards.filter(widget => widget.cluster === name),
      ...logs.filter(widget => widget.cluster === name)
    ];
    tabs.forEach(widget => widget.dispose());
  }

  /** The cluster, waiting for the first list when the layout is restored at startup. */
  private async _existing(name: string): Promise<ICluster | null> {
    const { model } = this._ctx;
    if (!model.find(name) && !model.loaded) {
      await model.refresh().catch(() => undefined);
    }
    return model.find(name) ?? null;
  }

  async snippet(name: string, kind?: SnippetKind): Promise<string | null> {
    const { model, trans, settings } = this._ctx;
    const chosen = kind ?? chooseKind(model.find(name), settings().snippetKind);
    try {
      return await getSnippet(name, chosen);
    } catch (error) {
      Notification.error(
        trans.__('No snippet for %1: %2', name, describeError(error, trans)),
        { autoClose: AUTO_CLOSE }
      );
      return null;
    }
  }

  async insertSnippet(name: string, kind?: SnippetKind): Promise<void> {
    const { app, trans, notebooks } = this._ctx;
    const code = await this.snippet(name, kind);
    if (code === null) {
      return;
    }
    const notebookId = notebooks
      ? insertBelowActiveCell(notebooks, code)
      : null;
    if (notebookId) {
      app.shell.activateById(notebookId);
      return;
    }
    copyToClipboard(code);
    Notification.info(
      trans.__(
        'No notebook is open, so the snippet was copied to the clipboard instead.'
      ),
      { autoClose: AUTO_CLOSE }
    );
  }

  async copySnippet(name: string, kind?: SnippetKind): Promise<void> {
    const code = await this.snippet(name, kind);
    if (code !== null) {
      copyToClipboard(code);
      Notification.success(
        this._ctx.trans.__('Snippet copied to the clipboard.'),
        {
          autoClose: 3000
        }
      );
    }
  }

  async showLogs(name: string): Promise<LogsWidget | null> {
    const { app, trans, logs } = this._ctx;
    if (!(await this._existing(name))) {
      return null; // gone: a restored layout does not bring its tabs back
    }
    let widget = logs.find(w => w.cluster === name) ?? null;
    if (!widget) {
      widget = new LogsWidget({
        cluster: name,
        trans,
        // A cluster's log view offers scheduler and workers only ('job' is a job's runner).
        load: (component, tail) =>
          getLogs(name, component === 'job' ? 'scheduler' : component, tail)
      });
      void logs.add(widget);
    }
    if (!widget.isAttached) {
      app.shell.add(widget, 'main', { mode: 'split-bottom' });
    }
    app.shell.activateById(widget.id);
    return widget;
  }

  async deleteCluster(name: string): Promise<boolean> {
    const { model, trans, settings } = this._ctx;
    if (settings().confirmDelete) {
      const result = await showDialog({
        title: trans.__('Delete GPU cluster?'),
        body: trans.__(
          'Delete %1? Its scheduler and workers stop, and data held in their memory is lost.',
          name
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Delete') })
        ],
        checkbox: {
          label: trans.__('Do not ask again'),
          caption: trans.__(
            'Delete clusters without this question (Settings can bring it back)'
          )
        },
        defaultButton: 0
      });
      if (!result.button.accept) {
        return false;
      }
      if (result.isChecked) {
        await this._ctx.saveSetting('confirmDelete', false);
      }
    }
    try {
      await model.remove(name);
      return true;
    } catch (error) {
      Notification.error(
        trans.__('%1 was not deleted: %2', name, describeError(error, trans)),
        { autoClose: AUTO_CLOSE }
      );
      return false;
    }
  }

  /** '' when the server took it, else the reason, for the card to show. */
  async scale(name: string, workers: number): Promise<string> {
    try {
      await this._ctx.model.scale(name, workers);
      return '';
    } catch (error) {
      return this._ctx.trans.__(
        'Not scaled to %1: %2',
        workers,
        describeError(error, this._ctx.trans)
      );
    }
  }

  async adapt(name: string, adapt: IAdapt | null): Promise<string> {
    try {
      await this._ctx.model.adapt(name, adapt);
      return '';
    } catch (error) {
      return describeError(error, this._ctx.trans);
    }
  }
}
