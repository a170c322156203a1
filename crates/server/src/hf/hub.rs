//! The HuggingFace Hub client: one place that knows the Hub's URLs, its error conventions
//! (`X-Error-Code`), timeouts and caches. Every outbound call has a deadline, model ids are
//! validated and path-escaped (docs/contract/api.md §19 security 8), and the caller's HuggingFace
//! token is passed through but never logged or echoed.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use moka::future::Cache;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use url::Url;

pub use kubeairunway_core::fit::Safetensors;

/// Where the public Hub lives.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The header browsers and plugins send a HuggingFace token in (never `Authorization`, which
/// carries the Kubernetes token).
pub const TOKEN_HEADER: &str = "x-hf-token";
/// Longest model id the Hub allows (`namespace/name`).
const MAX_ID_LEN: usize = 96;
/// Largest response body read from the Hub (a model listing page is ~1 MB at most).
const MAX_BODY: usize = 16 << 20;
/// The properties a search listing asks for. The Hub documents that `expand` cannot be combined
/// with `full`/`config` and that only expanded properties come back, so everything the
/// compatibility rules and the planner read is named here.
const SEARCH_EXPAND: [&str; 7] = [
    "pipeline_tag",
    "library_name",
    "gated",
    "downloads",
    "likes",
    "config",
    "safetensors",
];

/// How the server talks to the Hub.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// `HF_ENDPOINT`: base URL of the Hub (a local server in tests).
    pub endpoint: String,
    /// `HF_CLIENT_ID`: the OAuth app for "Sign in with HuggingFace"; sign-in is off without it.
    pub client_id: Option<String>,
    /// Deadline of each call to the Hub.
    pub timeout: Duration,
    /// Origins besides the server's own that OAuth may redirect to (`HF_OAUTH_REDIRECT_ORIGINS`).
    pub oauth_redirect_origins: Vec<String>,
    /// How long an OAuth sign-in may take between start and verifier fetch.
    pub oauth_state_ttl: Duration,
    /// How long search results and model metadata are reused.
    pub cache_ttl: Duration,
    /// Models asked of the Hub per listing page.
    pub search_page_size: u32,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.into(),
            client_id: None,
            timeout: Duration::from_secs(10),
            oauth_redirect_origins: Vec::new(),
            oauth_state_ttl: Duration::from_secs(600),
            cache_ttl: Duration::from_secs(60),
            search_page_size: 100,
        }
    }
}

/// Why a Hub call failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Nothing answered at the endpoint.
    #[error("the HuggingFace Hub at {endpoint} cannot be reached: {detail}")]
    Unreachable {
        /// The configured endpoint.
        endpoint: String,
        /// The transport error.
        detail: String,
    },
    /// No answer within the deadline.
    #[error("the HuggingFace Hub did not answer within {0} s")]
    Timeout(u64),
    /// The repository exists but needs a token with access (gated or private).
    #[error("{0}")]
    Gated(String),
    /// The token is missing, invalid, or lacks access.
    #[error("{0}")]
    Unauthorized(String),
    /// The token is valid but has no access (terms of a gated repository not accepted).
    #[error("{0}")]
    Forbidden(String),
    /// No such repository or file.
    #[error("{0}")]
    NotFound(String),
    /// The Hub limited our rate.
    #[error("the HuggingFace Hub is rate-limiting requests; try again in a minute")]
    RateLimited,
    /// The Hub answered with an unexpected status.
    #[error("the HuggingFace Hub answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The body was not the JSON we expect.
    #[error("the HuggingFace Hub sent an unreadable answer for {what}: {detail}")]
    Malformed {
        /// What was requested.
        what: String,
        /// The parse error.
        detail: String,
    },
}

/// A model id the Hub would not accept, refused before it is put into a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid model id \"{id}\": {reason}")]
pub struct InvalidModelId {
    /// The id as given (shortened).
    pub id: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

/// A HuggingFace token that cannot be one, refused before it is sent anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    /// Nothing but whitespace.
    #[error("The HuggingFace token is empty")]
    Empty,
    /// Too long, or characters no token has.
    #[error(
        "The HuggingFace token is malformed: expected up to 1024 printable ASCII characters without spaces"
    )]
    Malformed,
    /// The `X-HF-Token` header is not text.
    #[error("The X-HF-Token header must be printable ASCII")]
    HeaderNotAscii,
}

