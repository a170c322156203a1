import { data } from "@kubeairunway/shared";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";

import { api } from "../api/client";
import { useDocumentTitle } from "../components/PageHeader";
import { Loading } from "../components/ui";
import { callbackUri, OAUTH_STORAGE_KEY } from "../lib/pkce";

type Result = { state: "working" } | { state: "done"; user: string } | { state: "error"; message: string };

function readPending(): { state: string; verifier: string } | null {
  try {
    const raw = sessionStorage.getItem(OAUTH_STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    if (typeof parsed === "object" && parsed !== null && "state" in parsed && "verifier" in parsed) {
      const { state, verifier } = parsed;
      if (typeof state === "string" && typeof verifier === "string") return { state, verifier };
    }
  } catch {
    // Fall through: no sign-in in progress.
  }
  return null;
}

/** Where HuggingFace sends the browser back: exchanges the code and stores the token Secret. */
export default function HuggingFaceCallbackPage() {
  useDocumentTitle("HuggingFace sign-in");
  const [result, setResult] = useState<Result>({ state: "working" });
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const params = new URLSearchParams(window.location.search);
    const code = params.get("code");
    const state = params.get("state");
    const pending = readPending();
    sessionStorage.removeItem(OAUTH_STORAGE_KEY);
    const fail = (message: string) => {
      queueMicrotask(() => {
        setResult({ state: "error", message });
      });
    };
    if (params.get("error")) {
      fail(params.get("error_description") ?? params.get("error") ?? "HuggingFace refused the sign-in.");
      return;
    }
    if (!code || !state || !pending || pending.state !== state) {
      fail("This sign-in link is not the one this browser started (or it was already used). Start again from Settings.");
      return;
    }
    void (async () => {
      try {
        const token = await data(
          api.POST("/api/oauth/huggingface/token", { body: { code, codeVerifier: pending.verifier, redirectUri: callbackUri() } }),
        );
        const saved = await data(api.POST("/api/secrets/huggingface", { body: { accessToken: token.accessToken } }));
        setResult({ state: "done", user: saved.user.name });
      } catch (error) {
        setResult({ state: "error", message: error instanceof Error ? error.message : String(error) });
      }
    })();
  }, []);

  return (
    <main className="mx-auto mt-16 max-w-lg p-4 text-fg">
      <h1 tabIndex={-1} className="text-xl font-semibold">
        HuggingFace sign-in
      </h1>
      <div className="mt-4" aria-live="polite">
        {result.state === "working" ? (
          <Loading label="Finishing the sign-in…" />
        ) : result.state === "done" ? (
          <p role="status">Signed in as {result.user}; the token is stored for your deployments.</p>
        ) : (
          <p role="alert" className="text-bad">
            {result.message}
          </p>
        )}
      </div>
      <Link className="mt-4 inline-block text-primary underline" to="/settings?tab=integrations">
        Back to Settings
      </Link>
    </main>
  );
}
