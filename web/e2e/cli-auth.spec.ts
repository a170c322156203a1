import { expect, test } from "@playwright/test";

import { env } from "./env";

// Runs in the auth-on project (the name ends in `auth.spec.ts`). The harness ran the real
// `kubeairunway login --server <auth server>` with the cluster viewer's kubeconfig and a BROWSER
// that records the link it is started on: that is the link this spec opens.

function loginLink(): string {
  const link = process.env.KAIR_LOGIN_LINK;
  if (!link) {
    throw new Error("KAIR_LOGIN_LINK is not set: the Rust harness (crates/cli/tests/browser.rs) sets it from `kubeairunway login`");
  }
  return link;
}

test("the link `kubeairunway login` opens signs the UI in and leaves no token in the URL or history", async ({ page }) => {
  const link = loginLink();
  expect(link).toBe(`${env.authUrl}/login#token=${encodeURIComponent(env.viewerToken)}`);

  // A page before the link, so there is history to go back through.
  await page.goto("/deployments");
  await expect(page).toHaveURL(/\/login$/);

  await page.goto(link);
  await expect(page).toHaveURL(/\/deployments$/);
  await expect(page.getByRole("heading", { level: 1, name: "Deployments" })).toBeVisible();
  await expect(page.getByRole("button", { name: "User menu: viewer" })).toBeVisible();
  expect(page.url()).not.toContain("token");
  expect(await page.evaluate(() => localStorage.getItem("kubeairunway_auth_token"))).toBe(env.viewerToken);

  // The entry the link made was replaced: neither back nor forward shows the token again.
  await page.goBack();
  expect(page.url()).not.toContain("token");
  await page.goForward();
  await expect(page).toHaveURL(/\/deployments$/);
  expect(page.url()).not.toContain("token");
});
