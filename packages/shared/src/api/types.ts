/**
 * The type names of the reference implementation's `@kubeairunway/shared` package, the ones its
 * React UI and its Headlamp plugin import. Where this backend answers with the same shape the
 * name is an alias of the generated schema (so the types stay true to the server); the others
 * describe what a client of the reference builds or reads. Differences from the reference are
 * listed in docs/compatibility.md.
 */
import type { components } from "../schema";

type Schemas = components["schemas"];

// ---------------------------------------------------------------------------------------------
// Models

/** Inference engines. */
export type Engine = Schemas["Engine"];
/** What a model is for. */
export type ModelTask = Schemas["Task"];
/** A curated catalog model (`GET /api/models`). */
export type Model = Schemas["Model"];

// ---------------------------------------------------------------------------------------------
// Deployments

/** Deployment phases. */
export type DeploymentPhase = "Pending" | "Deploying" | "Running" | "Failed" | "Terminating";
/** Pod phases. */
export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
/** Serving mode. */
export type DeploymentMode = "aggregated" | "disaggregated";
/** The same as {@link DeploymentMode} (the CRD's name). */
export type ServingMode = DeploymentMode;
/** How a GGUF model runs on KAITO. */
export type GgufRunMode = "build" | "direct";
/** Dynamo's request routing; `default` is the later reference's name of `none`. */
export type RouterMode = "none" | "default" | "kv" | "round-robin";
/** Which KAITO object serves the deployment. */
export type KaitoResourceType = "workspace" | "inferenceset";
/** Purposes of a storage volume (the later reference's `storage`). */
export type VolumePurpose = "modelCache" | "compilationCache" | "custom";
/** Access modes of a storage volume. */
export type PersistentVolumeAccessMode = "ReadWriteOnce" | "ReadWriteMany" | "ReadOnlyMany" | "ReadWriteOncePod";

/** A persistent volume of the later reference's `storage` (not supported by this backend). */
export type StorageVolume = {
  name: string;
  claimName?: string;
  mountPath?: string;
  purpose?: VolumePurpose;
  readOnly?: boolean;
  size?: string;
  storageClassName?: string;
  accessMode?: PersistentVolumeAccessMode;
};

/**
 * Storage of a deployment: this backend accepts only `{volumes: []}`. (A type literal, not an
 * interface, so it fits the request's open object.)
 */
export type StorageSpec = {
  volumes?: StorageVolume[];
};

/**
 * What a client asks to deploy: the body of `POST /api/deployments`. Fields that mean nothing for
 * the chosen mode, engine or provider are accepted and named in the answer's `warnings`.
 */
export interface DeploymentConfig {
  name: string;
  namespace: string;
  modelId: string;
  engine: Engine;
  mode: DeploymentMode;
  provider?: string;
  servedModelName?: string;
  routerMode: RouterMode;
  replicas: number;
  hfTokenSecret?: string;
  contextLength?: number;
  enforceEager: boolean;
  enablePrefixCaching: boolean;
  trustRemoteCode: boolean;
  resources?: { gpu: number; memory?: string; cpu?: string };
  engineArgs?: Record<string, unknown>;
  prefillReplicas?: number;
  decodeReplicas?: number;
  prefillGpus?: number;
  decodeGpus?: number;
  modelSource?: "premade" | "huggingface" | "vllm";
  premadeModel?: string;
  ggufFile?: string;
  ggufRunMode?: GgufRunMode;
  imageRef?: string;
  computeType?: "cpu" | "gpu";
  maxModelLen?: number;
  kaitoResourceType?: KaitoResourceType;
  providerOverrides?: Record<string, unknown>;
  storage?: StorageSpec;
}

/** A standard Kubernetes condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** One pod of a deployment. */
export type PodStatus = Schemas["PodStatus"];
/** A deployment as the API reports it (list items, `GET /api/deployments/{name}`). */
export type DeploymentStatus = Schemas["DeploymentStatus"];
/** The gateway a deployment is reachable through (`DeploymentStatus.gateway`). */
export type GatewayStatus = Schemas["Gateway"];
/** Cluster connectivity (`GET /api/cluster/status`). */
export type ClusterStatus = Schemas["ClusterStatus"];
/** The same answer, under the name of the reference's response types. */
export type ClusterStatusResponse = ClusterStatus;
/** Pagination of a list. */
export type Pagination = Schemas["Pagination"];
/** `GET /api/deployments`. */
export type DeploymentsListResponse = Schemas["DeploymentList"];
/** The reference's name of a list without pagination. */
export type DeploymentListResponse = DeploymentsListResponse;

