//! Reading (never verifying) the expiry of a JWT. The server checks
//! the token with a TokenReview; the CLI only uses the claims to say when a token expires and to
//! refuse one that already has.

use base64::Engine as _;
use jiff::Timestamp;
use serde::Deserialize;

/// The claims `kubeairunway login` reads.
#[derive(Debug, Default, Deserialize)]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
}

impl Claims {
    /// The expiry as a timestamp, when the token states one that is representable.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.exp.and_then(|s| Timestamp::from_second(s).ok())
    }
}

/// The claims of `token` when it is a JWT (three base64url parts with a JSON payload), else
/// `None`: opaque tokens (static tokens, cloud access tokens) have no claims to read.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", enc(r#"{"alg":"RS256"}"#), enc(payload))
    }

    #[test]
    fn reads_the_expiry() {
        let c = claims(&jwt(
            r#"{"exp":1700000000,"email":"a@example.com","sub":"42"}"#,
        ))
        .expect("a JWT");
        assert_eq!(c.expires_at().map(|t| t.as_second()), Some(1_700_000_000));
    }

    #[test]
    fn opaque_tokens_have_no_claims() {
        assert!(claims("0123456789abcdef").is_none());
        assert!(claims("a.b").is_none());
        assert!(claims("a.b.c.d").is_none());
        assert!(claims("a.!!!.c").is_none());
        assert!(claims(&jwt("not json")).is_none());
    }
}
