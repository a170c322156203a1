//! The state every handler shares ([`AppState`]), the server's [`Config`], and the backend's
//! own Kubernetes access ([`KubeAccess`]). It lives apart from the crate root so that the
//! route trees import it from here and the root only assembles them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::auth::{self, Auth, Caller};
use crate::cache::Caches;
use crate::error::ApiError;
use crate::hf::{self, HubConfig};

/// Build information reported by `GET /api/health/version`.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// Release version.
    pub version: String,
    /// Build (or, for dev builds, process start) time.
    pub build_time: String,
    /// Commit the binary was built from.
    pub git_commit: String,
}

/// How the server reaches pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MetricsAccess {
    /// Direct when a service-account token is mounted (in a pod), else the pod proxy.
    #[default]
    Auto,
    /// Always through the API server's pod proxy, as the caller.
    Proxy,
    /// Always straight to the pod IP (needs a network that routes pod IPs).
    Direct,
}

impl std::str::FromStr for MetricsAccess {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "proxy" => Ok(Self::Proxy),
            "direct" => Ok(Self::Direct),
            other => Err(format!("{other:?} is not one of auto, proxy, direct")),
        }
    }
}

/// How to reach cloud pricing APIs (`/api/costs`).
#[derive(Clone, Debug)]
pub struct PricingConfig {
    /// `AZURE_PRICING_URL`: base URL of the Azure Retail Prices API.
    pub azure_base_url: String,
    /// Deadline of one price lookup, retries and pages included.
    pub timeout: Duration,
}

impl Default for PricingConfig {
    fn default() -> Self {
        Self {
            azure_base_url: "https://prices.azure.com".into(),
            timeout: Duration::from_secs(15),
        }
    }
}

/// How to run NVIDIA's AI Configurator CLI (`/api/aiconfigurator`).
#[derive(Clone, Debug)]
pub struct AiConfiguratorConfig {
    /// `AICONFIGURATOR_PATH`: the `aiconfigurator` program (a name is looked up on `PATH`;
    /// `make aiconfigurator` installs it under `~/.cache/kubeairunway`).
    pub path: std::path::PathBuf,
    /// Longest one analysis may run before it is killed and defaults are answered.
    pub timeout: Duration,
    /// Where each analysis gets its temporary directory (the system's temporary directory
    /// when `None`).
    pub work_dir: Option<std::path::PathBuf>,
}

impl Default for AiConfiguratorConfig {
    fn default() -> Self {
        Self {
            path: "aiconfigurator".into(),
            timeout: Duration::from_secs(180),
            work_dir: None,
        }
    }
}

/// AIKit image builds (`/api/aikit`): the `buildctl` client, where buildkitd listens, and
/// where images go.
#[derive(Clone, Debug)]
pub struct AikitConfig {
    /// `BUILDCTL_PATH`: the `buildctl` binary (a name is looked up on `PATH`).
    pub buildctl_path: std::path::PathBuf,
    /// `BUILDKIT_HOST`: buildkitd's address (`tcp://host:port` or `unix:///path`); the
    /// builder's Service in the cluster by default.
    pub buildkit_addr: String,
    /// Registries, frontend image and aikitfile of builds.
    pub target: kubeairunway_core::aikit::BuildTarget,
    /// How long one build may run.
    pub build_timeout: Duration,
    /// How long `POST /api/aikit/infrastructure/setup` waits for readiness.
    pub setup_wait: Duration,
}

