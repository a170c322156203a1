import type { ActivityEntry } from "@kubeairunway/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, dep, settings } from "../test/fixtures";
import { apiError, json, mockFetch, sse } from "../test/http";
import { renderApp } from "../test/render";

function entry(extra: Partial<ActivityEntry> = {}): ActivityEntry {
  return {
    time: "2026-12-03T10:00:00Z",
    user: "alice",
    groups: ["team-a", "system:authenticated"],
    action: "Scale",
    outcome: "succeeded",
    statusCode: 200,
    type: "Normal",
    reason: "Scaled",
    message: "alice (groups: team-a, system:authenticated) scaled deployment big in team-a to 3 replicas",
    object: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1", namespace: "team-a", name: "big" },
    deployment: "big",
    ...extra,
  };
}

const base = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
};

/** The query of every `GET /api/activity` made so far. */
function activityQueries(calls: Request[]): URLSearchParams[] {
  return calls.map((c) => new URL(c.url)).filter((u) => u.pathname === "/api/activity").map((u) => u.searchParams);
}

describe("ActivityPage", () => {
  it("lists who did what, newest first, and is reached from the navigation", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...base,
      "GET /api/deployments/events": (req) => sse([{ event: "snapshot", data: { deployments: [] } }], { signal: req.signal }),
      "GET /api/activity": () =>
        json({
          items: [
            entry({
              action: "Delete",
              user: "viewer",
              groups: ["kubeairunway:viewers"],
              outcome: "refused",
              statusCode: 403,
              type: "Warning",
              message: "viewer tried to delete deployment big in team-a and was refused (403): forbidden",
            }),
            entry(),
            entry({
              action: "UpdateSettings",
              user: "admin",
              groups: [],
              object: { kind: "ConfigMap", apiVersion: "v1", namespace: "kubeairunway-system", name: "kubeairunway-config" },
              deployment: undefined,
              message: "admin updated the settings",
            }),
          ],
          total: 3,
          limit: 25,
          offset: 0,
        }),
    });
    renderApp("/deployments");
    await user.click(await screen.findByRole("link", { name: "Activity" }));
    expect(await screen.findByRole("heading", { name: "Activity", level: 1 })).toBeInTheDocument();
    const rows = await screen.findAllByRole("row");
    // The header, then one row per entry in the server's order.
    expect(rows).toHaveLength(4);
    const row = (i: number): HTMLElement => {
      const found = rows[i];
      if (!found) throw new Error(`no row ${i}`);
      return found;
    };
    expect(within(row(1)).getByText("viewer")).toBeInTheDocument();
    expect(within(row(1)).getByText("refused (403)")).toBeInTheDocument();
    expect(within(row(1)).getByText(/was refused \(403\): forbidden/)).toBeInTheDocument();
    expect(within(row(2)).getByText("team-a, system:authenticated")).toBeInTheDocument();
    expect(within(row(2)).getByText("ModelDeployment team-a/big")).toBeInTheDocument();
    expect(within(row(3)).getByText("ConfigMap kubeairunway-system/kubeairunway-config")).toBeInTheDocument();
    expect(screen.getByText("1–3 of 3")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Older" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Newer" })).toBeDisabled();
  });

  it("sends the filters the user applies and pages with offsets", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...base,
      "GET /api/activity": (_req, url) => {
        const offset = Number(url.searchParams.get("offset"));
        return json({ items: [entry({ time: `2026-12-03T10:00:${String(offset).padStart(2, "0")}Z` })], total: 30, limit: 25, offset });
      },
    });
    const { router } = renderApp("/activity");
    expect(await screen.findByText("1–1 of 30")).toBeInTheDocument();
    expect(Object.fromEntries(activityQueries(calls)[0] ?? [])).toEqual({ limit: "25", offset: "0" });

    await user.type(screen.getByLabelText("User"), "alice");
    await user.type(screen.getByLabelText("Namespace"), "team-a");
    await user.selectOptions(screen.getByLabelText("Action"), "Scale");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => {
      expect(Object.fromEntries(activityQueries(calls).at(-1) ?? [])).toEqual({
        namespace: "team-a",
        user: "alice",
        action: "Scale",
        limit: "25",
        offset: "0",
      });
    });
    expect(router.state.location.search).toBe("?namespace=team-a&user=alice&action=Scale");

    await user.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByText("26–26 of 30")).toBeInTheDocument();
    expect(activityQueries(calls).at(-1)?.get("offset")).toBe("25");
    expect(activityQueries(calls).at(-1)?.get("user")).toBe("alice");
    expect(router.state.location.search).toBe("?namespace=team-a&user=alice&action=Scale&offset=25");
    await user.click(screen.getByRole("button", { name: "Newer" }));
    expect(await screen.findByText("1–1 of 30")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Clear" }));
    await waitFor(() => {
      expect(Object.fromEntries(activityQueries(calls).at(-1) ?? [])).toEqual({ limit: "25", offset: "0" });
    });
  });

  it("says so when there is nothing, and shows the server's refusal of a bad filter", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...base,
      "GET /api/activity": (_req, url) =>
        url.searchParams.get("namespace") === "Bad_NS"
          ? apiError(400, 'Invalid namespace "Bad_NS": must be 1-63 lower-case letters')
          : json({ items: [], total: 0, limit: 25, offset: 0 }),
    });
    renderApp("/activity");
    expect(await screen.findByText("No activity")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Namespace"), "Bad_NS");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText(/Invalid namespace "Bad_NS"/)).toBeInTheDocument();
  });
});

describe("the deployment's Activity tab", () => {
  it("lists the changes of that deployment only", async () => {
    const big = dep("big", "team-a");
    const { calls } = mockFetch({
      ...base,
      "GET /api/deployments/events": (req) => sse([{ event: "snapshot", data: { deployments: [big] } }], { signal: req.signal }),
      "GET /api/deployments/big": () => json(big),
      "GET /api/activity": () => json({ items: [entry()], total: 1, limit: 10, offset: 0 }),
    });
    renderApp("/deployments/big?namespace=team-a&tab=activity");
    expect(await screen.findByText(/scaled deployment big in team-a to 3 replicas/)).toBeInTheDocument();
    const query = activityQueries(calls)[0];
    expect(Object.fromEntries(query ?? [])).toEqual({ namespace: "team-a", deployment: "big", limit: "10", offset: "0" });
    // The object column is left out: it is this deployment.
    expect(screen.queryByText("ModelDeployment team-a/big")).not.toBeInTheDocument();
  });
});
