import { data, type ActivityAction } from "@kubeairunway/shared";
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api } from "./client";

/** Every action the server records, in the order the filter lists them. */
export const ACTIVITY_ACTIONS: ActivityAction[] = [
  "Create",
  "Scale",
  "Delete",
  "UpdateSettings",
  "Install",
  "Uninstall",
  "UninstallCrds",
  "SaveToken",
  "DeleteToken",
  "Build",
  "SetupBuildInfrastructure",
];

/** The filters and page of `GET /api/activity` (empty strings: no filter). */
export interface ActivityFilters {
  namespace: string;
  deployment: string;
  user: string;
  action: ActivityAction | "";
  limit: number;
  offset: number;
}

/** The query string the filters make: only the filters that are set. */
export function activityQuery(f: ActivityFilters) {
  return {
    ...(f.namespace ? { namespace: f.namespace } : {}),
    ...(f.deployment ? { deployment: f.deployment } : {}),
    ...(f.user ? { user: f.user } : {}),
    ...(f.action ? { action: f.action } : {}),
    limit: f.limit,
    offset: f.offset,
  };
}

/**
 * `GET /api/activity`: recent changes made through the API, newest first, as the server lets
 * the user see them. Refreshed every 15 s; the previous page stays shown while the next loads.
 */
export function useActivity(filters: ActivityFilters) {
  return useQuery({
    queryKey: ["activity", filters] as const,
    queryFn: ({ signal }) => data(api.GET("/api/activity", { params: { query: activityQuery(filters) }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
}
