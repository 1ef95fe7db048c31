import { SSEParser } from '../sse';

describe('SSEParser', () => {
  it('dispatches named events with JSON data and ignores keepalive comments', () => {
    const parser = new SSEParser();
    const events = parser.feed(
      'retry: 2000\n\n: keepalive\n\nevent: clusters\ndata: {"clusters":[]}\n\n'
    );
    expect(events).toEqual([
      { event: 'clusters', data: '{"clusters":[]}', id: null }
    ]);
    expect(parser.retry).toBe(2000);
  });

  it('keeps an event split across chunks until its blank line arrives', () => {
    const parser = new SSEParser();
    expect(parser.feed('event: clu')).toEqual([]);
    expect(parser.feed('ster\ndata: {"name":')).toEqual([]);
    expect(parser.feed('"a"}\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([
      { event: 'cluster', data: '{"name":"a"}', id: null }
    ]);
  });

  it('handles CRLF line ends, also when a chunk ends between CR and LF', () => {
    const parser = new SSEParser();
    expect(parser.feed('event: deleted\r')).toEqual([]);
    expect(parser.feed('\ndata: {"name":"x"}\r\n\r\n')).toEqual([
      { event: 'deleted', data: '{"name":"x"}', id: null }
    ]);
  });

  it('joins multi-line data, strips one leading space, defaults the type to message', () => {
    const parser = new SSEParser();
    expect(parser.feed('data:  two spaces\ndata:line\n\n')).toEqual([
      { event: 'message', data: ' two spaces\nline', id: null }
    ]);
  });

  it('drops an event without data and ignores a retry that is not a number', () => {
    const parser = new SSEParser();
    expect(parser.feed('event: cluster\n\nretry: soon\n\n')).toEqual([]);
    expect(parser.retry).toBeNull();
  });

  it('remembers the last event id', () => {
    const parser = new SSEParser();
    const [event] = parser.feed('id: 7\ndata: x\n\n');
    expect(event.id).toBe('7');
    expect(parser.lastEventId).toBe('7');
  });
});
