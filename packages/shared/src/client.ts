import createClient, { type Client, type Middleware } from "openapi-fetch";

import { ApiError, errorFromNetwork, errorFromResponse, isAbort } from "./errors";
import type { paths } from "./schema";
import { readEventStream, type SseMessage } from "./sse";
import type { DeploymentEvent, DeploymentStatus, JobEvent, JobView, LogEvent, LogsQuery } from "./types";

/** How a client finds the server and the caller's token. */
export interface ApiClientOptions {
  /** Origin of the backend; same origin (`location.origin`) when omitted. */
  baseUrl?: string;
  /** The bearer token to send, read on every request (`null`: send none). */
  getToken?: () => string | null | undefined;
  /**
   * Called on every 401 before the call rejects; `hadToken` tells whether a token was sent
   * (rejected or expired) or none was (sign-in required).
   */
  onUnauthorized?: (error: ApiError, hadToken: boolean) => void;
  /** A `fetch` to use instead of the global one (tests, Headlamp). */
  fetch?: typeof fetch;
}

/** Handlers of a Server-Sent Events stream. */
export interface StreamHandlers<E> {
  /** Called once the server accepted the stream (2xx). */
  onOpen?: (response: Response) => void;
  /** Called for every event. */
  onEvent: (event: E) => void;
  /** Aborting ends the stream (the returned promise rejects with an AbortError). */
  signal?: AbortSignal;
}

/** The typed client of the KubeAIRunway REST API. */
export interface ApiClient {
  /**
   * The openapi-fetch client, typed by the generated schema. A non-2xx answer rejects with an
   * {@link ApiError} (never resolves with `error`), so `data` of a resolved call is the body.
   */
  api: Client<paths>;
  /** Follows the live deployment list (`GET /api/deployments/events`) until it ends. */
  deploymentEvents(
    query: { namespace?: string },
    handlers: StreamHandlers<DeploymentEvent>,
  ): Promise<void>;
  /** Follows a deployment's logs (`GET /api/deployments/{name}/logs?follow=true`) until they end. */
  followLogs(
    name: string,
    query: Omit<LogsQuery, "follow">,
    handlers: StreamHandlers<LogEvent>,
  ): Promise<void>;
  /** Follows an installation job (`GET /api/jobs/{id}/events`) until the server closes the stream after `end`. */
  jobEvents(id: string, handlers: StreamHandlers<JobEvent>): Promise<void>;
}

