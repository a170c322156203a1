import type { AutoscalerDetection, ClusterGpuCapacity, CostBreakdown, ModelPlan, NodePoolCost } from "@kubeairunway/shared";

import { bestGpu } from "./fit";

const USD = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `$1,234.56`. */
export function usd(amount: number): string {
  return USD.format(amount);
}

/**
 * The date of the static price table an estimate used, from its notes (the backend writes
 * "… list prices of YYYY-MM-DD"); `null` when the notes name none.
 */
export function staticPriceDate(notes: readonly string[]): string | null {
  for (const n of notes) {
    const m = /list prices of (\d{4}-\d{2}-\d{2})/.exec(n);
    if (m?.[1]) return m[1];
  }
  return null;
}

/** A GPU type the cost card can price: the cluster's types first, then the known models. */
export interface GpuTypeOption {
  value: string;
  label: string;
  inCluster: boolean;
}

/** The GPU types to choose from: the plan's types present in the cluster, then every priced model. */
export function gpuTypeOptions(plan: ModelPlan | undefined, known: readonly string[]): GpuTypeOption[] {
  const cluster = (plan?.gpus ?? []).filter((g) => g.nodes > 0).map((g) => g.gpuType);
  const out: GpuTypeOption[] = cluster.map((t) => ({ value: t, label: `${t} (in this cluster)`, inCluster: true }));
  for (const k of known) if (!cluster.includes(k)) out.push({ value: k, label: k, inCluster: false });
  return out;
}

/** The GPU type priced first: the planner's best type in the cluster, else the first option. */
export function defaultGpuType(plan: ModelPlan | undefined, options: readonly GpuTypeOption[]): string | undefined {
  const best = plan ? bestGpu(plan) : undefined;
  if (best && best.nodes > 0) return best.gpuType;
  return options[0]?.value;
}

/** What the deploy form shows as the cost: one estimate, where its price came from, and how. */
export interface CostView {
  hourly: number;
  monthly: number;
  /** `live` (a cloud pricing API), `cached` (asked within the hour), `static` (the dated table). */
  source: "live" | "cached" | "static";
  /** The table's date when `source` is `static`. */
  date: string | null;
  /** Where: `Standard_NC48ads_A100_v4 in eastus (pool a100)`, or the per-GPU rate. */
  basis: string;
  notes: string[];
  lowConfidence: boolean;
}

/**
 * The cost to show for `gpuType`: the price of the cluster's pool of that type when it has one
 * (a live or table price of its instance type), else the per-GPU estimate of the static table.
 */
export function costView(gpuType: string, estimate: CostBreakdown | undefined, pools: readonly NodePoolCost[] | undefined): CostView | null {
  const pool = pools?.find((p) => p.gpuModel === gpuType && p.realtimePricing);
  if (pool?.realtimePricing) {
    const rt = pool.realtimePricing;
    const source = rt.source === "realtime" ? "live" : rt.source === "cached" ? "cached" : "static";
    return {
      hourly: pool.costBreakdown.estimate.hourly,
      monthly: pool.costBreakdown.estimate.monthly,
      source,
      date: source === "static" ? staticPriceDate(pool.costBreakdown.notes) : null,
      basis: `${rt.instanceType} in ${rt.region} (node pool ${pool.poolName}), ${rt.nodesPerReplica} node${rt.nodesPerReplica === 1 ? "" : "s"} per replica at ${usd(rt.nodeHourlyPrice)}/h each`,
      notes: pool.costBreakdown.notes,
      lowConfidence: false,
    };
  }
  if (!estimate) return null;
  return {
    hourly: estimate.estimate.hourly,
    monthly: estimate.estimate.monthly,
    source: estimate.estimate.source === "cloud-api" ? "live" : "static",
    date: staticPriceDate(estimate.notes),
    basis: `${estimate.totalGpus} × ${estimate.normalizedGpuModel} at ${usd(estimate.perGpu.hourly)}/h per GPU`,
    notes: estimate.notes,
    lowConfidence: estimate.estimate.confidence === "low" && estimate.estimate.hourly === 0,
  };
}

/** The autoscaler's part in a capacity shortage, for the deploy form. */
export interface AutoscalerHint {
  tone: "info" | "warn";
  title: string;
  text: string;
}

const AUTOSCALER_NAMES: Record<string, string> = {
  "aks-managed": "The AKS managed autoscaler",
  "cluster-autoscaler": "The Cluster Autoscaler",
};

/**
 * Whether an autoscaler can help when `gpus` × `replicas` do not fit the free GPUs now: `null`
 * when they fit (or nothing is known yet). A replica larger than every node cannot be helped by
 * adding nodes like the existing ones.
 */
export function autoscalerHint(
  capacity: ClusterGpuCapacity | undefined,
  detection: AutoscalerDetection | undefined,
  gpus: number,
  replicas: number,
): AutoscalerHint | null {
  if (!capacity || !detection || gpus <= 0 || replicas <= 0 || capacity.totalGpus === 0) return null;
  const short = gpus * replicas > capacity.availableGpus || gpus > capacity.maxContiguousAvailable;
  if (!short) return null;
  if (detection.type === "unknown") {
    return { tone: "warn", title: "Autoscaler unknown", text: `Could not tell whether the cluster can add nodes: ${detection.message}` };
  }
  if (!detection.detected) {
    return {
      tone: "warn",
      title: "No autoscaler detected",
      text: "Nothing will add GPU nodes: replicas that do not fit stay Pending until GPUs are freed or nodes are added by hand.",
    };
  }
  const who = AUTOSCALER_NAMES[detection.type] ?? "An autoscaler";
  if (gpus > capacity.maxNodeGpuCapacity) {
    return {
      tone: "warn",
      title: "An autoscaler is detected, but cannot help",
      text: `${who} adds nodes like the existing ones, and none has more than ${capacity.maxNodeGpuCapacity} GPUs: a replica of ${gpus} GPUs needs a larger node type.`,
    };
  }
  const groups = detection.nodeGroupCount ? ` across ${detection.nodeGroupCount} node group${detection.nodeGroupCount === 1 ? "" : "s"}` : "";
  const health = detection.healthy ? "" : ` It does not look healthy: ${detection.message}`;
  const scaling = detection.scalingUp ? " It is scaling up now." : "";
  return {
    tone: detection.healthy ? "info" : "warn",
    title: "The autoscaler can add GPU nodes",
    text: `${who} manages the cluster's nodes${groups}: the replicas that do not fit now stay Pending until it adds nodes, usually within 5–10 minutes.${scaling}${health}`,
  };
}
