/**
 * `@kubeairunway/shared/api`: the import surface of the reference implementation's shared client,
 * so code written for it (the reference's React UI, its Headlamp plugin) keeps working against
 * this backend: `createApiClient({baseUrl, getToken, onUnauthorized?, fetchImpl?})` with the same
 * groups and function names, `ApiError(statusCode, message)`, `createRequestFn`, and the type
 * names (`./types`).
 *
 * Every route this backend serves goes through the generated, typed client of this package
 * (`../client`); the few the reference's client called that this backend does not implement
 * (provider upgrade and the settings' provider list)
 * are plain requests that reject with an `ApiError` of status 404. Deliberate differences from
 * the reference's client: HuggingFace tokens travel in `X-HF-Token` (the reference put them in
 * `Authorization`, replacing the cluster token), and errors carry `status` as well as
 * `statusCode`. Our own UI uses the generated client directly.
 */
import { createApiClient as createGeneratedClient, data } from "../client";
import { errorFromNetwork, errorFromResponse } from "../errors";
import type { components } from "../schema";
import type {
  AIConfiguratorResult,
  AikitBuildRequest,
  AikitBuildResult,
  AikitInfrastructureStatus,
  AikitPreviewResult,
  AutoscalerDetectionResult,
  AutoscalerStatusInfo,
  ClusterGpuCapacity,
  ClusterStatusResponse,
  DeploymentConfig,
  DeploymentStatus,
  DeploymentsListResponse,
  DetailedClusterCapacity,
  GPUOperatorInstallResult,
  GPUOperatorStatus,
  HelmStatus,
  HfModelSearchResponse,
  HfSaveSecretRequest,
  HfSecretStatus,
  HfTokenExchangeRequest,
  HfTokenExchangeResponse,
  InstallationStatus,
  InstallResult,
  MetricsResponse,
  Model,
  PodFailureReason,
  PodLogsOptions,
  PodLogsResponse,
  PodStatus,
  PremadeModel,
  ProviderDetails,
  ProviderInfo,
  RuntimesStatusResponse,
  Settings,
} from "./types";

export { ApiError, isApiError } from "../errors";
export type * from "./types";

type Schemas = components["schemas"];

// ---------------------------------------------------------------------------------------------
// Configuration and the request function

/** How the client finds the backend and the caller's token. */
export interface ApiClientConfig {
  /** Origin of the backend, e.g. `http://kubeairunway.kubeairunway-system.svc:3001`; `''` means same origin. */
  baseUrl: string;
  /** The Kubernetes bearer token to send, or `null` for none. */
  getToken: () => string | null;
  /** Called when the backend answers 401. */
  onUnauthorized?: () => void;
  /** A `fetch` to use instead of the global one. */
  fetchImpl?: typeof fetch;
}

/** `request<T>(endpoint, init?)`: `endpoint` is relative to `/api`. */
export type RequestFn = <T>(endpoint: string, options?: RequestInit) => Promise<T>;

function fetchOf(config: ApiClientConfig): typeof fetch {
  return config.fetchImpl ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
}

/**
 * A request function for `config`: JSON in and out, the bearer token when there is one, and an
 * {@link ApiError} with the backend's message for every non-2xx answer.
 */
export function createRequestFn(config: ApiClientConfig): RequestFn {
  const fetchFn = fetchOf(config);
  return async <T>(endpoint: string, options?: RequestInit): Promise<T> => {
    const headers = new Headers(options?.headers);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    const token = config.getToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    let response: Response;
    try {
      response = await fetchFn(`${config.baseUrl}/api${endpoint}`, { ...options, headers });
    } catch (cause) {
      throw errorFromNetwork(cause);
    }
    if (!response.ok) {
      if (response.status === 401) config.onUnauthorized?.();
      throw await errorFromResponse(response);
    }
    return (await response.json()) as T;
  };
}

// ---------------------------------------------------------------------------------------------
// The API groups

