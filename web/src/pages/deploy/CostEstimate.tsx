import type { ModelPlan } from "@kubeairunway/shared";
import { useId, useState } from "react";

import { useCostEstimate, useGpuModels, useNodePoolCosts } from "../../api/hooks";
import { Badge, Card, ErrorMessage, Spinner } from "../../components/ui";
import { costView, defaultGpuType, gpuTypeOptions, usd } from "../../lib/costs";

const SOURCE_LABEL = { live: "Live price", cached: "Live price (cached)", static: "Static price" } as const;

/**
 * The deploy form's cost: what `gpus` × `replicas` of a GPU type cost per hour and per month,
 * for the cluster's GPU types (their node pools' instance prices, live for Azure) or any known
 * GPU model (the dated static table). `valid` false: the counts are being edited.
 */
export function CostEstimate({ plan, gpus, replicas, valid }: { plan: ModelPlan | undefined; gpus: number; replicas: number; valid: boolean }) {
  const selectId = useId();
  const models = useGpuModels();
  const options = gpuTypeOptions(plan, (models.data?.models ?? []).map((m) => m.model));
  const [chosen, setChosen] = useState<string | null>(null);
  const gpuType = chosen ?? defaultGpuType(plan, options) ?? "";
  const billable = valid && gpus > 0 && replicas > 0 && gpuType !== "";
  const estimate = useCostEstimate(billable ? { gpuType, gpuCount: gpus, replicas } : null);
  const inCluster = options.find((o) => o.value === gpuType)?.inCluster === true;
  const pools = useNodePoolCosts(gpus, replicas, billable && inCluster);
  // A type the cluster has waits for its pools' prices rather than flashing the static figure.
  const view = billable && inCluster && pools.isPending ? null : costView(gpuType, estimate.data?.breakdown, inCluster ? pools.data?.nodePoolCosts : undefined);
  const loading = billable && (estimate.isFetching || (inCluster && pools.isFetching));

  return (
    <Card title="Estimated cost">
      {gpus === 0 ? (
        <p className="text-sm text-muted">This deployment requests no GPUs: there is no GPU cost to estimate.</p>
      ) : (
        <div className="flex flex-col gap-3 text-sm">
          <div className="flex flex-col gap-1">
            <label htmlFor={selectId} className="font-medium">
              Price as GPU type
            </label>
            <select
              id={selectId}
              className="w-full max-w-md rounded-md border border-line bg-bg px-3 py-1.5"
              value={gpuType}
              onChange={(e) => {
                setChosen(e.target.value);
              }}
            >
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          <div role="status" aria-live="polite" className="flex flex-col gap-2">
            {!billable ? (
              <p className="text-muted">{replicas === 0 ? "Scaled to zero replicas: nothing runs, nothing is billed." : "Enter valid GPU and replica counts to see the cost."}</p>
            ) : estimate.isError ? (
              <ErrorMessage title="Could not estimate the cost" error={estimate.error} />
            ) : view === null ? (
              <p className="inline-flex items-center gap-2 text-muted">
                <Spinner /> Estimating…
              </p>
            ) : (
              <>
                <p className="flex flex-wrap items-baseline gap-x-6 gap-y-1">
                  <span>
                    <span className="font-mono text-2xl tabular-nums">{usd(view.hourly)}</span> per hour
                  </span>
                  <span>
                    <span className="font-mono text-2xl tabular-nums">{usd(view.monthly)}</span> per month (730 h)
                  </span>
                  {loading ? <Spinner className="self-center" /> : null}
                </p>
                <p className="flex flex-wrap items-center gap-2">
                  <Badge tone={view.source === "static" ? "neutral" : "ok"}>
                    {SOURCE_LABEL[view.source]}
                    {view.source === "static" && view.date ? ` of ${view.date}` : ""}
                  </Badge>
                  <span className="text-xs text-muted">
                    {gpus} GPU{gpus === 1 ? "" : "s"} × {replicas} replica{replicas === 1 ? "" : "s"}: {view.basis}
                  </span>
                </p>
                {view.lowConfidence ? <p className="text-xs text-warn">No price is known for this GPU type.</p> : null}
                {inCluster && pools.data?.nodePoolCosts.some((p) => p.gpuModel === gpuType && p.pricingError) ? (
                  <p className="text-xs text-muted">
                    Live price unavailable: {pools.data.nodePoolCosts.find((p) => p.gpuModel === gpuType)?.pricingError}
                  </p>
                ) : null}
                <details className="text-xs text-muted">
                  <summary className="cursor-pointer">How this was estimated</summary>
                  <ul className="mt-1 list-disc pl-5">
                    {view.notes.map((n) => (
                      <li key={n}>{n}</li>
                    ))}
                    <li>On-demand list prices in USD, before discounts, reservations or spot pricing.</li>
                  </ul>
                </details>
              </>
            )}
          </div>
        </div>
      )}
    </Card>
  );
}
