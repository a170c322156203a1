import { isApiError, type DeploymentStatus } from "@kubeairunway/shared";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";

import { FALLBACK_POLL_MS } from "../../api/hooks";
import { useLiveDeployment } from "../../api/useLiveDeployment";
import type { LiveStatus } from "../../api/useLiveDeployments";
import { DeleteDeploymentDialog } from "../../components/DeleteDeploymentDialog";
import { PageHeader } from "../../components/PageHeader";
import { Tabs, tabPanelProps, useTabsId } from "../../components/Tabs";
import { Button, Card, EmptyState, ErrorMessage, Loading, PhaseBadge } from "../../components/ui";
import { age, dateTime, engineLabel, useNow } from "../../lib/format";
import { AccessPanel } from "./AccessPanel";
import { ActivityPanel } from "./ActivityPanel";
import { Conditions } from "./Conditions";
import { LogsPanel } from "./LogsPanel";
import { ManifestPanel } from "./ManifestPanel";
import { MetricsPanel } from "./MetricsPanel";
import { PendingReasons } from "./PendingReasons";
import { Pods } from "./Pods";
import { ProgressTimeline } from "./ProgressTimeline";
import { ScaleForm } from "./ScaleForm";

type Tab = "overview" | "metrics" | "logs" | "manifest" | "activity";
const TABS: { key: Tab; label: string }[] = [
  { key: "overview", label: "Overview" },
  { key: "metrics", label: "Metrics" },
  { key: "logs", label: "Logs" },
  { key: "manifest", label: "Manifest" },
  { key: "activity", label: "Activity" },
];

