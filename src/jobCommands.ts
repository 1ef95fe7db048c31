/**
 * The commands of batch runs: Run as GPU job and Export as pipeline (file browser context
 * menu, the Jobs section, the palette), job logs, the executed copy, cancel / delete.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';

import { APIError } from './api';
import { exportPipeline, getJobLogs } from './jobsApi';
import { JobListModel } from './jobsModel';
import {
  IJob,
  IJobActions,
  IJobRequest,
  isFinished,
  JobCommandIDs
} from './jobTokens';
import { ClusterListModel } from './model';
import { JobLogsWidget } from './widgets/JobLogsWidget';
import { askForJob } from './widgets/RunJobDialog';

const AUTO_CLOSE = 8000;
const RUNNABLE = /\.(ipynb|py)$/;
/** File browser items a job can run (JupyterLab marks each item with its file type; a
 * context menu selector may not contain commas, so one item per type). */
const FILE_ITEMS = [
  '.jp-DirListing-item[data-file-type="notebook"]',
  '.jp-DirListing-item[data-file-type="python"]'
];
const NOTEBOOK_ITEMS = '.jp-DirListing-item[data-file-type="notebook"]';

export interface IJobCommandsOptions {
  app: JupyterFrontEnd;
  clusters: ClusterListModel;
  jobs: JobListModel;
  trans: TranslationBundle;
  browser: IDefaultFileBrowser | null;
  notebooks: INotebookTracker | null;
  palette: ICommandPalette | null;
  showPanel: () => void;
}

function failed(trans: TranslationBundle, what: string, error: unknown): void {
  const err = error as APIError;
  Notification.error(
    trans.__('%1: %2', what, err.message) + (err.fix ? ` ${err.fix}` : ''),
    { autoClose: AUTO_CLOSE }
  );
}

export function registerJobCommands(options: IJobCommandsOptions): IJobActions {
  const { app, clusters, jobs, trans, browser, notebooks, palette } = options;
  const logs = new WidgetTracker<JobLogsWidget>({
    namespace: 'rapids-kf-job-logs'
  });

  /** The file: the args' path, else the file browser's selection, else the open notebook. */
  const target = (args: any, selection: boolean): string | null => {
    if (typeof args?.path === 'string') {
      return args.path;
    }
    if (selection && browser) {
      for (const item of browser.selectedItems()) {
        return item.path;
      }
    }
    return notebooks?.currentWidget?.context.path ?? null;
  };

  /** The form's answer; null when cancelled, or refused (the refusal is shown). */
  const ask = async (
    path: string,
    what: 'job' | 'pipeline'
  ): Promise<IJobRequest | null> => {
    const environment =
      clusters.environment ?? (await clusters.loadEnvironment());
    const request = await askForJob(path, environment, trans, what);
    if (typeof request === 'string') {
      Notification.error(request, { autoClose: AUTO_CLOSE });
      return null;
    }
    return request;
  };

  const run = async (path: string | null) => {
    if (!path || !RUNNABLE.test(path)) {
      Notification.warning(
        trans.__('Run as GPU job: choose a notebook or a .py file first'),
        { autoClose: AUTO_CLOSE }
      );
      return;
    }
    const request = await ask(path, 'job');
    if (request === null) {
      return;
    }
    try {
      const job = await jobs.create(request);
      options.showPanel();
      Notification.info(trans.__('Job %1 started for %2', job.name, job.file), {
        autoClose: AUTO_CLOSE
      });
    } catch (error) {
      failed(trans, trans.__('Run as GPU job'), error);
    }
  };

  app.commands.addCommand(JobCommandIDs.runAsJob, {
    label: trans.__('Run as GPU Job…'),
    caption: trans.__(
      'Run this notebook or .py file as a batch job on its own Dask cluster'
    ),
    execute: args => run(target(args, !args?.current))
  });

  app.commands.addCommand(JobCommandIDs.exportPipeline, {
    label: trans.__('Export as Pipeline…'),
    caption: trans.__(
      'Write a KubeFlow Pipelines YAML that runs this notebook on its own GPU cluster'
    ),
    execute: async args => {
      const path = target(args, !args?.current);
      if (!path || !path.endsWith('.ipynb')) {
        Notification.warning(
          trans.__('Export as pipeline: choose a notebook'),
          {
            autoClose: AUTO_CLOSE
          }
        );
        return;
      }
      const request = await ask(path, 'pipeline');
      if (request === null) {
        return;
      }
      try {
        const exported = await exportPipeline(request);
        // The server wrote the file: show it now, not at the browser's next poll.
        void browser?.model.refresh();
        Notification.success(
          trans.__(
            'Pipeline written to %1: upload it to KubeFlow Pipelines',
            exported.path
          ),
          { autoClose: AUTO_CLOSE }
        );
      } catch (error) {
        failed(trans, trans.__('Export as pipeline'), error);
      }
    }
  });

  app.commands.addCommand(JobCommandIDs.showJobLogs, {
    label: trans.__('Show Job Log'),
    execute: args => {
      const name = String(args.name);
      const id = `jp-RapidsKF-job-logs-${name}`;
      const open = logs.find(w => w.id === id);
      if (open) {
        app.shell.activateById(id);
        return;
      }
      const widget = new JobLogsWidget({
        job: name,
        trans,
        load: tail => getJobLogs(name, tail)
      });
      void logs.add(widget);
      app.shell.add(widget, 'main');
    }
  });

  app.commands.addCommand(JobCommandIDs.openJobOutput, {
    label: trans.__('Open Executed Copy'),
    execute: args =>
      app.commands.execute('docmanager:open', { path: String(args.path) })
  });

  app.commands.addCommand(JobCommandIDs.cancelJob, {
    label: trans.__('Cancel or Delete Job'),
    execute: async args => {
      try {
        await jobs.remove(String(args.name));
      } catch (error) {
        failed(trans, trans.__('Job %1', String(args.name)), error);
      }
    }
  });

  for (const selector of FILE_ITEMS) {
    app.contextMenu.addItem({
      command: JobCommandIDs.runAsJob,
      selector,
      rank: 20
    });
  }
  app.contextMenu.addItem({
    command: JobCommandIDs.exportPipeline,
    selector: NOTEBOOK_ITEMS,
    rank: 21
  });
  for (const command of [
    JobCommandIDs.runAsJob,
    JobCommandIDs.exportPipeline
  ]) {
    palette?.addItem({
      command,
      category: trans.__('GPU clusters'),
      args: { current: true }
    });
  }

  return {
    runCurrentNotebook: () =>
      void app.commands.execute(JobCommandIDs.runAsJob, { current: true }),
    showLogs: name =>
      void app.commands.execute(JobCommandIDs.showJobLogs, { name }),
    openOutput: path =>
      void app.commands.execute(JobCommandIDs.openJobOutput, { path }),
    remove: (job: IJob) =>
      void app.commands.execute(JobCommandIDs.cancelJob, {
        name: job.name,
        finished: isFinished(job)
      })
  };
}
