import { screen, within } from "@testing-library/react";
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
