import { isAbort, isApiError, type ApiError, type DeploymentEvent } from "@kubeairunway/shared";
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

/** What {@link followDeploymentEvents} reports to. */
export interface FollowHandlers {
  /** Every event, in order; each (re)connection starts with a `snapshot`. */
  onEvent: (event: DeploymentEvent) => void;
  /** Connection changes; `error` is the cause of a drop when known (else `null`). */
  onStatus: (status: LiveStatus, error: ApiError | null) => void;
}

/**
 * Follows `GET /api/deployments/events` (only `namespace` when given: the server filters) until
 * the returned function is called. A dropped stream reconnects with backoff and starts again
 * from a fresh snapshot; a 401 or 403 stops (the 401 has already sent the user to the login
 * page). Shared by the list and the details page so both reconnect the same way.
 */
export function followDeploymentEvents(namespace: string | undefined, handlers: FollowHandlers): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    try {
      await client.deploymentEvents(namespace ? { namespace } : {}, {
        signal,
        onOpen: () => {
          attempt = 0;
          handlers.onStatus("live", null);
        },
        onEvent: handlers.onEvent,
      });
      if (signal.aborted) return;
      retry(null);
    } catch (error) {
      if (signal.aborted || isAbort(error)) return;
      if (isApiError(error) && (error.status === 401 || error.status === 403)) {
        handlers.onStatus("failed", error);
        return;
      }
      retry(isApiError(error) ? error : null);
    }
  };

  const retry = (error: ApiError | null) => {
    attempt += 1;
    handlers.onStatus("reconnecting", error);
    timer = setTimeout(() => void connect(), backoff(attempt));
  };

  void connect();
  return () => {
    controller.abort();
    if (timer !== undefined) clearTimeout(timer);
  };
}

/**
 * The deployments of every namespace the user may see, kept current over the server's event
 * stream (`snapshot`, then `upsert`/`delete`). The last list stays visible while reconnecting.
 */
export function useLiveDeployments(): LiveDeployments {
  const [state, setState] = useState<LiveDeployments>({ deployments: null, status: "connecting", error: null });

  useEffect(() => {
    let stopped = false;
    // Events are applied to a local map and flushed to React at most once per frame.
    let current: DeploymentMap | null = null;
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      if (stopped) return;
      const snapshot = current;
      setState((s) => ({ ...s, deployments: snapshot }));
    };
    const scheduleFlush = () => {
      if (flushScheduled) return;
      flushScheduled = true;
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    };
    const stop = followDeploymentEvents(undefined, {
      onEvent: (event) => {
        current = applyEvent(current ?? new Map(), event);
        scheduleFlush();
      },
      onStatus: (status, error) => {
        setState((s) => ({ ...s, status, error: status === "live" ? null : (error ?? s.error) }));
      },
    });
    return () => {
      stopped = true;
      stop();
    };
  }, []);

  return state;
}
