import { describe, expect, it } from "vitest";

import { aggregated, disaggregated } from "../test/aiconfigurator";
import { systemForGpuType, toApplied } from "./aiconfigurator";

describe("toApplied", () => {
  it("maps an aggregated recommendation onto replicas, GPUs, context and vLLM flags", () => {
    expect(toApplied(aggregated)).toEqual({
      mode: "aggregated",
      engine: "vllm",
      replicas: 2,
      gpusPerReplica: 1,
      contextLength: 5000,
      engineArgs: { "max-num-seqs": "112", "gpu-memory-utilization": "0.9" },
      fromAIConfigurator: true,
    });
  });

  it("maps a disaggregated recommendation onto prefill and decode workers", () => {
    const applied = toApplied(disaggregated);
    expect(applied.mode).toBe("disaggregated");
    expect(applied.prefill).toEqual({ replicas: 4, gpus: 1 });
    expect(applied.decode).toEqual({ replicas: 1, gpus: 4 });
  });

  it("uses SGLang's flag names and no flags for defaults", () => {
    expect(toApplied({ ...aggregated, backend: "sglang" }).engineArgs).toEqual({ "max-running-requests": "112", "mem-fraction-static": "0.9" });
    const defaults = toApplied({
      success: false,
      source: "defaults",
      mode: "aggregated",
      replicas: 1,
      error: "AI Configurator CLI not found",
      warnings: ["AI Configurator not available, using default configuration"],
      config: { tensorParallelDegree: 2, gpusPerReplica: 2, maxBatchSize: 256, gpuMemoryUtilization: 0.9, maxModelLen: 4096 },
    });
    expect(defaults).toEqual({ mode: "aggregated", replicas: 1, gpusPerReplica: 2, contextLength: 4096, engineArgs: {}, fromAIConfigurator: false });
  });
});

describe("systemForGpuType", () => {
  it("maps the planner's GPU types and refuses GPUs without data", () => {
    expect(systemForGpuType("H100-80GB")).toBe("h100_sxm");
    expect(systemForGpuType("A100-40GB")).toBe("a100_sxm");
    expect(systemForGpuType("NVIDIA-GB200")).toBe("gb200");
    expect(systemForGpuType("L40S")).toBe("l40s");
    expect(systemForGpuType("L4")).toBeUndefined();
    expect(systemForGpuType("H100-PCIe")).toBeUndefined();
    expect(systemForGpuType(undefined)).toBeUndefined();
  });
});
