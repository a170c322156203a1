import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Progress, ProgressPhase } from "../../lib/progress";
import { ProgressTimeline } from "./ProgressTimeline";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function progress(loading: ProgressPhase, extra: Partial<Progress> = {}): Progress {
  return {
    current: "Loading",
    podsDesired: 2,
    podsReady: 1,
    phases: [
      { name: "Scheduled", state: "Done", startedAt: at(0), finishedAt: at(3), durationSeconds: 3 },
      { name: "ImagePulling", state: "Done", startedAt: at(3), finishedAt: at(128), durationSeconds: 125 },
      { name: "Downloading", state: "Skipped", message: "the engine downloads the weights while Loading" },
      loading,
      { name: "Ready", state: "Waiting" },
    ],
    ...extra,
  };
}

const active: ProgressPhase = {
  name: "Loading",
  state: "Active",
  startedAt: at(128),
  message: "Loading safetensors checkpoint shards: 3/8",
};

const steps = () => within(screen.getByRole("list", { name: "Steps to serving" })).getAllByRole("listitem");

afterEach(() => {
  vi.useRealTimers();
});

describe("ProgressTimeline", () => {
  it("shows every step in order with its state in words, done durations and the pods ready", () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    vi.setSystemTime(T0 + 200_000);
    render(<ProgressTimeline progress={progress(active)} />);
    const items = steps();
    expect(items.map((li) => li.textContent)).toEqual([
      expect.stringMatching(/^.Scheduled\s*Done\s*in 3s$/),
      expect.stringMatching(/^.Image pulled\s*Done\s*in 2m 5s$/),
      expect.stringMatching(/Model download\s*Skipped.*the engine downloads the weights while Loading/),
      expect.stringMatching(/Loading model\s*In progress\s*for 1m 12s.*Loading safetensors checkpoint shards: 3\/8/),
      expect.stringMatching(/^.Ready\s*Waiting$/),
    ]);
    // The current step is marked for assistive technology; the icons are decorative.
    expect(items[3]).toHaveAttribute("aria-current", "step");
    expect(items.filter((li) => li.hasAttribute("aria-current"))).toHaveLength(1);
    expect(items[0]?.querySelector("[aria-hidden=true]")).toHaveTextContent("✓");
    // The skipped step is muted.
    expect(items[2]).toHaveClass("text-muted");
    expect(screen.getByText("1/2 pods ready")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Now: Loading model");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("ticks the active step's elapsed time every second, and stops the timer on unmount", () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    vi.setSystemTime(T0 + 128_000 + 58_000);
    const { unmount } = render(<ProgressTimeline progress={progress(active)} />);
    const loading = () => steps()[3];
    expect(loading()).toHaveTextContent("for 58s");
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(loading()).toHaveTextContent("for 59s");
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(loading()).toHaveTextContent("for 1m");
    act(() => {
      vi.advanceTimersByTime(65_000);
    });
    expect(loading()).toHaveTextContent("for 2m 5s");
    expect(vi.getTimerCount()).toBe(1);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("runs no timer once nothing is under way, and says every step is done", () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    const done = progress(
      { name: "Loading", state: "Done", startedAt: at(128), finishedAt: at(188), durationSeconds: 60 },
      { current: null, podsReady: 2 },
    );
    done.phases = done.phases?.map((p) =>
      p.name === "Ready" ? { name: "Ready", state: "Done", startedAt: at(188), finishedAt: at(190), durationSeconds: 2 } : p,
    );
    render(<ProgressTimeline progress={done} />);
    expect(vi.getTimerCount()).toBe(0);
    const items = steps();
    expect(items[3]).toHaveTextContent(/Model loaded\s*Done\s*in 1m$/);
    expect(items[4]).toHaveTextContent(/Ready\s*Done\s*in 2s$/);
    expect(items.some((li) => li.hasAttribute("aria-current"))).toBe(false);
    expect(screen.getByText("2/2 pods ready")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Every step is done");
  });

  it("shows a step that is waiting for its turn without a time", () => {
    render(
      <ProgressTimeline
        progress={{
          current: "Scheduled",
          podsDesired: 1,
          podsReady: 0,
          phases: [
            { name: "Scheduled", state: "Active", message: "waiting for the scheduler" },
            { name: "ImagePulling", state: "Waiting" },
            { name: "Downloading", state: "Waiting" },
            { name: "Loading", state: "Waiting" },
            { name: "Ready", state: "Waiting" },
          ],
        }}
      />,
    );
    const items = steps();
    // No start time yet: no elapsed time, but the message.
    expect(items[0]).toHaveTextContent(/^.Scheduling\s*In progress\s*waiting for the scheduler$/);
    expect(items[1]).toHaveTextContent(/^.Pulling image\s*Waiting$/);
    expect(items[2]).toHaveTextContent(/^.Downloading model\s*Waiting$/);
    expect(screen.getByText("0/1 pods ready")).toBeInTheDocument();
  });

  it.each([
    ["ImagePullBackOff", "ImagePulling", "The container image cannot be pulled", /image name and tag.*registry credentials/, false],
    ["ErrImagePull", "ImagePulling", "The container image cannot be pulled", /registry credentials/, false],
    ["CrashLoopBackOff", "Loading", "The model server keeps crashing", /Logs tab/, true],
    ["OOMKilled", "Loading", "The model server ran out of memory", /more memory/, true],
    ["InsufficientGPU", "Scheduled", "Not enough free GPUs", /pending reasons.*fewer GPUs/, false],
    ["Unschedulable", "Scheduled", "The pods cannot be scheduled", /pending reasons/, false],
    ["Slow", "Downloading", "Taking longer than expected", /still going/, true],
  ] as const)("a step stalled by %s gets a callout with the reason and what to do", async (reason, name, title, hint, logs) => {
    const user = userEvent.setup();
    const onShowLogs = vi.fn();
    const names = ["Scheduled", "ImagePulling", "Downloading", "Loading", "Ready"] as const;
    const index = names.indexOf(name);
    render(
      <ProgressTimeline
        onShowLogs={onShowLogs}
        progress={{
          current: name,
          stalledReason: reason,
          podsDesired: 1,
          podsReady: 0,
          phases: names.map((n, i) =>
            i < index
              ? { name: n, state: "Done", durationSeconds: 1 }
              : i === index
                ? { name: n, state: "Stalled", startedAt: at(0), reason, message: `kubelet: ${reason} on pod x` }
                : { name: n, state: "Waiting" },
          ),
        }}
      />,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent(title);
    expect(alert).toHaveTextContent(`(${reason})`);
    expect(alert).toHaveTextContent(hint);
    expect(alert).toHaveTextContent(`kubelet: ${reason} on pod x`);
    // Slow is a warning (still going); the others are failures.
    expect(alert).toHaveClass(reason === "Slow" ? "bg-warn-soft" : "bg-bad-soft");
    const stalled = steps()[index];
    expect(stalled).toHaveTextContent("Stalled");
    expect(stalled).toHaveAttribute("aria-current", "step");
    expect(screen.getByRole("status")).toHaveTextContent(`stalled (${reason})`);
    const open = within(alert).queryByRole("button", { name: "Open the logs" });
    if (logs) {
      expect(open).not.toBeNull();
      await user.click(open as HTMLElement);
      expect(onShowLogs).toHaveBeenCalledOnce();
    } else {
      expect(open).toBeNull();
    }
  });

  it("ticks a stalled step's time too", () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    vi.setSystemTime(T0 + 30_000);
    render(
      <ProgressTimeline
        progress={progress({ name: "Loading", state: "Stalled", startedAt: at(0), reason: "CrashLoopBackOff" }, { stalledReason: "CrashLoopBackOff" })}
      />,
    );
    expect(steps()[3]).toHaveTextContent("for 30s");
    act(() => {
      vi.advanceTimersByTime(5000);
    });
    expect(steps()[3]).toHaveTextContent("for 35s");
  });
});
