import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, settings } from "../../test/fixtures";
import { apiError, json, mockFetch, sse } from "../../test/http";
import { jobView } from "../../test/jobs";
import { catalogModel, hfModel } from "../../test/models";
import { renderApp } from "../../test/render";

const kaitoRuntime = {
  runtimes: [{ id: "kaito", name: "KAITO", installed: true, healthy: true, message: "Provider ready" }],
};

const premadeModels = {
  total: 2,
  models: [
    { id: "llama3.2:1b", name: "Llama 3.2", size: "1B", image: "ghcr.io/kaito-project/aikit/llama3.2:1b", modelName: "llama-3.2-1b-instruct", license: "Llama", description: "small", computeType: "cpu" },
    { id: "gpt-oss:20b", name: "GPT-OSS", size: "20B", image: "ghcr.io/kaito-project/aikit/gpt-oss:20b", modelName: "gpt-oss-20b", license: "Apache 2.0", computeType: "cpu" },
  ],
};

const base = {
  "GET /api/settings": () => json({ ...settings(false), config: { defaultNamespace: "team-a" } }),
  "GET /api/cluster/status": () => json(connected),
  "GET /api/runtimes/status": () => json(kaitoRuntime),
  "GET /api/installation/gpu-capacity": () => json({ totalGpus: 0, allocatedGpus: 0, availableGpus: 0, maxContiguousAvailable: 0, maxNodeGpuCapacity: 0, gpuNodeCount: 0, nodes: [] }),
  "GET /api/aikit/models": () => json(premadeModels),
};

function infra(ready: boolean) {
  return {
    ready,
    registry: { installed: ready, ready, url: "kubeairunway-registry.kubeairunway-system.svc:5000", message: ready ? "Registry ready at x" : "Registry deployment not found" },
    builder: { exists: ready, ready, running: ready, name: "kubeairunway-builder", driver: "kubernetes", address: "tcp://b:1234", message: ready ? "Builder is ready" : "Builder not found" },
  };
}

async function deployBody(calls: Request[]) {
  const post = calls.find((c) => c.method === "POST" && new URL(c.url).pathname === "/api/deployments");
  return (await post?.json()) as Record<string, unknown>;
}

