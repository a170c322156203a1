import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { aggregated, disaggregated } from "../test/aiconfigurator";
import { connected, settings } from "../test/fixtures";
import { json, mockFetch, type Handler } from "../test/http";
import { catalogModel, plan } from "../test/models";
import { renderApp } from "../test/render";

const capacity = { totalGpus: 16, allocatedGpus: 0, availableGpus: 16, maxContiguousAvailable: 8, maxNodeGpuCapacity: 8, gpuNodeCount: 2, nodes: [] };

function routes(extra: Record<string, Handler>): Record<string, Handler> {
  return {
    "GET /api/settings": () => json({ ...settings(false), config: { defaultNamespace: "team-a" } }),
    "GET /api/cluster/status": () => json(connected),
    "GET /api/models/Qwen%2FQwen3-0.6B": () => json(catalogModel("Qwen/Qwen3-0.6B")),
    "GET /api/models/Qwen%2FQwen3-0.6B/plan": () => json(plan("Qwen/Qwen3-0.6B", "fits", "H100-80GB", 1)),
    "GET /api/runtimes/status": () => json({ runtimes: [{ id: "dynamo", name: "Dynamo", installed: true, healthy: true, message: "Provider ready" }] }),
    "GET /api/installation/gpu-capacity": () => json(capacity),
    "GET /api/aiconfigurator/status": () => json({ available: true, version: "0.12.0" }),
    "POST /api/deployments": () => json({ message: "Deployment created successfully", name: "x", namespace: "team-a" }, 201),
    "GET /api/deployments/x": () => json({}),
    ...extra,
  };
}

async function deployBody(calls: Request[]): Promise<Record<string, unknown>> {
  const post = calls.find((c) => c.method === "POST" && new URL(c.url).pathname === "/api/deployments");
  expect(post).toBeDefined();
  return (await post?.clone().json()) as Record<string, unknown>;
}

