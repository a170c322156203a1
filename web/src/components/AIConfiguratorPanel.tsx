import { data, type AIConfiguratorAnalysis } from "@kubeairunway/shared";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";

import { api } from "../api/client";
import { AIC_GPU_TYPES, toApplied, type AppliedAIConfig } from "../lib/aiconfigurator";
import { engineLabel } from "../lib/format";
import { Badge, Button, Card, ErrorMessage, Spinner, cx } from "./ui";

export interface AIConfiguratorPanelProps {
  modelId: string;
  /** The AI Configurator system to start with (from the cluster's GPUs), if it has data for one. */
  defaultSystem?: string | undefined;
  /** GPUs to plan for at first (the cluster's GPUs). */
  defaultGpuCount: number;
  /** The settings the form currently holds from this panel (null: none applied). */
  applied: AppliedAIConfig | null;
  onApply: (config: AppliedAIConfig) => void;
  /** Forget the applied settings (the form returns to aggregated serving). */
  onDiscard: () => void;
  /** Prefill/decode workers edited after applying. */
  onChangeDisaggregated: (prefill: { replicas: number; gpus: number }, decode: { replicas: number; gpus: number }) => void;
}

/** `GET /api/aiconfigurator/status`, checked once a minute at most. */
function useAIConfiguratorStatus() {
  return useQuery({
    queryKey: ["aiconfigurator-status"],
    queryFn: ({ signal }) => data(api.GET("/api/aiconfigurator/status", { signal })),
    staleTime: 60_000,
    retry: 1,
  });
}

/**
 * "Optimise with AI Configurator": NVIDIA's AI Configurator searches tensor parallelism, batch
 * size, replicas and aggregated vs prefill/decode disaggregated serving for the model on a GPU
 * type, and **Apply** fills the deploy form with the result.
 */