/** Response of a create. */
export type CreateDeploymentResponse = Schemas["CreateResponse"];
/** Response of a delete. */
export type DeleteDeploymentResponse = Schemas["MessageResponse"];
/** One object of a manifest. */
export type DeploymentResource = Schemas["ManifestResource"];
/** `POST /api/deployments/preview`. */
export type PreviewResponse = Schemas["ManifestResponse"];
/** `GET /api/deployments/{name}/manifest`. */
export type ManifestResponse = Schemas["ManifestResponse"];
/** `GET /api/health`. */
export type HealthCheckResponse = Schemas["Health"];
/** A node of `GET /api/cluster/nodes`. */
export type ClusterNode = Schemas["NodeInfo"];
/** `PUT /api/settings` body. */
export type UpdateSettingsRequest = Schemas["SettingsUpdate"];
/** `PUT /api/settings` answer. */
export type UpdateSettingsResponse = Schemas["SettingsUpdated"];
/** `GET /api/installation/providers/{id}/commands`. */
export type ProviderCommandsResponse = Schemas["ProviderCommands"];
/** `GET /api/oauth/huggingface/config`. */
export type HfOAuthConfig = Schemas["OAuthConfig"];
/** `POST /api/oauth/huggingface/start` answer. */
export type HfStartOAuthResponse = Schemas["StartResponse"];
/** `GET /api/oauth/huggingface/verifier/{state}`. */
export type HfVerifierResponse = Schemas["VerifierResponse"];
/** `POST /api/secrets/huggingface` answer. */
export type HfSaveSecretResponse = Schemas["SaveResponse"];
/** `DELETE /api/secrets/huggingface` answer. */
export type HfDeleteSecretResponse = Schemas["DeleteResponse"];
/** `POST /api/aikit/infrastructure/setup` answer. */
export interface AikitSetupResponse {
  success: boolean;
  message: string;
}
/** `POST /api/aiconfigurator/normalize-gpu` answer. */
export type NormalizeGpuResponse = Schemas["AIConfiguratorNormalizeResponse"];

/** Paging of a deployment list. */
export interface DeploymentListOptions {
  limit?: number;
  offset?: number;
}

/** Which logs to read. */
export type DeploymentLogsOptions = PodLogsOptions;

/** Options of a HuggingFace search. */
export interface HfSearchOptions {
  limit?: number;
  offset?: number;
  hfToken?: string;
}

/** The catalog. */
export interface ModelsApi {
  list: () => Promise<{ models: Model[] }>;
  get: (id: string) => Promise<Model>;
}

/** Deployments. */
export interface DeploymentsApi {
  list: (namespace?: string, options?: DeploymentListOptions) => Promise<DeploymentsListResponse>;
  get: (name: string, namespace?: string) => Promise<DeploymentStatus>;
  create: (config: DeploymentConfig) => Promise<CreateDeploymentResponse>;
  delete: (name: string, namespace?: string) => Promise<DeleteDeploymentResponse>;
  getPods: (name: string, namespace?: string) => Promise<{ pods: PodStatus[] }>;
  getMetrics: (name: string, namespace?: string) => Promise<MetricsResponse>;
  getLogs: (name: string, namespace?: string, options?: DeploymentLogsOptions) => Promise<PodLogsResponse>;
  preview: (config: DeploymentConfig) => Promise<PreviewResponse>;
  getManifest: (name: string, namespace?: string) => Promise<ManifestResponse>;
}

/** Health and cluster. */
export interface HealthApi {
  check: () => Promise<HealthCheckResponse>;
  clusterStatus: () => Promise<ClusterStatusResponse>;
  getClusterNodes: () => Promise<{ nodes: ClusterNode[] }>;
}

/** Settings. */
export interface SettingsApi {
  get: () => Promise<Settings>;
  update: (settings: UpdateSettingsRequest) => Promise<UpdateSettingsResponse>;
  /** Not implemented by this backend (nor by the reference's): rejects with a 404. */
  listProviders: () => Promise<{ providers: ProviderInfo[] }>;
  /** Not implemented by this backend (nor by the reference's): rejects with a 404. */
  getProvider: (id: string) => Promise<ProviderDetails>;
}

/** Runtimes. */
export interface RuntimesApi {
  getStatus: () => Promise<RuntimesStatusResponse>;
}

/** Runtime installation. Installs answer when Helm has finished, however long it takes. */
export interface InstallationApi {
  getHelmStatus: () => Promise<HelmStatus>;
  getProviderStatus: (providerId: string) => Promise<InstallationStatus>;
  getProviderCommands: (providerId: string) => Promise<ProviderCommandsResponse>;
  installProvider: (providerId: string) => Promise<InstallResult>;
  /** Not implemented by this backend (nor by the reference's): rejects with a 404. */
  upgradeProvider: (providerId: string) => Promise<InstallResult>;
  uninstallProvider: (providerId: string) => Promise<InstallResult>;
  uninstallProviderCRDs: (providerId: string) => Promise<InstallResult>;
}

/** The GPU Operator and GPU capacity. */
export interface GpuOperatorApi {
  getStatus: () => Promise<GPUOperatorStatus>;
  install: () => Promise<GPUOperatorInstallResult>;
  getCapacity: () => Promise<ClusterGpuCapacity>;
  getDetailedCapacity: () => Promise<DetailedClusterCapacity>;
}

