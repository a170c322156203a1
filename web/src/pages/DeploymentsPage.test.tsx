import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { PhaseState, ProgressPhase } from "../lib/progress";
import { connected, dep, settings } from "../test/fixtures";
import { apiError, json, liveStream, mockFetch } from "../test/http";
import { renderApp } from "../test/render";

const base = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
};

function thousand() {
  return Array.from({ length: 1000 }, (_, i) =>
    dep(`model-${String(i).padStart(4, "0")}`, i % 2 === 0 ? "team-a" : "team-b", {
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    }),
  );
}

describe("DeploymentsPage", () => {
  it("renders 1,000 live deployments virtualised, with filter and search", async () => {
    const user = userEvent.setup();
    const stream = liveStream();
    mockFetch({ ...base, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments");
    await screen.findByRole("heading", { name: "Deployments" });
    act(() => {
      stream.push("snapshot", { deployments: thousand() });
    });
    expect(await screen.findByText("1000 deployments")).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "Deployments" });
    expect(table).toHaveAttribute("aria-rowcount", "1001");
    const rendered = within(table).getAllByRole("row").length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(80);
    // Newest first by default.
    expect(within(table).getAllByRole("link")[0]).toHaveTextContent("model-0999");
    expect(screen.getByText("Live: changes appear as they happen")).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Namespace"), "team-b");
    expect(await screen.findByText("500 of 1000 deployments")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Search"), "model-0001");
    expect(await screen.findByText("1 of 1000 deployments")).toBeInTheDocument();
  });

  it("applies upserts and deletes as they arrive", async () => {
    const stream = liveStream();
    mockFetch({ ...base, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments");
    act(() => {
      stream.push("snapshot", { deployments: [dep("qwen"), dep("llama")] });
    });
    expect(await screen.findByText("2 deployments")).toBeInTheDocument();
    // The row's Delete is red: the danger colour is its only text colour (a second one,
    // e.g. the ghost variant's text-fg, would win or lose by stylesheet order).
    const remove = screen.getByRole("button", { name: "Delete qwen in default" });
    expect(remove).toHaveClass("text-bad");
    expect(remove).not.toHaveClass("text-fg");
    act(() => {
      stream.push("upsert", { deployment: dep("qwen", "default", { phase: "Failed" }) });
      stream.push("upsert", { deployment: dep("mistral", "team-x") });
    });
    expect(await screen.findByText("3 deployments")).toBeInTheDocument();
    const row = screen.getByRole("link", { name: "qwen" }).closest("tr");
    expect(row).not.toBeNull();
    await waitFor(() => {
      expect(within(row as HTMLElement).getByText("Failed")).toBeInTheDocument();
    });
    act(() => {
      stream.push("delete", { namespace: "default", name: "llama" });
    });
    expect(await screen.findByText("2 deployments")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "llama" })).not.toBeInTheDocument();
  });

  it("sorts by a column from its header button and says so with aria-sort", async () => {
    const user = userEvent.setup();
    const stream = liveStream();
    mockFetch({ ...base, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments");
    act(() => {
      stream.push("snapshot", { deployments: [dep("b"), dep("a"), dep("c")] });
    });
    await screen.findByText("3 deployments");
    await user.click(screen.getByRole("button", { name: "Sort by Name" }));
    const header = screen.getByRole("button", { name: "Sort by Name" }).closest("th");
    expect(header).toHaveAttribute("aria-sort", "ascending");
    const links = () => within(screen.getByRole("table")).getAllByRole("link").map((l) => l.textContent);
    expect(links()).toEqual(["a", "b", "c"]);
    await user.click(screen.getByRole("button", { name: "Sort by Name" }));
    expect(header).toHaveAttribute("aria-sort", "descending");
    expect(links()).toEqual(["c", "b", "a"]);
  });

  it("deletes after confirmation, and reports a refusal", async () => {
    const user = userEvent.setup();
    const stream = liveStream();
    let allowed = true;
    const { calls } = mockFetch({
      ...base,
      "GET /api/deployments/events": () => stream.response(),
      "DELETE /api/deployments/qwen": () =>
        allowed
          ? json({ message: "Deployment deleted successfully" })
          : apiError(403, 'modeldeployments.kubeairunway.ai "qwen" is forbidden: User "bob" cannot delete'),
    });
    renderApp("/deployments");
    act(() => {
      stream.push("snapshot", { deployments: [dep("qwen", "team-a")] });
    });
    await user.click(await screen.findByRole("button", { name: "Delete qwen in team-a" }));
    const dialog = screen.getByRole("dialog", { name: "Delete deployment?" });
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("Deployment deleted")).toBeInTheDocument();
    const del = calls.find((c) => c.method === "DELETE");
    expect(new URL(del?.url ?? "").searchParams.get("namespace")).toBe("team-a");

    allowed = false;
    await user.click(screen.getByRole("button", { name: "Delete qwen in team-a" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("Not allowed to delete qwen")).toBeInTheDocument();
    expect(screen.getByText(/^Your Kubernetes user has no permission to delete deployments in namespace team-a;.*User "bob" cannot delete/)).toBeInTheDocument();
  });

  it("shows why the list cannot load and keeps retrying", async () => {
    mockFetch({
      ...base,
      "GET /api/deployments/events": () => apiError(503, "The Kubernetes API server is unreachable"),
    });
    renderApp("/deployments");
    expect(await screen.findByText("Could not load the deployments")).toBeInTheDocument();
    expect(screen.getByText("The Kubernetes API server is unreachable")).toBeInTheDocument();
    expect(screen.getByText("Retrying…")).toBeInTheDocument();
  });

  it("shows each row's progress compactly, marks a stall in text, and hides it once done and running", async () => {
    const stream = liveStream();
    mockFetch({ ...base, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments");
    const phases = (loading: PhaseState, extra: Partial<ProgressPhase> = {}): ProgressPhase[] => [
      { name: "Scheduled", state: "Done" },
      { name: "ImagePulling", state: "Done" },
      { name: "Downloading", state: "Skipped" },
      { name: "Loading", state: loading, ...extra },
      { name: "Ready", state: loading === "Done" ? "Done" : "Waiting" },
    ];
    act(() => {
      stream.push("snapshot", {
        deployments: [
          dep("loading", "default", {
            phase: "Deploying",
            progress: { current: "Loading", podsDesired: 1, podsReady: 0, phases: phases("Active") },
          }),
          dep("crashing", "default", {
            phase: "Deploying",
            progress: {
              current: "Loading",
              stalledReason: "CrashLoopBackOff",
              podsDesired: 1,
              podsReady: 0,
              phases: phases("Stalled", { reason: "CrashLoopBackOff" }),
            },
          }),
          dep("done", "default", { progress: { podsDesired: 1, podsReady: 1, phases: phases("Done") } }),
          dep("old", "default"),
        ],
      });
    });
    expect(await screen.findByText("4 deployments")).toBeInTheDocument();
    const row = (name: string) => screen.getByRole("link", { name }).closest("tr") as HTMLElement;
    expect(within(row("loading")).getByText("Loading model · 3/5")).toBeInTheDocument();
    expect(within(row("loading")).getByText("Progress: Loading model, 3 of 5 steps done")).toBeInTheDocument();
    const crash = within(row("crashing"));
    expect(crash.getByText("⚠ CrashLoopBackOff")).toBeInTheDocument();
    expect(crash.getByText("Progress: Loading model, 3 of 5 steps done, stalled: CrashLoopBackOff")).toBeInTheDocument();
    expect(crash.getByTitle("Loading model, 3 of 5 steps done, stalled: CrashLoopBackOff")).toBeInTheDocument();
    expect(within(row("done")).queryByText(/Progress:/)).not.toBeInTheDocument();
    expect(within(row("old")).queryByText(/Progress:/)).not.toBeInTheDocument();

    // It moves with the stream.
    act(() => {
      stream.push("upsert", {
        deployment: dep("loading", "default", { progress: { podsDesired: 1, podsReady: 1, phases: phases("Done") } }),
      });
    });
    await waitFor(() => {
      expect(within(row("loading")).queryByText(/Progress:/)).not.toBeInTheDocument();
    });
  });
});
