//! Protections in front of every route: authentication (the rules are in [`crate::auth`]), Host
//! and Origin checks (DNS rebinding and cross-site requests against a loopback server without
//! auth), CORS for configured origins only, security headers, and the envelope for errors
//! produced by layers rather than handlers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// Content-Security-Policy of every response: the UI loads only its own scripts.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Middleware: authenticates `/api` requests when auth is on and attaches the [`Caller`].
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth = state.auth().clone();
    if !auth.enabled() {
        return next.run(req).await;
    }
    let token = auth::bearer(&req);
    let public = auth::is_public(req.method(), req.uri().path());
    let Some(token) = token else {
        if public {
            return next.run(req).await;
        }
        return ApiError::new(StatusCode::UNAUTHORIZED, "Authentication required").into_response();
    };
    let kube = match state.kube() {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    match auth::review(&auth, &kube.client, &kube.config, &token).await {
        Ok(identity) => {
            req.extensions_mut()
                .insert(Caller::authenticated(identity, kube.client.clone(), auth));
            next.run(req).await
        }
        Err(_) if public => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Middleware: without auth, only requests addressed to this server (Host) from its own pages
/// or non-browser clients (Origin) are served.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.auth().enabled() {
        return next.run(req).await;
    }
    let config = state.config();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !host_allowed(&host, &config.allowed_hosts) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host \"{}\" is not allowed; open the dashboard at http://localhost:{} or add the host with --allowed-host",
                crate::extract::truncate(&host),
                config.addr.port()
            ),
        )
        .into_response();
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        let same = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|authority| authority.eq_ignore_ascii_case(&host));
        if !same && !config.cors_origins.iter().any(|o| o == origin) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Cross-origin request from \"{}\" refused; allow it with CORS_ORIGIN",
                    crate::extract::truncate(origin)
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Whether the Host header names this server: a loopback name, or one of `allowed`.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    ["localhost", "127.0.0.1", "[::1]"].contains(&name.as_str())
        || allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&name) || a.eq_ignore_ascii_case(host))
}

/// CORS for exactly the configured origins (none by default), or for any origin with
/// `CORS_ORIGIN=*`, which [`crate::Config::validate`] allows only with authentication. Never
/// with credentials: tokens travel in `Authorization`, which browsers do not add by themselves.
pub fn cors(config: &crate::Config) -> CorsLayer {
    let allow = if config.cors_any_origin() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::PATCH,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-hf-token"),
            header::HeaderName::from_static("x-oauth-session-key"),
            header::HeaderName::from_static("prefer"),
        ])
        .expose_headers([header::LOCATION])
}

/// Middleware: errors that layers answer with a bare status (timeouts, oversized bodies) get
/// the JSON envelope on `/api` paths.
pub async fn envelope_layer_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let message = match status {
        StatusCode::REQUEST_TIMEOUT => "The request took too long and was cancelled".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => return crate::extract::body_too_large().into_response(),
        other => other
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_string(),
    };
    ApiError::new(status, message).into_response()
}

/// The answer to a panicking handler: a 500 envelope (the panic message is only logged).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let none: Vec<String> = vec![];
        assert!(host_allowed("localhost:3001", &none));
        assert!(host_allowed("127.0.0.1:3001", &none));
        assert!(host_allowed("[::1]:3001", &none));
        assert!(host_allowed("LOCALHOST", &none));
        assert!(!host_allowed("evil.example:3001", &none));
        assert!(!host_allowed("localhost.evil.example", &none));
        assert!(!host_allowed("", &none));
        assert!(host_allowed(
            "dash.internal:3001",
            &["dash.internal".to_string()]
        ));
    }
}
