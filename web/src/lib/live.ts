import type { DeploymentEvent, DeploymentStatus } from "@kubeairunway/shared";

/** Deployments keyed by `namespace/name` (names repeat across namespaces). */
export type DeploymentMap = ReadonlyMap<string, DeploymentStatus>;

/** The key of a deployment. */
export function deploymentKey(d: { namespace: string; name: string }): string {
  return `${d.namespace}/${d.name}`;
}

/** The map after one live event; unchanged input is never mutated. */
export function applyEvent(map: DeploymentMap, event: DeploymentEvent): DeploymentMap {
  switch (event.type) {
    case "snapshot":
      return new Map(event.deployments.map((d) => [deploymentKey(d), d]));
    case "upsert": {
      const next = new Map(map);
      next.set(deploymentKey(event.deployment), event.deployment);
      return next;
    }
    case "delete": {
      const key = deploymentKey(event);
      if (!map.has(key)) return map;
      const next = new Map(map);
      next.delete(key);
      return next;
    }
  }
}

/** Sortable columns of the list. */
export type SortKey = "name" | "namespace" | "model" | "phase" | "age";
/** Sort direction. */
export type SortDir = "asc" | "desc";

/** What the list shows: a namespace (or all), a search text and a sort. */
export interface ListView {
  namespace: string;
  search: string;
  sort: SortKey;
  dir: SortDir;
}

const PHASE_ORDER: Record<string, number> = { Failed: 0, Pending: 1, Deploying: 2, Running: 3, Terminating: 4 };

function compare(a: DeploymentStatus, b: DeploymentStatus, key: SortKey): number {
  switch (key) {
    case "name":
      return a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace);
    case "namespace":
      return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
    case "model":
      return a.modelId.localeCompare(b.modelId) || a.name.localeCompare(b.name);
    case "phase":
      return (PHASE_ORDER[a.phase] ?? 9) - (PHASE_ORDER[b.phase] ?? 9) || a.name.localeCompare(b.name);
    case "age":
      // Ascending age = newest first.
      return b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name);
  }
}

/** The rows to show: filtered by namespace and search (name, model, namespace, provider), sorted. */
export function visibleDeployments(map: DeploymentMap, view: ListView): DeploymentStatus[] {
  const q = view.search.trim().toLowerCase();
  const rows: DeploymentStatus[] = [];
  for (const d of map.values()) {
    if (view.namespace && d.namespace !== view.namespace) continue;
    if (
      q &&
      !d.name.toLowerCase().includes(q) &&
      !d.modelId.toLowerCase().includes(q) &&
      !d.namespace.toLowerCase().includes(q) &&
      !d.provider.toLowerCase().includes(q)
    ) {
      continue;
    }
    rows.push(d);
  }
  const sign = view.dir === "asc" ? 1 : -1;
  rows.sort((a, b) => sign * compare(a, b, view.sort));
  return rows;
}

/** The namespaces present, sorted. */
export function namespacesOf(map: DeploymentMap): string[] {
  return [...new Set([...map.values()].map((d) => d.namespace))].sort();
}
