/**
 * An incremental parser of the text/event-stream format (the Server-Sent Events part of
 * the HTML standard): feed it chunks as they arrive, get complete events back.
 */

/** One dispatched event. `event` is "message" when the server named none. */
export interface IServerSentEvent {
  event: string;
  data: string;
  id: string | null;
}

export class SSEParser {
  /** The last `retry:` value the server sent, in milliseconds. */
  retry: number | null = null;
  /** The last event id the server sent. */
  lastEventId: string | null = null;

  /**
   * Parse a chunk of text; returns the events it completes. A line or an event split
   * across chunks is kept until the rest arrives.
   */
  feed(chunk: string): IServerSentEvent[] {
    const events: IServerSentEvent[] = [];
    let text = this._buffer + chunk;
    // A chunk may end between "\r" and "\n": keep that "\r" until the next chunk decides.
    let keepCR = false;
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      keepCR = true;
    }
    const lines = text.split(/\r\n|\r|\n/);
    this._buffer = (lines.pop() ?? '') + (keepCR ? '\r' : '');
    for (const line of lines) {
      const event = this._line(line);
      if (event) {
        events.push(event);
      }
    }
    return events;
  }

  /** Forget a half-received event (after a reconnect). */
  reset(): void {
    this._buffer = '';
    this._data = [];
    this._event = '';
  }

  private _line(line: string): IServerSentEvent | null {
    if (line === '') {
      return this._dispatch();
    }
    if (line.startsWith(':')) {
      return null; // a comment, such as the server's keepalive
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this._event = value;
        break;
      case 'data':
        this._data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          this._id = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this.retry = parseInt(value, 10);
        }
        break;
      default:
        break; // unknown fields are ignored, as the standard says
    }
    return null;
  }

  private _dispatch(): IServerSentEvent | null {
    if (this._id !== null) {
      this.lastEventId = this._id;
      this._id = null;
    }
    if (this._data.length === 0) {
      this._event = '';
      return null;
    }
    const event = {
      event: this._event || 'message',
      data: this._data.join('\n'),
      id: this.lastEventId
    };
    this._data = [];
    this._event = '';
    return event;
  }

  private _buffer = '';
  private _data: string[] = [];
  private _event = '';
  private _id: string | null = null;
}