export default function AIConfiguratorPanel(props: AIConfiguratorPanelProps) {
  const status = useAIConfiguratorStatus();
  const ids = { gpu: useId(), count: useId(), latency: useId() };
  // Until the user picks, follow the defaults (the cluster's GPUs load after the panel).
  const [pickedSystem, setSystem] = useState<string | null>(null);
  const [pickedCount, setGpuCount] = useState<string | null>(null);
  const system = pickedSystem ?? props.defaultSystem ?? "h100_sxm";
  const gpuCount = pickedCount ?? String(Math.max(1, props.defaultGpuCount));
  const [optimizeFor, setOptimizeFor] = useState<"throughput" | "latency">("throughput");
  const [maxLatency, setMaxLatency] = useState("");
  const analyze = useMutation({
    mutationFn: () =>
      data(
        api.POST("/api/aiconfigurator/analyze", {
          body: {
            modelId: props.modelId,
            gpuType: system,
            gpuCount: Number(gpuCount),
            optimizeFor,
            ...(maxLatency ? { maxLatencyMs: Number(maxLatency) } : {}),
          },
        }),
      ),
  });

  if (status.isPending) return null;
  if (status.isSuccess && status.data.runningInCluster) return null;
  const title = (
    <span className="flex items-center gap-2">
      Optimise with AI Configurator <Badge>NVIDIA</Badge>
    </span>
  );
  if (status.isError || !status.data.available) {
    return (
      <Card title={title} className="border-dashed">
        <p className="text-sm">
          <Badge tone="warn">Unavailable</Badge>{" "}
          {status.isError ? status.error.message : (status.data.error ?? "AI Configurator is not installed.")}
        </p>
        <p className="mt-2 text-xs text-muted">
          Install it with <code className="font-mono">make aiconfigurator</code> and start the server with{" "}
          <code className="font-mono">AICONFIGURATOR_PATH</code>, or see{" "}
          <a className="text-primary underline" href="https://github.com/ai-dynamo/aiconfigurator" target="_blank" rel="noreferrer">
            the installation instructions
          </a>
          .
        </p>
      </Card>
    );
  }

  const countValid = /^[1-9]\d{0,3}$/.test(gpuCount) && Number(gpuCount) <= 1024;
  const latencyValid = maxLatency === "" || (Number(maxLatency) > 0 && Number(maxLatency) <= 600_000);
  const input = "rounded-md border border-line bg-bg px-3 py-1.5";
  const result = analyze.data;

  return (
    <Card title={title}>
      <p className="text-sm text-muted">
        Searches parallelism, batch size, replicas and aggregated vs. disaggregated (prefill/decode) serving for{" "}
        <span className="font-mono">{props.modelId}</span> with AI Configurator {status.data.version ?? ""}, then fills in the form.
      </p>
      <div className="mt-3 grid gap-3 sm:grid-cols-4">
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={ids.gpu} className="font-medium">
            GPU type
          </label>
          <select id={ids.gpu} className={input} value={system} onChange={(e) => { setSystem(e.target.value); }}>
            {AIC_GPU_TYPES.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={ids.count} className="font-medium">
            GPUs available
          </label>
          <input id={ids.count} className={input} type="number" min={1} max={1024} inputMode="numeric" value={gpuCount} onChange={(e) => { setGpuCount(e.target.value); }} aria-invalid={countValid ? undefined : true} />
        </div>
        <fieldset className="flex flex-col gap-1 text-sm">
          <legend className="font-medium">Optimise for</legend>
          <div className="flex gap-3 pt-1.5">
            {(["throughput", "latency"] as const).map((o) => (
              <label key={o} className="flex items-center gap-1">
                <input type="radio" name="aic-optimize" value={o} checked={optimizeFor === o} onChange={() => { setOptimizeFor(o); }} />
                {o === "throughput" ? "Throughput" : "Latency"}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={ids.latency} className="font-medium">
            Max time to first token (ms, optional)
          </label>
          <input id={ids.latency} className={input} inputMode="numeric" placeholder="2000" value={maxLatency} onChange={(e) => { setMaxLatency(e.target.value); }} aria-invalid={latencyValid ? undefined : true} />
        </div>
      </div>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <Button
          variant="primary"
          loading={analyze.isPending}
          loadingText="Analysing…"
          disabled={!countValid || !latencyValid}
          onClick={() => {
            analyze.mutate();
          }}
        >
          {result ? "Re-analyse" : "Optimise"}
        </Button>
        {props.applied ? (
          <Button variant="ghost" onClick={props.onDiscard}>
            Discard applied settings
          </Button>
        ) : null}
      </div>
      <div role="status" aria-live="polite" className="mt-3">
        {analyze.isPending ? (
          <p className="flex items-center gap-2 text-sm text-muted">
            <Spinner /> AI Configurator is simulating aggregated and disaggregated configurations (usually 15–60 s)…
          </p>
        ) : null}
        {props.applied ? (
          <p className="text-sm text-ok">
            Applied: {props.applied.mode === "disaggregated" ? "disaggregated serving" : `${props.applied.replicas} × ${props.applied.gpusPerReplica} GPU`}
            {props.applied.engine ? `, ${engineLabel(props.applied.engine)}` : ""}, context {props.applied.contextLength.toLocaleString()} tokens.
          </p>
        ) : null}
      </div>
      {analyze.isError ? <ErrorMessage title="The analysis failed" error={analyze.error} /> : null}
      {result ? <Result result={result} onApply={() => { props.onApply(toApplied(result)); }} /> : null}
      {props.applied?.prefill && props.applied.decode ? (
        <DisaggregatedFields prefill={props.applied.prefill} decode={props.applied.decode} onChange={props.onChangeDisaggregated} />
      ) : null}
    </Card>
  );
}

function Result({ result, onApply }: { result: AIConfiguratorAnalysis; onApply: () => void }) {
  const c = result.config;
  const perf = result.estimatedPerformance;
  const tiles: [string, string][] =
    result.mode === "disaggregated"
      ? [
          ["Prefill workers", `${c.prefillReplicas ?? 1} × ${c.prefillGpusPerWorker ?? 1} GPU (TP ${c.prefillTensorParallel ?? 1})`],
          ["Decode workers", `${c.decodeReplicas ?? 1} × ${c.decodeGpusPerWorker ?? 1} GPU (TP ${c.decodeTensorParallel ?? 1})`],
          ["Decode batch size", String(c.maxBatchSize)],
          ["Context", `${c.maxModelLen.toLocaleString()} tokens`],
        ]
      : [
          ["Replicas", `${result.replicas} × ${c.gpusPerReplica ?? c.tensorParallelDegree} GPU`],
          ["Tensor parallelism", String(c.tensorParallelDegree)],
          ["Batch size", String(c.maxBatchSize)],
          ["Context", `${c.maxModelLen.toLocaleString()} tokens`],
        ];
  return (
    <div className={cx("mt-3 rounded-md border p-3 text-sm", result.success ? "border-ok/50 bg-ok-soft" : "border-warn/50 bg-warn-soft")}>
      <p className="font-semibold">
        {result.success
          ? `Recommended: ${result.mode} serving${result.backend ? ` with ${engineLabel(result.backend)}` : ""}`
          : "Default configuration (not an AI Configurator recommendation)"}
      </p>
      {result.error ? <p className="mt-1">{result.error}</p> : null}
      <dl className="mt-2 grid grid-cols-2 gap-2 sm:grid-cols-4">
        {tiles.map(([k, v]) => (
          <div key={k}>
            <dt className="text-xs text-muted">{k}</dt>
            <dd className="font-medium">{v}</dd>
          </div>
        ))}
      </dl>
      {perf ? (
        <p className="mt-2 text-xs text-muted">
          Estimated: {Math.round(perf.throughputTokensPerSec).toLocaleString()} tokens/s on {perf.totalGpus} GPUs, time to first token{" "}
          {perf.ttftMs.toFixed(0)} ms, {perf.tokensPerSecPerUser.toFixed(1)} tokens/s per user at {perf.concurrency} concurrent requests.
        </p>
      ) : null}
      {result.warnings?.length ? (
        <ul className="mt-2 list-disc pl-5 text-xs">
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
      {result.mode === "disaggregated" ? (
        <p className="mt-2 text-xs text-muted">Disaggregated serving runs on the Dynamo runtime (or a provider the controller picks that supports it).</p>
      ) : null}
      <div className="mt-3">
        <Button variant="primary" onClick={onApply}>
          {result.success ? "Apply configuration" : "Apply defaults"}
        </Button>
      </div>
    </div>
  );
}

function DisaggregatedFields({
  prefill,
  decode,
  onChange,
}: {
  prefill: { replicas: number; gpus: number };
  decode: { replicas: number; gpus: number };
  onChange: AIConfiguratorPanelProps["onChangeDisaggregated"];
}) {
  const base = useId();
  const input = "w-24 rounded-md border border-line bg-bg px-2 py-1";
  const num = (v: string) => Math.max(0, Math.min(64, Math.trunc(Number(v)) || 0));
  const fields: [string, number, (v: number) => void][] = [
    ["Prefill workers", prefill.replicas, (v) => { onChange({ ...prefill, replicas: v }, decode); }],
    ["GPUs per prefill worker", prefill.gpus, (v) => { onChange({ ...prefill, gpus: v }, decode); }],
    ["Decode workers", decode.replicas, (v) => { onChange(prefill, { ...decode, replicas: v }); }],
    ["GPUs per decode worker", decode.gpus, (v) => { onChange(prefill, { ...decode, gpus: v }); }],
  ];
  return (
    <fieldset className="mt-3 rounded-md border border-line p-3">
      <legend className="px-1 text-sm font-medium">Disaggregated serving (prefill / decode)</legend>
      <div className="grid gap-3 sm:grid-cols-4">
        {fields.map(([label, value, set], i) => (
          <div key={label} className="flex flex-col gap-1 text-sm">
            <label htmlFor={`${base}-${i}`}>{label}</label>
            <input id={`${base}-${i}`} className={input} type="number" min={0} max={64} value={value} onChange={(e) => { set(num(e.target.value)); }} />
          </div>
        ))}
      </div>
    </fieldset>
  );
}
