import { isAbort, type DeploymentStatus } from "@kubeairunway/shared";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useDeferredValue, useEffect, useId, useMemo, useRef, useState } from "react";

import { client } from "../../api/client";
import { useLogs } from "../../api/hooks";
import { Button, Card, ErrorMessage, Spinner, cx } from "../../components/ui";
import { downloadText } from "../../lib/download";

/** Lines kept while following (older ones are dropped). */
export const MAX_LINES = 10_000;
const LINE_HEIGHT = 20;
const TAILS = [100, 500, 1000, 5000] as const;

type FollowState = { state: "off" } | { state: "connecting" } | { state: "following" } | { state: "ended"; message: string } | { state: "error"; message: string };

/** Splits a log text into lines (no trailing empty line). */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * A pod's logs: a tail on demand or followed live (SSE), searchable, downloadable, virtualised
 * so tens of thousands of lines stay smooth.
 */
export function LogsPanel({ d }: { d: DeploymentStatus }) {
  const podId = useId();
  const tailId = useId();
  const searchId = useId();
  const [pod, setPod] = useState<string>(d.pods[0]?.name ?? "");
  const [tailLines, setTailLines] = useState<number>(500);
  const [timestamps, setTimestamps] = useState(false);
  const [previous, setPrevious] = useState(false);
  const [follow, setFollow] = useState(false);
  const [search, setSearch] = useState("");
  const deferredSearch = useDeferredValue(search);
  const podName = d.pods.some((p) => p.name === pod) ? pod : (d.pods[0]?.name ?? "");
  const opts = { ...(podName ? { podName } : {}), tailLines, timestamps, previous };
  const snapshot = useLogs(d.namespace, d.name, opts, !follow);

  // The followed stream's lines and state belong to one stream key; a new key starts empty.
  const [session, setSession] = useState(0);
  const streamKey = JSON.stringify([session, d.namespace, d.name, podName, tailLines, timestamps]);
  const [stream, setStream] = useState<{ key: string; lines: string[]; state: FollowState }>({
    key: "",
    lines: [],
    state: { state: "off" },
  });
  const current = stream.key === streamKey;
  const followState: FollowState = follow ? (current ? stream.state : { state: "connecting" }) : { state: "off" };

  // Following: one stream per pod/options; lines are batched into state once per frame.
  useEffect(() => {
    if (!follow) return;
    const controller = new AbortController();
    let buffer: string[] = [];
    let scheduled = false;
    const key = streamKey;
    const setFollowState = (state: FollowState | ((s: FollowState) => FollowState)) => {
      setStream((s) => {
        const base = s.key === key ? s : { key, lines: [], state: { state: "connecting" } as FollowState };
        return { ...base, state: typeof state === "function" ? state(base.state) : state };
      });
    };
    const flush = () => {
      scheduled = false;
      if (controller.signal.aborted || buffer.length === 0) return;
      const add = buffer;
      buffer = [];
      setStream((s) => {
        const base = s.key === key ? s : { key, lines: [], state: { state: "following" } as FollowState };
        const next = base.lines.concat(add);
        return { ...base, lines: next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next };
      });
    };
    client
      .followLogs(
        d.name,
        { namespace: d.namespace, tailLines, timestamps, ...(podName ? { podName } : {}) },
        {
          signal: controller.signal,
          onOpen: () => {
            setFollowState({ state: "following" });
          },
          onEvent: (event) => {
            if (event.type === "log") {
              buffer.push(event.line);
              if (!scheduled) {
                scheduled = true;
                requestAnimationFrame(flush);
              }
            } else {
              flush();
              setFollowState(event.type === "end" ? { state: "ended", message: event.message } : { state: "error", message: event.message });
            }
          },
        },
      )
      .then(
        () => {
          flush();
          setFollowState((s) => (s.state === "following" || s.state === "connecting" ? { state: "ended", message: "The log stream ended." } : s));
        },
        (error: unknown) => {
          if (controller.signal.aborted || isAbort(error)) return;
          setFollowState({ state: "error", message: error instanceof Error ? error.message : String(error) });
        },
      );
    return () => {
      controller.abort();
    };
    // streamKey covers the follow session, name, namespace, pod and options.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [follow, streamKey]);

  const lines = useMemo(
    () => (follow ? (current ? stream.lines : []) : splitLines(snapshot.data?.logs ?? "")),
    [follow, current, stream.lines, snapshot.data?.logs],
  );
  const shown = useMemo(() => {
    const q = deferredSearch.trim().toLowerCase();
    return q ? lines.filter((l) => l.toLowerCase().includes(q)) : lines;
  }, [lines, deferredSearch]);

  const status =
    follow
      ? followState.state === "connecting"
        ? "Connecting…"
        : followState.state === "following"
          ? `Following · ${lines.length} lines`
          : followState.state === "ended"
            ? `Stopped: ${followState.message}`
            : followState.state === "error"
              ? `Stopped: ${followState.message}`
              : ""
      : snapshot.isFetching
        ? "Loading…"
        : `${lines.length} lines`;

  const select = "rounded-md border border-line bg-surface px-2 py-1.5";
  return (
    <Card
      title="Logs"
      actions={
        <div className="flex flex-wrap gap-2">
          <Button
            aria-pressed={follow}
            variant={follow ? "primary" : "secondary"}
            disabled={d.pods.length === 0}
            onClick={() => {
              if (!follow) setSession((n) => n + 1);
              setFollow(!follow);
              setPrevious(false);
            }}
          >
            {follow ? "Stop following" : "Follow"}
          </Button>
          {!follow ? (
            <Button
              disabled={d.pods.length === 0}
              onClick={() => {
                void snapshot.refetch();
              }}
            >
              Refresh
            </Button>
          ) : null}
          <Button
            disabled={lines.length === 0}
            onClick={() => {
              downloadText(`${d.name}-${podName || "logs"}.log`, `${lines.join("\n")}\n`);
            }}
          >
            Download
          </Button>
        </div>
      }
    >
      {d.pods.length === 0 ? (
        <p className="text-sm text-muted">The deployment has no pods yet, so there are no logs.</p>
      ) : (
        <>
          <div className="mb-3 flex flex-wrap items-end gap-3 text-sm">
            <div className="flex flex-col gap-1">
              <label htmlFor={podId} className="font-medium">
                Pod
              </label>
              <select id={podId} className={select} value={podName} onChange={(e) => { setPod(e.target.value); }}>
                {d.pods.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor={tailId} className="font-medium">
                Last lines
              </label>
              <select id={tailId} className={select} value={tailLines} onChange={(e) => { setTailLines(Number(e.target.value)); }}>
                {TAILS.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={timestamps} onChange={(e) => { setTimestamps(e.target.checked); }} />
              Timestamps
            </label>
            <label className={cx("flex items-center gap-2", follow && "opacity-50")}>
              <input type="checkbox" checked={previous} disabled={follow} onChange={(e) => { setPrevious(e.target.checked); }} />
              Previous instance
            </label>
            <div className="flex flex-col gap-1">
              <label htmlFor={searchId} className="font-medium">
                Search
              </label>
              <input id={searchId} type="search" className="w-56 rounded-md border border-line bg-surface px-2 py-1.5" value={search} onChange={(e) => { setSearch(e.target.value); }} />
            </div>
          </div>
          <p role="status" className="mb-2 flex items-center gap-2 text-xs text-muted">
            {(follow && followState.state === "connecting") || (!follow && snapshot.isFetching) ? <Spinner /> : null}
            {status}
            {deferredSearch.trim() ? ` · ${shown.length} matching` : ""}
          </p>
          {!follow && snapshot.isError ? <ErrorMessage title="Could not read the logs" error={snapshot.error} /> : null}
          {!follow && snapshot.data?.message ? <p className="mb-2 text-sm text-muted">{snapshot.data.message}</p> : null}
          <LogLines lines={shown} follow={follow} highlight={deferredSearch.trim()} />
        </>
      )}
    </Card>
  );
}

function LogLines({ lines, follow, highlight }: { lines: string[]; follow: boolean; highlight: string }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  // eslint-disable-next-line react-hooks/incompatible-library -- the app does not use the React Compiler
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LINE_HEIGHT,
    overscan: 30,
    initialRect: { width: 800, height: 480 },
  });

  // While following, stay at the bottom unless the user scrolled up to read.
  useEffect(() => {
    if (follow && atBottom.current && lines.length > 0) virtualizer.scrollToIndex(lines.length - 1, { align: "end" });
  }, [follow, lines.length, virtualizer]);

  const items = virtualizer.getVirtualItems();
  return (
    <div
      ref={scrollRef}
      role="log"
      aria-live="off"
      aria-label="Log lines"
      tabIndex={0}
      className="h-[30rem] overflow-auto rounded-md border border-line bg-[#0d1117] font-mono text-xs text-[#e6edf3]"
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < LINE_HEIGHT * 2;
      }}
    >
      {lines.length === 0 ? (
        <p className="p-3 text-[#9da7b3]">No log lines.</p>
      ) : (
        <div style={{ height: virtualizer.getTotalSize(), position: "relative", minWidth: "100%" }}>
          {items.map((item) => (
            <div
              key={item.key}
              className="absolute left-0 px-3 whitespace-pre"
              style={{ top: item.start, height: LINE_HEIGHT, lineHeight: `${LINE_HEIGHT}px` }}
            >
              <Line text={lines[item.index] ?? ""} highlight={highlight} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function Line({ text, highlight }: { text: string; highlight: string }) {
  if (!highlight) return text;
  const lower = text.toLowerCase();
  const q = highlight.toLowerCase();
  const parts: React.ReactNode[] = [];
  let from = 0;
  for (let i = lower.indexOf(q); i !== -1; i = lower.indexOf(q, i + q.length)) {
    parts.push(text.slice(from, i), <mark key={i} className="bg-yellow-300 text-black">{text.slice(i, i + q.length)}</mark>);
    from = i + q.length;
  }
  parts.push(text.slice(from));
  return parts;
}
