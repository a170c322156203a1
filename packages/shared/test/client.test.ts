import { describe, expect, it, vi } from "vitest";

import { ApiError, createApiClient, data, type DeploymentEvent, type JobEvent, type LogEvent } from "../src/index";

const BASE = "http://kair.test";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function sse(chunks: string[], status = 200): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { "content-type": "text/event-stream" } });
}

/** A fetch that answers with `respond` and records the requests it saw. */
function mockFetch(respond: (request: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fn = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request);
    return Promise.resolve(respond(request));
  });
  return { fetch: fn as unknown as typeof fetch, seen };
}

const deployment = {
  name: "qwen",
  namespace: "default",
  modelId: "Qwen/Qwen3-0.6B",
  mode: "aggregated",
  phase: "Running",
  provider: "kubernetes",
  replicas: { desired: 1, ready: 1, available: 1 },
  pods: [],
  createdAt: "2026-01-01T00:00:00Z",
  frontendService: "qwen",
};

describe("createApiClient", () => {
  it("returns the typed body of a 2xx answer and builds the query", async () => {
    const { fetch, seen } = mockFetch(() =>
      json({ deployments: [deployment], pagination: { total: 1, limit: 1, offset: 0, hasMore: false } }),
    );
    const client = createApiClient({ baseUrl: BASE, fetch });
    const list = await data(client.api.GET("/api/deployments", { params: { query: { namespace: "team-a" } } }));
    expect(list.deployments[0]?.name).toBe("qwen");
    expect(seen[0]?.url).toBe(`${BASE}/api/deployments?namespace=team-a`);
  });

  it("encodes path parameters", async () => {
    const { fetch, seen } = mockFetch(() => json(deployment));
    const client = createApiClient({ baseUrl: BASE, fetch });
    await data(client.api.GET("/api/deployments/{name}", { params: { path: { name: "a b" } } }));
    expect(seen[0]?.url).toBe(`${BASE}/api/deployments/a%20b`);
  });

  it("sends the bearer token read at request time, and none without one", async () => {
    let current: string | null = null;
    const { fetch, seen } = mockFetch(() => json({ status: "healthy", timestamp: "now" }));
    const client = createApiClient({ baseUrl: BASE, fetch, getToken: () => current });
    await client.api.GET("/api/health");
    current = "tok-1";
    await client.api.GET("/api/health");
    expect(seen[0]?.headers.get("authorization")).toBeNull();
    expect(seen[1]?.headers.get("authorization")).toBe("Bearer tok-1");
  });

  it("turns the error envelope into an ApiError with status and message", async () => {
    const { fetch } = mockFetch(() =>
      json({ error: { message: "Deployment 'x' not found in namespace 'default'", statusCode: 404 } }, 404),
    );
    const client = createApiClient({ baseUrl: BASE, fetch });
    const call = client.api.GET("/api/deployments/{name}", { params: { path: { name: "x" } } });
    await expect(call).rejects.toBeInstanceOf(ApiError);
    await expect(call).rejects.toMatchObject({
      status: 404,
      message: "Deployment 'x' not found in namespace 'default'",
    });
  });

  it("falls back to a generic message when the body is not the envelope", async () => {
    const { fetch } = mockFetch(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const client = createApiClient({ baseUrl: BASE, fetch });
    await expect(client.api.GET("/api/health")).rejects.toMatchObject({
      status: 502,
      message: "Request failed with status 502: Bad Gateway",
    });
  });

  it("reports a 401 to onUnauthorized, saying whether a token was sent", async () => {
    const { fetch } = mockFetch(() => json({ error: { message: "Authentication required", statusCode: 401 } }, 401));
    const onUnauthorized = vi.fn();
    let current: string | null = null;
    const client = createApiClient({ baseUrl: BASE, fetch, getToken: () => current, onUnauthorized });
    await expect(client.api.GET("/api/deployments")).rejects.toMatchObject({ status: 401, unauthorized: true });
    current = "expired";
    await expect(client.api.GET("/api/deployments")).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(2);
    expect(onUnauthorized.mock.calls[0]?.[1]).toBe(false);
    expect(onUnauthorized.mock.calls[1]?.[1]).toBe(true);
  });

  it("does not call onUnauthorized for other errors", async () => {
    const { fetch } = mockFetch(() => json({ error: { message: "forbidden", statusCode: 403 } }, 403));
    const onUnauthorized = vi.fn();
    const client = createApiClient({ baseUrl: BASE, fetch, onUnauthorized });
    await expect(client.api.DELETE("/api/deployments/{name}", { params: { path: { name: "x" } } })).rejects.toMatchObject({
      status: 403,
      forbidden: true,
    });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    const fetch = vi.fn(() => Promise.reject(new TypeError("fetch failed"))) as unknown as typeof globalThis.fetch;
    const client = createApiClient({ baseUrl: BASE, fetch });
    await expect(client.api.GET("/api/health")).rejects.toMatchObject({ status: 0, network: true });
  });

  it("keeps an abort an AbortError", async () => {
    const fetch = vi.fn((_input: RequestInfo | URL, init?: RequestInit) => {
      const signal = init?.signal ?? (_input instanceof Request ? _input.signal : undefined);
      return new Promise<Response>((_resolve, reject) => {
        const fail = () => {
          reject(new DOMException("aborted", "AbortError"));
        };
        if (signal?.aborted) fail();
        signal?.addEventListener("abort", fail);
      });
    }) as unknown as typeof globalThis.fetch;
    const client = createApiClient({ baseUrl: BASE, fetch });
    const controller = new AbortController();
    const call = client.api.GET("/api/health", { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });

  it("sends JSON bodies for writes", async () => {
    const { fetch, seen } = mockFetch(() => json(deployment));
    const client = createApiClient({ baseUrl: BASE, fetch });
    await data(
      client.api.PATCH("/api/deployments/{name}", {
        params: { path: { name: "qwen" }, query: { namespace: "default" } },
        body: { replicas: 0 },
      }),
    );
    expect(seen[0]?.method).toBe("PATCH");
    expect(await seen[0]?.json()).toEqual({ replicas: 0 });
  });
});

describe("streams", () => {
  it("parses the live deployment events and sends the token", async () => {
    const { fetch, seen } = mockFetch(() =>
      sse([
        `event: snapshot\ndata: ${JSON.stringify({ deployments: [deployment] })}\n\n`,
        ": keep-alive\n\n",
        `event: upsert\ndata: ${JSON.stringify({ deployment: { ...deployment, phase: "Failed" } })}\n\n`,
        'event: delete\ndata: {"namespace":"default",',
        '"name":"qwen"}\n\n',
      ]),
    );
    const client = createApiClient({ baseUrl: BASE, fetch, getToken: () => "tok" });
    const events: DeploymentEvent[] = [];
    const onOpen = vi.fn();
    await client.deploymentEvents({ namespace: "default" }, { onEvent: (e) => events.push(e), onOpen });
    expect(onOpen).toHaveBeenCalledOnce();
    expect(seen[0]?.url).toBe(`${BASE}/api/deployments/events?namespace=default`);
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer tok");
    expect(seen[0]?.headers.get("accept")).toBe("text/event-stream");
    expect(events.map((e) => e.type)).toEqual(["snapshot", "upsert", "delete"]);
    expect(events[2]).toEqual({ type: "delete", namespace: "default", name: "qwen" });
  });

  it("rejects a refused stream with the envelope's ApiError and reports a 401", async () => {
    const { fetch } = mockFetch(() => json({ error: { message: "Authentication required", statusCode: 401 } }, 401));
    const onUnauthorized = vi.fn();
    const client = createApiClient({ baseUrl: BASE, fetch, onUnauthorized });
    await expect(client.deploymentEvents({}, { onEvent: () => undefined })).rejects.toMatchObject({
      status: 401,
      message: "Authentication required",
    });
    expect(onUnauthorized).toHaveBeenCalledWith(expect.any(ApiError), false);
  });

  it("follows logs line by line until the end event", async () => {
    const { fetch, seen } = mockFetch(() =>
      sse(["event: log\ndata: line one\n\nevent: log\ndata: line two\n\n", "event: end\ndata: The log stream ended\n\n"]),
    );
    const client = createApiClient({ baseUrl: BASE, fetch });
    const events: LogEvent[] = [];
    await client.followLogs("qwen", { namespace: "default", tailLines: 10 }, { onEvent: (e) => events.push(e) });
    expect(seen[0]?.url).toBe(`${BASE}/api/deployments/qwen/logs?namespace=default&tailLines=10&follow=true`);
    expect(events).toEqual([
      { type: "log", line: "line one" },
      { type: "log", line: "line two" },
      { type: "end", message: "The log stream ended" },
    ]);
  });

  it("follows a job's events and keeps the running job of a 409", async () => {
    const view = { jobId: "j1", kind: "install-provider", target: "kaito", state: "running", createdAt: "t", steps: [], pending: [], results: [] };
    const { fetch, seen } = mockFetch((request) =>
      request.url.endsWith("/events")
        ? sse([
            `event: snapshot\ndata: ${JSON.stringify(view)}\n\n`,
            'event: step-start\ndata: {"index":0,"step":"repo-update","title":"Update","command":"helm repo update"}\n\n',
            'event: output\ndata: {"index":0,"step":"repo-update","stream":"stderr","line":"warn"}\n\n',
            'event: step-end\ndata: {"index":0,"step":"repo-update","state":"failed","success":false,"exitCode":1,"timedOut":false,"durationMs":5}\n\n',
            "event: bogus\ndata: {}\n\n",
          ])
        : json({ error: { message: "already running", statusCode: 409, jobId: "j0" } }, 409),
    );
    const client = createApiClient({ baseUrl: BASE, fetch });
    const events: JobEvent[] = [];
    await client.jobEvents("j1", { onEvent: (e) => events.push(e) });
    expect(seen[0]?.url).toBe(`${BASE}/api/jobs/j1/events`);
    expect(events.map((e) => e.type)).toEqual(["snapshot", "step-start", "output", "step-end"]);
    expect(events[2]).toEqual({ type: "output", index: 0, step: "repo-update", stream: "stderr", line: "warn" });
    expect(events[3]).toMatchObject({ type: "step-end", exitCode: 1, timedOut: false, success: false });

    const refused = await client.api
      .POST("/api/installation/providers/{id}/install", { params: { path: { id: "kaito" }, query: { async: true } } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(409);
    expect((refused as ApiError).jobId).toBe("j0");
  });
});
