//! "Sign in with HuggingFace" (docs/contract/api.md §11): OAuth 2.0 authorization code with PKCE
//! for a public client. Fixed against the reference (§19 security 4): a PKCE verifier is handed
//! once, only to the client that started the flow — proven by a session key that never travels in
//! a URL, or, for the reference's clients that never send one, by the same `Origin` and
//! `Authorization` as the start (the threat and what stops it: [`crate::hf::signin`]) —,
//! redirect URIs must be on this server's origin unless allow-listed, and pending sign-ins expire.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::hf::signin::{Proof, Requester, SignIn};
use crate::hf::{HfToken, HfUserInfo, HubError};
use crate::state::AppState;

/// Scopes asked for: identity plus reading the gated repositories the user has access to.
pub const SCOPES: [&str; 3] = ["openid", "profile", "read-repos"];
/// The header carrying the session key `start` returned.
pub const SESSION_KEY_HEADER: &str = "x-oauth-session-key";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(start))
        .routes(routes!(verifier))
        .routes(routes!(token))
}

/// Public OAuth settings for the browser.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OAuthConfig {
    /// The OAuth app's client id (`HF_CLIENT_ID`); empty when sign-in is not configured.
    client_id: String,
    /// Where the browser is sent to sign in.
    authorize_url: String,
    /// Scopes to ask for.
    scopes: Vec<String>,
    /// Whether sign-in is configured on this server.
    enabled: bool,
}

/// The OAuth settings a client needs to start a sign-in itself.
#[utoipa::path(get, path = "/api/oauth/huggingface/config", operation_id = "hf_oauth_config", tag = "huggingface", security(()),
    responses((status = 200, body = OAuthConfig)))]
pub(crate) async fn config(State(state): State<AppState>) -> ApiResult<Json<OAuthConfig>> {
    let hub = state.hub()?;
    let client_id = hub.config().client_id.clone().unwrap_or_default();
    Ok(Json(OAuthConfig {
        enabled: !client_id.is_empty(),
        client_id,
        authorize_url: hub.url("oauth/authorize").to_string(),
        scopes: SCOPES.iter().map(|s| (*s).to_string()).collect(),
    }))
}

/// Body of `start`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StartRequest {
    /// Where HuggingFace sends the browser back (this server's origin, or allow-listed).
    redirect_uri: String,
}

/// A started sign-in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartResponse {
    /// Open this URL in the browser.
    authorization_url: String,
    /// The OAuth `state`; it comes back on the redirect.
    state: String,
    /// Keep this secret: send it as `X-OAuth-Session-Key` to fetch the verifier. It never
    /// appears in a URL, so whoever only saw the redirect cannot finish the sign-in. Clients that
    /// do not send it must fetch the verifier with the same `Origin` and `Authorization` as this
    /// request.
    session_key: String,
    /// Seconds until the sign-in expires.
    expires_in: u64,
}

/// Starts a sign-in for clients that cannot keep a PKCE verifier themselves (the Headlamp
/// plugin): the server makes the verifier and keeps it for the client holding the session key.
#[utoipa::path(post, path = "/api/oauth/huggingface/start", operation_id = "hf_oauth_start", tag = "huggingface", security(()),
    request_body = StartRequest,
    responses((status = 200, body = StartResponse),
        (status = 400, description = "Redirect URI not allowed", body = ErrorBody),
        (status = 503, description = "Sign-in not configured", body = ErrorBody)))]
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartRequest>,
) -> ApiResult<Json<StartResponse>> {
    let hub = state.hub()?;
    let client_id = configured_client_id(&state)?;
    let redirect = allowed_redirect(
        &body.redirect_uri,
        &headers,
        &hub.config().oauth_redirect_origins,
    )?;
    let verifier = random_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let oauth_state = uuid_v4();
    let session_key = random_token();
    let mut url = hub.url("oauth/authorize");
    url.query_pairs_mut()
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", redirect.as_str())
        .append_pair("scope", &SCOPES.join(" "))
        .append_pair("response_type", "code")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &oauth_state);
    state
        .oauth()
        .insert(
            oauth_state.clone(),
            SignIn {
                verifier,
                redirect_uri: redirect.to_string(),
            },
            &session_key,
            requester(&headers),
        )
        .await;
    Ok(Json(StartResponse {
        authorization_url: url.to_string(),
        state: oauth_state,
        session_key,
        expires_in: hub.config().oauth_state_ttl.as_secs(),
    }))
}