impl Default for AikitConfig {
    fn default() -> Self {
        Self {
            buildctl_path: "buildctl".into(),
            buildkit_addr: kubeairunway_core::aikit::BUILDKIT_ADDR.into(),
            target: kubeairunway_core::aikit::BuildTarget::default(),
            build_timeout: Duration::from_secs(600),
            setup_wait: Duration::from_secs(20),
        }
    }
}

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// `DEFAULT_NAMESPACE`: where KubeAIRunway itself runs.
    pub default_namespace: String,
    /// Reported by `/api/health/version`.
    pub build: BuildInfo,
    /// `AUTH_ENABLED`: require a Kubernetes bearer token on protected routes.
    pub auth_enabled: bool,
    /// `CORS_ORIGIN`: origins allowed to call the API from another site (none by default).
    /// `*` (any origin, the reference's default for frontends such as Headlamp) needs
    /// `auth_enabled` ([`Config::validate`]).
    pub cors_origins: Vec<String>,
    /// Host names besides loopback this server may be addressed as when auth is off.
    pub allowed_hosts: Vec<String>,
    /// How to reach the HuggingFace Hub (`HF_ENDPOINT`, `HF_CLIENT_ID`, timeouts).
    pub huggingface: HubConfig,
    /// `HELM_PATH`: the Helm binary runtime installation runs (a name is looked up on `PATH`).
    pub helm_path: std::path::PathBuf,
    /// `METRICS_ACCESS`: how deployment metrics are scraped.
    pub metrics_access: MetricsAccess,
    /// Cloud pricing APIs.
    pub pricing: PricingConfig,
    /// The AI Configurator CLI.
    pub aiconfigurator: AiConfiguratorConfig,
    /// AIKit image builds.
    pub aikit: AikitConfig,
}

/// A configuration the server refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidConfig {
    /// `CORS_ORIGIN=*` without authentication.
    #[error(
        "CORS_ORIGIN=* (any origin) needs AUTH_ENABLED=true: without authentication every web page a user opens could drive this server with the backend's Kubernetes identity. Turn authentication on (clients then send bearer tokens, never cookies, so * leaks nothing), or list the origins that may call the API (CORS_ORIGIN=https://headlamp.example.com)"
    )]
    AnyOriginWithoutAuth,
    /// An AIKit build setting breaks its rule.
    #[error("invalid AIKit build setting: {0}")]
    Aikit(String),
}

impl Config {
    /// Whether any origin may call the API cross-site (`CORS_ORIGIN=*`).
    pub fn cors_any_origin(&self) -> bool {
        self.cors_origins.iter().any(|o| o.trim() == "*")
    }

