/**
 * The extension's commands (palette, context menu on cards, toolbar, card menus).
 * A command that concerns a cluster takes `name`; without it, the card under the context
 * menu or the focused card is used, else the user picks one.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  copyIcon,
  deleteIcon,
  listIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Menu } from '@lumino/widgets';

import { ClusterActionRunner, pageLabel } from './actions';
import { addPlotItems } from './plotMenu';
import { dashboardUrl, getTimeline } from './api';
import { gpuClustersIcon } from './icons';
import { ClusterListModel } from './model';
import { snippetKinds } from './snippets';
import { CommandIDs, IClusterActions, SnippetKind } from './tokens';

/** The dask-labextension command that sets its dashboard URL. */
export const DASK_POPULATE_URL = 'dask:populate-dashboard-url';
/** The id of dask-labextension's sidebar. */
const DASK_SIDEBAR = 'dask-dashboard-launcher';

function snippetLabel(kind: SnippetKind, trans: TranslationBundle): string {
  switch (kind) {
    case 'kubecluster':
      return trans.__('KubeCluster.from_name (attach)');
    case 'cudf':
      return trans.__('dask-cuDF ETL starter');
    default:
      return trans.__('Client (connect)');
  }
}

export function registerCommands(
  app: JupyterFrontEnd,
  model: ClusterListModel,
  runner: ClusterActionRunner,
  trans: TranslationBundle,
  showPanel: () => void,
  palette: ICommandPalette | null
): IClusterActions {
  const { commands } = app;

  /** The cluster a command is about. */
  const target = async (
    args: ReadonlyPartialJSONObject
  ): Promise<string | null> => {
    if (typeof args.name === 'string') {
      return args.name;
    }
    // The palette passes isPalette; JupyterLab keeps the last context-menu event, which
    // must not decide for a command run from the palette later.
    const fromMenu = args.isPalette
      ? undefined
      : app.contextMenuHitTest(node => !!node.dataset.clusterName);
    const hit =
      fromMenu ??
      (document.activeElement?.closest(
        '[data-cluster-name]'
      ) as HTMLElement | null);
    if (hit?.dataset.clusterName) {
      return hit.dataset.clusterName;
    }
    const names = model.clusters.map(c => c.name);
    if (names.length <= 1) {
      return names[0] ?? null;
    }
    const choice = await InputDialog.getItem({
      title: trans.__('Which GPU cluster?'),
      items: names,
      okLabel: trans.__('Choose')
    });
    return choice.button.accept ? choice.value : null;
  };

  const named = (args: ReadonlyPartialJSONObject) =>
    typeof args.name === 'string' ? args.name : '';

  commands.addCommand(CommandIDs.newCluster, {
    label: args => (args.toolbar ? '' : trans.__('New GPU cluster')),
    caption: trans.__(
      'Create a GPU Dask cluster: choose its workers, GPUs and resources'
    ),
    icon: args => (args.toolbar ? addIcon : undefined),
    execute: () => runner.newCluster()
  });
  commands.addCommand(CommandIDs.openPanel, {
    label: trans.__('Show GPU clusters'),
    icon: args => (args.isPalette ? undefined : gpuClustersIcon),
    execute: () => showPanel()
  });
  commands.addCommand(CommandIDs.refresh, {
    label: args => (args.toolbar ? '' : trans.__('Refresh GPU clusters')),
    caption: trans.__('Reload the environment and the list of clusters'),
    icon: args => (args.toolbar ? refreshIcon : undefined),
    execute: () => model.refresh()
  });
  commands.addCommand(CommandIDs.openDashboard, {
    label: args => {
      const page = (args.page as string) || 'status';
      const title = (args.title as string) || pageLabel(page, trans);
      return args.menu
        ? title
        : trans.__('Open GPU cluster dashboard (%1)', title);
    },
    caption: trans.__('Open the Dask dashboard of a cluster in a tab'),
    execute: async args => {
      const name = await target(args);
      if (name) {
        return runner.openDashboard(
          name,
          (args.page as string) || 'status',
          (args.title as string) || undefined
        );
      }
    }
  });
  commands.addCommand(CommandIDs.openDashboardUrl, {
    label: trans.__('Open GPU cluster dashboard URL…'),
    caption: trans.__(
      'Open a dashboard link of a cluster (for example from a Client) in a tab'
    ),
    execute: async args => {
      let url = args.url as string | undefined;
      if (typeof url !== 'string') {
        const answer = await InputDialog.getText({
          title: trans.__('Dashboard URL'),
          placeholder: 'http://…/rapids-kf/clusters/NAME/dashboard/status',
          okLabel: trans.__('Open')
        });
        if (!answer.button.accept || !answer.value) {
          return;
        }
        url = answer.value;
      }
      return runner.openPastedDashboard(url);
    }
  });
  commands.addCommand(CommandIDs.insertSnippet, {
    label: args =>
      args.kind
        ? trans.__('Insert %1', snippetLabel(args.kind as SnippetKind, trans))
        : trans.__('Insert GPU cluster snippet'),
    caption: trans.__(
      'Insert code for a cluster below the active notebook cell'
    ),
    execute: async args => {
      const name = await target(args);
      if (name) {
        await runner.insertSnippet(name, args.kind as SnippetKind | undefined);
      }
    }
  });
  commands.addCommand(CommandIDs.copySnippet, {
    label: args =>
      args.kind
        ? trans.__('Copy %1', snippetLabel(args.kind as SnippetKind, trans))
        : trans.__('Copy GPU cluster snippet'),
    icon: copyIcon,
    execute: async args => {
      const name = await target(args);
      if (name) {
        await runner.copySnippet(name, args.kind as SnippetKind | undefined);
      }
    }
  });
  commands.addCommand(CommandIDs.showLogs, {
    label: trans.__('Show GPU cluster logs'),
    icon: listIcon,
    execute: async args => {
      const name = await target(args);
      if (name) {
        return runner.showLogs(name);
      }
    }
  });
  commands.addCommand(CommandIDs.deleteCluster, {
    label: args =>
      named(args)
        ? trans.__('Delete %1', named(args))
        : trans.__('Delete GPU cluster'),
    icon: deleteIcon,
    execute: async args => {
      const name = await target(args);
      if (name) {
        return runner.deleteCluster(name);
      }
    }
  });
  commands.addCommand(CommandIDs.scaleCluster, {
    label: trans.__('Scale GPU cluster…'),
    execute: async args => {
      const name = await target(args);
      const cluster = name ? model.find(name) : undefined;
      if (!name || !cluster) {
        return;
      }
      let workers = args.workers as number | undefined;
      if (typeof workers !== 'number') {
        const answer = await InputDialog.getNumber({
          title: trans.__('Workers of %1', name),
          value: cluster.workers.desired
        });
        if (!answer.button.accept || answer.value === null) {
          return;
        }
        workers = answer.value;
      }
      return runner.scale(name, workers);
    }
  });
  commands.addCommand(CommandIDs.useInDaskExtension, {
    label: trans.__('Show in the Dask sidebar'),
    caption: trans.__(
      "Point dask-labextension's dashboard panel at this cluster"
    ),
    isVisible: () => commands.hasCommand(DASK_POPULATE_URL),
    execute: async args => {
      const name = await target(args);
      const cluster = name ? model.find(name) : undefined;
      if (cluster && commands.hasCommand(DASK_POPULATE_URL)) {
        // dask-labextension checks the URL from the server side, without the browser's
        // cookies: a token-protected server needs the token in the URL.
        const url = new URL(
          dashboardUrl(cluster, '') + '/',
          window.location.href
        );
        const token = (app.serviceManager.serverSettings.token as string) || '';
        if (token) {
          url.searchParams.set('token', token);
        }
        await commands.execute(DASK_POPULATE_URL, { url: url.toString() });
        app.shell.activateById(DASK_SIDEBAR);
      }
    }
  });

  if (palette) {
    const category = trans.__('GPU clusters');
    for (const command of [
      CommandIDs.newCluster,
      CommandIDs.openPanel,
      CommandIDs.refresh,
      CommandIDs.openDashboard,
      CommandIDs.openDashboardUrl,
      CommandIDs.insertSnippet,
      CommandIDs.copySnippet,
      CommandIDs.showLogs,
      CommandIDs.scaleCluster,
      CommandIDs.deleteCluster
    ]) {
      palette.addItem({ command, category });
    }
  }

  const openMenu = (menu: Menu, anchor: HTMLElement) => {
    const box = anchor.getBoundingClientRect();
    menu.aboutToClose.connect(() => setTimeout(() => menu.dispose(), 0));
    menu.open(box.left, box.bottom, { forceY: false });
    menu.activeIndex = 0;
  };

  return {
    newCluster: () => void commands.execute(CommandIDs.newCluster),
    openDashboard: (name, page) =>
      void commands.execute(CommandIDs.openDashboard, {
        name,
        page: page ?? 'status'
      }),
    openDashboardMenu: async (name, anchor) => {
      const menu = new Menu({ commands });
      menu.addClass('jp-RapidsKF-menu');
      addPlotItems(menu, name, await runner.plots(name));
      if (commands.hasCommand(DASK_POPULATE_URL)) {
        menu.addItem({ type: 'separator' });
        menu.addItem({
          command: CommandIDs.useInDaskExtension,
          args: { name }
        });
      }
      openMenu(menu, anchor);
    },
    insertSnippet: name =>
      void commands.execute(CommandIDs.insertSnippet, { name }),
    openSnippetMenu: (name, anchor) => {
      const menu = new Menu({ commands });
      menu.addClass('jp-RapidsKF-menu');
      const kinds = snippetKinds(model.find(name));
      for (const kind of kinds) {
        menu.addItem({
          command: CommandIDs.insertSnippet,
          args: { name, kind }
        });
      }
      menu.addItem({ type: 'separator' });
      for (const kind of kinds) {
        menu.addItem({ command: CommandIDs.copySnippet, args: { name, kind } });
      }
      openMenu(menu, anchor);
    },
    showLogs: name => void commands.execute(CommandIDs.showLogs, { name }),
    deleteCluster: name =>
      void commands.execute(CommandIDs.deleteCluster, { name }),
    scale: (name, workers) => runner.scale(name, workers),
    adapt: (name, adapt) => runner.adapt(name, adapt),
    timeline: name => getTimeline(name)
  };
}
