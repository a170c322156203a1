import { data, type AikitBuildBody } from "@kubeairunway/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api } from "./client";

/** Query keys of the AIKit endpoints. */
export const aikitKeys = {
  models: ["aikit", "models"] as const,
  infrastructure: ["aikit", "infrastructure"] as const,
  ggufFiles: (modelId: string) => ["aikit", "gguf-files", modelId] as const,
};

/** `GET /api/aikit/models` (a fixed list: cached for 5 minutes). */
export function usePremadeModels(enabled: boolean) {
  return useQuery({
    queryKey: aikitKeys.models,
    queryFn: ({ signal }) => data(api.GET("/api/aikit/models", { signal })),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/** `GET /api/models/{id}/gguf-files` of a HuggingFace repository. */
export function useGgufFiles(modelId: string, enabled: boolean) {
  return useQuery({
    queryKey: aikitKeys.ggufFiles(modelId),
    queryFn: ({ signal }) => data(api.GET("/api/models/{id}/gguf-files", { params: { path: { id: modelId } }, signal })),
    enabled,
    staleTime: 5 * 60_000,
    retry: 1,
  });
}

/** `GET /api/aikit/infrastructure/status`, every 5 s while `polling` (after a setup). */
export function useBuildInfrastructure(enabled: boolean, polling: boolean) {
  return useQuery({
    queryKey: aikitKeys.infrastructure,
    queryFn: ({ signal }) => data(api.GET("/api/aikit/infrastructure/status", { signal })),
    enabled,
    refetchInterval: polling ? 5_000 : 30_000,
  });
}

/** `POST /api/aikit/infrastructure/setup` (the registry and the BuildKit builder, as the caller). */
export function useSetupInfrastructure() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => data(api.POST("/api/aikit/infrastructure/setup")),
    onSettled: () => qc.invalidateQueries({ queryKey: aikitKeys.infrastructure }),
  });
}

/** Starts a build with `?async=true` and resolves with its job id (202). */
export async function startBuild(body: AikitBuildBody): Promise<string> {
  const result = await data(api.POST("/api/aikit/build", { params: { query: { async: true } }, body }));
  if ("jobId" in result && typeof result.jobId === "string") return result.jobId;
  throw new Error("The server answered without a build job");
}

/** The image reference a finished build job produced (`details.imageRef`), or `null`. */
export async function builtImageRef(jobId: string): Promise<string | null> {
  const job = await data(api.GET("/api/jobs/{id}", { params: { path: { id: jobId } } }));
  const ref = job.details?.imageRef;
  return typeof ref === "string" ? ref : null;
}
