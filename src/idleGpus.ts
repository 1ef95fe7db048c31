/**
 * The idle-GPU warning: when a cluster's GPUs have been under 5% busy for 10 minutes (the
 * server's idle_below and idle_after), a JupyterLab notification offers Delete or Scale to 0
 * in one click. One warning per idle stretch; it goes away when the GPUs work again, are
 * let go, or the cluster is deleted. While the sidebar is hidden its feed stands by, so the
 * list is read once a tick (only while some cluster holds GPUs): no warning from stale data.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { describeError } from './actions';
import { formatDuration } from './components/Lifetime';
import { formatHours, gpuHoursNow, idleSeconds } from './gpuHours';
import { ClusterListModel } from './model';
import { AUTO_CLOSE } from './notifications';

/** What the warning's buttons do; the model's own calls by default. */
export interface IIdleActions {
  remove(name: string): Promise<unknown>;
  scaleToZero(name: string): Promise<unknown>;
}

export class IdleGpuWarnings {
  constructor(options: {
    model: ClusterListModel;
    trans: TranslationBundle;
    actions?: IIdleActions;
    /** How often idle times are looked at between server events, ms. */
    tick?: number;
    now?: () => number;
  }) {
    this._model = options.model;
    this._trans = options.trans;
    this._now = options.now ?? Date.now;
    this._actions = options.actions ?? modelActions(options.model);
    this._model.changed.connect(this.check, this);
    this._timer = setInterval(() => void this.tick(), options.tick ?? 60000);
  }

  /** Read the list if the feed stands by, then check. */
  async tick(): Promise<void> {
    if (!this._fresh()) {
      const holding = this._model.clusters.some(
        cluster => (cluster.gpu_hours?.gpus_held ?? 0) > 0
      );
      if (!holding) {
        return;
      }
      try {
        await this._model.reloadClusters(); // emits changed: check runs
        this._reloaded = this._now();
      } catch {
        return; // the server does not answer: nothing new to warn about
      }
    }
    this.check();
  }

  dispose(): void {
    clearInterval(this._timer);
    this._model.changed.disconnect(this.check, this);
  }

  /** Warn about clusters idle long enough; take back warnings that no longer hold. */
  check(): void {
    const now = this._now();
    if (!this._fresh()) {
      return;
    }
    const idle = new Set<string>();
    for (const cluster of this._model.clusters) {
      const hours = cluster.gpu_hours;
      const seconds = hours ? idleSeconds(hours, now) : null;
      if (!hours || seconds === null || cluster.phase === 'Deleting') {
        continue;
      }
      const key = `${cluster.name}@${hours.idle_since}`;
      if (seconds >= hours.idle_after) {
        idle.add(key);
        if (!this._shown.has(key)) {
          this._shown.set(key, this._warn(cluster.name, seconds, now));
        }
      } else if (this._shown.has(key)) {
        idle.add(key); // the same stretch, still idle
      }
    }
    for (const [key, id] of this._shown) {
      if (!idle.has(key)) {
        Notification.dismiss(id);
        this._shown.delete(key);
      }
    }
  }

  /** The clusters are as the server says now: the feed delivers, or the list was just read. */
  private _fresh(): boolean {
    const status = this._model.status;
    return (
      status === 'live' ||
      status === 'polling' ||
      this._now() - this._reloaded < 5000
    );
  }

  private _warn(name: string, seconds: number, now: number): string {
    const trans = this._trans;
    const cluster = this._model.find(name)!;
    const hours = cluster.gpu_hours!;
    const held = gpuHoursNow(hours, now).held;
    return Notification.warning(
      trans._n(
        // Short: JupyterLab cuts a toast's text at 140 characters; the buttons say the rest.
        'GPU cluster %2: %1 GPU under %3% busy for %4 (%5 GPU-hours held).',
        'GPU cluster %2: %1 GPUs under %3% busy for %4 (%5 GPU-hours held).',
        hours.gpus_held,
        name,
        hours.idle_below,
        formatDuration(seconds, trans, true),
        formatHours(held)
      ),
      {
        autoClose: false,
        actions: [
          {
            label: trans.__('Delete'),
            displayType: 'warn',
            callback: () => void this._run(name, this._actions.remove)
          },
          {
            label: trans.__('Scale to 0'),
            callback: () => void this._run(name, this._actions.scaleToZero)
          }
        ]
      }
    );
  }

  private async _run(
    name: string,
    action: (name: string) => Promise<unknown>
  ): Promise<void> {
    try {
      await action(name);
    } catch (error) {
      Notification.error(
        this._trans.__(
          '%1 was not changed: %2',
          name,
          describeError(error, this._trans)
        ),
        { autoClose: AUTO_CLOSE }
      );
    }
  }

  private _model: ClusterListModel;
  private _trans: TranslationBundle;
  private _now: () => number;
  private _actions: IIdleActions;
  private _timer: ReturnType<typeof setInterval>;
  private _reloaded = -Infinity;
  /** `name@idle_since` -> the notification's id. */
  private _shown = new Map<string, string>();
}

/** Delete, or scale to 0 workers (adaptive scaling off first, or it would scale back up). */
export function modelActions(model: ClusterListModel): IIdleActions {
  return {
    remove: name => model.remove(name),
    scaleToZero: async name => {
      if (model.find(name)?.adapt) {
        await model.adapt(name, null);
      }
      return model.scale(name, 0);
    }
  };
}
