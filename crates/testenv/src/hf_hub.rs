//! A local stand-in for the HuggingFace Hub (<https://huggingface.co>), which tests cannot reach.
//!
//! [`HubServer`] answers on loopback with the Hub's own paths, JSON shapes, headers and status
//! codes (taken from the Hub documentation, the `huggingface_hub` / `huggingface.js` clients and
//! recorded live responses): the model listing `GET /api/models` (search, filters, sort,
//! `full`/`config`/`expand`, `Link` cursor pagination), model info `GET /api/models/{id}`
//! (reduced `config`, `safetensors`, `siblings`, `?blobs=true`, `/revision/{rev}`), raw files
//! `GET /{id}/resolve/{rev}/{file}` (gated repos refused with `X-Error-Code: GatedRepo`),
//! `GET /api/whoami-v2`, and the OAuth / OpenID Connect flow (`/oauth/authorize` with PKCE S256,
//! `/oauth/token`, `/oauth/userinfo`, `/.well-known/openid-configuration`).
//!
//! Its repositories are real models with their real metadata (`hf-hub/models.json`) plus 40
//! generated community fine-tunes, so searching "qwen" spans several pages. Tokens:
//! [`TOKEN_READ`] (user `test-user`, who accepted the gated repos' terms),
//! [`TOKEN_NO_GATED_ACCESS`] (user `other-user`, who did not), and the tokens the OAuth flow
//! issues to `test-user`. [`HubServer::set_fault`] makes every route slow, failing or malformed;
//! [`HubServer::stop`] takes the Hub down.
//!
//! Where it necessarily differs from the Hub: `/oauth/authorize` signs `test-user` in and
//! consents at once (no login page), accepts any http(s) redirect URI for [`OAUTH_CLIENT_ID`],
//! and LFS files (weights, GGUF) redirect to a local placeholder instead of their bytes.

mod api;
mod catalogue;
mod oauth;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::loopback::{Bound, Loopback};
use crate::{Error, Result};

/// A read token of user `test-user`, who has been granted access to every gated repository.
pub const TOKEN_READ: &str = "hf_TestenvReadTokenOfTestUser00000001";

/// A valid read token of user `other-user`, who has not accepted the gated repositories' terms:
/// gated files answer 403.
pub const TOKEN_NO_GATED_ACCESS: &str = "hf_TestenvTokenOfOtherUserNoGatedRepo";

/// The client id of the OAuth application registered on the local Hub (a public client: PKCE,
/// no secret).
pub const OAUTH_CLIENT_ID: &str = "6f0b2d1e-4c3a-4b8e-9d7f-a1c2e3f4b5d6";

/// What every route of the local Hub does until the next [`HubServer::set_fault`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// Sleep this long before answering (tests a client's timeout).
    Slow(Duration),
    /// Answer this status with a Hub-style `{"error": …}` body (e.g. 500, 503).
    Status(u16),
    /// Answer 200 with a JSON content type and a truncated, unparsable body.
    MalformedJson,
}

/// The local Hub, serving on `127.0.0.1` from a thread and runtime of its own, so one server can
/// live in a `static` shared by many `#[tokio::test]`s. Dropping it stops it.
///
/// Tests that set a [`Fault`] or [`HubServer::stop`] it should start their own server, since a
/// fault applies to every request until it is reset.
/// Names the fixture in errors and logs.
const WHAT: &str = "the local HuggingFace Hub";

pub struct HubServer {
    url: String,
    shared: Arc<Shared>,
    _server: Loopback,
}

