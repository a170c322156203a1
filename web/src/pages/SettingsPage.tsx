import { isApiError } from "@kubeairunway/shared";
import { useId, useState, type SubmitEvent } from "react";
import { useSearchParams } from "react-router";

import { useClusterStatus, useSettings, useUpdateSettings } from "../api/hooks";
import { PageHeader } from "../components/PageHeader";
import { Tabs, tabPanelProps, useTabsId } from "../components/Tabs";
import { useToast } from "../components/Toasts";
import { Badge, Button, Card, ErrorMessage, Loading } from "../components/ui";
import { Autoscaler } from "./settings/Autoscaler";
import { GpuOperator } from "./settings/GpuOperator";
import { Integrations } from "./settings/Integrations";
import { Runtimes } from "./settings/Runtimes";

type Tab = "general" | "runtimes" | "integrations";
const TABS: { key: Tab; label: string }[] = [
  { key: "general", label: "General" },
  { key: "runtimes", label: "Runtimes" },
  { key: "integrations", label: "Integrations" },
];

function tabOf(value: string | null): Tab {
  return value === "runtimes" || value === "integrations" ? value : "general";
}

/** Settings: General (cluster status, autoscaling, default namespace), Runtimes, Integrations (`?tab=`). */
export default function SettingsPage() {
  const [params, setParams] = useSearchParams();
  const tab = tabOf(params.get("tab"));
  const idBase = useTabsId();
  return (
    <div>
      <PageHeader title="Settings" />
      <Tabs
        label="Settings sections"
        idBase={idBase}
        items={TABS}
        selected={tab}
        onSelect={(key) => {
          setParams(key === "general" ? {} : { tab: key }, { replace: true });
        }}
      />
      <div {...tabPanelProps(idBase, tab)} className="mt-4 flex flex-col gap-4 outline-none">
        {tab === "general" ? (
          <General />
        ) : tab === "runtimes" ? (
          <Runtimes />
        ) : (
          <>
            <GpuOperator />
            <Integrations />
          </>
        )}
      </div>
    </div>
  );
}

function General() {
  const status = useClusterStatus();
  return (
    <>
      <Card title="Cluster">
        {status.isPending ? (
          <Loading label="Checking the cluster…" />
        ) : status.isError ? (
          <ErrorMessage title="Cluster status unavailable" error={status.error} />
        ) : (
          <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="text-muted">Connection</dt>
            <dd>
              {status.data.connected ? <Badge tone="ok">Connected</Badge> : <Badge tone="bad">Disconnected</Badge>}
              {status.data.error ? <span className="ml-2 text-muted">{status.data.error}</span> : null}
            </dd>
            <dt className="text-muted">Cluster</dt>
            <dd className="font-mono">{status.data.clusterName ?? "—"}</dd>
            <dt className="text-muted">CRDs</dt>
            <dd>{status.data.providerInstallation?.message ?? "—"}</dd>
          </dl>
        )}
      </Card>
      <Autoscaler />
      <DefaultNamespace />
    </>
  );
}

const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function DefaultNamespace() {
  const settings = useSettings();
  const update = useUpdateSettings();
  const toast = useToast();
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const stored = settings.data?.config.defaultNamespace;
  const current = typeof stored === "string" ? stored : "";
  const [draft, setDraft] = useState<string | null>(null);
  const value = draft ?? current;
  const invalid = value !== "" && !NAMESPACE.test(value);

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (invalid || value === "") return;
    update.mutate(value, {
      onSuccess: () => {
        setDraft(null);
        toast.show("success", "Default namespace saved", value);
      },
      onError: (error) => {
        toast.show("error", "Could not save the default namespace", error.message);
      },
    });
  };

  return (
    <Card title="Default namespace">
      {settings.isPending ? (
        <Loading label="Loading settings…" />
      ) : settings.isError ? (
        <ErrorMessage
          title={
            isApiError(settings.error) && settings.error.status === 503
              ? "Settings are unavailable while the cluster is unreachable"
              : "Could not load the settings"
          }
          error={settings.error}
        />
      ) : (
        <form onSubmit={onSubmit} className="flex flex-col gap-2 text-sm" noValidate>
          <label htmlFor={inputId} className="font-medium">
            Namespace used when a request names none
          </label>
          <div className="flex flex-wrap gap-2">
            <input
              id={inputId}
              className="w-72 rounded-md border border-line bg-bg px-3 py-1.5 font-mono"
              value={value}
              aria-invalid={invalid || undefined}
              aria-describedby={invalid ? `${hintId} ${errorId}` : hintId}
              onChange={(e) => {
                setDraft(e.target.value);
              }}
            />
            <Button
              type="submit"
              variant="primary"
              loading={update.isPending}
              loadingText="Saving…"
              disabled={invalid || value === "" || value === current}
            >
              Save
            </Button>
          </div>
          <p id={hintId} className="text-muted">
            Lowercase letters, digits and hyphens, at most 63 characters. Stored in the ConfigMap
            kubeairunway-system/kubeairunway-config.
          </p>
          {invalid ? (
            <p id={errorId} role="alert" className="text-bad">
              “{value}” is not a valid namespace name.
            </p>
          ) : null}
        </form>
      )}
    </Card>
  );
}
