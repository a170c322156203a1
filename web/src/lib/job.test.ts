import { describe, expect, it } from "vitest";

import { jobView } from "../test/jobs";
import { announceStep, applyJobEvent, failingStep, type JobProgress } from "./job";

function run(events: Parameters<typeof applyJobEvent>[1][]): JobProgress | null {
  return events.reduce<JobProgress | null>((p, e) => applyJobEvent(p, e), null);
}

describe("applyJobEvent", () => {
  it("ignores events before the first snapshot", () => {
    expect(run([{ type: "state", state: "running" }])).toBeNull();
  });

  it("moves steps from pending to running to succeeded and keeps their output", () => {
    const p = run([
      { type: "snapshot", job: jobView() },
      { type: "step-start", index: 0, step: "repo-add-kaito", title: "Add the kaito repository", command: "helm repo add" },
      { type: "output", index: 0, step: "repo-add-kaito", stream: "stdout", line: "\"kaito\" has been added" },
      { type: "step-end", index: 0, step: "repo-add-kaito", state: "succeeded", success: true, exitCode: 0, timedOut: false, durationMs: 1200 },
      { type: "step-start", index: 1, step: "install-kaito", title: "Install kaito", command: "helm upgrade --install" },
    ]);
    expect(p?.started).toBe(2);
    expect(p?.steps.map((s) => [s.step, s.state])).toEqual([
      ["repo-add-kaito", "succeeded"],
      ["install-kaito", "running"],
    ]);
    expect(p?.steps[0]?.lines).toEqual([{ stream: "stdout", line: "\"kaito\" has been added" }]);
    expect(p?.steps[0]?.exitCode).toBe(0);
    expect(p?.ended).toBe(false);
  });

  it("adds a step that was not planned (a clean-up) after the started ones", () => {
    const p = run([
      { type: "snapshot", job: jobView() },
      { type: "step-start", index: 0, step: "cleanup-kaito", title: "Clean up", command: "helm status" },
    ]);
    expect(p?.steps.map((s) => s.step)).toEqual(["cleanup-kaito", "repo-add-kaito", "install-kaito"]);
    expect(p?.steps.map((s) => s.state)).toEqual(["running", "pending", "pending"]);
  });

  it("ends with the final view and names the failing step with its stderr", () => {
    const p = run([
      { type: "snapshot", job: jobView() },
      {
        type: "end",
        job: jobView({
          state: "failed",
          message: "Installation failed at step install-kaito",
          failedStep: "install-kaito",
          pending: [],
          steps: [
            { step: "install-kaito", title: "Install kaito", command: "helm upgrade", state: "failed", output: "", error: "Error: boom\nmore\n", exitCode: 1, timedOut: true, startedAt: "2026-01-01T00:00:01Z", durationMs: 300000 },
          ],
        }),
      },
    ]);
    expect(p?.ended).toBe(true);
    const failed = p ? failingStep(p) : undefined;
    expect(failed?.step).toBe("install-kaito");
    expect(failed?.lines).toEqual([
      { stream: "stderr", line: "Error: boom" },
      { stream: "stderr", line: "more" },
    ]);
    expect(failed ? announceStep(failed) : "").toBe("Failed: Install kaito (timed out)");
  });

  it("replaces everything with a fresh snapshot and ignores output of unknown steps", () => {
    const first = run([
      { type: "snapshot", job: jobView() },
      { type: "output", index: 5, step: "nope", stream: "stdout", line: "x" },
    ]);
    expect(first?.steps.every((s) => s.lines.length === 0)).toBe(true);
    const again = first && applyJobEvent(first, { type: "snapshot", job: jobView({ pending: [] }) });
    expect(again?.steps).toEqual([]);
  });
});
