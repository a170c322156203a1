import { data, isApiError, type ApiError, type ProviderInstallStatus } from "@kubeairunway/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { api } from "./client";
import { keys } from "./hooks";

/** Query keys of the installation endpoints. */
export const installKeys = {
  helm: ["installation", "helm"] as const,
  provider: (id: string) => ["installation", "provider", id] as const,
  commands: (id: string) => ["installation", "commands", id] as const,
  gpuOperator: ["installation", "gpu-operator"] as const,
};

/** `GET /api/installation/helm/status`. */
export function useHelmStatus() {
  return useQuery({
    queryKey: installKeys.helm,
    queryFn: ({ signal }) => data(api.GET("/api/installation/helm/status", { signal })),
    staleTime: 30_000,
  });
}

/**
 * `GET /api/installation/providers/{id}/status`, every 30 s; every 5 s while a job runs, and every
 * 2 s while its charts are deployed but the provider has not reported ready yet (just installed).
 */
export function useProviderStatus(id: string) {
  return useQuery({
    queryKey: installKeys.provider(id),
    queryFn: ({ signal }) =>
      data(api.GET("/api/installation/providers/{id}/status", { params: { path: { id } }, signal })),
    refetchInterval: (query) => {
      const status = query.state.data;
      if (status?.activeJob) return 5_000;
      if (status && awaitingReady(status)) return 2_000;
      return 30_000;
    },
  });
}

/** Every chart is deployed but the provider is not ready yet: its operator is still starting. */
export function awaitingReady(status: ProviderInstallStatus): boolean {
  return (
    !status.installed &&
    status.charts.length > 0 &&
    status.charts.every((c) => c.release?.status === "deployed")
  );
}

/** `GET /api/installation/providers/{id}/commands` (asked for when the manual steps are opened). */
export function useProviderCommands(id: string, enabled: boolean) {
  return useQuery({
    queryKey: installKeys.commands(id),
    queryFn: ({ signal }) =>
      data(api.GET("/api/installation/providers/{id}/commands", { params: { path: { id } }, signal })),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/** `GET /api/installation/gpu-operator/status`. */
export function useGpuOperatorStatus() {
  return useQuery({
    queryKey: installKeys.gpuOperator,
    queryFn: ({ signal }) => data(api.GET("/api/installation/gpu-operator/status", { signal })),
    refetchInterval: (query) => (query.state.data?.activeJob ? 5_000 : 30_000),
  });
}

/** A job an installation endpoint can start. */
export type JobAction =
  | { kind: "install" | "uninstall" | "uninstall-crds"; providerId: string }
  | { kind: "gpu-operator" };

const ASYNC = { async: true } as const;

/** Starts `action` with `?async=true` and resolves with the job id (202). */
export async function startJob(action: JobAction): Promise<string> {
  if (action.kind === "gpu-operator") {
    const body = await data(api.POST("/api/installation/gpu-operator/install", { params: { query: ASYNC } }));
    // Already installed: `{success, message, alreadyInstalled, status}` without a job.
    const jobId: unknown = (body as Record<string, unknown>).jobId;
    if (typeof jobId !== "string") throw new Error(body.message || "The GPU Operator is already installed.");
    return jobId;
  }
  const params = { path: { id: action.providerId }, query: ASYNC };
  const body =
    action.kind === "install"
      ? await data(api.POST("/api/installation/providers/{id}/install", { params }))
      : action.kind === "uninstall"
        ? await data(api.POST("/api/installation/providers/{id}/uninstall", { params }))
        : await data(api.POST("/api/installation/providers/{id}/uninstall-crds", { params }));
  return body.jobId;
}

/**
 * Starts installation jobs and follows one: `jobId` is the job shown; a `409` keeps the error
 * (naming the running job) in `conflict` so the user can attach to that job instead.
 */
export function useJobLauncher(invalidate: readonly (readonly unknown[])[]) {
  const qc = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(null);
  const [conflict, setConflict] = useState<ApiError | null>(null);
  const [running, setRunning] = useState(false);
  const mutation = useMutation({
    mutationFn: startJob,
    onMutate: () => {
      setConflict(null);
    },
    onSuccess: (id) => {
      setJobId(id);
      setRunning(true);
    },
    onError: (error) => {
      if (isApiError(error) && error.status === 409 && error.jobId) setConflict(error);
    },
  });
  const invalidateKey = JSON.stringify(invalidate);
  /** The followed job ended: refetch the statuses it changed. */
  const ended = useCallback(() => {
    setRunning(false);
    const queryKeys = JSON.parse(invalidateKey) as unknown[][];
    for (const queryKey of [...queryKeys, keys.runtimes]) void qc.invalidateQueries({ queryKey });
  }, [qc, invalidateKey]);
  const attach = useCallback((id: string) => {
    setConflict(null);
    setJobId(id);
    setRunning(true);
  }, []);
  const close = useCallback(() => {
    setJobId(null);
    setRunning(false);
  }, []);
  return { jobId, running, attach, close, conflict, start: mutation.mutate, starting: mutation, ended };
}
