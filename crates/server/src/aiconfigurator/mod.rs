//! `/api/aiconfigurator/*` (docs/contract/api.md §14): NVIDIA's AI Configurator CLI searches
//! deployment settings (tensor parallelism, batch size, replicas, aggregated or prefill/decode
//! disaggregated) for a model on a GPU type from its performance database. The pure parts
//! (validation, arguments, GPU names, CSV mapping) are `kubeairunway_core::aiconfigurator`; this
//! tree runs the CLI ([`runner`]) and answers.
//!
//! Fixed against the reference (§19): a timeout (killed, then defaults), one validated argument
//! list and no shell, a temporary directory that is always removed, GPUs without data reported
//! as such instead of becoming `h100_sxm`, malformed JSON a 400 not a 500, and a bad model id a
//! 400 naming the field. Defaults are always marked (`success: false`, `source: "defaults"`,
//! `error`, a warning). An analysis runs longer than the request timeout allows a plain answer,
//! so once the CLI is started the `200` answer begins at once and trickles a space every few
//! seconds until the JSON (leading whitespace is valid JSON).

mod runner;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubeairunway_core::aiconfigurator::{
    AnalyzeResult, Backend, OptimizeFor, Request, normalize_product, system_for_gpu,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::runner::{RunError, Runner};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::limits::Uncompressed;
use crate::state::AppState;

const TAG: &str = "aiconfigurator";
/// Interval of the keep-alive spaces of a running analysis.
const KEEPALIVE: Duration = Duration::from_secs(5);
/// The service-account token every pod has mounted.
const SA_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const IN_CLUSTER: &str = "AI Configurator is only available when running KubeAIRunway locally";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(aiconfigurator_status))
        .routes(routes!(aiconfigurator_analyze))
        .routes(routes!(aiconfigurator_normalize_gpu))
        .layer(Extension(Arc::new(Runner::new())))
}

/// `GET /api/aiconfigurator/status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AIConfiguratorStatus {
    /// Whether analyses run the real CLI.
    available: bool,
    /// Its version (`aiconfigurator version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Present (true) when the server runs in a pod without the CLI; the UI then hides the panel.
    #[serde(skip_serializing_if = "Option::is_none")]
    running_in_cluster: Option<bool>,
}

fn in_cluster() -> bool {
    std::path::Path::new(SA_TOKEN).exists()
}

/// Whether the AI Configurator CLI can be used (checked with `aiconfigurator version`, cached
/// for 5 minutes, 1 minute while it is missing).
#[utoipa::path(get, path = "/api/aiconfigurator/status", tag = TAG,
    responses((status = 200, body = AIConfiguratorStatus), (status = 401, body = ErrorBody)))]
pub(crate) async fn aiconfigurator_status(
    State(state): State<AppState>,
    Extension(runner): Extension<Arc<Runner>>,
) -> Json<AIConfiguratorStatus> {
    let availability = runner.availability(&state.config().aiconfigurator).await;
    Json(match availability.result {
        Ok(version) => AIConfiguratorStatus {
            available: true,
            version: Some(version),
            error: None,
            running_in_cluster: None,
        },
        Err(RunError::NotFound { .. }) if in_cluster() => AIConfiguratorStatus {
            available: false,
            version: None,
            error: Some(IN_CLUSTER.into()),
            running_in_cluster: Some(true),
        },
        Err(e) => AIConfiguratorStatus {
            available: false,
            version: None,
            error: Some(e.to_string()),
            running_in_cluster: None,
        },
    })
}

/// `POST /api/aiconfigurator/analyze` body.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    dead_code,
    reason = "the documented shape of the body, which is validated field by field from JSON (core::aiconfigurator::Request) so that every bad field is named"
)]
pub(crate) struct AIConfiguratorAnalyzeRequest {
    /// HuggingFace model id: `org/model-name` or `model-name`.
    model_id: String,
    /// GPU type: a product label (`NVIDIA-H100-80GB-HBM3`), a model (`H100`, `A100-80GB`) or an
    /// AI Configurator system (`h200_sxm`).
    gpu_type: String,
    /// GPUs for the deployment (1–1024).
    gpu_count: u32,
    /// `throughput` (default) or `latency`.
    optimize_for: Option<OptimizeFor>,
    /// Upper bound for the time to first token, ms (the CLI's `--ttft`; default 2000).
    max_latency_ms: Option<f64>,
    /// Preferred backend (default: vLLM where the GPU has data for it).
    backend: Option<Backend>,
}

/// 400 answer of `analyze`: the envelope plus every invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AIConfiguratorInvalidRequest {
    error: AIConfiguratorInvalidRequestDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AIConfiguratorInvalidRequestDetail {
    /// `Invalid request: <first problem>`.
    message: String,
    /// `"<field>: <problem>"` for each invalid field.
    errors: Vec<String>,
    status_code: u16,
}

fn invalid(errors: Vec<String>) -> Response {
    let first = errors.first().cloned().unwrap_or_default();
    let body = AIConfiguratorInvalidRequest {
        error: AIConfiguratorInvalidRequestDetail {
            message: format!("Invalid request: {first}"),
            errors,
            status_code: 400,
        },
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Deployment settings for a model on a GPU type from AI Configurator's search (always `200`;
/// `success: false` and `source: "defaults"` mark defaults, with `error` saying why). Once the
/// CLI starts, the answer begins at once and leading spaces precede the JSON.
#[utoipa::path(post, path = "/api/aiconfigurator/analyze", tag = TAG, request_body = AIConfiguratorAnalyzeRequest,
    responses((status = 200, body = AnalyzeResult), (status = 400, body = AIConfiguratorInvalidRequest), (status = 401, body = ErrorBody)))]
