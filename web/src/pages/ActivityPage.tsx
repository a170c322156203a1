import type { ActivityAction } from "@kubeairunway/shared";
import { useId, useState, type SubmitEvent } from "react";
import { useSearchParams } from "react-router";

import { ACTIVITY_ACTIONS, useActivity, type ActivityFilters } from "../api/activity";
import { ActivityTable } from "../components/ActivityTable";
import { PageHeader } from "../components/PageHeader";
import { Button, ErrorMessage, Loading } from "../components/ui";

/** Entries per page. */
export const PAGE_SIZE = 25;

function filtersFrom(params: URLSearchParams): ActivityFilters {
  const action = params.get("action") ?? "";
  const offset = Number.parseInt(params.get("offset") ?? "0", 10);
  return {
    namespace: params.get("namespace") ?? "",
    deployment: params.get("deployment") ?? "",
    user: params.get("user") ?? "",
    action: ACTIVITY_ACTIONS.includes(action as ActivityAction) ? (action as ActivityAction) : "",
    limit: PAGE_SIZE,
    offset: Number.isFinite(offset) && offset > 0 ? offset : 0,
  };
}

/** Who changed what through KubeAIRunway, as the user may see it; filters live in the URL. */
export default function ActivityPage() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const activity = useActivity(filters);

  const apply = (next: Partial<ActivityFilters>) => {
    const merged = { ...filters, offset: 0, ...next };
    const search = new URLSearchParams();
    for (const key of ["namespace", "deployment", "user", "action"] as const) {
      if (merged[key]) search.set(key, merged[key]);
    }
    if (merged.offset > 0) search.set("offset", String(merged.offset));
    setParams(search, { replace: true });
  };

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Activity"
        subtitle="Changes made through KubeAIRunway: who made them, when, and how they ended. Kept as long as the cluster keeps Events (one hour by default)."
      />
      <Filters
        key={params.toString()}
        filters={filters}
        onApply={(f) => {
          apply(f);
        }}
      />
      {activity.data ? (
        <ActivityTable
          page={activity.data}
          onOffset={(offset) => {
            apply({ offset });
          }}
        />
      ) : activity.error ? (
        <ErrorMessage title="Could not load the activity" error={activity.error} />
      ) : (
        <Loading label="Loading activity…" />
      )}
      {activity.data && activity.error ? <ErrorMessage title="Could not refresh the activity" error={activity.error} /> : null}
    </div>
  );
}

function Filters({ filters, onApply }: { filters: ActivityFilters; onApply: (f: Partial<ActivityFilters>) => void }) {
  const [draft, setDraft] = useState({
    namespace: filters.namespace,
    deployment: filters.deployment,
    user: filters.user,
    action: filters.action,
  });
  const id = useId();
  const submit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    onApply({
      namespace: draft.namespace.trim(),
      deployment: draft.deployment.trim(),
      user: draft.user.trim(),
      action: draft.action,
    });
  };
  const text = (key: "namespace" | "deployment" | "user", label: string, placeholder: string) => (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={`${id}-${key}`} className="font-medium">
        {label}
      </label>
      <input
        id={`${id}-${key}`}
        className="w-48 rounded-md border border-line bg-surface px-2 py-1.5"
        placeholder={placeholder}
        value={draft[key]}
        onChange={(e) => {
          setDraft({ ...draft, [key]: e.target.value });
        }}
      />
    </div>
  );
  return (
    <form role="search" aria-label="Filter activity" className="flex flex-wrap items-end gap-3" onSubmit={submit}>
      {text("namespace", "Namespace", "All namespaces")}
      {text("deployment", "Deployment", "Any deployment")}
      {text("user", "User", "Anyone")}
      <div className="flex flex-col gap-1 text-sm">
        <label htmlFor={`${id}-action`} className="font-medium">
          Action
        </label>
        <select
          id={`${id}-action`}
          className="rounded-md border border-line bg-surface px-2 py-1.5"
          value={draft.action}
          onChange={(e) => {
            setDraft({ ...draft, action: e.target.value as ActivityAction | "" });
          }}
        >
          <option value="">Any action</option>
          {ACTIVITY_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <Button type="submit" variant="primary">
        Apply
      </Button>
      <Button
        onClick={() => {
          onApply({ namespace: "", deployment: "", user: "", action: "" });
        }}
      >
        Clear
      </Button>
    </form>
  );
}
