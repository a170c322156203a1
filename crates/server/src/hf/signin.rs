//! Sign-ins with HuggingFace between `start` and the verifier fetch: the PKCE verifier and
//! redirect URI the server made for a client that cannot keep them itself, handed out once and
//! only to the holder of the session key, and forgotten after a TTL.

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

    /// Keeps `sign_in` under `state` for whoever presents `session_key` (only its digest is
    /// kept).
    pub(crate) async fn insert(&self, state: String, sign_in: SignIn, session_key: &str) {
        let pending = Pending {
            sign_in,
            key_hash: Sha256::digest(session_key.as_bytes()).into(),
        };
        self.pending.insert(state, Arc::new(pending)).await;
    }

    /// The sign-in under `state`, removed, when `session_key` is its key. A wrong key leaves
    /// it in place: the holder of the real key can still finish.
    pub(crate) async fn take(&self, state: &str, session_key: &str) -> Option<SignIn> {
        let pending = self.pending.get(state).await?;
        let presented: [u8; 32] = Sha256::digest(session_key.as_bytes()).into();
        // Comparing digests keeps the comparison independent of where the keys differ.
        if presented != pending.key_hash {
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

    #[tokio::test]
    async fn a_sign_in_is_handed_out_once_and_only_for_its_key() {
        let store = SignIns::new(Duration::from_secs(60));
        let sign_in = SignIn {
            verifier: "v".into(),
            redirect_uri: "http://localhost/cb".into(),
        };
        store.insert("s".into(), sign_in.clone(), "key").await;
        assert_eq!(store.take("s", "wrong").await, None);
        assert_eq!(store.take("s", "key").await, Some(sign_in));
        assert_eq!(store.take("s", "key").await, None);
    }
}
