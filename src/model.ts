/**
 * The state behind the sidebar: the environment, the clusters (kept live by ClusterFeed),
 * the scale changes a user asked for that are not visible yet, and whether anyone is
 * looking (the feed stands by while the panel is hidden and nothing is awaited).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { defaultAPI, IClusterAPI } from './api';
import { ClusterFeed, FeedStatus, IFeedOptions } from './feed';
import { IAdapt, ICluster, IClusterRequest, IEnvironment } from './tokens';

export { IClusterAPI } from './api';

/** A change of one cluster; `before` null: new, `after` null: gone. */
export interface IClusterChange {
  name: string;
  before: ICluster | null;
  after: ICluster | null;
}

/** A scale the user asked for, shown until the workers exist. */
export interface IPendingScale {
  workers: number;
  /** True while the PATCH is in flight. */
  sending: boolean;
  /** True once the server reported this size as desired. */
  acknowledged: boolean;
}

/** Why a watch keeps the feed awake while the panel is hidden. */
type WatchReason = 'create' | 'delete' | 'scale';

export class ClusterListModel implements IDisposable {
  constructor(options: ClusterListModel.IOptions = {}) {
    this._api = options.api ?? defaultAPI;
    this._standbyDelay = options.standbyDelay ?? 10000;
    this._watchLimit = options.watchLimit ?? 10 * 60 * 1000;
    this._feed = new ClusterFeed({
      ...options.feed,
      openStream: signal => this._api.openEvents(signal),
      listClusters: () => this._api.listClusters(),
      onSnapshot: clusters => this._replace(clusters),
      onCluster: cluster => this._upsert(cluster),
      onDeleted: name => this._remove(name),
      onOther: (event, data) => this._serverEvent.emit({ event, data }),
      onStatus: (status, detail) => {
        this._statusDetail = detail;
        this._changed.emit();
        this._statusChanged.emit(status);
      }
    });
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get clusterChanged(): ISignal<this, IClusterChange> {
    return this._clusterChanged;
  }
  get statusChanged(): ISignal<this, FeedStatus> {
    return this._statusChanged;
  }
  /** Events of the stream that are not about clusters (the jobs model listens). */
  get serverEvent(): ISignal<this, { event: string; data: any }> {
    return this._serverEvent;
  }

  /** The clusters, sorted by name. */
  get clusters(): ReadonlyArray<ICluster> {
    return [...this._clusters.values()].sort((a, b) =>
      a.name.localeCompare(b.name)
    );
  }
  get environment(): IEnvironment | null {
    return this._environment;
  }
  get environmentError(): string {
    return this._environmentError;
  }
  /** The connection as the panel shows it; `stopped` while standing by. */
  get status(): FeedStatus {
    return this._feed.status;
  }
  get statusDetail(): string {
    return this._statusDetail;
  }
  /** True once the first list arrived. */
  get loaded(): boolean {
    return this._loaded;
  }
  get isDisposed(): boolean {
    return this._disposed;
  }

  find(name: string): ICluster | undefined {
    return this._clusters.get(name);
  }

  pending(name: string): IPendingScale | null {
    return this._pending.get(name) ?? null;
  }

  /** The clusters this browser tab created, so it can say when they are ready. */
  createdHere(name: string): boolean {
    return this._createdHere.has(name);
  }

  /** The panel tells the model whether it is shown. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    this._updateAwake();
  }

  /** Settings changed: poll this often (ms) while the stream is unavailable. */
  setPollInterval(ms: number): void {
    this._feed.pollInterval = ms;
  }

  /** The environment, when it was read elsewhere (the version handshake). */
  setEnvironment(environment: IEnvironment): void {
    this._environment = environment;
    this._environmentError = '';
    this._changed.emit();
  }

  async loadEnvironment(): Promise<IEnvironment | null> {
    try {
      this._environment = await this._api.getEnvironment();
      this._environmentError = '';
    } catch (error) {
      this._environmentError = (error as Error).message;
    }
    this._changed.emit();
    return this._environment;
  }

  /** Reload the environment and the list now (the toolbar's refresh). */
  async refresh(): Promise<void> {
    const [, clusters] = await Promise.all([
      this.loadEnvironment(),
      this._api.listClusters()
    ]);
    this._replace(clusters);
  }

  /** Reload the list only (the idle-GPU warning, while the feed stands by). */
  async reloadClusters(): Promise<void> {
    this._replace(await this._api.listClusters());
  }

  /** Create a cluster; rejects with the APIError so the form can show it. */
  async create(request: IClusterRequest): Promise<ICluster> {
    const cluster = await this._api.createCluster(request);
    this._createdHere.add(cluster.name);
    this._watch(cluster.name, 'create');
    this._apply(cluster);
    return cluster;
  }

  /**
   * Scale to `workers`. The request shows as pending until that many workers are ready;
   * when the server refuses, the pending value is dropped (so the slider goes back) and
   * the error is thrown for the caller to show.
   */
  async scale(name: string, workers: number): Promise<ICluster> {
    this._pending.set(name, { workers, sending: true, acknowledged: false });
    this._watch(name, 'scale');
    this._changed.emit();
    const asked = this._removals;
    try {
      const cluster = await this._api.scaleCluster(name, workers);
      if (this._goneSince(name, asked)) {
        return cluster; // _remove already dropped its pending scale and watches, and emitted
      }
      const pending = this._pending.get(name);
      if (pending?.workers === workers) {
        pending.sending = false;
        pending.acknowledged = cluster.workers.desired === workers;
        if (!pending.acknowledged) {
          this._pending.delete(name); // the server chose another size: show that
          this._unwatch(name, 'scale');
        }
      }
      this._apply(cluster);
      this._settle(cluster); // the answer is at least as new as what the stream said so far
      this._changed.emit();
      return cluster;
    } catch (error) {
      if (this._pending.get(name)?.workers === workers) {
        this._pending.delete(name);
        this._unwatch(name, 'scale');
      }
      this._changed.emit();
      throw error;
    }
  }

  async adapt(name: string, adapt: IAdapt | null): Promise<ICluster> {
    const asked = this._removals;
    const cluster = await this._api.adaptCluster(name, adapt);
    this._pending.delete(name); // the scheduler decides the size now
    this._apply(cluster, asked);
    return cluster;
  }

  async remove(name: string): Promise<ICluster> {
    const asked = this._removals;
    const cluster = await this._api.deleteCluster(name);
    if (!this._goneSince(name, asked)) {
      this._watch(name, 'delete');
    }
    this._apply(cluster, asked);
    return cluster;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._feed.stop();
    for (const timer of [this._standbyTimer, this._expiryTimer]) {
      if (timer !== null) {
        clearTimeout(timer);
      }
    }
    Signal.clearData(this);
  }

  /**
   * An answer to our own request. While the stream is live it already carries (or will
   * carry) this state, possibly newer, so only a cluster we do not know yet is taken.
   * `asked` (the removal count when the request was sent): a cluster the stream or a list
   * removed since then is gone, whatever the older answer says (a DELETE's answer saying
   * Deleting often arrives after the stream's `deleted`: the operator was quicker).
   */
  private _apply(cluster: ICluster, asked?: number): void {
    if (asked !== undefined && this._goneSince(cluster.name, asked)) {
      return;
    }
    if (this._feed.status !== 'live' || !this._clusters.has(cluster.name)) {
      this._upsert(cluster);
    }
  }

  /** Whether the stream (or a list) removed `name` after the removal count `asked`. */
  private _goneSince(name: string, asked: number): boolean {
    return (this._removedAt.get(name) ?? -1) > asked;
  }

  private _replace(clusters: ICluster[]): void {
    const names = new Set(clusters.map(c => c.name));
    for (const name of [...this._clusters.keys()]) {
      if (!names.has(name)) {
        this._remove(name, false);
      }
    }
    for (const cluster of clusters) {
      this._upsert(cluster, false);
    }
    this._loaded = true;
    this._changed.emit();
  }

  private _upsert(cluster: ICluster, emit = true): void {
    this._removedAt.delete(cluster.name); // it exists again: newer than the removal
    const before = this._clusters.get(cluster.name) ?? null;
    this._clusters.set(cluster.name, cluster);
    this._settle(cluster);
    if (JSON.stringify(before) !== JSON.stringify(cluster)) {
      this._clusterChanged.emit({ name: cluster.name, before, after: cluster });
    }
    if (emit) {
      this._changed.emit();
    }
  }

  private _remove(name: string, emit = true): void {
    this._removedAt.set(name, ++this._removals);
    const before = this._clusters.get(name) ?? null;
    this._clusters.delete(name);
    this._pending.delete(name);
    this._watches.delete(name);
    this._updateAwake();
    if (before) {
      this._clusterChanged.emit({ name, before, after: null });
    }
    if (emit) {
      this._changed.emit();
    }
  }

  /**
   * Drop a pending scale once its workers are ready, or once the server had taken it and
   * the size changed again (someone else scaled, or the scheduler adapts).
   */
  private _settle(cluster: ICluster): void {
    const pending = this._pending.get(cluster.name);
    if (pending && !pending.sending) {
      const { desired, ready } = cluster.workers;
      if (desired === pending.workers) {
        pending.acknowledged = true;
      }
      if (
        (desired === pending.workers && ready === pending.workers) ||
        (desired !== pending.workers && pending.acknowledged)
      ) {
        this._pending.delete(cluster.name);
        this._unwatch(cluster.name, 'scale');
      }
    }
    const reasons = this._watches.get(cluster.name);
    if (
      reasons?.has('create') &&
      ['Running', 'Failed'].includes(cluster.phase)
    ) {
      this._unwatch(cluster.name, 'create');
    }
  }

  private _watch(name: string, reason: WatchReason): void {
    const reasons = this._watches.get(name) ?? new Map();
    reasons.set(reason, Date.now());
    this._watches.set(name, reasons);
    this._updateAwake();
  }

  private _unwatch(name: string, reason: WatchReason): void {
    const reasons = this._watches.get(name);
    if (reasons?.delete(reason) && reasons.size === 0) {
      this._watches.delete(name);
    }
    this._updateAwake();
  }

  /** True while someone looks at the panel or waits for the outcome of an action. */
  private _awake(): boolean {
    const now = Date.now();
    for (const [name, reasons] of this._watches) {
      for (const [reason, since] of reasons) {
        if (now - since > this._watchLimit) {
          reasons.delete(reason); // never stay awake forever for an outcome
        }
      }
      if (reasons.size === 0) {
        this._watches.delete(name);
      }
    }
    return this._visible || this._watches.size > 0;
  }

  private _updateAwake(): void {
    if (this._disposed) {
      return;
    }
    if (this._expiryTimer !== null) {
      clearTimeout(this._expiryTimer);
      this._expiryTimer = null;
    }
    if (this._awake()) {
      if (this._standbyTimer !== null) {
        clearTimeout(this._standbyTimer);
        this._standbyTimer = null;
      }
      this._feed.start();
      if (!this._visible) {
        // Awake only for awaited outcomes: look again when the oldest one expires.
        let oldest = Infinity;
        for (const reasons of this._watches.values()) {
          for (const since of reasons.values()) {
            oldest = Math.min(oldest, since);
          }
        }
        this._expiryTimer = setTimeout(
          () => {
            this._expiryTimer = null;
            this._updateAwake();
          },
          Math.max(0, oldest + this._watchLimit - Date.now()) + 1
        );
      }
    } else if (this._feed.running && this._standbyTimer === null) {
      // A short grace keeps the stream when the user only glances at another panel.
      this._standbyTimer = setTimeout(() => {
        this._standbyTimer = null;
        if (!this._awake()) {
          this._feed.stop();
        }
      }, this._standbyDelay);
    }
  }

  private _api: IClusterAPI;
  private _feed: ClusterFeed;
  private _clusters = new Map<string, ICluster>();
  private _pending = new Map<string, IPendingScale>();
  private _watches = new Map<string, Map<WatchReason, number>>();
  private _createdHere = new Set<string>();
  // Removals by the stream or a list, counted, and the count at each name's last one.
  private _removals = 0;
  private _removedAt = new Map<string, number>();
  private _environment: IEnvironment | null = null;
  private _environmentError = '';
  private _statusDetail = '';
  private _loaded = false;
  private _visible = false;
  private _disposed = false;
  private _standbyDelay: number;
  private _watchLimit: number;
  private _standbyTimer: ReturnType<typeof setTimeout> | null = null;
  private _expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private _changed = new Signal<this, void>(this);
  private _clusterChanged = new Signal<this, IClusterChange>(this);
  private _statusChanged = new Signal<this, FeedStatus>(this);
  private _serverEvent = new Signal<this, { event: string; data: any }>(this);
}

export namespace ClusterListModel {
  export interface IOptions {
    api?: IClusterAPI;
    /** Feed tuning (backoff, polling interval, stall timeout). */
    feed?: Partial<
      Omit<
        IFeedOptions,
        | 'openStream'
        | 'listClusters'
        | 'onSnapshot'
        | 'onCluster'
        | 'onDeleted'
        | 'onStatus'
      >
    >;
    /** How long the stream stays open after the panel was hidden, ms. */
    standbyDelay?: number;
    /** The longest an awaited outcome keeps the stream open while hidden, ms. */
    watchLimit?: number;
  }
}
