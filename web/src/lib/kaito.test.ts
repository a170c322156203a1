import type { AikitPremadeModel, CreateDeploymentRequest } from "@kubeairunway/shared";
import { describe, expect, it } from "vitest";

import { defaultGgufFile, initialKaito, kaitoProblem, matchPremade, withKaito, type KaitoValues } from "./kaito";

const premade = (id: string): AikitPremadeModel => ({
  id,
  name: id,
  size: "1B",
  image: `ghcr.io/kaito-project/aikit/${id}`,
  modelName: id,
  license: "MIT",
  computeType: "cpu",
});
const models = ["llama3.2:1b", "llama3.2:3b", "gpt-oss:20b", "qwq:32b"].map(premade);

const base: CreateDeploymentRequest = {
  name: "m",
  namespace: "ns",
  modelId: "org/repo",
  servedModelName: "org/repo",
  engine: "vllm",
  replicas: 1,
  resources: { gpu: 2 },
};

describe("KAITO options", () => {
  it("matches curated ids to premade models, gpt-oss included", () => {
    expect(matchPremade("kaito/llama3.2-1b", models)?.id).toBe("llama3.2:1b");
    expect(matchPremade("kaito/gpt-oss-20b", models)?.id).toBe("gpt-oss:20b");
    expect(matchPremade("kaito/unknown-1b", models)).toBeUndefined();
    expect(matchPremade("llama3.2-1b", models)).toBeUndefined();
  });

  it("picks the Q4_K_M file by default", () => {
    expect(defaultGgufFile(["a.Q8_0.gguf", "a.q4_k_m.gguf", "b.Q4_K_M.gguf"])).toBe("a.q4_k_m.gguf");
    expect(defaultGgufFile(["a.Q8_0.gguf"])).toBe("a.Q8_0.gguf");
    expect(defaultGgufFile([])).toBe("");
  });

  it("says what is missing", () => {
    const hf = initialKaito("org/repo");
    expect(hf.source).toBe("huggingface");
    expect(kaitoProblem(hf, 0)).toBe("Select a GGUF file.");
    const file: KaitoValues = { ...hf, ggufFile: "m.Q4_K_M.gguf" };
    expect(kaitoProblem(file, 0)).toBeNull();
    expect(kaitoProblem({ ...file, computeType: "gpu" }, 0)).toBe("GPU compute needs at least one GPU per replica.");
    expect(kaitoProblem({ ...file, runMode: "build" }, 0)).toBe("Build the image first.");
    // An image built from another file does not count.
    expect(kaitoProblem({ ...file, runMode: "build", builtImage: { imageRef: "x", ggufFile: "other.gguf" } }, 0)).toBe("Build the image first.");
    expect(kaitoProblem({ ...file, runMode: "build", builtImage: { imageRef: "x", ggufFile: "m.Q4_K_M.gguf" } }, 0)).toBeNull();
    const curated = initialKaito("kaito/llama3.2-1b");
    expect(curated.source).toBe("premade");
    expect(kaitoProblem(curated, 0)).toBe("Select a premade model.");
  });

  it("adds the fields the backend maps, per source and run mode", () => {
    const hf: KaitoValues = { ...initialKaito("org/repo"), ggufFile: "m.Q4_K_M.gguf" };
    expect(withKaito(base, hf)).toEqual({
      ...base,
      engine: "llamacpp",
      computeType: "cpu",
      resources: { gpu: 0 },
      modelSource: "huggingface",
      ggufRunMode: "direct",
      ggufFile: "m.Q4_K_M.gguf",
    });
    const built = withKaito(base, { ...hf, computeType: "gpu", runMode: "build", builtImage: { imageRef: "localhost:30500/aikit-org-repo:Q4_K_M", ggufFile: "m.Q4_K_M.gguf" } });
    expect(built).toEqual({
      ...base,
      engine: "llamacpp",
      computeType: "gpu",
      modelSource: "huggingface",
      ggufRunMode: "build",
      imageRef: "localhost:30500/aikit-org-repo:Q4_K_M",
    });
    expect(built.ggufFile).toBeUndefined();
    expect(withKaito(base, { ...initialKaito("kaito/llama3.2-1b"), premadeModel: "llama3.2:1b" })).toEqual({
      ...base,
      engine: "llamacpp",
      computeType: "cpu",
      resources: { gpu: 0 },
      modelSource: "premade",
      premadeModel: "llama3.2:1b",
    });
  });
});
