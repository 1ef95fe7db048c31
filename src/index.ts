/**
 * The JupyterLab plugin: wires the model, the sidebar, the commands, the tab trackers,
 * the settings and the notifications together. The logic lives in the modules.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ClusterActionRunner } from './actions';
import { registerCommands } from './commands';
import { checkServer, FRONTEND_VERSION } from './handshake';
import { registerJobCommands } from './jobCommands';
import { JobListModel } from './jobsModel';
import { ClusterListModel } from './model';
import { IdleGpuWarnings } from './idleGpus';
import { notifyChanges } from './notifications';
import { CommandIDs, DEFAULT_SETTINGS, ISettings } from './tokens';
import { ClusterSidePanel } from './widgets/ClusterSidePanel';
import { DashboardWidget } from './widgets/DashboardWidget';
import { jobsSection } from './widgets/JobsSection';
import { LogsWidget } from './widgets/LogsWidget';

export { checkServer } from './handshake';

const PLUGIN_ID = 'jupyter-rapids-kf:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'GPU Dask clusters (RAPIDS) for KubeFlow notebooks.',
  autoStart: true,
  optional: [
    ITranslator,
    ILayoutRestorer,
    ICommandPalette,
    INotebookTracker,
    ISettingRegistry,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_rapids_kf');
    let settings: ISettings = { ...DEFAULT_SETTINGS };
    let stored: ISettingRegistry.ISettings | null = null;

    const model = new ClusterListModel({
      feed: { pollInterval: settings.pollInterval }
    });
    const dashboards = new WidgetTracker<DashboardWidget>({
      namespace: 'rapids-kf-dashboard'
    });
    const logs = new WidgetTracker<LogsWidget>({ namespace: 'rapids-kf-logs' });
    const showPanel = () => app.shell.activateById(ClusterSidePanel.ID);
    const runner = new ClusterActionRunner({
      app,
      model,
      trans,
      notebooks,
      dashboards,
      logs,
      settings: () => settings,
      saveSetting: async (key, value) => {
        await stored?.set(key, value as any);
      },
      showPanel
    });
    const actions = registerCommands(
      app,
      model,
      runner,
      trans,
      showPanel,
      palette
    );
    const panel = new ClusterSidePanel({
      model,
      actions,
      commands: app.commands,
      trans
    });
    const jobs = new JobListModel({ events: model });
    const jobActions = registerJobCommands({
      app,
      clusters: model,
      jobs,
      trans,
      browser,
      notebooks,
      palette,
      showPanel
    });
    panel.addWidget(jobsSection({ model: jobs, actions: jobActions, trans }));
    app.shell.add(panel, 'left', { rank: 250 });

    if (restorer) {
      restorer.add(panel, 'rapids-kf-sidebar');
      void restorer.restore(dashboards, {
        command: CommandIDs.openDashboard,
        args: widget => ({
          name: widget.cluster,
          page: widget.page,
          title: widget.plotTitle
        }),
        name: widget => `${widget.cluster}/${widget.page}`
      });
      void restorer.restore(logs, {
        command: CommandIDs.showLogs,
        args: widget => ({ name: widget.cluster }),
        name: widget => widget.cluster
      });
    }

    notifyChanges(model, app.commands, trans);
    new IdleGpuWarnings({ model, trans });
    model.clusterChanged.connect((_, change) => {
      if (change.after === null && settings.closeDashboardsOnDelete) {
        runner.closeTabs(change.name);
      }
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          stored = loaded;
          const update = () => {
            settings = { ...DEFAULT_SETTINGS, ...(loaded.composite as any) };
            model.setPollInterval(settings.pollInterval);
          };
          update();
          loaded.changed.connect(update);
        })
        .catch(reason =>
          console.warn('rapids-kf: settings not loaded', reason)
        );
    }

    void checkServer(translator ?? nullTranslator).then(environment => {
      if (environment) {
        model.setEnvironment(environment);
        console.log(
          `jupyter-rapids-kf ${FRONTEND_VERSION}: ${environment.backend} backend, namespace ${environment.namespace}`
        );
      }
    });
  }
};

export default plugin;
