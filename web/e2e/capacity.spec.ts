import { expect, test } from "@playwright/test";

import { env } from "./env";
import { checkPage, CLUSTER_TIMEOUT, deleteDeployment, phase, toasts } from "./helpers";

const NAME = "too-big-e2e";

test.afterAll(async ({ request }) => {
  await deleteDeployment(request, NAME);
});

test("a model too large for any node: the capacity warning before, the pending reason after", async ({ page }) => {
  await test.step("the form warns before submitting", async () => {
    await page.goto("/deploy/Qwen%2FQwen3-0.6B");
    await page.getByRole("radio", { name: /^Kubernetes/ }).check();
    await page.getByLabel("Name", { exact: true }).fill(NAME);
    await page.getByLabel("Namespace", { exact: true }).fill(env.namespace);
    await expect(page.getByText("Capacity warning")).toHaveCount(0);
    // The largest nodes of the local cluster have 8 GPUs.
    await page.getByLabel("GPUs per replica").fill("16");
    const warning = page.getByRole("status").filter({ hasText: "Capacity warning" });
    await expect(warning).toBeVisible();
    await expect(warning).toContainText("One replica needs 16 GPUs but the largest node has 8: it can never be scheduled.");
    await checkPage(page, "deploy-capacity-warning");
  });

  await test.step("it is created anyway and stays Pending, with the reason and advice", async () => {
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/deployments/${NAME}\\?namespace=${env.namespace}`));
    // The server's create-time warning reaches the user too.
    await expect(toasts(page)).toContainText("Deployment created");
    await expect(toasts(page)).toContainText("Scheduling constraint");

    // Its pod is created but no node can take it.
    const pods = page.getByRole("table", { name: "Pods" });
    await expect(pods.getByRole("row").filter({ hasText: NAME })).toContainText("Pending", { timeout: CLUSTER_TIMEOUT });
    await expect(page.getByRole("region", { name: "Status" })).toContainText("0/1 replicas");
    await expect(phase(page)).not.toHaveText(/Running$/);
    await expect(page.getByRole("heading", { name: "Why is this deployment pending?" })).toBeVisible();
    const reason = page.getByRole("listitem").filter({ hasText: "Not enough free GPUs" });
    await expect(reason).toBeVisible({ timeout: CLUSTER_TIMEOUT });
    await expect(reason).toContainText("Lower the GPUs per replica or the replicas");
    await expect(reason).toContainText("A cluster autoscaler can add nodes for this");
    await expect(reason).toContainText("Insufficient nvidia.com/gpu");
    await checkPage(page, "details-pending");
  });

  await test.step("delete it from the list", async () => {
    await page.getByRole("link", { name: "← Deployments" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Deployments" })).toBeVisible();
    await page.getByRole("button", { name: `Delete ${NAME} in ${env.namespace}` }).click();
    const dialog = page.getByRole("dialog", { name: "Delete deployment?" });
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(toasts(page)).toContainText("Deployment deleted");
    await expect(page.getByRole("link", { name: NAME, exact: true })).toHaveCount(0, { timeout: CLUSTER_TIMEOUT });
  });
});
