import { data } from "@kubeairunway/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type SubmitEvent } from "react";

import { api } from "../../api/client";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { useToast } from "../../components/Toasts";
import { Badge, Button, Card, ErrorMessage, Loading } from "../../components/ui";
import { callbackUri, OAUTH_STORAGE_KEY, pkce } from "../../lib/pkce";

const STATUS_KEY = ["hf-secret-status"] as const;

/** Settings → Integrations: the HuggingFace token Secret (sign in, paste, disconnect). */
export function Integrations() {
  const qc = useQueryClient();
  const toast = useToast();
  const inputId = useId();
  const [token, setToken] = useState("");
  const [confirm, setConfirm] = useState(false);
  const status = useQuery({
    queryKey: STATUS_KEY,
    queryFn: ({ signal }) => data(api.GET("/api/secrets/huggingface/status", { signal })),
  });
  const oauth = useQuery({
    queryKey: ["hf-oauth-config"],
    queryFn: ({ signal }) => data(api.GET("/api/oauth/huggingface/config", { signal })),
    staleTime: Infinity,
  });
  const save = useMutation({
    mutationFn: (accessToken: string) => data(api.POST("/api/secrets/huggingface", { body: { accessToken } })),
    onSuccess: (result) => {
      setToken("");
      toast.show("success", "HuggingFace token saved", `Signed in as ${result.user.name}.`);
      void qc.invalidateQueries({ queryKey: STATUS_KEY });
    },
    onError: (error) => {
      toast.show("error", "Could not save the token", error.message);
    },
  });
  const remove = useMutation({
    mutationFn: () => data(api.DELETE("/api/secrets/huggingface")),
    onSettled: () => {
      setConfirm(false);
      void qc.invalidateQueries({ queryKey: STATUS_KEY });
    },
    onSuccess: (result) => {
      toast.show(result.success ? "success" : "error", result.message);
    },
    onError: (error) => {
      toast.show("error", "Could not remove the token", error.message);
    },
  });

  const signIn = async () => {
    const config = oauth.data;
    if (!config?.enabled) return;
    const { verifier, challenge, state } = await pkce();
    sessionStorage.setItem(OAUTH_STORAGE_KEY, JSON.stringify({ state, verifier }));
    const url = new URL(config.authorizeUrl);
    url.search = new URLSearchParams({
      client_id: config.clientId,
      redirect_uri: callbackUri(),
      scope: config.scopes.join(" "),
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
    }).toString();
    window.location.assign(url.toString());
  };

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (token.trim()) save.mutate(token.trim());
  };

  return (
    <Card title="HuggingFace">
      <p className="mb-3 text-sm text-muted">
        Gated models need a HuggingFace token. It is stored as the Secret <code>hf-token-secret</code> (key{" "}
        <code>HF_TOKEN</code>) in the namespaces deployments run in, with your own Kubernetes permissions.
      </p>
      {status.isPending ? (
        <Loading label="Checking the token Secret…" />
      ) : status.isError ? (
        <ErrorMessage title="Could not check the token Secret" error={status.error} />
      ) : (
        <div className="mb-4 text-sm">
          <p role="status">
            {status.data.configured ? <Badge tone="ok">Token stored</Badge> : <Badge tone="warn">No token</Badge>}
            {status.data.user ? <span className="ml-2">as {status.data.user.name}</span> : null}
          </p>
          <ul className="mt-2 flex flex-wrap gap-2">
            {status.data.namespaces.map((ns) => (
              <li key={ns.name}>
                <Badge tone={ns.exists ? "ok" : ns.error ? "bad" : "neutral"}>
                  {ns.name}: {ns.exists ? "stored" : ns.error ? ns.error : "missing"}
                </Badge>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="flex flex-wrap items-end gap-4">
        {oauth.data?.enabled ? (
          <Button variant="primary" onClick={() => void signIn()}>
            Sign in with HuggingFace
          </Button>
        ) : null}
        <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2 text-sm">
          <div className="flex flex-col gap-1">
            <label htmlFor={inputId} className="font-medium">
              Or paste an access token
            </label>
            <input
              id={inputId}
              type="password"
              autoComplete="off"
              className="w-72 rounded-md border border-line bg-bg px-3 py-1.5"
              placeholder="hf_…"
              value={token}
              onChange={(e) => {
                setToken(e.target.value);
              }}
            />
          </div>
          <Button type="submit" loading={save.isPending} loadingText="Saving…" disabled={!token.trim()}>
            Save token
          </Button>
        </form>
        {status.data?.configured ? (
          <Button
            variant="danger"
            onClick={() => {
              setConfirm(true);
            }}
          >
            Disconnect
          </Button>
        ) : null}
      </div>
      <ConfirmDialog
        open={confirm}
        title="Remove the HuggingFace token?"
        confirmLabel="Remove"
        busyLabel="Removing…"
        danger
        busy={remove.isPending}
        onCancel={() => {
          setConfirm(false);
        }}
        onConfirm={() => {
          remove.mutate();
        }}
      >
        New deployments of gated models will fail to download until a token is stored again.
      </ConfirmDialog>
    </Card>
  );
}
