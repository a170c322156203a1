import type { components, DeploymentStatus } from "@kubeairunway/shared";

/** A deployment's way from created to serving (`status.progress`). */
export type Progress = components["schemas"]["ProgressStatus"];
/** One step of {@link Progress}. */
export type ProgressPhase = components["schemas"]["ProgressPhase"];
/** Which step. */
export type PhaseName = components["schemas"]["ProgressPhaseName"];
/** Where a step is. */
export type PhaseState = components["schemas"]["ProgressState"];

/** The steps in the order a model server goes through them. */
export const PHASE_ORDER: readonly PhaseName[] = ["Scheduled", "ImagePulling", "Downloading", "Loading", "Ready"];

/** What a skipped download means (the server says so too; this covers an older one). */
export const SKIPPED_DOWNLOAD = "the engine downloads the weights while Loading";

/** A step's name as people read it: what is under way, or what is done. */
export function phaseLabel(name: PhaseName, state: PhaseState): string {
  const done = state === "Done";
  switch (name) {
    case "Scheduled":
      return done ? "Scheduled" : "Scheduling";
    case "ImagePulling":
      return done ? "Image pulled" : "Pulling image";
    case "Downloading":
      return done ? "Model downloaded" : state === "Skipped" ? "Model download" : "Downloading model";
    case "Loading":
      return done ? "Model loaded" : "Loading model";
    case "Ready":
      return "Ready";
  }
}

/** A step's state in words (never colour alone). */
export function stateLabel(state: PhaseState): string {
  switch (state) {
    case "Waiting":
      return "Waiting";
    case "Active":
      return "In progress";
    case "Done":
      return "Done";
    case "Skipped":
      return "Skipped";
    case "Stalled":
      return "Stalled";
  }
}

/** A shape cue per state, shown beside {@link stateLabel} (decorative). */
export function stateIcon(state: PhaseState): string {
  switch (state) {
    case "Waiting":
      return "○";
    case "Active":
      return "◐";
    case "Done":
      return "✓";
    case "Skipped":
      return "–";
    case "Stalled":
      return "⚠";
  }
}

/** `45s`, `2m 5s`, `3m`, `1h 4m`, `2d 3h`: a span of seconds, two units at most. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}

/** Seconds from `startedAt` to `now` (ms), or null when it is not a time. Never negative (clock skew). */
export function elapsedSeconds(startedAt: string | null | undefined, now: number): number | null {
  if (!startedAt) return null;
  const t = Date.parse(startedAt);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.floor((now - t) / 1000));
}

/** How long a done step took: the server's figure, else its start to its finish. */
export function phaseDuration(phase: ProgressPhase): number | null {
  if (phase.durationSeconds !== undefined && phase.durationSeconds !== null) return Math.max(0, phase.durationSeconds);
  if (!phase.finishedAt) return null;
  const end = Date.parse(phase.finishedAt);
  if (Number.isNaN(end)) return null;
  return elapsedSeconds(phase.startedAt, end);
}

/** Whether a step's time is still running (the timeline ticks for these). */
export function isRunning(phase: ProgressPhase): boolean {
  if (phase.state !== "Active" && phase.state !== "Stalled") return false;
  return !!phase.startedAt && !Number.isNaN(Date.parse(phase.startedAt));
}

/** The five steps in order, whatever the server sent: a missing one reads as waiting. */
export function orderedPhases(progress: Progress): ProgressPhase[] {
  const byName = new Map((progress.phases ?? []).map((p) => [p.name, p]));
  return PHASE_ORDER.map((name) => byName.get(name) ?? { name, state: "Waiting" });
}

/** Where a stalled deployment's user should look next. */
export interface StallAdvice {
  /** What is wrong, in a few words. */
  title: string;
  /** What to do about it. */
  hint: string;
  /** A part of the details page that helps: the Logs tab, or the pending reasons. */
  see?: "logs" | "pending";
}

/** What a stall reason means and what to do about it. */
export function stallAdvice(reason: string): StallAdvice {
  switch (reason) {
    case "ImagePullBackOff":
    case "ErrImagePull":
    case "InvalidImageName":
    case "ErrImageNeverPull":
    case "RegistryUnavailable":
      return {
        title: "The container image cannot be pulled",
        hint: "Check the image name and tag, and that the registry credentials (image pull secret) are right.",
      };
    case "CrashLoopBackOff":
      return {
        title: "The model server keeps crashing",
        hint: "See the Logs tab for why it exits.",
        see: "logs",
      };
    case "CreateContainerConfigError":
    case "CreateContainerError":
      return {
        title: "The container cannot be created",
        hint: "A secret or config map it refers to may be missing, or its settings are invalid; the message says which.",
      };
    case "OOMKilled":
      return {
        title: "The model server ran out of memory",
        hint: "Give it more memory (a higher memory limit or a larger GPU), or serve a smaller or quantised model.",
        see: "logs",
      };
    case "InsufficientGPU":
      return {
        title: "Not enough free GPUs",
        hint: "See the pending reasons: ask for fewer GPUs per replica or fewer replicas, or add GPU nodes.",
        see: "pending",
      };
    case "Unschedulable":
      return {
        title: "The pods cannot be scheduled",
        hint: "See the pending reasons: no node fits the pods' requests, selectors or tolerations; ask for fewer GPUs or add nodes.",
        see: "pending",
      };
    case "Slow":
      return {
        title: "Taking longer than expected",
        hint: "It is still going: large images and models take a while. Watch the message and the logs.",
        see: "logs",
      };
    default:
      return {
        title: `Stalled: ${reason}`,
        hint: "See the pods, the logs and the pending reasons for what Kubernetes reports.",
        see: "logs",
      };
  }
}

/** The compact progress a deployment list row shows. */
export interface ProgressSummary {
  /** The step under way (or stuck). */
  current: PhaseName;
  /** Its label, e.g. `Loading model`. */
  label: string;
  /** Steps done or skipped. */
  done: number;
  /** All steps (5). */
  total: number;
  /** Each step's state, in order (the segments of the bar). */
  states: PhaseState[];
  /** Why it is stuck, when it is. */
  stalledReason: string | null;
}

/**
 * The list's progress of a deployment, or null when there is nothing to show: no progress
 * reported, or every step done and the deployment running.
 */
export function progressSummary(d: Pick<DeploymentStatus, "phase" | "progress">): ProgressSummary | null {
  const progress = d.progress;
  if (!progress) return null;
  const phases = orderedPhases(progress);
  const current = progress.current ?? null;
  if (current === null && d.phase === "Running") return null;
  const name = current ?? "Ready";
  const state = phases.find((p) => p.name === name)?.state ?? "Waiting";
  return {
    current: name,
    label: phaseLabel(name, state),
    done: phases.filter((p) => p.state === "Done" || p.state === "Skipped").length,
    total: phases.length,
    states: phases.map((p) => p.state),
    stalledReason: progress.stalledReason ?? phases.find((p) => p.state === "Stalled")?.reason ?? null,
  };
}