/** Which logs to read. */
export interface PodLogsOptions {
  podName?: string;
  container?: string;
  tailLines?: number;
  timestamps?: boolean;
}

/** `GET /api/deployments/{name}/logs`. */
export type PodLogsResponse = Schemas["LogsResponse"];

/** The ModelDeployment custom resource (`kubeairunway.ai/v1alpha1`), as manifests show it. */
export interface ModelDeployment {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: ModelDeploymentSpec;
  status?: ModelDeploymentStatus;
}

/** `spec` of a ModelDeployment (the fields clients read; the CRD has more). */
export interface ModelDeploymentSpec {
  model: { id?: string; servedName?: string; source?: "huggingface" | "custom" };
  provider?: { name?: string; overrides?: Record<string, unknown> };
  engine?: { type?: Engine; contextLength?: number; trustRemoteCode?: boolean; args?: Record<string, string> };
  serving?: { mode?: DeploymentMode };
  scaling?: {
    replicas?: number;
    prefill?: { replicas: number; gpu?: { count: number; type?: string } };
    decode?: { replicas: number; gpu?: { count: number; type?: string } };
  };
  resources?: { gpu?: { count: number; type?: string }; memory?: string; cpu?: string };
  image?: string;
  secrets?: { huggingFaceToken?: string };
  gateway?: { enabled?: boolean; modelName?: string; httpRouteRef?: string };
  [field: string]: unknown;
}

/** `status` of a ModelDeployment. */
export interface ModelDeploymentStatus {
  phase?: DeploymentPhase;
  message?: string;
  provider?: { name?: string; resourceName?: string; resourceKind?: string; selectedReason?: string };
  engine?: { type?: Engine; selectedReason?: string };
  replicas?: { desired: number; ready: number; available: number };
  prefillReplicas?: { desired: number; ready: number };
  decodeReplicas?: { desired: number; ready: number };
  endpoint?: { service?: string; port?: number };
  gateway?: { endpoint?: string; modelName?: string };
  conditions?: Condition[];
  observedGeneration?: number;
}

// ---------------------------------------------------------------------------------------------
// Settings and runtimes

/** A provider as the reference's settings listed it (this backend has no such list). */
export interface ProviderInfo {
  id: string;
  name: string;
  description?: string;
  defaultNamespace?: string;
}

/** A provider with its installation details (this backend has no such route). */
export interface ProviderDetails extends ProviderInfo {
  crdConfig?: { apiGroup: string; apiVersion: string; plural: string; kind: string };
  installationSteps?: { title: string; command?: string; description: string }[];
  helmRepos?: { name: string; url: string }[];
  helmCharts?: { name: string; chart: string; version?: string; namespace: string; createNamespace?: boolean }[];
}

/** `GET /api/settings`; `providers` was declared by the reference but never sent. */
export type Settings = Schemas["SettingsResponse"] & { providers?: ProviderInfo[] };
/** One runtime (`GET /api/runtimes/status`). */
export type RuntimeStatus = Schemas["RuntimeStatus"];
/** `GET /api/runtimes/status`. */
export type RuntimesStatusResponse = Schemas["RuntimesStatus"];

// ---------------------------------------------------------------------------------------------
// Installation and GPUs

/** `GET /api/installation/helm/status`. */
export type HelmStatus = Schemas["HelmStatus"];
/** `GET /api/installation/providers/{id}/status`. */
export type InstallationStatus = Schemas["ProviderInstallStatus"];
/** The answer of an install or uninstall: `{success, message, results}` once Helm finished. */
export type InstallResult = Schemas["JobOutcome"] & { alreadyInstalled?: boolean };
/** `GET /api/installation/gpu-operator/status`. */
export type GPUOperatorStatus = Schemas["GpuOperatorStatus"];
/** `POST /api/installation/gpu-operator/install`. */
export type GPUOperatorInstallResult = InstallResult & { status?: GPUOperatorStatus };
/** GPUs of one node. */
export type NodeGpuInfo = Schemas["NodeGpuCapacity"];
/** `GET /api/installation/gpu-capacity`. */
export type ClusterGpuCapacity = Schemas["ClusterGpuCapacity"];
/** `GET /api/installation/gpu-capacity/detailed`. */
export type DetailedClusterCapacity = Schemas["DetailedClusterCapacity"];
/** A node pool of the detailed capacity. */
export type NodePoolInfo = Schemas["NodePoolInfo"];
/** Why a pod is pending (`GET /api/deployments/{name}/pending-reasons`). */
export type PodFailureReason = Schemas["PodFailureReason"];

