//! "Sign in with Hugging Face": the OAuth 2.0 / OpenID Connect authorization-code flow with
//! PKCE (S256), as the Hub documents it (<https://huggingface.co/docs/hub/oauth>).
//!
//! `/oauth/authorize` consents for `test-user` at once and redirects with a code; `/oauth/token`
//! checks the code (single use, 10 minutes), the redirect URI and the PKCE verifier, and issues
//! an access token valid 8 hours (the Hub's default) that the other routes accept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    Account, AppState, Caller, INVALID_CREDENTIALS, OAUTH_CLIENT_ID, TEST_USER, Via, hub_error,
    json_response, lock,
};

/// The scopes the Hub documents.
const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "read-billing",
    "read-repos",
    "write-repos",
    "manage-repos",
    "inference-api",
    "write-discussions",
];
/// Lifetime of an access token: the Hub's default, 8 hours.
const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_secs(8 * 3600);
/// Lifetime of an authorization code.
const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Key of the (HS256) ID tokens; they are for shape only, nobody verifies them.
const ID_TOKEN_KEY: &[u8] = b"kubeairunway-testenv-hf-hub-id-token";

/// Codes waiting for their exchange and the access tokens issued.
#[derive(Default)]
pub(super) struct OAuthState {
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Issued>>,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    nonce: Option<String>,
    account: &'static Account,
    expires: Instant,
}

struct Issued {
    account: &'static Account,
    scope: String,
    expires_at: Timestamp,
}

impl OAuthState {
    /// The account, scope and expiry of a live access token.
    pub(super) fn lookup(&self, token: &str) -> Option<(&'static Account, String, Timestamp)> {
        let tokens = lock(&self.tokens);
        let issued = tokens.get(token)?;
        (issued.expires_at > Timestamp::now())
            .then(|| (issued.account, issued.scope.clone(), issued.expires_at))
    }
}

/// `GET /oauth/authorize`: an unknown client or a bad redirect URI is a 400 (nowhere safe to
/// redirect); other errors go back to the redirect URI as `error`/`error_description`.
pub(super) async fn authorize(State(shared): AppState, RawQuery(query): RawQuery) -> Response {
    let params = first_values(query.as_deref().unwrap_or_default().as_bytes());
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    if param("client_id") != OAUTH_CLIENT_ID {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Unknown client_id",
        );
    }
    let redirect_uri = param("redirect_uri");
    let Some(redirect) = url::Url::parse(redirect_uri)
        .ok()
        .filter(|u| u.scheme() == "http" || u.scheme() == "https")
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must be an absolute http(s) URL",
        );
    };
    let state = params.get("state").cloned();
    let back = |pairs: &[(&str, &str)]| {
        let mut location = redirect.clone();
        {
            let mut query = location.query_pairs_mut();
            for (key, value) in pairs {
                query.append_pair(key, value);
            }
            if let Some(state) = &state {
                query.append_pair("state", state);
            }
        }
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(value) = HeaderValue::from_str(location.as_str()) {
            response.headers_mut().insert(LOCATION, value);
        }
        response
    };
    let error = |code: &str, description: &str| {
        back(&[("error", code), ("error_description", description)])
    };
    if param("response_type") != "code" {
        return error(
            "unsupported_response_type",
            "response_type must be \"code\"",
        );
    }
    let challenge = param("code_challenge");
    if challenge.is_empty() {
        return error("invalid_request", "code_challenge is required (PKCE)");
    }
    if param("code_challenge_method") != "S256" {
        return error("invalid_request", "code_challenge_method must be S256");
    }
    let requested = param("scope");
    let scope: Vec<&str> = if requested.trim().is_empty() {
        vec!["openid", "profile"]
    } else {
        requested.split_whitespace().collect()
    };
    if let Some(unknown) = scope.iter().find(|s| !SCOPES.contains(s)) {
        return error("invalid_scope", &format!("Unknown scope: {unknown}"));
    }
    let code = random_token(24);
    lock(&shared.oauth.grants).insert(
        code.clone(),
        Grant {
            client_id: OAUTH_CLIENT_ID.to_string(),
            redirect_uri: redirect_uri.to_string(),
            challenge: challenge.to_string(),
            scope: scope.join(" "),
            nonce: params.get("nonce").cloned(),
            account: &TEST_USER,
            expires: Instant::now() + CODE_LIFETIME,
        },
    );
    back(&[("code", &code)])
}