/// The verifier of a started sign-in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerifierResponse {
    /// The PKCE code verifier for the token exchange.
    code_verifier: String,
    /// The redirect URI the sign-in started with.
    redirect_uri: String,
}

/// Hands out a sign-in's PKCE verifier once, only to the client that started it: the holder of
/// its session key, or (without `X-OAuth-Session-Key`, as the reference's clients call it) a
/// request with the same `Origin` and `Authorization` as the `start`.
#[utoipa::path(get, path = "/api/oauth/huggingface/verifier/{state}", operation_id = "hf_oauth_verifier", tag = "huggingface", security(()),
    params(("state" = String, Path, description = "The OAuth state from `start`"),
        ("X-OAuth-Session-Key" = Option<String>, Header, description = "The session key from `start`; without it the request must come from the same Origin with the same Authorization as the start")),
    responses((status = 200, body = VerifierResponse),
        (status = 404, description = "Unknown, expired, used, or another client's sign-in", body = ErrorBody)))]
pub(crate) async fn verifier(
    State(state): State<AppState>,
    Path(oauth_state): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<VerifierResponse>> {
    let proof = match headers
        .get(SESSION_KEY_HEADER)
        .map(|v| v.to_str().unwrap_or_default())
    {
        Some(key) => Proof::SessionKey(key),
        None => Proof::SameRequester(requester(&headers)),
    };
    let sign_in = state
        .oauth()
        .take(&oauth_state, proof)
        .await
        .ok_or_else(|| ApiError::not_found("OAuth session not found or expired"))?;
    Ok(Json(VerifierResponse {
        code_verifier: sign_in.verifier,
        redirect_uri: sign_in.redirect_uri,
    }))
}

/// Body of `token`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TokenRequest {
    /// The `code` from the redirect.
    code: String,
    /// The PKCE verifier (43–128 characters).
    code_verifier: String,
    /// The redirect URI the sign-in used.
    redirect_uri: String,
}

/// A finished sign-in (`HfTokenExchangeResponse`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenResponse {
    /// The HuggingFace access token (save it with `POST /api/secrets/huggingface`).
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// Who signed in.
    user: HfUserInfo,
}

/// Exchanges the authorization code for a HuggingFace token and says whose it is.
#[utoipa::path(post, path = "/api/oauth/huggingface/token", operation_id = "hf_oauth_token", tag = "huggingface", security(()),
    request_body = TokenRequest,
    responses((status = 200, body = TokenResponse),
        (status = 400, description = "Invalid request or the Hub refused the code", body = ErrorBody),
        (status = 502, description = "The Hub is unreachable", body = ErrorBody),
        (status = 504, description = "The Hub timed out", body = ErrorBody)))]
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let hub = state.hub()?;
    let client_id = configured_client_id(&state)?;
    if body.code.is_empty()
        || body.code.len() > 2048
        || !body.code.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(ApiError::bad_request(
            "code must be the non-empty code from the redirect",
        ));
    }
    let verifier_ok = (43..=128).contains(&body.code_verifier.len())
        && body
            .code_verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
    if !verifier_ok {
        return Err(ApiError::bad_request(
            "codeVerifier must be 43–128 characters of A–Z, a–z, 0–9, '-', '.', '_', '~' (RFC 7636)",
        ));
    }
    let redirect = allowed_redirect(
        &body.redirect_uri,
        &headers,
        &hub.config().oauth_redirect_origins,
    )?;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", body.code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", body.code_verifier.as_str()),
    ];
    let answer = hub
        .exchange_code(&form)
        .await
        .map_err(|(status, message)| match status {
            Some(s) => ApiError::bad_request(format!(
                "Failed to exchange authorization code: {s} {message}"
            )),
            None => ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("Failed to exchange authorization code: {message}"),
            ),
        })?;
    let access_token = answer
        .get("access_token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "Failed to exchange authorization code: the Hub's answer has no access_token",
            )
        })?;
    let hf_token = HfToken::parse(access_token).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "Failed to exchange authorization code: the Hub returned a malformed access token",
        )
    })?;
    let user = hub.whoami(&hf_token).await.map_err(|e| match e {
        HubError::Unauthorized(m) | HubError::Forbidden(m) => {
            ApiError::bad_request(format!("Failed to get user info: {m}"))
        }
        other => ApiError::hub("Failed to get user info", other),
    })?;
    Ok(Json(TokenResponse {
        access_token: hf_token.expose().to_string(),
        token_type: "Bearer".into(),
        expires_in: answer.get("expires_in").and_then(serde_json::Value::as_u64),
        scope: answer
            .get("scope")
            .and_then(|s| s.as_str())
            .map(str::to_string),
        user,
    }))
}

