import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";
import path from "node:path";

import { env } from "./env";

/** Time a deployment may take to reach a state on the local cluster (seconds on KWOK). */
export const CLUSTER_TIMEOUT = 60_000;

/**
 * Runs axe-core on the page as it is now and fails on any `serious` or `critical` violation,
 * listing each rule, its help page and the offending elements.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `    at ${n.target.join(" ")}\n      ${(n.failureSummary ?? "").replace(/\n/g, "\n      ")}`)
        .join("\n");
      return `  [${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join("\n");
  expect(bad.length, `axe-core found serious or critical violations on ${label}:\n${report}`).toBe(0);
}

/** A full-page screenshot saved as `$KAIR_ARTIFACTS/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({
    path: path.join(env.artifacts, "screenshots", `${name}.png`),
    fullPage: true,
    animations: "disabled",
    caret: "hide",
  });
}

/** Axe, then a screenshot: what every page gets. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await expectAccessible(page, name);
  await screenshot(page, name);
}

/** Headers that act as `token`'s user (auth-on server). */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** What the specs deploy: Qwen3-0.6B on the `kubernetes` provider with vLLM. */
export function qwenRequest(name: string, gpus = 1): Record<string, unknown> {
  return {
    name,
    namespace: env.namespace,
    modelId: "Qwen/Qwen3-0.6B",
    engine: "vllm",
    provider: "kubernetes",
    replicas: 1,
    resources: { gpu: gpus },
  };
}

/**
 * Creates a deployment through the API (setup for specs about other things). One that already
 * exists is kept: Playwright runs `beforeAll` again in a fresh worker after a failed test.
 */
export async function createDeployment(
  request: APIRequestContext,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<void> {
  const reply = await request.post("/api/deployments", { data: body, headers });
  expect([201, 409], await reply.text()).toContain(reply.status());
}

/** Waits until the API reports `phase` for the deployment. */
export async function waitForPhase(
  request: APIRequestContext,
  name: string,
  phase: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await expect
    .poll(
      async () => {
        const reply = await request.get(`/api/deployments/${name}?namespace=${env.namespace}`, { headers });
        return reply.ok() ? ((await reply.json()) as { phase: string }).phase : `HTTP ${reply.status()}`;
      },
      { timeout: CLUSTER_TIMEOUT, message: `${name} reaches ${phase}` },
    )
    .toBe(phase);
}

/** Deletes a deployment through the API if it exists (cleanup). */
export async function deleteDeployment(
  request: APIRequestContext,
  name: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const reply = await request.delete(`/api/deployments/${name}?namespace=${env.namespace}`, { headers });
  expect([200, 404], await reply.text()).toContain(reply.status());
}

/** The phase badge in a details page's Status section (announced politely when it changes). */
export function phase(page: Page): Locator {
  return page.getByRole("region", { name: "Status" }).getByRole("status");
}

/** The toasts (an aria-live region at the bottom right). */
export function toasts(page: Page): Locator {
  return page.getByRole("region", { name: "Notifications" });
}

/** A card (`<section>`) by its heading. */
export function card(page: Page, heading: string): Locator {
  return page.locator("section").filter({ has: page.getByRole("heading", { name: heading, exact: true }) });
}

/** The path of a deployment's details page. */
export function detailsPath(name: string, tab?: "metrics" | "logs" | "manifest"): string {
  return `/deployments/${name}?namespace=${env.namespace}${tab ? `&tab=${tab}` : ""}`;
}
