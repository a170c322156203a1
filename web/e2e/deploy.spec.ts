import { expect, test } from "@playwright/test";

import { env } from "./env";
import { card, CLUSTER_TIMEOUT, deleteDeployment, expectAccessible, phase, screenshot, toasts } from "./helpers";

const NAME = "qwen-e2e";

test.afterAll(async ({ request }) => {
  await deleteDeployment(request, NAME);
});

test("catalog → deploy Qwen3-0.6B on kubernetes → Running → logs → scale → delete", async ({ page }) => {
  await test.step("browse the curated catalog", async () => {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1, name: "Model catalog" })).toBeVisible();
    await expect(page.getByRole("tab", { name: "Curated models" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByText("18 models", { exact: true })).toBeVisible();

    // Engine filters: llama.cpp lists the GGUF presets only.
    const llamacpp = page.getByRole("button", { name: "llama.cpp" });
    await llamacpp.click();
    await expect(llamacpp).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByText("10 of 18 models", { exact: true })).toBeVisible();
    await expect(page.getByRole("article", { name: "Qwen3 0.6B" })).toHaveCount(0);
    await llamacpp.click();

    await page.getByRole("searchbox", { name: "Search models" }).fill("qwen3");
    const qwen = page.getByRole("article", { name: "Qwen3 0.6B" });
    await expect(qwen).toBeVisible();
    await expect(page.getByText("1 of 18 models", { exact: true })).toBeVisible();
    // The planner's verdict for the cluster's GPUs, in words.
    await expect(qwen.getByText(/GPU fit: Fits 1× /)).toBeVisible();
    await qwen.getByRole("link", { name: "Deploy Qwen3 0.6B" }).click();
  });

  await test.step("fill the deploy form and preview the manifest", async () => {
    await expect(page).toHaveURL(/\/deploy\/Qwen%2FQwen3-0\.6B$/);
    await expect(page.getByRole("heading", { level: 1, name: "Deploy model" })).toBeVisible();
    const kubernetes = page.getByRole("radio", { name: /^Kubernetes/ });
    await expect(kubernetes).toBeEnabled();
    await kubernetes.check();
    await expect(page.getByRole("radio", { name: "vLLM" })).toBeChecked();
    // Engines the chosen runtime cannot run stay visible, but cannot be chosen.
    await expect(page.getByRole("radio", { name: "SGLang" })).toBeDisabled();
    await expect(page.getByRole("radio", { name: "TensorRT-LLM" })).toBeDisabled();
    await page.getByLabel("Name", { exact: true }).fill(NAME);
    await page.getByLabel("Namespace", { exact: true }).fill(env.namespace);
    const gpus = page.getByLabel("GPUs per replica");
    await expect(gpus).toHaveValue("1");
    await expect(page.getByText(/^Recommended: 1\./)).toBeVisible();
    await expect(page.getByText("Capacity warning")).toHaveCount(0);

    await page.getByRole("button", { name: "Preview manifest" }).click();
    const preview = card(page, "Manifest preview (server-side dry run)");
    await expect(preview).toContainText("kind: ModelDeployment");
    await expect(preview).toContainText(`name: ${NAME}`);
    await expect(preview).toContainText(`namespace: ${env.namespace}`);
    await expectAccessible(page, "the deploy form with a preview");
    await screenshot(page, "deploy-preview");
  });

  await test.step("submit from the keyboard and watch it reach Running", async () => {
    await page.getByLabel("Name", { exact: true }).press("Control+Enter");
    await expect(page).toHaveURL(new RegExp(`/deployments/${NAME}\\?namespace=${env.namespace}`));
    await expect(page.getByRole("heading", { level: 1, name: NAME })).toBeVisible();
    await expect(toasts(page)).toContainText("Deployment created");
    await expect(phase(page)).toHaveText(/Running$/, { timeout: CLUSTER_TIMEOUT });
    const status = page.getByRole("region", { name: "Status" });
    await expect(status).toContainText("1/1 replicas");
    await expect(status).toContainText(/Provider\s*kubernetes/);
    await expect(page.getByRole("heading", { name: "Pods (1)" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Why is this deployment pending?" })).toHaveCount(0);
  });

  await test.step("read the logs, search them and follow them", async () => {
    await page.getByRole("tab", { name: "Logs" }).click();
    const lines = page.getByRole("log", { name: "Log lines" });
    await expect(lines).toContainText("e2e log line", { timeout: CLUSTER_TIMEOUT });
    const count = page.getByRole("status").filter({ hasText: /^\d+ lines/ });
    await expect(count).toBeVisible();

    await page.getByRole("searchbox", { name: "Search" }).fill("serving requests");
    await expect(page.getByRole("status").filter({ hasText: /matching/ })).toBeVisible();
    await expect(lines.locator("mark").first()).toHaveText("serving requests");
    await page.getByRole("searchbox", { name: "Search" }).fill("");

    const follow = page.getByRole("button", { name: "Follow" });
    await follow.click();
    await expect(page.getByRole("button", { name: "Stop following" })).toHaveAttribute("aria-pressed", "true");
    const following = page.getByRole("status").filter({ hasText: /^Following · \d+ lines/ });
    await expect(following).toBeVisible();
    const before = Number(/(\d+) lines/.exec((await following.textContent()) ?? "")?.[1] ?? "0");
    // The harness appends a line every second: following shows new ones without a refresh.
    await expect
      .poll(async () => Number(/(\d+) lines/.exec((await following.textContent()) ?? "")?.[1] ?? "0"), {
        timeout: 20_000,
        message: "followed log lines arrive",
      })
      .toBeGreaterThan(before);
    await expectAccessible(page, "the logs tab while following");
    await page.getByRole("button", { name: "Stop following" }).click();
  });

  await test.step("scale to two replicas", async () => {
    await page.getByRole("tab", { name: "Overview" }).click();
    const replicas = page.getByRole("spinbutton", { name: "Replicas" });
    await expect(replicas).toHaveValue("1");
    await replicas.fill("2");
    await page.getByRole("button", { name: "Scale", exact: true }).click();
    await expect(toasts(page)).toContainText(`Scaled ${NAME}`);
    const status = page.getByRole("region", { name: "Status" });
    await expect(status).toContainText("2/2 replicas", { timeout: CLUSTER_TIMEOUT });
    await expect(page.getByRole("heading", { name: "Pods (2)" })).toBeVisible();
  });

  await test.step("delete it with confirmation", async () => {
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete deployment?" });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText(`${NAME} in namespace ${env.namespace}`);
    // Focus starts on the safe choice.
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await expectAccessible(page, "the delete confirmation");
    await screenshot(page, "details-delete-dialog");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(page).toHaveURL(/\/deployments$/);
    await expect(toasts(page)).toContainText("Deployment deleted");
    await expect(page.getByRole("link", { name: NAME, exact: true })).toHaveCount(0, { timeout: CLUSTER_TIMEOUT });
  });
});
