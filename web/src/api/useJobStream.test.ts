import { renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { apiError, mockFetch, sse } from "../test/http";
import { jobView } from "../test/jobs";
import { useJobStream } from "./useJobStream";

describe("useJobStream", () => {
  it("reconnects when the stream drops before the end and reports the end once", async () => {
    let connections = 0;
    mockFetch({
      "GET /api/jobs/job-1/events": () => {
        connections += 1;
        return connections === 1
          ? sse([{ event: "snapshot", data: jobView() }], { close: true })
          : sse(
              [
                { event: "snapshot", data: jobView() },
                { event: "end", data: jobView({ state: "succeeded", message: "done", pending: [] }) },
              ],
              { close: true },
            );
      },
    });
    const onEnd = vi.fn();
    const { result } = renderHook(() => useJobStream("job-1", onEnd));
    await waitFor(
      () => {
        expect(result.current.status).toBe("ended");
      },
      { timeout: 3000 },
    );
    expect(connections).toBe(2);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(result.current.progress?.message).toBe("done");
  });

  it("stops on a 404 (the job was forgotten) with the error", async () => {
    mockFetch({ "GET /api/jobs/gone/events": () => apiError(404, "Job gone not found") });
    const { result } = renderHook(() => useJobStream("gone"));
    await waitFor(() => {
      expect(result.current.status).toBe("failed");
    });
    expect(result.current.error?.message).toBe("Job gone not found");
  });

  it("does nothing without a job", () => {
    const { fn } = mockFetch({});
    const { result } = renderHook(() => useJobStream(null));
    expect(result.current).toEqual({ progress: null, status: "connecting", error: null });
    expect(fn).not.toHaveBeenCalled();
  });
});
