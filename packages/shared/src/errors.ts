/** The backend's error envelope: `{"error": {"message", "statusCode"}}` (docs/backend.md). */
export interface ErrorEnvelope {
  error: { message: string; statusCode: number };
}

/**
 * Every failed call of the client rejects with an `ApiError`: the HTTP status (0 when the
 * server could not be reached) and a message meant for people.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  /** The running job a `409` of an installation endpoint names (`error.jobId`). */
  readonly jobId: string | undefined;

  constructor(status: number, message: string, options?: { cause?: unknown; jobId?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.jobId = options?.jobId;
  }

  /** The HTTP status under the reference client's name (`ApiError.statusCode`). */
  get statusCode(): number {
    return this.status;
  }

  /** 401: no token, or the token was rejected. */
  get unauthorized(): boolean {
    return this.status === 401;
  }

  /** 403: the caller's Kubernetes permissions forbid it. */
  get forbidden(): boolean {
    return this.status === 403;
  }

  /** 503: the cluster (or the backend's watch of it) is unreachable. */
  get unavailable(): boolean {
    return this.status === 503;
  }

  /** The server could not be reached at all (network error, server down). */
  get network(): boolean {
    return this.status === 0;
  }
}

/** Whether `value` is an `ApiError` (works across bundles, unlike `instanceof` alone). */
export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError || (value instanceof Error && value.name === "ApiError" && "status" in value);
}

function jobIdFromBody(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const inner = (body as Record<string, unknown>).error;
  if (typeof inner !== "object" || inner === null) return undefined;
  const jobId = (inner as Record<string, unknown>).jobId;
  return typeof jobId === "string" && jobId !== "" ? jobId : undefined;
}

function messageFromBody(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const inner = record.error;
  if (typeof inner === "object" && inner !== null) {
    const message = (inner as Record<string, unknown>).message;
    if (typeof message === "string" && message !== "") return message;
  }
  if (typeof inner === "string" && inner !== "") return inner;
  if (typeof record.message === "string" && record.message !== "") return record.message;
  return undefined;
}

/** The `ApiError` for a non-2xx response: the envelope's message, else a generic sentence. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The body could not be read; fall back to the status line.
  }
  let body: unknown = undefined;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  const message =
    messageFromBody(body) ??
    (response.statusText
      ? `Request failed with status ${String(response.status)}: ${response.statusText}`
      : `Request failed with status ${String(response.status)}`);
  const jobId = jobIdFromBody(body);
  return new ApiError(response.status, message, jobId === undefined ? undefined : { jobId });
}

/** The `ApiError` for a request that never got an answer. */
export function errorFromNetwork(cause: unknown): ApiError {
  const detail = cause instanceof Error && cause.message ? ` (${cause.message})` : "";
  return new ApiError(0, `Cannot reach the KubeAIRunway server${detail}.`, { cause });
}

/** Whether `error` is the rejection of an aborted request (not a failure to report). */
export function isAbort(error: unknown): boolean {
  return (
    (error instanceof DOMException && error.name === "AbortError") ||
    (error instanceof Error && error.name === "AbortError")
  );
}
