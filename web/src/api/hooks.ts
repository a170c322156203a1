import {
  ApiError,
  createApiClient,
  data,
  isApiError,
  type AutoscalerStatus,
  type CostEstimateRequest,
  type CreateDeploymentRequest,
  type LogsResponse,
  type ScaleRequest,
} from "@kubeairunway/shared";
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useAuthStore } from "../auth/store";
import { api } from "./client";

/** Query keys, in one place so invalidations match. */
export const keys = {
  clusterStatus: ["cluster-status"] as const,
  settings: ["settings"] as const,
  authMode: ["auth-mode"] as const,
  whoami: (token: string | null) => ["whoami", token] as const,
  runtimes: ["runtimes"] as const,
  deployment: (namespace: string, name: string) => ["deployment", namespace, name] as const,
  pendingReasons: (namespace: string, name: string) => ["pending-reasons", namespace, name] as const,
  manifest: (namespace: string, name: string) => ["manifest", namespace, name] as const,
  logs: (namespace: string, name: string, opts: LogOptions) => ["logs", namespace, name, opts] as const,
  metrics: (namespace: string, name: string) => ["metrics", namespace, name] as const,
  autoscalerDetection: ["autoscaler-detection"] as const,
  autoscalerStatus: ["autoscaler-status"] as const,
};

/** `GET /api/cluster/status`, every 30 s (the header's badge). */
export function useClusterStatus() {
  return useQuery({
    queryKey: keys.clusterStatus,
    queryFn: ({ signal }) => data(api.GET("/api/cluster/status", { signal })),
    refetchInterval: 30_000,
    retry: false,
  });
}

/** `GET /api/settings` (public; 503 while the cluster is unreachable). */
export function useSettings() {
  return useQuery({
    queryKey: keys.settings,
    queryFn: ({ signal }) => data(api.GET("/api/settings", { signal })),
  });
}

/** Whether the server requires a token: `true`, `false`, or `undefined` when it cannot tell. */
export type AuthMode = boolean | undefined;

/**
 * Whether auth is on. `GET /api/settings` says so, but answers 503 while the cluster is down;
 * then `GET /api/auth/whoami` decides (200 without auth; 401 when a token is required).
 */
export async function fetchAuthMode(signal?: AbortSignal): Promise<AuthMode> {
  try {
    const settings = await data(api.GET("/api/settings", { signal }));
    return settings.auth.enabled;
  } catch (error) {
    if (!isApiError(error)) throw error;
  }
  // A separate client: this probe's 401 means "auth is on", not "the session ended".
  const probe = createApiClient();
  try {
    const who = await data(probe.api.GET("/api/auth/whoami", { signal }));
    return who.authEnabled;
  } catch (error) {
    if (isApiError(error) && error.status === 401) return true;
    return undefined;
  }
}

/** The auth mode, cached for a minute. */
export function useAuthMode() {
  return useQuery({
    queryKey: keys.authMode,
    queryFn: ({ signal }) => fetchAuthMode(signal),
    staleTime: 60_000,
    retry: false,
  });
}

/** `GET /api/auth/whoami` for the current token (the user menu). */
export function useWhoAmI(enabled: boolean) {
  const { token } = useAuthStore();
  return useQuery({
    queryKey: keys.whoami(token),
    queryFn: ({ signal }) => data(api.GET("/api/auth/whoami", { signal })),
    enabled: enabled && token !== null,
    staleTime: 60_000,
  });
}

/** `PUT /api/settings` with a new default namespace. */
export function useUpdateSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (defaultNamespace: string) => data(api.PUT("/api/settings", { body: { defaultNamespace } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.settings });
      void qc.invalidateQueries({ queryKey: keys.clusterStatus });
    },
  });
}

/** `GET /api/runtimes/status`. */
export function useRuntimes() {
  return useQuery({
    queryKey: keys.runtimes,
    queryFn: ({ signal }) => data(api.GET("/api/runtimes/status", { signal })),
    refetchInterval: 30_000,
  });
}

/** How often a deployment is re-read while its live stream is down. */
export const FALLBACK_POLL_MS = 10_000;

/**
 * One deployment (its pods are part of the answer). The live stream keeps it current
 * (`useLiveDeployment`); `poll` re-reads it every {@link FALLBACK_POLL_MS} while the stream
 * cannot. A 404 stops the polling.
 */
