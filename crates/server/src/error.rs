//! The one error envelope of the API: `{"error": {"message", "statusCode"}}`, and the mapping of
//! Kubernetes errors onto it (the API server's status code is kept: 403 stays 403) and of the
//! errors of the HuggingFace client, which knows nothing of HTTP answers.

use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::hf::{HubError, InvalidModelId, InvalidToken};

/// An error answered to the client with its status code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// Message and status of an error response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// What went wrong, in words a user can act on.
    pub message: String,
    /// Same as the HTTP status code.
    pub status_code: u16,
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 503: the Kubernetes API server cannot be reached (or the caches are not synced yet).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Maps a Kubernetes client error, prefixing the message with `context` (for example
    /// "Failed to create deployment"). The API server's status code is kept; transport errors
    /// become 503.
    pub fn kube(context: &str, err: kube::Error) -> Self {
        let (status, message) = describe_kube_error(&err);
        Self::new(status, format!("{context}: {message}"))
    }
}

impl ApiError {
    /// Maps a HuggingFace Hub error, prefixing the message with `context` (for example "Model
    /// search failed"). The Hub's 401/403/404 pass through; trouble with the Hub itself is a
    /// gateway error (502/504), never a 500.
    pub fn hub(context: &str, err: HubError) -> Self {
        let status = match &err {
            HubError::Unreachable { .. } | HubError::Status { .. } | HubError::Malformed { .. } => {
                StatusCode::BAD_GATEWAY
            }
            HubError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            HubError::Gated(_) | HubError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            HubError::Forbidden(_) => StatusCode::FORBIDDEN,
            HubError::NotFound(_) => StatusCode::NOT_FOUND,
            HubError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        };
        Self::new(status, format!("{context}: {err}"))
    }
}

impl From<InvalidModelId> for ApiError {
    fn from(err: InvalidModelId) -> Self {
        Self::bad_request(err.to_string())
    }
}

impl From<InvalidToken> for ApiError {
    fn from(err: InvalidToken) -> Self {
        Self::bad_request(err.to_string())
    }
}

/// Status code and message for a Kubernetes client error: the API server's own code for its
/// errors (500 for codes that are not errors), 503 when it is unreachable, 504 when it did not
/// answer in time ([`crate::kube_client`]), 401 when we could not
/// authenticate, 502 otherwise; the message in the words of [`kubeairunway_api::kube_text`].
pub fn describe_kube_error(err: &kube::Error) -> (StatusCode, String) {
    if let Some(late) = crate::kube_client::is_deadline(err) {
        return (StatusCode::GATEWAY_TIMEOUT, late.to_string());
    }
    let code = match err {
        kube::Error::Api(status) => StatusCode::from_u16(status.code)
            .ok()
            .filter(|c| c.is_client_error() || c.is_server_error())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::HttpError(_)
        | kube::Error::ReadEvents(_) => StatusCode::SERVICE_UNAVAILABLE,
        kube::Error::Auth(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_GATEWAY,
    };
    (code, kubeairunway_api::kube_text::describe(err))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.message,
                status_code: self.status.as_u16(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Unknown `/api/...` routes.
pub(crate) async fn api_not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("Route not found: {method} {}", uri.path()),
    )
}

/// A known path called with a method it does not support.
pub(crate) async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn kube_status_codes_and_causes_are_kept() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 422, "reason": "Invalid",
            "message": "ModelDeployment.kubeairunway.ai \"x\" is invalid",
            "details": { "causes": [ { "field": "spec.engine.type", "message": "Unsupported value: \"foo\"", "reason": "FieldValueNotSupported" } ] }
        }))
        .expect("status");
        let err = ApiError::kube(
            "Failed to create deployment",
            kube::Error::Api(Box::new(status)),
        );
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            err.message
                .starts_with("Failed to create deployment: ModelDeployment")
        );
        assert!(
            err.message
                .contains("Details: spec.engine.type: Unsupported value")
        );
    }

    #[test]
    fn hugging_face_errors_keep_their_meaning() {
        let id = crate::hf::ModelId::parse("a/../b").expect_err("invalid id");
        assert_eq!(ApiError::from(id).status, StatusCode::BAD_REQUEST);
        let token = crate::hf::HfToken::parse(" ").expect_err("empty token");
        assert_eq!(ApiError::from(token).status, StatusCode::BAD_REQUEST);
        let err = ApiError::hub("Model search failed", HubError::Timeout(10));
        assert_eq!(err.status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            err.message,
            "Model search failed: the HuggingFace Hub did not answer within 10 s"
        );
        let err = ApiError::hub("x", HubError::NotFound("gone".into()));
        assert_eq!(
            (err.status, err.message.as_str()),
            (StatusCode::NOT_FOUND, "x: gone")
        );
    }

    #[test]
    fn empty_messages_get_a_friendly_sentence() {
        let status: Status = serde_json::from_value(
            serde_json::json!({ "status": "Failure", "code": 403, "reason": "Forbidden" }),
        )
        .expect("status");
        let (code, message) = describe_kube_error(&kube::Error::Api(Box::new(status)));
        assert_eq!(code, StatusCode::FORBIDDEN);
        assert!(message.contains("permission"));
    }
}
