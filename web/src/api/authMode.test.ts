import { describe, expect, it } from "vitest";

import { apiError, json, mockFetch } from "../test/http";
import { fetchAuthMode } from "./hooks";

describe("fetchAuthMode", () => {
  it("reads auth.enabled from the settings", async () => {
    mockFetch({ "GET /api/settings": () => json({ config: {}, auth: { enabled: true } }) });
    await expect(fetchAuthMode()).resolves.toBe(true);
  });

  it("asks whoami when the settings are unavailable (cluster down): 401 means auth is on", async () => {
    const { calls } = mockFetch({
      "GET /api/settings": () => apiError(503, "The Kubernetes API server is unreachable"),
      "GET /api/auth/whoami": () => apiError(401, "Authentication required"),
    });
    await expect(fetchAuthMode()).resolves.toBe(true);
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(["/api/settings", "/api/auth/whoami"]);
  });

  it("takes whoami's answer when it has one", async () => {
    mockFetch({
      "GET /api/settings": () => apiError(503, "down"),
      "GET /api/auth/whoami": () => json({ authEnabled: false, authenticated: false, groups: [] }),
    });
    await expect(fetchAuthMode()).resolves.toBe(false);
  });

  it("is undefined when nothing can tell", async () => {
    mockFetch({
      "GET /api/settings": () => apiError(503, "down"),
      "GET /api/auth/whoami": () => apiError(503, "down"),
    });
    await expect(fetchAuthMode()).resolves.toBeUndefined();
  });
});
