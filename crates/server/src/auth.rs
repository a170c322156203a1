//! Who is calling, and with whose Kubernetes credentials the request runs.
//!
//! With `AUTH_ENABLED`, a bearer token is checked with a TokenReview (cached ~30 s by the
//! SHA-256 of the token, never the token itself), and every Kubernetes call made for the request
//! uses a client carrying *that* token, so RBAC and audit logs apply to the person. Reads served
//! from the shared caches are filtered with SubjectAccessReviews for that person (cached
//! briefly). Without auth, the backend's own identity is used and nothing is filtered.
//!
//! The middleware that checks tokens is in `guard.rs` and the [`Caller`] extractor in
//! `state.rs`: both need the application state, which holds an [`Auth`], so this module does
//! not depend on it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use moka::future::Cache;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;

/// How long a successful TokenReview is trusted.
const REVIEW_TTL: Duration = Duration::from_secs(30);
/// How long a failed TokenReview is remembered (blunts token-guessing storms).
const REJECTION_TTL: Duration = Duration::from_secs(5);
/// How long an access decision for cached reads is reused.
const ACCESS_TTL: Duration = Duration::from_secs(10);

/// A user the API server authenticated.
#[derive(Clone)]
pub struct Identity {
    /// Kubernetes user name.
    pub username: String,
    /// Kubernetes user UID.
    pub uid: String,
    /// Groups the API server reports.
    pub groups: Vec<String>,
    token_hash: String,
    client: Client,
}

/// One resource a cached read is about, for access checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Plural resource name.
    pub resource: &'static str,
}

impl Resource {
    /// `modeldeployments.kubeairunway.ai`.
    pub const DEPLOYMENTS: Resource = Resource {
        group: "kubeairunway.ai",
        resource: "modeldeployments",
    };
    /// `inferenceproviderconfigs.kubeairunway.ai`.
    pub const PROVIDERS: Resource = Resource {
        group: "kubeairunway.ai",
        resource: "inferenceproviderconfigs",
    };
    /// Core `nodes`.
    pub const NODES: Resource = Resource {
        group: "",
        resource: "nodes",
    };
    /// Core `pods`.
    pub const PODS: Resource = Resource {
        group: "",
        resource: "pods",
    };
}

/// Which namespaces a caller may read a resource in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Visible {
    /// Every namespace.
    All,
    /// Only these.
    Only(BTreeSet<String>),
}

impl Visible {
    /// Whether `namespace` is visible.
    pub fn contains(&self, namespace: &str) -> bool {
        match self {
            Visible::All => true,
            Visible::Only(set) => set.contains(namespace),
        }
    }
}

/// Authentication state shared by all requests.
#[derive(Clone)]
pub struct Auth {
    enabled: bool,
    reviews: Cache<String, Result<Arc<Identity>, String>>,
    access: Cache<(String, &'static str, Resource, String), bool>,
}

impl Auth {
    /// Auth state; `enabled` is `AUTH_ENABLED`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            reviews: Cache::builder()
                .max_capacity(10_000)
                .expire_after(ReviewExpiry)
                .build(),
            access: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ACCESS_TTL)
                .build(),
        }
    }

    /// Whether requests must carry a token.
    pub fn enabled(&self) -> bool {
        self.enabled
    }
}

struct ReviewExpiry;

impl moka::Expiry<String, Result<Arc<Identity>, String>> for ReviewExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Result<Arc<Identity>, String>,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(if value.is_ok() {
            REVIEW_TTL
        } else {
            REJECTION_TTL
        })
    }
}

/// The caller of a request: an identity (with auth) and the client that acts for it.
#[derive(Clone)]
pub struct Caller {
    identity: Option<Arc<Identity>>,
    client: Client,
    backend: Client,
    auth: Auth,
}