function defaultBaseUrl(): string {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return location?.origin && location.origin !== "null" ? location.origin : "";
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function parseJson(message: SseMessage): unknown {
  try {
    return JSON.parse(message.data) as unknown;
  } catch {
    return undefined;
  }
}

function deploymentEvent(message: SseMessage): DeploymentEvent | undefined {
  const data = parseJson(message);
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  switch (message.event) {
    case "snapshot":
      return Array.isArray(d.deployments)
        ? { type: "snapshot", deployments: d.deployments as DeploymentStatus[] }
        : undefined;
    case "upsert":
      return typeof d.deployment === "object" && d.deployment !== null
        ? { type: "upsert", deployment: d.deployment as DeploymentStatus }
        : undefined;
    case "delete":
      return typeof d.namespace === "string" && typeof d.name === "string"
        ? { type: "delete", namespace: d.namespace, name: d.name }
        : undefined;
    default:
      return undefined;
  }
}

function num(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

function isJobView(value: unknown): value is JobView {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.jobId === "string" && typeof v.state === "string" && Array.isArray(v.steps);
}

function jobEvent(message: SseMessage): JobEvent | undefined {
  const data = parseJson(message);
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  switch (message.event) {
    case "snapshot":
    case "end":
      return isJobView(d) ? { type: message.event, job: d } : undefined;
    case "state":
      return typeof d.state === "string" ? { type: "state", state: d.state as JobView["state"] } : undefined;
    case "step-start":
      return typeof d.index === "number" && typeof d.step === "string"
        ? {
            type: "step-start",
            index: d.index,
            step: d.step,
            title: typeof d.title === "string" ? d.title : d.step,
            command: typeof d.command === "string" ? d.command : "",
          }
        : undefined;
    case "output":
      return typeof d.index === "number" && typeof d.step === "string" && typeof d.line === "string"
        ? { type: "output", index: d.index, step: d.step, stream: d.stream === "stderr" ? "stderr" : "stdout", line: d.line }
        : undefined;
    case "step-end":
      return typeof d.index === "number" && typeof d.step === "string" && typeof d.state === "string"
        ? {
            type: "step-end",
            index: d.index,
            step: d.step,
            state: d.state as JobView["steps"][number]["state"],
            success: d.success === true,
            exitCode: num(d.exitCode),
            timedOut: d.timedOut === true,
            durationMs: num(d.durationMs),
          }
        : undefined;
    default:
      return undefined;
  }
}

function logEvent(message: SseMessage): LogEvent | undefined {
  switch (message.event) {
    case "log":
      return { type: "log", line: message.data };
    case "end":
      return { type: "end", message: message.data };
    case "error":
      return { type: "error", message: message.data };
    default:
      return undefined;
  }
}

/**
 * Creates a client. Requests carry `Authorization: Bearer <token>` when `getToken` returns one;
 * every error (the backend's envelope, a 401, an unreachable server) rejects with an
 * {@link ApiError}. Streams use `fetch` rather than `EventSource`, because `EventSource`
 * cannot send the `Authorization` header the backend requires when auth is on.
 */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = (options.baseUrl ?? defaultBaseUrl()).replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  const token = (): string | undefined => options.getToken?.() ?? undefined;

  const fail = async (response: Response, hadToken: boolean): Promise<ApiError> => {
    const error = await errorFromResponse(response);
    if (error.status === 401) options.onUnauthorized?.(error, hadToken);
    return error;
  };

  const middleware: Middleware = {
    onRequest({ request }) {
      const t = token();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
    async onResponse({ request, response }) {
      if (response.ok) return undefined;
      throw await fail(response, request.headers.has("Authorization"));
    },
    onError({ error }) {
      // Cancellation (TanStack Query aborts stale requests) stays an AbortError.
      return isAbort(error) && error instanceof Error ? error : errorFromNetwork(error);
    },
  };

  const api = createClient<paths>({
    baseUrl,
    fetch: (request: Request) => fetchImpl(request),
  });
  api.use(middleware);

  async function stream<E>(
    path: string,
    parse: (message: SseMessage) => E | undefined,
    handlers: StreamHandlers<E>,
  ): Promise<void> {
    const headers = new Headers({ Accept: "text/event-stream" });
    const t = token();
    if (t) headers.set("Authorization", `Bearer ${t}`);
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        headers,
        cache: "no-store",
        ...(handlers.signal ? { signal: handlers.signal } : {}),
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw errorFromNetwork(error);
    }
    if (!response.ok) throw await fail(response, t !== undefined);
    handlers.onOpen?.(response);
    if (!response.body) return;
    await readEventStream(
      response.body,
      (message) => {
        const event = parse(message);
        if (event !== undefined) handlers.onEvent(event);
      },
      handlers.signal,
    );
  }

  return {
    api,
    deploymentEvents(query, handlers) {
      return stream(`/api/deployments/events${queryString(query)}`, deploymentEvent, handlers);
    },
    followLogs(name, query, handlers) {
      return stream(
        `/api/deployments/${encodeURIComponent(name)}/logs${queryString({ ...query, follow: true })}`,
        logEvent,
        handlers,
      );
    },
    jobEvents(id, handlers) {
      return stream(`/api/jobs/${encodeURIComponent(id)}/events`, jobEvent, handlers);
    },
  };
}

/**
 * The body of a resolved openapi-fetch call. The client rejects on every non-2xx answer, so a
 * missing body here means the server answered 2xx without one.
 */
export async function data<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data: body, response } = await call;
  if (body === undefined) {
    throw new ApiError(response.status, `The server answered ${String(response.status)} without a body.`);
  }
  return body;
}
