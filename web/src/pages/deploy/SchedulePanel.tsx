import type { ManifestResponse } from "@kubeairunway/shared";

import { Badge, Button, Card, TableHead } from "../../components/ui";

type Answer = NonNullable<ManifestResponse["scheduling"]>;
type Group = Answer["groups"][number];

/**
 * "Will it schedule?": the preview's answer, per replica (the node it would land on, or the
 * scheduler's message), per node (why not, in the scheduler's words) and what would fix it.
 * `onUseGpus` applies a "fewer GPUs per replica" fix to the form.
 */
export function SchedulePanel({ manifest, onUseGpus }: { manifest: ManifestResponse; onUseGpus?: (gpus: number) => void }) {
  const answer = manifest.scheduling;
  if (!answer) {
    return (
      <Card title="Will it schedule?">
        <p className="text-sm text-muted">Not checked: {manifest.schedulingUnavailable ?? "the server did not answer it"}.</p>
      </Card>
    );
  }
  const wanted = answer.groups.reduce((n, g) => n + g.replicas, 0);
  const placed = answer.groups.reduce((n, g) => n + g.placed, 0);
  return (
    <Card title="Will it schedule?">
      <p className="mb-3 text-sm">
        {answer.schedulable ? (
          <Badge tone="ok">✓ Schedulable</Badge>
        ) : (
          <Badge tone="bad">✕ Not all replicas fit</Badge>
        )}{" "}
        {placed} of {wanted} replica(s) would be placed on the {answer.nodeCount} node(s) as they are now (scoring and preemption aside).
      </p>
      {answer.groups.map((g) => (
        <GroupView key={g.role} group={g} />
      ))}
      {answer.fixes.length > 0 ? (
        <section aria-label="What would fix it" className="mt-3 rounded-md border border-warn/50 bg-warn-soft p-3 text-sm">
          <h3 className="font-semibold">What would fix it</h3>
          <ul className="mt-1 list-disc pl-5">
            {answer.fixes.map((f) => (
              <li key={f.message}>
                {f.message}
                {f.kind === "fewerGpus" && f.gpusPerReplica != null && onUseGpus ? (
                  <Button
                    className="ml-2"
                    onClick={() => {
                      onUseGpus(f.gpusPerReplica ?? 1);
                    }}
                  >
                    Use {f.gpusPerReplica} GPU(s)
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </Card>
  );
}

function GroupView({ group }: { group: Group }) {
  const requests = Object.entries(group.requests)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return (
    <section aria-label={`Replicas: ${group.role}`} className="mb-3">
      <h3 className="text-sm font-semibold">
        {group.role}: {group.placed}/{group.replicas} placed{requests ? <span className="font-normal text-muted"> — each requests {requests}</span> : null}
      </h3>
      <ul className="mt-1 text-sm">
        {group.placements.map((p) => (
          <li key={p.replica}>
            Replica {p.replica + 1}:{" "}
            {p.node ? (
              <span>
                placed on <span className="font-mono">{p.node}</span>
              </span>
            ) : (
              <span className="text-bad">unschedulable — {group.unschedulableMessage}</span>
            )}
          </li>
        ))}
      </ul>
      <details className="mt-2">
        <summary className="cursor-pointer text-sm">Per node ({group.nodes.filter((n) => n.fits).length} of {group.nodes.length} can take a replica)</summary>
        <table className="mt-2 w-full text-left text-xs">
          <TableHead compact columns={["Node", "GPU type", "Free GPUs", "Free CPU", "Free memory", "Verdict"]} />
          <tbody>
            {group.nodes.map((n) => (
              <tr key={n.node} className="border-t border-line align-top">
                <td className="py-1 pr-3 font-mono">{n.node}</td>
                <td className="py-1 pr-3">{n.gpuProduct ?? "—"}</td>
                <td className="py-1 pr-3">{n.freeGpus}</td>
                <td className="py-1 pr-3">{n.freeCpu}</td>
                <td className="py-1 pr-3">{n.freeMemory}</td>
                <td className="py-1">
                  {n.fits ? (
                    <span className="text-ok">fits {n.fitCount}</span>
                  ) : (
                    <span className="text-bad">
                      {n.reasons.join("; ")}
                      {n.untoleratedTaints?.length ? ` (${n.untoleratedTaints.join(", ")})` : ""}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
