import type { ClusterGpuCapacity, CreateDeploymentRequest, Engine } from "@kubeairunway/shared";

/**
 * A deployment name for a model: the last part of its id in DNS-1035 form (lower case, letters,
 * digits and `-`, starting with a letter), cut to 40 characters, plus `-` and 4 random characters.
 */
export function deploymentName(modelId: string, random: () => number = Math.random): string {
  let base = (modelId.split("/").at(-1) ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  if (!/^[a-z]/.test(base)) base = base ? `m-${base}` : "model";
  const suffix = Array.from({ length: 4 }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 36)]).join("");
  return `${base}-${suffix}`;
}

/** DNS-1035 label of at most 63 characters (deployment names become Service names). */
export const NAME_RULE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** DNS-1123 label (namespaces). */
export const NAMESPACE_RULE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Engines each known provider runs (others: any engine; the controller decides). */
export const PROVIDER_ENGINES: Record<string, Engine[]> = {
  kubernetes: ["vllm", "llamacpp"],
  kaito: ["vllm", "llamacpp"],
  dynamo: ["vllm", "sglang", "trtllm"],
  kuberay: ["vllm"],
};

/** Whether `provider` can run `engine` (unknown providers: yes). */
export function providerRuns(provider: string, engine: Engine): boolean {
  const engines = PROVIDER_ENGINES[provider];
  return engines === undefined || engines.includes(engine);
}

/** What the form holds. */
export interface DeployFormValues {
  name: string;
  namespace: string;
  modelId: string;
  engine: Engine;
  provider: string;
  replicas: number;
  gpus: number;
  contextLength: string;
  enforceEager: boolean;
  enablePrefixCaching: boolean;
  trustRemoteCode: boolean;
  gated: boolean;
  /** Prefill/decode workers: disaggregated serving (from the AI Configurator panel). */
  disaggregated?: { prefill: { replicas: number; gpus: number }; decode: { replicas: number; gpus: number } } | undefined;
  /** Extra engine flags (from the AI Configurator panel). */
  engineArgs?: Record<string, string> | undefined;
}

/** Problems with the values, by field. */
export function validate(v: DeployFormValues): Partial<Record<"name" | "namespace" | "replicas" | "gpus" | "contextLength", string>> {
  const errors: Partial<Record<"name" | "namespace" | "replicas" | "gpus" | "contextLength", string>> = {};
  if (!NAME_RULE.test(v.name)) {
    errors.name = "Use lower-case letters, digits and hyphens, starting with a letter (at most 63 characters).";
  }
  if (!NAMESPACE_RULE.test(v.namespace)) errors.namespace = "Use lower-case letters, digits and hyphens (at most 63 characters).";
  if (!Number.isInteger(v.replicas) || v.replicas < 0 || v.replicas > 100) errors.replicas = "Between 0 and 100.";
  if (!Number.isInteger(v.gpus) || v.gpus < 0 || v.gpus > 64) errors.gpus = "Between 0 and 64.";
  if (v.contextLength !== "" && !/^[1-9]\d{0,7}$/.test(v.contextLength)) errors.contextLength = "A whole number of tokens.";
  return errors;
}

/** The `POST /api/deployments` body for the values. */
export function toRequest(v: DeployFormValues): CreateDeploymentRequest {
  const body: CreateDeploymentRequest = {
    name: v.name,
    namespace: v.namespace,
    modelId: v.modelId,
    servedModelName: v.modelId,
    engine: v.engine,
    replicas: v.replicas,
    resources: { gpu: v.gpus },
  };
  if (v.provider) body.provider = v.provider;
  if (v.gpus === 0) body.computeType = "cpu";
  if (v.contextLength !== "") body.contextLength = Number(v.contextLength);
  if (v.enforceEager && (v.engine === "vllm" || v.engine === "sglang")) body.enforceEager = true;
  if (v.enablePrefixCaching && v.engine === "vllm") body.enablePrefixCaching = true;
  if (v.trustRemoteCode) body.trustRemoteCode = true;
  if (v.gated) body.hfTokenSecret = "hf-token-secret";
  if (v.engineArgs && Object.keys(v.engineArgs).length > 0) body.engineArgs = { ...v.engineArgs };
  if (v.disaggregated) {
    body.mode = "disaggregated";
    body.prefillReplicas = v.disaggregated.prefill.replicas;
    body.prefillGpus = v.disaggregated.prefill.gpus;
    body.decodeReplicas = v.disaggregated.decode.replicas;
    body.decodeGpus = v.disaggregated.decode.gpus;
  }
  return body;
}

/** Warnings before deploying: not enough free GPUs in the cluster or on any one node. */
export function capacityWarnings(capacity: ClusterGpuCapacity | undefined, gpus: number, replicas: number): string[] {
  if (!capacity || gpus === 0 || replicas === 0) return [];
  const out: string[] = [];
  if (capacity.totalGpus === 0) return ["The cluster has no GPU nodes: the pods will stay Pending."];
  const needed = gpus * replicas;
  if (needed > capacity.availableGpus) {
    out.push(`Needs ${needed} GPUs but only ${Math.max(0, capacity.availableGpus)} are free in the cluster: some replicas will stay Pending.`);
  }
  if (gpus > capacity.maxNodeGpuCapacity) {
    out.push(`One replica needs ${gpus} GPUs but the largest node has ${capacity.maxNodeGpuCapacity}: it can never be scheduled.`);
  } else if (gpus > capacity.maxContiguousAvailable) {
    out.push(`One replica needs ${gpus} GPUs on one node but at most ${capacity.maxContiguousAvailable} are free on any node right now.`);
  }
  return out;
}