pub(crate) async fn aiconfigurator_analyze(
    State(state): State<AppState>,
    Extension(runner): Extension<Arc<Runner>>,
    body: Result<ApiJson<Value>, ApiError>,
) -> Response {
    // A body that is not JSON is one more invalid request: this route's 400 always lists its
    // problems in `errors` (other rejections, 413 and 415, keep the common envelope).
    let body = match body {
        Ok(ApiJson(body)) => body,
        Err(e) if e.status == StatusCode::BAD_REQUEST => return invalid(vec![e.message]),
        Err(e) => return e.into_response(),
    };
    let request = match Request::from_json(&body) {
        Ok(r) => r,
        Err(errors) => return invalid(errors.iter().map(ToString::to_string).collect()),
    };
    let plan = match request.plan() {
        Ok(plan) => plan,
        Err(unsupported) => {
            return Json(AnalyzeResult::defaults(
                request.gpu_count,
                unsupported.to_string(),
                "Using default configuration: AI Configurator has no data for this GPU type",
            ))
            .into_response();
        }
    };
    let config = state.config().aiconfigurator.clone();
    if let Err(e) = runner.availability(&config).await.result {
        return Json(AnalyzeResult::defaults(
            request.gpu_count,
            e.to_string(),
            "AI Configurator not available, using default configuration",
        ))
        .into_response();
    }
    let work = async move {
        let outcome = runner.analyze(&config, &plan, request.optimize_for).await;
        match outcome {
            Ok(analysis) => {
                tracing::info!(
                    model = %plan.model_id, system = plan.system.name, backend = plan.backend.as_str(),
                    duration_ms = analysis.duration.as_millis() as u64, "AI Configurator analysis"
                );
                let mut result = AnalyzeResult::recommended(
                    analysis.recommendation,
                    plan.backend,
                    plan.system.backends,
                    plan.system.name,
                );
                result.duration_ms = u64::try_from(analysis.duration.as_millis()).ok();
                result
            }
            Err(e) => {
                tracing::warn!(model = %plan.model_id, system = plan.system.name, error = %e, "AI Configurator analysis failed");
                let warning = match e {
                    RunError::Timeout(_) => {
                        "Using default configuration: the analysis took too long"
                    }
                    RunError::NoResults(_) => {
                        "Using default configuration: no configuration met the latency targets"
                    }
                    _ => "Using default configuration due to execution error",
                };
                let mut result = AnalyzeResult::defaults(request.gpu_count, e.to_string(), warning);
                result.system = Some(plan.system.name.to_string());
                result.supported_backends = Some(plan.system.backends.to_vec());
                result
            }
        }
    };
    trickle(work)
}

/// A `200` JSON answer whose body starts at once with a space, adds one every [`KEEPALIVE`]
/// while `work` runs, and ends with its result. Dropping the answer (the client left) drops
/// `work`, which kills the CLI and removes its directory.
fn trickle(work: impl Future<Output = AnalyzeResult> + Send + 'static) -> Response {
    let body = async_stream::stream! {
        yield Ok::<_, Infallible>(Bytes::from_static(b" "));
        let mut work = std::pin::pin!(work);
        let mut ticks = tokio::time::interval(KEEPALIVE);
        ticks.tick().await;
        loop {
            let done = tokio::select! {
                result = &mut work => Some(result),
                _ = ticks.tick() => None,
            };
            match done {
                Some(result) => {
                    let json = serde_json::to_vec(&result).unwrap_or_else(|e| {
                        format!(r#"{{"success":false,"source":"defaults","error":"the result could not be written: {e}"}}"#).into_bytes()
                    });
                    yield Ok(Bytes::from(json));
                    break;
                }
                None => yield Ok(Bytes::from_static(b" ")),
            }
        }
    };
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(Uncompressed);
    response
}

/// `POST /api/aiconfigurator/normalize-gpu` body.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    dead_code,
    reason = "the documented shape of the body; a missing or non-string gpuProduct gets the reference's 400 message"
)]
pub(crate) struct AIConfiguratorNormalizeRequest {
    /// A GPU product label (`nvidia.com/gpu.product`).
    gpu_product: String,
}

/// `{gpuProduct, normalized, system?, supportedBackends?}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AIConfiguratorNormalizeResponse {
    /// The label as given.
    gpu_product: String,
    /// Its display name (`A100-80GB`, `H100-80GB`, `L40S`).
    normalized: String,
    /// The AI Configurator system it maps to, absent when AI Configurator has no data for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    /// Backends AI Configurator covers on that system.
    #[serde(skip_serializing_if = "Option::is_none")]
    supported_backends: Option<Vec<Backend>>,
}

/// A GPU product label's display name and AI Configurator system.
#[utoipa::path(post, path = "/api/aiconfigurator/normalize-gpu", tag = TAG, request_body = AIConfiguratorNormalizeRequest,
    responses((status = 200, body = AIConfiguratorNormalizeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn aiconfigurator_normalize_gpu(
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<AIConfiguratorNormalizeResponse>> {
    let Some(label) = body.get("gpuProduct").and_then(Value::as_str) else {
        return Err(ApiError::bad_request("gpuProduct string is required"));
    };
    if label.len() > 200 {
        return Err(ApiError::bad_request(
            "gpuProduct must be at most 200 characters",
        ));
    }
    let system = system_for_gpu(label).ok();
    Ok(Json(AIConfiguratorNormalizeResponse {
        gpu_product: label.to_string(),
        normalized: normalize_product(label),
        system: system.map(|s| s.name.to_string()),
        supported_backends: system.map(|s| s.backends.to_vec()),
    }))
}