impl Caller {
    /// The client to make Kubernetes calls with: the caller's own token with auth, the
    /// backend's identity without.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The authenticated identity (`None` without auth).
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_deref()
    }

    /// Whether the caller may `verb` `resource` in `namespace` (`None`: cluster-wide). Always
    /// true without auth. Decisions are cached briefly; a failed review counts as "no".
    pub async fn can(
        &self,
        verb: &'static str,
        resource: Resource,
        namespace: Option<&str>,
    ) -> bool {
        let Some(identity) = &self.identity else {
            return true;
        };
        let key = (
            identity.token_hash.clone(),
            verb,
            resource,
            namespace.unwrap_or_default().to_string(),
        );
        let backend = self.backend.clone();
        let identity = identity.clone();
        let namespace = namespace.map(str::to_string);
        // Failed reviews are not cached: a brief outage must not deny access for the TTL.
        self.auth
            .access
            .try_get_with(key, async move {
                subject_access_review(&backend, &identity, verb, resource, namespace).await
            })
            .await
            .unwrap_or(false)
    }

    /// The namespaces among `candidates` in which the caller may list `resource`: all of them
    /// when it may list cluster-wide.
    pub async fn visible<'a>(
        &self,
        resource: Resource,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Visible {
        if self.can("list", resource, None).await {
            return Visible::All;
        }
        let mut set = BTreeSet::new();
        let unique: BTreeSet<&str> = candidates.into_iter().collect();
        for ns in unique {
            if self.can("list", resource, Some(ns)).await {
                set.insert(ns.to_string());
            }
        }
        Visible::Only(set)
    }

    /// 403 unless the caller may `verb` `resource` in `namespace`; used before answering from a
    /// cache, where the API server cannot check.
    pub async fn require(
        &self,
        verb: &'static str,
        resource: Resource,
        namespace: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.can(verb, resource, namespace).await {
            return Ok(());
        }
        let who = self.identity.as_ref().map_or("", |i| i.username.as_str());
        let group = if resource.group.is_empty() {
            String::new()
        } else {
            format!(".{}", resource.group)
        };
        let scope = namespace.map_or_else(
            || "at the cluster scope".to_string(),
            |ns| format!("in the namespace \"{ns}\""),
        );
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{}{group} is forbidden: User \"{who}\" cannot {verb} resource \"{}\" {scope}",
                resource.resource, resource.resource
            ),
        ))
    }
}

impl Caller {
    /// The caller of a request without a verified token: it acts with the backend's identity
    /// (`client`), and no access check ever refuses it.
    pub(crate) fn backend(client: Client, auth: Auth) -> Self {
        Self {
            identity: None,
            backend: client.clone(),
            client,
            auth,
        }
    }

    /// The caller `identity` (whose client carries its token); access checks run with
    /// `backend`.
    pub(crate) fn authenticated(identity: Arc<Identity>, backend: Client, auth: Auth) -> Self {
        Self {
            client: identity.client.clone(),
            identity: Some(identity),
            backend,
            auth,
        }
    }
}

/// Paths answered without a token when auth is on (GET/HEAD only). `/api/health/nodes` is
/// deliberately not among them (docs/contract/api.md §19 security 3).
pub(crate) fn is_public(method: &Method, path: &str) -> bool {
    if !path.starts_with("/api/") {
        return true;
    }
    if *method == Method::OPTIONS {
        return true;
    }
    let read = *method == Method::GET || *method == Method::HEAD;
    let public_reads = [
        "/api/health",
        "/api/health/ready",
        "/api/health/version",
        "/api/health/status",
        "/api/cluster/status",
        "/api/settings",
        "/api/openapi.json",
    ];
    (read && public_reads.contains(&path))
        || path == "/api/oauth"
        || path.starts_with("/api/oauth/")
}

/// The bearer token of `req`, if it carries one.
pub(crate) fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who `token` belongs to, from a TokenReview the backend (`backend`, configured by `config`)
/// runs; 401 when the API server does not accept it.
pub(crate) async fn review(
    auth: &Auth,
    backend: &Client,
    config: &kube::Config,
    token: &str,
) -> Result<Arc<Identity>, ApiError> {
    let hash = token_hash(token);
    let backend = backend.clone();
    let config = config.clone();
    let token_owned = token.to_string();
    let hash_owned = hash.clone();
    let outcome = auth
        .reviews
        .try_get_with::<_, ApiError>(hash, async move {
            Ok(token_review(&backend, &config, &token_owned, hash_owned).await)
        })
        .await
        .map_err(|e| ApiError::new(e.status, e.message.clone()))?;
    outcome.map_err(|message| ApiError::new(StatusCode::UNAUTHORIZED, message))
}