/** One deployment: status, progress timeline, conditions, pods, pending reasons, access, metrics, logs, manifest, activity, scale, delete. */
export default function DeploymentDetailsPage() {
  const { name = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const namespace = params.get("namespace") ?? "";
  const live = useLiveDeployment(namespace, name);
  const deployment = live.query;

  if (!namespace) {
    return (
      <div>
        <PageHeader title={name} />
        <ErrorMessage title="Which namespace?">
          <p className="mt-1">
            Open this deployment from the <Link className="text-primary underline" to="/deployments">Deployments</Link>{" "}
            list; its address names the namespace (<code>?namespace=…</code>).
          </p>
        </ErrorMessage>
      </div>
    );
  }
  const notFound = deployment.isError && isApiError(deployment.error) && deployment.error.status === 404;
  // Gone while viewed: the stream said so, or a re-read found nothing where there was something.
  if (live.deleted || (notFound && deployment.data !== undefined)) {
    return (
      <div>
        <PageHeader title={name} subtitle={namespace} />
        <div role="status">
          <EmptyState title="This deployment was deleted">
            <p>
              <strong className="text-fg">{name}</strong> in namespace <strong className="text-fg">{namespace}</strong> no
              longer exists.
            </p>
            <BackToDeployments />
          </EmptyState>
        </div>
      </div>
    );
  }
  if (deployment.isPending) return <Loading label={`Loading ${name}…`} />;
  // Only a first read that failed hides the page; a failed re-read keeps the last known state.
  if (deployment.isError && deployment.data === undefined) {
    return (
      <div>
        <PageHeader title={name} subtitle={namespace} />
        <ErrorMessage title={notFound ? "Deployment not found" : "Could not load the deployment"} error={deployment.error}>
          <BackToDeployments />
        </ErrorMessage>
      </div>
    );
  }
  const tab: Tab = TABS.find((t) => t.key === params.get("tab"))?.key ?? "overview";
  return (
    <Details
      d={deployment.data}
      refreshError={deployment.isError ? deployment.error : null}
      live={live.status}
      tab={tab}
      onTab={(t) => {
        const next = new URLSearchParams(params);
        if (t === "overview") next.delete("tab");
        else next.set("tab", t);
        setParams(next, { replace: true });
      }}
    />
  );
}

/** The way out of a page that cannot show a deployment. */
function BackToDeployments() {
  return (
    <p className="mt-2">
      <Link className="text-primary underline" to="/deployments">
        Back to Deployments
      </Link>
    </p>
  );
}

function Details({
  d,
  refreshError,
  live,
  tab,
  onTab,
}: {
  d: DeploymentStatus;
  /** Why the last re-read failed (the page shows the last known state meanwhile). */
  refreshError: Error | null;
  live: LiveStatus;
  tab: Tab;
  onTab: (t: Tab) => void;
}) {
  const now = useNow();
  const idBase = useTabsId();
  const [confirm, setConfirm] = useState(false);
  const navigate = useNavigate();
  const pending = d.phase === "Pending" || d.pods.some((p) => p.phase === "Pending");

  return (
    <div>
      <p className="mb-2 text-sm">
        <Link className="text-primary underline" to="/deployments">
          ← Deployments
        </Link>
      </p>
      <PageHeader
        title={d.name}
        subtitle={
          <>
            Namespace <strong className="text-fg">{d.namespace}</strong> · created{" "}
            <time dateTime={d.createdAt} title={dateTime(d.createdAt)}>
              {age(d.createdAt, now)} ago
            </time>
          </>
        }
        actions={
          <Button
            variant="danger"
            disabled={d.phase === "Terminating"}
            onClick={() => {
              setConfirm(true);
            }}
          >
            Delete
          </Button>
        }
      />

      <section aria-label="Status" className="mb-4 grid grid-cols-2 gap-3 rounded-lg border border-line bg-surface p-4 text-sm sm:grid-cols-3 lg:grid-cols-6">
        <Field label="Phase">
          <span role="status" aria-live="polite">
            <PhaseBadge phase={d.phase} />
          </span>
        </Field>
        <Field label="Ready">
          {d.replicas.ready}/{d.replicas.desired} replicas
        </Field>
        <Field label="Provider">{d.provider}</Field>
        <Field label="Engine">{engineLabel(d.engine)}</Field>
        <Field label="Mode">{d.mode}</Field>
        <Field label="Model">
          <span className="font-mono text-xs break-all">{d.modelId || "—"}</span>
        </Field>
      </section>

      {refreshError ? (
        <div className="-mt-2 mb-4">
          <ErrorMessage title="Could not refresh the deployment; showing its last known state" error={refreshError} />
        </div>
      ) : null}
      {live === "reconnecting" || live === "failed" ? (
        <p className="-mt-2 mb-4 text-xs text-muted">
          Live updates are unavailable; refreshing every {FALLBACK_POLL_MS / 1000} s.
        </p>
      ) : null}

      <Tabs label="Deployment sections" idBase={idBase} items={TABS} selected={tab} onSelect={onTab} />
      <div {...tabPanelProps(idBase, tab)} className="mt-4 flex flex-col gap-4 outline-none">
        {tab === "overview" ? (
          <>
            {d.progress ? (
              <ProgressTimeline
                progress={d.progress}
                onShowLogs={() => {
                  onTab("logs");
                }}
              />
            ) : null}
            {pending ? <PendingReasons namespace={d.namespace} name={d.name} /> : null}
            <div className="grid gap-4 lg:grid-cols-2">
              <Card title="Conditions">
                <Conditions d={d} now={now} />
              </Card>
              <div className="flex flex-col gap-4">
                <Card title="Scale">
                  <ScaleForm d={d} />
                </Card>
                <Card title="Access">
                  <AccessPanel d={d} />
                </Card>
              </div>
            </div>
            <Card title={`Pods (${d.pods.length})`}>
              <Pods pods={d.pods} />
            </Card>
          </>
        ) : tab === "metrics" ? (
          <MetricsPanel d={d} />
        ) : tab === "logs" ? (
          <LogsPanel d={d} />
        ) : tab === "activity" ? (
          <ActivityPanel d={d} />
        ) : (
          <ManifestPanel d={d} />
        )}
      </div>

      <DeleteDeploymentDialog
        target={confirm ? d : null}
        onClose={() => {
          setConfirm(false);
        }}
        onDeleted={() => {
          void navigate("/deployments");
        }}
      />
    </div>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <div className="text-xs text-muted">{label}</div>
      <div className="mt-1">{children}</div>
    </div>
  );
}
