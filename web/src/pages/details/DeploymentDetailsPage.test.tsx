import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { connected, dep, settings } from "../../test/fixtures";
import { apiError, json, liveStream, mockFetch, sse } from "../../test/http";
import { renderApp } from "../../test/render";

const pending = dep("big", "team-a", {
  phase: "Pending",
  replicas: { desired: 1, ready: 0, available: 0 },
  pods: [{ name: "big-0", phase: "Pending", ready: false, restarts: 0 }],
  conditions: [
    { type: "Validated", status: "True", reason: "Valid", lastTransitionTime: "2026-01-01T00:00:00Z" },
    { type: "Ready", status: "False", reason: "PodsPending", message: "0/1 replicas ready", lastTransitionTime: "2026-01-01T00:01:00Z" },
  ],
});

const manifest = {
  resources: [
    {
      kind: "ModelDeployment",
      apiVersion: "kubeairunway.ai/v1alpha1",
      name: "big",
      manifest: {
        apiVersion: "kubeairunway.ai/v1alpha1",
        kind: "ModelDeployment",
        metadata: { name: "big", namespace: "team-a" },
        status: { endpoint: { service: "big", port: 8080 } },
      },
    },
  ],
  primaryResource: { kind: "ModelDeployment", apiVersion: "kubeairunway.ai/v1alpha1" },
};

const routes = {
  "GET /api/settings": () => json(settings(false)),
  "GET /api/cluster/status": () => json(connected),
  // The live stream of the namespace: a snapshot, then open until the page leaves.
  "GET /api/deployments/events": (req: Request) =>
    sse([{ event: "snapshot", data: { deployments: [pending, dep("other", "team-a")] } }], { signal: req.signal }),
  "GET /api/deployments/big": () => json(pending),
  "GET /api/deployments/big/manifest": () => json(manifest),
  "GET /api/deployments/big/pending-reasons": () =>
    json({
      reasons: [
        {
          reason: "FailedScheduling",
          message: "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.",
          isResourceConstraint: true,
          canAutoscalerHelp: true,
          resourceType: "gpu",
        },
      ],
    }),
};

afterEach(() => {
  vi.useRealTimers();
});

