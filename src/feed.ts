/**
 * The live feed of cluster changes: the `rapids-kf/events` stream, reconnecting with
 * exponential backoff, and polling `rapids-kf/clusters` while the stream is unavailable.
 *
 * Why fetch streaming and not EventSource: EventSource cannot send the Authorization
 * header (the token would travel in the URL, where proxies log it), hides the HTTP status
 * of a failed connection (a 404 from a missing server extension looks like a network
 * blip and is retried forever at a fixed interval), has no backoff of its own, and cannot
 * notice a stream that a proxy silently stalls. With fetch we reuse ServerConnection
 * (token, cookies, XSRF like every other call), see the status, choose the delays, and
 * can abort the request when the panel stands by. The format is parsed by `SSEParser`.
 */
import { ICluster } from './tokens';
import { IServerSentEvent, SSEParser } from './sse';

/** What the panel shows about the connection. */
export type FeedStatus =
  | 'stopped' // not started, or standing by
  | 'connecting' // first connection attempt
  | 'live' // the stream delivers changes
  | 'reconnecting' // the stream broke; retrying with backoff
  | 'polling'; // the stream keeps failing; the list is polled meanwhile

export interface IBackoff {
  /** First delay in ms (the server's `retry:` wins when it is larger). */
  initial: number;
  /** Longest delay in ms. */
  max: number;
  factor: number;
  /** Random spread, 0.2 = +/-20 %, so many browsers do not reconnect in step. */
  jitter: number;
}

export interface IFeedOptions {
  /** Opens the event stream (a streaming fetch). */
  openStream: (signal: AbortSignal) => Promise<Response>;
  /** Lists the clusters (the polling fallback). */
  listClusters: () => Promise<ICluster[]>;
  onSnapshot: (clusters: ICluster[]) => void;
  onCluster: (cluster: ICluster) => void;
  onDeleted: (name: string) => void;
  /** Any other event (jobs: `job`, `job-deleted`), parsed. */
  onOther?: (event: string, data: any) => void;
  onStatus: (status: FeedStatus, detail: string) => void;
  backoff?: Partial<IBackoff>;
  /** Poll every this many ms while the stream is down. */
  pollInterval?: number;
  /** Consecutive stream failures before polling starts. */
  failuresBeforePolling?: number;
  /** Abort a stream that sent nothing (not even a keepalive) for this many ms. */
  stallTimeout?: number;
  random?: () => number;
}

/** Answers that will not get better by retrying soon: poll instead right away. */
const NOT_A_STREAM = new Set([401, 403, 404, 405, 501]);

export class ClusterFeed {
  constructor(options: IFeedOptions) {
    this._options = options;
    this._backoff = {
      initial: 500,
      max: 30000,
      factor: 2,
      jitter: 0.2,
      ...options.backoff
    };
    this._pollInterval = options.pollInterval ?? 2000;
    this._failuresBeforePolling = options.failuresBeforePolling ?? 3;
    this._stallTimeout = options.stallTimeout ?? 40000;
    this._random = options.random ?? Math.random;
  }

  /** Poll every this many ms while the stream is down (a setting). */
  get pollInterval(): number {
    return this._pollInterval;
  }
  set pollInterval(ms: number) {
    this._pollInterval = Math.max(500, ms);
  }

  get status(): FeedStatus {
    return this._status;
  }

  /** Consecutive failed connection attempts. */
  get failures(): number {
    return this._failures;
  }

  get running(): boolean {
    return this._running;
  }

  start(): void {
    if (this._running) {
      return;
    }
    this._running = true;
    this._failures = 0;
    this._setStatus('connecting', '');
    void this._connect();
  }

  stop(): void {
    this._running = false;
    this._generation++;
    this._abort?.abort();
    this._abort = null;
    this._clear('_retryTimer');
    this._clear('_stallTimer');
    this._stopPolling();
    this._setStatus('stopped', '');
  }

  /** The delay before reconnection attempt number `failures` (1-based), in ms. */
  delay(failures: number): number {
    const { initial, max, factor, jitter } = this._backoff;
    const first = Math.max(initial, this._serverRetry ?? 0);
    const base = Math.min(max, first * Math.pow(factor, failures - 1));
    return Math.round(base * (1 + jitter * (2 * this._random() - 1)));
  }