fn configured_client_id(state: &AppState) -> ApiResult<String> {
    state
        .hub()?
        .config()
        .client_id
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::unavailable(
                "Sign in with HuggingFace is not configured on this server: set HF_CLIENT_ID to the client id of a HuggingFace OAuth app",
            )
        })
}

/// `uri` if it may receive the authorization code: same origin as the request (its `Host`,
/// and its `Origin` when the browser sent one), or an origin in `allowed`.
fn allowed_redirect(uri: &str, headers: &HeaderMap, allowed: &[String]) -> ApiResult<Url> {
    let bad = |why: &str| ApiError::bad_request(format!("redirectUri {why}"));
    let url = Url::parse(uri).map_err(|e| bad(&format!("is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(bad("must not carry credentials or a fragment"));
    }
    let origin = url.origin().ascii_serialization();
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return Ok(url);
    }
    let request_origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| *o != "null");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let same_host = host.is_some_and(|h| {
        Url::parse(&format!("{}://{h}", url.scheme()))
            .is_ok_and(|u| u.origin().ascii_serialization() == origin)
    });
    let same_origin = request_origin.is_none_or(|o| o.eq_ignore_ascii_case(&origin));
    if same_host && same_origin {
        Ok(url)
    } else {
        Err(bad(&format!(
            "must be on this server's origin or listed in HF_OAUTH_REDIRECT_ORIGINS (got {origin})"
        )))
    }
}

/// Who sent a request, for binding a sign-in to the client that started it.
fn requester(headers: &HeaderMap) -> Requester {
    Requester::new(
        headers.get(header::ORIGIN).map(|v| v.as_bytes()),
        headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()),
    )
}

/// 32 random bytes, base64url: a PKCE verifier (43 characters) or a session key.
fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// A random UUID v4 (the reference's `state` format).
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().expect("host"));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().expect("origin"));
        }
        h
    }

    #[test]
    fn redirects_must_stay_on_the_servers_origin() {
        let h = headers("127.0.0.1:3001", Some("http://127.0.0.1:3001"));
        let ok = "http://127.0.0.1:3001/oauth/callback/huggingface";
        assert!(allowed_redirect(ok, &h, &[]).is_ok());
        assert!(allowed_redirect(ok, &headers("127.0.0.1:3001", None), &[]).is_ok());
        for bad in [
            "http://evil.example/cb",
            "https://127.0.0.1:3001/cb",
            "http://127.0.0.1:3002/cb",
            "http://user:pw@127.0.0.1:3001/cb",
            "http://127.0.0.1:3001/cb#frag",
            "javascript:alert(1)",
            "not a url",
        ] {
            let err = allowed_redirect(bad, &h, &[]).expect_err(bad);
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{bad}");
        }
        // A page elsewhere cannot start a sign-in that returns here.
        let cross = headers("127.0.0.1:3001", Some("http://evil.example"));
        assert!(allowed_redirect(ok, &cross, &[]).is_err());
        // Allow-listed origins (e.g. Headlamp's) are accepted from anywhere.
        let list = vec!["http://localhost:4466/".to_string()];
        assert!(allowed_redirect("http://localhost:4466/cb", &h, &list).is_ok());
    }

    #[test]
    fn pkce_material_has_the_right_shape() {
        let v = random_token();
        assert_eq!(v.len(), 43);
        assert_ne!(v, random_token());
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
