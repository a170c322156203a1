//! `GET /api/deployments/{name}/metrics` (docs/contract/api.md §10): the deployment's model
//! servers scraped now, as the caller, with the raw samples of the reference, the figures a
//! person reads, rates since the previous scrape and (`?history=true`) the last 15 minutes.
//!
//! Where the pods are: the cache's pods of the deployment that are Running, at most
//! [`MAX_PODS`], each on the port and path its provider serves metrics on
//! (`core::metrics::target`). How they are reached: off the cluster through the API server's pod
//! proxy with the caller's own client (RBAC: `get pods/proxy`), inside it straight to the pod IP
//! ([`MetricsAccess`]). The answer is always 200 once the deployment is readable: a deployment
//! that is not running, has no metrics endpoint, or whose pods refuse or cannot be reached says
//! so in `available: false`, `reason` and `error`, never with a 500. The reference answered
//! `available: false` whenever it ran off the cluster, and scraped `<name>:8000` whatever the
//! provider (§19.14).

mod scrape;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kubeairunway_core::metrics::{Point, Rates, Scrape, Summary, metrics_port, parse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::scrape::{Resolved, ScrapeError, Target};
use self::store::Store;
use crate::auth::Caller;
use crate::deployments::{DeploymentName, readable_pods, target};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Pods scraped per request at most (the figures are sums over them).
pub(crate) const MAX_PODS: usize = 8;
/// Raw samples returned at most (a model server has a few hundred).
const MAX_SAMPLES: usize = 5000;
/// Line errors reported at most.
const MAX_PARSE_ERRORS: usize = 10;

/// What the routes share: the histories and the HTTP client of direct scrapes.
pub(crate) struct Service {
    store: Store,
    http: reqwest::Client,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap_or_default();
    let service = Arc::new(Service {
        store: Store::default(),
        http,
    });
    OpenApiRouter::new()
        .routes(routes!(deployment_metrics))
        .layer(Extension(service))
}

/// `?namespace=&history=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsQuery {
    /// Namespace of the deployment; the settings' default namespace when omitted.
    pub namespace: Option<String>,
    /// Also return the last 15 minutes of figures (`history`).
    #[serde(default)]
    pub history: bool,
}

/// One Prometheus sample (`RawMetricValue`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RawMetricValue {
    /// Metric name as exposed (`vllm:num_requests_running`, `…_bucket`).
    name: String,
    /// The value (non-finite samples are left out: JSON has no NaN).
    value: f64,
    /// Labels; `pod` is added when more than one pod was scraped.
    labels: BTreeMap<String, String>,
}

/// How the metrics were fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum MetricsSource {
    /// The API server's pod proxy, as the caller.
    PodProxy,
    /// Straight to the pod IPs (inside the cluster).
    Direct,
    /// Nothing was fetched (see `reason`).
    None,
}

/// Why metrics are unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Unavailable {
    /// No pod of the deployment is running.
    NotRunning,
    /// The pods serve no metrics endpoint (port unknown, or 404).
    NoEndpoint,
    /// The caller may not proxy to the pods (`pods/proxy`).
    Forbidden,
    /// Nothing answers on the metrics port.
    Unreachable,
    /// The pods did not answer in time.
    Timeout,
    /// The pods answered with an error or something that is not metrics text.
    BadResponse,
}

/// One pod's scrape.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodScrape {
    /// Pod name.
    pod: String,
    /// The port scraped.
    port: u16,
    /// The path scraped.
    path: String,
    /// Whether it answered with metrics.
    ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `MetricsResponse`: the reference's fields, then ours.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricsResponse {
    /// Whether at least one pod answered with metrics.
    available: bool,
    /// Why not, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// When the scrape was made (RFC 3339).
    timestamp: String,
    /// Every sample of every pod that answered.
    metrics: Vec<RawMetricValue>,
    /// True when the server runs outside the cluster (it then scrapes through the pod proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    running_off_cluster: Option<bool>,
    /// How the pods were reached.
    source: MetricsSource,
    /// Why metrics are unavailable, as a code.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Unavailable>,
    /// Each pod scraped.
    pods: Vec<PodScrape>,
    /// The figures of the pods that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
    /// Rates since the previous scrape of this deployment (absent on the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    rates: Option<Rates>,
    /// The last 15 minutes, oldest first, when `history=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<Point>>,
    /// Lines of the answers that were not metrics (at most 10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parse_errors: Vec<String>,
}

impl MetricsResponse {
    fn unavailable(
        now: &Timestamp,
        source: MetricsSource,
        reason: Unavailable,
        error: String,
        off: bool,
    ) -> Self {
        Self {
            available: false,
            error: Some(error),
            timestamp: now.to_string(),
            metrics: Vec::new(),
            running_off_cluster: off.then_some(true),
            source,
            reason: Some(reason),
            pods: Vec::new(),
            summary: None,
            rates: None,
            history: None,
            parse_errors: Vec::new(),
        }
    }
}

