import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, dep, settings } from "../test/fixtures";
import { apiError, json, mockFetch } from "../test/http";
import { catalogModel, plan } from "../test/models";
import { renderApp } from "../test/render";

const capacity = {
  totalGpus: 16,
  allocatedGpus: 15,
  availableGpus: 1,
  maxContiguousAvailable: 1,
  maxNodeGpuCapacity: 8,
  gpuNodeCount: 2,
  nodes: [],
};

const routes = {
  "GET /api/settings": () => json({ ...settings(false), config: { defaultNamespace: "team-a" } }),
  "GET /api/cluster/status": () => json(connected),
  "GET /api/models/Qwen%2FQwen3-0.6B": () => json(catalogModel("Qwen/Qwen3-0.6B")),
  "GET /api/models/Qwen%2FQwen3-0.6B/plan": () => json(plan("Qwen/Qwen3-0.6B", "fits", "NVIDIA-H100-80GB", 2)),
  "GET /api/runtimes/status": () =>
    json({
      runtimes: [
        { id: "kubernetes", name: "Kubernetes", installed: true, healthy: true, message: "Provider ready" },
        { id: "kuberay", name: "Kuberay", installed: true, healthy: false, message: "Provider not ready" },
      ],
    }),
  "GET /api/installation/gpu-capacity": () => json(capacity),
  "GET /api/costs/gpu-models": () =>
    json({ success: true, note: "", models: [{ model: "H100-80GB", memoryGb: 80, generation: "Hopper" }, { model: "L4", memoryGb: 24, generation: "Ada" }] }),
  "GET /api/autoscaler/detection": () =>
    json({ type: "cluster-autoscaler", detected: true, healthy: true, scalingUp: false, nodeGroupCount: 2, message: "Cluster Autoscaler is running" }),
  // 8 GPUs per node of the cluster's H100 pool: one node per replica at a live price.
  "GET /api/costs/node-pools": (_req: Request, url: URL) => {
    const gpus = Number(url.searchParams.get("gpuCount"));
    const replicas = Number(url.searchParams.get("replicas"));
    const hourly = Math.ceil(gpus / 8) * replicas * 98.32;
    return json({
      success: true,
      pricingSource: "realtime-with-fallback",
      cacheStats: { size: 1, ttlMs: 3_600_000, maxEntries: 1000 },
      nodePoolCosts: [
        {
          poolName: "h100",
          gpuModel: "NVIDIA-H100-80GB",
          availableGpus: 1,
          costBreakdown: {
            estimate: { hourly, monthly: hourly * 730, currency: "USD", source: "cloud-api", confidence: "high" },
            perGpu: { hourly: 12.29, monthly: 8971.7 },
            totalGpus: gpus * replicas,
            gpuModel: "NVIDIA-H100-80GB",
            normalizedGpuModel: "H100-80GB",
            notes: ["Real-time price of Standard_ND96isr_H100_v5 (AZURE): $98.32/h per node"],
          },
          realtimePricing: {
            instanceType: "Standard_ND96isr_H100_v5",
            hourlyPrice: hourly,
            monthlyPrice: hourly * 730,
            currency: "USD",
            region: "eastus",
            source: "realtime",
            nodesPerReplica: Math.ceil(gpus / 8),
            nodeHourlyPrice: 98.32,
          },
        },
      ],
    });
  },
  "POST /api/costs/estimate": async (req: Request) => {
    const body = (await req.clone().json()) as { gpuType: string; gpuCount: number; replicas: number };
    const perGpu = body.gpuType === "L4" ? 0.8 : 12.29;
    const hourly = perGpu * body.gpuCount * body.replicas;
    return json({
      success: true,
      breakdown: {
        estimate: { hourly, monthly: hourly * 730, currency: "USD", source: "static", confidence: "low" },
        perGpu: { hourly: perGpu, monthly: perGpu * 730 },
        totalGpus: body.gpuCount * body.replicas,
        gpuModel: body.gpuType,
        normalizedGpuModel: body.gpuType,
        notes: [`GPU: ${body.gpuType}`, "Static price: GCP g2-standard-4 in us-central1 ($0.80/h for 1 GPUs), list prices of 2025-05-01"],
      },
    });
  },
  "GET /api/aiconfigurator/status": () => json({ available: false, error: "AI Configurator CLI not found" }),
};

