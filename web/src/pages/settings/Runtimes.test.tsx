import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, settings } from "../../test/fixtures";
import { json, liveStream, mockFetch, sse, type Handler } from "../../test/http";
import { jobView, providerStatus } from "../../test/jobs";
import { renderApp } from "../../test/render";

/** The first render loads the Settings chunk, which can take a while on a busy machine. */
const SLOW = { timeout: 5000 };

const RUNTIME = { id: "kaito", name: "Kaito", installed: true, healthy: false, message: "Provider not ready" };

function routes(extra: Record<string, Handler>): Record<string, Handler> {
  return {
    "GET /api/settings": () => json(settings(false)),
    "GET /api/cluster/status": () => json(connected),
    "GET /api/runtimes/status": () => json({ runtimes: [RUNTIME] }),
    "GET /api/installation/helm/status": () => json({ available: true, version: "v3.16.2" }),
    ...extra,
  };
}

const accepted = (jobId: string) =>
  json(
    { jobId, kind: "install-provider", target: "kaito", state: "queued", message: "Started", statusUrl: `/api/jobs/${jobId}`, eventsUrl: `/api/jobs/${jobId}/events` },
    202,
  );

describe("Settings → Runtimes", () => {
  it("shows Helm and the provider, installs it with streamed output, and refetches when the job ends", async () => {
    const user = userEvent.setup();
    const stream = liveStream();
    let installed = false;
    let statusCalls = 0;
    const { calls } = mockFetch(
      routes({
        "GET /api/installation/providers/kaito/status": () => {
          statusCalls += 1;
          return json(
            installed
              ? providerStatus({
                  installed: true,
                  message: "Kaito is installed and running",
                  charts: [{ name: "kaito", chart: "kaito/workspace", namespace: "kaito-workspace", createNamespace: true, release: { status: "deployed", revision: 1 } }],
                })
              : providerStatus(),
          );
        },
        "POST /api/installation/providers/kaito/install": () => accepted("job-1"),
        "GET /api/jobs/job-1/events": () => stream.response(),
        "GET /api/installation/providers/kaito/commands": () =>
          json({ providerId: "kaito", providerName: "Kaito", commands: ["helm repo add kaito https://charts.example"], steps: [{ title: "Add the repository", description: "Once", command: "helm repo add kaito https://charts.example" }] }),
      }),
    );
    renderApp("/settings?tab=runtimes");
    expect(await screen.findByText("v3.16.2", {}, SLOW)).toBeInTheDocument();
    const card = await screen.findByRole("region", { name: "Kaito" });
    expect(await within(card).findByText("Kaito is registered but not ready")).toBeInTheDocument();
    expect(within(card).getByText("Not installed")).toBeInTheDocument();
    // Nothing to uninstall before a release exists.
    expect(within(card).getByRole("button", { name: "Uninstall" })).toBeDisabled();

    // Manual steps are asked for only when opened.
    expect(calls.some((c) => c.url.endsWith("/commands"))).toBe(false);
    await user.click(within(card).getByText("Manual installation"));
    expect(await within(card).findByText("Add the repository")).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Copy all Helm commands" })).toBeInTheDocument();

    await user.click(within(card).getByRole("button", { name: "Install Kaito" }));
    const post = calls.find((c) => c.method === "POST");
    expect(new URL(post?.url ?? "").searchParams.get("async")).toBe("true");

    stream.push("snapshot", jobView());
    const steps = await within(card).findByRole("list", { name: "Steps" });
    expect(within(steps).getAllByText("Pending")).toHaveLength(2);
    expect(within(card).getByRole("button", { name: "Install Kaito" })).toBeDisabled();

    stream.push("step-start", { index: 0, step: "repo-add-kaito", title: "Add the kaito repository", command: "helm repo add kaito https://charts.example" });
    stream.push("output", { index: 0, step: "repo-add-kaito", stream: "stdout", line: '"kaito" has been added to your repositories' });
    expect(await within(card).findByText('"kaito" has been added to your repositories')).toBeInTheDocument();
    expect(within(steps).getByText("Running")).toBeInTheDocument();
    const live = card.querySelector('[aria-live="polite"]');
    expect(live).toHaveTextContent("Running: Add the kaito repository");

    stream.push("step-end", { index: 0, step: "repo-add-kaito", state: "succeeded", success: true, exitCode: 0, timedOut: false, durationMs: 800 });
    await waitFor(() => {
      expect(live).toHaveTextContent("Done: Add the kaito repository");
    });
    expect(within(steps).getByText("exit code 0")).toBeInTheDocument();

    installed = true;
    const before = statusCalls;
    stream.push(
      "end",
      jobView({
        state: "succeeded",
        message: "Kaito installed",
        pending: [],
        steps: [
          { step: "repo-add-kaito", title: "Add the kaito repository", command: "helm repo add", state: "succeeded", output: '"kaito" has been added to your repositories\n', error: "", exitCode: 0, timedOut: false, startedAt: "2026-01-01T00:00:01Z", durationMs: 800 },
          { step: "install-kaito", title: "Install kaito", command: "helm upgrade --install", state: "succeeded", output: "Release installed\n", error: "", exitCode: 0, timedOut: false, startedAt: "2026-01-01T00:00:02Z", durationMs: 5000 },
        ],
      }),
    );
    expect(await screen.findByText("Install finished: Kaito")).toBeInTheDocument();
    expect(await within(card).findByText("deployed (revision 1)")).toBeInTheDocument();
    expect(statusCalls).toBeGreaterThan(before);
    expect(live).toHaveTextContent("Kaito installed");
    // Installed: running it again upgrades the releases.
    expect(within(card).getByRole("button", { name: "Upgrade Kaito" })).toBeEnabled();
    expect(within(card).queryByRole("button", { name: "Install Kaito" })).toBeNull();
    expect(within(card).getByRole("button", { name: "Uninstall" })).toBeEnabled();
  });

  it("offers to follow the running job on a 409 and shows the failing step with its stderr", async () => {
    const user = userEvent.setup();
    mockFetch(
      routes({
        "GET /api/installation/providers/kaito/status": () => json(providerStatus()),
        "POST /api/installation/providers/kaito/install": () =>
          json({ error: { message: "An install of kaito is already running (job job-2)", statusCode: 409, jobId: "job-2" } }, 409),
        "GET /api/jobs/job-2/events": () =>
          sse(
            [
              {
                event: "end",
                data: jobView({
                  jobId: "job-2",
                  state: "failed",
                  message: "Installation failed at step install-kaito",
                  failedStep: "install-kaito",
                  pending: [],
                  steps: [
                    { step: "install-kaito", title: "Install kaito", command: "helm upgrade --install", state: "failed", output: "", error: "Error: chart not found\n", exitCode: 1, timedOut: false, startedAt: "2026-01-01T00:00:02Z", durationMs: 100 },
                  ],
                }),
              },
            ],
            { close: true },
          ),
      }),
    );
    renderApp("/settings?tab=runtimes");
    const card = await screen.findByRole("region", { name: "Kaito" }, SLOW);
    await within(card).findByText("Kaito is registered but not ready", {}, SLOW);
    await user.click(within(card).getByRole("button", { name: "Install Kaito" }));
    expect(await within(card).findByText("An install of kaito is already running (job job-2)")).toBeInTheDocument();
    await user.click(within(card).getByRole("button", { name: "Follow the running job" }));
    expect(await within(card).findByText("Failed at “Install kaito” (install-kaito)")).toBeInTheDocument();
    expect(within(card).getByText("Exit code 1.")).toBeInTheDocument();
    expect(within(card).getAllByText("Error: chart not found").length).toBeGreaterThan(0);
    expect(await screen.findByText("Install failed: Kaito")).toBeInTheDocument();
  });

  it("asks before uninstalling, and wants the provider's id typed before removing its CRDs", async () => {
    const user = userEvent.setup();
    // A failed release can be uninstalled too.
    const failedRelease = providerStatus({
      charts: [{ name: "kaito", chart: "kaito/workspace", namespace: "kaito-workspace", createNamespace: true, release: { status: "failed", revision: 2 } }],
    });
    const { calls } = mockFetch(
      routes({
        "GET /api/installation/providers/kaito/status": () => json(failedRelease),
        "POST /api/installation/providers/kaito/uninstall": () => accepted("job-3"),
        "POST /api/installation/providers/kaito/uninstall-crds": () => accepted("job-4"),
        "GET /api/jobs/job-3/events": () =>
          sse([{ event: "end", data: jobView({ jobId: "job-3", kind: "uninstall-provider", state: "succeeded", message: "Uninstalled", pending: [] }) }], { close: true }),
        "GET /api/jobs/job-4/events": () =>
          sse([{ event: "snapshot", data: jobView({ jobId: "job-4", kind: "uninstall-provider-crds" }) }]),
      }),
    );
    renderApp("/settings?tab=runtimes");
    const card = await screen.findByRole("region", { name: "Kaito" }, SLOW);
    await within(card).findByText("Kaito is registered but not ready", {}, SLOW);

    await user.click(within(card).getByRole("button", { name: "Uninstall" }));
    let dialog = screen.getByRole("dialog", { name: "Uninstall Kaito?" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.click(within(card).getByRole("button", { name: "Uninstall" }));
    dialog = screen.getByRole("dialog", { name: "Uninstall Kaito?" });
    await user.click(within(dialog).getByRole("button", { name: "Uninstall" }));
    expect(await screen.findByText("Uninstall finished: Kaito")).toBeInTheDocument();
    await user.click(within(card).getByRole("button", { name: "Close" }));

    await user.click(within(card).getByRole("button", { name: "Remove CRDs" }));
    dialog = screen.getByRole("dialog", { name: "Remove the CRDs of Kaito?" });
    expect(dialog).toHaveTextContent("Deleting a CRD deletes every object of that kind in every namespace");
    const confirm = within(dialog).getByRole("button", { name: "Remove CRDs" });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/to confirm/), "kaito");
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    expect(await within(card).findByRole("heading", { name: /Remove CRDs: Kaito/ })).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST").map((c) => new URL(c.url).pathname)).toEqual([
      "/api/installation/providers/kaito/uninstall",
      "/api/installation/providers/kaito/uninstall-crds",
    ]);
  });

  it("offers no Helm actions for a built-in provider that has nothing to install", async () => {
    mockFetch({
      ...routes({
        "GET /api/installation/providers/kubernetes/status": () =>
          json(
            providerStatus({
              providerId: "kubernetes",
              providerName: "Kubernetes",
              installed: true,
              message: "Kubernetes is installed and running",
              charts: [],
            }),
          ),
      }),
      "GET /api/runtimes/status": () =>
        json({ runtimes: [{ id: "kubernetes", name: "Kubernetes", installed: true, healthy: true, message: "Provider ready" }] }),
    });
    renderApp("/settings?tab=runtimes");
    const card = await screen.findByRole("region", { name: "Kubernetes" }, SLOW);
    expect(await within(card).findByText("Kubernetes is installed and running")).toBeInTheDocument();
    expect(within(card).queryByRole("button", { name: /Install|Uninstall|Remove CRDs/ })).toBeNull();
  });
});
