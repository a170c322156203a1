import type { AIConfiguratorAnalysis } from "@kubeairunway/shared";

/** What the server answered for Qwen/Qwen3-0.6B on two H100 SXM (real CLI run). */
export const aggregated: AIConfiguratorAnalysis = {
  success: true,
  source: "aiconfigurator",
  mode: "aggregated",
  replicas: 2,
  backend: "vllm",
  supportedBackends: ["vllm", "sglang", "trtllm"],
  system: "h100_sxm",
  durationMs: 21000,
  config: { tensorParallelDegree: 1, pipelineParallelDegree: 1, gpusPerReplica: 1, maxBatchSize: 112, maxNumSeqs: 112, gpuMemoryUtilization: 0.9, maxModelLen: 5000 },
  estimatedPerformance: {
    throughputTokensPerSec: 10571.404,
    latencyP50Ms: 117.47,
    ttftMs: 117.47,
    tpotMs: 21.072,
    requestLatencyMs: 21168.047,
    tokensPerSecPerGpu: 5285.702,
    tokensPerSecPerUser: 47.457,
    concurrency: 224,
    totalGpus: 2,
  },
};

/** … optimised for latency: one prefill and one decode worker. */
export const disaggregated: AIConfiguratorAnalysis = {
  ...aggregated,
  mode: "disaggregated",
  replicas: 1,
  config: {
    tensorParallelDegree: 4,
    pipelineParallelDegree: 1,
    maxBatchSize: 224,
    maxNumSeqs: 224,
    gpuMemoryUtilization: 0.9,
    maxModelLen: 5000,
    prefillTensorParallel: 1,
    decodeTensorParallel: 4,
    prefillReplicas: 4,
    decodeReplicas: 1,
    prefillGpusPerWorker: 1,
    decodeGpusPerWorker: 4,
  },
};