describe("AI Configurator panel", () => {
  it("analyses on the cluster's GPU type and fills the form with an aggregated configuration", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch(routes({ "POST /api/aiconfigurator/analyze": () => json(aggregated) }));
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    expect(await screen.findByRole("heading", { name: /Optimise with AI Configurator/ }, { timeout: 5000 })).toBeInTheDocument();
    // The planner's best GPU (H100-80GB) selects H100 SXM; one node's GPUs are the default count.
    expect(screen.getByLabelText("GPU type")).toHaveValue("h100_sxm");
    const count = screen.getByLabelText("GPUs available");
    expect(count).toHaveValue(8);
    await user.clear(count);
    await user.type(count, "2");
    await user.click(screen.getByRole("button", { name: "Optimise" }));

    expect(await screen.findByText("Recommended: aggregated serving with vLLM")).toBeInTheDocument();
    expect(screen.getByText("2 × 1 GPU")).toBeInTheDocument();
    expect(screen.getByText(/Estimated: 10,571 tokens\/s on 2 GPUs, time to first token 117 ms/)).toBeInTheDocument();
    const analyze = calls.find((c) => new URL(c.url).pathname === "/api/aiconfigurator/analyze");
    expect(await analyze?.clone().json()).toEqual({ modelId: "Qwen/Qwen3-0.6B", gpuType: "h100_sxm", gpuCount: 2, optimizeFor: "throughput" });

    await user.click(screen.getByRole("button", { name: "Apply configuration" }));
    expect(screen.getByText(/Applied: 2 × 1 GPU, vLLM, context 5,000 tokens\./)).toBeInTheDocument();
    expect(screen.getByLabelText("Replicas")).toHaveValue(2);
    expect(screen.getByLabelText("GPUs per replica")).toHaveValue(1);
    expect(screen.getByLabelText("Context length (tokens, optional)")).toHaveValue("5000");

    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(await screen.findByText("Deployment created")).toBeInTheDocument();
    const body = await deployBody(calls);
    expect(body).toMatchObject({
      engine: "vllm",
      replicas: 2,
      resources: { gpu: 1 },
      contextLength: 5000,
      engineArgs: { "max-num-seqs": "112", "gpu-memory-utilization": "0.9" },
    });
    expect(body.mode).toBeUndefined();
  });

  it("fills prefill and decode workers for a disaggregated configuration, editable before deploying", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch(routes({ "POST /api/aiconfigurator/analyze": () => json(disaggregated) }));
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    await user.click(await screen.findByRole("radio", { name: "Latency" }));
    await user.type(screen.getByLabelText("Max time to first token (ms, optional)"), "500");
    await user.click(screen.getByRole("button", { name: "Optimise" }));
    expect(await screen.findByText("Recommended: disaggregated serving with vLLM")).toBeInTheDocument();
    expect(screen.getByText("4 × 1 GPU (TP 1)")).toBeInTheDocument();
    expect(screen.getByText("1 × 4 GPU (TP 4)")).toBeInTheDocument();
    const analyze = calls.find((c) => new URL(c.url).pathname === "/api/aiconfigurator/analyze");
    expect(await analyze?.clone().json()).toMatchObject({ optimizeFor: "latency", maxLatencyMs: 500 });

    await user.click(screen.getByRole("button", { name: "Apply configuration" }));
    expect(screen.getByLabelText("Prefill workers")).toHaveValue(4);
    expect(screen.getByLabelText("GPUs per decode worker")).toHaveValue(4);

    // Discarding returns the form to aggregated serving; applying again brings the split back.
    // (Checked before deploying: a created deployment navigates away from the page.)
    await user.click(screen.getByRole("button", { name: "Discard applied settings" }));
    expect(screen.queryByLabelText("Prefill workers")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Apply configuration" }));
    expect(screen.getByLabelText("Prefill workers")).toHaveValue(4);

    const decode = screen.getByLabelText("Decode workers");
    await user.clear(decode);
    await user.type(decode, "2");

    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(await screen.findByText("Deployment created")).toBeInTheDocument();
    expect(await deployBody(calls)).toMatchObject({
      mode: "disaggregated",
      prefillReplicas: 4,
      prefillGpus: 1,
      decodeReplicas: 2,
      decodeGpus: 4,
      contextLength: 5000,
    });
  });

  it("marks defaults as defaults", async () => {
    const user = userEvent.setup();
    mockFetch(
      routes({
        "POST /api/aiconfigurator/analyze": () =>
          json({
            success: false,
            source: "defaults",
            mode: "aggregated",
            replicas: 1,
            error: 'AI Configurator has no performance data for "l4"',
            warnings: ["Using default configuration: AI Configurator has no data for this GPU type"],
            config: { tensorParallelDegree: 2, gpusPerReplica: 2, maxBatchSize: 256, gpuMemoryUtilization: 0.9, maxModelLen: 4096 },
          }),
      }),
    );
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    await user.click(await screen.findByRole("button", { name: "Optimise" }));
    expect(await screen.findByText("Default configuration (not an AI Configurator recommendation)")).toBeInTheDocument();
    expect(screen.getByText(/no performance data/)).toBeInTheDocument();
    expect(screen.getByText("Using default configuration: AI Configurator has no data for this GPU type")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Apply defaults" }));
    expect(screen.getByLabelText("GPUs per replica")).toHaveValue(2);
  });

  it("says why it is unavailable, and stays hidden in a cluster", async () => {
    mockFetch(routes({ "GET /api/aiconfigurator/status": () => json({ available: false, error: "AI Configurator CLI not found (aiconfigurator)" }) }));
    const first = renderApp("/deploy/Qwen%2FQwen3-0.6B");
    expect(await screen.findByText("Unavailable")).toBeInTheDocument();
    expect(screen.getByText(/AI Configurator CLI not found/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Optimise" })).not.toBeInTheDocument();
    first.unmount();

    mockFetch(
      routes({
        "GET /api/aiconfigurator/status": () =>
          json({ available: false, runningInCluster: true, error: "AI Configurator is only available when running KubeAIRunway locally" }),
      }),
    );
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    expect(await screen.findByLabelText("GPUs per replica")).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: /Optimise with AI Configurator/ })).not.toBeInTheDocument();
  });
});
