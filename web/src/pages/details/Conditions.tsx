import { conditionsOf, type DeploymentStatus } from "@kubeairunway/shared";

import { Badge } from "../../components/ui";
import { age, dateTime } from "../../lib/format";

/** The deployment's conditions as a timeline, oldest transition first. */
export function Conditions({ d, now }: { d: DeploymentStatus; now: number }) {
  const conditions = conditionsOf(d).sort((a, b) =>
    (a.lastTransitionTime ?? "").localeCompare(b.lastTransitionTime ?? ""),
  );
  if (conditions.length === 0) {
    return <p className="text-sm text-muted">No conditions reported yet: the controller has not processed it.</p>;
  }
  return (
    <ol className="relative ml-2 border-l border-line">
      {conditions.map((c) => {
        const ok = c.status === "True";
        const unknown = c.status !== "True" && c.status !== "False";
        return (
          <li key={c.type} className="mb-4 ml-4 last:mb-0">
            <span
              aria-hidden="true"
              className={`absolute -left-1.5 mt-1.5 size-3 rounded-full border-2 border-surface ${ok ? "bg-ok" : unknown ? "bg-warn" : "bg-bad"}`}
            />
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-medium">{c.type}</span>
              <Badge tone={ok ? "ok" : unknown ? "warn" : "bad"}>{c.status}</Badge>
              {c.reason ? <span className="text-sm text-muted">{c.reason}</span> : null}
            </div>
            {c.message ? <p className="mt-1 text-sm break-words">{c.message}</p> : null}
            {c.lastTransitionTime ? (
              <p className="mt-0.5 text-xs text-muted">
                <time dateTime={c.lastTransitionTime} title={dateTime(c.lastTransitionTime)}>
                  {age(c.lastTransitionTime, now)} ago
                </time>
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
