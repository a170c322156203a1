import { describe, expect, it } from "vitest";

import { ago, CHARTS, chartColumns, compact, duration, figures, unavailable } from "./metrics";

describe("unavailable", () => {
  it("names the reason of every code, and the pod proxy when the server is off the cluster", () => {
    const titles = (["not-running", "no-endpoint", "forbidden", "unreachable", "timeout", "bad-response", null] as const).map(
      (reason) => unavailable({ reason }, "team-a").title,
    );
    expect(titles).toEqual([
      "Metrics unavailable because no pod is running",
      "Metrics unavailable because the pods serve no metrics endpoint",
      "Metrics unavailable because you may not reach the pods",
      "Metrics unavailable because the pods cannot be reached",
      "Metrics unavailable because the pods did not answer in time",
      "Metrics unavailable because the pods' answer is not Prometheus metrics",
      "Metrics unavailable because no pod answered with metrics",
    ]);
    expect(unavailable({ reason: "forbidden" }, "team-a").detail).toContain("pods/proxy in namespace team-a");
    expect(unavailable({ reason: "unreachable", runningOffCluster: true }, "x").detail).toContain("pod proxy");
    expect(unavailable({ reason: "unreachable" }, "x").detail).not.toContain("pod proxy");
  });
});

describe("formatting", () => {
  it("shortens counts and picks a duration unit", () => {
    expect([compact(42), compact(0.4), compact(12.34), compact(150.5), compact(67890), compact(4_500_000)]).toEqual([
      "42",
      "0.40",
      "12.3",
      "151",
      "67.9k",
      "4.5M",
    ]);
    expect([duration(0.0005), duration(0.0055), duration(0.06), duration(3.1), duration(130)]).toEqual([
      "500 µs",
      "5.5 ms",
      "60 ms",
      "3.10 s",
      "130 s",
    ]);
    const now = Date.parse("2026-01-01T10:05:00Z");
    expect([ago("2026-01-01T10:04:58Z", now), ago("2026-01-01T10:04:30Z", now), ago("2026-01-01T10:01:00Z", now)]).toEqual([
      "just now",
      "30 s ago",
      "4 min ago",
    ]);
  });
});

describe("figures", () => {
  it("waits for a second scrape for rates, and falls back to lifetime latency means", () => {
    const first = figures({
      summary: { runningRequests: 2, kvCacheUsage: 0.5, e2eLatency: { count: 10, sum: 31, mean: 3.1, p95: 5 } },
      rates: null,
    });
    const get = (fs: typeof first, label: string) => fs.find((f) => f.label === label);
    expect(get(first, "Running requests")?.value).toBe("2");
    expect(get(first, "Waiting requests")?.value).toBe("—");
    expect(get(first, "KV-cache usage")?.value).toBe("50.0 %");
    expect(get(first, "Generated tokens")).toEqual({ label: "Generated tokens", value: "—", note: "after the next refresh" });
    expect(get(first, "End-to-end latency")).toEqual({ label: "End-to-end latency", value: "3.10 s", note: "mean since start · p95 5.00 s" });

    const next = figures({
      summary: { e2eLatency: { count: 10, sum: 31, mean: 3.1 } },
      rates: { intervalSeconds: 10, generationTokensPerSecond: 1000, e2eLatencySeconds: 2 },
    });
    expect(get(next, "Generated tokens")).toEqual({ label: "Generated tokens", value: "1000/s", note: "over the last 10 s" });
    expect(get(next, "End-to-end latency")).toEqual({ label: "End-to-end latency", value: "2.00 s", note: "mean since last refresh" });
  });
});

describe("chartColumns", () => {
  const spec = (key: string) => {
    const found = CHARTS.find((c) => c.key === key);
    if (!found) throw new Error(`no chart ${key}`);
    return found;
  };
  it("aligns series on Unix seconds, scales ratios and drops series without values", () => {
    const history = [
      { timestamp: 1_000_000, kvCacheUsage: 0.25, runningRequests: 1 },
      { timestamp: 1_005_000, kvCacheUsage: null, runningRequests: 2, waitingRequests: 1 },
    ];
    expect(chartColumns(history, spec("kv-cache"))).toEqual({ labels: ["KV cache"], columns: [[1000, 1005], [25, null]] });
    expect(chartColumns(history, spec("requests"))).toEqual({
      labels: ["Running", "Waiting"],
      columns: [[1000, 1005], [1, 2], [null, 1]],
    });
    expect(chartColumns(history, spec("latency"))).toBeNull();
    expect(chartColumns([], spec("throughput"))).toBeNull();
  });
});
