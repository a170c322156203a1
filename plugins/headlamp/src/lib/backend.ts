/**
 * Every call the plugin makes to the KubeAIRunway backend, through the typed client of
 * `@kubeairunway/shared` (generated from the backend's OpenAPI document). A non-2xx answer or an
 * unreachable backend rejects with the shared `ApiError`.
 */
import type { components } from '@kubeairunway/shared';
import {
  type ApiClient,
  createApiClient,
  type CreateDeploymentRequest,
  type CreateResponse,
  data,
  type DeploymentEvent,
  type DeploymentStatus,
  type HfModelSearchResult,
  type LogsResponse,
  type Model,
  type ModelPlan,
  type PodStatus,
  type RuntimeStatus,
  type WhoAmI,
} from '@kubeairunway/shared';

/** `GET /api/deployments/{name}/metrics`. */
export type MetricsResponse = components['schemas']['MetricsResponse'];

/** What an installation endpoint answers: a started job (async) or its outcome. */
export type InstallAnswer =
  | components['schemas']['JobAccepted']
  | components['schemas']['JobOutcome'];

/** How the plugin reaches the backend. */
export interface BackendOptions {
  baseUrl: string;
  /** Read before every request; `undefined`: no `Authorization` header. */
  getToken: () => string | undefined;
  fetch?: typeof fetch;
}

/** Deployments fetched per page when listing all of them (the backend's maximum). */
const PAGE = 100;
/** Pages listed at most (a runaway `hasMore` must not loop forever). */
const MAX_PAGES = 50;

export interface Backend {
  readonly baseUrl: string;
  readonly client: ApiClient;
  health(): Promise<{ status: string }>;
  whoami(): Promise<WhoAmI>;
  listDeployments(namespace?: string): Promise<DeploymentStatus[]>;
  getDeployment(name: string, namespace: string): Promise<DeploymentStatus>;
  pods(name: string, namespace: string): Promise<PodStatus[]>;
  logs(
    name: string,
    namespace: string,
    podName?: string,
    tailLines?: number
  ): Promise<LogsResponse>;
  metrics(name: string, namespace: string): Promise<MetricsResponse>;
  createDeployment(body: CreateDeploymentRequest): Promise<CreateResponse>;
  deleteDeployment(name: string, namespace: string): Promise<void>;
  /** Sets the replicas of an aggregated deployment (0 scales it to zero). */
  scale(name: string, namespace: string, replicas: number): Promise<void>;
  models(): Promise<Model[]>;
  searchModels(query: string, limit?: number): Promise<HfModelSearchResult[]>;
  plan(modelId: string): Promise<ModelPlan>;
  runtimes(): Promise<RuntimeStatus[]>;
  installProvider(id: string): Promise<InstallAnswer>;
  uninstallProvider(id: string): Promise<InstallAnswer>;
  followDeployments(
    namespace: string | undefined,
    onEvent: (event: DeploymentEvent) => void,
    signal: AbortSignal
  ): Promise<void>;
}

export function createBackend(options: BackendOptions): Backend {
  const client = createApiClient({
    baseUrl: options.baseUrl,
    getToken: options.getToken,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { api } = client;
  const ns = (namespace: string) => ({ namespace });

  return {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    client,
    async health() {
      const body = await data(api.GET('/api/health'));
      return { status: String((body as { status?: unknown }).status ?? '') };
    },
    whoami: () => data(api.GET('/api/auth/whoami')),
    async listDeployments(namespace) {
      const all: DeploymentStatus[] = [];
      for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
        const body = await data(
          api.GET('/api/deployments', {
            params: { query: { ...(namespace ? { namespace } : {}), limit: PAGE, offset } },
          })
        );
        all.push(...body.deployments);
        if (!body.pagination.hasMore || body.deployments.length === 0) break;
        offset += body.deployments.length;
      }
      return all;
    },
    getDeployment: (name, namespace) =>
      data(
        api.GET('/api/deployments/{name}', { params: { path: { name }, query: ns(namespace) } })
      ),
    async pods(name, namespace) {
      const body = await data(
        api.GET('/api/deployments/{name}/pods', {
          params: { path: { name }, query: ns(namespace) },
        })
      );
      return body.pods;
    },
    logs: (name, namespace, podName, tailLines = 200) =>
      // Without `follow` the answer is JSON (the route's other content type is its SSE stream).
      data<components['schemas']['LogsResponse']>(
        api.GET('/api/deployments/{name}/logs', {
          params: {
            path: { name },
            query: { namespace, tailLines, ...(podName ? { podName } : {}) },
          },
        }) as Promise<{ data?: components['schemas']['LogsResponse']; response: Response }>
      ),
    metrics: (name, namespace) =>
      data(
        api.GET('/api/deployments/{name}/metrics', {
          params: { path: { name }, query: ns(namespace) },
        })
      ),
    async createDeployment(body) {
      const answer = await data(api.POST('/api/deployments', { body }));
      // Without `dryRun` the backend answers 201 with the created name (200 is the dry run's manifest).
      if (!('message' in answer))
        throw new Error('The backend answered a create with a dry-run manifest.');
      return answer;
    },
    async deleteDeployment(name, namespace) {
      await api.DELETE('/api/deployments/{name}', {
        params: { path: { name }, query: ns(namespace) },
      });
    },
    async scale(name, namespace, replicas) {
      await api.PATCH('/api/deployments/{name}', {
        params: { path: { name }, query: ns(namespace) },
        body: { replicas },
      });
    },
    async models() {
      return (await data(api.GET('/api/models'))).models;
    },
    async searchModels(q, limit = 20) {
      const body = await data(api.GET('/api/models/search', { params: { query: { q, limit } } }));
      return body.models;
    },
    plan: id => data(api.GET('/api/models/{id}/plan', { params: { path: { id } } })),
    async runtimes() {
      return (await data(api.GET('/api/runtimes/status'))).runtimes;
    },
    installProvider: id =>
      data(
        api.POST('/api/installation/providers/{id}/install', {
          params: { path: { id }, query: { async: true } },
        })
      ),
    uninstallProvider: id =>
      data(
        api.POST('/api/installation/providers/{id}/uninstall', {
          params: { path: { id }, query: { async: true } },
        })
      ),
    followDeployments: (namespace, onEvent, signal) =>
      client.deploymentEvents(namespace ? { namespace } : {}, { onEvent, signal }),
  };
}

/** A list after one live event: snapshots replace it, upserts replace or add, deletes remove. */
export function applyDeploymentEvent(
  list: DeploymentStatus[],
  event: DeploymentEvent
): DeploymentStatus[] {
  switch (event.type) {
    case 'snapshot':
      return event.deployments;
    case 'upsert': {
      const d = event.deployment;
      const i = list.findIndex(x => x.name === d.name && x.namespace === d.namespace);
      if (i === -1) return [...list, d];
      const next = list.slice();
      next[i] = d;
      return next;
    }
    case 'delete':
      return list.filter(x => !(x.name === event.name && x.namespace === event.namespace));
  }
}
