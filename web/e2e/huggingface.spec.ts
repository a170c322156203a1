import { expect, test } from "@playwright/test";

import { checkPage } from "./helpers";

test("HuggingFace search against the local Hub, with GPU-fit indicators and Load more", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("tab", { name: "HuggingFace" }).click();
  await expect(page).toHaveURL(/\?tab=hf$/);
  await expect(page.getByText("Type at least 2 characters.", { exact: false })).toBeVisible();

  await page.getByRole("searchbox", { name: "Search HuggingFace" }).fill("qwen");
  await expect(page).toHaveURL(/q=qwen/);
  const shown = page.getByRole("status").filter({ hasText: /^Showing \d+ of \d+\+? compatible models$/ });
  await expect(shown).toBeVisible();
  await expect(shown).toContainText("Showing 20 of");

  // A small model fits one GPU of every type here; the planner's reason is shown as text.
  const qwen = page.getByRole("article", { name: "Qwen/Qwen3-0.6B", exact: true });
  await expect(qwen).toBeVisible();
  await expect(qwen.getByText(/GPU fit: Fits 1× /)).toBeVisible();
  await expect(qwen).toContainText("vLLM");
  // GGUF repositories run on CPU with llama.cpp: no GPU verdict.
  const gguf = page.getByRole("article", { name: "Qwen/Qwen3-0.6B-GGUF", exact: true });
  await expect(gguf).toBeVisible();
  await expect(gguf).toContainText("llama.cpp");
  await expect(gguf).toContainText("Runs on CPU");
  await checkPage(page, "models-huggingface-qwen");

  // "Load more" appends the next page to the list.
  const cards = page.getByRole("article");
  await expect(cards).toHaveCount(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect.poll(() => cards.count()).toBeGreaterThan(20);
  await expect(qwen).toBeVisible();
  await expect(shown).not.toContainText("Showing 20 of");

  // A 72B model needs two H100s with tensor parallelism, and only just fits them.
  await page.getByRole("searchbox", { name: "Search HuggingFace" }).fill("Qwen2.5-72B");
  const big = page.getByRole("article", { name: "Qwen/Qwen2.5-72B-Instruct", exact: true });
  await expect(big).toBeVisible();
  await expect(big.getByText("GPU fit: Tight on 2× NVIDIA-H100-80GB-HBM3")).toBeVisible();
  await expect(big).toContainText("(tensor parallel 2)");

  // Deploying a search result opens the form for it, even when the user is quicker than the
  // search's half-second debounce: the pending search must not rewrite the new page's address.
  await page.getByRole("searchbox", { name: "Search HuggingFace" }).fill("Qwen2.5-72B-Instruct");
  await big.getByRole("link", { name: "Deploy Qwen/Qwen2.5-72B-Instruct" }).click();
  await expect(page).toHaveURL(/\/deploy\/Qwen%2FQwen2\.5-72B-Instruct\?source=hf$/);
  await expect(page.getByRole("heading", { level: 2, name: "Qwen/Qwen2.5-72B-Instruct" })).toBeVisible();
  await expect(page.getByText("GPU fit: Tight on 2× NVIDIA-H100-80GB-HBM3")).toBeVisible();
  // The planner's answer is the recommendation.
  await expect(page.getByLabel("GPUs per replica")).toHaveValue("2");
  expect(new URL(page.url()).search).toBe("?source=hf");
});
