import type { DeploymentStatus } from "@kubeairunway/shared";
import { useId, useMemo, useState } from "react";

import { useManifest } from "../../api/hooks";
import { CopyButton } from "../../components/CopyButton";
import { Tabs, tabPanelProps, useTabsId } from "../../components/Tabs";
import { Button, Card, ErrorMessage, Loading } from "../../components/ui";
import { downloadText } from "../../lib/download";
import { toYaml } from "../../lib/yaml";

type Format = "yaml" | "json";

/** The ModelDeployment and the objects its provider created, as YAML or JSON. */
export function ManifestPanel({ d }: { d: DeploymentStatus }) {
  const manifest = useManifest(d.namespace, d.name);
  const [format, setFormat] = useState<Format>("yaml");
  const [index, setIndex] = useState(0);
  const idBase = useTabsId();
  const selectId = useId();
  const resources = manifest.data?.resources ?? [];
  const resource = resources[index] ?? resources[0];
  const text = useMemo(() => {
    if (!resource) return "";
    return format === "yaml" ? toYaml(resource.manifest) : `${JSON.stringify(resource.manifest, null, 2)}\n`;
  }, [resource, format]);

  if (manifest.isPending) return <Loading label="Loading the manifest…" />;
  if (manifest.isError) return <ErrorMessage title="Could not load the manifest" error={manifest.error} />;

  const filename = resource ? `${resource.kind.toLowerCase()}-${resource.name}.${format}` : `${d.name}.${format}`;
  return (
    <Card
      title="Manifest"
      actions={
        <div className="flex gap-2">
          <CopyButton text={text} label={`${format.toUpperCase()} manifest`} />
          <Button
            onClick={() => {
              downloadText(filename, text, format === "yaml" ? "application/yaml" : "application/json");
            }}
          >
            Download
          </Button>
        </div>
      }
    >
      {manifest.data.warnings?.map((w) => (
        <p key={w} className="mb-2 rounded-md border border-warn/40 bg-warn-soft p-2 text-sm">
          {w}
        </p>
      ))}
      <div className="mb-3 flex flex-wrap items-end gap-4">
        {resources.length > 1 ? (
          <div className="flex flex-col gap-1 text-sm">
            <label htmlFor={selectId} className="font-medium">
              Object
            </label>
            <select
              id={selectId}
              className="rounded-md border border-line bg-surface px-2 py-1.5"
              value={index}
              onChange={(e) => {
                setIndex(Number(e.target.value));
              }}
            >
              {resources.map((r, i) => (
                <option key={`${r.kind}/${r.name}`} value={i}>
                  {r.kind} {r.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <Tabs
          label="Manifest format"
          idBase={idBase}
          items={[
            { key: "yaml", label: "YAML" },
            { key: "json", label: "JSON" },
          ]}
          selected={format}
          onSelect={setFormat}
        />
      </div>
      <pre {...tabPanelProps(idBase, format)} className="max-h-[36rem] overflow-auto rounded-md border border-line bg-surface-2 p-3 font-mono text-xs">
        {text}
      </pre>
    </Card>
  );
}
