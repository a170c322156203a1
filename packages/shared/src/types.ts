import type { components, paths } from "./schema";

type Schemas = components["schemas"];

/** A deployment as the API reports it (list items, details, live events). */
export type DeploymentStatus = Schemas["DeploymentStatus"];
/** One pod of a deployment. */
export type PodStatus = Schemas["PodStatus"];
/** Why a pod is not running. */
export type PodFailureReason = Schemas["PodFailureReason"];
/** `GET /api/cluster/status`. */
export type ClusterStatus = Schemas["ClusterStatus"];
/** `GET /api/settings`. */
export type SettingsResponse = Schemas["SettingsResponse"];
/** `GET /api/auth/whoami`. */
export type WhoAmI = Schemas["WhoAmI"];
/** `GET /api/deployments/{name}/manifest`. */
export type ManifestResponse = Schemas["ManifestResponse"];
/** One object of a manifest answer. */
export type ManifestResource = Schemas["ManifestResource"];
/** `GET /api/deployments/{name}/logs` without follow. */
export type LogsResponse = Schemas["LogsResponse"];
/** `GET /api/runtimes/status` item. */
export type RuntimeStatus = Schemas["RuntimeStatus"];
/** `POST /api/deployments` body. */
export type CreateDeploymentRequest = Schemas["CreateDeploymentRequest"];
/** `PATCH /api/deployments/{name}` body. */
export type ScaleRequest = Schemas["ScaleRequest"];
/** A curated catalog model (`GET /api/models`). */
export type Model = Schemas["Model"];
/** A HuggingFace search result (`GET /api/models/search`). */
export type HfModelSearchResult = Schemas["HfModelSearchResult"];
/** `GET /api/models/search`. */
export type SearchResponse = Schemas["SearchResponse"];
/** How a model fits each GPU type (`GET /api/models/{id}/plan`). */
export type ModelPlan = Schemas["ModelPlan"];
/** The plan for one GPU type. */
export type GpuPlan = Schemas["GpuPlan"];
/** `GET /api/installation/gpu-capacity`. */
export type ClusterGpuCapacity = Schemas["ClusterGpuCapacity"];
/** `GET /api/aiconfigurator/status`. */
export type AIConfiguratorStatus = Schemas["AIConfiguratorStatus"];
/** `POST /api/aiconfigurator/analyze` body. */
export type AIConfiguratorAnalyzeRequest = Schemas["AIConfiguratorAnalyzeRequest"];
/** `POST /api/aiconfigurator/analyze` answer: settings from AI Configurator, or marked defaults. */
export type AIConfiguratorAnalysis = Schemas["AIConfiguratorResult"];
/** The deployment settings of an analysis. */
export type AIConfiguratorConfig = Schemas["AIConfiguratorConfig"];
/** `POST /api/deployments` answer. */
export type CreateResponse = Schemas["CreateResponse"];
/** `GET /api/installation/helm/status`. */
export type HelmStatus = Schemas["HelmStatus"];
/** `GET /api/installation/providers/{id}/status`. */
export type ProviderInstallStatus = Schemas["ProviderInstallStatus"];
/** `GET /api/installation/providers/{id}/commands`. */
export type ProviderCommands = Schemas["ProviderCommands"];
/** `GET /api/installation/gpu-operator/status`. */
export type GpuOperatorStatus = Schemas["GpuOperatorStatus"];
/** A chart of a provider's installation with its release. */
export type ChartStatus = Schemas["ChartStatus"];
/** The job running for a provider or the GPU Operator. */
export type ActiveJob = Schemas["ActiveJob"];
/** `GET /api/jobs/{id}`: a job with its steps. */
export type JobView = Schemas["JobView"];
/** A started step of a job. */
export type StepView = Schemas["StepView"];
/** A step still to run. */
export type PlannedStep = Schemas["PlannedStep"];
/** Where a job is. */
export type JobState = Schemas["JobState"];
/** Where a step is. */
export type StepState = Schemas["StepState"];
/** What a job does. */
export type JobKind = Schemas["JobKind"];
/** `202` answer of an installation endpoint. */
export type JobAccepted = Schemas["JobAccepted"];
/** Inference engines. */
export type Engine = Schemas["Engine"];
/** `GET /api/deployments/{name}/metrics`: samples, figures, rates, history, or why not. */
export type MetricsResponse = Schemas["MetricsResponse"];
/** The key figures of one scrape. */
export type MetricsSummary = Schemas["Summary"];
/** Per-second rates and window latencies between two scrapes. */
export type MetricsRates = Schemas["Rates"];
/** One point of the metrics history. */
export type MetricsPoint = Schemas["Point"];
/** Why metrics are unavailable, as a code. */
export type MetricsUnavailable = Schemas["Unavailable"];
/** A latency histogram's figures. */
export type Latency = Schemas["Latency"];
/** `GET /api/autoscaler/detection`. */
export type AutoscalerDetection = Schemas["Detection"];
/** `GET /api/autoscaler/status`. */
export type AutoscalerStatus = Schemas["AutoscalerStatus"];
/** One node group of the autoscaler's status. */
export type AutoscalerNodeGroup = Schemas["NodeGroup"];
/** A scale-up or scale-down condition. */
export type AutoscalerActivity = Schemas["Activity"];
/** `POST /api/costs/estimate` body. */
export type CostEstimateRequest = Schemas["EstimateRequest"];
/** `POST /api/costs/estimate` answer. */
export type CostEstimateResponse = Schemas["EstimateResponse"];
/** An estimate with how it was made. */
export type CostBreakdown = Schemas["CostBreakdown"];
/** `GET /api/costs/node-pools` answer. */
export type NodePoolCostsResponse = Schemas["NodePoolsResponse"];
/** One node pool's cost. */
export type NodePoolCost = Schemas["NodePoolCost"];
/** A premade AIKit image (`GET /api/aikit/models`). */
export type AikitPremadeModel = Schemas["PremadeModel"];
/** `POST /api/aikit/build` and `/build/preview` body. */
export type AikitBuildBody = Schemas["BuildBody"];
/** `POST /api/aikit/build/preview` answer. */
export type AikitBuildPreview = Schemas["BuildPreview"];
/** `POST /api/aikit/build` synchronous answer. */
export type AikitBuildOutcome = Schemas["BuildResult"];
/** `GET /api/aikit/infrastructure/status`. */
export type AikitInfrastructure = Schemas["InfrastructureStatus"];
/** `POST /api/aikit/infrastructure/setup`. */
export type AikitSetupResult = Schemas["SetupResult"];
/** `GET /api/activity`: a page of recorded changes. */
export type ActivityList = Schemas["ActivityList"];
/** One change made through the API: who, what, on which object, how it ended. */
export type ActivityEntry = Schemas["ActivityEntry"];
/** What a recorded change did. */
export type ActivityAction = Schemas["ActivityAction"];
/** How a recorded change ended. */
export type ActivityOutcome = Schemas["ActivityOutcome"];

