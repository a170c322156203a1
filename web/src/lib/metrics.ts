import type { Latency, MetricsPoint, MetricsResponse } from "@kubeairunway/shared";

/** Why the Metrics tab shows no numbers, in words: a title, what it means, and what to do. */
export interface Unavailable {
  title: string;
  detail: string;
}

/**
 * The "Metrics unavailable because …" state of an answer that has no figures, built from its
 * `reason` code (and the server's own `error` sentence, shown beside it).
 */
export function unavailable(m: Pick<MetricsResponse, "reason" | "runningOffCluster">, namespace: string): Unavailable {
  const offCluster = m.runningOffCluster === true;
  switch (m.reason) {
    case "not-running":
      return {
        title: "Metrics unavailable because no pod is running",
        detail: "Metrics are read from the model server in each running pod. They appear once a pod is Running.",
      };
    case "no-endpoint":
      return {
        title: "Metrics unavailable because the pods serve no metrics endpoint",
        detail:
          "The pods answered, but not with metrics at the port and path the provider uses. Pods can name theirs with the prometheus.io/port and prometheus.io/path annotations.",
      };
    case "forbidden":
      return {
        title: "Metrics unavailable because you may not reach the pods",
        detail: `The server reaches pods through the Kubernetes API server's pod proxy, which needs permission to get pods/proxy in namespace ${namespace}. Ask a cluster admin for it.`,
      };
    case "unreachable":
      return {
        title: "Metrics unavailable because the pods cannot be reached",
        detail: offCluster
          ? "The server runs outside the cluster and reaches pods through the API server's pod proxy, which could not connect to them."
          : "Nothing answered at the pods' metrics port: the model server may still be starting, or a network policy blocks the server.",
      };
    case "timeout":
      return {
        title: "Metrics unavailable because the pods did not answer in time",
        detail: "The model server may be overloaded or still loading the model. The next refresh tries again.",
      };
    case "bad-response":
      return {
        title: "Metrics unavailable because the pods' answer is not Prometheus metrics",
        detail: "Something answered at the metrics port, but not in the Prometheus text format.",
      };
    default:
      return {
        title: "Metrics unavailable because no pod answered with metrics",
        detail: "None of the known model-server metric names were found.",
      };
  }
}

/** `12.3k`, `4.5M`, `42`, `0.75`: a count or rate, short. */
export function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A duration in seconds as `850 µs`, `60 ms`, `3.10 s`. */
export function duration(seconds: number): string {
  if (seconds < 0.001) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms`;
  if (seconds < 100) return `${seconds.toFixed(2)} s`;
  return `${seconds.toFixed(0)} s`;
}

/** A ratio 0–1 as `43.8 %`. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

/** One number of the Metrics tab. */
export interface Figure {
  label: string;
  /** The value as shown, `—` when unknown. */
  value: string;
  /** How it was measured (window or lifetime, percentiles). */
  note?: string;
}

const dash = "—";
const opt = (v: number | null | undefined, f: (n: number) => string) => (v === null || v === undefined ? dash : f(v));

function latencyFigure(label: string, windowMean: number | null | undefined, lifetime: Latency | null | undefined): Figure {
  if (windowMean !== null && windowMean !== undefined) {
    const p95 = lifetime?.p95;
    return {
      label,
      value: duration(windowMean),
      note: p95 !== null && p95 !== undefined ? `mean since last refresh · p95 ${duration(p95)} overall` : "mean since last refresh",
    };
  }
  if (lifetime?.mean !== null && lifetime?.mean !== undefined) {
    const p95 = lifetime.p95;
    return {
      label,
      value: duration(lifetime.mean),
      note: p95 !== null && p95 !== undefined ? `mean since start · p95 ${duration(p95)}` : "mean since start",
    };
  }
  return { label, value: dash };
}

/**
 * The figures of an answer: the current load (summary), throughput (rates between this scrape
 * and the previous one; `—` until there is a previous one), latencies and lifetime totals.
 */
export function figures(m: Pick<MetricsResponse, "summary" | "rates">): Figure[] {
  const s = m.summary ?? {};
  const r = m.rates ?? null;
  const perSecond = (v: number | null | undefined) => opt(v, (n) => `${compact(n)}/s`);
  const rateNote = r ? `over the last ${r.intervalSeconds.toFixed(0)} s` : "after the next refresh";
  return [
    { label: "Running requests", value: opt(s.runningRequests, compact) },
    { label: "Waiting requests", value: opt(s.waitingRequests, compact) },
    { label: "KV-cache usage", value: opt(s.kvCacheUsage, percent) },
    { label: "Requests", value: perSecond(r?.requestsPerSecond), note: rateNote },
    { label: "Generated tokens", value: perSecond(r?.generationTokensPerSecond), note: rateNote },
    { label: "Prompt tokens", value: perSecond(r?.promptTokensPerSecond), note: rateNote },
    latencyFigure("Time to first token", r?.timeToFirstTokenSeconds, s.timeToFirstToken),
    latencyFigure("Inter-token latency", r?.interTokenLatencySeconds, s.interTokenLatency),
    latencyFigure("End-to-end latency", r?.e2eLatencySeconds, s.e2eLatency),
    { label: "Requests served", value: opt(s.requestsTotal, compact), note: "since the servers started" },
    { label: "Tokens generated", value: opt(s.generationTokensTotal, compact), note: "since the servers started" },
  ];
}

/** One chart of the history: its title, unit, and the point fields it draws. */
export interface ChartSpec {
  key: string;
  title: string;
  unit: string;
  series: { field: keyof Omit<MetricsPoint, "timestamp">; label: string; scale?: number }[];
}

/** The charts of the Metrics tab. */
export const CHARTS: ChartSpec[] = [
  {
    key: "throughput",
    title: "Token throughput",
    unit: "tokens/s",
    series: [
      { field: "generationTokensPerSecond", label: "Generated" },
      { field: "promptTokensPerSecond", label: "Prompt" },
    ],
  },
  {
    key: "requests",
    title: "Requests in flight",
    unit: "requests",
    series: [
      { field: "runningRequests", label: "Running" },
      { field: "waitingRequests", label: "Waiting" },
    ],
  },
  {
    key: "latency",
    title: "Latency",
    unit: "seconds",
    series: [
      { field: "timeToFirstTokenSeconds", label: "Time to first token" },
      { field: "e2eLatencySeconds", label: "End-to-end" },
      { field: "interTokenLatencySeconds", label: "Inter-token" },
    ],
  },
  {
    key: "kv-cache",
    title: "KV-cache usage",
    unit: "%",
    series: [{ field: "kvCacheUsage", label: "KV cache", scale: 100 }],
  },
];

/**
 * The columns of one chart: x in Unix seconds, then one column per series (`null` where a point
 * lacks the value). Series without any value are dropped; a chart with none is `null`.
 */
export function chartColumns(
  history: MetricsPoint[],
  spec: ChartSpec,
): { labels: string[]; columns: [number[], ...(number | null)[][]] } | null {
  const x = history.map((p) => p.timestamp / 1000);
  const labels: string[] = [];
  const ys: (number | null)[][] = [];
  for (const s of spec.series) {
    const col = history.map((p) => {
      const v = p[s.field];
      return v === null || v === undefined ? null : v * (s.scale ?? 1);
    });
    if (col.some((v) => v !== null)) {
      labels.push(s.label);
      ys.push(col);
    }
  }
  if (ys.length === 0) return null;
  return { labels, columns: [x, ...ys] };
}

/** `just now`, `12 s ago`, `3 min ago`. */
export function ago(iso: string | undefined, now: number): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  return `${Math.floor(s / 60)} min ago`;
}