fn is_running(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// Scrapes the deployment's running pods now and answers their metrics, figures and rates.
#[utoipa::path(get, path = "/api/deployments/{name}/metrics", tag = "metrics",
    params(("name" = String, Path, description = "ModelDeployment name"), MetricsQuery),
    responses(
        (status = 200, description = "Metrics, or why they are unavailable", body = MetricsResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not read the deployment or list its pods", body = ErrorBody),
        (status = 404, description = "Deployment not found", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn deployment_metrics(
    State(state): State<AppState>,
    Extension(service): Extension<Arc<Service>>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<MetricsResponse>> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let pods = readable_pods(&state, &caller, &namespace, &name).await?;
    let deployment = crate::deployments::cached(state.caches()?, &namespace, &name);
    let now = Timestamp::now();
    let resolved = scrape::resolve(state.config().metrics_access);
    let off = resolved == Resolved::Proxy;
    let source = match resolved {
        Resolved::Proxy => MetricsSource::PodProxy,
        Resolved::Direct => MetricsSource::Direct,
    };
    let key = (
        namespace.clone(),
        name.clone(),
        deployment
            .as_ref()
            .and_then(|d| d.uid())
            .unwrap_or_default(),
    );
    let provider = deployment
        .as_ref()
        .and_then(|d| {
            d.status
                .as_ref()
                .and_then(|s| s.provider.as_ref())
                .and_then(|p| p.name.clone())
                .or_else(|| d.spec.provider.as_ref().and_then(|p| p.name.clone()))
        })
        .unwrap_or_default();
    let engine = deployment.as_ref().and_then(|d| {
        d.spec.engine.type_.or_else(|| {
            d.status
                .as_ref()
                .and_then(|s| s.engine.as_ref())
                .and_then(|e| e.type_)
        })
    });
    let running: Vec<&Arc<Pod>> = pods.iter().filter(|p| is_running(p)).collect();
    if running.is_empty() {
        let mut answer = MetricsResponse::unavailable(
            &now,
            MetricsSource::None,
            Unavailable::NotRunning,
            "The deployment has no running pods yet: metrics appear once a pod is Running.".into(),
            off,
        );
        answer.history = query
            .history
            .then(|| service.store.history(&key, now.as_millisecond()));
        return Ok(Json(answer));
    }
    let targets: Vec<Target> = running
        .iter()
        .filter_map(|p| {
            let port = metrics_port(&provider, engine, p)?;
            Some(Target {
                namespace: namespace.clone(),
                pod: p.name_any(),
                pod_ip: p.status.as_ref().and_then(|s| s.pod_ip.clone()),
                port: port.port,
                path: port.path,
            })
        })
        .take(MAX_PODS)
        .collect();
    if targets.is_empty() {
        return Ok(Json(MetricsResponse::unavailable(
            &now,
            MetricsSource::None,
            Unavailable::NoEndpoint,
            format!("No pod of this deployment serves a metrics endpoint (provider {provider:?})."),
            off,
        )));
    }
    let results = futures::future::join_all(
        targets
            .iter()
            .map(|t| scrape::scrape(resolved, caller.client(), &service.http, t)),
    )
    .await;
    Ok(Json(answer(
        &service.store,
        key,
        now,
        source,
        off,
        &targets,
        results,
        query.history,
    )))
}

#[allow(clippy::too_many_arguments)]
fn answer(
    store: &Store,
    key: (String, String, String),
    now: Timestamp,
    source: MetricsSource,
    off: bool,
    targets: &[Target],
    results: Vec<Result<String, ScrapeError>>,
    with_history: bool,
) -> MetricsResponse {
    let many = targets.len() > 1;
    let mut scrapes: Vec<Scrape> = Vec::new();
    let mut pods = Vec::new();
    let mut metrics = Vec::new();
    let mut parse_errors = Vec::new();
    let mut first_error: Option<ScrapeError> = None;
    for (t, result) in targets.iter().zip(results) {
        match result {
            Ok(text) => {
                let s = parse(&text);
                for e in s
                    .errors
                    .iter()
                    .take(MAX_PARSE_ERRORS.saturating_sub(parse_errors.len()))
                {
                    parse_errors.push(format!("{}: {e}", t.pod));
                }
                for sample in s.samples.iter().filter(|x| x.value.is_finite()) {
                    if metrics.len() >= MAX_SAMPLES {
                        break;
                    }
                    let mut labels = sample.labels.clone();
                    if many {
                        labels.insert("pod".into(), t.pod.clone());
                    }
                    metrics.push(RawMetricValue {
                        name: sample.name.clone(),
                        value: sample.value,
                        labels,
                    });
                }
                pods.push(PodScrape {
                    pod: t.pod.clone(),
                    port: t.port,
                    path: t.path.clone(),
                    ok: true,
                    error: None,
                });
                scrapes.push(s);
            }
            Err(e) => {
                pods.push(PodScrape {
                    pod: t.pod.clone(),
                    port: t.port,
                    path: t.path.clone(),
                    ok: false,
                    error: Some(e.to_string()),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    let now_ms = now.as_millisecond();
    if scrapes.is_empty() {
        let (reason, message) = match first_error {
            Some(e) => (e.code(), explain(&e)),
            None => (Unavailable::BadResponse, "No pod answered".into()),
        };
        let mut answer = MetricsResponse::unavailable(&now, source, reason, message, off);
        answer.pods = pods;
        answer.history = with_history.then(|| store.history(&key, now_ms));
        return answer;
    }
    let refs: Vec<&Scrape> = scrapes.iter().collect();
    let summary = Summary::of(&refs);
    let (rates, history) = store.record(key, now_ms, &summary);
    MetricsResponse {
        available: true,
        error: None,
        timestamp: now.to_string(),
        metrics,
        running_off_cluster: off.then_some(true),
        source,
        reason: None,
        pods,
        summary: Some(summary),
        rates,
        history: with_history.then_some(history),
        parse_errors,
    }
}

/// The message of an unavailable answer: the error and what to do about it.
fn explain(e: &ScrapeError) -> String {
    match e {
        ScrapeError::Forbidden { .. } => format!(
            "{e}. Metrics are read through the Kubernetes API server's pod proxy as you; ask for \
             'get' on 'pods/proxy' in this namespace."
        ),
        ScrapeError::Status { status: 404, .. } => {
            format!("{e}: the model server does not serve metrics on this path.")
        }
        ScrapeError::Unreachable { .. } => {
            format!("{e}. The model server may still be starting.")
        }
        _ => e.to_string(),
    }
}
