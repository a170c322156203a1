import { describe, expect, it } from "vitest";

import {
  elapsedSeconds,
  formatDuration,
  isRunning,
  orderedPhases,
  phaseDuration,
  phaseLabel,
  progressSummary,
  stallAdvice,
  stateIcon,
  stateLabel,
  type PhaseState,
  type Progress,
} from "./progress";

const loading: Progress = {
  current: "Loading",
  podsDesired: 2,
  podsReady: 0,
  phases: [
    { name: "Scheduled", state: "Done", durationSeconds: 3 },
    { name: "ImagePulling", state: "Done", durationSeconds: 125 },
    { name: "Downloading", state: "Skipped", message: "the engine downloads the weights while Loading" },
    { name: "Loading", state: "Active", startedAt: "2026-01-01T00:02:08Z" },
    { name: "Ready", state: "Waiting" },
  ],
};

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [45, "45s"],
    [59.9, "59s"],
    [60, "1m"],
    [125, "2m 5s"],
    [3599, "59m 59s"],
    [3600, "1h"],
    [3840, "1h 4m"],
    [86_400, "1d"],
    [2 * 86_400 + 3 * 3600 + 59, "2d 3h"],
    [-5, "0s"],
  ])("%s s reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("elapsedSeconds and phaseDuration", () => {
  const start = "2026-01-01T00:00:00Z";
  it("counts whole seconds from the start, never below zero, null without a time", () => {
    expect(elapsedSeconds(start, Date.parse(start) + 65_900)).toBe(65);
    expect(elapsedSeconds(start, Date.parse(start) - 5_000)).toBe(0);
    expect(elapsedSeconds(undefined, 0)).toBeNull();
    expect(elapsedSeconds("not a time", 0)).toBeNull();
  });

  it("takes the server's duration, else start to finish", () => {
    expect(phaseDuration({ name: "Scheduled", state: "Done", durationSeconds: 7 })).toBe(7);
    expect(
      phaseDuration({ name: "Scheduled", state: "Done", startedAt: start, finishedAt: "2026-01-01T00:02:05Z" }),
    ).toBe(125);
    expect(phaseDuration({ name: "Scheduled", state: "Done", startedAt: start })).toBeNull();
  });

  it("runs only for an active or stalled step with a start", () => {
    expect(isRunning({ name: "Loading", state: "Active", startedAt: start })).toBe(true);
    expect(isRunning({ name: "Loading", state: "Stalled", startedAt: start })).toBe(true);
    expect(isRunning({ name: "Loading", state: "Active" })).toBe(false);
    expect(isRunning({ name: "Loading", state: "Done", startedAt: start })).toBe(false);
    expect(isRunning({ name: "Loading", state: "Waiting", startedAt: start })).toBe(false);
  });
});

describe("labels", () => {
  it("names a step by what is under way, or what is done", () => {
    expect(phaseLabel("ImagePulling", "Done")).toBe("Image pulled");
    expect(phaseLabel("ImagePulling", "Active")).toBe("Pulling image");
    expect(phaseLabel("Scheduled", "Waiting")).toBe("Scheduling");
    expect(phaseLabel("Downloading", "Skipped")).toBe("Model download");
    expect(phaseLabel("Downloading", "Stalled")).toBe("Downloading model");
    expect(phaseLabel("Loading", "Done")).toBe("Model loaded");
    expect(phaseLabel("Ready", "Done")).toBe("Ready");
  });

  it("gives every state its own word and shape", () => {
    const states: PhaseState[] = ["Waiting", "Active", "Done", "Skipped", "Stalled"];
    expect(states.map(stateLabel)).toEqual(["Waiting", "In progress", "Done", "Skipped", "Stalled"]);
    expect(new Set(states.map(stateIcon)).size).toBe(states.length);
  });
});

describe("orderedPhases", () => {
  it("returns the five steps in order, a missing one as waiting", () => {
    const phases = orderedPhases({ phases: [{ name: "Ready", state: "Waiting" }, { name: "Scheduled", state: "Active" }] });
    expect(phases.map((p) => `${p.name}:${p.state}`)).toEqual([
      "Scheduled:Active",
      "ImagePulling:Waiting",
      "Downloading:Waiting",
      "Loading:Waiting",
      "Ready:Waiting",
    ]);
  });
});

describe("stallAdvice", () => {
  it.each([
    ["ImagePullBackOff", /image name/, undefined],
    ["ErrImagePull", /registry credentials/, undefined],
    ["InvalidImageName", /image name/, undefined],
    ["RegistryUnavailable", /registry credentials/, undefined],
    ["CreateContainerConfigError", /secret or config map/, undefined],
    ["CreateContainerError", /secret or config map/, undefined],
    ["CrashLoopBackOff", /Logs tab/, "logs"],
    ["OOMKilled", /more memory/, "logs"],
    ["InsufficientGPU", /fewer GPUs/, "pending"],
    ["Unschedulable", /pending reasons/, "pending"],
    ["Slow", /still going/, "logs"],
    ["SomethingNew", /pods, the logs/, "logs"],
  ] as const)("%s: says what to do", (reason, hint, see) => {
    const advice = stallAdvice(reason);
    expect(advice.hint).toMatch(hint);
    expect(advice.see).toBe(see);
    expect(advice.title.length).toBeGreaterThan(0);
  });

  it("names an unknown reason in its title", () => {
    expect(stallAdvice("SomethingNew").title).toBe("Stalled: SomethingNew");
  });
});

describe("progressSummary", () => {
  it("is the current step, the steps done or skipped, and the segments", () => {
    expect(progressSummary({ phase: "Deploying", progress: loading })).toEqual({
      current: "Loading",
      label: "Loading model",
      done: 3,
      total: 5,
      states: ["Done", "Done", "Skipped", "Active", "Waiting"],
      stalledReason: null,
    });
  });

  it("carries the stall reason, from the progress or else from the stalled step", () => {
    const stalled: Progress = {
      ...loading,
      stalledReason: "CrashLoopBackOff",
      phases: loading.phases?.map((p) => (p.name === "Loading" ? { ...p, state: "Stalled" as const } : p)),
    };
    expect(progressSummary({ phase: "Deploying", progress: stalled })?.stalledReason).toBe("CrashLoopBackOff");
    const fromStep: Progress = {
      ...loading,
      phases: loading.phases?.map((p) => (p.name === "Loading" ? { ...p, state: "Stalled" as const, reason: "OOMKilled" } : p)),
    };
    expect(progressSummary({ phase: "Deploying", progress: fromStep })?.stalledReason).toBe("OOMKilled");
  });

  it("is nothing without progress, or once every step is done and it runs", () => {
    const done: Progress = {
      podsDesired: 1,
      podsReady: 1,
      phases: loading.phases?.map((p) => (p.state === "Skipped" ? p : { ...p, state: "Done" as const })),
    };
    expect(progressSummary({ phase: "Deploying" })).toBeNull();
    expect(progressSummary({ phase: "Running", progress: done })).toBeNull();
    // Done but not (yet) running: still shown, all five steps through.
    expect(progressSummary({ phase: "Deploying", progress: done })).toMatchObject({ current: "Ready", done: 5 });
    // Running while a step is under way (scaling up): shown.
    expect(progressSummary({ phase: "Running", progress: loading })).not.toBeNull();
  });
});
