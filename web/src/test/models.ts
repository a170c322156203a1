import type { HfModelSearchResult, Model, ModelPlan } from "@kubeairunway/shared";

/** A curated model. */
export function catalogModel(id: string, extra: Partial<Model> = {}): Model {
  return {
    id,
    name: id.split("/").at(-1) ?? id,
    description: `${id} for tests`,
    size: "0.6B",
    task: "text-generation",
    supportedEngines: ["vllm", "sglang"],
    minGpus: 1,
    ...extra,
  };
}

/** A plan in which the model fits `gpus`× `gpuType`. */
export function plan(modelId: string, fit: "fits" | "tight" | "exceeds", gpuType = "NVIDIA-H100-80GB", gpus = 1): ModelPlan {
  return {
    modelId,
    basis: "safetensors",
    concurrency: 1,
    contextLength: 8192,
    gpuMemoryUtilization: 0.9,
    notes: [],
    parameterCount: 600_000_000,
    runtimeOverheadBytesPerGpu: 1,
    weightBytes: 1,
    weightDtype: "BF16",
    gpus: [
      {
        gpuType,
        fit,
        fits: fit !== "exceeds",
        gpusNeeded: fit === "exceeds" ? null : gpus,
        gpusPerNode: 8,
        nodes: 2,
        reason: `${modelId} on ${gpus}× ${gpuType}: ${fit}`,
      },
    ],
  };
}

/** A HuggingFace search result. */
export function hfModel(id: string): HfModelSearchResult {
  const [author = "", name = id] = id.split("/");
  return {
    id,
    author,
    name,
    architectures: ["Qwen3ForCausalLM"],
    compatible: true,
    downloads: 12_345,
    likes: 67,
    gated: false,
    libraryName: "transformers",
    pipelineTag: "text-generation",
    supportedEngines: ["vllm"],
    plan: plan(id, "fits"),
  };
}
