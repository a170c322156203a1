import { isApiError } from "@kubeairunway/shared";
import { QueryClient } from "@tanstack/react-query";

/** Retries only what a retry can fix: an unreachable server or a 5xx, at most twice. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (!isApiError(error)) return failureCount < 2;
  if (error.status === 0 || error.status >= 500) return failureCount < 2;
  return false;
}

/** The app's query client (tests make their own with {@link makeQueryClient}). */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: shouldRetry, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}
