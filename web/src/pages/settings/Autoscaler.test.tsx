import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { connected, noAutoscalerRoutes, settings } from "../../test/fixtures";
import { apiError, json, mockFetch } from "../../test/http";
import { renderApp } from "../../test/render";

const base = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
};

function card(): HTMLElement {
  return screen.getByRole("heading", { name: "Cluster autoscaling" }).closest("section") as HTMLElement;
}

describe("Settings → autoscaling", () => {
  it("shows the detected autoscaler, its node groups and their scaling activity", async () => {
    mockFetch({
      ...base,
      "GET /api/autoscaler/detection": () =>
        json({
          type: "cluster-autoscaler",
          detected: true,
          healthy: true,
          scalingUp: true,
          nodeGroupCount: 2,
          lastActivity: "2026-01-01T10:20:00Z",
          message: "Cluster Autoscaler is running and healthy",
        }),
      "GET /api/autoscaler/status": () =>
        json({
          format: "yaml",
          health: "Healthy",
          autoscalerStatus: "Running",
          lastUpdateTime: "2026-01-01T10:20:00Z",
          scaleUp: { status: "InProgress" },
          scaleDown: { status: "CandidatesPresent", candidates: 2 },
          nodeGroups: [
            { name: "h100", minSize: 1, maxSize: 4, currentSize: 3, health: "Healthy", readyNodes: 2, registeredNodes: 2, scaleUp: { status: "InProgress" }, scaleDown: { status: "NoCandidates", candidates: 0 } },
            { name: "t4", minSize: 0, maxSize: 6, currentSize: 2, health: "Unhealthy", readyNodes: 1, registeredNodes: 2, scaleUp: { status: "Backoff", backoffMessage: "quota exceeded" } },
          ],
        }),
    });
    renderApp("/settings");
    expect(await screen.findByText("Cluster Autoscaler is running and healthy")).toBeInTheDocument();
    const c = card();
    expect(within(c).getAllByText("✓ Healthy")).toHaveLength(2);
    expect(within(c).getByText("Cluster Autoscaler")).toBeInTheDocument();
    expect(within(c).getByText("Yes, now")).toBeInTheDocument();
    expect(within(c).getByText("Candidates present (2)")).toBeInTheDocument();
    const table = await within(c).findByRole("table", { name: "Node groups" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      "h100✓ Healthy2/231–4In progressNo candidates",
      "t4! Unhealthy1/220–6Backing off: quota exceeded—",
    ]);
  });

  it("says plainly when there is no autoscaler", async () => {
    mockFetch({ ...base, ...noAutoscalerRoutes });
    renderApp("/settings");
    expect(await screen.findByText(/No autoscaler detected\. Install Kubernetes Cluster Autoscaler/)).toBeInTheDocument();
    const c = card();
    expect(within(c).getByText("Not detected")).toBeInTheDocument();
    expect(within(c).getByText("None")).toBeInTheDocument();
    expect(within(c).getByText(/stay Pending until GPUs are freed/)).toBeInTheDocument();
    expect(within(c).queryByRole("table")).not.toBeInTheDocument();
  });

  it("shows why the status cannot be read", async () => {
    mockFetch({
      ...base,
      "GET /api/autoscaler/detection": () =>
        json({ type: "cluster-autoscaler", detected: true, healthy: false, scalingUp: false, message: "Cluster Autoscaler detected but status is stale or unhealthy" }),
      "GET /api/autoscaler/status": () => apiError(403, "configmaps \"cluster-autoscaler-status\" is forbidden"),
    });
    renderApp("/settings");
    expect(await screen.findByText("Could not read the autoscaler's status")).toBeInTheDocument();
    expect(within(card()).getByText("! Unhealthy")).toBeInTheDocument();
  });
});
