import { describe, expect, it } from "vitest";

import { dep } from "../test/fixtures";
import { applyEvent, namespacesOf, visibleDeployments, type DeploymentMap } from "./live";

describe("applyEvent", () => {
  it("replaces everything on a snapshot, keyed by namespace and name", () => {
    const map = applyEvent(new Map(), { type: "snapshot", deployments: [dep("a"), dep("a", "team-b")] });
    expect([...map.keys()]).toEqual(["default/a", "team-b/a"]);
  });

  it("upserts and deletes without mutating the previous map", () => {
    const before: DeploymentMap = applyEvent(new Map(), { type: "snapshot", deployments: [dep("a")] });
    const after = applyEvent(before, { type: "upsert", deployment: dep("a", "default", { phase: "Failed" }) });
    expect(before.get("default/a")?.phase).toBe("Running");
    expect(after.get("default/a")?.phase).toBe("Failed");
    const gone = applyEvent(after, { type: "delete", namespace: "default", name: "a" });
    expect(gone.size).toBe(0);
    expect(applyEvent(gone, { type: "delete", namespace: "default", name: "zzz" })).toBe(gone);
  });
});

describe("visibleDeployments", () => {
  const map = applyEvent(new Map(), {
    type: "snapshot",
    deployments: [
      dep("llama", "team-a", { createdAt: "2026-01-03T00:00:00Z", phase: "Pending" }),
      dep("qwen", "team-b", { createdAt: "2026-01-01T00:00:00Z" }),
      dep("mistral", "team-a", { createdAt: "2026-01-02T00:00:00Z", phase: "Failed" }),
    ],
  });

  it("sorts newest first by default (age ascending)", () => {
    expect(visibleDeployments(map, { namespace: "", search: "", sort: "age", dir: "asc" }).map((d) => d.name)).toEqual([
      "llama",
      "mistral",
      "qwen",
    ]);
  });

  it("sorts by name both ways and by phase (failures first)", () => {
    const names = (sort: "name" | "phase", dir: "asc" | "desc") =>
      visibleDeployments(map, { namespace: "", search: "", sort, dir }).map((d) => d.name);
    expect(names("name", "asc")).toEqual(["llama", "mistral", "qwen"]);
    expect(names("name", "desc")).toEqual(["qwen", "mistral", "llama"]);
    expect(names("phase", "asc")).toEqual(["mistral", "llama", "qwen"]);
  });

  it("filters by namespace and by search text over name, model and namespace", () => {
    expect(visibleDeployments(map, { namespace: "team-a", search: "", sort: "name", dir: "asc" }).map((d) => d.name)).toEqual([
      "llama",
      "mistral",
    ]);
    expect(visibleDeployments(map, { namespace: "", search: "QWEN-MO", sort: "name", dir: "asc" }).map((d) => d.name)).toEqual([
      "qwen",
    ]);
    expect(visibleDeployments(map, { namespace: "", search: "team-b", sort: "name", dir: "asc" })).toHaveLength(1);
  });

  it("lists the namespaces present", () => {
    expect(namespacesOf(map)).toEqual(["team-a", "team-b"]);
  });
});
