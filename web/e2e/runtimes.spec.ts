import { expect, test, type Locator, type Page } from "@playwright/test";

import { env } from "./env";
import { checkPage, toasts } from "./helpers";

// Runs after the other specs of the project (files run in name order): it installs KAITO's
// operator, which the pages before it show as not ready, and finally removes its registration.

/** The provider's card on Settings → Runtimes (a `<section>` named after the provider). */
function providerCard(page: Page, name: string): Locator {
  return page.getByRole("region", { name, exact: true });
}

/** The live panel of a job, named by its heading (e.g. `Install: Kaito`, then its state). */
function jobPanel(card: Locator, title: string): Locator {
  return card.getByRole("region", { name: new RegExp(`^${title}\\b`) });
}

test("install a provider from the chart repository, watch its Helm output, see it ready, uninstall it", async ({ page }) => {
  const id = env.installProvider;
  const name = id.charAt(0).toUpperCase() + id.slice(1);
  await page.goto("/settings?tab=runtimes");
  await expect(page.getByRole("tab", { name: "Runtimes" })).toHaveAttribute("aria-selected", "true");
  const card = providerCard(page, name);

  await test.step("before: Helm is available, the provider registered but not ready, its chart not installed", async () => {
    await expect(page.getByText("Helm CLI").locator("xpath=following-sibling::dd[1]")).toContainText("Available");
    await expect(card.getByRole("heading", { level: 3 })).toContainText("Not ready");
    await expect(card.getByRole("table", { name: `Helm charts of ${name}` })).toContainText("Not installed");
    await expect(card.getByRole("button", { name: "Uninstall" })).toBeDisabled();
  });

  await test.step("install: every step's Helm output streams into the panel", async () => {
    await card.getByRole("button", { name: `Install ${name}` }).click();
    const panel = jobPanel(card, `Install: ${name}`);
    await expect(panel).toBeVisible();
    const output = panel.getByRole("region", { name: `Output of Install: ${name}` });
    // The commands run against the repository on loopback, and Helm's own words come back.
    await expect(output).toContainText(`helm repo add --force-update -- ${id} ${env.chartRepo}`);
    await expect(output).toContainText(`"${id}" has been added to your repositories`);
    await expect(output).toContainText("STATUS: deployed", { timeout: 60_000 });
    const steps = panel.getByRole("list", { name: "Steps" }).getByRole("listitem");
    await expect(steps).not.toHaveCount(0);
    for (const step of await steps.all()) await expect(step).toContainText("Succeeded");
    await expect(panel.getByRole("heading", { level: 4 })).toContainText("succeeded");
    await expect(toasts(page)).toContainText(`Install finished: ${name}`);
  });

  await test.step("the provider becomes ready once its operator's CRD is in the cluster", async () => {
    await expect(card.getByRole("heading", { level: 3 })).toContainText("Ready", { timeout: 30_000 });
    await expect(card.getByRole("heading", { level: 3 })).not.toContainText("Not ready");
    await expect(card.getByRole("table", { name: `Helm charts of ${name}` })).toContainText("deployed (revision 1)");
    const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name, exact: true }) });
    await expect(row).toContainText("Healthy", { timeout: 30_000 });
    await checkPage(page, "settings-runtimes-installed");
  });

  await test.step("uninstall after confirming: the release is gone", async () => {
    await card.getByRole("button", { name: "Uninstall" }).click();
    const dialog = page.getByRole("dialog", { name: `Uninstall ${name}?` });
    await dialog.getByRole("button", { name: "Uninstall" }).click();
    const panel = jobPanel(card, `Uninstall: ${name}`);
    await expect(panel.getByRole("heading", { level: 4 })).toContainText("succeeded", { timeout: 60_000 });
    await expect(panel.getByRole("region", { name: `Output of Uninstall: ${name}` })).toContainText("uninstalled");
    await expect(toasts(page)).toContainText(`Uninstall finished: ${name}`);
    await expect(card.getByRole("table", { name: `Helm charts of ${name}` })).toContainText("Not installed");
    await expect(card.getByRole("button", { name: "Uninstall" })).toBeDisabled();
  });

  await test.step("remove its CRDs after typing its id: the provider is no longer offered", async () => {
    await card.getByRole("button", { name: "Remove CRDs" }).click();
    const dialog = page.getByRole("dialog", { name: `Remove the CRDs of ${name}?` });
    const confirm = dialog.getByRole("button", { name: "Remove CRDs" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`Type ${id} to confirm`).fill(id);
    await confirm.click();
    await expect(toasts(page)).toContainText(`Remove CRDs finished: ${name}`, { timeout: 60_000 });
    await expect(card).toHaveCount(0);
    const runtimes = await page.request.get("/api/runtimes/status");
    expect(runtimes.ok()).toBe(true);
    const body = (await runtimes.json()) as { runtimes: { id: string }[] };
    expect(body.runtimes.map((r) => r.id)).not.toContain(id);
  });
});
