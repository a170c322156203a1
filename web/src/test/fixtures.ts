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
