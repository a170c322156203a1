import { describe, expect, it } from "vitest";

import { capacityWarnings, deploymentName, toRequest, validate, type DeployFormValues } from "./deployForm";

const values: DeployFormValues = {
  name: "qwen3-0-6b-abcd",
  namespace: "default",
  modelId: "Qwen/Qwen3-0.6B",
  engine: "vllm",
  provider: "kubernetes",
  replicas: 1,
  gpus: 1,
  contextLength: "",
  enforceEager: false,
  enablePrefixCaching: false,
  trustRemoteCode: false,
  gated: false,
};

describe("deploy form", () => {
  it("names deployments as DNS-1035 labels with a random suffix", () => {
    expect(deploymentName("Qwen/Qwen3-0.6B", () => 0)).toBe("qwen3-0-6b-aaaa");
    expect(deploymentName("org/7B.Model", () => 0.99)).toBe("m-7b-model-9999");
    expect(deploymentName("", () => 0)).toBe("model-aaaa");
  });

  it("validates names, namespaces and counts", () => {
    expect(validate(values)).toEqual({});
    expect(Object.keys(validate({ ...values, name: "1bad", namespace: "Bad", replicas: -1, gpus: 1.5, contextLength: "x" }))).toEqual([
      "name",
      "namespace",
      "replicas",
      "gpus",
      "contextLength",
    ]);
  });

  it("builds the request: CPU when no GPU, engine flags only where they apply", () => {
    expect(toRequest(values)).toEqual({
      name: "qwen3-0-6b-abcd",
      namespace: "default",
      modelId: "Qwen/Qwen3-0.6B",
      servedModelName: "Qwen/Qwen3-0.6B",
      engine: "vllm",
      provider: "kubernetes",
      replicas: 1,
      resources: { gpu: 1 },
    });
    const cpu = toRequest({ ...values, engine: "llamacpp", gpus: 0, enforceEager: true, enablePrefixCaching: true, gated: true, provider: "" });
    expect(cpu.computeType).toBe("cpu");
    expect(cpu.enforceEager).toBeUndefined();
    expect(cpu.enablePrefixCaching).toBeUndefined();
    expect(cpu.hfTokenSecret).toBe("hf-token-secret");
    expect(cpu.provider).toBeUndefined();
  });

  it("warns when the GPUs are not free", () => {
    const capacity = {
      totalGpus: 16,
      allocatedGpus: 12,
      availableGpus: 4,
      maxContiguousAvailable: 2,
      maxNodeGpuCapacity: 8,
      gpuNodeCount: 2,
      nodes: [],
    };
    expect(capacityWarnings(capacity, 1, 1)).toEqual([]);
    expect(capacityWarnings(capacity, 4, 2)).toHaveLength(2);
    expect(capacityWarnings(capacity, 16, 1)[1]).toMatch(/largest node has 8/);
    expect(capacityWarnings({ ...capacity, totalGpus: 0 }, 1, 1)[0]).toMatch(/no GPU nodes/);
  });
});
