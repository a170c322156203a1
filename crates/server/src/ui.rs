//! The web UI, served from files embedded in the binary.

use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Fallback for every non-API path.
pub(crate) async fn serve() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "Frontend not available")
}
