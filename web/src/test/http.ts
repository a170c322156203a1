import { vi } from "vitest";

/** Answers one request (already matched by method and path). */
export type Handler = (request: Request, url: URL) => Response | Promise<Response>;

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** The backend's error envelope. */
export function apiError(status: number, message: string): Response {
  return json({ error: { message, statusCode: status } }, status);
}

/**
 * A `text/event-stream` response that sends `events` and then stays open until the request is
 * aborted (as the real stream does), unless `close` is set.
 */
export function sse(events: { event: string; data: unknown }[], opts: { close?: boolean; signal?: AbortSignal } = {}): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const e of events) {
        const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
        controller.enqueue(encoder.encode(`event: ${e.event}\ndata: ${data}\n\n`));
      }
      if (opts.close) controller.close();
      opts.signal?.addEventListener("abort", () => {
        try {
          controller.error(new DOMException("aborted", "AbortError"));
        } catch {
          // already closed
        }
      });
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

/**
 * Replaces `fetch` with routes keyed `"METHOD /path"` (query ignored). A request no route
 * matches fails the test with its method and URL, so every call a test causes is deliberate.
 */
export function mockFetch(routes: Record<string, Handler>) {
  const calls: Request[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const url = new URL(request.url);
    calls.push(request);
    const handler = routes[`${request.method} ${url.pathname}`];
    if (!handler) throw new Error(`unexpected request: ${request.method} ${url.pathname}${url.search}`);
    return handler(request, url);
  });
  vi.stubGlobal("fetch", fn);
  return { calls, fn };
}

/** An event stream the test feeds while it is open. */
export function liveStream() {
  const encoder = new TextEncoder();
  let ctrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
    },
  });
  return {
    response: () => new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    push(event: string, data: unknown) {
      ctrl?.enqueue(encoder.encode(`event: ${event}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`));
    },
  };
}
