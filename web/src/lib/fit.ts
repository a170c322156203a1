import type { GpuPlan, ModelPlan } from "@kubeairunway/shared";

/** How a model fits the cluster's GPUs, for a badge: a tone, a short label and the reason. */
export interface FitSummary {
  tone: "ok" | "warn" | "bad" | "neutral";
  label: string;
  detail: string;
  /** The plan the summary is based on (the best GPU type), if any. */
  best?: GpuPlan;
}

const RANK: Record<string, number> = { fits: 0, tight: 1, unknown: 2, exceeds: 3 };

/** The best GPU type of a plan: one that fits on a node, with the fewest GPUs, else the closest. */
export function bestGpu(plan: ModelPlan): GpuPlan | undefined {
  return [...plan.gpus].sort(
    (a, b) =>
      Number(b.fits) - Number(a.fits) ||
      (RANK[a.fit] ?? 9) - (RANK[b.fit] ?? 9) ||
      (a.gpusNeeded ?? 999) - (b.gpusNeeded ?? 999) ||
      a.gpuType.localeCompare(b.gpuType),
  )[0];
}

/** The plan in a badge's words. */
export function summarizeFit(plan: ModelPlan | undefined | null): FitSummary {
  if (!plan) return { tone: "neutral", label: "Fit unknown", detail: "No sizing information for this model." };
  const best = bestGpu(plan);
  if (!best) {
    return { tone: "neutral", label: "No GPUs in cluster", detail: "The cluster reports no GPU nodes to plan against." };
  }
  const gpus = best.gpusNeeded ? `${best.gpusNeeded}× ${best.gpuType}` : best.gpuType;
  if (best.fits && best.fit === "fits") return { tone: "ok", label: `Fits ${gpus}`, detail: best.reason, best };
  if (best.fits && best.fit === "tight") return { tone: "warn", label: `Tight on ${gpus}`, detail: best.reason, best };
  if (best.fit === "unknown") return { tone: "neutral", label: "Fit unknown", detail: best.reason, best };
  return { tone: "bad", label: "Does not fit", detail: best.reason, best };
}
