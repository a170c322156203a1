import type { AIConfiguratorAnalysis, Engine } from "@kubeairunway/shared";

/** Settings of an AI Configurator analysis, in the deploy form's terms. */
export interface AppliedAIConfig {
  mode: "aggregated" | "disaggregated";
  /** The recommended engine (AI Configurator's backend), when it named one. */
  engine?: Engine;
  /** Aggregated: workers; disaggregated: AI Configurator's prefill+decode groups. */
  replicas: number;
  /** GPUs of one aggregated worker. */
  gpusPerReplica: number;
  contextLength: number;
  /** Engine flags (`spec.engine.args`). */
  engineArgs: Record<string, string>;
  prefill?: { replicas: number; gpus: number };
  decode?: { replicas: number; gpus: number };
  /** False for KubeAIRunway's defaults (AI Configurator unavailable, GPU unsupported, failed). */
  fromAIConfigurator: boolean;
}

/** GPU types AI Configurator 0.12 has performance data for (label → what is sent). */
export const AIC_GPU_TYPES: { value: string; label: string }[] = [
  { value: "h100_sxm", label: "H100 SXM" },
  { value: "h200_sxm", label: "H200 SXM" },
  { value: "a100_sxm", label: "A100 SXM" },
  { value: "b200_sxm", label: "B200" },
  { value: "b300_sxm", label: "B300" },
  { value: "gb200", label: "GB200" },
  { value: "gb300", label: "GB300" },
  { value: "l40s", label: "L40S" },
  { value: "rtx_pro_6000_server", label: "RTX PRO 6000 Server" },
];

/** The AI Configurator system a GPU type of the fit planner (`H100-80GB`, `A100-40GB`) maps to. */
export function systemForGpuType(gpuType: string | undefined): string | undefined {
  if (!gpuType) return undefined;
  const words = gpuType.toLowerCase().split(/[^a-z0-9]+/);
  const has = (w: string) => words.includes(w);
  if (has("pcie") || has("nvl")) return undefined;
  for (const [word, system] of [
    ["gb300", "gb300"],
    ["gb200", "gb200"],
    ["b300", "b300_sxm"],
    ["b200", "b200_sxm"],
    ["h200", "h200_sxm"],
    ["h100", "h100_sxm"],
    ["a100", "a100_sxm"],
    ["l40s", "l40s"],
  ] as const) {
    if (has(word)) return system;
  }
  return undefined;
}

const ENGINES: readonly Engine[] = ["vllm", "sglang", "trtllm"];

/** The form settings of an analysis: engine, replicas and GPUs per mode, context, engine flags. */
export function toApplied(result: AIConfiguratorAnalysis): AppliedAIConfig {
  const c = result.config;
  const engine = ENGINES.find((e) => e === result.backend);
  const engineArgs: Record<string, string> = {};
  if (result.success && (engine === "vllm" || engine === undefined)) {
    engineArgs["max-num-seqs"] = String(c.maxBatchSize);
    engineArgs["gpu-memory-utilization"] = String(c.gpuMemoryUtilization);
  } else if (result.success && engine === "sglang") {
    engineArgs["max-running-requests"] = String(c.maxBatchSize);
    engineArgs["mem-fraction-static"] = String(c.gpuMemoryUtilization);
  }
  const applied: AppliedAIConfig = {
    mode: result.mode,
    replicas: result.replicas,
    gpusPerReplica: c.gpusPerReplica ?? c.tensorParallelDegree,
    contextLength: c.maxModelLen,
    engineArgs,
    fromAIConfigurator: result.success,
  };
  if (engine) applied.engine = engine;
  if (result.mode === "disaggregated") {
    applied.prefill = { replicas: c.prefillReplicas ?? 1, gpus: c.prefillGpusPerWorker ?? c.prefillTensorParallel ?? 1 };
    applied.decode = { replicas: c.decodeReplicas ?? 1, gpus: c.decodeGpusPerWorker ?? c.decodeTensorParallel ?? 1 };
  }
  return applied;
}
