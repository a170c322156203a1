import { ApiError } from "@kubeairunway/shared";
import { describe, expect, it } from "vitest";

import { actionFailure } from "./failure";

describe("actionFailure", () => {
  it("says in plain words that a 403 is the user's own permissions", () => {
    const error = new ApiError(403, 'modeldeployments.kubeairunway.ai "qwen" is forbidden: User "viewer" cannot delete');
    const f = actionFailure("delete", "qwen", "team-a", error);
    expect(f.title).toBe("Not allowed to delete qwen");
    expect(f.message).toMatch(/^Your Kubernetes user has no permission to delete deployments in namespace team-a; /);
    expect(f.message).toContain('User "viewer" cannot delete');
  });

  it("keeps the server's message and the caller's title otherwise", () => {
    const error = new ApiError(409, "already exists");
    expect(actionFailure("scale", "qwen", "ns", error)).toEqual({ title: "Could not scale qwen", message: "already exists" });
    expect(actionFailure("create", "qwen", "ns", error, "Deployment failed").title).toBe("Deployment failed");
    expect(actionFailure("delete", "qwen", "ns", new Error("offline")).title).toBe("Could not delete qwen");
  });
});
