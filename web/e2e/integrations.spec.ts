import { expect, test } from "@playwright/test";

import { env } from "./env";
import { checkPage, toasts } from "./helpers";

test("HuggingFace: a pasted token and the OAuth sign-in both store the token Secret", async ({ page }) => {
  await page.goto("/settings?tab=integrations");
  await expect(page.getByRole("tab", { name: "Integrations" })).toHaveAttribute("aria-selected", "true");

  await test.step("paste a token", async () => {
    await page.getByLabel("Or paste an access token").fill(env.hfToken);
    await page.getByRole("button", { name: "Save token" }).click();
    await expect(toasts(page)).toContainText("HuggingFace token saved");
    const status = page.getByRole("status").filter({ hasText: "Token stored" });
    await expect(status).toContainText("as test-user");
    await expect(page.getByLabel("Or paste an access token")).toHaveValue("");
  });

  await test.step("disconnect", async () => {
    await page.getByRole("button", { name: "Disconnect" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove the HuggingFace token?" });
    await dialog.getByRole("button", { name: "Remove" }).click();
    await expect(page.getByRole("status").filter({ hasText: "No token" })).toBeVisible();
  });

  await test.step("sign in with HuggingFace (the local Hub consents at once)", async () => {
    await page.getByRole("button", { name: "Sign in with HuggingFace" }).click();
    await expect(page).toHaveURL(/\/oauth\/callback\/huggingface\?/);
    await expect(page.getByRole("heading", { level: 1, name: "HuggingFace sign-in" })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Signed in as test-user" })).toBeVisible();
    await checkPage(page, "huggingface-callback");
    await page.getByRole("link", { name: "Back to Settings" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Token stored" })).toContainText("as test-user");
  });
});
