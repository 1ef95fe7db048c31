/**
 * The Jobs list: listed once, then kept live by `job` / `job-deleted` events of the cluster
 * event stream (relisted when the stream reconnects, since events may have been missed).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { defaultJobsAPI, IJobsAPI } from './jobsApi';
import { IJob, IJobRequest } from './jobTokens';

/** The part of ClusterListModel the jobs follow. */
export interface IEventSource {
  serverEvent: ISignal<any, { event: string; data: any }>;
  statusChanged: ISignal<any, string>;
}

export class JobListModel implements IDisposable {
  constructor(options: { events?: IEventSource; api?: IJobsAPI } = {}) {
    this._api = options.api ?? defaultJobsAPI;
    this._events = options.events ?? null;
    this._events?.serverEvent.connect(this._onEvent, this);
    this._events?.statusChanged.connect(this._onStatus, this);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Newest first. */
  get jobs(): ReadonlyArray<IJob> {
    return [...this._jobs.values()].sort((a, b) =>
      b.created.localeCompare(a.created)
    );
  }

  /** Why the list could not be read ('' when it could). */
  get error(): string {
    return this._error;
  }

  async refresh(): Promise<void> {
    try {
      const jobs = await this._api.listJobs();
      this._jobs = new Map(jobs.map(j => [j.name, j]));
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
  }

  async create(request: IJobRequest): Promise<IJob> {
    const job = await this._api.createJob(request);
    this._jobs.set(job.name, job);
    this._changed.emit();
    return job;
  }

  async remove(name: string): Promise<void> {
    const job = await this._api.deleteJob(name);
    if (this._jobs.has(name)) {
      this._jobs.set(name, job); // Deleting, until the job-deleted event
      this._changed.emit();
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _onEvent(_: unknown, { event, data }: { event: string; data: any }) {
    if (event === 'job' && typeof data?.name === 'string') {
      this._jobs.set(data.name, data as IJob);
      this._changed.emit();
    } else if (event === 'job-deleted' && typeof data?.name === 'string') {
      if (this._jobs.delete(data.name)) {
        this._changed.emit();
      }
    }
  }

  private _onStatus(_: unknown, status: string) {
    if (status === 'live' || status === 'polling') {
      void this.refresh();
    }
  }

  private _api: IJobsAPI;
  private _events: IEventSource | null;
  private _jobs = new Map<string, IJob>();
  private _error = '';
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