/** The cluster autoscaler: detection and the `cluster-autoscaler-status` ConfigMap. */
export interface AutoscalerApi {
  detect: () => Promise<AutoscalerDetectionResult>;
  getStatus: () => Promise<AutoscalerStatusInfo>;
  getPendingReasons: (deploymentName: string, namespace?: string) => Promise<{ reasons: PodFailureReason[] }>;
}

/** HuggingFace sign-in, token Secret and search. */
export interface HuggingFaceApi {
  getOAuthConfig: () => Promise<HfOAuthConfig>;
  startOAuth: (data: { redirectUri: string }) => Promise<HfStartOAuthResponse>;
  getVerifier: (state: string) => Promise<HfVerifierResponse>;
  exchangeToken: (data: HfTokenExchangeRequest) => Promise<HfTokenExchangeResponse>;
  getSecretStatus: () => Promise<HfSecretStatus>;
  saveSecret: (data: HfSaveSecretRequest) => Promise<HfSaveSecretResponse>;
  deleteSecret: () => Promise<HfDeleteSecretResponse>;
  searchModels: (query: string, options?: HfSearchOptions) => Promise<HfModelSearchResponse>;
  getGgufFiles: (modelId: string, hfToken?: string) => Promise<{ files: string[] }>;
}

/** AIKit image builds (`build` waits for the build; `?async=true` jobs are in our own client). */
export interface AikitApi {
  listModels: () => Promise<{ models: PremadeModel[] }>;
  getModel: (id: string) => Promise<PremadeModel>;
  build: (request: AikitBuildRequest) => Promise<AikitBuildResult>;
  preview: (request: AikitBuildRequest) => Promise<AikitPreviewResult>;
  getInfrastructureStatus: () => Promise<AikitInfrastructureStatus>;
  setupInfrastructure: () => Promise<AikitSetupResponse>;
}

/** The AI Configurator. */
export interface AIConfiguratorApi {
  getStatus: () => Promise<Schemas["AIConfiguratorStatus"]>;
  analyze: (input: Schemas["AIConfiguratorAnalyzeRequest"]) => Promise<AIConfiguratorResult>;
  normalizeGpu: (gpuProduct: string) => Promise<NormalizeGpuResponse>;
}

/** Deployment metrics, scraped from the deployment's pods. */
export interface MetricsApi {
  get: (deploymentName: string, namespace?: string) => Promise<MetricsResponse>;
}

/** The whole client. */
export interface ApiClient {
  models: ModelsApi;
  deployments: DeploymentsApi;
  health: HealthApi;
  settings: SettingsApi;
  runtimes: RuntimesApi;
  installation: InstallationApi;
  gpuOperator: GpuOperatorApi;
  autoscaler: AutoscalerApi;
  huggingFace: HuggingFaceApi;
  aikit: AikitApi;
  aiConfigurator: AIConfiguratorApi;
  metrics: MetricsApi;
}

/** The generated client every implemented group is built on. */
type Generated = ReturnType<typeof createGeneratedClient>["api"];

function generated(config: ApiClientConfig): Generated {
  return createGeneratedClient({
    // `''` is the reference's "same origin".
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    getToken: () => config.getToken(),
    onUnauthorized: () => config.onUnauthorized?.(),
    ...(config.fetchImpl ? { fetch: config.fetchImpl } : {}),
  }).api;
}

function namespaced(namespace?: string): { namespace?: string } {
  return namespace ? { namespace } : {};
}

function hfHeaders(hfToken?: string): { "X-HF-Token"?: string } {
  return hfToken ? { "X-HF-Token": hfToken } : {};
}

/** The request body of a reference `DeploymentConfig` (`routerMode: default` is `none`). */
function requestBody(config: DeploymentConfig): Schemas["CreateDeploymentRequest"] {
  const { routerMode, ...rest } = config;
  return { ...rest, routerMode: routerMode === "default" ? "none" : routerMode };
}

/** The catalog. */
export function createModelsApi(api: Generated): ModelsApi {
  return {
    list: () => data(api.GET("/api/models")),
    get: (id) => data(api.GET("/api/models/{id}", { params: { path: { id } } })),
  };
}

