import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, dep, settings } from "../../test/fixtures";
import { apiError, json, liveStream, mockFetch } from "../../test/http";
import { renderApp } from "../../test/render";

const pending = dep("big", "team-a", {
  phase: "Pending",
  replicas: { desired: 1, ready: 0, available: 0 },
  pods: [{ name: "big-0", phase: "Pending", ready: false, restarts: 0 }],
  conditions: [
    { type: "Validated", status: "True", reason: "Valid", lastTransitionTime: "2026-01-01T00:00:00Z" },
    { type: "Ready", status: "False", reason: "PodsPending", message: "0/1 replicas ready", lastTransitionTime: "2026-01-01T00:01:00Z" },
  ],
});

const manifest = {
  resources: [
    {
      kind: "ModelDeployment",
      apiVersion: "kubeairunway.ai/v1alpha1",
      name: "big",
      manifest: {
        apiVersion: "kubeairunway.ai/v1alpha1",
        kind: "ModelDeployment",
        metadata: { name: "big", namespace: "team-a" },
        status: { endpoint: { service: "big", port: 8080 } },
      },
    },
  ],
  primaryResource: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1" },
};

const routes = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
  "GET /api/deployments/big": () => json(pending),
  "GET /api/deployments/big/manifest": () => json(manifest),
  "GET /api/deployments/big/pending-reasons": () =>
    json({
      reasons: [
        {
          reason: "FailedScheduling",
          message: "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.",
          isResourceConstraint: true,
          canAutoscalerHelp: true,
          resourceType: "gpu",
        },
      ],
    }),
};

describe("DeploymentDetailsPage", () => {
  it("shows status, conditions as a timeline, pods, pending advice and access commands", async () => {
    mockFetch(routes);
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByRole("heading", { name: "big", level: 1 })).toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "Status" })).getByText("Pending")).toBeInTheDocument();
    expect(await screen.findByText("Not enough free GPUs")).toBeInTheDocument();
    expect(screen.getByText(/FailedScheduling: 0\/7 nodes are available/)).toBeInTheDocument();
    const timeline = screen.getByRole("heading", { name: "Conditions" }).closest("section");
    const items = within(timeline as HTMLElement).getAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      expect.stringContaining("Validated"),
      expect.stringContaining("Ready"),
    ]);
    expect(screen.getByText("big-0")).toBeInTheDocument();
    expect(await screen.findByText("kubectl port-forward svc/big 8000:8080 -n team-a")).toBeInTheDocument();
    expect(screen.getByText("http://big.team-a.svc.cluster.local:8080/v1")).toBeInTheDocument();
  });

  it("scales with PATCH and shows the new desired count", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...routes,
      "PATCH /api/deployments/big": () => json({ ...pending, replicas: { desired: 0, ready: 0, available: 0 } }),
    });
    renderApp("/deployments/big?namespace=team-a");
    const input = await screen.findByLabelText("Replicas");
    await user.clear(input);
    await user.type(input, "0");
    await user.click(screen.getByRole("button", { name: "Scale" }));
    expect(await screen.findByText("Scaled big")).toBeInTheDocument();
    const patch = calls.find((c) => c.method === "PATCH");
    expect(await patch?.json()).toEqual({ replicas: 0 });
    expect(screen.getByText("0/0 replicas")).toBeInTheDocument();
  });

  it("says so when the deployment does not exist", async () => {
    mockFetch({
      ...routes,
      "GET /api/deployments/big": () => apiError(404, "Deployment 'big' not found in namespace 'team-a'"),
    });
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByText("Deployment not found")).toBeInTheDocument();
    expect(screen.getByText("Deployment 'big' not found in namespace 'team-a'")).toBeInTheDocument();
  });

  it("shows the manifest as YAML or JSON", async () => {
    const user = userEvent.setup();
    mockFetch(routes);
    renderApp("/deployments/big?namespace=team-a&tab=manifest");
    const panel = await screen.findByRole("tabpanel", { name: "YAML" });
    expect(panel).toHaveTextContent("kind: ModelDeployment");
    await user.click(screen.getByRole("tab", { name: "JSON" }));
    expect(await screen.findByRole("tabpanel", { name: "JSON" })).toHaveTextContent('"kind": "ModelDeployment"');
  });

  it("reads, searches and follows logs", async () => {
    const user = userEvent.setup();
    const running = dep("qwen", "default", { pods: [{ name: "qwen-0", phase: "Running", ready: true, restarts: 0 }] });
    const stream = liveStream();
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/deployments/qwen": () => json(running),
      "GET /api/deployments/qwen/logs": (_req, url) =>
        url.searchParams.get("follow") === "true"
          ? stream.response()
          : json({ logs: "starting\nloading weights\nERROR: out of memory\n", podName: "qwen-0" }),
    });
    renderApp("/deployments/qwen?namespace=default&tab=logs");
    const log = await screen.findByRole("log", { name: "Log lines" });
    await waitFor(() => {
      expect(log).toHaveTextContent("loading weights");
    });
    expect(screen.getByText("3 lines")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Search"), "error");
    await waitFor(() => {
      expect(log).not.toHaveTextContent("loading weights");
    });
    expect(log).toHaveTextContent("ERROR: out of memory");
    await user.clear(screen.getByLabelText("Search"));

    await user.click(screen.getByRole("button", { name: "Follow" }));
    expect(screen.getByRole("button", { name: "Stop following" })).toHaveAttribute("aria-pressed", "true");
    act(() => {
      stream.push("log", "new line 1");
      stream.push("log", "new line 2");
    });
    await waitFor(() => {
      expect(log).toHaveTextContent("new line 2");
    });
    const follow = calls.find((c) => c.url.includes("follow=true"));
    expect(new URL(follow?.url ?? "").searchParams.get("podName")).toBe("qwen-0");
  });
});
