import type { Engine, HfModelSearchResult, Model } from "@kubeairunway/shared";
import { useDeferredValue, useEffect, useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { useCatalog, useModelPlan, useModelSearch } from "../api/hooks";
import { FitBadge } from "../components/FitBadge";
import { PageHeader } from "../components/PageHeader";
import { Tabs, tabPanelProps, useTabsId } from "../components/Tabs";
import { Badge, Button, EmptyState, ErrorMessage, Loading, cx } from "../components/ui";
import { engineLabel } from "../lib/format";

const ENGINES: Engine[] = ["vllm", "sglang", "trtllm", "llamacpp"];

type Tab = "curated" | "hf";

/** The model catalog: curated models and HuggingFace search, with GPU-fit indicators. */
export default function ModelsPage() {
  const [params, setParams] = useSearchParams();
  const tab: Tab = params.get("tab") === "hf" ? "hf" : "curated";
  const idBase = useTabsId();
  return (
    <div>
      <PageHeader title="Model catalog" subtitle="Choose a model to deploy; the fit is computed against your cluster's GPUs." documentTitle="Models" />
      <Tabs
        label="Model sources"
        idBase={idBase}
        items={[
          { key: "curated", label: "Curated models" },
          { key: "hf", label: "HuggingFace" },
        ]}
        selected={tab}
        onSelect={(key) => {
          setParams(key === "hf" ? { tab: "hf" } : {}, { replace: true });
        }}
      />
      <div {...tabPanelProps(idBase, tab)} className="mt-4 outline-none">
        {tab === "curated" ? <Curated /> : <HuggingFace />}
      </div>
    </div>
  );
}

function Curated() {
  const catalog = useCatalog();
  const [search, setSearch] = useState("");
  const [engines, setEngines] = useState<Engine[]>([]);
  const searchId = useId();
  const q = useDeferredValue(search.trim().toLowerCase());
  const models = useMemo(
    () =>
      (catalog.data?.models ?? []).filter(
        (m) =>
          (!q || m.name.toLowerCase().includes(q) || m.id.toLowerCase().includes(q) || m.description.toLowerCase().includes(q)) &&
          (engines.length === 0 || m.supportedEngines.some((e) => engines.includes(e))),
      ),
    [catalog.data, q, engines],
  );
  if (catalog.isPending) return <Loading label="Loading the catalog…" />;
  if (catalog.isError) return <ErrorMessage title="Could not load the catalog" error={catalog.error} />;
  const total = catalog.data.models.length;
  return (
    <>
      <div className="mb-3 flex flex-wrap items-end gap-4">
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={searchId} className="font-medium">
            Search models
          </label>
          <input
            id={searchId}
            type="search"
            className="w-72 rounded-md border border-line bg-surface px-2 py-1.5"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
            }}
          />
        </div>
        <fieldset className="flex flex-wrap items-center gap-2 text-sm">
          <legend className="mb-1 font-medium">Engines</legend>
          {ENGINES.map((e) => {
            const on = engines.includes(e);
            return (
              <button
                key={e}
                type="button"
                aria-pressed={on}
                className={cx(
                  "rounded-full border px-3 py-1",
                  on ? "border-primary bg-primary text-primary-fg" : "border-line bg-surface hover:bg-surface-2",
                )}
                onClick={() => {
                  setEngines((list) => (on ? list.filter((x) => x !== e) : [...list, e]));
                }}
              >
                {engineLabel(e)}
              </button>
            );
          })}
        </fieldset>
      </div>
      <p role="status" className="mb-3 text-sm text-muted">
        {models.length === total ? `${total} models` : `${models.length} of ${total} models`}
      </p>
      {models.length === 0 ? (
        <EmptyState title="No models match">
          <Button
            onClick={() => {
              setSearch("");
              setEngines([]);
            }}
          >
            Clear filters
          </Button>
        </EmptyState>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          {models.map((m) => (
            <li key={m.id}>
              <CuratedCard model={m} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CuratedCard({ model }: { model: Model }) {
  // llama.cpp-only entries run on CPU; the planner sizes GPU models.
  const gpu = model.minGpus > 0;
  const plan = useModelPlan(model.id, gpu);
  return (
    <article className="flex h-full flex-col gap-2 rounded-lg border border-line bg-surface p-4" aria-labelledby={`m-${model.id}`}>
      <div className="flex items-start justify-between gap-2">
        <h2 id={`m-${model.id}`} className="font-semibold">
          {model.name}
        </h2>
        <Badge>{model.size}</Badge>
      </div>
      <p className="truncate font-mono text-xs text-muted" title={model.id}>
        {model.id}
      </p>
      <p className="line-clamp-2 text-sm">{model.description}</p>
      <div className="flex flex-wrap gap-1">
        {model.supportedEngines.map((e) => (
          <Badge key={e} tone="info">
            {engineLabel(e)}
          </Badge>
        ))}
        {model.gated ? <Badge tone="warn">Gated</Badge> : null}
      </div>
      <div className="text-sm">
        {gpu ? <FitBadge plan={plan.data} loading={plan.isPending} error={plan.error} /> : <Badge>Runs on CPU</Badge>}
      </div>
      <Link
        to={`/deploy/${encodeURIComponent(model.id)}`}
        className="mt-auto rounded-md bg-primary px-3 py-1.5 text-center text-sm font-medium text-primary-fg hover:opacity-90"
        aria-label={`Deploy ${model.name}`}
      >
        Deploy
      </Link>
    </article>
  );
}

function HuggingFace() {
  const [params, setParams] = useSearchParams();
  const initial = params.get("q") ?? "";
  const [text, setText] = useState(initial);
  const [query, setQuery] = useState(initial.trim());
  const inputId = useId();
  // Search half a second after the last keystroke. The timer only sets local state: a search
  // still pending when the user opens another page must not rewrite that page's address.
  useEffect(() => {
    const id = setTimeout(() => {
      setQuery(text.trim());
    }, 500);
    return () => {
      clearTimeout(id);
    };
  }, [text]);
  // The address keeps the text (shareable, restored by Back), written as the user types.
  const onText = (value: string) => {
    setText(value);
    const next = new URLSearchParams(params);
    if (value.trim()) next.set("q", value.trim());
    else next.delete("q");
    setParams(next, { replace: true });
  };

  const search = useModelSearch(query);
  const results = useMemo(() => search.data?.pages.flatMap((p) => p.models) ?? [], [search.data]);
  const last = search.data?.pages.at(-1);

  return (
    <>
      <div className="mb-3 flex flex-col gap-1 text-sm">
        <label htmlFor={inputId} className="font-medium">
          Search HuggingFace
        </label>
        <input
          id={inputId}
          type="search"
          className="w-96 max-w-full rounded-md border border-line bg-surface px-2 py-1.5"
          placeholder="llama, mistral, qwen…"
          value={text}
          onChange={(e) => {
            onText(e.target.value);
          }}
        />
      </div>
      {query.length < 2 ? (
        <p className="text-sm text-muted">Type at least 2 characters. Only models an engine here can serve are listed.</p>
      ) : search.isPending ? (
        <Loading label="Searching compatible models…" />
      ) : search.isError ? (
        <ErrorMessage title="The search failed" error={search.error} />
      ) : results.length === 0 ? (
        <EmptyState title={`No compatible models for “${query}”`}>Try another name or organisation.</EmptyState>
      ) : (
        <>
          <p role="status" className="mb-3 text-sm text-muted">
            Showing {results.length} of {last?.total ?? results.length}
            {last && !last.complete ? "+" : ""} compatible models
          </p>
          <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
            {results.map((m) => (
              <li key={m.id}>
                <HfCard model={m} />
              </li>
            ))}
          </ul>
          {search.hasNextPage ? (
            <div className="mt-4 flex justify-center">
              <Button
                loading={search.isFetchingNextPage}
                loadingText="Loading…"
                onClick={() => {
                  void search.fetchNextPage();
                }}
              >
                Load more
              </Button>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}

function compact(n: number): string {
  return Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

function HfCard({ model }: { model: HfModelSearchResult }) {
  // GGUF repositories run on CPU with llama.cpp; the planner sizes GPU models only.
  const cpuOnly = model.supportedEngines.length > 0 && model.supportedEngines.every((e) => e === "llamacpp");
  return (
    <article className="flex h-full flex-col gap-2 rounded-lg border border-line bg-surface p-4" aria-label={model.id}>
      <h2 className="font-semibold break-all">{model.name}</h2>
      <p className="text-xs text-muted">
        by {model.author} · {compact(model.downloads)} downloads · {compact(model.likes)} likes
      </p>
      <div className="flex flex-wrap gap-1">
        {model.supportedEngines.map((e) => (
          <Badge key={e} tone="info">
            {engineLabel(e)}
          </Badge>
        ))}
        {model.gated ? <Badge tone="warn">Gated</Badge> : null}
      </div>
      <div className="text-sm">{cpuOnly ? <Badge>Runs on CPU</Badge> : <FitBadge plan={model.plan} />}</div>
      <Link
        to={`/deploy/${encodeURIComponent(model.id)}?source=hf`}
        className="mt-auto rounded-md bg-primary px-3 py-1.5 text-center text-sm font-medium text-primary-fg hover:opacity-90"
        aria-label={`Deploy ${model.id}`}
      >
        Deploy
      </Link>
    </article>
  );
}