describe("DeployPage", () => {
  it("recommends GPUs from the plan, warns about capacity, previews and deploys with Ctrl+Enter", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...routes,
      "POST /api/deployments/preview": () =>
        json({
          resources: [{ kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1", name: "x", manifest: { kind: "ModelDeployment", spec: { engine: { type: "vllm" } } } }],
          primaryResource: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1" },
          selection: { engine: "vllm", provider: "kuberay", providerReason: "explicit provider selection", phase: "Pending", message: "Waiting for provider kuberay to create its resources" },
        }),
      "POST /api/deployments": () => json({ message: "Deployment created successfully", name: "my-qwen", namespace: "team-a", warnings: ["Only 1 GPU free."] }, 201),
      "GET /api/deployments/my-qwen": () => json(dep("my-qwen", "team-a", { phase: "Pending" })),
      "GET /api/deployments/my-qwen/pending-reasons": () => json({ reasons: [] }),
      "GET /api/deployments/my-qwen/manifest": () => apiError(404, "not yet"),
    });
    const { router } = renderApp("/deploy/Qwen%2FQwen3-0.6B");
    const gpus = await screen.findByLabelText("GPUs per replica");
    expect(await screen.findByText(/Recommended: 2\./)).toBeInTheDocument();
    expect(gpus).toHaveValue(2);
    expect(await screen.findByText("Capacity warning")).toBeInTheDocument();
    expect(screen.getByText(/Needs 2 GPUs but only 1 are free/)).toBeInTheDocument();
    expect(screen.getByLabelText("Namespace")).toHaveValue("team-a");

    // KubeRay runs vLLM, so choosing it leaves only vLLM selectable.
    await user.click(screen.getByRole("radio", { name: /Kuberay/ }));
    expect(screen.getByRole("radio", { name: "SGLang" })).toBeDisabled();

    const name = screen.getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "my-qwen");
    await user.clear(gpus);
    await user.type(gpus, "1");
    expect(screen.queryByText("Capacity warning")).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Preview manifest" }));
    expect(await screen.findByText(/type: vllm/)).toBeInTheDocument();
    expect(screen.getByText(/The controller will serve this with/)).toHaveTextContent(
      "The controller will serve this with vllm on the kuberay provider (explicit provider selection).",
    );

    await user.click(name);
    await user.keyboard("{Control>}{Enter}{/Control}");
    expect(await screen.findByText("Deployment created")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST" && new URL(c.url).pathname === "/api/deployments");
    expect(await post?.json()).toEqual({
      name: "my-qwen",
      namespace: "team-a",
      modelId: "Qwen/Qwen3-0.6B",
      servedModelName: "Qwen/Qwen3-0.6B",
      engine: "vllm",
      provider: "kuberay",
      replicas: 1,
      resources: { gpu: 1 },
    });
    expect(router.state.location.pathname).toBe("/deployments/my-qwen");
    expect(router.state.location.search).toBe("?namespace=team-a");
  });

  it("answers “Will it schedule?” from the preview: per replica, per node, and a fix the form can apply", async () => {
    const user = userEvent.setup();
    const node = (name: string, fits: boolean, extra: Record<string, unknown>) => ({
      node: name, fits, fitCount: fits ? 1 : 0, reasons: [], schedulerReasons: [], freeGpus: 4, freeCpu: "16", freeMemory: "64Gi", ...extra,
    });
    const { calls } = mockFetch({
      ...routes,
      "POST /api/deployments/preview": () =>
        json({
          resources: [{ kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1", name: "x", manifest: { kind: "ModelDeployment" } }],
          primaryResource: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1" },
          scheduling: {
            schedulable: false,
            nodeCount: 2,
            groups: [{
              role: "server", replicas: 2, placed: 1,
              requests: { "nvidia.com/gpu": "4" },
              nodes: [
                node("kwok-h100-0", true, { gpuProduct: "NVIDIA-H100-80GB-HBM3" }),
                node("kwok-t4-0", false, { freeGpus: 1, reasons: ["node(s) had untolerated taint(s)", "Insufficient nvidia.com/gpu"], untoleratedTaints: ["gpu=t4:NoSchedule"] }),
              ],
              placements: [{ replica: 0, node: "kwok-h100-0" }, { replica: 1 }],
              unschedulableMessage: "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint(s).",
            }],
            fixes: [
              { kind: "fewerGpus", gpusPerReplica: 2, message: "Request 2 GPU(s) per replica instead of 4: every replica fits then" },
              { kind: "noAutoscaler", message: "No cluster autoscaler is detected, so no node is added for the 1 Pending replica(s)" },
            ],
          },
        }),
    });
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    const gpus = await screen.findByLabelText("GPUs per replica");
    await user.clear(gpus);
    await user.type(gpus, "4");
    await user.click(screen.getByRole("button", { name: "Preview manifest" }));
    const panel = (await screen.findByRole("heading", { name: "Will it schedule?" })).closest("section") as HTMLElement;
    expect(within(panel).getByText("✕ Not all replicas fit")).toBeInTheDocument();
    expect(within(panel).getByText(/1 of 2 replica\(s\) would be placed on the 2 node\(s\)/)).toBeInTheDocument();
    expect(within(panel).getByText("Replica 1:").closest("li")).toHaveTextContent("Replica 1: placed on kwok-h100-0");
    expect(within(panel).getByText(/Replica 2:/)).toHaveTextContent(
      "Replica 2: unschedulable — 0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint(s).",
    );
    const t4 = within(panel).getByText("kwok-t4-0").closest("tr") as HTMLElement;
    expect(t4).toHaveTextContent("node(s) had untolerated taint(s); Insufficient nvidia.com/gpu (gpu=t4:NoSchedule)");
    expect(within(within(panel).getByText("kwok-h100-0", { selector: "td" }).closest("tr") as HTMLElement).getByText("fits 1")).toBeInTheDocument();
    const fixes = within(panel).getByRole("region", { name: "What would fix it" });
    expect(within(fixes).getByText(/No cluster autoscaler is detected/)).toBeInTheDocument();

    // The fix goes into the form, and the next preview asks for it.
    await user.click(within(fixes).getByRole("button", { name: "Use 2 GPU(s)" }));
    expect(gpus).toHaveValue(2);
    await user.click(screen.getByRole("button", { name: "Preview manifest" }));
    await waitFor(() => {
      expect(calls.filter((c) => new URL(c.url).pathname === "/api/deployments/preview")).toHaveLength(2);
    });
    const last = calls.filter((c) => new URL(c.url).pathname === "/api/deployments/preview").at(-1);
    expect(((await last?.json()) as { resources: { gpu: number } }).resources.gpu).toBe(2);
  });

  it("says why the scheduling answer is missing", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...routes,
      "POST /api/deployments/preview": () =>
        json({
          resources: [{ kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1", name: "x", manifest: { kind: "ModelDeployment" } }],
          primaryResource: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1" },
          schedulingUnavailable: "you may not list nodes, and the answer describes every node of the cluster",
        }),
    });
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    await screen.findByLabelText("GPUs per replica");
    await user.click(screen.getByRole("button", { name: "Preview manifest" }));
    expect(await screen.findByText("Not checked: you may not list nodes, and the answer describes every node of the cluster.")).toBeInTheDocument();
  });

  it("estimates the cost per hour and month: the cluster pool's live price, or a GPU type's dated static price", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch(routes);
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    const cost = (await screen.findByRole("heading", { name: "Estimated cost" })).closest("section") as HTMLElement;
    const select = within(cost).getByLabelText("Price as GPU type");
    // The planner's GPU type of the cluster is priced first, from its node pool's live price.
    await waitFor(() => {
      expect(select).toHaveValue("NVIDIA-H100-80GB");
    });
    expect(await within(cost).findByText("$98.32")).toBeInTheDocument();
    expect(within(cost).getByText("$71,773.60")).toBeInTheDocument();
    expect(within(cost).getByText("Live price")).toBeInTheDocument();
    expect(within(cost).getByText(/2 GPUs × 1 replica: Standard_ND96isr_H100_v5 in eastus \(node pool h100\)/)).toBeInTheDocument();

    // More replicas cost more; the figure follows the form.
    const replicas = screen.getByLabelText("Replicas");
    await user.clear(replicas);
    await user.type(replicas, "3");
    expect(await within(cost).findByText("$294.96")).toBeInTheDocument();
    const pools = calls.filter((c) => new URL(c.url).pathname === "/api/costs/node-pools").map((c) => new URL(c.url).search);
    expect(pools).toContain("?gpuCount=2&replicas=3");

    // A type the cluster lacks: the static table's per-GPU price, with the table's date.
    await user.selectOptions(select, "L4");
    expect(await within(cost).findByText("Static price of 2025-05-01")).toBeInTheDocument();
    expect(within(cost).getByText("$4.80")).toBeInTheDocument();
    expect(within(cost).getByText("$3,504.00")).toBeInTheDocument();
    const estimate = calls.filter((c) => c.method === "POST" && new URL(c.url).pathname === "/api/costs/estimate").at(-1);
    expect(await estimate?.json()).toEqual({ gpuType: "L4", gpuCount: 2, replicas: 3 });

    // No GPUs, no GPU cost.
    const gpus = screen.getByLabelText("GPUs per replica");
    await user.clear(gpus);
    await user.type(gpus, "0");
    expect(within(cost).getByText(/requests no GPUs/)).toBeInTheDocument();
  });

  it("says the autoscaler can add nodes when GPUs are short, and not when a replica is larger than any node", async () => {
    const user = userEvent.setup();
    mockFetch(routes);
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    const warning = (await screen.findByText("Capacity warning")).parentElement as HTMLElement;
    expect(await within(warning).findByText("The autoscaler can add GPU nodes")).toBeInTheDocument();
    expect(within(warning).getByText(/The Cluster Autoscaler manages the cluster's nodes across 2 node groups/)).toBeInTheDocument();

    const gpus = screen.getByLabelText("GPUs per replica");
    await user.clear(gpus);
    await user.type(gpus, "16");
    expect(await screen.findByText("An autoscaler is detected, but cannot help")).toBeInTheDocument();
    expect(screen.getByText(/none has more than 8 GPUs: a replica of 16 GPUs needs a larger node type/)).toBeInTheDocument();

    // Enough free GPUs: no warning, no hint.
    await user.clear(gpus);
    await user.type(gpus, "1");
    expect(screen.queryByText("Capacity warning")).not.toBeInTheDocument();
    expect(screen.queryByText(/autoscaler/i)).not.toBeInTheDocument();
  });

  it("blocks an invalid name and shows the server's refusal", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...routes,
      "POST /api/deployments": () => apiError(409, 'modeldeployments.kubeairunway.ai "taken" already exists'),
    });
    renderApp("/deploy/Qwen%2FQwen3-0.6B");
    const name = await screen.findByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Bad_Name");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(screen.getByText("Fix the highlighted fields first.")).toBeInTheDocument();
    expect(name).toHaveAttribute("aria-invalid", "true");
    await user.clear(name);
    await user.type(name, "taken");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    const toast = await screen.findByText("Deployment failed");
    expect(within(toast.parentElement as HTMLElement).getByText(/already exists/)).toBeInTheDocument();
  });
});
