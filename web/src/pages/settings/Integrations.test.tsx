import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, settings } from "../../test/fixtures";
import { json, mockFetch, sse } from "../../test/http";
import { renderApp } from "../../test/render";

const gpuOperator = {
  installed: false,
  crdFound: false,
  operatorRunning: false,
  gpusAvailable: false,
  totalGPUs: 0,
  gpuNodes: [],
  message: "The GPU Operator is not installed",
  helmCommands: ["helm repo add nvidia https://helm.ngc.nvidia.com/nvidia", "helm install gpu-operator nvidia/gpu-operator"],
};

describe("Settings → Integrations", () => {
  it("stores a pasted HuggingFace token and removes it after confirmation", async () => {
    const user = userEvent.setup();
    let configured = false;
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/installation/gpu-operator/status": () => json(gpuOperator),
      "GET /api/installation/helm/status": () => json({ available: true, version: "v3.16.2" }),
      "GET /api/oauth/huggingface/config": () => json({ enabled: false, clientId: "", authorizeUrl: "https://hub.example/oauth/authorize", scopes: [] }),
      "GET /api/secrets/huggingface/status": () =>
        json({ configured, namespaces: [{ name: "default", exists: configured }], ...(configured ? { user: { id: "1", name: "alice", fullname: "Alice" } } : {}) }),
      "POST /api/secrets/huggingface": () => {
        configured = true;
        return json({ success: true, message: "saved", results: [], user: { id: "1", name: "alice", fullname: "Alice" } });
      },
      "DELETE /api/secrets/huggingface": () => {
        configured = false;
        return json({ success: true, message: "HuggingFace secrets deleted successfully", results: [] });
      },
    });
    renderApp("/settings?tab=integrations");
    expect(await screen.findByText("No token", {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign in with HuggingFace" })).not.toBeInTheDocument();
    await user.type(screen.getByLabelText("Or paste an access token"), "hf_secret");
    await user.click(screen.getByRole("button", { name: "Save token" }));
    expect(await screen.findByText("Token stored")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST");
    expect(await post?.json()).toEqual({ accessToken: "hf_secret" });

    await user.click(screen.getByRole("button", { name: "Disconnect" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Remove" }));
    expect(await screen.findByText("HuggingFace secrets deleted successfully")).toBeInTheDocument();
    expect(await screen.findByText("No token")).toBeInTheDocument();
  });

  it("shows the GPU Operator with its commands and installs it with the job view", async () => {
    const user = userEvent.setup();
    let installed = false;
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/installation/gpu-operator/status": () =>
        json(installed ? { ...gpuOperator, installed: true, crdFound: true, operatorRunning: true, gpusAvailable: true, totalGPUs: 2, gpuNodes: ["gpu-a"], message: "GPUs are available" } : gpuOperator),
      "GET /api/installation/helm/status": () => json({ available: true, version: "v3.16.2" }),
      "GET /api/oauth/huggingface/config": () => json({ enabled: false, clientId: "", authorizeUrl: "https://hub.example/oauth/authorize", scopes: [] }),
      "GET /api/secrets/huggingface/status": () => json({ configured: false, namespaces: [] }),
      "POST /api/installation/gpu-operator/install": () =>
        json({ jobId: "gpu-1", kind: "install-gpu-operator", target: "gpu-operator", state: "queued", message: "Started", statusUrl: "/api/jobs/gpu-1", eventsUrl: "/api/jobs/gpu-1/events" }, 202),
      "GET /api/jobs/gpu-1/events": () => {
        installed = true;
        return sse(
          [
            {
              event: "end",
              data: {
                jobId: "gpu-1", kind: "install-gpu-operator", target: "gpu-operator", state: "succeeded", createdAt: "2026-01-01T00:00:00Z", message: "GPU Operator installed", pending: [], results: [],
                steps: [{ step: "install-gpu-operator", title: "Install gpu-operator", command: "helm upgrade --install gpu-operator", state: "succeeded", output: "STATUS: deployed\n", error: "", exitCode: 0, timedOut: false, startedAt: "2026-01-01T00:00:01Z", durationMs: 4000 }],
              },
            },
          ],
          { close: true },
        );
      },
    });
    renderApp("/settings?tab=integrations");
    expect(await screen.findByText("The GPU Operator is not installed", {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy GPU Operator command 2" })).toBeInTheDocument();
    await user.click(await screen.findByRole("button", { name: "Install the GPU Operator" }));
    expect(await screen.findByText("STATUS: deployed")).toBeInTheDocument();
    expect((await screen.findAllByText("GPU Operator installed")).length).toBeGreaterThan(0);
    expect(await screen.findByText("GPUs are available")).toBeInTheDocument();
    expect(screen.getByText("gpu-a")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST");
    expect(new URL(post?.url ?? "").searchParams.get("async")).toBe("true");
  });
});
