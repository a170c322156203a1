import type { DeploymentStatus } from "@kubeairunway/shared";

import { useManifest } from "../../api/hooks";
import { CopyButton } from "../../components/CopyButton";

/** `status.endpoint.port` of the ModelDeployment, if the manifest tells. */
function endpointPort(manifest: Record<string, unknown> | undefined): number | null {
  const status = manifest?.status;
  if (typeof status !== "object" || status === null) return null;
  const endpoint = (status as Record<string, unknown>).endpoint;
  if (typeof endpoint !== "object" || endpoint === null) return null;
  const port = (endpoint as Record<string, unknown>).port;
  return typeof port === "number" ? port : null;
}

/** The in-cluster endpoint and a port-forward command, with copy buttons. */
export function AccessPanel({ d }: { d: DeploymentStatus }) {
  // The server reports the port (`endpointPort`); servers without that field leave the
  // manifest's `status.endpoint.port`, which is read only then.
  const reported = d.endpointPort ?? null;
  const manifest = useManifest(d.namespace, d.name, reported === null);
  const port = reported ?? endpointPort(manifest.data?.resources[0]?.manifest) ?? 8000;
  const service = d.frontendService;
  const inCluster = `http://${service}.${d.namespace}.svc.cluster.local:${port}/v1`;
  const forward = `kubectl port-forward svc/${service} 8000:${port} -n ${d.namespace}`;
  return (
    <div className="flex flex-col gap-3 text-sm">
      <div>
        <p className="font-medium">OpenAI-compatible endpoint (inside the cluster)</p>
        <div className="mt-1 flex items-center gap-2">
          <code className="min-w-0 flex-1 rounded bg-surface-2 px-2 py-1.5 text-xs break-all">{inCluster}</code>
          <CopyButton text={inCluster} label="endpoint URL" />
        </div>
      </div>
      <div>
        <p className="font-medium">From your machine</p>
        <div className="mt-1 flex items-center gap-2">
          <code className="min-w-0 flex-1 rounded bg-surface-2 px-2 py-1.5 text-xs break-all">{forward}</code>
          <CopyButton text={forward} label="port-forward command" />
        </div>
        <p className="mt-1 text-xs text-muted">
          Then the model answers at <code>http://localhost:8000/v1</code>
          {d.servedModelName ? (
            <>
              {" "}
              as <code>{d.servedModelName}</code>
            </>
          ) : null}
          .
        </p>
      </div>
    </div>
  );
}
