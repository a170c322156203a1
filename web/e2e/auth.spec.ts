import { expect, test } from "@playwright/test";

import { env } from "./env";
import { bearer, checkPage, CLUSTER_TIMEOUT, createDeployment, deleteDeployment, qwenRequest } from "./helpers";

// These run against the server with AUTH_ENABLED: every call acts as the signed-in user.

const TARGET = "viewer-target-e2e";
const admin = bearer(env.adminToken);

test.beforeAll(async ({ request }) => {
  await createDeployment(request, qwenRequest(TARGET), admin);
});

test.afterAll(async ({ request }) => {
  await deleteDeployment(request, TARGET, admin);
  await deleteDeployment(request, env.auditDeployment, admin);
});

test("a page redirects to login; the magic link signs in; a 401 returns to login with a message", async ({ page }) => {
  await test.step("signed out: any page sends the user to the login page", async () => {
    await page.goto("/deployments");
    await expect(page).toHaveURL(/\/login$/);
    const heading = page.getByRole("heading", { level: 1, name: "Sign in to KubeAIRunway" });
    await expect(heading).toBeVisible();
    await expect(heading).toBeFocused();
    await expect(page.getByText("kubeairunway login --server", { exact: false })).toBeVisible();
    await checkPage(page, "login");
  });

  await test.step("the magic link, opened in the tab that shows the login page, signs in", async () => {
    await page.goto(`/login#token=${env.adminToken}`);
    await expect(page).toHaveURL(/\/deployments$/);
    expect(page.url()).not.toContain(env.adminToken);
    await expect(page.getByRole("heading", { level: 1, name: "Deployments" })).toBeVisible();
    await expect(page.getByRole("button", { name: "User menu: admin" })).toBeVisible();
    // The admin sees the deployment the setup made.
    await expect(page.getByRole("link", { name: TARGET, exact: true })).toBeVisible();
  });

  await test.step("a rejected token sends the user back to login and says why", async () => {
    await page.evaluate(() => {
      localStorage.setItem("kubeairunway_auth_token", "not-a-valid-token");
    });
    await page.goto("/deployments");
    await expect(page).toHaveURL(/\/login$/);
    const alert = page.getByRole("alert").filter({ hasText: "Your session has ended" });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText("Sign in again.");
    expect(await page.evaluate(() => localStorage.getItem("kubeairunway_auth_token"))).toBeNull();
    await checkPage(page, "login-session-ended");
  });

  await test.step("signing in again returns to the page the user wanted", async () => {
    await page.goto("/settings?tab=runtimes");
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel("Or paste a Kubernetes token").fill(env.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/settings\?tab=runtimes$/);
    await expect(page.getByRole("cell", { name: "Kubernetes", exact: true })).toBeVisible();

    await page.getByRole("button", { name: "User menu: admin" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("alert").filter({ hasText: "You signed out." })).toBeVisible();
  });
});

test("a wrong pasted token is refused on the login page", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Or paste a Kubernetes token").fill("not-a-valid-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The token was rejected" })).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
  await checkPage(page, "login-token-rejected");
});

test("the read-only user's delete is refused with a clear message", async ({ page }) => {
  // A magic link opened in a new tab.
  await page.goto(`/login#token=${env.viewerToken}`);
  await expect(page).toHaveURL(/\/deployments$/);
  await expect(page.getByRole("button", { name: "User menu: viewer" })).toBeVisible();

  await page.getByRole("button", { name: `Delete ${TARGET} in ${env.namespace}` }).click();
  const dialog = page.getByRole("dialog", { name: "Delete deployment?" });
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(dialog).toBeHidden();
  const toast = page.getByRole("region", { name: "Notifications" });
  await expect(toast).toContainText(`Not allowed to delete ${TARGET}`);
  await expect(toast).toContainText(`Your Kubernetes user has no permission to delete deployments in namespace ${env.namespace}`);
  await expect(toast).toContainText('User "viewer" cannot delete');
  await checkPage(page, "deployments-delete-refused");

  // Nothing was deleted.
  await page.reload();
  await expect(page.getByRole("link", { name: TARGET, exact: true })).toBeVisible();
});

test("a deployment created in the UI is recorded under the signed-in user's name", async ({ page }) => {
  const name = env.auditDeployment;
  await page.goto(`/login#token=${env.adminToken}`);
  await expect(page).toHaveURL(/\/deployments$/);
  await page.goto("/deploy/Qwen%2FQwen3-0.6B");
  await expect(page.getByRole("heading", { level: 1, name: "Deploy model" })).toBeVisible();
  const kubernetes = page.getByRole("radio", { name: /^Kubernetes/ });
  await expect(kubernetes).toBeEnabled({ timeout: CLUSTER_TIMEOUT });
  await kubernetes.check();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Namespace", { exact: true }).fill(env.namespace);
  await page.getByLabel("Name", { exact: true }).press("Control+Enter");
  await expect(page).toHaveURL(new RegExp(`/deployments/${name}\\?namespace=${env.namespace}`));

  // The Activity view names the person (the harness checks the API server's audit log too).
  await page.goto("/activity");
  await expect(page.getByRole("heading", { level: 1, name: "Activity" })).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: `created deployment ${name} in ${env.namespace}` });
  await expect(row).toHaveCount(1, { timeout: CLUSTER_TIMEOUT });
  await expect(row).toContainText("admin");
});
