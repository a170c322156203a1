import { createApiClient, data, isApiError } from "@kubeairunway/shared";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type SubmitEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";

import { useAuthMode } from "../api/hooks";
import type { LoginState } from "../auth/guards";
import { clearNotice, signIn, signOut, useAuthStore } from "../auth/store";
import { CopyButton } from "../components/CopyButton";
import { useDocumentTitle } from "../components/PageHeader";
import { Button, Loading } from "../components/ui";

type Check = { state: "idle" } | { state: "checking" } | { state: "error"; message: string };

/**
 * Checks a token with `GET /api/auth/whoami` before keeping it. A client of its own: a 401 here
 * means "wrong token", not "session ended".
 */
async function verify(token: string): Promise<{ ok: true; username: string | null } | { ok: false; message: string }> {
  const probe = createApiClient({ getToken: () => token });
  try {
    const who = await data(probe.api.GET("/api/auth/whoami"));
    if (who.authEnabled && !who.authenticated) return { ok: false, message: "The server did not accept this token." };
    return { ok: true, username: who.username ?? null };
  } catch (error) {
    if (isApiError(error) && error.status === 401) {
      return { ok: false, message: `The token was rejected: ${error.message}` };
    }
    return { ok: false, message: `The token could not be checked: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function safeFrom(state: unknown): string {
  const from = (state as LoginState | null)?.from;
  return typeof from === "string" && from.startsWith("/") && !from.startsWith("//") && !from.startsWith("/login")
    ? from
    : "/deployments";
}

/** Sign-in: a magic link (`#token=`, handled at startup) or a pasted Kubernetes token. */
export default function LoginPage() {
  useDocumentTitle("Sign in");
  const mode = useAuthMode();
  const { token, notice } = useAuthStore();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const from = safeFrom(location.state);
  const [pasted, setPasted] = useState("");
  const [check, setCheck] = useState<Check>({ state: "idle" });
  const inputId = useId();
  const errorId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const verifying = useRef<string | null>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const finish = (t: string, username: string | null) => {
    signIn(t, username);
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "auth-mode" });
    void navigate(from, { replace: true });
  };

  // A token already stored (a magic link, or an earlier session): check it once and go on.
  useEffect(() => {
    if (mode.data !== true || token === null || verifying.current === token) return;
    verifying.current = token;
    let cancelled = false;
    void verify(token).then((result) => {
      if (cancelled) return;
      if (result.ok) finish(token, result.username);
      else signOut({ kind: "expired", message: result.message });
    });
    return () => {
      cancelled = true;
      verifying.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- run when the token or mode changes only
  }, [mode.data, token]);

  if (mode.isPending) return <Loading label="Checking authentication…" />;
  if (mode.data === false) return <Navigate to={from} replace />;

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const t = pasted.trim();
    if (!t) {
      setCheck({ state: "error", message: "Paste a token first." });
      return;
    }
    clearNotice();
    setCheck({ state: "checking" });
    void verify(t).then((result) => {
      if (result.ok) finish(t, result.username);
      else setCheck({ state: "error", message: result.message });
    });
  };

  const loginCommand = `kubeairunway login --server ${window.location.origin}`;
  const checkingStored = mode.data === true && token !== null;

  return (
    <main className="flex min-h-screen items-center justify-center bg-bg p-4 text-fg">
      <div className="w-full max-w-md rounded-xl border border-line bg-surface p-6 shadow-sm">
        <h1 ref={headingRef} tabIndex={-1} className="text-2xl font-semibold outline-none">
          Sign in to KubeAIRunway
        </h1>
        {mode.data === undefined ? (
          <p className="mt-2 text-sm text-muted">
            The server cannot tell right now whether it requires a token (the cluster may be unreachable).
          </p>
        ) : (
          <p className="mt-2 text-sm text-muted">This server acts with your own Kubernetes permissions.</p>
        )}

        {notice ? (
          <p role="alert" className="mt-4 rounded-md border border-warn/50 bg-warn-soft p-3 text-sm">
            {notice.message}
          </p>
        ) : null}

        {checkingStored ? (
          <div className="mt-4">
            <Loading label="Checking your token…" />
          </div>
        ) : (
          <>
            <h2 className="mt-6 text-sm font-semibold">From a terminal</h2>
            <p className="mt-1 text-sm text-muted">
              Run this where your kubeconfig works; it opens this page signed in.
            </p>
            <div className="mt-2 flex items-center gap-2">
              <code className="min-w-0 flex-1 rounded bg-surface-2 px-2 py-1.5 text-xs break-all">
                {loginCommand}
              </code>
              <CopyButton text={loginCommand} label="login command" />
            </div>

            <form className="mt-6" onSubmit={onSubmit} noValidate>
              <label htmlFor={inputId} className="text-sm font-semibold">
                Or paste a Kubernetes token
              </label>
              <input
                id={inputId}
                type="password"
                autoComplete="off"
                spellCheck={false}
                className="mt-1 w-full rounded-md border border-line bg-bg px-3 py-2 text-sm"
                placeholder="eyJhbG…"
                value={pasted}
                aria-invalid={check.state === "error" || undefined}
                aria-describedby={check.state === "error" ? errorId : undefined}
                onChange={(e) => {
                  setPasted(e.target.value);
                }}
              />
              {check.state === "error" ? (
                <p id={errorId} role="alert" className="mt-2 text-sm text-bad">
                  {check.message}
                </p>
              ) : null}
              <Button
                type="submit"
                variant="primary"
                className="mt-3 w-full"
                loading={check.state === "checking"}
                loadingText="Checking…"
              >
                Sign in
              </Button>
            </form>
          </>
        )}
      </div>
    </main>
  );
}
