import type { PodFailureReason } from "@kubeairunway/shared";

/** A pending reason in plain words: what it means and what to do. */
export interface Advice {
  title: string;
  advice: string;
}

/** Plain-language advice for one reason Kubernetes gave for a pod not running. */
export function adviceFor(reason: PodFailureReason): Advice {
  const msg = reason.message.toLowerCase();
  const autoscaler = reason.canAutoscalerHelp
    ? " A cluster autoscaler can add nodes for this, if your cluster has one."
    : "";
  if (reason.isResourceConstraint) {
    switch (reason.resourceType) {
      case "gpu":
        return {
          title: "Not enough free GPUs",
          advice: `No node has enough free GPUs for one replica. Lower the GPUs per replica or the replicas, scale down another deployment to free GPUs, or add GPU nodes.${autoscaler}`,
        };
      case "cpu":
        return {
          title: "Not enough CPU",
          advice: `No node has enough free CPU for the pod's request. Lower the CPU request, free capacity, or add nodes.${autoscaler}`,
        };
      case "memory":
        return {
          title: "Not enough memory",
          advice: `No node has enough free memory for the pod's request. Lower the memory request, free capacity, or add nodes.${autoscaler}`,
        };
      default:
        break;
    }
    if (msg.includes("taint") || msg.includes("toleration")) {
      return {
        title: "Nodes are tainted",
        advice: "The nodes that could run this pod carry taints it does not tolerate. Add a matching toleration or use other nodes.",
      };
    }
    if (msg.includes("node selector") || msg.includes("didn't match") || msg.includes("affinity")) {
      return {
        title: "No node matches the pod's placement rules",
        advice: "The pod's node selector or affinity matches no node. Check the labels it asks for.",
      };
    }
    if (msg.includes("persistentvolumeclaim") || msg.includes("volume")) {
      return {
        title: "Storage is not ready",
        advice: "A volume the pod needs is not bound yet. Check the PersistentVolumeClaims and the storage class.",
      };
    }
    return {
      title: "The scheduler cannot place the pod",
      advice: `Kubernetes found no node for this pod; the message below says why.${autoscaler}`,
    };
  }
  if (reason.reason === "FailedMount" || reason.reason === "FailedAttachVolume") {
    return {
      title: "A volume cannot be mounted",
      advice: "Check that the Secrets, ConfigMaps and volumes the pod mounts exist in this namespace (for a gated model, the HuggingFace token Secret).",
    };
  }
  if (/imagepull|errimage|pull/i.test(reason.reason) || msg.includes("pull image")) {
    return {
      title: "The image cannot be pulled",
      advice: "Check the image name and tag, and that the nodes can reach the registry (and have credentials for a private one).",
    };
  }
  if (reason.reason === "BackOff" || msg.includes("back-off restarting")) {
    return {
      title: "The container keeps crashing",
      advice: "The container starts and exits. Read the logs (choose the previous instance) to see why.",
    };
  }
  return { title: reason.reason, advice: "Kubernetes reported this warning; the message below has the details." };
}
