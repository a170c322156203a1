import { describe, expect, it } from "vitest";

import {
  TOKEN_KEY,
  USERNAME_KEY,
  consumeMagicLink,
  getToken,
  reportUnauthorized,
  signIn,
  useAuthStore,
  watchMagicLinks,
} from "./store";
import { renderHook } from "@testing-library/react";

describe("auth store", () => {
  it("takes the token from a magic link and removes it from the address bar", () => {
    window.history.replaceState(null, "", "/login?x=1#token=abc%2Bdef");
    expect(consumeMagicLink()).toBe(true);
    expect(getToken()).toBe("abc+def");
    expect(localStorage.getItem(TOKEN_KEY)).toBe("abc+def");
    expect(window.location.pathname + window.location.search + window.location.hash).toBe("/login?x=1");
  });

  it("takes a magic link opened later in the same tab (only the fragment changes)", () => {
    window.history.replaceState(null, "", "/login");
    const stop = watchMagicLinks();
    window.history.replaceState(null, "", "/login#token=later");
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(getToken()).toBe("later");
    expect(window.location.hash).toBe("");
    stop();
    window.history.replaceState(null, "", "/login#token=ignored");
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(getToken()).toBe("later");
  });

  it("ignores fragments without a token", () => {
    window.history.replaceState(null, "", "/deployments#section");
    expect(consumeMagicLink()).toBe(false);
    expect(getToken()).toBeNull();
  });

  it("forgets the token on a 401 and says why", () => {
    signIn("tok", "alice");
    expect(localStorage.getItem(USERNAME_KEY)).toBe("alice");
    const { result, rerender } = renderHook(() => useAuthStore());
    reportUnauthorized(true, "token expired");
    rerender();
    expect(result.current.token).toBeNull();
    expect(result.current.notice?.kind).toBe("expired");
    expect(result.current.notice?.message).toContain("token expired");
    expect(result.current.unauthorizedAt).toBeGreaterThan(0);
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it("asks for a sign-in when no token was sent", () => {
    const { result, rerender } = renderHook(() => useAuthStore());
    reportUnauthorized(false, "Authentication required");
    rerender();
    expect(result.current.notice?.kind).toBe("required");
  });
});
