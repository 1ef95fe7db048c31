/**
 * A browser-layer fake of the server's `rapids-kf/events` stream, for specs that must show
 * what this machine cannot make (GPU readings, a Kueue queue). An init script answers the
 * page's events request with a first snapshot and keeps the stream open; every other request
 * goes to the real server. `push(page, text)` sends one more event. Disclose it in the spec.
 */
import { IJupyterLabPageFixture } from '@jupyterlab/galata';

export function clustersEvent(clusters: unknown[]): string {
  return `event: clusters\ndata: ${JSON.stringify({ clusters })}\n\n`;
}

export async function fakeEvents(
  page: IJupyterLabPageFixture,
  first: string
): Promise<void> {
  await page.addInitScript((snapshot: string) => {
    const realFetch = window.fetch.bind(window);
    const encoder = new TextEncoder();
    window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const url =
        typeof input === 'string'
          ? input
          : ((input as Request).url ?? String(input));
      if (!/\/rapids-kf\/events(\?|$)/.test(url)) {
        return realFetch(input, init);
      }
      let timer: ReturnType<typeof setInterval>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(snapshot));
          (window as any).__rapidsKfPush = (text: string) =>
            controller.enqueue(encoder.encode(text));
          timer = setInterval(
            () => controller.enqueue(encoder.encode(': keep-alive\n\n')),
            5000
          );
        },
        cancel() {
          clearInterval(timer);
        }
      });
      return Promise.resolve(
        new Response(body, {
          status: 200,
          headers: { 'Content-Type': 'text/event-stream' }
        })
      );
    };
  }, first);
}

export async function push(
  page: IJupyterLabPageFixture,
  text: string
): Promise<void> {
  await page.evaluate(t => (window as any).__rapidsKfPush(t), text);
}
