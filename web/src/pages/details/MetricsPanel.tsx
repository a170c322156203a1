import type { DeploymentStatus, MetricsResponse } from "@kubeairunway/shared";
import { lazy, Suspense, useState } from "react";

import { METRICS_POLL_MS, useMetrics } from "../../api/hooks";
import { Badge, Button, Card, ErrorMessage, Loading } from "../../components/ui";
import { useNow } from "../../lib/format";
import { ago, figures, unavailable } from "../../lib/metrics";

// uPlot and the charts load only when the Metrics tab shows a history.
const MetricsCharts = lazy(() => import("./MetricsCharts"));

const SOURCE: Record<MetricsResponse["source"], string> = {
  direct: "scraped from the pods directly",
  "pod-proxy": "scraped through the Kubernetes API server's pod proxy",
  none: "no pod scraped",
};

/** The Metrics tab: live figures of the model servers, their recent history as charts, or why not. */
export function MetricsPanel({ d }: { d: DeploymentStatus }) {
  const [live, setLive] = useState(true);
  const metrics = useMetrics(d.namespace, d.name, { live });
  const now = useNow(1_000);

  const controls = (
    <div className="flex flex-wrap items-center gap-2 text-xs text-muted">
      {metrics.data ? (
        <span>
          Updated <time dateTime={metrics.data.timestamp}>{ago(metrics.data.timestamp, now)}</time>
        </span>
      ) : null}
      <Button
        aria-pressed={live}
        onClick={() => {
          setLive((v) => !v);
        }}
      >
        Auto-refresh
      </Button>
      <span>{live ? `every ${METRICS_POLL_MS / 1000} s` : "paused"}</span>
      <Button
        loading={metrics.isFetching}
        loadingText="Refreshing…"
        onClick={() => {
          void metrics.refetch();
        }}
      >
        Refresh
      </Button>
    </div>
  );

  if (metrics.isPending) {
    return (
      <Card title="Metrics" actions={controls}>
        <Loading label="Scraping the pods…" />
      </Card>
    );
  }
  if (metrics.isError && metrics.data === undefined) {
    return (
      <Card title="Metrics" actions={controls}>
        <ErrorMessage title="Metrics unavailable because the request failed" error={metrics.error} />
      </Card>
    );
  }
  const m = metrics.data;
  return (
    <div className="flex flex-col gap-4">
      <Card title="Metrics" actions={controls}>
        {metrics.isError ? (
          <div className="mb-3">
            <ErrorMessage title="Could not refresh the metrics; showing the last answer" error={metrics.error} />
          </div>
        ) : null}
        {m.available ? <Figures m={m} /> : <UnavailableState m={m} namespace={d.namespace} />}
        <p className="mt-3 text-xs text-muted">
          {m.summary?.family ? <>Model server: {m.summary.family}; </> : null}
          {SOURCE[m.source]}.
        </p>
      </Card>
      {m.available ? (
        <Card title="History (last 15 minutes)">
          <Suspense fallback={<Loading label="Loading charts…" />}>
            <MetricsCharts history={m.history ?? []} />
          </Suspense>
        </Card>
      ) : null}
      {m.pods.length > 0 ? <Pods m={m} /> : null}
    </div>
  );
}

function Figures({ m }: { m: MetricsResponse }) {
  return (
    <div role="group" aria-label="Current figures">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4">
      {figures(m).map((f) => (
        <div key={f.label} className="rounded-md border border-line p-3">
          <dt className="text-xs text-muted">{f.label}</dt>
          <dd className="mt-1 font-mono text-xl tabular-nums">{f.value}</dd>
          {f.note ? <dd className="text-xs text-muted">{f.note}</dd> : null}
        </div>
      ))}
      </dl>
    </div>
  );
}

function UnavailableState({ m, namespace }: { m: MetricsResponse; namespace: string }) {
  const u = unavailable(m, namespace);
  return (
    <div role="status" className="rounded-md border border-warn/50 bg-warn-soft p-3 text-sm">
      <p className="font-semibold">{u.title}</p>
      <p className="mt-1">{u.detail}</p>
      {m.error ? <p className="mt-2 font-mono text-xs break-words text-muted">{m.error}</p> : null}
    </div>
  );
}

function Pods({ m }: { m: MetricsResponse }) {
  return (
    <Card title="Scraped pods">
      <ul className="flex flex-col gap-2 text-sm">
        {m.pods.map((p) => (
          <li key={p.pod} className="flex flex-wrap items-center gap-2">
            {p.ok ? <Badge tone="ok">✓ answered</Badge> : <Badge tone="bad">✕ failed</Badge>}
            <span className="font-mono">{p.pod}</span>
            <span className="font-mono text-xs text-muted">
              :{p.port}
              {p.path}
            </span>
            {p.error ? <span className="text-xs text-muted">{p.error}</span> : null}
          </li>
        ))}
      </ul>
      {m.parseErrors && m.parseErrors.length > 0 ? (
        <details className="mt-3 text-xs">
          <summary className="cursor-pointer">{m.parseErrors.length} lines were not metrics</summary>
          <ul className="mt-1 font-mono">
            {m.parseErrors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </Card>
  );
}
