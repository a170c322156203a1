import type { DeploymentStatus, ScaleRequest } from "@kubeairunway/shared";
import { useId, useState, type SubmitEvent } from "react";

import { useScaleDeployment } from "../../api/hooks";
import { useToast } from "../../components/Toasts";
import { Button } from "../../components/ui";
import { actionFailure } from "../../lib/failure";

function parseCount(text: string): number | null {
  if (!/^\d{1,4}$/.test(text.trim())) return null;
  return Number(text.trim());
}

/** Scales the deployment (replicas, or prefill/decode workers when disaggregated); 0 scales to zero. */
export function ScaleForm({ d }: { d: DeploymentStatus }) {
  const disaggregated = d.mode === "disaggregated";
  const scale = useScaleDeployment();
  const toast = useToast();
  const replicasId = useId();
  const prefillId = useId();
  const decodeId = useId();
  const [replicas, setReplicas] = useState<string | null>(null);
  const [prefill, setPrefill] = useState<string | null>(null);
  const [decode, setDecode] = useState<string | null>(null);

  const replicasValue = replicas ?? String(d.replicas.desired);
  const prefillValue = prefill ?? String(d.prefillReplicas?.desired ?? 1);
  const decodeValue = decode ?? String(d.decodeReplicas?.desired ?? 1);

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    let body: ScaleRequest;
    if (disaggregated) {
      const p = parseCount(prefillValue);
      const dc = parseCount(decodeValue);
      if (p === null || dc === null) {
        toast.show("error", "Enter whole numbers of workers (0 or more)");
        return;
      }
      body = { prefillReplicas: p, decodeReplicas: dc };
    } else {
      const r = parseCount(replicasValue);
      if (r === null) {
        toast.show("error", "Enter a whole number of replicas (0 or more)");
        return;
      }
      body = { replicas: r };
    }
    scale.mutate(
      { namespace: d.namespace, name: d.name, body },
      {
        onSuccess: () => {
          setReplicas(null);
          setPrefill(null);
          setDecode(null);
          toast.show("success", `Scaled ${d.name}`, disaggregated ? `${prefillValue} prefill, ${decodeValue} decode` : `${replicasValue} replicas`);
        },
        onError: (error) => {
          const failure = actionFailure("scale", d.name, d.namespace, error);
          toast.show("error", failure.title, failure.message);
        },
      },
    );
  };

  const input = "w-24 rounded-md border border-line bg-bg px-2 py-1.5";
  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3 text-sm" noValidate>
      {disaggregated ? (
        <>
          <div className="flex flex-col gap-1">
            <label htmlFor={prefillId} className="font-medium">
              Prefill workers
            </label>
            <input id={prefillId} className={input} type="number" min={0} inputMode="numeric" value={prefillValue} onChange={(e) => { setPrefill(e.target.value); }} />
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor={decodeId} className="font-medium">
              Decode workers
            </label>
            <input id={decodeId} className={input} type="number" min={0} inputMode="numeric" value={decodeValue} onChange={(e) => { setDecode(e.target.value); }} />
          </div>
        </>
      ) : (
        <div className="flex flex-col gap-1">
          <label htmlFor={replicasId} className="font-medium">
            Replicas
          </label>
          <input id={replicasId} className={input} type="number" min={0} inputMode="numeric" value={replicasValue} onChange={(e) => { setReplicas(e.target.value); }} />
        </div>
      )}
      <Button type="submit" variant="primary" loading={scale.isPending} loadingText="Scaling…">
        Scale
      </Button>
      <p className="w-full text-xs text-muted">0 scales to zero: the deployment stays, its pods stop.</p>
    </form>
  );
}
