import { useSyncExternalStore } from "react";

/** Browser storage keys (spec README, "Names that must not change"). */
export const TOKEN_KEY = "kubeairunway_auth_token";
export const USERNAME_KEY = "kubeairunway_auth_username";

/** Why the user is sent to the login page; shown there. */
export interface AuthNotice {
  kind: "expired" | "required" | "signed-out";
  message: string;
}

interface Snapshot {
  token: string | null;
  username: string | null;
  notice: AuthNotice | null;
  /** Bumped on every 401, so listeners can react to each one. */
  unauthorizedAt: number;
}

const listeners = new Set<() => void>();

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage blocked: the value lives in memory only.
  }
}

let snapshot: Snapshot = {
  token: read(TOKEN_KEY),
  username: read(USERNAME_KEY),
  notice: null,
  unauthorizedAt: 0,
};

function update(next: Partial<Snapshot>): void {
  snapshot = { ...snapshot, ...next };
  for (const l of listeners) l();
}

/** The token to send (read on every request by the API client). */
export function getToken(): string | null {
  return snapshot.token;
}

/** Stores a token (and who it belongs to, when known) after a successful sign-in. */
export function signIn(token: string, username?: string | null): void {
  write(TOKEN_KEY, token);
  write(USERNAME_KEY, username ?? null);
  update({ token, username: username ?? null, notice: null });
}

/** Forgets the token; `notice` is shown on the login page. */
export function signOut(notice: AuthNotice | null): void {
  write(TOKEN_KEY, null);
  write(USERNAME_KEY, null);
  update({ token: null, username: null, notice });
}

/** Records a 401 from any call: the token is gone or was never there. */
export function reportUnauthorized(hadToken: boolean, message: string): void {
  const notice: AuthNotice = hadToken
    ? { kind: "expired", message: `Your session has ended: ${message}. Sign in again.` }
    : { kind: "required", message: "Sign in to use KubeAIRunway: this server requires a Kubernetes token." };
  write(TOKEN_KEY, null);
  write(USERNAME_KEY, null);
  update({ token: null, username: null, notice, unauthorizedAt: Date.now() });
}

/** Clears the login page's message once it has been read. */
export function clearNotice(): void {
  if (snapshot.notice) update({ notice: null });
}

/**
 * Takes a token from a magic link (`…#token=<token>`, printed by `kubeairunway login`) and
 * removes it from the address bar and history entry at once.
 */
export function consumeMagicLink(location: Location = window.location, history: History = window.history): boolean {
  const hash = location.hash.startsWith("#") ? location.hash.slice(1) : location.hash;
  if (!hash) return false;
  const params = new URLSearchParams(hash);
  const token = params.get("token");
  if (!token) return false;
  params.delete("token");
  const rest = params.toString();
  history.replaceState(history.state, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  signIn(token.trim());
  return true;
}

/**
 * Also takes a magic link opened in a tab that already shows the app: only the fragment changes
 * then, so the page does not reload and the start-up check never sees it. Returns the unsubscribe.
 */
export function watchMagicLinks(target: Window = window): () => void {
  const onHashChange = () => {
    consumeMagicLink(target.location, target.history);
  };
  target.addEventListener("hashchange", onHashChange);
  return () => {
    target.removeEventListener("hashchange", onHashChange);
  };
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The auth store, for components. */
export function useAuthStore(): Snapshot {
  return useSyncExternalStore(subscribe, () => snapshot);
}

/** Test helper: reloads the store from storage. */
export function resetAuthStoreForTests(): void {
  snapshot = { token: read(TOKEN_KEY), username: read(USERNAME_KEY), notice: null, unauthorizedAt: 0 };
  for (const l of listeners) l();
}
