import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { connected, dep, settings } from "../../test/fixtures";
import { json, mockFetch, sse } from "../../test/http";
import { renderApp } from "../../test/render";

// jsdom has no canvas: the uPlot wrapper is replaced by what it was given (the real one is
// drawn in Chromium by the browser tests).
vi.mock("../../components/charts/UPlotChart", () => ({
  UPlotChart: ({ label, data }: { label: string; data: unknown[][] }) => (
    <div role="img" aria-label={label} data-series={data.length - 1} data-points={data[0]?.length} />
  ),
}));

const running = dep("qwen", "team-a", { pods: [{ name: "qwen-0", phase: "Running", ready: true, restarts: 0 }] });

const t0 = Date.parse("2026-01-01T10:00:00Z");
const available = {
  available: true,
  timestamp: new Date().toISOString(),
  source: "direct",
  metrics: [{ name: "vllm:num_requests_running", value: 3, labels: {} }],
  pods: [{ pod: "qwen-0", port: 8000, path: "/metrics", ok: true }],
  summary: {
    family: "vllm",
    runningRequests: 3,
    waitingRequests: 1,
    kvCacheUsage: 0.4375,
    requestsTotal: 42,
    generationTokensTotal: 67890,
    timeToFirstToken: { count: 42, sum: 2.52, mean: 0.06, p50: 0.05, p95: 0.2 },
  },
  rates: { intervalSeconds: 5, generationTokensPerSecond: 2000, promptTokensPerSecond: 150.5, requestsPerSecond: 0.4, timeToFirstTokenSeconds: 0.055 },
  history: [
    { timestamp: t0, runningRequests: 2, waitingRequests: 0, kvCacheUsage: 0.4 },
    { timestamp: t0 + 5000, runningRequests: 3, waitingRequests: 1, kvCacheUsage: 0.4375, generationTokensPerSecond: 2000, promptTokensPerSecond: 150.5 },
  ],
  parseErrors: ["qwen-0: line 37: expected a value"],
};

function routes(metrics: () => Response) {
  return {
    "GET /api/settings": () => json(settings(false)),
    "GET /api/cluster/status": () => json(connected),
    "GET /api/deployments/events": (req: Request) => sse([{ event: "snapshot", data: { deployments: [running] } }], { signal: req.signal }),
    "GET /api/deployments/qwen": () => json(running),
    "GET /api/deployments/qwen/metrics": metrics,
  };
}

describe("MetricsPanel", () => {
  it("shows the live figures and rates, and charts the history from a lazily loaded module", async () => {
    const { calls } = mockFetch(routes(() => json(available)));
    renderApp("/deployments/qwen?namespace=team-a&tab=metrics");
    const figures = await screen.findByRole("group", { name: "Current figures" });
    const figure = (label: string) => within(figures).getByText(label).parentElement as HTMLElement;
    expect(figure("Running requests")).toHaveTextContent("3");
    expect(figure("Waiting requests")).toHaveTextContent("1");
    expect(figure("KV-cache usage")).toHaveTextContent("43.8 %");
    expect(figure("Generated tokens")).toHaveTextContent("2000/s");
    expect(figure("Generated tokens")).toHaveTextContent("over the last 5 s");
    expect(figure("Prompt tokens")).toHaveTextContent("151/s");
    expect(figure("Time to first token")).toHaveTextContent("55 ms");
    expect(figure("Time to first token")).toHaveTextContent("p95 200 ms overall");
    expect(figure("Requests served")).toHaveTextContent("42");
    expect(screen.getByText(/scraped from the pods directly/)).toHaveTextContent("Model server: vllm;");

    // The charts: one per group with data; the latency chart has no points, so it is left out.
    const throughput = await screen.findByRole("img", { name: /^Token throughput over the last 2 refreshes: latest Generated 2000, Prompt 151$/ });
    expect(throughput).toHaveAttribute("data-series", "2");
    expect(screen.getByRole("img", { name: /^Requests in flight/ })).toHaveAttribute("data-points", "2");
    expect(screen.getByRole("img", { name: /^KV-cache usage .*latest KV cache 43.8 %$/ })).toBeInTheDocument();
    expect(screen.queryByRole("img", { name: /^Latency/ })).not.toBeInTheDocument();

    expect(screen.getByText("qwen-0")).toBeInTheDocument();
    expect(screen.getByText("1 lines were not metrics")).toBeInTheDocument();
    const metricsCall = calls.find((c) => new URL(c.url).pathname.endsWith("/metrics"));
    expect(new URL(metricsCall?.url ?? "http://x").search).toBe("?namespace=team-a&history=true");
  });

  it("says why metrics are unavailable, in words, never a blank panel", async () => {
    mockFetch(
      routes(() =>
        json({
          available: false,
          timestamp: new Date().toISOString(),
          source: "none",
          reason: "not-running",
          error: "No running pods found for this deployment",
          metrics: [],
          pods: [],
        }),
      ),
    );
    renderApp("/deployments/qwen?namespace=team-a&tab=metrics");
    const state = await screen.findByText("Metrics unavailable because no pod is running");
    expect(state.parentElement).toHaveTextContent("They appear once a pod is Running.");
    expect(state.parentElement).toHaveTextContent("No running pods found for this deployment");
    expect(screen.queryByRole("group", { name: "Current figures" })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "History (last 15 minutes)" })).not.toBeInTheDocument();
  });

  it("pauses and resumes the polling, and refreshes on demand", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch(routes(() => json(available)));
    renderApp("/deployments/qwen?namespace=team-a&tab=metrics");
    await screen.findByRole("group", { name: "Current figures" });
    const auto = screen.getByRole("button", { name: "Auto-refresh" });
    expect(auto).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByText("every 5 s")).toBeInTheDocument();
    await user.click(auto);
    expect(auto).toHaveAttribute("aria-pressed", "false");
    expect(screen.getByText("paused")).toBeInTheDocument();
    const scrapes = () => calls.filter((c) => new URL(c.url).pathname.endsWith("/metrics")).length;
    const before = scrapes();
    await user.click(screen.getByRole("button", { name: "Refresh" }));
    await screen.findByRole("button", { name: "Refresh" });
    expect(scrapes()).toBe(before + 1);
  });
});
