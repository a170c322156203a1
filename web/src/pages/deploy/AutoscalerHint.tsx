import type { ClusterGpuCapacity } from "@kubeairunway/shared";

import { useAutoscalerDetection } from "../../api/hooks";
import { autoscalerHint } from "../../lib/costs";

/** Below the capacity warning: whether the cluster's autoscaler can add the GPUs that are short. */
export function AutoscalerHint({ capacity, gpus, replicas, short }: { capacity: ClusterGpuCapacity | undefined; gpus: number; replicas: number; short: boolean }) {
  const detection = useAutoscalerDetection(short);
  const hint = short ? autoscalerHint(capacity, detection.data, gpus, replicas) : null;
  if (!hint) return null;
  return (
    <div className={hint.tone === "info" ? "mt-2 rounded-md border border-info/40 bg-info-soft p-3 text-sm" : "mt-2 rounded-md border border-line bg-surface-2 p-3 text-sm"}>
      <p className="font-semibold">{hint.title}</p>
      <p className="mt-1">{hint.text}</p>
    </div>
  );
}
