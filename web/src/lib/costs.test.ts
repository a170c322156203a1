import type { AutoscalerDetection, ClusterGpuCapacity, CostBreakdown, NodePoolCost } from "@kubeairunway/shared";
import { describe, expect, it } from "vitest";

import { plan } from "../test/models";
import { autoscalerHint, costView, defaultGpuType, gpuTypeOptions, staticPriceDate, usd } from "./costs";

const breakdown = (hourly: number, notes: string[], source: "static" | "cloud-api" = "static"): CostBreakdown => ({
  estimate: { hourly, monthly: hourly * 730, currency: "USD", source, confidence: source === "static" ? "low" : "high" },
  perGpu: { hourly: hourly / 2, monthly: (hourly / 2) * 730 },
  totalGpus: 2,
  gpuModel: "NVIDIA-A100-SXM4-80GB",
  normalizedGpuModel: "A100-80GB",
  notes,
});

describe("costs", () => {
  it("formats dollars and finds the static table's date in the notes", () => {
    expect(usd(71773.6)).toBe("$71,773.60");
    expect(staticPriceDate(["GPU: A100-80GB", "Static price: AWS p4de.24xlarge in us-east-1 ($40.97/h for 8 GPUs), list prices of 2025-05-01"])).toBe("2025-05-01");
    expect(staticPriceDate(["Real-time price of X"])).toBeNull();
  });

  it("offers the cluster's GPU types first and prices the planner's best one", () => {
    const p = plan("m", "fits", "NVIDIA-H100-80GB-HBM3", 1);
    const options = gpuTypeOptions(p, ["A100-80GB", "NVIDIA-H100-80GB-HBM3"]);
    expect(options.map((o) => [o.value, o.inCluster])).toEqual([
      ["NVIDIA-H100-80GB-HBM3", true],
      ["A100-80GB", false],
    ]);
    expect(defaultGpuType(p, options)).toBe("NVIDIA-H100-80GB-HBM3");
    expect(defaultGpuType(undefined, gpuTypeOptions(undefined, ["L4"]))).toBe("L4");
  });

  it("prefers the pool's instance price to the per-GPU estimate", () => {
    const pool: NodePoolCost = {
      poolName: "a100",
      gpuModel: "NVIDIA-A100-SXM4-80GB",
      availableGpus: 4,
      costBreakdown: breakdown(7.35, ["Real-time price"], "cloud-api"),
      realtimePricing: { instanceType: "Standard_NC48ads_A100_v4", hourlyPrice: 7.35, monthlyPrice: 5365.5, currency: "USD", region: "eastus", source: "cached", nodesPerReplica: 1, nodeHourlyPrice: 7.35 },
    };
    const estimate = breakdown(10.14, ["list prices of 2025-05-01"]);
    const live = costView("NVIDIA-A100-SXM4-80GB", estimate, [pool]);
    expect(live).toMatchObject({ hourly: 7.35, source: "cached", date: null });
    expect(live?.basis).toBe("Standard_NC48ads_A100_v4 in eastus (node pool a100), 1 node per replica at $7.35/h each");
    const other = costView("L4", estimate, [pool]);
    expect(other).toMatchObject({ hourly: 10.14, source: "static", date: "2025-05-01", lowConfidence: false });
    expect(costView("L4", undefined, [pool])).toBeNull();
    expect(costView("X", breakdown(0, ["Unknown GPU: X"]), [])?.lowConfidence).toBe(true);
  });
});

describe("autoscalerHint", () => {
  const capacity: ClusterGpuCapacity = { totalGpus: 16, allocatedGpus: 14, availableGpus: 2, maxContiguousAvailable: 2, maxNodeGpuCapacity: 8, gpuNodeCount: 2, nodes: [] };
  const ca: AutoscalerDetection = { type: "cluster-autoscaler", detected: true, healthy: true, scalingUp: true, nodeGroupCount: 1, message: "Cluster Autoscaler is running" };
  it("appears only when GPUs are short", () => {
    expect(autoscalerHint(capacity, ca, 2, 1)).toBeNull();
    expect(autoscalerHint(capacity, ca, 0, 5)).toBeNull();
    expect(autoscalerHint(capacity, undefined, 4, 1)).toBeNull();
    const hint = autoscalerHint(capacity, ca, 2, 2);
    expect(hint?.title).toBe("The autoscaler can add GPU nodes");
    expect(hint?.text).toContain("The Cluster Autoscaler manages the cluster's nodes across 1 node group:");
    expect(hint?.text).toContain("It is scaling up now.");
  });

  it("says when nodes like the existing ones cannot help, when it is unhealthy, and when there is none", () => {
    expect(autoscalerHint(capacity, ca, 16, 1)?.title).toBe("An autoscaler is detected, but cannot help");
    const sick = autoscalerHint(capacity, { ...ca, type: "aks-managed", healthy: false, scalingUp: false, message: "status is stale" }, 4, 1);
    expect(sick).toMatchObject({ tone: "warn" });
    expect(sick?.text).toContain("The AKS managed autoscaler");
    expect(sick?.text).toContain("It does not look healthy: status is stale");
    expect(autoscalerHint(capacity, { type: "none", detected: false, healthy: false, scalingUp: false, message: "none" }, 4, 1)?.title).toBe(
      "No autoscaler detected",
    );
  });
});
