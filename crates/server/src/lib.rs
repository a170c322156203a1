//! The KubeAIRunway REST backend: the HTTP API under `/api` that every frontend (the bundled
//! web UI, Headlamp, the CLI, scripts) talks to, plus the embedded UI. Its JSON shapes follow
//! `docs/contract/api.md` exactly; `docs/backend.md` describes the design.
//!
//! # Layout
//!
//! This file only declares the modules, re-exports the public API, assembles the router and
//! serves it. The modules form layers, and a module imports only from layers below it (never
//! from the crate root), so the module graph has no cycles:
//!
//! - **Shared pieces:** `error` (the envelope, and the mapping of `hf` errors onto it; route
//!   trees map the errors of their own domain code), `limits`, `extract`, `wire` (API shapes
//!   several trees speak), `pods`.
//! - **Domain and infrastructure, no routes:** `cache` (watch caches), `auth` (who calls, with
//!   whose credentials), `hf` (the HuggingFace Hub client), and the `kubeairunway-install`
//!   crate (jobs and the Helm runner). They return their own errors.
//! - **`state`:** [`AppState`], [`Config`], [`KubeAccess`], holding the caches, auth and Hub
//!   client; the `Caller` extractor.
//! - **`activity`:** the activity trail: the recorder every change route calls with its
//!   outcome (an Event naming the caller), and `GET /api/activity`.
//! - **Route trees** (handlers, thin, one per URL prefix): `health`, `cluster`, `settings`,
//!   `deployments/`, `runtimes`, `capacity`, `models/`, `oauth`, `secrets`, `installation/`,
//!   plus `guard` (the layers in front of them) and `ui`.
//!
//! New services get one module tree each, the same way: the metrics, costs, aikit (image builds)
//! and aiconfigurator services will be `metrics/`, `costs/`, `aikit/` and `aiconfigurator/` here,
//! holding routes, handlers and the mapping of their errors, with their pure logic in a core
//! crate beside `crates/install` (an image build runs as a job of `kubeairunway_install::jobs`).

mod activity;
mod aiconfigurator;
mod aikit;
pub mod auth;
mod autoscaler;
pub mod cache;
mod capacity;
mod cluster;
mod costs;
mod deployments;
mod encoded;
pub mod error;
pub mod extract;
mod guard;
mod health;
pub mod hf;
mod installation;
pub mod kube_client;
mod limits;
mod metrics;
mod models;
mod oauth;
mod openapi;
pub mod pods;
mod runtimes;
mod secrets;
mod settings;
mod state;
mod ui;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode, Version, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Auth, Caller};
pub use cache::Caches;
pub use error::{ApiError, ApiResult};
pub use hf::HubConfig;
pub use limits::{BODY_LIMIT, REQUEST_TIMEOUT};
pub use state::{
    AiConfiguratorConfig, AikitConfig, AppState, BuildInfo, Config, InvalidConfig, KubeAccess,
    MetricsAccess, PricingConfig, kube_access_from_env,
};

/// Every API route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    // Installations and image builds are jobs of one registry, all readable at `/api/jobs`.
    let jobs = installation::Jobs::default();
    OpenApiRouter::with_openapi(openapi::base())
        .merge(health::routes())
        .merge(cluster::routes())
        .merge(settings::routes())
        .merge(deployments::routes())
        .merge(runtimes::routes())
        .merge(capacity::routes())
        .merge(models::routes())
        .merge(oauth::routes())
        .merge(secrets::routes())
        .merge(installation::routes(jobs.clone()))
        .merge(aikit::routes(jobs))
        .merge(metrics::routes())
        .merge(autoscaler::routes())
        .merge(costs::routes())
        .merge(aiconfigurator::routes())
        .merge(activity::routes())
        .routes(utoipa_axum::routes!(auth::whoami))
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = api_routes().split_for_parts().1;
    openapi::complete(&mut doc);
    doc
}

/// The whole application: `/api`, the embedded UI, and the protective layers.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = api_routes().split_for_parts();
    openapi::complete(&mut doc);
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
            guard::authenticate,
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
        .layer(
            CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(
                    // A synchronous installation answer trickles out keep-alive bytes: compressing it
                    // would hold them back.
                    |_: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions| {
                        extensions.get::<limits::Uncompressed>().is_none()
                    },
                )),
        )
        .layer(security_header(header::CONTENT_SECURITY_POLICY, guard::CSP))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(guard::cors(&config))
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
/// this with an ephemeral port. A configuration [`Config::validate`] refuses is an
/// `InvalidInput` error before anything is served.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    kube: Option<KubeAccess>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
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
