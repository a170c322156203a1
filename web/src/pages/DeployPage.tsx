import { data, type Engine, type ManifestResponse, type ModelPlan } from "@kubeairunway/shared";
import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode, type SubmitEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";

import { api } from "../api/client";
import {
  useCatalogModel,
  useCreateDeployment,
  useGpuCapacity,
  useModelPlan,
  usePreviewDeployment,
  useRuntimes,
  useSettings,
} from "../api/hooks";
import AIConfiguratorPanel from "../components/AIConfiguratorPanel";
import { FitBadge } from "../components/FitBadge";
import { AutoscalerHint } from "./deploy/AutoscalerHint";
import { CostEstimate } from "./deploy/CostEstimate";
import { SchedulePanel } from "./deploy/SchedulePanel";
import { KaitoOptions } from "../components/kaito/KaitoOptions";
import { useKaito } from "../components/kaito/useKaito";
import { PageHeader } from "../components/PageHeader";
import { useToast } from "../components/Toasts";
import { Badge, Button, Card, ErrorMessage, Loading, cx } from "../components/ui";
import { systemForGpuType, type AppliedAIConfig } from "../lib/aiconfigurator";
import { bestGpu } from "../lib/fit";
import { actionFailure } from "../lib/failure";
import { engineLabel } from "../lib/format";
import {
  capacityWarnings,
  deploymentName,
  providerRuns,
  toRequest,
  validate,
  type DeployFormValues,
} from "../lib/deployForm";
import { kaitoProblem, withKaito } from "../lib/kaito";
import { toYaml } from "../lib/yaml";

/** What the form needs to know about the model, from the catalog or a HuggingFace search. */
interface ModelInfo {
  id: string;
  name: string;
  description?: string;
  engines: Engine[];
  gated: boolean;
  minGpus: number;
  contextLength?: number | null;
}

/** A HuggingFace model by exact id (the search endpoint is the only source of its engines). */
function useHfModel(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ["hf-model", id],
    queryFn: async ({ signal }) => {
      const result = await data(api.GET("/api/models/search", { params: { query: { q: id, limit: 10 } }, signal }));
      return result.models.find((m) => m.id.toLowerCase() === id.toLowerCase()) ?? null;
    },
    enabled,
    staleTime: 60_000,
  });
}

/** The deploy form for one model (`/deploy/:modelId`, `?source=hf` for HuggingFace models). */
export default function DeployPage() {
  const { modelId = "" } = useParams();
  const [params] = useSearchParams();
  const fromHf = params.get("source") === "hf";
  const curated = useCatalogModel(modelId, !fromHf);
  const hf = useHfModel(modelId, fromHf);
  const source = fromHf ? hf : curated;

  let model: ModelInfo | null = null;
  if (!fromHf && curated.data) {
    const m = curated.data;
    model = { id: m.id, name: m.name, description: m.description, engines: m.supportedEngines, gated: m.gated === true, minGpus: m.minGpus, contextLength: m.contextLength ?? null };
  } else if (fromHf && hf.data) {
    const m = hf.data;
    model = { id: m.id, name: m.id, engines: m.supportedEngines, gated: m.gated, minGpus: m.supportedEngines.includes("llamacpp") && m.supportedEngines.length === 1 ? 0 : 1, contextLength: m.plan?.modelMaxContextLength ?? null };
  }

  return (
    <div>
      <p className="mb-2 text-sm">
        <Link className="text-primary underline" to={fromHf ? "/?tab=hf" : "/"}>
          ← Model catalog
        </Link>
      </p>
      <PageHeader title="Deploy model" subtitle={<span className="font-mono">{modelId}</span>} documentTitle={`Deploy ${modelId}`} />
      {source.isPending ? (
        <Loading label="Loading the model…" />
      ) : source.isError ? (
        <ErrorMessage title="Could not load the model" error={source.error} />
      ) : model === null ? (
        <ErrorMessage title="Model not found">
          <p className="mt-1">
            <Link className="text-primary underline" to="/">
              Back to the catalog
            </Link>
          </p>
        </ErrorMessage>
      ) : (
        <DeployForm key={model.id} model={model} />
      )}
    </div>
  );
}

