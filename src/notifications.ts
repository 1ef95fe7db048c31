/**
 * Pop-up notifications for what happens to clusters: ready, failed, deleted.
 * JupyterLab keeps a notification silent unless `autoClose` is set, so every one sets it.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { ClusterListModel, IClusterChange } from './model';
import { CommandIDs } from './tokens';

export const AUTO_CLOSE = 6000;

export function notifyChanges(
  model: ClusterListModel,
  commands: CommandRegistry,
  trans: TranslationBundle
): void {
  const announced = new Set<string>();
  model.clusterChanged.connect((_, change: IClusterChange) => {
    const { name, before, after } = change;
    if (!before) {
      return; // a new cluster: the New GPU cluster command says so
    }
    if (!after) {
      announced.delete(name);
      Notification.info(trans.__('GPU cluster %1 was deleted.', name), {
        autoClose: AUTO_CLOSE
      });
      return;
    }
    if (after.phase === 'Failed' && before.phase !== 'Failed') {
      Notification.error(
        trans.__(
          'GPU cluster %1 failed: %2',
          name,
          after.reasons.join(' ') || trans.__('no reason was given')
        ),
        {
          autoClose: false,
          actions: [
            {
              label: trans.__('Show logs'),
              callback: () =>
                void commands.execute(CommandIDs.showLogs, { name })
            }
          ]
        }
      );
      return;
    }
    if (
      after.phase === 'Running' &&
      before.phase !== 'Running' &&
      model.createdHere(name) &&
      !announced.has(name)
    ) {
      announced.add(name);
      Notification.success(
        trans._n(
          'GPU cluster %2 is running with %1 worker.',
          'GPU cluster %2 is running with %1 workers.',
          after.workers.ready,
          name
        ),
        {
          autoClose: AUTO_CLOSE,
          actions: [
            {
              label: trans.__('Dashboard'),
              callback: () =>
                void commands.execute(CommandIDs.openDashboard, { name })
            },
            {
              label: trans.__('Insert snippet'),
              callback: () =>
                void commands.execute(CommandIDs.insertSnippet, { name })
            }
          ]
        }
      );
    }
  });
}
