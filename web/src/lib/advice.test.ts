import { describe, expect, it } from "vitest";

import { adviceFor } from "./advice";

describe("adviceFor", () => {
  it("explains a GPU shortage and mentions the autoscaler when it can help", () => {
    const a = adviceFor({
      reason: "FailedScheduling",
      message: "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.",
      isResourceConstraint: true,
      canAutoscalerHelp: true,
      resourceType: "gpu",
    });
    expect(a.title).toBe("Not enough free GPUs");
    expect(a.advice).toMatch(/autoscaler/);
  });

  it("explains taints and image pulls", () => {
    expect(
      adviceFor({ reason: "FailedScheduling", message: "1 node(s) had untolerated taint", isResourceConstraint: true, canAutoscalerHelp: false })
        .title,
    ).toBe("Nodes are tainted");
    expect(
      adviceFor({ reason: "Failed", message: "Failed to pull image \"x\"", isResourceConstraint: false, canAutoscalerHelp: false }).title,
    ).toBe("The image cannot be pulled");
  });
});
