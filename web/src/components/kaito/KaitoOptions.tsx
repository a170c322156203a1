import { isApiError } from "@kubeairunway/shared";
import { useId, useState, type ReactNode } from "react";

import { builtImageRef, startBuild, useBuildInfrastructure, useSetupInfrastructure } from "../../api/aikit";
import { kaitoProblem } from "../../lib/kaito";
import { JobPanel } from "../../pages/settings/JobPanel";
import { Badge, Button, ErrorMessage, Spinner, cx } from "../ui";
import type { KaitoState } from "./useKaito";

/**
 * The KAITO options of the deploy form for llama.cpp models: compute type, and either the premade
 * AIKit image (curated `kaito/…` models) or a GGUF file of the HuggingFace repository, run directly
 * or built into an image on the cluster's BuildKit builder with live progress.
 */
export function KaitoOptions({ kaito, modelId, gpus }: { kaito: KaitoState; modelId: string; gpus: number }) {
  const { values, update } = kaito;
  const problem = kaitoProblem(values, gpus);
  return (
    <div className="flex flex-col gap-4 text-sm">
      <fieldset>
        <legend className="mb-2 font-medium">Compute type</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          <Radio name="kaito-compute" checked={values.computeType === "cpu"} onChange={() => { update({ computeType: "cpu" }); }} title="CPU">
            Runs on ordinary nodes with llama.cpp; no GPU needed.
          </Radio>
          <Radio name="kaito-compute" checked={values.computeType === "gpu"} onChange={() => { update({ computeType: "gpu" }); }} title="GPU">
            Offloads layers to GPUs: set the GPUs per replica below.
          </Radio>
        </div>
      </fieldset>
      {values.source === "premade" ? <PremadePicker kaito={kaito} modelId={modelId} /> : <GgufOptions kaito={kaito} modelId={modelId} />}
      {problem ? (
        <p className="text-xs text-warn" data-testid="kaito-problem">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

function PremadePicker({ kaito, modelId }: { kaito: KaitoState; modelId: string }) {
  const id = useId();
  const { premade, values, update } = kaito;
  if (premade.isPending) return <p className="flex items-center gap-2 text-muted"><Spinner /> Loading premade models…</p>;
  if (premade.isError) return <ErrorMessage title="Could not load the premade models" error={premade.error} />;
  const models = premade.data.models;
  const selected = models.find((m) => m.id === values.premadeModel);
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="font-medium">
        Premade model
      </label>
      <select id={id} className="rounded-md border border-line bg-bg px-3 py-1.5" value={values.premadeModel} onChange={(e) => { update({ premadeModel: e.target.value }); }}>
        <option value="">Select a premade model…</option>
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name} {m.size} ({m.id})
          </option>
        ))}
      </select>
      {selected ? (
        <p className="text-xs text-muted">
          Image <code>{selected.image}</code> · {selected.license} license{selected.description ? ` · ${selected.description}` : ""}
        </p>
      ) : (
        <p className="text-xs text-muted">No premade image is named after {modelId}: choose one.</p>
      )}
    </div>
  );
}

function GgufOptions({ kaito, modelId }: { kaito: KaitoState; modelId: string }) {
  const id = useId();
  const { files, values, update } = kaito;
  return (
    <>
      <div className="flex flex-col gap-1">
        <label htmlFor={id} className="font-medium">
          GGUF file
        </label>
        {files.isPending ? (
          <p className="flex items-center gap-2 text-muted"><Spinner /> Loading GGUF files from the repository…</p>
        ) : files.isError ? (
          <ErrorMessage title="Could not list the GGUF files" error={files.error} />
        ) : files.data.files.length === 0 ? (
          <p className="text-muted">No GGUF files found in this repository.</p>
        ) : (
          <>
            <select id={id} className="rounded-md border border-line bg-bg px-3 py-1.5 font-mono" value={values.ggufFile} onChange={(e) => { update({ ggufFile: e.target.value }); }}>
              {files.data.files.map((f) => {
                const size = files.data.sizes[f];
                return (
                  <option key={f} value={f}>
                    {f}
                    {size !== undefined ? ` (${formatBytes(size)})` : ""}
                  </option>
                );
              })}
            </select>
            <p className="text-xs text-muted">Q4_K_M is a good balance of size and quality.</p>
          </>
        )}
      </div>
      <fieldset>
        <legend className="mb-2 font-medium">Run mode</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          <Radio name="kaito-run-mode" checked={values.runMode === "direct"} onChange={() => { update({ runMode: "direct" }); }} title="Direct run" badge={<Badge tone="ok">Recommended</Badge>}>
            The runner downloads the file when the pod starts.
          </Radio>
          <Radio name="kaito-run-mode" checked={values.runMode === "build"} onChange={() => { update({ runMode: "build" }); }} title="Build image">
            Bakes the file into an AIKit image on the cluster&apos;s BuildKit builder first.
          </Radio>
        </div>
      </fieldset>
      {values.runMode === "build" && values.ggufFile ? <BuildImage kaito={kaito} modelId={modelId} /> : null}
    </>
  );
}