impl HubServer {
    /// Binds `127.0.0.1:0` and starts serving; returns once the port accepts connections.
    pub fn start() -> Result<HubServer> {
        let catalogue = catalogue::Catalogue::load().map_err(|e| Error::Io {
            what: "parsing the local HuggingFace Hub fixtures (hf-hub/models.json)".into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        let bound = Bound::new(WHAT)?;
        let url = bound.url().to_string();
        let shared = Arc::new(Shared {
            base_url: url.clone(),
            catalogue,
            fault: Mutex::new(Fault::None),
            requests: Mutex::new(Vec::new()),
            oauth: oauth::OAuthState::default(),
        });
        let server = bound.serve(WHAT, router(shared.clone()))?;
        Ok(HubServer {
            url,
            shared,
            _server: server,
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash: what `HF_ENDPOINT` should be.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Applies `fault` to every following request (of any route) until the next call.
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    /// How many requests reached a path-and-query starting with `prefix` (e.g. `/api/models?`
    /// for listings only), so tests can tell a cached answer from a new call. Counts requests
    /// answered with a fault too.
    pub fn requests(&self, prefix: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|target| target.starts_with(prefix))
            .count()
    }

    /// Stops serving: the port then refuses connections, as when the Hub is down.
    pub fn stop(self) {
        drop(self);
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/models", get(api::list_models))
        .route("/api/models/{*rest}", get(api::model_info))
        .route("/api/whoami-v2", get(whoami))
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/userinfo", get(oauth::userinfo))
        .route(
            "/.well-known/openid-configuration",
            get(oauth::openid_configuration),
        )
        .route(api::LFS_OBJECT_ROUTE, get(api::lfs_object))
        .fallback(api::resolve)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            record_and_fault,
        ))
        .with_state(shared)
}

/// State shared by the handlers.
struct Shared {
    base_url: String,
    catalogue: catalogue::Catalogue,
    fault: Mutex<Fault>,
    requests: Mutex<Vec<String>>,
    oauth: oauth::OAuthState,
}

type AppState = State<Arc<Shared>>;

/// A poisoned lock only means a handler panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts the request, then applies the current fault.
async fn record_and_fault(State(shared): AppState, request: Request, next: Next) -> Response {
    let target = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_string(),
        |p| p.as_str().to_string(),
    );
    lock(&shared.requests).push(target);
    let fault = lock(&shared.fault).clone();
    match fault {
        Fault::None => next.run(request).await,
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::Status(code) => status_fault(code),
        Fault::MalformedJson => {
            let response = next.run(request).await;
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            let truncated = if body.len() >= 2 {
                body.slice(..body.len() / 2)
            } else {
                axum::body::Bytes::from_static(br#"[{"_id":""#)
            };
            (
                StatusCode::OK,
                [(CONTENT_TYPE, "application/json; charset=utf-8")],
                truncated,
            )
                .into_response()
        }
    }
}

/// The answer of [`Fault::Status`]: the status with the Hub's error body.
fn status_fault(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status.as_u16() {
        500 => "Internal Error - We're working hard to fix this as soon as possible!",
        429 => "You have exceeded our rate limit. Please wait before sending more requests.",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let mut response = hub_error(status, None, message);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let headers = response.headers_mut();
        headers.insert("RateLimit", HeaderValue::from_static("\"api\";r=0;t=60"));
        headers.insert(
            "RateLimit-Policy",
            HeaderValue::from_static("\"fixed window\";\"api\";q=500;w=300"),
        );
    }
    response
}

/// The Hub's error answer: `{"error": message}` and the same text in `X-Error-Message`, with
/// `X-Error-Code` when the Hub names the error (`RepoNotFound`, `GatedRepo`, …).
fn hub_error(status: StatusCode, code: Option<&str>, message: &str) -> Response {
    let mut response = json_response(status, &json!({ "error": message }));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(message) {
        headers.insert("X-Error-Message", value);
    }
    if let Some(code) = code.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert("X-Error-Code", code);
    }
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = body.to_string();
    (
        status,
        [
            (CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (CONTENT_LENGTH, text.len().to_string()),
        ],
        text,
    )
        .into_response()
}

/// The Hub's answer to a bearer token it does not know.
const INVALID_CREDENTIALS: &str = "Invalid credentials in Authorization header";
/// The Hub's answer to a request that needs an account and carries none.
const NOT_SIGNED_IN: &str = "Invalid username or password.";

/// An account of the local Hub.
struct Account {
    id: &'static str,
    name: &'static str,
    fullname: &'static str,
    email: &'static str,
    avatar_url: &'static str,
    /// Whether the account has accepted the gated repositories' terms.
    gated_access: bool,
}

static TEST_USER: Account = Account {
    id: "6650f1e2a3b4c5d6e7f80911",
    name: "test-user",
    fullname: "Test User",
    email: "test-user@example.com",
    avatar_url: "/avatars/5a1e3c2f7d9b4e6a8c0f2b4d6e8a0c2e.svg",
    gated_access: true,
};

static OTHER_USER: Account = Account {
    id: "6650f1e2a3b4c5d6e7f80922",
    name: "other-user",
    fullname: "Other User",
    email: "other-user@example.com",
    avatar_url: "/avatars/9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49.svg",
    gated_access: false,
};

/// Who sent a request.
enum Caller {
    Anonymous,
    User { account: &'static Account, via: Via },
}

/// Why the credentials of a request were refused (answered 401).
#[derive(Clone, Copy, Debug)]
enum Refused {
    /// A bearer token the Hub does not know (revoked, expired, mistyped).
    UnknownToken,
    /// Another authorization scheme (the Hub reads it as a username and password).
    NotBearer,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let message = match self {
            Refused::UnknownToken => INVALID_CREDENTIALS,
            Refused::NotBearer => NOT_SIGNED_IN,
        };
        hub_error(StatusCode::UNAUTHORIZED, None, message)
    }
}

/// How a caller authenticated.
enum Via {
    /// A user access token.
    Token { display_name: &'static str },
    /// An access token issued by `/oauth/token`.
    OAuth {
        scope: String,
        expires_at: k8s_openapi::jiff::Timestamp,
    },
}

impl Caller {
    /// Identifies the caller from `Authorization: Bearer …`; an unknown token is refused, as the
    /// Hub refuses it even on public resources.
    fn from_headers(shared: &Shared, headers: &HeaderMap) -> std::result::Result<Caller, Refused> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let value = value.to_str().unwrap_or_default();
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(Refused::NotBearer),
        };
        let user_tokens = [
            (TOKEN_READ, &TEST_USER, "testenv-read"),
            (TOKEN_NO_GATED_ACCESS, &OTHER_USER, "testenv-read-no-gated"),
        ];
        if let Some((_, account, display_name)) = user_tokens.iter().find(|(t, ..)| *t == token) {
            return Ok(Caller::User {
                account,
                via: Via::Token { display_name },
            });
        }
        match shared.oauth.lookup(token) {
            Some((account, scope, expires_at)) => Ok(Caller::User {
                account,
                via: Via::OAuth { scope, expires_at },
            }),
            None => Err(Refused::UnknownToken),
        }
    }

    /// Whether the caller may download gated files (OAuth tokens need the `read-repos` scope).
    fn can_read_gated(&self) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::User { account, via } => {
                account.gated_access
                    && match via {
                        Via::Token { .. } => true,
                        Via::OAuth { scope, .. } => scope.split(' ').any(|s| s == "read-repos"),
                    }
            }
        }
    }
}

/// `GET /api/whoami-v2`: the account behind the bearer token.
async fn whoami(State(shared): AppState, headers: HeaderMap) -> Response {
    let (account, via) = match Caller::from_headers(&shared, &headers) {
        Ok(Caller::User { account, via }) => (account, via),
        Ok(Caller::Anonymous) => {
            return hub_error(StatusCode::UNAUTHORIZED, None, NOT_SIGNED_IN);
        }
        Err(refused) => return refused.into_response(),
    };
    let auth = match via {
        Via::Token { display_name } => json!({
            "type": "access_token",
            "accessToken": {
                "displayName": display_name,
                "role": "read",
                "createdAt": "2025-01-15T09:30:00.000Z"
            }
        }),
        Via::OAuth { expires_at, .. } => json!({
            "type": "oauth",
            "expiresAt": expires_at.to_string()
        }),
    };
    json_response(
        StatusCode::OK,
        &json!({
            "type": "user",
            "id": account.id,
            "name": account.name,
            "fullname": account.fullname,
            "email": account.email,
            "emailVerified": true,
            "canPay": false,
            "periodEnd": null,
            "isPro": false,
            "avatarUrl": account.avatar_url,
            "orgs": [],
            "auth": auth
        }),
    )
}
