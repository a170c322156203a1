import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { TOKEN_KEY, resetAuthStoreForTests } from "./auth/store";
import { connected, dep, noAutoscalerRoutes, settings } from "./test/fixtures";
import { apiError, json, mockFetch, sse } from "./test/http";
import { renderApp } from "./test/render";

function storeToken(token: string) {
  localStorage.setItem(TOKEN_KEY, token);
  resetAuthStoreForTests();
}

describe("auth", () => {
  it("sends a visitor without a token to /login when auth is on", async () => {
    mockFetch({ "GET /api/settings": () => json(settings(true)) });
    const { router } = renderApp("/deployments");
    expect(await screen.findByRole("heading", { name: "Sign in to KubeAIRunway" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/login");
  });

  it("decides from whoami when the settings answer 503", async () => {
    mockFetch({
      "GET /api/settings": () => apiError(503, "The Kubernetes API server is unreachable"),
      "GET /api/auth/whoami": () => apiError(401, "Authentication required"),
    });
    const { router } = renderApp("/settings");
    await screen.findByRole("heading", { name: "Sign in to KubeAIRunway" });
    expect(router.state.location.pathname).toBe("/login");
  });

  it("returns to /login with a visible message when any call answers 401", async () => {
    storeToken("expired-token");
    mockFetch({
      "GET /api/settings": () => json(settings(true)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/auth/whoami": () => json({ authEnabled: true, authenticated: true, username: "alice", groups: [] }),
      "GET /api/deployments/events": () => apiError(401, "Token not authenticated"),
    });
    const { router } = renderApp("/deployments");
    expect(await screen.findByRole("alert")).toHaveTextContent("Your session has ended: Token not authenticated");
    expect(router.state.location.pathname).toBe("/login");
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it("signs in with a pasted token checked by whoami, then goes where the user wanted", async () => {
    const user = userEvent.setup();
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(true)),
      "GET /api/auth/whoami": (req) =>
        req.headers.get("authorization") === "Bearer good"
          ? json({ authEnabled: true, authenticated: true, username: "alice", groups: ["dev"] })
          : apiError(401, "Token not authenticated"),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/deployments/events": () => sse([{ event: "snapshot", data: { deployments: [dep("qwen")] } }]),
    });
    renderApp("/deployments");
    const input = await screen.findByLabelText("Or paste a Kubernetes token");

    await user.type(input, "bad");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/The token was rejected: Token not authenticated/)).toBeInTheDocument();

    await user.clear(input);
    await user.type(input, "good");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Deployments" })).toBeInTheDocument();
    expect(localStorage.getItem(TOKEN_KEY)).toBe("good");
    expect(await screen.findByRole("link", { name: "qwen" })).toBeInTheDocument();
    const events = calls.find((c) => c.url.includes("/api/deployments/events"));
    expect(events?.headers.get("authorization")).toBe("Bearer good");
    // The user menu names who is signed in.
    expect(await screen.findByRole("button", { name: /User menu: alice/ })).toBeInTheDocument();
  });

  it("signs out from the user menu", async () => {
    const user = userEvent.setup();
    storeToken("good");
    mockFetch({
      ...noAutoscalerRoutes,
      "GET /api/settings": () => json(settings(true)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/auth/whoami": () => json({ authEnabled: true, authenticated: true, username: "alice", groups: [] }),
    });
    const { router } = renderApp("/settings");
    await user.click(await screen.findByRole("button", { name: /User menu: alice/ }));
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByText("You signed out.")).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/login");
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe("shell", () => {
  it("shows a 404 page for unknown paths, with the cluster status in the header", async () => {
    mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
    });
    renderApp("/no/such/page");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
    expect(await screen.findByRole("status", { name: "Cluster connection" })).toHaveTextContent("Connected");
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
  });

  it("warns on every page when the cluster is unreachable", async () => {
    mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json({ connected: false, namespace: "x", error: "connection refused" }),
    });
    renderApp("/");
    expect(await screen.findByText(/The Kubernetes cluster is unreachable: connection refused/)).toBeInTheDocument();
    expect(screen.getByRole("status", { name: "Cluster connection" })).toHaveTextContent("Disconnected");
  });

  it("toggles the theme: system → light → dark", async () => {
    const user = userEvent.setup();
    mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
    });
    renderApp("/");
    const toggle = await screen.findByRole("button", { name: /Theme: System/ });
    await user.click(toggle);
    expect(document.documentElement).not.toHaveClass("dark");
    await user.click(screen.getByRole("button", { name: /Theme: Light/ }));
    expect(document.documentElement).toHaveClass("dark");
    expect(localStorage.getItem("kubeairunway_theme")).toBe("dark");
  });

  it("moves focus to the new page's heading after navigating", async () => {
    const user = userEvent.setup();
    mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/runtimes/status": () => json({ runtimes: [] }),
    });
    renderApp("/");
    await screen.findByRole("heading", { name: "Model catalog" });
    await user.click(screen.getByRole("link", { name: "Settings" }));
    const heading = await screen.findByRole("heading", { name: "Settings", level: 1 });
    await waitFor(() => {
      expect(heading).toHaveFocus();
    });
  });
});
