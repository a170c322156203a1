import type { AikitPremadeModel, CreateDeploymentRequest } from "@kubeairunway/shared";

/** Where a KAITO llama.cpp model comes from. */
export type KaitoSource = "premade" | "huggingface";
/** How a HuggingFace GGUF file is run: fetched by the runner at start, or baked into an image. */
export type GgufRunMode = "direct" | "build";
/** CPU or GPU nodes. */
export type ComputeType = "cpu" | "gpu";

/** The KAITO options of the deploy form (llama.cpp models). */
export interface KaitoValues {
  source: KaitoSource;
  computeType: ComputeType;
  /** Premade AIKit model id (`llama3.2:1b`). */
  premadeModel: string;
  /** The `.gguf` file of the HuggingFace repository. */
  ggufFile: string;
  runMode: GgufRunMode;
  /** The image the build produced (run mode `build`), for the file it was built from. */
  builtImage: { imageRef: string; ggufFile: string } | null;
}

/** The defaults for a model: premade for curated `kaito/…` ids, else a HuggingFace GGUF repository. */
export function initialKaito(modelId: string): KaitoValues {
  return {
    source: modelId.startsWith("kaito/") ? "premade" : "huggingface",
    computeType: "cpu",
    premadeModel: "",
    ggufFile: "",
    runMode: "direct",
    builtImage: null,
  };
}

/**
 * The premade model of a curated catalog id: `kaito/llama3.2-1b` is `llama3.2:1b`. The ids are
 * compared with the `:` of the premade id written as `-`, so `kaito/gpt-oss-20b` finds
 * `gpt-oss:20b` (the reference replaced the first `-` with `:` and never matched it).
 */
export function matchPremade(modelId: string, models: readonly AikitPremadeModel[]): AikitPremadeModel | undefined {
  if (!modelId.startsWith("kaito/")) return undefined;
  const wanted = modelId.slice("kaito/".length).toLowerCase();
  return models.find((m) => m.id.replace(":", "-").toLowerCase() === wanted);
}

/** The file to pre-select: the first Q4_K_M file (a good size/quality balance), else the first. */
export function defaultGgufFile(files: readonly string[]): string {
  return files.find((f) => /q4_k_m/i.test(f)) ?? files[0] ?? "";
}

/** Why the KAITO options cannot be deployed yet, or `null`. */
export function kaitoProblem(v: KaitoValues, gpus: number): string | null {
  if (v.computeType === "gpu" && gpus < 1) return "GPU compute needs at least one GPU per replica.";
  if (v.source === "premade") return v.premadeModel ? null : "Select a premade model.";
  if (!v.ggufFile) return "Select a GGUF file.";
  if (v.runMode === "build" && v.builtImage?.ggufFile !== v.ggufFile) return "Build the image first.";
  return null;
}

/**
 * `body` with the KAITO fields: llama.cpp, the compute type, and the model's source — a premade
 * image, a GGUF file run directly, or the image built from it (the file is in the image then).
 */
export function withKaito(body: CreateDeploymentRequest, v: KaitoValues): CreateDeploymentRequest {
  const out: CreateDeploymentRequest = { ...body, engine: "llamacpp", computeType: v.computeType };
  if (v.computeType === "cpu") out.resources = { ...body.resources, gpu: 0 };
  if (v.source === "premade") {
    out.modelSource = "premade";
    out.premadeModel = v.premadeModel;
  } else if (v.runMode === "build" && v.builtImage) {
    out.modelSource = "huggingface";
    out.ggufRunMode = "build";
    out.imageRef = v.builtImage.imageRef;
  } else {
    out.modelSource = "huggingface";
    out.ggufRunMode = "direct";
    out.ggufFile = v.ggufFile;
  }
  return out;
}