/** Deployments; `getMetrics` goes through `request` (not implemented here). */
export function createDeploymentsApi(api: Generated, request: RequestFn): DeploymentsApi {
  const path = (name: string) => ({ name });
  return {
    list: (namespace, options) =>
      data(
        api.GET("/api/deployments", {
          params: {
            query: {
              ...namespaced(namespace),
              ...(options?.limit ? { limit: options.limit } : {}),
              ...(options?.offset ? { offset: options.offset } : {}),
            },
          },
        }),
      ),
    get: (name, namespace) =>
      data(api.GET("/api/deployments/{name}", { params: { path: path(name), query: namespaced(namespace) } })),
    create: async (config) => {
      const created = await data(api.POST("/api/deployments", { body: requestBody(config) }));
      // The dry-run form of this route answers a manifest; a create always answers this.
      return created as CreateDeploymentResponse;
    },
    delete: (name, namespace) =>
      data(api.DELETE("/api/deployments/{name}", { params: { path: path(name), query: namespaced(namespace) } })),
    getPods: (name, namespace) =>
      data(api.GET("/api/deployments/{name}/pods", { params: { path: path(name), query: namespaced(namespace) } })),
    getMetrics: (name, namespace) =>
      request<MetricsResponse>(
        `/deployments/${encodeURIComponent(name)}/metrics${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ""}`,
      ),
    getLogs: (name, namespace, options) =>
      // Without `follow` the answer is JSON (the route's other content type is its SSE stream).
      data<PodLogsResponse>(
        api.GET("/api/deployments/{name}/logs", {
          params: {
            path: path(name),
            query: {
              ...namespaced(namespace),
              ...(options?.podName ? { podName: options.podName } : {}),
              ...(options?.container ? { container: options.container } : {}),
              ...(options?.tailLines ? { tailLines: options.tailLines } : {}),
              ...(options?.timestamps ? { timestamps: true } : {}),
            },
          },
        }) as Promise<{ data?: PodLogsResponse; response: Response }>,
      ),
    preview: (config) => data(api.POST("/api/deployments/preview", { body: requestBody(config) })),
    getManifest: (name, namespace) =>
      data(api.GET("/api/deployments/{name}/manifest", { params: { path: path(name), query: namespaced(namespace) } })),
  };
}

/** Health and cluster. */
export function createHealthApi(api: Generated): HealthApi {
  return {
    check: () => data(api.GET("/api/health")),
    clusterStatus: () => data(api.GET("/api/cluster/status")),
    getClusterNodes: () => data(api.GET("/api/cluster/nodes")),
  };
}

/** Settings; the provider list goes through `request` (no such route). */
export function createSettingsApi(api: Generated, request: RequestFn): SettingsApi {
  return {
    get: () => data(api.GET("/api/settings")),
    update: (settings) => data(api.PUT("/api/settings", { body: settings })),
    listProviders: () => request<{ providers: ProviderInfo[] }>("/settings/providers"),
    getProvider: (id) => request<ProviderDetails>(`/settings/providers/${encodeURIComponent(id)}`),
  };
}

/** Runtimes. */
export function createRuntimesApi(api: Generated): RuntimesApi {
  return { getStatus: () => data(api.GET("/api/runtimes/status")) };
}

/** Runtime installation (synchronous answers, as the reference's clients expect). */
export function createInstallationApi(api: Generated, request: RequestFn): InstallationApi {
  const id = (providerId: string) => ({ path: { id: providerId } });
  // Without `async` the backend answers 200 with the outcome, never 202.
  const outcome = async (call: Promise<{ data?: unknown; response: Response }>) => (await data(call)) as InstallResult;
  return {
    getHelmStatus: () => data(api.GET("/api/installation/helm/status")),
    getProviderStatus: (providerId) =>
      data(api.GET("/api/installation/providers/{id}/status", { params: id(providerId) })),
    getProviderCommands: (providerId) =>
      data(api.GET("/api/installation/providers/{id}/commands", { params: id(providerId) })),
    installProvider: (providerId) =>
      outcome(api.POST("/api/installation/providers/{id}/install", { params: id(providerId) })),
    upgradeProvider: (providerId) =>
      request<InstallResult>(`/installation/providers/${encodeURIComponent(providerId)}/upgrade`, { method: "POST" }),
    uninstallProvider: (providerId) =>
      outcome(api.POST("/api/installation/providers/{id}/uninstall", { params: id(providerId) })),
    uninstallProviderCRDs: (providerId) =>
      outcome(api.POST("/api/installation/providers/{id}/uninstall-crds", { params: id(providerId) })),
  };
}

/** The GPU Operator and GPU capacity. */
export function createGpuOperatorApi(api: Generated): GpuOperatorApi {
  return {
    getStatus: () => data(api.GET("/api/installation/gpu-operator/status")),
    install: async () =>
      (await data(api.POST("/api/installation/gpu-operator/install"))) as GPUOperatorInstallResult,
    getCapacity: () => data(api.GET("/api/installation/gpu-capacity")),
    getDetailedCapacity: () => data(api.GET("/api/installation/gpu-capacity/detailed")),
  };
}

