import type { JobEvent, JobKind, JobState, JobStream, JobView, StepView } from "@kubeairunway/shared";

/** Where a step of the progress list is: started steps carry the server's state, the rest are pending. */
export type StepProgressState = "pending" | StepView["state"];

/** One line of a step's output. */
export interface OutputLine {
  stream: JobStream;
  line: string;
}

/** A step as the output panel shows it. */
export interface StepProgress {
  step: string;
  title: string;
  command: string;
  state: StepProgressState;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number | null;
  lines: OutputLine[];
}

/** A job as the output panel shows it, built from its event stream. */
export interface JobProgress {
  jobId: string;
  kind: JobKind;
  target: string;
  state: JobState;
  message: string | null;
  failedStep: string | null;
  /** Started steps (by the server's index), then the pending ones in order. */
  steps: StepProgress[];
  /** Number of leading entries of `steps` that started. */
  started: number;
  /** The stream sent `end`: the job finished. */
  ended: boolean;
}

/** Most lines kept per step (the server keeps 256 KiB per stream; the DOM should not hold more). */
export const MAX_LINES_PER_STEP = 5_000;

function linesOf(text: string, stream: JobStream): OutputLine[] {
  if (text === "") return [];
  const parts = text.split("\n");
  if (parts.at(-1) === "") parts.pop();
  return parts.map((line) => ({ stream, line }));
}

function fromView(view: StepView): StepProgress {
  return {
    step: view.step,
    title: view.title,
    command: view.command,
    state: view.state,
    exitCode: view.exitCode ?? null,
    timedOut: view.timedOut,
    durationMs: view.durationMs ?? null,
    // A snapshot carries the two streams separately; their interleaving is not known.
    lines: [...linesOf(view.output, "stdout"), ...linesOf(view.error, "stderr")].slice(-MAX_LINES_PER_STEP),
  };
}

/** The progress a `snapshot` or `end` view describes. */
export function progressFromView(view: JobView, ended: boolean): JobProgress {
  const started = view.steps.map(fromView);
  const pending = view.pending.map(
    (p): StepProgress => ({
      step: p.step,
      title: p.title,
      command: p.command,
      state: "pending",
      exitCode: null,
      timedOut: false,
      durationMs: null,
      lines: [],
    }),
  );
  return {
    jobId: view.jobId,
    kind: view.kind,
    target: view.target,
    state: view.state,
    message: view.message ?? null,
    failedStep: view.failedStep ?? null,
    steps: [...started, ...pending],
    started: started.length,
    ended: ended || view.state === "succeeded" || view.state === "failed",
  };
}

function replaceStep(progress: JobProgress, index: number, update: (s: StepProgress) => StepProgress): JobProgress {
  const current = progress.steps[index];
  if (index >= progress.started || !current) return progress;
  const steps = progress.steps.slice();
  steps[index] = update(current);
  return { ...progress, steps };
}

/**
 * Applies one event of `GET /api/jobs/{id}/events`. Before the first `snapshot` only a snapshot
 * or `end` can start the progress (they carry the whole view); a slow subscriber receives a fresh
 * snapshot, which replaces everything.
 */
export function applyJobEvent(progress: JobProgress | null, event: JobEvent): JobProgress | null {
  if (event.type === "snapshot") return progressFromView(event.job, false);
  if (event.type === "end") return progressFromView(event.job, true);
  if (!progress) return null;
  switch (event.type) {
    case "state":
      return { ...progress, state: event.state };
    case "step-start": {
      if (event.index < progress.started) return progress;
      const started = progress.steps.slice(0, progress.started);
      // The step leaves the pending list (it may also be a step added while running, e.g. a clean-up).
      const pending = progress.steps.slice(progress.started);
      const at = pending.findIndex((p) => p.step === event.step);
      if (at >= 0) pending.splice(at, 1);
      const step: StepProgress = {
        step: event.step,
        title: event.title,
        command: event.command,
        state: "running",
        exitCode: null,
        timedOut: false,
        durationMs: null,
        lines: [],
      };
      return { ...progress, steps: [...started, step, ...pending], started: started.length + 1 };
    }
    case "output":
      return replaceStep(progress, event.index, (s) => {
        const lines = s.lines.length >= MAX_LINES_PER_STEP ? s.lines.slice(1) : s.lines.slice();
        lines.push({ stream: event.stream, line: event.line });
        return { ...s, lines };
      });
    case "step-end":
      return replaceStep(progress, event.index, (s) => ({
        ...s,
        state: event.state,
        exitCode: event.exitCode,
        timedOut: event.timedOut,
        durationMs: event.durationMs,
      }));
  }
}

/** The step that failed (the server's `failedStep`, else the first failed one). */
export function failingStep(progress: JobProgress): StepProgress | undefined {
  return (
    progress.steps.find((s) => s.step === progress.failedStep) ?? progress.steps.find((s) => s.state === "failed")
  );
}

/** A sentence for screen readers about a step's change. */
export function announceStep(step: StepProgress): string {
  switch (step.state) {
    case "running":
      return `Running: ${step.title}`;
    case "succeeded":
      return `Done: ${step.title}`;
    case "failed":
      return `Failed: ${step.title}${step.timedOut ? " (timed out)" : step.exitCode !== null ? ` (exit code ${String(step.exitCode)})` : ""}`;
    case "skipped":
      return `Skipped: ${step.title}`;
    case "pending":
      return `Waiting: ${step.title}`;
  }
}

/** What a job kind does, in words. */
export function kindLabel(kind: JobKind): string {
  switch (kind) {
    case "install-provider":
      return "Install";
    case "uninstall-provider":
      return "Uninstall";
    case "uninstall-provider-crds":
      return "Remove CRDs";
    case "install-gpu-operator":
      return "Install the GPU Operator";
    case "build-image":
      return "Build the image";
  }
}
