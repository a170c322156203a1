import type { AutoscalerActivity, AutoscalerDetection, AutoscalerNodeGroup, AutoscalerStatus } from "@kubeairunway/shared";

import { useAutoscalerDetection, useAutoscalerStatus } from "../../api/hooks";
import { Badge, Card, EmptyState, ErrorMessage, Loading, TableHead } from "../../components/ui";
import { dateTime } from "../../lib/format";

const TYPE_LABEL: Record<AutoscalerDetection["type"], string> = {
  "aks-managed": "AKS managed autoscaler",
  "cluster-autoscaler": "Cluster Autoscaler",
  none: "None",
  unknown: "Unknown",
};

/** Settings → General: which autoscaler the cluster has, and what its status ConfigMap says. */
export function Autoscaler() {
  const detection = useAutoscalerDetection();
  const status = useAutoscalerStatus();
  const d = detection.data;
  return (
    <Card
      title="Cluster autoscaling"
      actions={
        d ? (
          !d.detected ? (
            <Badge>Not detected</Badge>
          ) : d.healthy ? (
            <Badge tone="ok">✓ Healthy</Badge>
          ) : (
            <Badge tone="warn">! Unhealthy</Badge>
          )
        ) : null
      }
    >
      {detection.isPending ? (
        <Loading label="Looking for an autoscaler…" />
      ) : detection.isError ? (
        <ErrorMessage title="Could not detect the autoscaler" error={detection.error} />
      ) : (
        <div className="flex flex-col gap-4 text-sm">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2">
            <dt className="text-muted">Autoscaler</dt>
            <dd>{TYPE_LABEL[detection.data.type]}</dd>
            {detection.data.nodeGroupCount !== null && detection.data.nodeGroupCount !== undefined ? (
              <>
                <dt className="text-muted">Node groups</dt>
                <dd>{detection.data.nodeGroupCount}</dd>
              </>
            ) : null}
            {detection.data.lastActivity ? (
              <>
                <dt className="text-muted">Last status</dt>
                <dd>
                  <time dateTime={detection.data.lastActivity}>{dateTime(detection.data.lastActivity)}</time>
                </dd>
              </>
            ) : null}
            <dt className="text-muted">Scaling up</dt>
            <dd>{detection.data.scalingUp ? "Yes, now" : "No"}</dd>
          </dl>
          <p className={detection.data.detected && detection.data.healthy ? "text-fg" : "text-muted"}>{detection.data.message}</p>
          {!detection.data.detected && detection.data.type === "none" ? (
            <p className="text-muted">
              Without an autoscaler, deployments that need more GPUs than are free stay Pending until GPUs are freed or nodes
              are added. On AKS, enable the cluster autoscaler on the GPU node pools; elsewhere, install the Kubernetes Cluster
              Autoscaler for your cloud.
            </p>
          ) : null}
          {status.isPending ? (
            <Loading label="Reading the autoscaler's status…" />
          ) : status.isError ? (
            <ErrorMessage title="Could not read the autoscaler's status" error={status.error} />
          ) : status.data === null ? (
            detection.data.detected ? (
              <p className="text-muted">The autoscaler publishes no status (no cluster-autoscaler-status ConfigMap in kube-system).</p>
            ) : null
          ) : (
            <StatusView s={status.data} />
          )}
        </div>
      )}
    </Card>
  );
}

function activity(a: AutoscalerActivity | null | undefined): string {
  if (!a) return "—";
  const words: Record<string, string> = {
    NoActivity: "No activity",
    InProgress: "In progress",
    Backoff: "Backing off",
    NoCandidates: "No candidates",
    CandidatesPresent: "Candidates present",
  };
  let text = words[a.status] ?? a.status;
  if (a.candidates !== null && a.candidates !== undefined && a.status === "CandidatesPresent") text += ` (${a.candidates})`;
  if (a.backoffMessage) text += `: ${a.backoffMessage}`;
  return text;
}

function StatusView({ s }: { s: AutoscalerStatus }) {
  return (
    <div className="flex flex-col gap-3">
      <h3 className="font-semibold">Status</h3>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2">
        <dt className="text-muted">Health</dt>
        <dd>{s.health}</dd>
        {s.autoscalerStatus ? (
          <>
            <dt className="text-muted">Autoscaler</dt>
            <dd>{s.autoscalerStatus}</dd>
          </>
        ) : null}
        <dt className="text-muted">Scale-up</dt>
        <dd>{activity(s.scaleUp)}</dd>
        <dt className="text-muted">Scale-down</dt>
        <dd>{activity(s.scaleDown)}</dd>
        {s.lastUpdateTime ? (
          <>
            <dt className="text-muted">Written</dt>
            <dd>
              <time dateTime={s.lastUpdateTime}>{dateTime(s.lastUpdateTime)}</time>
            </dd>
          </>
        ) : null}
      </dl>
      {s.nodeGroups.length === 0 ? (
        <EmptyState title="No node groups">The status lists no node groups the autoscaler manages.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table aria-label="Node groups" className="w-full text-left">
            <TableHead columns={["Node group", "Health", "Nodes (ready/registered)", "Target", "Min–max", "Scale-up", "Scale-down"]} />
            <tbody>
              {s.nodeGroups.map((g) => (
                <NodeGroupRow key={g.name} g={g} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function NodeGroupRow({ g }: { g: AutoscalerNodeGroup }) {
  const cell = "py-2 pr-4";
  return (
    <tr className="border-t border-line">
      <td className={`${cell} font-mono`}>{g.name}</td>
      <td className={cell}>
        {g.health === "Healthy" ? <Badge tone="ok">✓ Healthy</Badge> : g.health ? <Badge tone="warn">! {g.health}</Badge> : "—"}
      </td>
      <td className={cell}>
        {g.readyNodes ?? "—"}/{g.registeredNodes ?? "—"}
      </td>
      <td className={cell}>{g.currentSize}</td>
      <td className={cell}>
        {g.minSize}–{g.maxSize}
      </td>
      <td className={cell}>{activity(g.scaleUp)}</td>
      <td className={cell}>{activity(g.scaleDown)}</td>
    </tr>
  );
}
