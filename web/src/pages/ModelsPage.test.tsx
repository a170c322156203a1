import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, settings } from "../test/fixtures";
import { json, mockFetch } from "../test/http";
import { catalogModel, hfModel, plan } from "../test/models";
import { renderApp } from "../test/render";

const base = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
};

describe("ModelsPage", () => {
  it("lists the curated catalog with a GPU-fit indicator per model and engine filters", async () => {
    const user = userEvent.setup();
    mockFetch({
      ...base,
      "GET /api/models": () =>
        json({
          models: [
            catalogModel("Qwen/Qwen3-0.6B"),
            catalogModel("meta/Huge-405B", { supportedEngines: ["vllm"] }),
            catalogModel("kaito/llama3.2-1b", { supportedEngines: ["llamacpp"], minGpus: 0 }),
          ],
        }),
      "GET /api/models/Qwen%2FQwen3-0.6B/plan": () => json(plan("Qwen/Qwen3-0.6B", "fits")),
      "GET /api/models/meta%2FHuge-405B/plan": () => json(plan("meta/Huge-405B", "exceeds")),
    });
    renderApp("/");
    const qwen = await screen.findByRole("article", { name: "Qwen3-0.6B" });
    expect(await within(qwen).findByText("Fits 1× NVIDIA-H100-80GB")).toBeInTheDocument();
    expect(within(qwen).getByText(/on 1× NVIDIA-H100-80GB: fits/)).toBeInTheDocument();
    const huge = screen.getByRole("article", { name: "Huge-405B" });
    expect(await within(huge).findByText("Does not fit")).toBeInTheDocument();
    expect(within(screen.getByRole("article", { name: "llama3.2-1b" })).getByText("Runs on CPU")).toBeInTheDocument();
    expect(within(qwen).getByRole("link", { name: "Deploy Qwen3-0.6B" })).toHaveAttribute("href", "/deploy/Qwen%2FQwen3-0.6B");

    await user.click(screen.getByRole("button", { name: "llama.cpp" }));
    expect(screen.getByRole("button", { name: "llama.cpp" })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByText("1 of 3 models")).toBeInTheDocument();
  });

  it("searches HuggingFace and appends pages with Load more", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...base,
      "GET /api/models/search": (_req, url) => {
        const offset = Number(url.searchParams.get("offset"));
        const models =
          offset === 0
            ? [hfModel("Qwen/A"), { ...hfModel("Qwen/B-GGUF"), supportedEngines: ["llamacpp"], plan: null }]
            : [hfModel("Qwen/C")];
        return json({ models, total: 3, hasMore: offset === 0, complete: true, query: "qwen" });
      },
    });
    renderApp("/?tab=hf");
    await user.type(await screen.findByLabelText("Search HuggingFace"), "qwen");
    expect(await screen.findByRole("article", { name: "Qwen/A" }, { timeout: 2000 })).toBeInTheDocument();
    expect(screen.getByText("Showing 2 of 3 compatible models")).toBeInTheDocument();
    expect(within(screen.getByRole("article", { name: "Qwen/A" })).getByText("Fits 1× NVIDIA-H100-80GB")).toBeInTheDocument();
    // GGUF repositories run on CPU with llama.cpp: no GPU plan, and no "Fit unknown" either.
    const gguf = screen.getByRole("article", { name: "Qwen/B-GGUF" });
    expect(within(gguf).getByText("Runs on CPU")).toBeInTheDocument();
    expect(within(gguf).queryByText("Fit unknown")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("article", { name: "Qwen/C" })).toBeInTheDocument();
    expect(screen.getByRole("article", { name: "Qwen/A" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    const offsets = calls.filter((c) => c.url.includes("/search")).map((c) => new URL(c.url).searchParams.get("offset"));
    expect(offsets).toEqual(["0", "2"]);
  });
});