export function useDeployment(namespace: string, name: string, { poll = true, enabled = true } = {}) {
  return useQuery({
    queryKey: keys.deployment(namespace, name),
    queryFn: ({ signal }) =>
      data(api.GET("/api/deployments/{name}", { params: { path: { name }, query: { namespace } }, signal })),
    enabled,
    refetchInterval: (query) =>
      !poll || (query.state.error instanceof ApiError && query.state.error.status === 404) ? false : FALLBACK_POLL_MS,
  });
}

/** Why a deployment's pods are pending, while any are. */
export function usePendingReasons(namespace: string, name: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.pendingReasons(namespace, name),
    queryFn: ({ signal }) =>
      data(
        api.GET("/api/deployments/{name}/pending-reasons", {
          params: { path: { name }, query: { namespace } },
          signal,
        }),
      ),
    enabled,
    refetchInterval: enabled ? 15_000 : false,
  });
}

/** A deployment's objects as manifests (`enabled` false: not fetched). */
export function useManifest(namespace: string, name: string, enabled = true) {
  return useQuery({
    queryKey: keys.manifest(namespace, name),
    queryFn: ({ signal }) =>
      data(api.GET("/api/deployments/{name}/manifest", { params: { path: { name }, query: { namespace } }, signal })),
    enabled,
    staleTime: 30_000,
  });
}

/** Options of a one-shot log read. */
export interface LogOptions {
  podName?: string;
  tailLines: number;
  timestamps: boolean;
  previous: boolean;
}

/** A tail of a pod's logs (not followed). */
export function useLogs(namespace: string, name: string, opts: LogOptions, enabled: boolean) {
  return useQuery({
    queryKey: keys.logs(namespace, name, opts),
    queryFn: ({ signal }) =>
      // Without `follow` the answer is JSON (the route's other content type is its SSE stream).
      data<LogsResponse>(
        api.GET("/api/deployments/{name}/logs", {
          params: {
            path: { name },
            query: {
              namespace,
              tailLines: opts.tailLines,
              timestamps: opts.timestamps,
              previous: opts.previous,
              ...(opts.podName ? { podName: opts.podName } : {}),
            },
          },
          signal,
        }) as Promise<{ data?: LogsResponse; response: Response }>,
      ),
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** `DELETE /api/deployments/{name}`. */
export function useDeleteDeployment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ namespace, name }: { namespace: string; name: string }) =>
      data(api.DELETE("/api/deployments/{name}", { params: { path: { name }, query: { namespace } } })),
    onSuccess: (_result, { namespace, name }) => {
      void qc.invalidateQueries({ queryKey: keys.deployment(namespace, name) });
    },
  });
}

/** `PATCH /api/deployments/{name}`: scale. */
export function useScaleDeployment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ namespace, name, body }: { namespace: string; name: string; body: ScaleRequest }) =>
      data(api.PATCH("/api/deployments/{name}", { params: { path: { name }, query: { namespace } }, body })),
    onSuccess: (deployment) => {
      qc.setQueryData(keys.deployment(deployment.namespace, deployment.name), deployment);
    },
  });
}

/** The curated catalog. */
export function useCatalog() {
  return useQuery({
    queryKey: ["models"],
    queryFn: ({ signal }) => data(api.GET("/api/models", { signal })),
    staleTime: 5 * 60_000,
  });
}

/** One curated model. */
export function useCatalogModel(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ["model", id],
    queryFn: ({ signal }) => data(api.GET("/api/models/{id}", { params: { path: { id } }, signal })),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/** How a model fits the cluster's GPU types (computed by the backend's planner). */
export function useModelPlan(id: string, enabled = true) {
  return useQuery({
    queryKey: ["plan", id],
    queryFn: ({ signal }) => data(api.GET("/api/models/{id}/plan", { params: { path: { id } }, signal })),
    enabled,
    staleTime: 10 * 60_000,
    retry: false,
  });
}

/** Page size of HuggingFace search. */
export const SEARCH_PAGE = 20;

/** HuggingFace search; "Load more" appends the next page (2+ characters). */
export function useModelSearch(q: string) {
  return useInfiniteQuery({
    queryKey: ["model-search", q],
    queryFn: ({ signal, pageParam }) =>
      data(api.GET("/api/models/search", { params: { query: { q, limit: SEARCH_PAGE, offset: pageParam } }, signal })),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.hasMore ? pages.reduce((n, p) => n + p.models.length, 0) : undefined),
    enabled: q.trim().length >= 2,
    staleTime: 60_000,
  });
}

