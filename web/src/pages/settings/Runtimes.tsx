import type { ActiveJob, ApiError, ChartStatus, RuntimeStatus } from "@kubeairunway/shared";
import { useCallback, useId, useState } from "react";

import { keys, useClusterStatus, useRuntimes } from "../../api/hooks";
import { awaitingReady, installKeys, useHelmStatus, useJobLauncher, useProviderCommands, useProviderStatus } from "../../api/installation";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { CopyButton } from "../../components/CopyButton";
import { useToast } from "../../components/Toasts";
import { Badge, Button, Card, ErrorMessage, Loading, TableHead } from "../../components/ui";
import { kindLabel, type JobProgress } from "../../lib/job";
import { JobPanel } from "./JobPanel";

/** Settings → Runtimes: prerequisites, then each provider with its charts, actions and manual steps. */
export function Runtimes() {
  const runtimes = useRuntimes();
  const helm = useHelmStatus();
  const helmAvailable = helm.data?.available === true;
  return (
    <>
      <Prerequisites />
      <Card title="Runtimes">
        {runtimes.isPending ? (
          <Loading label="Loading runtimes…" />
        ) : runtimes.isError ? (
          <ErrorMessage title="Could not load the runtimes" error={runtimes.error} />
        ) : runtimes.data.runtimes.length === 0 ? (
          <p className="text-sm text-muted">
            No provider is registered. Start the controller (<code>kubeairunway controller</code>) to register the
            built-in providers.
          </p>
        ) : (
          <>
            <table className="w-full text-left text-sm">
              <TableHead columns={["Provider", "Status", "Version", "Message"]} />
              <tbody>
                {runtimes.data.runtimes.map((r) => (
                  <tr key={r.id} className="border-t border-line">
                    <td className="py-2 pr-4 font-medium">{r.name}</td>
                    <td className="py-2 pr-4">
                      {r.healthy ? <Badge tone="ok">Healthy</Badge> : <Badge tone="warn">Unhealthy</Badge>}
                    </td>
                    <td className="py-2 pr-4 font-mono">{r.version ?? "—"}</td>
                    <td className="py-2 text-muted">{r.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="mt-4 flex flex-col gap-4">
              {runtimes.data.runtimes.map((r) => (
                <ProviderCard key={r.id} runtime={r} helmAvailable={helmAvailable} />
              ))}
            </div>
          </>
        )}
      </Card>
    </>
  );
}

function Prerequisites() {
  const cluster = useClusterStatus();
  const helm = useHelmStatus();
  return (
    <Card title="Prerequisites">
      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
        <dt className="text-muted">Kubernetes cluster</dt>
        <dd>
          {cluster.isPending ? (
            "Checking…"
          ) : cluster.data?.connected ? (
            <Badge tone="ok">Connected</Badge>
          ) : (
            <Badge tone="bad">Not connected</Badge>
          )}
        </dd>
        <dt className="text-muted">Helm CLI</dt>
        <dd>
          {helm.isPending ? (
            "Checking…"
          ) : helm.isError ? (
            <ErrorMessage title="Could not check Helm" error={helm.error} />
          ) : helm.data.available ? (
            <>
              <Badge tone="ok">Available</Badge>
              {helm.data.version ? <span className="ml-2 font-mono">{helm.data.version}</span> : null}
            </>
          ) : (
            <>
              <Badge tone="bad">Not found</Badge>
              {helm.data.error ? <span className="ml-2 text-muted">{helm.data.error}</span> : null}
              <p className="mt-1 text-muted">Install Helm 3 on the server, or follow the manual steps of a provider.</p>
            </>
          )}
        </dd>
      </dl>
    </Card>
  );
}

function ReleaseBadge({ chart }: { chart: ChartStatus }) {
  if (chart.releaseError) return <span className="text-warn">{chart.releaseError}</span>;
  if (!chart.release) return <Badge>Not installed</Badge>;
  const s = chart.release.status;
  const tone = s === "deployed" ? "ok" : s === "failed" ? "bad" : s.startsWith("pending") || s === "uninstalling" ? "warn" : "neutral";
  return (
    <Badge tone={tone}>
      {s} (revision {chart.release.revision})
    </Badge>
  );
}

/** A job running for a target that this page is not following: offer to follow it. */
export function RunningJobNotice({ job, onAttach }: { job: ActiveJob; onAttach: (id: string) => void }) {
  return (
    <div className="mt-3 flex flex-wrap items-center gap-2 rounded-md border border-info/40 bg-info-soft p-2 text-sm">
      <span>
        {kindLabel(job.kind)} is {job.state} (job <code>{job.jobId}</code>).
      </span>
      <Button
        onClick={() => {
          onAttach(job.jobId);
        }}
      >
        Follow progress
      </Button>
    </div>
  );
}

/** A refused start (409): another job runs for the same target. */
export function ConflictNotice({ error, onAttach }: { error: ApiError; onAttach: (id: string) => void }) {
  const jobId = error.jobId;
  return (
    <div role="alert" className="mt-3 rounded-md border border-warn/40 bg-warn-soft p-2 text-sm">
      <p>{error.message}</p>
      {jobId ? (
        <Button
          className="mt-2"
          onClick={() => {
            onAttach(jobId);
          }}
        >
          Follow the running job
        </Button>
      ) : null}
    </div>
  );
}

type Confirm = "uninstall" | "uninstall-crds" | null;

function ProviderCard({ runtime, helmAvailable }: { runtime: RuntimeStatus; helmAvailable: boolean }) {
  const id = runtime.id;
  const status = useProviderStatus(id);
  const toast = useToast();
  const invalidate = [installKeys.provider(id), installKeys.helm, keys.clusterStatus] as const;
  const launcher = useJobLauncher(invalidate);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [typed, setTyped] = useState("");
  const [manualOpen, setManualOpen] = useState(false);
  const typedId = useId();
  const { ended } = launcher;

  const onEnd = useCallback(
    (progress: JobProgress) => {
      ended();
      const what = kindLabel(progress.kind);
      if (progress.state === "succeeded") toast.show("success", `${what} finished: ${runtime.name}`, progress.message ?? undefined);
      else toast.show("error", `${what} failed: ${runtime.name}`, progress.message ?? undefined);
    },
    [ended, toast, runtime.name],
  );

  const s = status.data;
  const active = s?.activeJob ?? null;
  const busy = launcher.starting.isPending || launcher.running || active !== null;
  const startError = launcher.starting.error;
  // Nothing to uninstall until a chart has a release; one in any state (deployed, failed,
  // pending-…) can be uninstalled.
  const hasRelease = s?.charts.some((c) => c.release != null) ?? false;

  return (
    <section aria-label={runtime.name} className="rounded-md border border-line p-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="flex flex-wrap items-center gap-2 font-semibold">
          {runtime.name}
          {status.data ? (
            status.data.installed ? (
              <Badge tone="ok">Ready</Badge>
            ) : (
              <Badge tone="warn">Not ready</Badge>
            )
          ) : null}
          {status.data?.version ? <span className="font-mono text-xs text-muted">{status.data.version}</span> : null}
        </h3>
        {s && s.charts.length === 0 ? null : (
          <div className="flex flex-wrap gap-2">
            <Button
              variant="primary"
              disabled={!helmAvailable || busy}
              loading={launcher.starting.isPending && launcher.starting.variables.kind === "install"}
              loadingText="Starting…"
              onClick={() => {
                launcher.start({ kind: "install", providerId: id });
              }}
            >
              {s && s.charts.every((c) => c.release?.status === "deployed") ? `Upgrade ${runtime.name}` : `Install ${runtime.name}`}
            </Button>
            <Button
              variant="danger"
              disabled={!helmAvailable || busy || !hasRelease}
              title={hasRelease ? undefined : `No Helm release of ${runtime.name} is installed`}
              onClick={() => {
                setConfirm("uninstall");
              }}
            >
              Uninstall
            </Button>
            <Button
              variant="danger-ghost"
              disabled={busy}
              onClick={() => {
                setTyped("");
                setConfirm("uninstall-crds");
              }}
            >
              Remove CRDs
            </Button>
          </div>
        )}
      </div>
      {!helmAvailable && s?.charts.length !== 0 ? (
        <p className="mt-2 text-sm text-warn">Helm is not available: use the manual installation steps below.</p>
      ) : null}

      {status.isPending ? (
        <Loading label={`Loading ${runtime.name}…`} />
      ) : status.isError ? (
        <ErrorMessage title={`Could not load the installation status of ${runtime.name}`} error={status.error} />
      ) : (
        <>
          <p className="mt-2 text-sm">{status.data.message}</p>
          {awaitingReady(status.data) ? (
            <p className="text-sm text-muted" role="status">
              The charts are deployed; waiting for {runtime.name} to report ready…
            </p>
          ) : null}
          {status.data.description ? <p className="text-sm text-muted">{status.data.description}</p> : null}
          {status.data.charts.length > 0 ? (
            <table className="mt-2 w-full text-left text-sm">
              <caption className="sr-only">Helm charts of {runtime.name}</caption>
              <TableHead columns={["Release", "Chart", "Namespace", "Status"]} compact />
              <tbody>
                {status.data.charts.map((c) => (
                  <tr key={`${c.namespace}/${c.name}`} className="border-t border-line">
                    <td className="py-1 pr-3 font-mono">{c.name}</td>
                    <td className="py-1 pr-3 font-mono">
                      {c.chart}
                      {c.version ? ` ${c.version}` : ""}
                    </td>
                    <td className="py-1 pr-3 font-mono">{c.namespace}</td>
                    <td className="py-1">
                      <ReleaseBadge chart={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}

      {active && launcher.jobId !== active.jobId ? <RunningJobNotice job={active} onAttach={launcher.attach} /> : null}
      {launcher.conflict ? <ConflictNotice error={launcher.conflict} onAttach={launcher.attach} /> : null}
      {startError && !launcher.conflict ? (
        <div className="mt-3">
          <ErrorMessage title="Could not start the job" error={startError} />
        </div>
      ) : null}
      {launcher.jobId ? (
        <JobPanel jobId={launcher.jobId} label={runtime.name} onEnd={onEnd} onClose={launcher.close} />
      ) : null}

      <details
        className="mt-3 text-sm"
        onToggle={(e) => {
          setManualOpen(e.currentTarget.open);
        }}
      >
        <summary className="cursor-pointer font-medium">Manual installation</summary>
        {manualOpen ? <ManualSteps providerId={id} /> : null}
      </details>

      <ConfirmDialog
        open={confirm === "uninstall"}
        title={`Uninstall ${runtime.name}?`}
        confirmLabel="Uninstall"
        danger
        onCancel={() => {
          setConfirm(null);
        }}
        onConfirm={() => {
          setConfirm(null);
          launcher.start({ kind: "uninstall", providerId: id });
        }}
      >
        Runs <code>helm uninstall</code> for every chart of {runtime.name}: its operator and the resources the charts
        created are removed. Deployments using this runtime stop being reconciled.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "uninstall-crds"}
        title={`Remove the CRDs of ${runtime.name}?`}
        confirmLabel="Remove CRDs"
        danger
        confirmDisabled={typed !== id}
        onCancel={() => {
          setConfirm(null);
        }}
        onConfirm={() => {
          setConfirm(null);
          launcher.start({ kind: "uninstall-crds", providerId: id });
        }}
      >
        <p>
          This deletes the CustomResourceDefinitions that the charts of {runtime.name} ship, and then its provider
          registration. <strong>Deleting a CRD deletes every object of that kind in every namespace</strong>; this cannot
          be undone. Uninstall the charts first. {runtime.name} then leaves this page until its operator is installed
          again (see the manual steps) or the controller restarts.
        </p>
        <label htmlFor={typedId} className="mt-3 block text-fg">
          Type <code>{id}</code> to confirm
        </label>
        <input
          id={typedId}
          className="mt-1 w-full rounded-md border border-line bg-bg px-2 py-1 font-mono text-fg"
          value={typed}
          autoComplete="off"
          onChange={(e) => {
            setTyped(e.target.value);
          }}
        />
      </ConfirmDialog>
    </section>
  );
}

function ManualSteps({ providerId }: { providerId: string }) {
  const commands = useProviderCommands(providerId, true);
  if (commands.isPending) return <Loading label="Loading the manual steps…" />;
  if (commands.isError) return <ErrorMessage title="Could not load the manual steps" error={commands.error} />;
  const { steps, commands: helm } = commands.data;
  return (
    <div className="mt-2 flex flex-col gap-3">
      <ol className="flex list-decimal flex-col gap-2 pl-5">
        {steps.map((step, i) => (
          <li key={i}>
            <p className="font-medium">{step.title}</p>
            <p className="text-muted">{step.description}</p>
            {step.command ? <CommandLine command={step.command} label={`command of step ${String(i + 1)}`} /> : null}
          </li>
        ))}
      </ol>
      {helm.length > 0 ? (
        <div>
          <div className="flex items-center justify-between gap-2">
            <p className="font-medium">Helm commands</p>
            <CopyButton text={helm.join("\n")} label="all Helm commands" />
          </div>
          {helm.map((c, i) => (
            <CommandLine key={i} command={c} label={`Helm command ${String(i + 1)}`} />
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** A shell command with a copy button. */
export function CommandLine({ command, label }: { command: string; label: string }) {
  return (
    <div className="mt-1 flex items-start gap-2">
      <pre className="min-w-0 flex-1 overflow-x-auto rounded bg-surface-2 p-2 font-mono text-xs">{command}</pre>
      <CopyButton text={command} label={label} />
    </div>
  );
}
