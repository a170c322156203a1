import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, noAutoscalerRoutes, settings } from "../test/fixtures";
import { apiError, json, mockFetch } from "../test/http";
import { providerStatus } from "../test/jobs";
import { renderApp } from "../test/render";

describe("SettingsPage", () => {
  it("edits the default namespace, refusing invalid names before sending", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...noAutoscalerRoutes,
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "PUT /api/settings": () => json({ message: "Settings updated successfully", config: { defaultNamespace: "team-a" } }),
    });
    renderApp("/settings");
    expect(await screen.findByText("kind-demo")).toBeInTheDocument();
    const input = await screen.findByLabelText("Namespace used when a request names none");
    expect(input).toHaveValue("default");
    await user.clear(input);
    await user.type(input, "Team_A");
    expect(screen.getByRole("alert")).toHaveTextContent("“Team_A” is not a valid namespace name.");
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();

    await user.clear(input);
    await user.type(input, "team-a");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Default namespace saved")).toBeInTheDocument();
    const put = calls.find((c) => c.method === "PUT");
    expect(await put?.json()).toEqual({ defaultNamespace: "team-a" });
  });

  it("explains that settings need the cluster when it is down", async () => {
    mockFetch({
      ...noAutoscalerRoutes,
      "GET /api/settings": () => apiError(503, "The Kubernetes API server is unreachable"),
      "GET /api/auth/whoami": () => json({ authEnabled: false, authenticated: false, groups: [] }),
      "GET /api/cluster/status": () => json({ connected: false, namespace: "x", error: "refused" }),
    });
    renderApp("/settings");
    expect(await screen.findByText("Settings are unavailable while the cluster is unreachable")).toBeInTheDocument();
  });

  it("switches tabs with the arrow keys and mirrors the tab in the URL", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...noAutoscalerRoutes,
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/runtimes/status": () =>
        json({
          runtimes: [
            { id: "kubernetes", name: "Kubernetes", installed: true, healthy: true, message: "Provider ready", version: "0.1.0" },
            { id: "kaito", name: "Kaito", installed: true, healthy: false, message: "Provider not ready" },
          ],
        }),
      "GET /api/installation/helm/status": () => json({ available: false, error: "helm not found on PATH" }),
      "GET /api/installation/providers/kubernetes/status": () =>
        json({ providerId: "kubernetes", providerName: "Kubernetes", installed: true, operatorRunning: true, crdFound: true, message: "Kubernetes is installed and running", helmCommands: [], installationSteps: [], charts: [] }),
      "GET /api/installation/providers/kaito/status": () => json(providerStatus()),
    });
    const { router } = renderApp("/settings");
    const general = await screen.findByRole("tab", { name: "General" });
    general.focus();
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Runtimes" })).toHaveFocus();
    expect(screen.getByRole("tab", { name: "Runtimes" })).toHaveAttribute("aria-selected", "true");
    expect(router.state.location.search).toBe("?tab=runtimes");
    expect(await screen.findByRole("cell", { name: "Kubernetes" })).toBeInTheDocument();
    expect(screen.getByText("Healthy")).toBeInTheDocument();
    expect(await screen.findByText("Ready")).toBeInTheDocument();
    expect(await screen.findByText("helm not found on PATH")).toBeInTheDocument();
    // Only a provider with charts offers Helm actions, disabled without Helm.
    expect(await screen.findByRole("button", { name: "Install Kaito" })).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Install Kubernetes" })).toBeNull();
  });
});
