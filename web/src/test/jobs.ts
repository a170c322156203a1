import type { JobView, ProviderInstallStatus } from "@kubeairunway/shared";

/** A job view as `GET /api/jobs/{id}` answers, with `extra` fields overridden. */
export function jobView(extra: Partial<JobView> = {}): JobView {
  return {
    jobId: "job-1",
    kind: "install-provider",
    target: "kaito",
    state: "running",
    createdAt: "2026-01-01T00:00:00Z",
    steps: [],
    pending: [
      { step: "repo-add-kaito", title: "Add the kaito repository", command: "helm repo add kaito https://charts.example" },
      { step: "install-kaito", title: "Install kaito", command: "helm upgrade --install kaito kaito/workspace" },
    ],
    results: [],
    ...extra,
  };
}

/** `GET /api/installation/providers/kaito/status`. */
export function providerStatus(extra: Partial<ProviderInstallStatus> = {}): ProviderInstallStatus {
  return {
    providerId: "kaito",
    providerName: "Kaito",
    installed: false,
    operatorRunning: false,
    crdFound: true,
    message: "Kaito is registered but not ready",
    helmCommands: ["helm repo add kaito https://charts.example"],
    installationSteps: [],
    charts: [{ name: "kaito", chart: "kaito/workspace", namespace: "kaito-workspace", createNamespace: true }],
    ...extra,
  };
}
