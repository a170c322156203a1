import { useEffect, useId, useRef } from "react";

import { useJobStream } from "../../api/useJobStream";
import { Badge, Button, ErrorMessage, Spinner } from "../../components/ui";
import { announceStep, failingStep, kindLabel, type JobProgress, type StepProgress, type StepProgressState } from "../../lib/job";

const STEP_TONE: Record<StepProgressState, "neutral" | "info" | "ok" | "bad" | "warn"> = {
  pending: "neutral",
  running: "info",
  succeeded: "ok",
  failed: "bad",
  skipped: "warn",
};

const STEP_LABEL: Record<StepProgressState, string> = {
  pending: "Pending",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  skipped: "Skipped",
};

function seconds(ms: number | null): string | null {
  return ms === null ? null : `${(ms / 1000).toFixed(1)} s`;
}

/** What changed last, for the polite live region: step transitions and the outcome, never output lines. */
function announcement(progress: JobProgress | null): string {
  if (!progress) return "";
  if (progress.ended) return progress.message ?? (progress.state === "succeeded" ? "Finished" : "Failed");
  const last = progress.steps[progress.started - 1];
  return last ? announceStep(last) : "Starting…";
}

function StepRow({ step }: { step: StepProgress }) {
  const duration = seconds(step.durationMs);
  return (
    <li className="flex flex-wrap items-center gap-2 py-1">
      <Badge tone={STEP_TONE[step.state]}>
        {step.state === "running" ? <Spinner className="size-3" /> : null}
        {STEP_LABEL[step.state]}
      </Badge>
      <span className="font-medium">{step.title}</span>
      <code className="text-xs text-muted">{step.step}</code>
      {step.exitCode !== null ? <span className="text-xs text-muted">exit code {step.exitCode}</span> : null}
      {step.timedOut ? <Badge tone="bad">Timed out</Badge> : null}
      {duration ? <span className="text-xs text-muted">{duration}</span> : null}
    </li>
  );
}

/**
 * The live view of an installation job: per-step progress, the streamed output (scrolling along
 * while the reader stays at the bottom), the failing step with its stderr, and a polite live
 * region that announces step changes (not every output line).
 */
export function JobPanel({
  jobId,
  label,
  onEnd,
  onClose,
  headingLevel = 4,
}: {
  jobId: string;
  /** Level of the panel's heading, one below the section it sits in. */
  headingLevel?: 3 | 4;
  /** What the job acts on, e.g. the provider's name. */
  label: string;
  onEnd: (progress: JobProgress) => void;
  onClose: () => void;
}) {
  const { progress, status, error } = useJobStream(jobId, onEnd);
  const H = headingLevel === 3 ? "h3" : "h4";
  const headingId = useId();
  const outputRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lineCount = progress?.steps.reduce((n, s) => n + s.lines.length, 0) ?? 0;

  useEffect(() => {
    const el = outputRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lineCount]);

  const failed = progress?.state === "failed" ? failingStep(progress) : undefined;
  const stderr = failed?.lines.filter((l) => l.stream === "stderr").map((l) => l.line) ?? [];
  const title = progress ? `${kindLabel(progress.kind)}: ${label}` : `Job ${jobId}`;

  return (
    <section aria-labelledby={headingId} className="mt-3 rounded-md border border-line bg-bg p-3 text-sm">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <H id={headingId} className="font-semibold">
          {title}{" "}
          {progress ? (
            <Badge tone={progress.state === "succeeded" ? "ok" : progress.state === "failed" ? "bad" : "info"}>
              {progress.state}
            </Badge>
          ) : null}
        </H>
        <div className="flex items-center gap-2 text-xs text-muted">
          {status === "connecting" || status === "reconnecting" ? (
            <>
              <Spinner className="size-3" />
              {status === "connecting" ? "Connecting…" : "Reconnecting…"}
            </>
          ) : null}
          {progress?.ended || status === "failed" ? <Button onClick={onClose}>Close</Button> : null}
        </div>
      </div>
      <p aria-live="polite" className="sr-only">
        {announcement(progress)}
      </p>
      {status === "failed" ? (
        <ErrorMessage title="Lost the job's progress" error={error}>
          <p className="mt-1">The job keeps running on the server; refresh the status to see its outcome.</p>
        </ErrorMessage>
      ) : null}
      {progress ? (
        <>
          <ol aria-label="Steps" className="mt-2 divide-y divide-line">
            {progress.steps.map((s) => (
              <StepRow key={s.step} step={s} />
            ))}
          </ol>
          <div
            ref={outputRef}
            role="region"
            aria-label={`Output of ${title}`}
            tabIndex={0}
            onScroll={(e) => {
              const el = e.currentTarget;
              stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
            }}
            className="mt-2 max-h-80 overflow-auto rounded-md bg-surface-2 p-2 font-mono text-xs whitespace-pre-wrap"
          >
            {progress.steps
              .filter((s) => s.state !== "pending")
              .map((s) => (
                <div key={s.step}>
                  <div className="text-muted">$ {s.command}</div>
                  {s.lines.map((l, i) => (
                    <div key={i} className={l.stream === "stderr" ? "text-bad" : undefined}>
                      {l.line}
                    </div>
                  ))}
                </div>
              ))}
            {lineCount === 0 && progress.started === 0 ? <span className="text-muted">Waiting for output…</span> : null}
          </div>
          {progress.ended && progress.state === "failed" ? (
            <ErrorMessage title={failed ? `Failed at “${failed.title}” (${failed.step})` : "The job failed"}>
              {progress.message ? <p className="mt-1">{progress.message}</p> : null}
              {failed?.timedOut ? <p className="mt-1">The command timed out.</p> : null}
              {failed && failed.exitCode !== null ? <p className="mt-1">Exit code {failed.exitCode}.</p> : null}
              {stderr.length > 0 ? (
                <pre className="mt-2 max-h-48 overflow-auto rounded bg-surface p-2 text-xs whitespace-pre-wrap">
                  {stderr.join("\n")}
                </pre>
              ) : null}
            </ErrorMessage>
          ) : null}
          {progress.ended && progress.state === "succeeded" ? (
            <p className="mt-2 text-ok">{progress.message ?? "Finished."}</p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
