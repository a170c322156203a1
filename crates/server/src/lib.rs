//! The KubeAIRunway REST backend: the HTTP API under `/api` that every frontend (the bundled
//! web UI, Headlamp, the CLI, scripts) talks to. Its JSON shapes follow `api.md` exactly.

mod error;
mod health;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

pub use error::ApiError;

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
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    kube: Option<KubeAccess>,
    default_namespace: String,
    build: BuildInfo,
}

/// The backend's Kubernetes access: a client and the name of the kubeconfig context it uses.
#[derive(Clone)]
pub struct KubeAccess {
    /// Client with the backend's identity.
    pub client: kube::Client,
    /// Current kubeconfig context (`inClusterContext` in a pod).
    pub context: String,
}

impl AppState {
    /// State for `config`; `kube` is `None` when no kubeconfig could be loaded, in which case
    /// cluster endpoints report "not connected" instead of failing to start.
    pub fn new(config: &Config, kube: Option<KubeAccess>) -> Self {
        Self {
            inner: Arc::new(Inner {
                kube,
                default_namespace: config.default_namespace.clone(),
                build: config.build.clone(),
            }),
        }
    }
}

/// Loads the backend's Kubernetes access from the environment (KUBECONFIG, `~/.kube/config` or
/// the in-cluster service account).
pub async fn kube_access_from_env() -> Result<KubeAccess, kube::Error> {
    let context = match kube::config::Kubeconfig::read() {
        Ok(kc) => kc.current_context.unwrap_or_else(|| "default".into()),
        Err(_) => "inClusterContext".into(),
    };
    let mut config = kube::Config::infer()
        .await
        .map_err(kube::Error::InferConfig)?;
    config.connect_timeout = Some(Duration::from_secs(2));
    config.read_timeout = Some(Duration::from_secs(10));
    let client = kube::Client::try_from(config)?;
    Ok(KubeAccess { client, context })
}

/// The `/api` router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/cluster", get(health::health))
        .route("/health/version", get(health::version))
        .route("/cluster/version", get(health::version))
        .route("/cluster/status", get(health::cluster_status))
        .route("/health/status", get(health::cluster_status))
        .fallback(error::api_not_found);
    Router::new().nest("/api", api).with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config, kube: Option<KubeAccess>) -> std::io::Result<()> {
    let state = AppState::new(&config, kube);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving the KubeAIRunway API");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
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