/// Runs one TokenReview. The outer error is transport trouble (not cached); the inner one a
/// rejected token (cached briefly).
async fn token_review(
    backend: &Client,
    config: &kube::Config,
    token: &str,
    token_hash: String,
) -> Result<Arc<Identity>, String> {
    let api: Api<TokenReview> = Api::all(backend.clone());
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    let result = match api.create(&PostParams::default(), &review).await {
        Ok(r) => r,
        Err(e) => {
            return Err(format!(
                "could not verify the token: {}",
                crate::error::describe_kube_error(&e).1
            ));
        }
    };
    let status = result.status.unwrap_or_default();
    if status.authenticated != Some(true) {
        return Err(status
            .error
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "Token not authenticated".into()));
    }
    let user = status.user.unwrap_or_default();
    let client = client_for_token(config, token)
        .map_err(|e| format!("could not build a Kubernetes client for the user: {e}"))?;
    Ok(Arc::new(Identity {
        username: user.username.unwrap_or_else(|| "unknown".into()),
        uid: user.uid.unwrap_or_default(),
        groups: user.groups.unwrap_or_default(),
        token_hash,
        client,
    }))
}

/// A client for the cluster of `config` that authenticates with `token` instead of the
/// credentials in `config`.
pub(crate) fn client_for_token(config: &kube::Config, token: &str) -> Result<Client, kube::Error> {
    let mut config = config.clone();
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.to_string().into()),
        ..Default::default()
    };
    crate::kube_client::client(config)
}

async fn subject_access_review(
    backend: &Client,
    identity: &Identity,
    verb: &str,
    resource: Resource,
    namespace: Option<String>,
) -> Result<bool, String> {
    let api: Api<SubjectAccessReview> = Api::all(backend.clone());
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(identity.username.clone()),
            uid: (!identity.uid.is_empty()).then(|| identity.uid.clone()),
            groups: Some(identity.groups.clone()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.to_string()),
                group: Some(resource.group.to_string()),
                resource: Some(resource.resource.to_string()),
                namespace,
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &review).await {
        Ok(r) => Ok(r.status.is_some_and(|s| s.allowed)),
        Err(e) => {
            tracing::warn!(error = %e, "SubjectAccessReview failed; denying");
            Err(e.to_string())
        }
    }
}

/// `GET /api/auth/whoami` response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// Whether the server requires tokens.
    pub auth_enabled: bool,
    /// Whether this request carried a valid token.
    pub authenticated: bool,
    /// Kubernetes user name (absent without auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Kubernetes groups.
    pub groups: Vec<String>,
}

/// Who the API server says the caller is; the login page uses it to validate a token.
#[utoipa::path(get, path = "/api/auth/whoami", tag = "auth",
    responses((status = 200, body = WhoAmI), (status = 401, body = crate::error::ErrorBody)))]
pub async fn whoami(State(auth): State<Auth>, req: Request) -> axum::Json<WhoAmI> {
    let identity = req
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.identity.clone());
    axum::Json(WhoAmI {
        auth_enabled: auth.enabled,
        authenticated: identity.is_some(),
        username: identity.as_ref().map(|i| i.username.clone()),
        groups: identity.map(|i| i.groups.clone()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths() {
        assert!(is_public(&Method::GET, "/api/health"));
        assert!(is_public(&Method::GET, "/api/cluster/status"));
        assert!(is_public(&Method::GET, "/api/settings"));
        assert!(!is_public(&Method::PUT, "/api/settings"));
        assert!(!is_public(&Method::GET, "/api/health/nodes"));
        assert!(!is_public(&Method::GET, "/api/cluster/nodes"));
        assert!(!is_public(&Method::GET, "/api/cluster"));
        assert!(!is_public(&Method::GET, "/api/deployments"));
        assert!(!is_public(&Method::GET, "/api/healthz"));
        assert!(is_public(&Method::GET, "/index.html"));
    }

    #[test]
    fn tokens_are_hashed() {
        let h = token_hash("secret");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("secret"));
    }
}
