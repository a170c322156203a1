import { useEffect, useState } from "react";

import { Button, Card, cx } from "../../components/ui";
import { dateTime } from "../../lib/format";
import {
  elapsedSeconds,
  formatDuration,
  isRunning,
  orderedPhases,
  phaseDuration,
  phaseLabel,
  SKIPPED_DOWNLOAD,
  stallAdvice,
  stateIcon,
  stateLabel,
  type PhaseState,
  type Progress,
  type ProgressPhase,
} from "../../lib/progress";

/** The current time, ticking every second only while `enabled` (a step's time is running). */
function useSecondClock(enabled: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    const id = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(id);
    };
  }, [enabled]);
  return now;
}

const MARKER: Record<PhaseState, string> = {
  Waiting: "border-line bg-surface text-muted",
  Active: "border-info bg-info-soft text-info",
  Done: "border-ok bg-ok-soft text-ok",
  Skipped: "border-line bg-surface-2 text-muted",
  Stalled: "border-bad bg-bad-soft text-bad",
};

/**
 * The deployment's way to serving, one step per phase (scheduled, image pulled, model
 * downloaded, loaded, ready): what is done and how long it took, what is under way and for how
 * long (ticking), and what to do about a stalled step. It re-renders from the live deployment,
 * so it moves without polling.
 */
export function ProgressTimeline({ progress, onShowLogs }: { progress: Progress; onShowLogs?: () => void }) {
  const phases = orderedPhases(progress);
  const now = useSecondClock(phases.some(isRunning));
  const current = progress.current ?? null;
  const stalled = phases.find((p) => p.state === "Stalled") ?? null;
  const stalledReason = progress.stalledReason ?? stalled?.reason ?? null;
  const desired = progress.podsDesired ?? 0;
  const ready = progress.podsReady ?? 0;
  const currentLabel = current
    ? phaseLabel(current, phases.find((p) => p.name === current)?.state ?? "Waiting")
    : null;

  return (
    <Card title="Progress" actions={<span className="text-sm text-muted">{`${ready}/${desired} pods ready`}</span>}>
      {/* What screen readers hear when the step changes; the ticking times stay out of it. */}
      <p role="status" aria-live="polite" className="sr-only">
        {current === null
          ? "Every step is done"
          : `Now: ${currentLabel ?? current}${stalledReason ? `, stalled (${stalledReason})` : ""}`}
      </p>
      {stalledReason ? (
        <StallCallout reason={stalledReason} message={stalled?.message ?? null} onShowLogs={onShowLogs} />
      ) : null}
      <ol aria-label="Steps to serving" className="flex flex-col gap-3">
        {phases.map((p) => (
          <Step key={p.name} phase={p} now={now} current={p.name === current} />
        ))}
      </ol>
    </Card>
  );
}

function Step({ phase, now, current }: { phase: ProgressPhase; now: number; current: boolean }) {
  const label = phaseLabel(phase.name, phase.state);
  const skipped = phase.state === "Skipped";
  const duration = phase.state === "Done" ? phaseDuration(phase) : null;
  const elapsed = isRunning(phase) ? elapsedSeconds(phase.startedAt, now) : null;
  const message = skipped ? (phase.message ?? SKIPPED_DOWNLOAD) : phase.state === "Active" || phase.state === "Stalled" ? phase.message : null;
  return (
    <li aria-current={current ? "step" : undefined} className={cx("flex items-start gap-3", skipped && "text-muted")}>
      <span
        aria-hidden="true"
        className={cx("mt-0.5 inline-flex size-6 shrink-0 items-center justify-center rounded-full border-2 text-xs font-bold", MARKER[phase.state])}
      >
        {stateIcon(phase.state)}
      </span>
      <div className="min-w-0 flex-1 text-sm">
        <div className="flex flex-wrap items-baseline gap-x-2">
          <span className={cx("font-medium", skipped && "font-normal")}>{label}</span>
          <span className={cx("text-xs", phase.state === "Stalled" ? "font-semibold text-bad" : "text-muted")}>
            {stateLabel(phase.state)}
          </span>
          {duration !== null ? (
            <span className="text-xs text-muted">
              {phase.finishedAt ? (
                <time dateTime={phase.finishedAt} title={`Finished ${dateTime(phase.finishedAt)}`}>
                  in {formatDuration(duration)}
                </time>
              ) : (
                `in ${formatDuration(duration)}`
              )}
            </span>
          ) : null}
          {elapsed !== null ? (
            <span className="text-xs text-muted tabular-nums">
              <time dateTime={phase.startedAt ?? undefined} title={phase.startedAt ? `Started ${dateTime(phase.startedAt)}` : undefined}>
                for {formatDuration(elapsed)}
              </time>
            </span>
          ) : null}
        </div>
        {message ? <p className={cx("mt-0.5 break-words", skipped ? "text-xs" : "text-muted")}>{message}</p> : null}
      </div>
    </li>
  );
}

function StallCallout({
  reason,
  message,
  onShowLogs,
}: {
  reason: string;
  message: string | null;
  onShowLogs: (() => void) | undefined;
}) {
  const advice = stallAdvice(reason);
  const slow = reason === "Slow";
  return (
    <div
      role="alert"
      className={cx("mb-3 rounded-md border p-3 text-sm", slow ? "border-warn/40 bg-warn-soft" : "border-bad/40 bg-bad-soft")}
    >
      <p className="font-semibold">
        <span aria-hidden="true">⚠ </span>
        {advice.title} <span className="font-mono text-xs font-normal">({reason})</span>
      </p>
      <p className="mt-1">{advice.hint}</p>
      {message ? <p className="mt-1 font-mono text-xs break-words">{message}</p> : null}
      {advice.see === "logs" && onShowLogs ? (
        <Button className="mt-2" onClick={onShowLogs}>
          Open the logs
        </Button>
      ) : null}
    </div>
  );
}