/// A validated HuggingFace model id (`name` or `namespace/name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModelId(String);

impl ModelId {
    /// Checks `id` against the Hub's naming rules so it can be put into a URL path safely.
    pub fn parse(id: &str) -> Result<Self, InvalidModelId> {
        let bad = |reason: &'static str| InvalidModelId {
            id: truncate_to(id, 80),
            reason,
        };
        if id.is_empty() {
            return Err(bad("it is empty"));
        }
        if id.len() > MAX_ID_LEN {
            return Err(bad("HuggingFace ids are at most 96 characters"));
        }
        let parts: Vec<&str> = id.split('/').collect();
        if parts.len() > 2 {
            return Err(bad("expected \"name\" or \"namespace/name\""));
        }
        for part in &parts {
            let valid_chars = part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if part.is_empty()
                || !valid_chars
                || part.starts_with(['-', '.'])
                || part.ends_with(['-', '.'])
                || part.contains("--")
                || part.contains("..")
            {
                return Err(bad(
                    "each part uses letters, digits, '-', '_' and '.', and cannot start or end with '-' or '.' or contain '--' or '..'",
                ));
            }
        }
        Ok(Self(id.to_string()))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A HuggingFace access token from a request (header `X-HF-Token` or a body field).
#[derive(Clone)]
pub struct HfToken(Arc<str>);

impl std::fmt::Debug for HfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HfToken(***)")
    }
}

impl HfToken {
    /// Validates a token's form (the Hub decides whether it is good).
    pub fn parse(token: &str) -> Result<Self, InvalidToken> {
        let token = token.trim();
        if token.is_empty() {
            return Err(InvalidToken::Empty);
        }
        if token.len() > 1024 || !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidToken::Malformed);
        }
        Ok(Self(token.into()))
    }

    /// The token from the `X-HF-Token` header, if one was sent.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, InvalidToken> {
        match headers.get(TOKEN_HEADER) {
            None => Ok(None),
            Some(v) => {
                let s = v.to_str().map_err(|_| InvalidToken::HeaderNotAscii)?;
                if s.trim().is_empty() {
                    return Ok(None);
                }
                Self::parse(s).map(Some)
            }
        }
    }

    /// The secret itself, for the `Authorization` header or a Kubernetes Secret.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A cache key that tells tokens apart without keeping them.
    pub fn cache_key(token: Option<&HfToken>) -> String {
        token.map_or_else(
            || "anonymous".into(),
            |t| hex::encode(&Sha256::digest(t.0.as_bytes())[..16]),
        )
    }
}

/// A model as the Hub's listing and model-info endpoints describe it (the fields we read).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct HubModel {
    /// `namespace/name`.
    pub id: String,
    /// Task, e.g. `text-generation`.
    #[serde(default)]
    pub pipeline_tag: Option<String>,
    /// Library, e.g. `transformers` or `gguf`.
    #[serde(default)]
    pub library_name: Option<String>,
    /// `false`, `"auto"` or `"manual"`.
    #[serde(default)]
    pub gated: Option<serde_json::Value>,
    /// All-time-ish download count.
    #[serde(default)]
    pub downloads: Option<u64>,
    /// Likes.
    #[serde(default)]
    pub likes: Option<u64>,
    /// The Hub's reduced view of `config.json`.
    #[serde(default)]
    pub config: Option<HubConfigSummary>,
    /// Parameter counts per dtype.
    #[serde(default)]
    pub safetensors: Option<Safetensors>,
    /// Files (model info only).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub siblings: Vec<Sibling>,
}

/// `null` read as an empty list, like an absent field: the Hub's other optional fields take
/// `null` too, and one `null` must not make the whole model unreadable.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The part of the Hub's `config` summary we read.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct HubConfigSummary {
    /// Model classes, e.g. `LlamaForCausalLM`.
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
}

/// A file of a repository.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Sibling {
    /// Path in the repository.
    pub rfilename: String,
    /// Size in bytes (with `blobs=true`).
    #[serde(default)]
    pub size: Option<u64>,
    /// LFS details (with `blobs=true`); its size is the real file size.
    #[serde(default)]
    pub lfs: Option<LfsInfo>,
}

/// LFS pointer details.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct LfsInfo {
    /// Size of the stored file.
    #[serde(default)]
    pub size: Option<u64>,
}