/** The autoscaler; detection and status go through `request` (the reference's types). */
export function createAutoscalerApi(api: Generated, request: RequestFn): AutoscalerApi {
  return {
    detect: () => request<AutoscalerDetectionResult>("/autoscaler/detection"),
    getStatus: () => request<AutoscalerStatusInfo>("/autoscaler/status"),
    getPendingReasons: (deploymentName, namespace) =>
      data(
        api.GET("/api/deployments/{name}/pending-reasons", {
          params: { path: { name: deploymentName }, query: namespaced(namespace) },
        }),
      ),
  };
}

/** HuggingFace: the token goes in `X-HF-Token`, never in `Authorization`. */
export function createHuggingFaceApi(api: Generated): HuggingFaceApi {
  return {
    getOAuthConfig: () => data(api.GET("/api/oauth/huggingface/config")),
    startOAuth: (body) => data(api.POST("/api/oauth/huggingface/start", { body })),
    getVerifier: (state) =>
      data(api.GET("/api/oauth/huggingface/verifier/{state}", { params: { path: { state } } })),
    exchangeToken: (body) => data(api.POST("/api/oauth/huggingface/token", { body })),
    getSecretStatus: () => data(api.GET("/api/secrets/huggingface/status")),
    saveSecret: (body) => data(api.POST("/api/secrets/huggingface", { body })),
    deleteSecret: () => data(api.DELETE("/api/secrets/huggingface")),
    searchModels: (query, options) =>
      data(
        api.GET("/api/models/search", {
          params: {
            query: {
              q: query,
              ...(options?.limit ? { limit: options.limit } : {}),
              ...(options?.offset ? { offset: options.offset } : {}),
            },
            header: hfHeaders(options?.hfToken),
          },
        }),
      ),
    getGgufFiles: (modelId, hfToken) =>
      data(api.GET("/api/models/{id}/gguf-files", { params: { path: { id: modelId }, header: hfHeaders(hfToken) } })),
  };
}

/** AIKit. */
export function createAikitApi(request: RequestFn): AikitApi {
  const post = (body?: unknown): RequestInit => ({
    method: "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    listModels: () => request<{ models: PremadeModel[] }>("/aikit/models"),
    getModel: (id) => request<PremadeModel>(`/aikit/models/${encodeURIComponent(id)}`),
    build: (body) => request<AikitBuildResult>("/aikit/build", post(body)),
    preview: (body) => request<AikitPreviewResult>("/aikit/build/preview", post(body)),
    getInfrastructureStatus: () => request<AikitInfrastructureStatus>("/aikit/infrastructure/status"),
    setupInfrastructure: () => request<AikitSetupResponse>("/aikit/infrastructure/setup", post()),
  };
}

/** The AI Configurator. */
export function createAIConfiguratorApi(api: Generated): AIConfiguratorApi {
  return {
    getStatus: () => data(api.GET("/api/aiconfigurator/status")),
    analyze: (input) => data(api.POST("/api/aiconfigurator/analyze", { body: input })),
    normalizeGpu: (gpuProduct) => data(api.POST("/api/aiconfigurator/normalize-gpu", { body: { gpuProduct } })),
  };
}

/** Deployment metrics (the reference's types, through `request`). */
export function createMetricsApi(request: RequestFn): MetricsApi {
  return {
    get: (deploymentName, namespace) =>
      request<MetricsResponse>(
        `/deployments/${encodeURIComponent(deploymentName)}/metrics${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ""}`,
      ),
  };
}

/**
 * A client with the reference's groups and functions. Every failure rejects with an
 * {@link ApiError} whose `statusCode` (and `status`) is the HTTP status and whose message is the
 * backend's.
 */
export function createApiClient(config: ApiClientConfig): ApiClient {
  const api = generated(config);
  const request = createRequestFn(config);
  return {
    models: createModelsApi(api),
    deployments: createDeploymentsApi(api, request),
    health: createHealthApi(api),
    settings: createSettingsApi(api, request),
    runtimes: createRuntimesApi(api),
    installation: createInstallationApi(api, request),
    gpuOperator: createGpuOperatorApi(api),
    autoscaler: createAutoscalerApi(api, request),
    huggingFace: createHuggingFaceApi(api),
    aikit: createAikitApi(request),
    aiConfigurator: createAIConfiguratorApi(api),
    metrics: createMetricsApi(request),
  };
}
