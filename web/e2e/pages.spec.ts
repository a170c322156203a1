import { expect, test, type Page } from "@playwright/test";

import { env } from "./env";
import { CLUSTER_TIMEOUT, checkPage, createDeployment, deleteDeployment, detailsPath, phase, qwenRequest, waitForPhase } from "./helpers";

// Every page, in the light and the dark theme: axe-core finds no serious or critical
// violation, and a full-page screenshot is kept as a test artifact.

const NAME = "pages-e2e";

test.beforeAll(async ({ request }) => {
  await createDeployment(request, qwenRequest(NAME));
  await waitForPhase(request, NAME, "Running");
});

test.afterAll(async ({ request }) => {
  await deleteDeployment(request, NAME);
});

/** Opens `path` and waits for its level-1 heading. */
async function open(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
}

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    /** The theme follows the system preference (no choice stored); then axe and a screenshot. */
    const shoot = async (page: Page, name: string) => {
      await expect(page.locator("html")).toHaveClass(scheme === "dark" ? /\bdark\b/ : /^(?!.*\bdark\b)/);
      await checkPage(page, `${name}-${scheme}`);
    };

    test("Models: curated", async ({ page }) => {
      await open(page, "/", "Model catalog");
      await expect(page.getByText("18 models", { exact: true })).toBeVisible();
      await expect(page.getByText("Checking GPU fit…")).toHaveCount(0);
      await shoot(page, "models-curated");
    });

    test("Models: HuggingFace", async ({ page }) => {
      await open(page, "/?tab=hf&q=qwen", "Model catalog");
      await expect(page.getByRole("status").filter({ hasText: /^Showing \d+ of/ })).toBeVisible();
      await shoot(page, "models-huggingface");
    });

    test("Deploy", async ({ page }) => {
      await open(page, "/deploy/Qwen%2FQwen3-0.6B", "Deploy model");
      await expect(page.getByRole("radio", { name: /^Kubernetes/ })).toBeVisible();
      await expect(page.getByText(/GPU fit: Fits/)).toBeVisible();
      await page.getByText("Advanced options").click();
      await shoot(page, "deploy");
    });

    test("Deployments", async ({ page }) => {
      await open(page, "/deployments", "Deployments");
      await expect(page.getByText("Live: changes appear as they happen")).toBeVisible();
      await expect(page.getByRole("link", { name: NAME, exact: true })).toBeVisible();
      await shoot(page, "deployments");
    });

    test("Deployment details: overview", async ({ page }) => {
      await open(page, detailsPath(NAME), NAME);
      await expect(phase(page)).toHaveText(/Running$/);
      await expect(page.getByText(`kubectl port-forward svc/`, { exact: false })).toBeVisible();
      // The progress timeline: five steps, the last one (Ready) done (KWOK pods are ready at once).
      const steps = page.getByRole("list", { name: "Steps to serving" }).getByRole("listitem");
      await expect(steps).toHaveCount(5, { timeout: CLUSTER_TIMEOUT });
      await expect(steps.last()).toContainText(/Ready\s*Done/, { timeout: CLUSTER_TIMEOUT });
      await shoot(page, "details-overview");
    });

    test("Deployment details: logs", async ({ page }) => {
      await open(page, detailsPath(NAME, "logs"), NAME);
      await expect(page.getByRole("log", { name: "Log lines" })).toContainText("e2e log line", { timeout: CLUSTER_TIMEOUT });
      await shoot(page, "details-logs");
    });

    test("Deployment details: manifest", async ({ page }) => {
      await open(page, detailsPath(NAME, "manifest"), NAME);
      await expect(page.getByText("kind: ModelDeployment")).toBeVisible();
      await expect(page.getByRole("combobox", { name: "Object" })).toBeVisible();
      await shoot(page, "details-manifest");
    });

    test("Settings: General", async ({ page }) => {
      await open(page, "/settings", "Settings");
      await expect(page.getByText("Connected", { exact: true }).first()).toBeVisible();
      await expect(page.getByLabel("Namespace used when a request names none")).toBeVisible();
      await shoot(page, "settings-general");
    });

    test("Settings: Runtimes", async ({ page }) => {
      await open(page, "/settings?tab=runtimes", "Settings");
      await expect(page.getByRole("cell", { name: "Kubernetes", exact: true })).toBeVisible();
      await shoot(page, "settings-runtimes");
    });

    test("Settings: Integrations", async ({ page }) => {
      await open(page, "/settings?tab=integrations", "Settings");
      await expect(page.getByRole("button", { name: "Sign in with HuggingFace" })).toBeVisible();
      await shoot(page, "settings-integrations");
    });

    test("404", async ({ page }) => {
      await open(page, "/no/such/page", "Page not found");
      await expect(page.getByText("/no/such/page")).toBeVisible();
      await shoot(page, "not-found");
    });
  });
}

test("the namespace of the run is listed", async ({ page }) => {
  await open(page, `/deployments?namespace=${env.namespace}`, "Deployments");
  await expect(page.getByRole("combobox", { name: "Namespace" })).toHaveValue(env.namespace);
  await expect(page.getByRole("link", { name: NAME, exact: true })).toBeVisible();
});
