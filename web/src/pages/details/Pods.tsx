import type { PodStatus } from "@kubeairunway/shared";

import { Badge, PhaseBadge, TableHead } from "../../components/ui";

/** The deployment's pods. */
export function Pods({ pods }: { pods: PodStatus[] }) {
  if (pods.length === 0) {
    return <p className="text-sm text-muted">No pods yet (or you may not list pods in this namespace).</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Pods</caption>
        <TableHead columns={["Name", "Phase", "Ready", "Restarts", "Node"]} />
        <tbody>
          {pods.map((p) => (
            <tr key={p.name} className="border-t border-line">
              <td className="py-2 pr-4 font-mono text-xs">{p.name}</td>
              <td className="py-2 pr-4">
                <PhaseBadge phase={p.phase} />
              </td>
              <td className="py-2 pr-4">{p.ready ? <Badge tone="ok">Ready</Badge> : <Badge tone="warn">Not ready</Badge>}</td>
              <td className="py-2 pr-4">{p.restarts}</td>
              <td className="py-2 font-mono text-xs">{p.node ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
