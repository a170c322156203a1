import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connected, settings } from "../../test/fixtures";
import { json, mockFetch } from "../../test/http";
import { renderApp } from "../../test/render";

describe("Settings → Integrations", () => {
  it("stores a pasted HuggingFace token and removes it after confirmation", async () => {
    const user = userEvent.setup();
    let configured = false;
    const { calls } = mockFetch({
      "GET /api/settings": () => json(settings(false)),
      "GET /api/cluster/status": () => json(connected),
      "GET /api/oauth/huggingface/config": () => json({ enabled: false, clientId: "", authorizeUrl: "https://hub.example/oauth/authorize", scopes: [] }),
      "GET /api/secrets/huggingface/status": () =>
        json({ configured, namespaces: [{ name: "default", exists: configured }], ...(configured ? { user: { id: "1", name: "alice", fullname: "Alice" } } : {}) }),
      "POST /api/secrets/huggingface": () => {
        configured = true;
        return json({ success: true, message: "saved", results: [], user: { id: "1", name: "alice", fullname: "Alice" } });
      },
      "DELETE /api/secrets/huggingface": () => {
        configured = false;
        return json({ success: true, message: "HuggingFace secrets deleted successfully", results: [] });
      },
    });
    renderApp("/settings?tab=integrations");
    expect(await screen.findByText("No token")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign in with HuggingFace" })).not.toBeInTheDocument();
    await user.type(screen.getByLabelText("Or paste an access token"), "hf_secret");
    await user.click(screen.getByRole("button", { name: "Save token" }));
    expect(await screen.findByText("Token stored")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST");
    expect(await post?.json()).toEqual({ accessToken: "hf_secret" });

    await user.click(screen.getByRole("button", { name: "Disconnect" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Remove" }));
    expect(await screen.findByText("HuggingFace secrets deleted successfully")).toBeInTheDocument();
    expect(await screen.findByText("No token")).toBeInTheDocument();
  });
});
