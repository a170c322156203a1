import type { DeploymentStatus } from "@kubeairunway/shared";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useDeferredValue, useId, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { useLiveDeployments, type LiveDeployments } from "../api/useLiveDeployments";
import { DeleteDeploymentDialog } from "../components/DeleteDeploymentDialog";
import { PageHeader } from "../components/PageHeader";
import { Badge, Button, EmptyState, ErrorMessage, Loading, PhaseBadge, cx } from "../components/ui";
import { age, engineLabel, useNow } from "../lib/format";
import {
  deploymentKey,
  namespacesOf,
  visibleDeployments,
  type ListView,
  type SortDir,
  type SortKey,
} from "../lib/live";
import { progressSummary, type PhaseState } from "../lib/progress";

/** Fixed row height: rows never change size, so live updates cannot shift the layout. */
const ROW_HEIGHT = 48;

const SORT_KEYS: SortKey[] = ["name", "namespace", "model", "phase", "age"];

function viewFrom(params: URLSearchParams): ListView {
  const sort = params.get("sort");
  return {
    namespace: params.get("namespace") ?? "",
    search: params.get("q") ?? "",
    sort: SORT_KEYS.includes(sort as SortKey) ? (sort as SortKey) : "age",
    dir: params.get("dir") === "desc" ? "desc" : "asc",
  };
}

/** Every deployment the user may see, live, filterable, sortable and virtualised. */
export default function DeploymentsPage() {
  const live = useLiveDeployments();
  const [params, setParams] = useSearchParams();
  const view = viewFrom(params);
  const search = useDeferredValue(view.search);
  const [pendingDelete, setPendingDelete] = useState<DeploymentStatus | null>(null);

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const rows = useMemo(
    () => (live.deployments ? visibleDeployments(live.deployments, { ...view, search }) : []),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the view's fields are the inputs
    [live.deployments, view.namespace, search, view.sort, view.dir],
  );
  const namespaces = useMemo(() => (live.deployments ? namespacesOf(live.deployments) : []), [live.deployments]);
  const total = live.deployments?.size ?? 0;

  const onSort = (key: SortKey) => {
    const next = new URLSearchParams(params);
    const dir: SortDir = view.sort === key && view.dir === "asc" ? "desc" : "asc";
    next.set("sort", key);
    next.set("dir", dir);
    setParams(next, { replace: true });
  };

  return (
    <div className="flex h-full flex-col">
      <PageHeader
        title="Deployments"
        subtitle={<LiveIndicator live={live} />}
        actions={
          <Link to="/" className="rounded-md bg-primary px-3 py-1.5 text-sm font-medium text-primary-fg hover:opacity-90">
            New deployment
          </Link>
        }
      />
      <Toolbar
        view={view}
        namespaces={namespaces}
        onNamespace={(v) => {
          setParam("namespace", v);
        }}
        onSearch={(v) => {
          setParam("q", v);
        }}
      />
      <p role="status" aria-live="polite" className="my-2 text-sm text-muted">
        {live.deployments === null
          ? ""
          : rows.length === total
            ? `${total} deployment${total === 1 ? "" : "s"}`
            : `${rows.length} of ${total} deployments`}
      </p>
      {live.deployments === null ? (
        live.error ? (
          <ErrorMessage title="Could not load the deployments" error={live.error}>
            {live.status === "reconnecting" ? <p className="mt-1 text-muted">Retrying…</p> : null}
          </ErrorMessage>
        ) : (
          <Loading label="Loading deployments…" />
        )
      ) : total === 0 ? (
        <EmptyState title="No deployments yet">
          Deploy a model from the <Link className="text-primary underline" to="/">catalog</Link>, or apply a
          ModelDeployment with kubectl; it shows up here at once.
        </EmptyState>
      ) : rows.length === 0 ? (
        <EmptyState title="No deployment matches">Change the namespace or the search text.</EmptyState>
      ) : (
        <DeploymentTable rows={rows} view={view} onSort={onSort} onDelete={setPendingDelete} />
      )}
      <DeleteDeploymentDialog
        target={pendingDelete}
        onClose={() => {
          setPendingDelete(null);
        }}
      />
    </div>
  );
}