/// `POST /oauth/token` (form): exchanges an authorization code for an access token.
pub(super) async fn token(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body must be application/x-www-form-urlencoded",
        );
    }
    let params = first_values(&body);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        );
    }
    let client_id = param("client_id");
    if !client_id.is_empty() && client_id != OAUTH_CLIENT_ID {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client_id",
        );
    }
    let (code, verifier) = (param("code"), param("code_verifier"));
    if code.is_empty() || verifier.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code and code_verifier are required",
        );
    }
    // A code is used once, whatever the outcome of the exchange.
    let Some(grant) = lock(&shared.oauth.grants).remove(code) else {
        return invalid_grant("The authorization code is invalid or was already used");
    };
    if grant.expires < Instant::now() {
        return invalid_grant("The authorization code has expired");
    }
    if !client_id.is_empty() && client_id != grant.client_id {
        return invalid_grant("The authorization code was issued to another client");
    }
    if param("redirect_uri") != grant.redirect_uri {
        return invalid_grant("redirect_uri does not match the authorization request");
    }
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !verifier_ok || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)) != grant.challenge {
        return invalid_grant("PKCE verification failed: code_verifier does not match");
    }
    let access_token = format!("hf_oauth_{}", random_token(24));
    let now = Timestamp::now();
    let expires_at = now.checked_add(TOKEN_LIFETIME).unwrap_or(now);
    lock(&shared.oauth.tokens).insert(
        access_token.clone(),
        Issued {
            account: grant.account,
            scope: grant.scope.clone(),
            expires_at,
        },
    );
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "scope": grant.scope,
    });
    if grant.scope.split(' ').any(|s| s == "openid") {
        answer["id_token"] = json!(id_token(&shared.base_url, &grant, now, expires_at));
    }
    let mut response = json_response(StatusCode::OK, &answer);
    no_store(&mut response);
    response
}

/// `GET /oauth/userinfo`: the OpenID Connect claims of the token's user.
pub(super) async fn userinfo(State(shared): AppState, headers: HeaderMap) -> Response {
    match Caller::from_headers(&shared, &headers) {
        Ok(Caller::User { account, via }) => {
            let mut claims = user_claims(&shared.base_url, account);
            let email =
                matches!(&via, Via::OAuth { scope, .. } if scope.split(' ').any(|s| s == "email"));
            if email {
                claims["email"] = json!(account.email);
                claims["email_verified"] = json!(true);
            }
            json_response(StatusCode::OK, &claims)
        }
        Ok(Caller::Anonymous) => hub_error(StatusCode::UNAUTHORIZED, None, INVALID_CREDENTIALS),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /.well-known/openid-configuration`.
pub(super) async fn openid_configuration(State(shared): AppState) -> Response {
    let base = &shared.base_url;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/oauth/authorize"),
            "token_endpoint": format!("{base}/oauth/token"),
            "userinfo_endpoint": format!("{base}/oauth/userinfo"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
        }),
    )
}

fn user_claims(base_url: &str, account: &Account) -> Value {
    json!({
        "sub": account.id,
        "name": account.fullname,
        "preferred_username": account.name,
        "profile": format!("{base_url}/{}", account.name),
        "picture": format!("{base_url}{}", account.avatar_url),
        "isPro": false,
        "orgs": [],
    })
}

fn id_token(base_url: &str, grant: &Grant, issued: Timestamp, expires: Timestamp) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let mut claims = user_claims(base_url, grant.account);
    claims["iss"] = json!(base_url);
    claims["aud"] = json!(grant.client_id);
    claims["iat"] = json!(issued.as_second());
    claims["auth_time"] = json!(issued.as_second());
    claims["exp"] = json!(expires.as_second());
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = hmac_sha256(ID_TOKEN_KEY, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// An OAuth error body (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    );
    no_store(&mut response);
    response
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The first value of each form / query parameter.
fn first_values(encoded: &[u8]) -> HashMap<String, String> {
    let mut values = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(encoded).into_owned() {
        values.entry(key).or_insert(value);
    }
    values
}

/// `bytes` random bytes, URL-safe base64.
fn random_token(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::rng().random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(random)
}