/** GPU capacity of the cluster (the deploy form's warning). */
export function useGpuCapacity() {
  return useQuery({
    queryKey: ["gpu-capacity"],
    queryFn: ({ signal }) => data(api.GET("/api/installation/gpu-capacity", { signal })),
    refetchInterval: 30_000,
  });
}

/** `POST /api/deployments`. */
export function useCreateDeployment() {
  return useMutation({
    mutationFn: (body: CreateDeploymentRequest) => data(api.POST("/api/deployments", { body })),
  });
}

/** `POST /api/deployments/preview`: the manifest a create would store (server-side dry run). */
export function usePreviewDeployment() {
  return useMutation({
    mutationFn: (body: CreateDeploymentRequest) => data(api.POST("/api/deployments/preview", { body })),
  });
}

/** How often the Metrics tab scrapes while it is open and not paused. */
export const METRICS_POLL_MS = 5_000;

/**
 * A deployment's metrics with their 15-minute history: each read is a scrape of its pods, so
 * this polls every {@link METRICS_POLL_MS} only while `enabled` (the tab is open) and `live`.
 */
export function useMetrics(namespace: string, name: string, { enabled = true, live = true } = {}) {
  return useQuery({
    queryKey: keys.metrics(namespace, name),
    queryFn: ({ signal }) =>
      data(
        api.GET("/api/deployments/{name}/metrics", {
          params: { path: { name }, query: { namespace, history: true } },
          signal,
        }),
      ),
    enabled,
    refetchInterval: enabled && live ? METRICS_POLL_MS : false,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/** Which autoscaler the cluster has (`GET /api/autoscaler/detection`), every 2 minutes. */
export function useAutoscalerDetection(enabled = true) {
  return useQuery({
    queryKey: keys.autoscalerDetection,
    queryFn: ({ signal }) => data(api.GET("/api/autoscaler/detection", { signal })),
    enabled,
    refetchInterval: 120_000,
    staleTime: 60_000,
    retry: false,
  });
}

/**
 * The Cluster Autoscaler's status (`GET /api/autoscaler/status`), every 30 s; `null` when the
 * cluster has none (the API's 404).
 */
export function useAutoscalerStatus() {
  return useQuery({
    queryKey: keys.autoscalerStatus,
    queryFn: async ({ signal }): Promise<AutoscalerStatus | null> => {
      try {
        return await data(api.GET("/api/autoscaler/status", { signal }));
      } catch (error) {
        if (isApiError(error) && error.status === 404) return null;
        throw error;
      }
    },
    refetchInterval: 30_000,
    retry: false,
  });
}

/** `POST /api/costs/estimate`: `gpuCount` GPUs × `replicas` of `gpuType` (off when `null`). */
export function useCostEstimate(request: CostEstimateRequest | null) {
  return useQuery({
    queryKey: ["cost-estimate", request] as const,
    queryFn: ({ signal }) => data(api.POST("/api/costs/estimate", { body: request ?? { gpuType: "", gpuCount: 1, replicas: 1 }, signal })),
    enabled: request !== null,
    placeholderData: keepPreviousData,
    staleTime: 5 * 60_000,
    retry: false,
  });
}

/** `GET /api/costs/node-pools`: what the replicas cost on each GPU pool of the cluster. */
export function useNodePoolCosts(gpuCount: number, replicas: number, enabled = true) {
  return useQuery({
    queryKey: ["node-pool-costs", gpuCount, replicas] as const,
    queryFn: ({ signal }) =>
      data(api.GET("/api/costs/node-pools", { params: { query: { gpuCount, replicas } }, signal })),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 5 * 60_000,
    retry: false,
  });
}

/** `GET /api/costs/gpu-models`: the GPU models prices are known for. */
export function useGpuModels() {
  return useQuery({
    queryKey: ["gpu-models"],
    queryFn: ({ signal }) => data(api.GET("/api/costs/gpu-models", { signal })),
    staleTime: Infinity,
  });
}