function LiveIndicator({ live }: { live: LiveDeployments }) {
  const text =
    live.status === "live"
      ? "Live: changes appear as they happen"
      : live.status === "connecting"
        ? "Connecting to live updates…"
        : live.status === "reconnecting"
          ? "Reconnecting to live updates… the list may be out of date"
          : `Live updates stopped${live.error ? `: ${live.error.message}` : ""}`;
  return (
    <span role="status" className="inline-flex items-center gap-2">
      <span
        aria-hidden="true"
        className={cx(
          "inline-block size-2 rounded-full",
          live.status === "live" ? "bg-ok" : live.status === "failed" ? "bg-bad" : "bg-warn",
        )}
      />
      {text}
    </span>
  );
}

function Toolbar({
  view,
  namespaces,
  onNamespace,
  onSearch,
}: {
  view: ListView;
  namespaces: string[];
  onNamespace: (v: string) => void;
  onSearch: (v: string) => void;
}) {
  const nsId = useId();
  const searchId = useId();
  const known = view.namespace === "" || namespaces.includes(view.namespace);
  return (
    <div className="flex flex-wrap items-end gap-3" role="search">
      <div className="flex flex-col gap-1 text-sm">
        <label htmlFor={nsId} className="font-medium">
          Namespace
        </label>
        <select
          id={nsId}
          className="rounded-md border border-line bg-surface px-2 py-1.5"
          value={view.namespace}
          onChange={(e) => {
            onNamespace(e.target.value);
          }}
        >
          <option value="">All namespaces</option>
          {known ? null : <option value={view.namespace}>{view.namespace}</option>}
          {namespaces.map((ns) => (
            <option key={ns} value={ns}>
              {ns}
            </option>
          ))}
        </select>
      </div>
      <div className="flex flex-col gap-1 text-sm">
        <label htmlFor={searchId} className="font-medium">
          Search
        </label>
        <input
          id={searchId}
          type="search"
          className="w-72 rounded-md border border-line bg-surface px-2 py-1.5"
          placeholder="Name, model, namespace or provider"
          value={view.search}
          onChange={(e) => {
            onSearch(e.target.value);
          }}
        />
      </div>
    </div>
  );
}

const COLUMNS: { key: SortKey | null; label: string; width: string }[] = [
  { key: "name", label: "Name", width: "w-[18%]" },
  { key: "namespace", label: "Namespace", width: "w-[12%]" },
  { key: "model", label: "Model", width: "w-[17%]" },
  { key: null, label: "Engine", width: "w-[9%]" },
  { key: null, label: "Provider", width: "w-[9%]" },
  { key: "phase", label: "Status", width: "w-[14%]" },
  { key: null, label: "Ready", width: "w-[7%]" },
  { key: "age", label: "Age", width: "w-[6%]" },
  { key: null, label: "Actions", width: "w-[8%]" },
];