    /// Refuses combinations that would be unsafe to serve. `CORS_ORIGIN=*` is honoured only
    /// with authentication: every protected route then needs a bearer token in the
    /// `Authorization` header, which a browser never adds on its own (the API uses no
    /// cookies), so a foreign page learns nothing it could not ask for with its own token.
    /// Without authentication, `*` would let any web page act with the backend's identity.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.cors_any_origin() && !self.auth_enabled {
            return Err(InvalidConfig::AnyOriginWithoutAuth);
        }
        kubeairunway_core::aikit::names::buildkit_addr(&self.aikit.buildkit_addr)
            .and_then(|()| self.aikit.target.validate())
            .map_err(|e| InvalidConfig::Aikit(e.to_string()))?;
        Ok(())
    }

    /// A configuration for `addr` with defaults everywhere else (auth off, no CORS).
    pub fn local(addr: SocketAddr, build: BuildInfo) -> Self {
        Self {
            addr,
            default_namespace: "kubeairunway-system".into(),
            build,
            auth_enabled: false,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            huggingface: HubConfig::default(),
            helm_path: "helm".into(),
            metrics_access: MetricsAccess::Auto,
            pricing: PricingConfig::default(),
            aiconfigurator: AiConfiguratorConfig::default(),
            aikit: AikitConfig::default(),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    kube: Option<KubeAccess>,
    caches: Option<Caches>,
    auth: Auth,
    hub: Result<hf::Hub, hf::hub::HubSetupError>,
    oauth: hf::signin::SignIns,
    rules: kubeairunway_core::RuleEngine,
}

/// The backend's Kubernetes access: its own client, the configuration it came from (to build
/// per-user clients) and the name of the kubeconfig context.
#[derive(Clone)]
pub struct KubeAccess {
    /// Client with the backend's identity.
    pub client: kube::Client,
    /// The configuration of `client`.
    pub config: kube::Config,
    /// Current kubeconfig context (`inClusterContext` in a pod).
    pub context: String,
}

impl KubeAccess {
    /// Access through `config`, labelled with the kubeconfig `context` name.
    pub fn new(mut config: kube::Config, context: impl Into<String>) -> Result<Self, kube::Error> {
        config.connect_timeout = Some(Duration::from_secs(2));
        // No read timeout: watches idle for minutes between events and log follows for as long
        // as the user watches; other calls have a deadline (`kube_client::CALL_DEADLINE`).
        config.read_timeout = None;
        // No client-side retry of 429/503/504: kube's default retries up to 15 times with a
        // backoff growing to minutes, so a request made for someone would hang until its
        // deadline instead of telling them (a pod proxy's 503 is an unreachable pod, an API
        // server outage a clear 503). Watches have their own backoff in the runtime.
        config.default_retry = false;
        let client = crate::kube_client::client(config.clone())?;
        Ok(Self {
            client,
            config,
            context: context.into(),
        })
    }

    /// A client for the same cluster that authenticates with `token` instead of the backend's
    /// credentials.
    pub fn client_for_token(&self, token: &str) -> Result<kube::Client, kube::Error> {
        auth::client_for_token(&self.config, token)
    }
}

impl AppState {
    /// State for `config`; `kube` is `None` when no kubeconfig could be loaded, in which case
    /// cluster endpoints answer 503 instead of the server failing to start. Starts the watch
    /// caches, so it must run inside a Tokio runtime.
    pub fn new(config: Config, kube: Option<KubeAccess>) -> Self {
        let caches = kube.as_ref().map(|k| Caches::start(&k.client));
        let auth = Auth::new(config.auth_enabled);
        let hub = hf::Hub::new(config.huggingface.clone());
        let oauth = hf::signin::SignIns::new(config.huggingface.oauth_state_ttl);
        Self {
            inner: Arc::new(Inner {
                config,
                kube,
                caches,
                auth,
                hub,
                oauth,
                rules: kubeairunway_core::RuleEngine::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Authentication state.
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The backend's Kubernetes access, or 503 when there is none.
    pub fn kube(&self) -> Result<&KubeAccess, ApiError> {
        self.inner.kube.as_ref().ok_or_else(no_cluster)
    }

    /// The HuggingFace Hub client, or 503 when `HF_ENDPOINT` is not a usable URL.
    pub fn hub(&self) -> Result<&hf::Hub, ApiError> {
        self.inner
            .hub
            .as_ref()
            .map_err(|e| ApiError::unavailable(e.to_string()))
    }

    /// Pending HuggingFace sign-ins.
    pub(crate) fn oauth(&self) -> &hf::signin::SignIns {
        &self.inner.oauth
    }

    /// The providers' selection rules, compiled once, for previews of the controller's choice.
    pub(crate) fn rules(&self) -> &kubeairunway_core::RuleEngine {
        &self.inner.rules
    }

    /// The watch caches, or 503 when there is no cluster configuration.
    pub fn caches(&self) -> Result<&Caches, ApiError> {
        self.inner.caches.as_ref().ok_or_else(no_cluster)
    }
}

/// Handlers that only read the authentication settings take `State<Auth>`.
impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Self {
        state.auth().clone()
    }
}

/// The caller a request carries: attached by the authentication middleware, or else the
/// backend's identity (without auth, and on public paths without a token); 503 without a
/// cluster.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let kube = state.kube()?;
        Ok(Caller::backend(kube.client.clone(), state.auth().clone()))
    }
}

fn no_cluster() -> ApiError {
    ApiError::unavailable(
        "No Kubernetes configuration found: set KUBECONFIG, or run KubeAIRunway inside a cluster",
    )
}

/// Loads the backend's Kubernetes access from the environment (KUBECONFIG, `~/.kube/config` or
/// the in-cluster service account).
pub async fn kube_access_from_env() -> Result<KubeAccess, kube::Error> {
    let context = match kube::config::Kubeconfig::read() {
        Ok(kc) => kc.current_context.unwrap_or_else(|| "default".into()),
        Err(_) => "inClusterContext".into(),
    };
    let config = kube::Config::infer()
        .await
        .map_err(kube::Error::InferConfig)?;
    KubeAccess::new(config, context)
}
