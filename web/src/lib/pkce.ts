/** Where the HuggingFace sign-in keeps its state between the redirect and the callback. */
export const OAUTH_STORAGE_KEY = "kubeairunway_hf_oauth";

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A PKCE verifier (43 characters), its S256 challenge, and a random state. */
export async function pkce(): Promise<{ verifier: string; challenge: string; state: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  return { verifier, challenge: base64url(digest), state };
}

/** The redirect URI of this UI's callback page. */
export function callbackUri(): string {
  return `${window.location.origin}/oauth/callback/huggingface`;
}