describe("DeploymentDetailsPage", () => {
  it("shows status, conditions as a timeline, pods, pending advice and access commands", async () => {
    mockFetch(routes);
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByRole("heading", { name: "big", level: 1 })).toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "Status" })).getByText("Pending")).toBeInTheDocument();
    expect(await screen.findByText("Not enough free GPUs")).toBeInTheDocument();
    expect(screen.getByText(/FailedScheduling: 0\/7 nodes are available/)).toBeInTheDocument();
    const timeline = screen.getByRole("heading", { name: "Conditions" }).closest("section");
    const items = within(timeline as HTMLElement).getAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      expect.stringContaining("Validated"),
      expect.stringContaining("Ready"),
    ]);
    expect(screen.getByText("big-0")).toBeInTheDocument();
    expect(await screen.findByText("kubectl port-forward svc/big 8000:8080 -n team-a")).toBeInTheDocument();
    expect(screen.getByText("http://big.team-a.svc.cluster.local:8080/v1")).toBeInTheDocument();
  });

  it("takes the port from endpointPort without reading the manifest", async () => {
    const withPort = { ...pending, frontendService: "big-svc", endpointPort: 9000 };
    const { calls } = mockFetch({
      ...routes,
      "GET /api/deployments/events": (req) =>
        sse([{ event: "snapshot", data: { deployments: [withPort] } }], { signal: req.signal }),
      "GET /api/deployments/big": () => json(withPort),
    });
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByText("kubectl port-forward svc/big-svc 8000:9000 -n team-a")).toBeInTheDocument();
    expect(screen.getByText("http://big-svc.team-a.svc.cluster.local:9000/v1")).toBeInTheDocument();
    expect(calls.some((c) => new URL(c.url).pathname.endsWith("/manifest"))).toBe(false);
  });

  it("follows the namespace's live stream: phase, replicas and pods change without re-reading", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const stream = liveStream();
    const { calls } = mockFetch({ ...routes, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments/big?namespace=team-a");
    const status = await screen.findByRole("region", { name: "Status" });
    expect(within(status).getByText("Pending")).toBeInTheDocument();
    act(() => {
      stream.push("snapshot", { deployments: [pending] });
      // Another deployment of the namespace changes nothing here.
      stream.push("upsert", { deployment: dep("other", "team-a", { phase: "Failed" }) });
      stream.push("upsert", {
        deployment: {
          ...pending,
          phase: "Running",
          replicas: { desired: 2, ready: 2, available: 2 },
          pods: [
            { name: "big-0", phase: "Running", ready: true, restarts: 0 },
            { name: "big-1", phase: "Running", ready: true, restarts: 1 },
          ],
        },
      });
    });
    await waitFor(() => {
      expect(within(status).getByText("Running")).toBeInTheDocument();
    });
    expect(within(status).getByText("2/2 replicas")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Pods (2)" })).toBeInTheDocument();
    expect(screen.getByText("big-1")).toBeInTheDocument();
    expect(screen.queryByText("Failed")).not.toBeInTheDocument();
    // The server filters the stream by namespace; while it is live the deployment is read
    // once, never polled.
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    const events = calls.filter((c) => new URL(c.url).pathname === "/api/deployments/events");
    expect(events.map((c) => new URL(c.url).searchParams.get("namespace"))).toEqual(["team-a"]);
    expect(calls.filter((c) => new URL(c.url).pathname === "/api/deployments/big")).toHaveLength(1);
  });

  it("moves the progress timeline with the live stream: stalled, then loading, then done", async () => {
    const user = userEvent.setup();
    const stream = liveStream();
    mockFetch({
      ...routes,
      "GET /api/deployments/events": () => stream.response(),
      "GET /api/deployments/big/logs": () => json({ logs: "exit 1\n", podName: "big-0" }),
    });
    renderApp("/deployments/big?namespace=team-a");
    await screen.findByRole("region", { name: "Status" });
    // No progress reported (an older controller): no timeline.
    expect(screen.queryByRole("heading", { name: "Progress" })).not.toBeInTheDocument();
    const step = (name: string, state: string, extra: object = {}) => ({ name, state, ...extra });
    const withProgress = (progress: object) => ({ ...pending, phase: "Deploying", progress });
    act(() => {
      stream.push("snapshot", {
        deployments: [
          withProgress({
            current: "ImagePulling",
            stalledReason: "ErrImagePull",
            podsDesired: 1,
            podsReady: 0,
            phases: [
              step("Scheduled", "Done", { durationSeconds: 2 }),
              step("ImagePulling", "Stalled", { reason: "ErrImagePull", message: "manifest unknown" }),
              step("Downloading", "Waiting"),
              step("Loading", "Waiting"),
              step("Ready", "Waiting"),
            ],
          }),
        ],
      });
    });
    expect(await screen.findByRole("heading", { name: "Progress" })).toBeInTheDocument();
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("The container image cannot be pulled");
    expect(alert).toHaveTextContent("manifest unknown");
    expect(screen.getByText("0/1 pods ready")).toBeInTheDocument();

    act(() => {
      stream.push("upsert", {
        deployment: withProgress({
          current: "Loading",
          stalledReason: "CrashLoopBackOff",
          podsDesired: 1,
          podsReady: 0,
          phases: [
            step("Scheduled", "Done", { durationSeconds: 2 }),
            step("ImagePulling", "Done", { durationSeconds: 125 }),
            step("Downloading", "Skipped", { message: "the engine downloads the weights while Loading" }),
            step("Loading", "Stalled", { reason: "CrashLoopBackOff", startedAt: new Date().toISOString() }),
            step("Ready", "Waiting"),
          ],
        }),
      });
    });
    await waitFor(() => {
      expect(screen.getByRole("alert")).toHaveTextContent("The model server keeps crashing");
    });
    const steps = within(screen.getByRole("list", { name: "Steps to serving" })).getAllByRole("listitem");
    expect(steps[1]).toHaveTextContent(/Image pulled\s*Done\s*in 2m 5s/);
    expect(steps[2]).toHaveTextContent("the engine downloads the weights while Loading");

    act(() => {
      stream.push("upsert", {
        deployment: {
          ...withProgress({
            podsDesired: 1,
            podsReady: 1,
            phases: [
              step("Scheduled", "Done", { durationSeconds: 2 }),
              step("ImagePulling", "Done", { durationSeconds: 125 }),
              step("Downloading", "Skipped"),
              step("Loading", "Done", { durationSeconds: 40 }),
              step("Ready", "Done", { durationSeconds: 1 }),
            ],
          }),
          phase: "Running",
          replicas: { desired: 1, ready: 1, available: 1 },
        },
      });
    });
    await waitFor(() => {
      expect(screen.getByText("1/1 pods ready")).toBeInTheDocument();
    });
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    const done = within(screen.getByRole("list", { name: "Steps to serving" })).getAllByRole("listitem");
    expect(done[4]).toHaveTextContent(/Ready\s*Done/);
    expect(done[3]).toHaveTextContent(/Model loaded\s*Done\s*in 40s/);

    // A crash's callout leads to the logs.
    act(() => {
      stream.push("upsert", {
        deployment: withProgress({
          current: "Loading",
          stalledReason: "CrashLoopBackOff",
          podsDesired: 1,
          podsReady: 0,
          phases: [
            step("Scheduled", "Done"),
            step("ImagePulling", "Done"),
            step("Downloading", "Skipped"),
            step("Loading", "Stalled", { reason: "CrashLoopBackOff" }),
            step("Ready", "Waiting"),
          ],
        }),
      });
    });
    await user.click(await screen.findByRole("button", { name: "Open the logs" }));
    expect(screen.getByRole("tab", { name: "Logs" })).toHaveAttribute("aria-selected", "true");
  });

  it("says the deployment was deleted when the stream reports it gone", async () => {
    const stream = liveStream();
    mockFetch({ ...routes, "GET /api/deployments/events": () => stream.response() });
    renderApp("/deployments/big?namespace=team-a");
    const status = await screen.findByRole("region", { name: "Status" });
    act(() => {
      stream.push("snapshot", { deployments: [pending] });
      stream.push("upsert", { deployment: { ...pending, phase: "Terminating" } });
    });
    await waitFor(() => {
      expect(within(status).getByText("Terminating")).toBeInTheDocument();
    });
    act(() => {
      stream.push("delete", { namespace: "team-a", name: "big" });
    });
    expect(await screen.findByText("This deployment was deleted")).toBeInTheDocument();
    expect(screen.getByText(/no\s+longer exists/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to Deployments" })).toHaveAttribute("href", "/deployments");
    expect(screen.queryByText(/Loading/)).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
  });

  it("polls while the stream is refused, and says so when a re-read finds it deleted", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    let gone = false;
    const { calls } = mockFetch({
      ...routes,
      // May read the deployment but not list the namespace: no stream.
      "GET /api/deployments/events": () => apiError(403, "cannot list modeldeployments in team-a"),
      "GET /api/deployments/big": () =>
        gone ? apiError(404, "Deployment 'big' not found in namespace 'team-a'") : json(pending),
    });
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByText("Live updates are unavailable; refreshing every 10 s.")).toBeInTheDocument();
    const reads = () => calls.filter((c) => new URL(c.url).pathname === "/api/deployments/big").length;
    expect(reads()).toBe(1);
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => {
      expect(reads()).toBe(2);
    });
    gone = true;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(await screen.findByText("This deployment was deleted")).toBeInTheDocument();
    // A 404 ends the polling.
    const after = reads();
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(reads()).toBe(after);
  });

  it("keeps the last known state when a re-read fails, and says so until one succeeds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    let down = false;
    mockFetch({
      ...routes,
      "GET /api/deployments/events": () => apiError(403, "cannot list modeldeployments in team-a"),
      "GET /api/deployments/big": () => (down ? apiError(503, "Kubernetes API unreachable") : json(pending)),
    });
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByRole("heading", { level: 1, name: "big" })).toBeInTheDocument();
    down = true;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    const alert = await screen.findByText("Could not refresh the deployment; showing its last known state");
    expect(alert.parentElement).toHaveTextContent("Kubernetes API unreachable");
    expect(screen.getByRole("heading", { level: 1, name: "big" })).toBeInTheDocument();
    expect(screen.queryByText("Could not load the deployment")).toBeNull();
    expect(screen.getByRole("tab", { name: "Overview" })).toBeInTheDocument();
    down = false;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => {
      expect(screen.queryByText("Could not refresh the deployment; showing its last known state")).toBeNull();
    });
  });

  it("scales with PATCH and shows the new desired count", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      ...routes,
      "PATCH /api/deployments/big": () => json({ ...pending, replicas: { desired: 0, ready: 0, available: 0 } }),
    });
    renderApp("/deployments/big?namespace=team-a");
    const input = await screen.findByLabelText("Replicas");
    await user.clear(input);
    await user.type(input, "0");
    await user.click(screen.getByRole("button", { name: "Scale" }));
    expect(await screen.findByText("Scaled big")).toBeInTheDocument();
    const patch = calls.find((c) => c.method === "PATCH");
    expect(await patch?.json()).toEqual({ replicas: 0 });
    expect(screen.getByText("0/0 replicas")).toBeInTheDocument();
  });

  it("says so when the deployment does not exist", async () => {
    mockFetch({
      ...routes,
      "GET /api/deployments/events": (req) =>
        sse([{ event: "snapshot", data: { deployments: [dep("other", "team-a")] } }], { signal: req.signal }),
      "GET /api/deployments/big": () => apiError(404, "Deployment 'big' not found in namespace 'team-a'"),
    });
    renderApp("/deployments/big?namespace=team-a");
    expect(await screen.findByText("Deployment not found")).toBeInTheDocument();
    // Never seen, so not "deleted".
    expect(screen.queryByText("This deployment was deleted")).not.toBeInTheDocument();
    expect(screen.getByText("Deployment 'big' not found in namespace 'team-a'")).toBeInTheDocument();
  });

  it("shows the manifest as YAML or JSON", async () => {
    const user = userEvent.setup();
    mockFetch(routes);
    renderApp("/deployments/big?namespace=team-a&tab=manifest");
    const panel = await screen.findByRole("tabpanel", { name: "YAML" });
    expect(panel).toHaveTextContent("kind: ModelDeployment");
    await user.click(screen.getByRole("tab", { name: "JSON" }));
    expect(await screen.findByRole("tabpanel", { name: "JSON" })).toHaveTextContent('"kind": "ModelDeployment"');
  });

  it("reads, searches and follows logs", async () => {
    const user = userEvent.setup();
    const running = dep("qwen", "default", { pods: [{ name: "qwen-0", phase: "Running", ready: true, restarts: 0 }] });
    const stream = liveStream();
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/deployments/qwen": () => json(running),
      "GET /api/deployments/events": (req) =>
        sse([{ event: "snapshot", data: { deployments: [running] } }], { signal: req.signal }),
      "GET /api/deployments/qwen/logs": (_req, url) =>
        url.searchParams.get("follow") === "true"
          ? stream.response()
          : json({ logs: "starting\nloading weights\nERROR: out of memory\n", podName: "qwen-0" }),
    });
    renderApp("/deployments/qwen?namespace=default&tab=logs");
    const log = await screen.findByRole("log", { name: "Log lines" });
    await waitFor(() => {
      expect(log).toHaveTextContent("loading weights");
    });
    expect(screen.getByText("3 lines")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Search"), "error");
    await waitFor(() => {
      expect(log).not.toHaveTextContent("loading weights");
    });
    expect(log).toHaveTextContent("ERROR: out of memory");
    await user.clear(screen.getByLabelText("Search"));

    await user.click(screen.getByRole("button", { name: "Follow" }));
    expect(screen.getByRole("button", { name: "Stop following" })).toHaveAttribute("aria-pressed", "true");
    act(() => {
      stream.push("log", "new line 1");
      stream.push("log", "new line 2");
    });
    await waitFor(() => {
      expect(log).toHaveTextContent("new line 2");
    });
    const follow = calls.find((c) => c.url.includes("follow=true"));
    expect(new URL(follow?.url ?? "").searchParams.get("podName")).toBe("qwen-0");
  });
});
