import { describe, expect, it } from "vitest";

import { toYaml } from "./yaml";

describe("toYaml", () => {
  it("writes a manifest the way kubectl does", () => {
    const yaml = toYaml({
      apiVersion: "kubeairunway.ai/v1alpha1",
      kind: "ModelDeployment",
      metadata: { name: "qwen", labels: { "app.kubernetes.io/name": "kubeairunway" }, annotations: {} },
      spec: {
        model: { id: "Qwen/Qwen3-0.6B" },
        engine: { type: "vllm", args: { "max-model-len": "4096" } },
        scaling: { replicas: 2 },
      },
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Scheduled", status: "False", message: "0/3 nodes: insufficient nvidia.com/gpu" },
        ],
        ports: [8000, 8001],
        empty: [],
      },
    });
    expect(yaml).toBe(
      [
        "apiVersion: kubeairunway.ai/v1alpha1",
        "kind: ModelDeployment",
        "metadata:",
        "  name: qwen",
        "  labels:",
        "    app.kubernetes.io/name: kubeairunway",
        "  annotations: {}",
        "spec:",
        "  model:",
        "    id: Qwen/Qwen3-0.6B",
        "  engine:",
        "    type: vllm",
        "    args:",
        '      max-model-len: "4096"',
        "  scaling:",
        "    replicas: 2",
        "status:",
        "  conditions:",
        "  - type: Ready",
        '    status: "True"',
        "  - type: Scheduled",
        '    status: "False"',
        '    message: "0/3 nodes: insufficient nvidia.com/gpu"',
        "  ports:",
        "  - 8000",
        "  - 8001",
        "  empty: []",
        "",
      ].join("\n"),
    );
  });

  it("quotes what YAML would misread and keeps multi-line strings as blocks", () => {
    expect(toYaml({ a: "yes", b: "", c: "null", d: "-dash", e: "#x", f: "1.5", g: null, h: true })).toBe(
      'a: "yes"\nb: ""\nc: "null"\nd: "-dash"\ne: "#x"\nf: "1.5"\ng: null\nh: true\n',
    );
    expect(toYaml({ script: "line 1\nline 2\n" })).toBe("script: |\n  line 1\n  line 2\n");
    expect(toYaml([["a"], { k: "v" }])).toBe("-\n  - a\n- k: v\n");
  });
});
