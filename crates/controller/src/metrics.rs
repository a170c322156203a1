//! Prometheus metrics of the controller, and the `/metrics`, `/healthz` and `/readyz` endpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use kube::runtime::reflector::Store;
use kubeairunway_api::ModelDeployment;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabel {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
    provider: String,
}

/// The controller's metrics.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ControllerLabel, Counter>,
    errors: Family<ControllerLabel, Counter>,
    status_writes: Family<ControllerLabel, Counter>,
    duration: Family<ControllerLabel, Histogram>,
    deployments: Family<PhaseLabels, Gauge>,
    /// One of the `STATE_*` values: what `/readyz` answers.
    state: AtomicU8,
}

/// Not started yet, or leading with caches still loading: not ready.
const STATE_STARTING: u8 = 0;
/// Waiting for the leader lease another replica holds: ready (see [`Metrics::set_standby`]).
const STATE_STANDBY: u8 = 1;
/// Leading, and every watch cache has loaded: ready.
const STATE_READY: u8 = 2;

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kubeairunway");
        let reconciles = Family::<ControllerLabel, Counter>::default();
        let errors = Family::<ControllerLabel, Counter>::default();
        let status_writes = Family::<ControllerLabel, Counter>::default();
        let duration = Family::<ControllerLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let deployments = Family::<PhaseLabels, Gauge>::default();
        registry.register(
            "reconciles",
            "Reconcile passes by controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconcile passes by controller",
            errors.clone(),
        );
        registry.register(
            "status_writes",
            "Status writes by controller",
            status_writes.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconcile passes",
            duration.clone(),
        );
        registry.register(
            "modeldeployments",
            "ModelDeployments by phase and provider",
            deployments.clone(),
        );
        Self {
            registry,
            reconciles,
            errors,
            status_writes,
            duration,
            deployments,
            state: AtomicU8::new(STATE_STARTING),
        }
    }
}

/// Records a reconcile pass and its duration when dropped.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    label: ControllerLabel,
    started: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics.reconciles.get_or_create(&self.label).inc();
        self.metrics
            .duration
            .get_or_create(&self.label)
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// Starts timing a reconcile pass of `controller`.
    pub fn reconcile_timer(&self, controller: &str) -> ReconcileTimer<'_> {
        ReconcileTimer {
            metrics: self,
            label: ControllerLabel {
                controller: controller.into(),
            },
            started: Instant::now(),
        }
    }

    /// Counts a failed pass.
    pub fn reconcile_error(&self, controller: &str) {
        self.errors
            .get_or_create(&ControllerLabel {
                controller: controller.into(),
            })
            .inc();
    }

    /// Counts a status write.
    pub fn status_write(&self, controller: &str) {
        self.status_writes
            .get_or_create(&ControllerLabel {
                controller: controller.into(),
            })
            .inc();
    }

    /// Marks the controller ready: it leads (or runs without leader election) and every watch
    /// cache has loaded its first list.
    pub fn set_ready(&self) {
        self.state.store(STATE_READY, Ordering::SeqCst);
    }

    /// Marks a replica that waits for the leader lease held by another one. It counts as ready:
    /// it can take over the moment the lease expires, so a rolling update (which waits for new
    /// replicas to be ready) and a PodDisruptionBudget (which counts ready replicas) must not
    /// treat it as broken. It stops being standby when it starts leading.
    pub fn set_standby(&self) {
        self.state.store(STATE_STANDBY, Ordering::SeqCst);
    }

    /// Marks a replica that leads but whose caches are still loading: not ready.
    pub fn set_loading(&self) {
        self.state.store(STATE_STARTING, Ordering::SeqCst);
    }

    /// Text exposition, with the per-phase gauge recomputed from `deployments`.
    pub fn encode(&self, deployments: Option<&Store<ModelDeployment>>) -> String {
        if let Some(store) = deployments {
            self.deployments.clear();
            for md in store.state() {
                let status = md.status.as_ref();
                let phase = status
                    .and_then(|s| s.phase)
                    .map_or_else(|| "Unknown".to_string(), |p| format!("{p:?}"));
                let provider = status
                    .and_then(|s| s.provider.as_ref())
                    .and_then(|p| p.name.clone())
                    .unwrap_or_default();
                self.deployments
                    .get_or_create(&PhaseLabels { phase, provider })
                    .inc();
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<Metrics>,
    deployments: Option<Store<ModelDeployment>>,
}

/// `/metrics`, `/healthz` (the process answers) and `/readyz` (200 `ok` when leading with
/// every cache loaded, 200 `standby` while waiting for the leader lease, 503 otherwise).
pub fn router(metrics: Arc<Metrics>, deployments: Option<Store<ModelDeployment>>) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(HttpState {
            metrics,
            deployments,
        })
}

async fn serve_metrics(State(s): State<HttpState>) -> impl IntoResponse {
    let body = s.metrics.encode(s.deployments.as_ref());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

async fn readyz(State(s): State<HttpState>) -> impl IntoResponse {
    match s.metrics.state.load(Ordering::SeqCst) {
        STATE_READY => (StatusCode::OK, "ok"),
        STATE_STANDBY => (StatusCode::OK, "standby: waiting for the leader lease"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "caches not synced"),
    }
}