function BuildImage({ kaito, modelId }: { kaito: KaitoState; modelId: string }) {
  const { values, update } = kaito;
  const [settingUp, setSettingUp] = useState(false);
  const infra = useBuildInfrastructure(true, settingUp);
  const setup = useSetupInfrastructure();
  const [jobId, setJobId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);
  const built = values.builtImage?.ggufFile === values.ggufFile ? values.builtImage : null;

  const build = async () => {
    setStarting(true);
    setStartError(null);
    try {
      setJobId(await startBuild({ modelSource: "huggingface", modelId, ggufFile: values.ggufFile }));
      setRunning(true);
    } catch (error) {
      setStartError(error);
    } finally {
      setStarting(false);
    }
  };

  if (infra.isPending) return <p className="flex items-center gap-2 text-muted"><Spinner /> Checking the build infrastructure…</p>;
  if (infra.isError) return <ErrorMessage title="Could not check the build infrastructure" error={infra.error} />;
  const state = infra.data;
  return (
    <div className="flex flex-col gap-2 rounded-md border border-line p-3" aria-label="Image build">
      <p className="font-medium">Build infrastructure</p>
      <ul className="text-xs">
        <li>
          <Badge tone={state.registry.ready ? "ok" : "warn"}>{state.registry.ready ? "Ready" : "Not ready"}</Badge> Registry: {state.registry.message}
        </li>
        <li>
          <Badge tone={state.builder.ready ? "ok" : "warn"}>{state.builder.ready ? "Ready" : "Not ready"}</Badge> BuildKit builder: {state.builder.message}
        </li>
      </ul>
      {state.error ? <p className="text-xs text-bad">{state.error}</p> : null}
      {!state.ready ? (
        <div className="flex flex-col gap-2">
          <p className="text-xs">The image is built in the cluster: set up its registry and BuildKit builder first (you need the right to create Deployments in kubeairunway-system).</p>
          <div>
            <Button
              loading={setup.isPending}
              loadingText="Setting up…"
              onClick={() => {
                setSettingUp(true);
                setup.mutate();
              }}
            >
              Set up build infrastructure
            </Button>
          </div>
          {setup.isError ? <ErrorMessage title="Setup did not finish" error={setup.error} /> : null}
        </div>
      ) : (
        <div className="flex flex-wrap items-center gap-2">
          <Button variant={built ? "secondary" : "primary"} loading={starting} loadingText="Starting…" disabled={running} onClick={() => void build()}>
            {built ? "Rebuild image" : "Build image"}
          </Button>
          {built ? (
            <span className="text-xs">
              <Badge tone="ok">Built</Badge> <code>{built.imageRef}</code>
            </span>
          ) : null}
        </div>
      )}
      {startError ? (
        <ErrorMessage title="The build did not start" error={startError}>
          {isApiError(startError) && startError.status === 409 ? <p className="mt-1 text-xs">Set up the build infrastructure, or wait for the running build.</p> : null}
        </ErrorMessage>
      ) : null}
      {jobId ? (
        <JobPanel
          jobId={jobId}
          label={values.ggufFile}
          headingLevel={4}
          onEnd={(progress) => {
            setRunning(false);
            if (progress.state !== "succeeded") return;
            const file = values.ggufFile;
            void builtImageRef(progress.jobId).then((imageRef) => {
              if (imageRef) update({ builtImage: { imageRef, ggufFile: file } });
            });
          }}
          onClose={() => {
            setJobId(null);
          }}
        />
      ) : null}
    </div>
  );
}

function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? "B"}`;
}

function Radio({ name, checked, onChange, title, badge, children }: { name: string; checked: boolean; onChange: () => void; title: string; badge?: ReactNode; children: ReactNode }) {
  return (
    <label className={cx("flex cursor-pointer gap-2 rounded-md border p-3 has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-primary", checked ? "border-primary bg-info-soft" : "border-line")}>
      <input type="radio" className="mt-1" name={name} checked={checked} onChange={onChange} />
      <span className="flex flex-col gap-1">
        <span className="flex flex-wrap items-center gap-2 font-medium">
          {title} {badge}
        </span>
        <span className="text-xs text-muted">{children}</span>
      </span>
    </label>
  );
}