function DeploymentTable({
  rows,
  view,
  onSort,
  onDelete,
}: {
  rows: DeploymentStatus[];
  view: ListView;
  onSort: (key: SortKey) => void;
  onDelete: (d: DeploymentStatus) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow();
  // eslint-disable-next-line react-hooks/incompatible-library -- the app does not use the React Compiler
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => {
      const row = rows[index];
      return row ? deploymentKey(row) : index;
    },
    initialRect: { width: 1000, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = Math.max(0, virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0));

  return (
    <div
      ref={scrollRef}
      className="max-h-[calc(100vh-16rem)] min-h-64 overflow-auto rounded-lg border border-line bg-surface"
      // Focusable so keyboard users can scroll the virtualised list with the arrow and page keys.
      role="region"
      aria-label="Deployment list, scrollable"
      tabIndex={0}
    >
      <table className="w-full min-w-[64rem] table-fixed border-collapse text-left text-sm" aria-rowcount={rows.length + 1}>
        <caption className="sr-only">Deployments</caption>
        <thead className="sticky top-0 z-10 bg-surface-2 text-muted">
          <tr aria-rowindex={1}>
            {COLUMNS.map((c) => {
              const sorted = c.key !== null && view.sort === c.key;
              return (
                <th
                  key={c.label}
                  scope="col"
                  className={cx("px-3 py-2 font-medium", c.width)}
                  aria-sort={sorted ? (view.dir === "asc" ? "ascending" : "descending") : undefined}
                >
                  {c.key === null ? (
                    c.label
                  ) : (
                    <button
                      type="button"
                      className="inline-flex items-center gap-1 hover:text-fg"
                      aria-label={`Sort by ${c.label}`}
                      onClick={() => {
                        if (c.key) onSort(c.key);
                      }}
                    >
                      {c.label}
                      <span aria-hidden="true">{sorted ? (view.dir === "asc" ? "▲" : "▼") : "↕"}</span>
                    </button>
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {padTop > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={COLUMNS.length} style={{ height: padTop, padding: 0 }} />
            </tr>
          ) : null}
          {items.map((item) => {
            const d = rows[item.index];
            if (!d) return null;
            return <Row key={item.key} d={d} rowIndex={item.index + 2} now={now} onDelete={onDelete} />;
          })}
          {padBottom > 0 ? (
            <tr aria-hidden="true">
              <td colSpan={COLUMNS.length} style={{ height: padBottom, padding: 0 }} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function Row({
  d,
  rowIndex,
  now,
  onDelete,
}: {
  d: DeploymentStatus;
  rowIndex: number;
  now: number;
  onDelete: (d: DeploymentStatus) => void;
}) {
  const href = `/deployments/${encodeURIComponent(d.name)}?namespace=${encodeURIComponent(d.namespace)}`;
  const cell = "truncate px-3";
  return (
    <tr aria-rowindex={rowIndex} className="border-t border-line hover:bg-surface-2" style={{ height: ROW_HEIGHT }}>
      <td className={cell}>
        <Link to={href} className="font-medium text-primary hover:underline" title={d.name}>
          {d.name}
        </Link>
      </td>
      <td className={cell} title={d.namespace}>
        {d.namespace}
      </td>
      <td className={cx(cell, "font-mono text-xs")} title={d.modelId}>
        {d.modelId || "—"}
      </td>
      <td className={cell}>{engineLabel(d.engine)}</td>
      <td className={cell}>{d.provider}</td>
      <td className={cell}>
        <div className="flex flex-col items-start gap-0.5">
          <PhaseBadge phase={d.phase} />
          <ProgressIndicator d={d} />
        </div>
      </td>
      <td className={cell}>
        {d.mode === "disaggregated" ? (
          <Badge>P/D</Badge>
        ) : (
          <span aria-label={`${d.replicas.ready} of ${d.replicas.desired} replicas ready`}>
            {d.replicas.ready}/{d.replicas.desired}
          </span>
        )}
      </td>
      <td className={cell}>
        <time dateTime={d.createdAt} title={d.createdAt}>
          {age(d.createdAt, now)}
        </time>
      </td>
      <td className="px-3">
        <Button
          variant="danger-ghost"
          aria-label={`Delete ${d.name} in ${d.namespace}`}
          disabled={d.phase === "Terminating"}
          onClick={() => {
            onDelete(d);
          }}
        >
          Delete
        </Button>
      </td>
    </tr>
  );
}

const SEGMENT: Record<PhaseState, string> = {
  Waiting: "bg-line",
  Active: "bg-info",
  Done: "bg-ok",
  Skipped: "bg-ok/40",
  Stalled: "bg-bad",
};

/**
 * A row's way to serving: five segments and `Loading model · 3/5`, or `⚠ <reason>` when a step
 * is stuck (in text, so not colour alone). Nothing once every step is done and it runs.
 */
function ProgressIndicator({ d }: { d: DeploymentStatus }) {
  const s = progressSummary(d);
  if (!s) return null;
  const described = `${s.label}, ${s.done} of ${s.total} steps done${s.stalledReason ? `, stalled: ${s.stalledReason}` : ""}`;
  return (
    <span className="flex max-w-full items-center gap-1.5 text-xs leading-none" title={described}>
      <span aria-hidden="true" className="flex shrink-0 gap-px">
        {s.states.map((state, i) => (
          <span key={i} className={cx("h-1.5 w-2.5 first:rounded-l-full last:rounded-r-full", SEGMENT[state])} />
        ))}
      </span>
      <span className="sr-only">{`Progress: ${described}`}</span>
      <span aria-hidden="true" className={cx("truncate", s.stalledReason ? "font-semibold text-bad" : "text-muted")}>
        {s.stalledReason ? `⚠ ${s.stalledReason}` : `${s.label} · ${s.done}/${s.total}`}
      </span>
    </span>
  );
}
