import type { DeploymentStatus } from "@kubeairunway/shared";

/** A deployment as the API reports it, with `extra` fields overridden. */
export function dep(name: string, namespace = "default", extra: Partial<DeploymentStatus> = {}): DeploymentStatus {
  return {
    name,
    namespace,
    modelId: `org/${name}-model`,
    mode: "aggregated",
    phase: "Running",
    provider: "kubernetes",
    replicas: { desired: 1, ready: 1, available: 1 },
    pods: [],
    createdAt: "2026-01-01T00:00:00Z",
    frontendService: name,
    ...extra,
  };
}

/** `GET /api/settings` with auth on or off. */
export function settings(authEnabled: boolean) {
  return { config: { defaultNamespace: "default" }, auth: { enabled: authEnabled } };
}

/** `GET /api/cluster/status`, connected. */
export const connected = {
  connected: true,
  namespace: "kubeairunway-system",
  clusterName: "kind-demo",
  providerInstallation: { installed: true, crdFound: true, message: "ModelDeployment CRD is installed" },
};

/** `GET /api/autoscaler/detection` of a cluster without an autoscaler. */
export const noAutoscaler = {
  type: "none",
  detected: false,
  healthy: false,
  scalingUp: false,
  message: "No autoscaler detected. Install Kubernetes Cluster Autoscaler or enable AKS autoscaling.",
} as const;

/** The routes of Settings → General's autoscaler card on a cluster without one. */
export const noAutoscalerRoutes = {
  "GET /api/autoscaler/detection": () => new Response(JSON.stringify(noAutoscaler), { headers: { "content-type": "application/json" } }),
  "GET /api/autoscaler/status": () =>
    new Response(JSON.stringify({ error: { message: "Autoscaler status not available", statusCode: 404 } }), {
      status: 404,
      headers: { "content-type": "application/json" },
    }),
};