// ---------------------------------------------------------------------------------------------
// HuggingFace

/** Who signed in to HuggingFace. */
export type HfUserInfo = Schemas["HfUserInfo"];
/** `POST /api/oauth/huggingface/token` body. */
export type HfTokenExchangeRequest = Schemas["TokenRequest"];
/** `POST /api/oauth/huggingface/token` answer. */
export type HfTokenExchangeResponse = Schemas["TokenResponse"];
/** `POST /api/secrets/huggingface` body. */
export type HfSaveSecretRequest = Schemas["SaveRequest"];
/** `GET /api/secrets/huggingface/status`. */
export type HfSecretStatus = Schemas["SecretStatus"];
/** A HuggingFace search result. */
export type HfModelSearchResult = Schemas["HfModelSearchResult"];
/** `GET /api/models/search`. */
export type HfModelSearchResponse = Schemas["SearchResponse"];

/** A search. */
export interface HfSearchParams {
  query: string;
  limit?: number;
  offset?: number;
  hfToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Features this backend does not implement (their routes answer 404); the types stay so
// clients written for the reference compile.

/** One sample of a Prometheus metric. */
export interface RawMetricValue {
  name: string;
  value: number;
  labels: Record<string, string>;
}

/** A metric computed for display. */
export interface ComputedMetric {
  name: string;
  displayName: string;
  value: number;
  unit: string;
}

/** Computed metrics by name. */
export type ComputedMetrics = Record<string, ComputedMetric>;

/** How a metric is read and shown. */
export interface MetricDefinition {
  name: string;
  displayName: string;
  unit: string;
  description?: string;
  type?: "gauge" | "counter" | "histogram";
}

/** `GET /api/deployments/{name}/metrics` (not implemented here). */
export interface MetricsResponse {
  available: boolean;
  error?: string;
  timestamp: string;
  metrics: RawMetricValue[];
  runningOffCluster?: boolean;
}

/** `GET /api/autoscaler/detection` (not implemented here). */
export interface AutoscalerDetectionResult {
  type: "none" | "aks-managed" | "cluster-autoscaler" | "unknown";
  detected: boolean;
  healthy: boolean;
  message: string;
  nodeGroupCount?: number;
}

/** `GET /api/autoscaler/status` (not implemented here). */
export interface AutoscalerStatusInfo {
  health: string;
  lastUpdated?: string;
  nodeGroups?: { name: string; minSize: number; maxSize: number; currentSize: number }[];
}

/** An AIKit premade model. */
export interface PremadeModel {
  id: string;
  name: string;
  modelName: string;
  image: string;
  size?: string;
  license?: string;
  description?: string;
  computeType?: "cpu" | "gpu";
}

/** `POST /api/aikit/build` body. */
export interface AikitBuildRequest {
  modelSource: "premade" | "huggingface";
  premadeModel?: string;
  modelId?: string;
  ggufFile?: string;
  imageName?: string;
  imageTag?: string;
}

/** `POST /api/aikit/build` answer. */
export interface AikitBuildResult {
  success: boolean;
  imageRef?: string;
  buildTime?: number;
  wasPremade?: boolean;
  message?: string;
  error?: string;
}

/** `POST /api/aikit/build/preview` answer. */
export interface AikitPreviewResult {
  imageRef: string;
  wasPremade: boolean;
  requiresBuild: boolean;
  registryUrl: string;
}

/** `GET /api/aikit/infrastructure/status`. */
export interface AikitInfrastructureStatus {
  ready: boolean;
  error?: string;
  builder: { exists?: boolean; running: boolean; ready?: boolean; name?: string; message?: string };
  registry: { installed?: boolean; ready: boolean; url?: string; message?: string };
}

/** An AI Configurator analysis (`POST /api/aiconfigurator/analyze`). */
export type AIConfiguratorResult = Schemas["AIConfiguratorResult"];
