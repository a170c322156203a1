import { expect, test, type Locator, type Page } from "@playwright/test";

import { env } from "./env";
import { checkPage, CLUSTER_TIMEOUT, createDeployment, deleteDeployment, detailsPath, phase, qwenRequest, waitForPhase } from "./helpers";

const IDLE = "metrics-idle-e2e";

test.afterAll(async ({ request }) => {
  await deleteDeployment(request, IDLE);
});

/** The figure labelled `label` in the Metrics tab (its label, value and note). */
function figure(page: Page, label: string): Locator {
  return page
    .getByRole("group", { name: "Current figures" })
    .locator("div")
    .filter({ has: page.getByText(label, { exact: true }) });
}

/** The number at the start of a figure's value (`120/s` → 120). */
async function valueOf(f: Locator): Promise<number> {
  return Number.parseFloat((await f.locator("dd").first().textContent()) ?? "");
}

test("the Metrics tab: live figures scraped from the pod, rates, and history charts loaded on demand", async ({ page }) => {
  const chunks: string[] = [];
  page.on("request", (r) => {
    if (/\/assets\/MetricsCharts-[^/]+\.js$/.test(r.url())) chunks.push(r.url());
  });

  await test.step("the overview does not load the chart library", async () => {
    await page.goto(detailsPath(env.metricsDeployment));
    await expect(phase(page)).toHaveText(/Running$/, { timeout: CLUSTER_TIMEOUT });
    await expect(page.getByRole("tab", { name: "Metrics" })).toBeVisible();
    expect(chunks).toEqual([]);
  });

  await test.step("the figures come from the pod's vLLM server", async () => {
    await page.getByRole("tab", { name: "Metrics" }).click();
    await expect(page).toHaveURL(/tab=metrics/);
    await expect(figure(page, "KV-cache usage")).toContainText("43.8 %");
    expect(await valueOf(figure(page, "Running requests"))).toBeGreaterThanOrEqual(2);
    expect(await valueOf(figure(page, "Waiting requests"))).toBe(1);
    expect(await valueOf(figure(page, "Requests served"))).toBeGreaterThanOrEqual(42);
    await expect(page.getByText(/Model server: vllm; scraped from the pods directly\./)).toBeVisible();
    const pods = page.locator("section").filter({ has: page.getByRole("heading", { name: "Scraped pods" }) });
    await expect(pods.getByRole("listitem").filter({ hasText: env.metricsDeployment })).toContainText("✓ answered");
  });

  await test.step("the next refresh has rates: the server generates about 120 tokens a second", async () => {
    const generated = figure(page, "Generated tokens");
    await expect(generated).toContainText(/\d+(\.\d+)?\/s/, { timeout: 20_000 });
    await expect(generated).toContainText(/over the last \d+ s/);
    const rate = await valueOf(generated);
    expect(rate).toBeGreaterThan(60);
    expect(rate).toBeLessThan(200);
    const requests = await valueOf(figure(page, "Requests"));
    expect(requests).toBeGreaterThan(0.4);
    expect(requests).toBeLessThan(2);
  });

  await test.step("the history is drawn by the lazily loaded charts", async () => {
    const history = page.locator("section").filter({ has: page.getByRole("heading", { name: "History (last 15 minutes)" }) });
    const throughput = history.getByRole("img", { name: /^Token throughput over the last \d+ refreshes: latest Generated/ });
    await expect(throughput).toBeVisible();
    expect(chunks.length).toBe(1);
    // uPlot drew the lines on its canvas: some pixels are not transparent.
    await expect
      .poll(
        () =>
          throughput.locator("canvas").evaluate((c: HTMLCanvasElement) => {
            const ctx = c.getContext("2d");
            if (!ctx) return 0;
            const px = ctx.getImageData(0, 0, c.width, c.height).data;
            let painted = 0;
            for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) painted++;
            return painted;
          }),
        { message: "the throughput chart has pixels drawn" },
      )
      .toBeGreaterThan(100);
    await expect(history.getByRole("img", { name: /^Requests in flight/ })).toBeVisible();
    await expect(history.getByRole("img", { name: /^KV-cache usage .*latest KV cache 43\.8 %$/ })).toBeVisible();
    // The points behind the chart, as a table.
    await history.getByText(/^Data \(\d+ points\)$/).first().click();
    const table = history.getByRole("table", { name: "Token throughput" });
    await expect(table.getByRole("row")).not.toHaveCount(1);
    await checkPage(page, "details-metrics");
  });

  await test.step("pausing stops the scrapes", async () => {
    const auto = page.getByRole("button", { name: "Auto-refresh" });
    await auto.click();
    await expect(auto).toHaveAttribute("aria-pressed", "false");
    await expect(page.getByText("paused", { exact: true })).toBeVisible();
  });
});

test("metrics unavailable, with the reason: no pod running, then a pod nothing answers on", async ({ page, request }) => {
  await createDeployment(request, { ...qwenRequest(IDLE), replicas: 0 });

  await test.step("scaled to zero: no pod is running", async () => {
    await page.goto(detailsPath(IDLE, "metrics"));
    const state = page.getByRole("status").filter({ hasText: "Metrics unavailable because" });
    await expect(state).toContainText("Metrics unavailable because no pod is running");
    await expect(state).toContainText("They appear once a pod is Running.");
    await expect(page.getByRole("group", { name: "Current figures" })).toHaveCount(0);
    await checkPage(page, "details-metrics-unavailable");
  });

  await test.step("a Running pod with no model server listening: unreachable", async () => {
    const reply = await request.patch(`/api/deployments/${IDLE}?namespace=${env.namespace}`, { data: { replicas: 1 } });
    expect(reply.ok(), await reply.text()).toBe(true);
    await waitForPhase(request, IDLE, "Running");
    const state = page.getByRole("status").filter({ hasText: "Metrics unavailable because" });
    // The tab refreshes every 5 s.
    await expect(state).toContainText("Metrics unavailable because the pods cannot be reached", { timeout: CLUSTER_TIMEOUT });
    const pods = page.locator("section").filter({ has: page.getByRole("heading", { name: "Scraped pods" }) });
    await expect(pods).toContainText("✕ failed");
  });
});
