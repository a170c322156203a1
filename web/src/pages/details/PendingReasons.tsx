import { usePendingReasons } from "../../api/hooks";
import { Card, ErrorMessage, Loading } from "../../components/ui";
import { adviceFor } from "../../lib/advice";

/** Why the deployment's pods are pending, in plain words with advice. */
export function PendingReasons({ namespace, name }: { namespace: string; name: string }) {
  const reasons = usePendingReasons(namespace, name, true);
  return (
    <Card title="Why is this deployment pending?">
      {reasons.isPending ? (
        <Loading label="Asking Kubernetes…" />
      ) : reasons.isError ? (
        <ErrorMessage title="Could not read the pending reasons" error={reasons.error} />
      ) : reasons.data.reasons.length === 0 ? (
        <p className="text-sm text-muted">
          Kubernetes has reported no problem yet; pods are usually pending for a few seconds while they are scheduled and
          images are pulled.
        </p>
      ) : (
        <ul className="flex flex-col gap-3" aria-live="polite">
          {reasons.data.reasons.map((r) => {
            const a = adviceFor(r);
            return (
              <li key={`${r.reason}:${r.message}`} className="rounded-md border border-warn/40 bg-warn-soft p-3 text-sm">
                <p className="font-semibold">{a.title}</p>
                <p className="mt-1">{a.advice}</p>
                <p className="mt-2 font-mono text-xs break-words text-muted">
                  {r.reason}: {r.message}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}
