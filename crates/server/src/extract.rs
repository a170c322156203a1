//! Request extractors whose rejections use the API's error envelope, and the shared name rules
//! (typed [`InvalidName`] errors, so that request mapping outside handlers can use them too).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// `Json<T>` that answers malformed or mistyped bodies with a 400 envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            rejection.status(),
            "Expected a JSON body with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!(
            "Malformed JSON in request body: {}",
            source_text(e)
        )),
        JsonRejection::JsonDataError(e) => {
            ApiError::bad_request(format!("Invalid request body: {}", source_text(e)))
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        other => ApiError::new(other.status(), other.body_text()),
    }
}

/// The one answer to an oversized body, whichever layer notices it.
pub fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "Request body too large (limit {} MiB)",
            crate::limits::BODY_LIMIT >> 20
        ),
    )
}

/// The innermost error text (serde's message with its path), without axum's prefix.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// `Query<T>` that answers bad query strings with a 400 envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> ApiError {
    match rejection {
        QueryRejection::FailedToDeserializeQueryString(e) => {
            ApiError::bad_request(format!("Invalid query parameters: {}", source_text(e)))
        }
        other => ApiError::new(other.status(), other.body_text()),
    }
}

/// A name Kubernetes would refuse, refused before any call is made (with the rule, so the user
/// can fix it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    /// Not an RFC 1123 label.
    #[error(
        "Invalid namespace \"{0}\": must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit"
    )]
    Namespace(String),
    /// Not a DNS-1035 label.
    #[error(
        "Invalid deployment name \"{0}\": must be 1-63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit"
    )]
    Deployment(String),
}

impl From<InvalidName> for ApiError {
    fn from(err: InvalidName) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

/// Checks a namespace name (RFC 1123 label: 1–63 lower-case alphanumerics or `-`).
pub fn validate_namespace(ns: &str) -> Result<(), InvalidName> {
    if is_dns_label(ns, false) {
        Ok(())
    } else {
        Err(InvalidName::Namespace(truncate(ns)))
    }
}

/// Checks a deployment name. Deployments become Services and pods with suffixes, so the name must
/// be a DNS-1035 label of at most 63 characters (docs/contract/api.md §19.3): no dots, starts with
/// a letter.
pub fn validate_deployment_name(name: &str) -> Result<(), InvalidName> {
    if is_dns_label(name, true) {
        Ok(())
    } else {
        Err(InvalidName::Deployment(truncate(name)))
    }
}

fn is_dns_label(s: &str, letter_first: bool) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    bytes.len() <= 63
        && (if letter_first {
            first.is_ascii_lowercase()
        } else {
            alnum(first)
        })
        && alnum(last)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// At most 80 characters of user input, for messages.
pub fn truncate(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

/// Parses an optional integer query parameter within `min..=max` (an empty value counts as
/// absent, as in the reference).
pub(crate) fn parse_number(
    name: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> ApiResult<Option<usize>> {
    let Some(raw) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let range = if max == usize::MAX {
        format!("an integer of at least {min}")
    } else {
        format!("an integer from {min} to {max}")
    };
    match raw.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::bad_request(format!(
            "Invalid {name} \"{}\": must be {range}",
            truncate(raw)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_deployment_name("llama-3").is_ok());
        assert!(validate_deployment_name("3llama").is_err());
        assert!(validate_deployment_name("llama.3").is_err());
        assert!(validate_deployment_name("Llama").is_err());
        assert!(validate_deployment_name("").is_err());
        assert!(validate_deployment_name(&"a".repeat(64)).is_err());
        assert!(validate_deployment_name(&"a".repeat(63)).is_ok());
        assert!(validate_namespace("team-a").is_ok());
        assert!(validate_namespace("1team").is_ok());
        assert!(validate_namespace("-team").is_err());
        assert!(validate_namespace("../etc").is_err());
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse_number("limit", None, 1, 100).ok(), Some(None));
        assert_eq!(parse_number("limit", Some(""), 1, 100).ok(), Some(None));
        assert_eq!(
            parse_number("limit", Some("100"), 1, 100).ok(),
            Some(Some(100))
        );
        for bad in ["0", "101", "-1", "1.5", "ten", "1e3"] {
            let err = parse_number("limit", Some(bad), 1, 100).expect_err(bad);
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains("from 1 to 100"), "{}", err.message);
        }
        assert!(parse_number("offset", Some("-3"), 0, usize::MAX).is_err());
        assert_eq!(
            parse_number("offset", Some("7"), 0, usize::MAX).ok(),
            Some(Some(7))
        );
    }
}
