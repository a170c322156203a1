import { expect, test, type Page } from "@playwright/test";

import { env } from "./env";
import { checkPage } from "./helpers";

const usd = (n: number) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(n);

function costCard(page: Page) {
  return page.locator("section").filter({ has: page.getByRole("heading", { name: "Estimated cost", exact: true }) });
}

test("the deploy form prices the GPUs: live Azure prices for the cluster's pools, the dated table for other types", async ({ page, request }) => {
  await page.goto("/deploy/Qwen%2FQwen3-0.6B");
  await page.getByRole("radio", { name: /^Kubernetes/ }).check();
  const gpus = page.getByLabel("GPUs per replica");
  const replicas = page.getByLabel("Replicas");
  await gpus.fill("1");
  await replicas.fill("1");
  const cost = costCard(page);
  const select = cost.getByLabel("Price as GPU type");

  await test.step("a GPU type of the cluster: its node pool's live price", async () => {
    await select.selectOption("NVIDIA-A100-SXM4-40GB");
    const status = cost.getByRole("status");
    await expect(status).toContainText(`${usd(env.a100NodePrice)} per hour`);
    await expect(status).toContainText(`${usd(env.a100NodePrice * 730)} per month (730 h)`);
    await expect(status.getByText(/^Live price/)).toBeVisible();
    await expect(status).toContainText("Standard_NC48ads_A100_v4 in eastus (node pool a100)");
    // Four GPUs per node: two replicas of one GPU need two nodes, one per replica.
    await replicas.fill("2");
    await expect(status).toContainText(`${usd(env.a100NodePrice * 2)} per hour`);
  });

  await test.step("a type the cluster lacks: the static table, with its date", async () => {
    await select.selectOption("L4");
    const status = cost.getByRole("status");
    const badge = status.getByText(/^Static price of \d{4}-\d{2}-\d{2}$/);
    await expect(badge).toBeVisible();
    const answer = await request.post("/api/costs/estimate", { data: { gpuType: "L4", gpuCount: 1, replicas: 2 } });
    const body = (await answer.json()) as { breakdown: { estimate: { hourly: number; monthly: number }; notes: string[] } };
    expect(body.breakdown.estimate.hourly).toBeGreaterThan(0);
    await expect(status).toContainText(`${usd(body.breakdown.estimate.hourly)} per hour`);
    await expect(status).toContainText(`${usd(body.breakdown.estimate.monthly)} per month`);
    expect(body.breakdown.notes.join(" ")).toContain(((await badge.textContent()) ?? "").replace("Static price of ", ""));
    await checkPage(page, "deploy-cost");
  });

  await test.step("more GPUs than are free: the cluster's autoscaler can add nodes", async () => {
    await gpus.fill("8");
    await replicas.fill("4");
    const warning = page.getByRole("status").filter({ hasText: "Capacity warning" });
    await expect(warning).toContainText("Needs 32 GPUs but only");
    await expect(warning).toContainText("The autoscaler can add GPU nodes");
    await expect(warning).toContainText("The Cluster Autoscaler manages the cluster's nodes across 2 node groups");
    await expect(warning).toContainText("It is scaling up now.");
    // A replica larger than any node: nodes like the existing ones cannot help.
    await gpus.fill("16");
    await replicas.fill("1");
    await expect(warning).toContainText("An autoscaler is detected, but cannot help");
    await checkPage(page, "deploy-autoscaler-hint");
  });
});

test("Settings shows the cluster autoscaler's status: health, node groups and scaling activity", async ({ page }) => {
  await page.goto("/settings");
  const card = page.locator("section").filter({ has: page.getByRole("heading", { name: "Cluster autoscaling" }) });
  await expect(card.getByText("Cluster Autoscaler", { exact: true })).toBeVisible();
  await expect(card).toContainText("Cluster Autoscaler running on 2 node group(s)");
  await expect(card.getByText("✓ Healthy").first()).toBeVisible();
  await expect(card).toContainText("Yes, now");
  const groups = card.getByRole("table", { name: "Node groups" });
  const h100 = groups.getByRole("row").filter({ hasText: "h100" });
  await expect(h100.getByRole("cell")).toHaveText(["h100", "✓ Healthy", "2/2", "3", "1–4", "In progress", "No candidates"]);
  const t4 = groups.getByRole("row").filter({ hasText: "t4" });
  await expect(t4.getByRole("cell")).toHaveText(["t4", "✓ Healthy", "2/2", "2", "0–6", "No activity", "No candidates"]);
  await checkPage(page, "settings-autoscaler");
});
