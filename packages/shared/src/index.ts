export { createApiClient, data } from "./client";
export type { ApiClient, ApiClientOptions, StreamHandlers } from "./client";
export { ApiError, errorFromNetwork, errorFromResponse, isAbort, isApiError } from "./errors";
export type { ErrorEnvelope } from "./errors";
export { SseParser, readEventStream } from "./sse";
export type { SseMessage } from "./sse";
export { conditionsOf } from "./types";
export type * from "./types";
export type { components, operations, paths } from "./schema";
