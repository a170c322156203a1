import type { DeploymentStatus } from "@kubeairunway/shared";
import { useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { deploymentKey } from "../lib/live";
import { keys, useDeployment } from "./hooks";
import { followDeploymentEvents, type LiveStatus } from "./useLiveDeployments";

/** What {@link useLiveDeployment} returns. */
export interface LiveDeployment {
  /** The deployment's query; the stream writes into its cache entry. */
  query: UseQueryResult<DeploymentStatus>;
  /** The stream's connection state ("live": no polling). */
  status: LiveStatus;
  /** The stream said the deployment is gone (deleted while viewed). */
  deleted: boolean;
}

/** Stream state, tagged with the deployment it belongs to so a route change starts clean. */
interface StreamState {
  key: string;
  status: LiveStatus;
  deleted: boolean;
}

/**
 * One deployment kept current over the live stream of its namespace (the server filters by
 * namespace, not by name): `upsert`s of it replace the cached `GET /api/deployments/{name}`
 * answer, a `delete` of it (or a fresh snapshot without it) marks it deleted. The query polls
 * only while the stream is not live (connecting, reconnecting, or refused, e.g. a user who may
 * read the deployment but not list the namespace).
 */
export function useLiveDeployment(namespace: string, name: string): LiveDeployment {
  const qc = useQueryClient();
  const key = deploymentKey({ namespace, name });
  const [stream, setStream] = useState<StreamState>({ key, status: "connecting", deleted: false });
  const current: StreamState = stream.key === key ? stream : { key, status: "connecting", deleted: false };
  const query = useDeployment(namespace, name, {
    enabled: namespace !== "",
    poll: current.status !== "live" && !current.deleted,
  });

  useEffect(() => {
    if (!namespace) return;
    const queryKey = keys.deployment(namespace, name);
    const update = (patch: Partial<StreamState>) => {
      setStream((s) => ({ ...(s.key === key ? s : { key, status: "connecting", deleted: false }), ...patch }));
    };
    // Whether this stream has reported the deployment, so its absence from a later snapshot
    // (after a reconnect) means it was deleted meanwhile.
    let seen = false;
    const found = (d: DeploymentStatus) => {
      seen = true;
      qc.setQueryData(queryKey, d);
      update({ deleted: false });
    };
    const gone = () => {
      seen = false;
      void qc.cancelQueries({ queryKey });
      update({ deleted: true });
    };
    const isThis = (d: { namespace: string; name: string }) => d.namespace === namespace && d.name === name;
    return followDeploymentEvents(namespace, {
      onStatus: (status) => {
        update({ status });
      },
      onEvent: (event) => {
        switch (event.type) {
          case "snapshot": {
            const d = event.deployments.find(isThis);
            if (d) found(d);
            else if (seen) gone();
            // Never streamed: it may have gone between the GET and this snapshot, or the GET
            // is still on its way; let a fresh GET decide (unless it already said 404).
            else if (qc.getQueryState(queryKey)?.status !== "error") void qc.invalidateQueries({ queryKey });
            break;
          }
          case "upsert":
            if (isThis(event.deployment)) found(event.deployment);
            break;
          case "delete":
            if (isThis(event)) gone();
            break;
        }
      },
    });
  }, [qc, key, namespace, name]);

  return { query, status: current.status, deleted: current.deleted };
}