  private async _connect(): Promise<void> {
    const generation = ++this._generation;
    const abort = new AbortController();
    this._abort = abort;
    let response: Response;
    try {
      response = await this._options.openStream(abort.signal);
    } catch (error) {
      return this._failed(generation, (error as Error).message);
    }
    if (generation !== this._generation) {
      return;
    }
    const type = response.headers.get('Content-Type') ?? '';
    if (
      !response.ok ||
      !type.startsWith('text/event-stream') ||
      !response.body
    ) {
      const detail = `the event stream answered ${response.status}`;
      if (NOT_A_STREAM.has(response.status)) {
        this._failures = Math.max(
          this._failures,
          this._failuresBeforePolling - 1
        );
      }
      return this._failed(generation, detail);
    }
    try {
      await this._read(generation, response.body.getReader());
    } catch (error) {
      return this._failed(generation, (error as Error).message);
    }
    this._failed(generation, 'the event stream ended');
  }

  private async _read(
    generation: number,
    reader: ReadableStreamDefaultReader<Uint8Array>
  ): Promise<void> {
    const parser = new SSEParser();
    const decoder = new TextDecoder();
    this._armStallTimer(generation);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (generation !== this._generation) {
          return;
        }
        if (done) {
          return;
        }
        this._armStallTimer(generation);
        for (const event of parser.feed(
          decoder.decode(value, { stream: true })
        )) {
          this._dispatch(event);
        }
        if (parser.retry !== null) {
          this._serverRetry = parser.retry;
        }
      }
    } finally {
      this._clear('_stallTimer');
      reader.releaseLock?.();
    }
  }

  private _dispatch(event: IServerSentEvent): void {
    let data: any;
    try {
      data = JSON.parse(event.data);
    } catch {
      console.warn('rapids-kf: an event that is not JSON was ignored', event);
      return;
    }
    switch (event.event) {
      case 'clusters':
        if (Array.isArray(data?.clusters)) {
          this._options.onSnapshot(data.clusters);
          // The stream works: forget earlier failures and stop polling.
          this._failures = 0;
          this._stopPolling();
          this._setStatus('live', '');
        }
        break;
      case 'cluster':
        if (typeof data?.name === 'string') {
          this._options.onCluster(data as ICluster);
        }
        break;
      case 'deleted':
        if (typeof data?.name === 'string') {
          this._options.onDeleted(data.name);
        }
        break;
      default:
        this._options.onOther?.(event.event, data); // jobs; unknown kinds are ignored there
        break;
    }
  }

  private _failed(generation: number, detail: string): void {
    if (generation !== this._generation || !this._running) {
      return; // this attempt was already given up (stall, stop) and counted
    }
    this._generation++;
    this._abort?.abort();
    this._abort = null;
    this._failures++;
    if (this._failures >= this._failuresBeforePolling) {
      this._startPolling(detail);
    } else {
      this._setStatus('reconnecting', detail);
    }
    this._clear('_retryTimer');
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (this._running) {
        void this._connect();
      }
    }, this.delay(this._failures));
  }

  private _armStallTimer(generation: number): void {
    this._clear('_stallTimer');
    this._stallTimer = setTimeout(() => {
      this._stallTimer = null;
      this._failed(generation, 'the event stream went silent');
    }, this._stallTimeout);
  }

  private _startPolling(detail: string): void {
    this._setStatus('polling', detail);
    if (this._polling) {
      return;
    }
    this._polling = true;
    const round = ++this._pollRound;
    const poll = async () => {
      this._pollTimer = null;
      try {
        const clusters = await this._options.listClusters();
        if (round === this._pollRound) {
          this._options.onSnapshot(clusters);
        }
      } catch (error) {
        if (round === this._pollRound && this._status === 'polling') {
          this._setStatus('polling', (error as Error).message);
        }
      }
      if (round === this._pollRound) {
        this._pollTimer = setTimeout(poll, this._pollInterval);
      }
    };
    void poll();
  }

  private _stopPolling(): void {
    this._polling = false;
    this._pollRound++;
    this._clear('_pollTimer');
  }

  private _clear(timer: '_retryTimer' | '_stallTimer' | '_pollTimer'): void {
    if (this[timer] !== null) {
      clearTimeout(this[timer]!);
      this[timer] = null;
    }
  }

  private _setStatus(status: FeedStatus, detail: string): void {
    if (status !== this._status || detail !== this._detail) {
      this._status = status;
      this._detail = detail;
      this._options.onStatus(status, detail);
    }
  }

  private _options: IFeedOptions;
  private _backoff: IBackoff;
  private _pollInterval: number;
  private _failuresBeforePolling: number;
  private _stallTimeout: number;
  private _random: () => number;
  private _running = false;
  private _status: FeedStatus = 'stopped';
  private _detail = '';
  private _failures = 0;
  private _generation = 0;
  private _serverRetry: number | null = null;
  private _abort: AbortController | null = null;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _stallTimer: ReturnType<typeof setTimeout> | null = null;
  private _pollTimer: ReturnType<typeof setTimeout> | null = null;
  private _polling = false;
  private _pollRound = 0;
}
