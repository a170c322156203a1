//! The KubeAIRunway REST backend: the HTTP API under `/api` that every frontend (the bundled
//! web UI, Headlamp, the CLI, scripts) talks to, plus the embedded UI. Its JSON shapes follow
//! `api.md` exactly; `docs/backend.md` describes the design.

pub mod auth;
pub mod cache;
mod capacity;
mod cluster;
mod deployments;
pub mod error;
pub mod extract;
mod guard;
mod health;
pub mod hf;
mod installation;
mod models;
mod openapi;
pub mod pods;
mod runtimes;
mod settings;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Auth, Caller};
pub use cache::Caches;
pub use error::{ApiError, ApiResult};
pub use hf::HubConfig;

/// Largest request body accepted (JSON bodies are small; anything bigger is a mistake or abuse).
pub const BODY_LIMIT: usize = 1 << 20;
/// Longest a non-streaming request may take before it is cancelled with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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
    pub cors_origins: Vec<String>,
    /// Host names besides loopback this server may be addressed as when auth is off.
    pub allowed_hosts: Vec<String>,
    /// How to reach the HuggingFace Hub (`HF_ENDPOINT`, `HF_CLIENT_ID`, timeouts).
    pub huggingface: HubConfig,
    /// `HELM_PATH`: the Helm binary runtime installation runs (a name is looked up on `PATH`).
    pub helm_path: std::path::PathBuf,
}

impl Config {
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
    hub: Result<hf::Hub, String>,
    oauth: hf::oauth::Sessions,
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
        // as the user watches; non-streaming requests are bounded by `REQUEST_TIMEOUT`.
        config.read_timeout = None;
        let client = kube::Client::try_from(config.clone())?;
        Ok(Self {
            client,
            config,
            context: context.into(),
        })
    }

    /// A client for the same cluster that authenticates with `token` instead of the backend's
    /// credentials.
    pub fn client_for_token(&self, token: &str) -> Result<kube::Client, kube::Error> {
        let mut config = self.config.clone();
        config.auth_info = kube::config::AuthInfo {
            token: Some(token.to_string().into()),
            ..Default::default()
        };
        kube::Client::try_from(config)
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
        let oauth = hf::oauth::Sessions::new(config.huggingface.oauth_state_ttl);
        Self {
            inner: Arc::new(Inner {
                config,
                kube,
                caches,
                auth,
                hub,
                oauth,
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
            .map_err(|e| ApiError::unavailable(e.clone()))
    }

    /// Pending HuggingFace sign-ins.
    pub(crate) fn oauth(&self) -> &hf::oauth::Sessions {
        &self.inner.oauth
    }

    /// The watch caches, or 503 when there is no cluster configuration.
    pub fn caches(&self) -> Result<&Caches, ApiError> {
        self.inner.caches.as_ref().ok_or_else(no_cluster)
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

/// Every API route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(health::routes())
        .merge(cluster::routes())
        .merge(settings::routes())
        .merge(deployments::routes())
        .merge(runtimes::routes())
        .merge(capacity::routes())
        .merge(models::routes())
        .merge(hf::oauth::routes())
        .merge(hf::secrets::routes())
        .merge(installation::routes())
        .routes(utoipa_axum::routes!(auth::whoami))
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The whole application: `/api`, the embedded UI, and the protective layers.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    let doc = Arc::new(doc);
    let api = api
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api", axum::routing::any(error::api_not_found))
        .route("/api/", axum::routing::any(error::api_not_found))
        .route("/api/{*rest}", axum::routing::any(error::api_not_found))
        .method_not_allowed_fallback(error::method_not_allowed);
    let config = state.config().clone();
    Router::new()
        .merge(api)
        .fallback(ui::serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(guard::envelope_layer_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin,
        ))
        .layer(CompressionLayer::new())
        .layer(security_header(header::CONTENT_SECURITY_POLICY, guard::CSP))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(guard::cors(&config.cors_origins))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // Method and path only: query strings and headers may carry secrets.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(CatchPanicLayer::custom(guard::panic_response))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Serves until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config, kube: Option<KubeAccess>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    serve_on(listener, config, kube, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then drains in-flight requests. Tests use
/// this with an ephemeral port.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    kube: Option<KubeAccess>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(config, kube);
    tracing::info!(addr = %listener.local_addr()?, "serving the KubeAIRunway API");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