describe("KAITO deploy options", () => {
  it("matches a curated model to its premade image and deploys it on CPU", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...base,
      "GET /api/models/kaito%2Fgpt-oss-20b": () => json(catalogModel("kaito/gpt-oss-20b", { supportedEngines: ["llamacpp"], minGpus: 0 })),
      "POST /api/deployments": () => json({ message: "created", name: "gpt", namespace: "team-a" }, 201),
      "GET /api/deployments/gpt": () => apiError(404, "later"),
      "GET /api/deployments/gpt/pending-reasons": () => json({ reasons: [] }),
      "GET /api/deployments/gpt/manifest": () => apiError(404, "later"),
    });
    renderApp("/deploy/kaito%2Fgpt-oss-20b");
    await user.click(await screen.findByRole("radio", { name: /KAITO/ }, { timeout: 5000 }));
    const select = await screen.findByLabelText("Premade model");
    expect(select).toHaveValue("gpt-oss:20b");
    expect(screen.getByText("ghcr.io/kaito-project/aikit/gpt-oss:20b")).toBeInTheDocument();
    const name = screen.getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "gpt");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(await screen.findByText("Deployment created")).toBeInTheDocument();
    const body = await deployBody(calls);
    expect(body).toMatchObject({ engine: "llamacpp", computeType: "cpu", modelSource: "premade", premadeModel: "gpt-oss:20b", resources: { gpu: 0 } });
  });

  it("lists GGUF files, sets up the builder, builds with live progress and deploys the built image", async () => {
    const user = userEvent.setup();
    let ready = false;
    const job = jobView({ jobId: "b-1", kind: "build-image", target: "aikit/aikit-org-repo-gguf:Q4_K_M", pending: [{ step: "build", title: "Build aikit-org-repo-gguf:Q4_K_M", command: "buildctl --addr=tcp://b:1234 build --frontend=gateway.v0" }] });
    const done = jobView({
      ...job,
      state: "succeeded",
      message: "AIKit image built successfully",
      pending: [],
      steps: [{ step: "build", title: "Build aikit-org-repo-gguf:Q4_K_M", command: "buildctl --addr=tcp://b:1234 build --frontend=gateway.v0", state: "succeeded", output: "", error: "#1 resolve image config\n#1 DONE 0.1s\n#5 pushing manifest for x done\n", exitCode: 0, timedOut: false, startedAt: "2026-01-01T00:00:01Z", durationMs: 3000 }],
      details: { imageRef: "localhost:30500/aikit-org-repo-gguf:Q4_K_M", wasPremade: false, buildTime: 3.0 },
    });
    const { calls } = mockFetch({
      ...base,
      "GET /api/models/search": () => json({ models: [{ ...hfModel("org/repo-GGUF"), supportedEngines: ["llamacpp"], libraryName: "gguf" }], total: 1, hasMore: false, query: "org/repo-GGUF", complete: true }),
      "GET /api/models/org%2Frepo-GGUF/gguf-files": () => json({ files: ["m.Q8_0.gguf", "m.Q4_K_M.gguf"], sizes: { "m.Q4_K_M.gguf": 800 * 1024 * 1024 } }),
      "GET /api/aikit/infrastructure/status": () => json(infra(ready)),
      "POST /api/aikit/infrastructure/setup": () => {
        ready = true;
        return json({ success: true, message: "Build infrastructure is ready", registry: { url: "r", ready: true }, builder: { name: "kubeairunway-builder", ready: true }, created: ["Deployment/kubeairunway-registry"] });
      },
      "POST /api/aikit/build": () => json({ jobId: "b-1", kind: "build-image", target: job.target, state: "queued", message: "Job accepted", statusUrl: "/api/jobs/b-1", eventsUrl: "/api/jobs/b-1/events" }, 202),
      "GET /api/jobs/b-1/events": (request) =>
        sse(
          [
            { event: "snapshot", data: job },
            { event: "step-start", data: { index: 0, step: "build", title: job.pending[0]?.title, command: job.pending[0]?.command } },
            { event: "output", data: { index: 0, step: "build", stream: "stderr", line: "#1 resolve image config" } },
            { event: "output", data: { index: 0, step: "build", stream: "stderr", line: "#5 pushing manifest for x done" } },
            { event: "step-end", data: { index: 0, step: "build", state: "succeeded", success: true, exitCode: 0, timedOut: false, durationMs: 3000 } },
            { event: "end", data: done },
          ],
          { signal: request.signal },
        ),
      "GET /api/jobs/b-1": () => json(done),
      "POST /api/deployments": () => json({ message: "created", name: "gguf", namespace: "team-a" }, 201),
      "GET /api/deployments/gguf": () => apiError(404, "later"),
      "GET /api/deployments/gguf/pending-reasons": () => json({ reasons: [] }),
      "GET /api/deployments/gguf/manifest": () => apiError(404, "later"),
    });
    renderApp("/deploy/org%2Frepo-GGUF?source=hf");
    await user.click(await screen.findByRole("radio", { name: /KAITO/ }, { timeout: 5000 }));
    const file = await screen.findByLabelText("GGUF file");
    expect(file).toHaveValue("m.Q4_K_M.gguf");
    expect(screen.getByRole("option", { name: "m.Q4_K_M.gguf (800.0 MB)" })).toBeInTheDocument();
    await user.click(screen.getByRole("radio", { name: /Build image/ }));
    expect(await screen.findByText(/Builder not found/)).toBeInTheDocument();
    // Deploying needs the image first.
    const name = screen.getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "gguf");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(within(screen.getByRole("alert", { name: "" })).getByText("Build the image first.")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Set up build infrastructure" }));
    await user.click(await screen.findByRole("button", { name: "Build image" }));
    expect(await screen.findByText(/pushing manifest for x done/)).toBeInTheDocument();
    expect(await screen.findByText("localhost:30500/aikit-org-repo-gguf:Q4_K_M")).toBeInTheDocument();
    const build = calls.find((c) => c.method === "POST" && new URL(c.url).pathname === "/api/aikit/build");
    expect(new URL(build?.url ?? "http://x").searchParams.get("async")).toBe("true");
    expect(await build?.json()).toEqual({ modelSource: "huggingface", modelId: "org/repo-GGUF", ggufFile: "m.Q4_K_M.gguf" });

    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(await screen.findByText("Deployment created")).toBeInTheDocument();
    const body = await deployBody(calls);
    expect(body).toMatchObject({ engine: "llamacpp", computeType: "cpu", modelSource: "huggingface", ggufRunMode: "build", imageRef: "localhost:30500/aikit-org-repo-gguf:Q4_K_M" });
    expect(body.ggufFile).toBeUndefined();
  });
});
