import { isAbort, isApiError, type ApiError } from "@kubeairunway/shared";
import { useEffect, useState } from "react";

import { applyEvent, type DeploymentMap } from "../lib/live";
import { client } from "./client";

/** Connection state of the live list. */
export type LiveStatus = "connecting" | "live" | "reconnecting" | "failed";

/** What {@link useLiveDeployments} returns. */
export interface LiveDeployments {
  /** The deployments; `null` until the first snapshot arrived. */
  deployments: DeploymentMap | null;
  status: LiveStatus;
  /** The last error, while not live. */
  error: ApiError | null;
}

const MAX_BACKOFF_MS = 15_000;

/** Delay before reconnect attempt `attempt` (1, 2, 4 … 15 s). */
export function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * The deployments of every namespace the user may see, kept current over the server's event
 * stream (`snapshot`, then `upsert`/`delete`). A dropped stream reconnects with backoff and
 * starts again from a fresh snapshot; the last list stays visible meanwhile. A 401 or 403 stops
 * (the 401 has already sent the user to the login page).
 */
export function useLiveDeployments(): LiveDeployments {
  const [state, setState] = useState<LiveDeployments>({ deployments: null, status: "connecting", error: null });

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Events are applied to a local map and flushed to React at most once per frame.
    let current: DeploymentMap | null = null;
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      if (signal.aborted) return;
      const snapshot = current;
      setState((s) => ({ ...s, deployments: snapshot }));
    };
    const scheduleFlush = () => {
      if (flushScheduled) return;
      flushScheduled = true;
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    };

    const connect = async (): Promise<void> => {
      try {
        await client.deploymentEvents(
          {},
          {
            signal,
            onOpen: () => {
              attempt = 0;
              setState((s) => ({ ...s, status: "live", error: null }));
            },
            onEvent: (event) => {
              current = applyEvent(current ?? new Map(), event);
              scheduleFlush();
            },
          },
        );
        if (signal.aborted) return;
        retry(null);
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        if (isApiError(error) && (error.status === 401 || error.status === 403)) {
          setState((s) => ({ ...s, status: "failed", error }));
          return;
        }
        retry(isApiError(error) ? error : null);
      }
    };

    const retry = (error: ApiError | null) => {
      attempt += 1;
      setState((s) => ({ ...s, status: "reconnecting", error: error ?? s.error }));
      timer = setTimeout(() => void connect(), backoff(attempt));
    };

    void connect();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);

  return state;
}
