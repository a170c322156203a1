import { isAbort, isApiError, type ApiError } from "@kubeairunway/shared";
import { useEffect, useRef, useState } from "react";

import { applyJobEvent, type JobProgress } from "../lib/job";
import { client } from "./client";
import { backoff } from "./useLiveDeployments";

/** Connection state of a followed job. */
export type JobStreamStatus = "connecting" | "live" | "reconnecting" | "ended" | "failed";

/** What {@link useJobStream} returns. */
export interface JobStreamState {
  /** The job's progress; `null` until the first snapshot. */
  progress: JobProgress | null;
  status: JobStreamStatus;
  /** Why following stopped or is retrying. */
  error: ApiError | null;
}

const INITIAL: JobStreamState = { progress: null, status: "connecting", error: null };
const MAX_ATTEMPTS = 6;

/**
 * Follows job `jobId` over `GET /api/jobs/{id}/events` until its `end` event, calling `onEnd`
 * with the final progress once. A stream that drops before the end reconnects with backoff (the
 * server starts again with a snapshot); 401, 403, 404 or repeated failures stop with the error.
 * Output events are applied to a local copy and rendered at most once per frame.
 */
export function useJobStream(jobId: string | null, onEnd?: (progress: JobProgress) => void): JobStreamState {
  // The state names the job it belongs to, so a new `jobId` starts from INITIAL without a reset.
  const [state, setState] = useState<JobStreamState & { forJob: string | null }>({ ...INITIAL, forJob: null });
  const onEndRef = useRef(onEnd);
  useEffect(() => {
    onEndRef.current = onEnd;
  }, [onEnd]);

  useEffect(() => {
    if (jobId === null) return undefined;
    const controller = new AbortController();
    const { signal } = controller;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: JobProgress | null = null;
    let ended = false;
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      if (signal.aborted) return;
      const snapshot = current;
      setState((s) => ({ ...(s.forJob === jobId ? s : INITIAL), forJob: jobId, progress: snapshot }));
    };
    const scheduleFlush = () => {
      if (flushScheduled) return;
      flushScheduled = true;
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    };

    const fail = (error: ApiError | null) => {
      attempt += 1;
      if (attempt >= MAX_ATTEMPTS || (error && [401, 403, 404].includes(error.status))) {
        setState((s) => ({ ...(s.forJob === jobId ? s : INITIAL), forJob: jobId, status: "failed", error }));
        return;
      }
      setState((s) => ({
        ...(s.forJob === jobId ? s : INITIAL),
        forJob: jobId,
        status: "reconnecting",
        error: error ?? (s.forJob === jobId ? s.error : null),
      }));
      timer = setTimeout(() => void connect(), backoff(attempt));
    };

    const connect = async (): Promise<void> => {
      try {
        await client.jobEvents(jobId, {
          signal,
          onOpen: () => {
            setState((s) => ({ ...(s.forJob === jobId ? s : INITIAL), forJob: jobId, status: "live", error: null }));
          },
          onEvent: (event) => {
            current = applyJobEvent(current, event);
            if (event.type === "end" && current && !ended) {
              ended = true;
              const final = current;
              setState({ forJob: jobId, progress: final, status: "ended", error: null });
              onEndRef.current?.(final);
              return;
            }
            if (event.type === "snapshot") attempt = 0;
            scheduleFlush();
          },
        });
        if (signal.aborted || ended) return;
        fail(null);
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        fail(isApiError(error) ? error : null);
      }
    };

    void connect();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [jobId]);

  if (jobId === null || state.forJob !== jobId) return INITIAL;
  return { progress: state.progress, status: state.status, error: state.error };
}
