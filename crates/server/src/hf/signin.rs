//! Sign-ins with HuggingFace between `start` and the verifier fetch: the PKCE verifier and
//! redirect URI the server made for a client that cannot keep them itself, handed out once,
//! only to the client that started the sign-in, and forgotten after a TTL.
//!
//! "The client that started it" is proven by the session key `start` returned (it never travels
//! in a URL), or, for clients written for the reference that never send one, by presenting the
//! same [`Requester`] as `start`: the same `Origin` and the same `Authorization` header. The
//! threat is someone who learned the OAuth `state` — it travels in the authorize URL and in the
//! redirect back, so it shows in browser history, extensions and proxy logs — fetching the
//! verifier and, with the code from the same URL, taking the user's HuggingFace token. A page
//! on another site cannot send another page's `Origin` (browsers set it), and with auth on a
//! client also needs the user's cluster token; the state is unguessable (122 random bits),
//! lives at most the TTL, and the first fetch consumes it, which the legitimate client makes
//! right after the redirect. What remains: with auth off (loopback only), a non-browser process
//! on the same machine that copies the state and wins the race within the TTL.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use sha2::{Digest, Sha256};

/// Most sign-ins pending at once (each entry is a few hundred bytes).
const MAX_PENDING: u64 = 10_000;

/// What a finished `start` handed to the server to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignIn {
    /// The PKCE code verifier.
    pub verifier: String,
    /// The redirect URI the sign-in started with.
    pub redirect_uri: String,
}

struct Pending {
    sign_in: SignIn,
    key_hash: [u8; 32],
    requester: [u8; 32],
}

/// Who sent a request, as far as a sign-in is bound to it: the `Origin` and `Authorization`
/// headers (absent ones count as empty). Only a digest is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Requester([u8; 32]);

impl Requester {
    /// The requester of a request with these headers.
    pub(crate) fn new(origin: Option<&[u8]>, authorization: Option<&[u8]>) -> Self {
        let mut hasher = Sha256::new();
        for part in [origin, authorization] {
            let part = part.unwrap_or_default();
            // Length-prefixed, so no two header pairs hash alike.
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }
}

/// What a verifier fetch presents to prove it comes from the client that started the sign-in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Proof<'a> {
    /// The session key `start` returned.
    SessionKey(&'a str),
    /// No session key: the same requester as `start`.
    SameRequester(Requester),
}

/// Pending sign-ins by OAuth `state`.
#[derive(Clone)]
pub(crate) struct SignIns {
    pending: Cache<String, Arc<Pending>>,
}

impl SignIns {
    /// An empty store whose entries expire `ttl` after they were made.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            pending: Cache::builder()
                .max_capacity(MAX_PENDING)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// Keeps `sign_in` under `state` for whoever presents `session_key`, or is `requester`
    /// (only digests are kept).
    pub(crate) async fn insert(
        &self,
        state: String,
        sign_in: SignIn,
        session_key: &str,
        requester: Requester,
    ) {
        let pending = Pending {
            sign_in,
            key_hash: Sha256::digest(session_key.as_bytes()).into(),
            requester: requester.0,
        };
        self.pending.insert(state, Arc::new(pending)).await;
    }

    /// The sign-in under `state`, removed, when `proof` is right: its session key, or (without
    /// one) the requester that started it. A wrong proof leaves it in place: the client that
    /// started the sign-in can still finish.
    pub(crate) async fn take(&self, state: &str, proof: Proof<'_>) -> Option<SignIn> {
        let pending = self.pending.get(state).await?;
        // Comparing digests keeps the comparison independent of where the values differ.
        let matches = match proof {
            Proof::SessionKey(key) => {
                let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
                presented == pending.key_hash
            }
            Proof::SameRequester(requester) => requester.0 == pending.requester,
        };
        if !matches {
            return None;
        }
        // One-time read: a second fetch (or a replay) finds nothing.
        let pending = self.pending.remove(state).await?;
        Some(pending.sign_in.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> SignIn {
        SignIn {
            verifier: "v".into(),
            redirect_uri: "http://localhost/cb".into(),
        }
    }

    #[tokio::test]
    async fn a_sign_in_is_handed_out_once_and_only_for_its_key() {
        let store = SignIns::new(Duration::from_secs(60));
        let me = Requester::new(Some(b"http://localhost:4466"), None);
        store.insert("s".into(), sign_in(), "key", me).await;
        assert_eq!(store.take("s", Proof::SessionKey("wrong")).await, None);
        assert_eq!(
            store.take("s", Proof::SessionKey("key")).await,
            Some(sign_in())
        );
        assert_eq!(store.take("s", Proof::SessionKey("key")).await, None);
    }

    #[tokio::test]
    async fn without_a_key_only_the_same_origin_and_token_get_it() {
        let store = SignIns::new(Duration::from_secs(60));
        let origin = Some(b"http://localhost:4466".as_slice());
        let token = Some(b"Bearer abc".as_slice());
        store
            .insert("s".into(), sign_in(), "key", Requester::new(origin, token))
            .await;
        for other in [
            Requester::new(Some(b"http://evil.example"), token),
            Requester::new(origin, Some(b"Bearer other")),
            Requester::new(origin, None),
            Requester::new(None, None),
            // The parts cannot be shifted into each other.
            Requester::new(Some(b"http://localhost:4466Bearer abc"), None),
        ] {
            assert_eq!(store.take("s", Proof::SameRequester(other)).await, None);
        }
        let me = Requester::new(origin, token);
        assert_eq!(
            store.take("s", Proof::SameRequester(me)).await,
            Some(sign_in())
        );
        assert_eq!(
            store.take("s", Proof::SameRequester(me)).await,
            None,
            "once"
        );
    }
}