/// One page of a listing and the URL of the next, from the `Link` header.
#[derive(Clone, Debug)]
pub(crate) struct ListingPage {
    /// Models of this page.
    pub models: Vec<HubModel>,
    /// Next page, if the Hub has more.
    pub next: Option<Url>,
}

/// The HuggingFace user behind a token (`HfUserInfo` of docs/contract/api.md §11).
#[derive(Clone, Debug, Deserialize, serde::Serialize, utoipa::ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HfUserInfo {
    /// Hub user id.
    pub id: String,
    /// User name.
    pub name: String,
    /// Display name (the user name when the Hub has none).
    pub fullname: String,
    /// E-mail, when the token's scope allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WhoAmI {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    fullname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
}

/// The Hub client with its caches.
#[derive(Clone)]
pub struct Hub {
    http: reqwest::Client,
    base: Url,
    config: HubConfig,
    /// `config.json` per (model, token key); `None` when the Hub refused it (gated) or it is
    /// missing, so a search page does not ask again within the TTL.
    configs: Cache<(String, String), Arc<Result<serde_json::Value, String>>>,
    /// Listing pages per (URL, token key): paging through a search reuses what was read.
    pages: Cache<(String, String), Arc<ListingPage>>,
}

/// Why no Hub client could be made: the server still starts, and the model routes answer 503
/// with this text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HubSetupError {
    /// `HF_ENDPOINT` does not parse.
    #[error("HF_ENDPOINT {endpoint:?} is not a URL: {source}")]
    NotAUrl {
        /// The configured value.
        endpoint: String,
        /// Cause.
        source: url::ParseError,
    },
    /// `HF_ENDPOINT` is a URL of another kind.
    #[error("HF_ENDPOINT {0:?} must be an http(s) URL")]
    NotHttp(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl Hub {
    /// A client for `config.endpoint`; fails when the endpoint is not an http(s) URL.
    pub fn new(config: HubConfig) -> Result<Self, HubSetupError> {
        let mut base = Url::parse(config.endpoint.trim_end_matches('/')).map_err(|source| {
            HubSetupError::NotAUrl {
                endpoint: config.endpoint.clone(),
                source,
            }
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(HubSetupError::NotHttp(config.endpoint.clone()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("kubeairunway/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| HubSetupError::Client(e.to_string()))?;
        let configs = Cache::builder()
            .max_capacity(2_000)
            .time_to_live(config.cache_ttl.max(Duration::from_secs(600)))
            .build();
        let pages = Cache::builder()
            .max_capacity(500)
            .time_to_live(config.cache_ttl)
            .build();
        Ok(Self {
            http,
            base,
            config,
            configs,
            pages,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The endpoint's origin-relative URL for `path` (no leading slash).
    pub fn url(&self, path: &str) -> Url {
        // `base` is a valid base URL ending in '/', and `path` is one of our constant paths.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    fn model_url(&self, id: &ModelId, tail: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().push("api").push("models");
            segs.extend(id.segments());
            segs.extend(tail);
        }
        url
    }

    /// One listing page: `search`ed text-generation models with the properties of
    /// [`SEARCH_EXPAND`], most downloaded first.
    pub(crate) async fn search_page(
        &self,
        query: &str,
        page_size: u32,
        token: Option<&HfToken>,
    ) -> Result<Arc<ListingPage>, HubError> {
        let mut url = self.url("api/models");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("search", query)
                .append_pair("filter", "text-generation")
                .append_pair("sort", "downloads")
                .append_pair("direction", "-1")
                .append_pair("limit", &page_size.to_string());
            for e in SEARCH_EXPAND {
                q.append_pair("expand[]", e);
            }
        }
        self.listing(url, token).await
    }

    /// The page the previous page's `Link` header pointed at (only on our endpoint).
    pub(crate) async fn next_page(
        &self,
        next: Url,
        token: Option<&HfToken>,
    ) -> Result<Arc<ListingPage>, HubError> {
        if next.origin() != self.base.origin() {
            return Err(HubError::Malformed {
                what: "the model listing".into(),
                detail: "its next-page link points to another host".into(),
            });
        }
        self.listing(next, token).await
    }

    async fn listing(
        &self,
        url: Url,
        token: Option<&HfToken>,
    ) -> Result<Arc<ListingPage>, HubError> {
        let key = (url.to_string(), HfToken::cache_key(token));
        if let Some(hit) = self.pages.get(&key).await {
            return Ok(hit);
        }
        let page = Arc::new(self.fetch_listing(url, token).await?);
        self.pages.insert(key, page.clone()).await;
        Ok(page)
    }

    async fn fetch_listing(
        &self,
        url: Url,
        token: Option<&HfToken>,
    ) -> Result<ListingPage, HubError> {
        let what = "the model search";
        let resp = self.send(self.http.get(url.clone()), token, what).await?;
        let resp = check(self.secs(), resp, what, None, token.is_some()).await?;
        let next = next_link(resp.headers(), &url);
        let models = read_json::<Vec<HubModel>>(self.secs(), resp, what).await?;
        Ok(ListingPage { models, next })
    }

    /// Model info (`GET /api/models/{id}`), with file sizes when `blobs`.
    pub(crate) async fn model_info(
        &self,
        id: &ModelId,
        blobs: bool,
        token: Option<&HfToken>,
    ) -> Result<HubModel, HubError> {
        let mut url = self.model_url(id, &[]);
        if blobs {
            url.query_pairs_mut().append_pair("blobs", "true");
        }
        let what = format!("model {id}");
        let resp = self.send(self.http.get(url), token, &what).await?;
        let resp = check(self.secs(), resp, &what, Some(id), token.is_some()).await?;
        read_json(self.secs(), resp, &what).await
    }

    /// The repository's `config.json` (main revision), cached per model and token.
    pub async fn config_json(
        &self,
        id: &ModelId,
        token: Option<&HfToken>,
    ) -> Result<serde_json::Value, HubError> {
        let key = (id.as_str().to_string(), HfToken::cache_key(token));
        if let Some(hit) = self.configs.get(&key).await {
            return hit.as_ref().clone().map_err(HubError::NotFound);
        }
        let result = self.fetch_config(id, token).await;
        match &result {
            // Remember answers about the repository; transient trouble is retried next time.
            Ok(v) => self.configs.insert(key, Arc::new(Ok(v.clone()))).await,
            Err(
                e @ (HubError::NotFound(_)
                | HubError::Gated(_)
                | HubError::Forbidden(_)
                | HubError::Unauthorized(_)),
            ) => self.configs.insert(key, Arc::new(Err(e.to_string()))).await,
            Err(_) => {}
        }
        result
    }

    async fn fetch_config(
        &self,
        id: &ModelId,
        token: Option<&HfToken>,
    ) -> Result<serde_json::Value, HubError> {
        let mut url = self.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty();
            segs.extend(id.segments());
            segs.extend(["resolve", "main", "config.json"]);
        }
        let what = format!("config.json of {id}");
        let resp = self.send(self.http.get(url), token, &what).await?;
        let resp = check(self.secs(), resp, &what, Some(id), token.is_some()).await?;
        read_json(self.secs(), resp, &what).await
    }

    /// The user a token belongs to (`GET /api/whoami-v2`).
    pub async fn whoami(&self, token: &HfToken) -> Result<HfUserInfo, HubError> {
        let what = "the token's user";
        let resp = self
            .send(self.http.get(self.url("api/whoami-v2")), Some(token), what)
            .await?;
        let resp = check(self.secs(), resp, what, None, true).await?;
        let who: WhoAmI = read_json(self.secs(), resp, what).await?;
        Ok(HfUserInfo {
            id: who.id.unwrap_or_else(|| who.name.clone()),
            fullname: who
                .fullname
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| who.name.clone()),
            name: who.name,
            email: who.email,
            avatar_url: who.avatar_url,
        })
    }

    /// Exchanges an OAuth authorization code (PKCE, public client) for a token response.
    pub async fn exchange_code(
        &self,
        form: &[(&str, &str)],
    ) -> Result<serde_json::Value, (Option<u16>, String)> {
        let req = self.http.post(self.url("oauth/token")).form(form);
        let resp = req
            .send()
            .await
            .map_err(|e| (None, self.transport(&e).to_string()))?;
        let status = resp.status();
        let body = read_limited(self.secs(), resp)
            .await
            .map_err(|e| (None, e.to_string()))?;
        if !status.is_success() {
            return Err((Some(status.as_u16()), describe_body(&body)));
        }
        serde_json::from_slice(&body).map_err(|e| {
            (
                None,
                HubError::Malformed {
                    what: "the token exchange".into(),
                    detail: e.to_string(),
                }
                .to_string(),
            )
        })
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        token: Option<&HfToken>,
        _what: &str,
    ) -> Result<reqwest::Response, HubError> {
        let req = match token {
            Some(t) => req.bearer_auth(t.expose()),
            None => req,
        };
        req.send().await.map_err(|e| self.transport(&e))
    }

    fn secs(&self) -> u64 {
        self.config.timeout.as_secs().max(1)
    }

    fn transport(&self, e: &reqwest::Error) -> HubError {
        if e.is_timeout() {
            HubError::Timeout(self.secs())
        } else {
            HubError::Unreachable {
                endpoint: self.config.endpoint.clone(),
                detail: root_cause(e),
            }
        }
    }
}

/// The innermost error message (reqwest's top level only says "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Maps a non-success answer onto [`HubError`] using the Hub's `X-Error-Code` header.
async fn check(
    timeout: u64,
    resp: reqwest::Response,
    what: &str,
    repo: Option<&ModelId>,
    token_sent: bool,
) -> Result<reqwest::Response, HubError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let code = resp
        .headers()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = read_limited(timeout, resp).await.unwrap_or_default();
    let subject = repo.map_or_else(|| what.to_string(), |id| format!("model {id}"));
    Err(match (status.as_u16(), code.as_str()) {
        (_, "GatedRepo") if status == StatusCode::FORBIDDEN => HubError::Forbidden(format!(
            "{subject} is gated and this HuggingFace token has no access yet: accept the model's terms on its HuggingFace page"
        )),
        (_, "GatedRepo") => HubError::Gated(format!(
            "{subject} is gated: sign in to HuggingFace or send a token (X-HF-Token) that has access"
        )),
        (_, "RepoNotFound") | (404, _) if repo.is_some() => HubError::NotFound(format!(
            "{subject} was not found on HuggingFace (or it is private and the token cannot see it)"
        )),
        // Anonymous callers get a bare 401 for a repository that is missing or private (the
        // Hub does not say which); gated repositories carry `GatedRepo` instead.
        (401, "") if repo.is_some() && !token_sent => HubError::NotFound(format!(
            "{subject} was not found on HuggingFace (or it is private: send a HuggingFace token that can see it)"
        )),
        (_, "EntryNotFound") => HubError::NotFound(format!("{what} does not exist")),
        (404, _) => HubError::NotFound(format!("{what} was not found on HuggingFace")),
        (401, _) => HubError::Unauthorized(format!(
            "HuggingFace refused the token for {what}: {}",
            describe_body(&body)
        )),
        (403, _) => HubError::Forbidden(format!(
            "HuggingFace denied access to {what}: {}",
            describe_body(&body)
        )),
        (429, _) => HubError::RateLimited,
        (s, _) => HubError::Status {
            status: s,
            body: describe_body(&body),
        },
    })
}

/// Reads a body up to [`MAX_BODY`].
async fn read_limited(timeout: u64, mut resp: reqwest::Response) -> Result<Vec<u8>, HubError> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HubError::Malformed {
                        what: resp.url().path().to_string(),
                        detail: "the answer is larger than 16 MiB".into(),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(HubError::Timeout(timeout)),
            Err(e) => {
                return Err(HubError::Unreachable {
                    endpoint: resp.url().origin().ascii_serialization(),
                    detail: root_cause(&e),
                });
            }
        }
    }
}

async fn read_json<T: DeserializeOwned>(
    timeout: u64,
    resp: reqwest::Response,
    what: &str,
) -> Result<T, HubError> {
    let body = read_limited(timeout, resp).await?;
    serde_json::from_slice(&body).map_err(|e| HubError::Malformed {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// The Hub's `{"error": "..."}` message, else the start of the body.
fn describe_body(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["error_description", "error", "message"] {
            // A blank message says nothing: the body itself is shown instead.
            if let Some(s) = v
                .get(key)
                .and_then(|m| m.as_str())
                .filter(|m| !m.trim().is_empty())
            {
                return truncate_to(s, 300);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "no details".into()
    } else {
        truncate_to(text, 300)
    }
}

fn truncate_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// The `rel="next"` target of a `Link` header, resolved against the request URL.
fn next_link(headers: &reqwest::header::HeaderMap, current: &Url) -> Option<Url> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.strip_prefix('<')?.strip_suffix('>')?;
                return current.join(target).ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_ids_follow_the_hubs_rules() {
        for ok in [
            "Qwen/Qwen3-0.6B",
            "gpt2",
            "meta-llama/Llama-3.1-8B-Instruct",
            "a_b/c.d",
        ] {
            assert!(ModelId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a/b/c",
            "../etc",
            "a/..",
            "a/b?x=1",
            "a/b#x",
            "a//b",
            "/a",
            "a b/c",
            "a/-b",
            "a/b--c",
            "a%2Fb",
            &"x".repeat(97),
        ] {
            let err = ModelId::parse(bad).expect_err(bad);
            assert!(err.to_string().starts_with("Invalid model id"), "{bad}");
        }
    }

    #[test]
    fn model_urls_escape_nothing_because_ids_are_validated() {
        let hub = Hub::new(HubConfig {
            endpoint: "http://127.0.0.1:9/hub".into(),
            ..HubConfig::default()
        })
        .expect("hub");
        let id = ModelId::parse("Qwen/Qwen3-0.6B").expect("id");
        assert_eq!(
            hub.model_url(&id, &[]).as_str(),
            "http://127.0.0.1:9/hub/api/models/Qwen/Qwen3-0.6B"
        );
        assert_eq!(
            hub.url("api/whoami-v2").as_str(),
            "http://127.0.0.1:9/hub/api/whoami-v2"
        );
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        for bad in ["", "ftp://x", "not a url", "mailto:a@b"] {
            assert!(
                Hub::new(HubConfig {
                    endpoint: bad.into(),
                    ..HubConfig::default()
                })
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn next_links_are_read_from_the_link_header() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            "<https://huggingface.co/api/models?search=qwen&cursor=abc>; rel=\"next\""
                .parse()
                .expect("header"),
        );
        let cur = Url::parse("https://huggingface.co/api/models?search=qwen").expect("url");
        assert_eq!(
            next_link(&h, &cur).map(|u| u.to_string()),
            Some("https://huggingface.co/api/models?search=qwen&cursor=abc".into())
        );
        assert!(next_link(&reqwest::header::HeaderMap::new(), &cur).is_none());
    }

    #[test]
    fn tokens_are_validated_and_never_printed() {
        let t = HfToken::parse(" hf_abc ").expect("token");
        assert_eq!(t.expose(), "hf_abc");
        assert_eq!(format!("{t:?}"), "HfToken(***)");
        assert!(HfToken::parse("").is_err());
        assert!(HfToken::parse("a b").is_err());
        assert!(HfToken::parse("hf_\u{e9}").is_err());
        assert_ne!(HfToken::cache_key(Some(&t)), HfToken::cache_key(None));
        assert!(!HfToken::cache_key(Some(&t)).contains("abc"));
    }

    #[test]
    fn safetensors_parse_from_the_hub_shape() {
        let st: Safetensors = serde_json::from_value(
            json!({ "parameters": { "BF16": 751632384 }, "total": 751632384 }),
        )
        .unwrap();
        assert_eq!(st.total, Some(751_632_384));
        assert_eq!(st.parameters["BF16"], 751_632_384);
        let empty: Safetensors = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, Safetensors::default());
    }

    #[test]
    fn error_bodies_are_summarised() {
        assert_eq!(
            describe_body(br#"{"error":"Repository not found"}"#),
            "Repository not found"
        );
        assert_eq!(describe_body(b""), "no details");
        assert_eq!(describe_body(b"oops"), "oops");
    }

    /// Found by `props::hub_model_info_matches_reference`: `"siblings": null` made the whole
    /// model info unreadable (a 502), while `null` means "absent" everywhere else.
    #[test]
    fn null_siblings_are_no_files() {
        let m: HubModel =
            serde_json::from_value(json!({ "id": "a/b", "siblings": null })).expect("model");
        assert!(m.siblings.is_empty());
    }

    /// Found by `props::error_bodies_never_panic`: `{"error": ""}` was summarised as nothing,
    /// leaving messages such as "HuggingFace refused the token for …: " without a reason.
    #[test]
    fn blank_error_messages_are_not_the_summary() {
        assert_eq!(
            describe_body(br#"{"error":" ","message":"Invalid token"}"#),
            "Invalid token"
        );
        assert_eq!(describe_body(br#"{"error":""}"#), r#"{"error":""}"#);
    }
}