/** Deployment phases (the schema types `phase` as a string). */
export type DeploymentPhase = "Pending" | "Deploying" | "Running" | "Failed" | "Terminating";

/**
 * A standard Kubernetes condition (`metav1.Condition`). The OpenAPI document describes
 * `conditions` as open objects, so fields are read defensively with {@link conditionsOf}.
 */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The conditions of a deployment, with unknown shapes dropped. */
export function conditionsOf(deployment: Pick<DeploymentStatus, "conditions">): Condition[] {
  const out: Condition[] = [];
  for (const raw of deployment.conditions ?? []) {
    const type = str(raw.type);
    const status = str(raw.status);
    if (type === undefined || status === undefined) continue;
    const c: Condition = { type, status };
    const reason = str(raw.reason);
    const message = str(raw.message);
    const at = str(raw.lastTransitionTime);
    if (reason !== undefined) c.reason = reason;
    if (message !== undefined) c.message = message;
    if (at !== undefined) c.lastTransitionTime = at;
    if (typeof raw.observedGeneration === "number") c.observedGeneration = raw.observedGeneration;
    out.push(c);
  }
  return out;
}

/** Live deployment-list events (`GET /api/deployments/events`). */
export type DeploymentEvent =
  | { type: "snapshot"; deployments: DeploymentStatus[] }
  | { type: "upsert"; deployment: DeploymentStatus }
  | { type: "delete"; namespace: string; name: string };

/** Events of a followed log (`GET /api/deployments/{name}/logs?follow=true`). */
export type LogEvent =
  | { type: "log"; line: string }
  | { type: "end"; message: string }
  | { type: "error"; message: string };

/** Query of the log endpoint. */
export type LogsQuery = NonNullable<paths["/api/deployments/{name}/logs"]["get"]["parameters"]["query"]>;

/** The output stream a job's line came from. */
export type JobStream = "stdout" | "stderr";

/** Events of a job (`GET /api/jobs/{id}/events`). */
export type JobEvent =
  | { type: "snapshot"; job: JobView }
  | { type: "state"; state: JobState }
  | { type: "step-start"; index: number; step: string; title: string; command: string }
  | { type: "output"; index: number; step: string; stream: JobStream; line: string }
  | {
      type: "step-end";
      index: number;
      step: string;
      state: StepState;
      success: boolean;
      exitCode: number | null;
      timedOut: boolean;
      durationMs: number | null;
    }
  | { type: "end"; job: JobView };
