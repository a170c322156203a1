import { useCallback } from "react";

import { keys } from "../../api/hooks";
import { installKeys, useGpuOperatorStatus, useHelmStatus, useJobLauncher } from "../../api/installation";
import { CopyButton } from "../../components/CopyButton";
import { useToast } from "../../components/Toasts";
import { Badge, Button, Card, ErrorMessage, Loading } from "../../components/ui";
import type { JobProgress } from "../../lib/job";
import { JobPanel } from "./JobPanel";
import { CommandLine, ConflictNotice, RunningJobNotice } from "./Runtimes";

const INVALIDATE = [installKeys.gpuOperator, keys.clusterStatus, ["gpu-capacity"]] as const;

/** Settings → Integrations: the NVIDIA GPU Operator (GPUs, nodes, install with live output, manual commands). */
export function GpuOperator() {
  const status = useGpuOperatorStatus();
  const helm = useHelmStatus();
  const toast = useToast();
  const launcher = useJobLauncher(INVALIDATE);
  const { ended } = launcher;
  const onEnd = useCallback(
    (progress: JobProgress) => {
      ended();
      if (progress.state === "succeeded") toast.show("success", "GPU Operator installed", progress.message ?? undefined);
      else toast.show("error", "GPU Operator installation failed", progress.message ?? undefined);
    },
    [ended, toast],
  );
  const helmAvailable = helm.data?.available === true;
  const active = status.data?.activeJob ?? null;
  const busy = launcher.starting.isPending || launcher.running || active !== null;

  return (
    <Card title="NVIDIA GPU Operator">
      {status.isPending ? (
        <Loading label="Checking the GPU Operator…" />
      ) : status.isError ? (
        <ErrorMessage title="Could not check the GPU Operator" error={status.error} />
      ) : (
        <div className="flex flex-col gap-2 text-sm">
          <p className="flex flex-wrap items-center gap-2">
            {status.data.gpusAvailable ? (
              <Badge tone="ok">GPUs enabled</Badge>
            ) : status.data.installed ? (
              <Badge tone="warn">Operator installed, no GPUs yet</Badge>
            ) : (
              <Badge>Not installed</Badge>
            )}
            <span>{status.data.message}</span>
          </p>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1">
            <dt className="text-muted">GPUs</dt>
            <dd>{status.data.totalGPUs}</dd>
            <dt className="text-muted">GPU nodes</dt>
            <dd className="font-mono">{status.data.gpuNodes.length > 0 ? status.data.gpuNodes.join(", ") : "—"}</dd>
            <dt className="text-muted">ClusterPolicy CRD</dt>
            <dd>{status.data.crdFound ? "Found" : "Not found"}</dd>
            <dt className="text-muted">Operator</dt>
            <dd>{status.data.operatorRunning ? "Running" : "Not running"}</dd>
          </dl>
          {!status.data.installed ? (
            <div className="flex flex-wrap items-center gap-2">
              <Button
                variant="primary"
                disabled={!helmAvailable || busy}
                loading={launcher.starting.isPending}
                loadingText="Starting…"
                onClick={() => {
                  launcher.start({ kind: "gpu-operator" });
                }}
              >
                Install the GPU Operator
              </Button>
              {!helmAvailable && !helm.isPending ? (
                <span className="text-warn">Helm is not available: run the commands below by hand.</span>
              ) : null}
            </div>
          ) : null}
          {active && launcher.jobId !== active.jobId ? <RunningJobNotice job={active} onAttach={launcher.attach} /> : null}
          {launcher.conflict ? <ConflictNotice error={launcher.conflict} onAttach={launcher.attach} /> : null}
          {launcher.starting.error && !launcher.conflict ? (
            <ErrorMessage title="Could not start the installation" error={launcher.starting.error} />
          ) : null}
          {launcher.jobId ? (
            <JobPanel
              jobId={launcher.jobId}
              label="GPU Operator"
              headingLevel={3}
              onEnd={onEnd}
              onClose={launcher.close}
            />
          ) : null}
          {status.data.helmCommands.length > 0 ? (
            <details className="mt-2">
              <summary className="cursor-pointer font-medium">Manual installation</summary>
              <div className="mt-2 flex justify-end">
                <CopyButton text={status.data.helmCommands.join("\n")} label="all GPU Operator commands" />
              </div>
              {status.data.helmCommands.map((c, i) => (
                <CommandLine key={i} command={c} label={`GPU Operator command ${String(i + 1)}`} />
              ))}
            </details>
          ) : null}
        </div>
      )}
    </Card>
  );
}
