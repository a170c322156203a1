import { describe, expect, it } from "vitest";

import { backoff } from "./useLiveDeployments";

describe("backoff", () => {
  it("doubles from 1 s and stops at 15 s", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(backoff)).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
});