function DeployForm({ model }: { model: ModelInfo }) {
  const settings = useSettings();
  const runtimes = useRuntimes();
  const capacity = useGpuCapacity();
  const plan = useModelPlan(model.id, model.minGpus > 0);
  const create = useCreateDeployment();
  const preview = usePreviewDeployment();
  const toast = useToast();
  const navigate = useNavigate();
  const formRef = useRef<HTMLFormElement>(null);
  const ids = { name: useId(), namespace: useId(), replicas: useId(), gpus: useId(), context: useId(), errors: useId() };

  const defaultNamespace = typeof settings.data?.config.defaultNamespace === "string" ? settings.data.config.defaultNamespace : "default";
  const recommended = recommendation(plan.data, model);
  const [name, setName] = useState(() => deploymentName(model.id));
  const [namespace, setNamespace] = useState<string | null>(null);
  const [provider, setProvider] = useState("");
  const [engine, setEngine] = useState<Engine>(model.engines[0] ?? "vllm");
  const [replicas, setReplicas] = useState("1");
  const [gpus, setGpus] = useState<string | null>(null);
  const [contextLength, setContextLength] = useState("");
  const [enforceEager, setEnforceEager] = useState(false);
  const [enablePrefixCaching, setEnablePrefixCaching] = useState(false);
  const [trustRemoteCode, setTrustRemoteCode] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const [aic, setAic] = useState<AppliedAIConfig | null>(null);

  const values: DeployFormValues = {
    name,
    namespace: namespace ?? defaultNamespace,
    modelId: model.id,
    engine,
    provider,
    replicas: Number(replicas),
    gpus: Number(gpus ?? String(recommended.gpus)),
    contextLength,
    enforceEager,
    enablePrefixCaching,
    trustRemoteCode,
    gated: model.gated,
    disaggregated: aic?.prefill && aic.decode ? { prefill: aic.prefill, decode: aic.decode } : undefined,
    engineArgs: aic?.engineArgs,
  };
  const applyAic = (c: AppliedAIConfig) => {
    setAic(c);
    if (c.engine && model.engines.includes(c.engine)) setEngine(c.engine);
    setContextLength(String(c.contextLength));
    if (c.mode === "aggregated") {
      setReplicas(String(c.replicas));
      setGpus(String(c.gpusPerReplica));
    }
  };
  const aicSystem = systemForGpuType(plan.data ? bestGpu(plan.data)?.gpuType : undefined);
  // KAITO with llama.cpp: premade image, GGUF file, run mode, compute type (components/kaito).
  const kaitoActive = provider === "kaito" && engine === "llamacpp";
  const kaito = useKaito(model.id, kaitoActive);
  const kaitoBlocker = kaitoActive ? kaitoProblem(kaito.values, values.gpus) : null;
  const request = () => (kaitoActive ? withKaito(toRequest(values), kaito.values) : toRequest(values));
  const errors = validate(values);
  const hasErrors = Object.keys(errors).length > 0 || kaitoBlocker !== null;
  const warnings = capacityWarnings(capacity.data, values.gpus, values.replicas);
  const engines = model.engines.filter((e) => !provider || providerRuns(provider, e));

  const submit = (e?: SubmitEvent<HTMLFormElement>) => {
    e?.preventDefault();
    setSubmitted(true);
    if (hasErrors || create.isPending) return;
    create.mutate(request(), {
      onSuccess: (result) => {
        const extra = "warnings" in result && result.warnings?.length ? ` ${result.warnings.join(" ")}` : "";
        toast.show("success", "Deployment created", `${values.namespace}/${values.name} is starting.${extra}`);
        void navigate(`/deployments/${encodeURIComponent(values.name)}?namespace=${encodeURIComponent(values.namespace)}`);
      },
      onError: (error) => {
        const failure = actionFailure("create", values.name, values.namespace, error, "Deployment failed");
        toast.show("error", failure.title, failure.message);
      },
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLFormElement>) => {
    if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      formRef.current?.requestSubmit();
    }
  };

  const input = "rounded-md border border-line bg-bg px-3 py-1.5";
  const fieldError = (key: keyof typeof errors) => (submitted || key !== "name" ? errors[key] : undefined);

  return (
    <form ref={formRef} onSubmit={submit} onKeyDown={onKeyDown} noValidate className="flex flex-col gap-4" aria-describedby={ids.errors}>
      <Card title={model.name}>
        {model.description ? <p className="text-sm">{model.description}</p> : null}
        <div className="mt-2 flex flex-wrap gap-2">
          {model.gated ? <Badge tone="warn">Gated: needs a HuggingFace token (Settings → Integrations)</Badge> : null}
          {model.contextLength ? <Badge>Context {model.contextLength.toLocaleString()}</Badge> : null}
        </div>
        {model.minGpus > 0 ? (
          <div className="mt-3 text-sm">
            <FitBadge plan={plan.data} loading={plan.isPending} error={plan.error} />
          </div>
        ) : null}
      </Card>

      <Card title="Runtime">
        {runtimes.isPending ? (
          <Loading label="Loading runtimes…" />
        ) : (
          <fieldset>
            <legend className="sr-only">Runtime</legend>
            <div className="grid gap-2 sm:grid-cols-2 lg:grid-cols-3">
              <Choice name="provider" value="" checked={provider === ""} onChange={setProvider} title="Automatic" badge={<Badge>Controller chooses</Badge>}>
                The controller picks a provider that can run this engine.
              </Choice>
              {(runtimes.data?.runtimes ?? []).map((r) => {
                const compatible = model.engines.some((e) => providerRuns(r.id, e));
                return (
                  <Choice
                    key={r.id}
                    name="provider"
                    value={r.id}
                    checked={provider === r.id}
                    disabled={!compatible}
                    onChange={(v) => {
                      setProvider(v);
                      if (!providerRuns(v, engine)) {
                        const first = model.engines.find((e) => providerRuns(v, e));
                        if (first) setEngine(first);
                      }
                    }}
                    title={r.name}
                    badge={
                      !compatible ? <Badge>Not compatible</Badge> : r.healthy ? <Badge tone="ok">Ready</Badge> : <Badge tone="warn">Not ready</Badge>
                    }
                  >
                    {compatible ? r.message : `Cannot run ${model.engines.map(engineLabel).join(" or ")}.`}
                  </Choice>
                );
              })}
            </div>
            {runtimes.isError ? <p className="mt-2 text-sm text-muted">Runtimes unavailable: {runtimes.error.message}</p> : null}
          </fieldset>
        )}
      </Card>

      {model.minGpus > 0 ? (
        <AIConfiguratorPanel
          modelId={model.id}
          defaultSystem={aicSystem}
          defaultGpuCount={capacity.data?.maxNodeGpuCapacity || recommended.gpus}
          applied={aic}
          onApply={applyAic}
          onDiscard={() => { setAic(null); }}
          onChangeDisaggregated={(prefill, decode) => { if (aic) setAic({ ...aic, prefill, decode }); }}
        />
      ) : null}

      <Card title="Engine">
        <fieldset>
          <legend className="sr-only">Inference engine</legend>
          <div className="flex flex-wrap gap-2">
            {model.engines.map((e) => (
              <Choice key={e} name="engine" value={e} checked={engine === e} disabled={!engines.includes(e)} onChange={(v) => { setEngine(v as Engine); }} title={engineLabel(e)} />
            ))}
          </div>
        </fieldset>
      </Card>

      {kaitoActive ? (
        <Card title="KAITO model configuration">
          <KaitoOptions kaito={kaito} modelId={model.id} gpus={values.gpus} />
        </Card>
      ) : null}

      <Card title="Deployment">
        <div className="grid gap-4 sm:grid-cols-2">
          <Field id={ids.name} label="Name" error={fieldError("name")} hint="Becomes the Service name: lower case, starts with a letter.">
            <input id={ids.name} className={cx(input, "font-mono")} value={name} onChange={(e) => { setName(e.target.value); }} aria-invalid={fieldError("name") ? true : undefined} aria-describedby={`${ids.name}-hint ${ids.name}-error`} />
          </Field>
          <Field id={ids.namespace} label="Namespace" error={fieldError("namespace")}>
            <input id={ids.namespace} className={cx(input, "font-mono")} value={values.namespace} onChange={(e) => { setNamespace(e.target.value); }} aria-invalid={fieldError("namespace") ? true : undefined} aria-describedby={`${ids.namespace}-error`} />
          </Field>
          <Field id={ids.replicas} label="Replicas" error={fieldError("replicas")}>
            <input id={ids.replicas} className={input} type="number" min={0} max={100} inputMode="numeric" value={replicas} onChange={(e) => { setReplicas(e.target.value); }} aria-invalid={fieldError("replicas") ? true : undefined} aria-describedby={`${ids.replicas}-error`} />
          </Field>
          <Field id={ids.gpus} label="GPUs per replica" error={fieldError("gpus")} hint={`Recommended: ${recommended.gpus}. ${recommended.reason}`}>
            <input id={ids.gpus} className={input} type="number" min={0} max={64} inputMode="numeric" value={gpus ?? String(recommended.gpus)} onChange={(e) => { setGpus(e.target.value); }} aria-invalid={fieldError("gpus") ? true : undefined} aria-describedby={`${ids.gpus}-hint ${ids.gpus}-error`} />
          </Field>
        </div>
        <details className="mt-4 rounded-md border border-line p-3">
          <summary className="cursor-pointer text-sm font-medium">Advanced options</summary>
          <div className="mt-3 grid gap-3 sm:grid-cols-2">
            <Field id={ids.context} label="Context length (tokens, optional)" error={fieldError("contextLength")}>
              <input id={ids.context} className={input} inputMode="numeric" placeholder={model.contextLength ? String(model.contextLength) : "Engine default"} value={contextLength} onChange={(e) => { setContextLength(e.target.value); }} aria-describedby={`${ids.context}-error`} />
            </Field>
            <div className="flex flex-col gap-2 text-sm">
              <Check checked={enforceEager} onChange={setEnforceEager} disabled={engine !== "vllm" && engine !== "sglang"}>Enforce eager mode (no CUDA graphs: starts faster, runs slower)</Check>
              <Check checked={enablePrefixCaching} onChange={setEnablePrefixCaching} disabled={engine !== "vllm"}>Enable prefix caching (vLLM)</Check>
              <Check checked={trustRemoteCode} onChange={setTrustRemoteCode}>Trust remote code from the model repository</Check>
            </div>
          </div>
        </details>
      </Card>

      <CostEstimate plan={plan.data} gpus={values.gpus} replicas={values.replicas} valid={!errors.gpus && !errors.replicas} />

      <div role="status" aria-live="polite">
        {warnings.length > 0 ? (
          <div className="rounded-md border border-warn/50 bg-warn-soft p-3 text-sm">
            <p className="font-semibold">Capacity warning</p>
            <ul className="mt-1 list-disc pl-5">
              {warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
            <AutoscalerHint capacity={capacity.data} gpus={values.gpus} replicas={values.replicas} short={warnings.length > 0} />
          </div>
        ) : null}
      </div>

      <div id={ids.errors} role="alert">
        {submitted && hasErrors ? <p className="text-sm text-bad">{kaitoBlocker ?? "Fix the highlighted fields first."}</p> : null}
      </div>

      <div className="flex flex-wrap items-center gap-2">
        <Button type="submit" variant="primary" loading={create.isPending} loadingText="Deploying…">
          Deploy
        </Button>
        <Button
          loading={preview.isPending}
          loadingText="Previewing…"
          disabled={hasErrors}
          onClick={() => {
            preview.mutate(request());
          }}
        >
          Preview manifest
        </Button>
        <Link to="/" className="px-3 py-1.5 text-sm text-primary underline">
          Cancel
        </Link>
        <span className="text-xs text-muted">
          <kbd className="rounded border border-line px-1">Ctrl</kbd>/<kbd className="rounded border border-line px-1">⌘</kbd>+
          <kbd className="rounded border border-line px-1">Enter</kbd> deploys
        </span>
      </div>

      {preview.isError ? <ErrorMessage title="The API server refused this manifest" error={preview.error} /> : null}
      {preview.data ? (
        <SchedulePanel
          manifest={preview.data}
          onUseGpus={(n) => {
            setGpus(String(n));
          }}
        />
      ) : null}
      {preview.data ? <Preview manifest={preview.data} /> : null}
    </form>
  );
}

function recommendation(plan: ModelPlan | undefined, model: ModelInfo): { gpus: number; reason: string } {
  if (model.minGpus === 0) return { gpus: 0, reason: "This model runs on CPU." };
  const best = plan ? bestGpu(plan) : undefined;
  if (best?.gpusNeeded) return { gpus: best.gpusNeeded, reason: best.reason };
  return { gpus: Math.max(1, model.minGpus), reason: "The catalog's minimum for this model." };
}

function Preview({ manifest }: { manifest: ManifestResponse }) {
  const text = useMemo(() => manifest.resources.map((r) => toYaml(r.manifest)).join("---\n"), [manifest]);
  return (
    <Card title="Manifest preview (server-side dry run)">
      {manifest.selection ? <SelectionLine selection={manifest.selection} /> : null}
      {manifest.warnings?.map((w) => (
        <p key={w} className="mb-2 text-sm text-warn">
          {w}
        </p>
      ))}
      <pre tabIndex={0} className="max-h-96 overflow-auto rounded-md bg-surface-2 p-3 font-mono text-xs">
        {text}
      </pre>
    </Card>
  );
}

/** What the controller will choose, decided by its own rules over the registered providers. */
function SelectionLine({ selection }: { selection: NonNullable<ManifestResponse["selection"]> }) {
  if (!selection.provider) {
    return <p className="mb-2 text-sm text-bad">The controller will not choose a provider: {selection.message}</p>;
  }
  return (
    <p className="mb-2 text-sm">
      The controller will serve this with <strong>{selection.engine ?? "an engine it selects"}</strong> on the{" "}
      <strong>{selection.provider}</strong> provider
      {selection.providerReason ? <span className="text-muted"> ({selection.providerReason})</span> : null}.
    </p>
  );
}

function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string | undefined; hint?: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={id} className="font-medium">
        {label}
      </label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-muted">
          {hint}
        </p>
      ) : null}
      <p id={`${id}-error`} className="text-xs text-bad">
        {error ?? ""}
      </p>
    </div>
  );
}

function Choice({
  name,
  value,
  checked,
  disabled = false,
  onChange,
  title,
  badge,
  children,
}: {
  name: string;
  value: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (value: string) => void;
  title: string;
  badge?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <label
      className={cx(
        "flex cursor-pointer gap-2 rounded-md border p-3 text-sm has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-primary",
        checked ? "border-primary bg-info-soft" : "border-line",
        disabled && "cursor-not-allowed opacity-50",
      )}
    >
      <input type="radio" className="mt-1" name={name} value={value} checked={checked} disabled={disabled} onChange={() => { onChange(value); }} />
      <span className="flex flex-col gap-1">
        <span className="flex flex-wrap items-center gap-2 font-medium">
          {title} {badge}
        </span>
        {children ? <span className="text-xs text-muted">{children}</span> : null}
      </span>
    </label>
  );
}

function Check({ checked, onChange, disabled = false, children }: { checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; children: ReactNode }) {
  return (
    <label className={cx("flex items-start gap-2", disabled && "opacity-50")}>
      <input type="checkbox" className="mt-0.5" checked={checked && !disabled} disabled={disabled} onChange={(e) => { onChange(e.target.checked); }} />
      <span>{children}</span>
    </label>
  );
}
