//! `/api/costs/*` (docs/contract/api.md §15): CostEstimationService and CloudPricingService.
//! Estimates are GPUs × replicas × price × hours; prices are live Azure Retail Prices
//! ([`pricing`]) or the dated static table of `core::costs` for AWS and GCP. Fixed against the
//! reference (§19.8): no `null` pools, the GPU count and `hoursPerMonth` count, queries are
//! validated (400), a GPU pool's estimate is filled from its price, and errors are the one
//! envelope (the reference's `{success: false, error}` bodies are not emitted, §1.5).

mod pricing;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use kube::ResourceExt;
use kubeairunway_core::costs::{
    CostBreakdown, Estimate, GPU_MODELS, GpuInfo, GpuModel, HOURS_PER_MONTH, PerGpu, Source,
    detect_cloud, estimate, gpu_info, normalize_gpu, round2,
};
use kubeairunway_core::gpu::{INSTANCE_TYPE_LABELS, node_gpus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::pricing::{CACHE_MAX, CACHE_TTL, InstancePrice, Pricing, PricingError};
use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::capacity::{POOL_LABELS, REGION_LABELS, detailed_capacity, first_label};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

const TAG: &str = "costs";
/// Most GPUs per replica and replicas an estimate takes.
const MAX_GPUS: u32 = 1024;
const MAX_REPLICAS: u32 = 1000;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(estimate_cost))
        .routes(routes!(node_pools))
        .routes(routes!(instance_price))
        .routes(routes!(gpu_models))
        .routes(routes!(normalize))
        .layer(Extension(Arc::new(Pricing::new())))
}

impl From<PricingError> for ApiError {
    fn from(e: PricingError) -> Self {
        use axum::http::StatusCode as S;
        let status = match &e {
            PricingError::Invalid(_) | PricingError::UnknownCloud(_) => S::BAD_REQUEST,
            PricingError::NotFound { .. } => S::NOT_FOUND,
            PricingError::Upstream { .. }
            | PricingError::Unreachable(_)
            | PricingError::Malformed(_) => S::BAD_GATEWAY,
            PricingError::Timeout(_) => S::GATEWAY_TIMEOUT,
        };
        ApiError::new(status, e.to_string())
    }
}

fn check_counts(gpu_count: u32, replicas: u32, hours: u32) -> ApiResult<()> {
    if !(1..=MAX_GPUS).contains(&gpu_count) {
        return Err(ApiError::bad_request(format!(
            "gpuCount must be 1–{MAX_GPUS}"
        )));
    }
    if !(1..=MAX_REPLICAS).contains(&replicas) {
        return Err(ApiError::bad_request(format!(
            "replicas must be 1–{MAX_REPLICAS}"
        )));
    }
    if !(1..=744).contains(&hours) {
        return Err(ApiError::bad_request("hoursPerMonth must be 1–744"));
    }
    Ok(())
}

/// `POST /api/costs/estimate` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EstimateRequest {
    /// GPU model or product label (`A100-80GB`, `NVIDIA-H100-80GB-HBM3`).
    gpu_type: String,
    /// GPUs per replica (≥ 1).
    gpu_count: u32,
    /// Replicas (≥ 1).
    replicas: u32,
    /// Hours a month the deployment runs (1–744, default 730).
    hours_per_month: Option<u32>,
}

/// `{success: true, breakdown}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EstimateResponse {
    success: bool,
    breakdown: CostBreakdown,
}

/// What `gpuCount` GPUs × `replicas` of a GPU model cost, at the lowest per-GPU static price.
#[utoipa::path(post, path = "/api/costs/estimate", tag = TAG, request_body = EstimateRequest,
    responses((status = 200, body = EstimateResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn estimate_cost(
    ApiJson(body): ApiJson<EstimateRequest>,
) -> ApiResult<Json<EstimateResponse>> {
    let hours = body.hours_per_month.unwrap_or(HOURS_PER_MONTH);
    if body.gpu_type.trim().is_empty() || body.gpu_type.len() > 100 {
        return Err(ApiError::bad_request("gpuType must be 1–100 characters"));
    }
    check_counts(body.gpu_count, body.replicas, hours)?;
    Ok(Json(EstimateResponse {
        success: true,
        breakdown: estimate(body.gpu_type.trim(), body.gpu_count, body.replicas, hours),
    }))
}

/// `?gpuCount&replicas&realtime&computeType&hoursPerMonth`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NodePoolsQuery {
    /// GPUs per replica (default 1).
    gpu_count: Option<u32>,
    /// Replicas (default 1).
    replicas: Option<u32>,
    /// Ask pricing APIs (default true).
    realtime: Option<bool>,
    /// `gpu` (default) or `cpu`: GPU pools, or CPU-only pools priced per VM.
    compute_type: Option<String>,
    /// Hours a month (1–744, default 730).
    hours_per_month: Option<u32>,
}

/// A price found for a pool.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RealtimePricing {
    instance_type: String,
    /// Σ for the nodes the replicas need, per hour.
    hourly_price: f64,
    /// × `hoursPerMonth`.
    monthly_price: f64,
    currency: String,
    region: String,
    /// `realtime` (asked now), `cached` (asked within the hour) or `static` (the table).
    source: String,
    /// Nodes one replica needs (its GPUs ÷ the pool's GPUs per node, rounded up).
    nodes_per_replica: u32,
    /// The price of one node.
    node_hourly_price: f64,
}

/// One pool's cost (`NodePoolCost`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodePoolCost {
    pool_name: String,
    gpu_model: String,
    available_gpus: i64,
    cost_breakdown: CostBreakdown,
    #[serde(skip_serializing_if = "Option::is_none")]
    realtime_pricing: Option<RealtimePricing>,
    /// Why a live price is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pricing_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CacheStats {
    size: u64,
    ttl_ms: u64,
    max_entries: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodePoolsResponse {
    success: bool,
    node_pool_costs: Vec<NodePoolCost>,
    /// `realtime-with-fallback` or `static`.
    pricing_source: String,
    cache_stats: CacheStats,
}

struct Pool {
    name: String,
    gpu_model: Option<String>,
    gpus: i64,
    nodes: i64,
    available: i64,
    instance_type: Option<String>,
    region: Option<String>,
}

/// The cost of running the deployment on each node pool: live or table prices of the pool's
/// instance type for the nodes the replicas need, else the per-GPU static estimate.
#[utoipa::path(get, path = "/api/costs/node-pools", tag = TAG, params(NodePoolsQuery),
    responses((status = 200, body = NodePoolsResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn node_pools(
    State(state): State<AppState>,
    Extension(pricing): Extension<Arc<Pricing>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NodePoolsQuery>,
) -> ApiResult<Json<NodePoolsResponse>> {
    let gpu_count = q.gpu_count.unwrap_or(1);
    let replicas = q.replicas.unwrap_or(1);
    let hours = q.hours_per_month.unwrap_or(HOURS_PER_MONTH);
    check_counts(gpu_count, replicas, hours)?;
    let cpu = match q.compute_type.as_deref() {
        None | Some("gpu") => false,
        Some("cpu") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "computeType must be gpu or cpu (got {:?})",
                crate::extract::truncate(other)
            )));
        }
    };
    let realtime = q.realtime.unwrap_or(true);
    let caches = state.caches()?;
    caches.ready(Kind::Nodes).await?;
    caches.ready(Kind::Pods).await?;
    caller.require("list", Resource::NODES, None).await?;
    let pools = if cpu {
        cpu_pools(caches)
    } else {
        gpu_pools(caches)
    };
    let mut out = Vec::new();
    for pool in pools {
        let model = if cpu {
            Some("CPU".to_string())
        } else {
            pool.gpu_model.clone()
        };
        let mut breakdown = match &model {
            Some(m) if !cpu => estimate(m, gpu_count, replicas, hours),
            _ => zero(model.as_deref().unwrap_or("Unknown"), hours),
        };
        let mut realtime_pricing = None;
        let mut pricing_error = None;
        if realtime && let Some(t) = &pool.instance_type {
            match pricing
                .price(&state.config().pricing, t, pool.region.as_deref())
                .await
            {
                Ok((price, cached)) => {
                    let per_node = if pool.nodes > 0 {
                        (pool.gpus / pool.nodes).max(1)
                    } else {
                        1
                    };
                    let nodes_per_replica = if cpu {
                        1
                    } else {
                        u32::try_from((i64::from(gpu_count) + per_node - 1) / per_node)
                            .unwrap_or(u32::MAX)
                    };
                    let hourly =
                        price.hourly_price * f64::from(nodes_per_replica) * f64::from(replicas);
                    let live = price.source != "static";
                    breakdown.estimate = Estimate {
                        hourly: round2(hourly),
                        monthly: round2(hourly * f64::from(hours)),
                        currency: price.currency.clone(),
                        source: if live {
                            Source::CloudApi
                        } else {
                            Source::Static
                        },
                        confidence: if live { "high".into() } else { "medium".into() },
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let gpus_per_node = per_node as f64;
                    if !cpu {
                        let per_gpu = price.hourly_price / gpus_per_node;
                        breakdown.per_gpu = PerGpu {
                            hourly: round2(per_gpu),
                            monthly: round2(per_gpu * f64::from(hours)),
                        };
                    }
                    breakdown.notes.push(format!(
                        "{} price of {} ({}): ${:.2}/h per node × {nodes_per_replica} node(s) × {replicas} replica(s)",
                        if live { "Real-time" } else { "Static" },
                        price.instance_type,
                        provider_name(&price),
                        price.hourly_price
                    ));
                    realtime_pricing = Some(RealtimePricing {
                        instance_type: price.instance_type.clone(),
                        hourly_price: round2(hourly),
                        monthly_price: round2(hourly * f64::from(hours)),
                        currency: price.currency.clone(),
                        region: price.region.clone(),
                        source: if !live {
                            "static"
                        } else if cached {
                            "cached"
                        } else {
                            "realtime"
                        }
                        .into(),
                        nodes_per_replica,
                        node_hourly_price: price.hourly_price,
                    });
                }
                Err(e) => pricing_error = Some(e.to_string()),
            }
        }
        // A pool without a GPU model and without a price says nothing useful (the reference
        // emitted `null` for it).
        if model.is_none() && realtime_pricing.is_none() {
            continue;
        }
        if cpu && realtime_pricing.is_none() {
            continue;
        }
        out.push(NodePoolCost {
            pool_name: pool.name,
            gpu_model: model.unwrap_or_else(|| "Unknown".into()),
            available_gpus: if cpu { 0 } else { pool.available },
            cost_breakdown: breakdown,
            realtime_pricing,
            pricing_error,
        });
    }
    Ok(Json(NodePoolsResponse {
        success: true,
        node_pool_costs: out,
        pricing_source: if realtime {
            "realtime-with-fallback"
        } else {
            "static"
        }
        .into(),
        cache_stats: CacheStats {
            size: pricing.cache_size(),
            ttl_ms: u64::try_from(CACHE_TTL.as_millis()).unwrap_or(u64::MAX),
            max_entries: CACHE_MAX,
        },
    }))
}

fn provider_name(p: &InstancePrice) -> &'static str {
    p.provider.upper()
}

fn zero(model: &str, _hours: u32) -> CostBreakdown {
    CostBreakdown {
        estimate: Estimate {
            hourly: 0.0,
            monthly: 0.0,
            currency: "USD".into(),
            source: Source::Static,
            confidence: "low".into(),
        },
        per_gpu: PerGpu {
            hourly: 0.0,
            monthly: 0.0,
        },
        total_gpus: 0,
        gpu_model: model.to_string(),
        normalized_gpu_model: model.to_string(),
        notes: Vec::new(),
    }
}

fn gpu_pools(caches: &crate::cache::Caches) -> Vec<Pool> {
    detailed_capacity(caches)
        .node_pools
        .into_iter()
        .map(|p| Pool {
            name: p.name,
            gpu_model: p.gpu_model,
            gpus: p.gpu_count,
            nodes: p.node_count,
            available: p.available_gpus,
            instance_type: p.instance_type,
            region: p.region,
        })
        .collect()
}

fn cpu_pools(caches: &crate::cache::Caches) -> Vec<Pool> {
    let mut pools: std::collections::BTreeMap<String, Pool> = Default::default();
    let mut nodes = caches.nodes.state();
    nodes.sort_by_key(|n| n.name_any());
    for node in nodes.iter().filter(|n| node_gpus(n) == 0) {
        let name = first_label(node, &POOL_LABELS).unwrap_or_else(|| "default".into());
        let pool = pools.entry(name.clone()).or_insert_with(|| Pool {
            name,
            gpu_model: None,
            gpus: 0,
            nodes: 0,
            available: 0,
            instance_type: None,
            region: None,
        });
        pool.nodes += 1;
        if pool.instance_type.is_none() {
            pool.instance_type = first_label(node, &INSTANCE_TYPE_LABELS);
        }
        if pool.region.is_none() {
            pool.region = first_label(node, &REGION_LABELS);
        }
    }
    pools.into_values().collect()
}

/// `?instanceType&region`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InstancePriceQuery {
    /// Cloud instance type (`Standard_NC24ads_A100_v4`, `p4d.24xlarge`, `a2-highgpu-1g`).
    instance_type: Option<String>,
    /// Region (`eastus`); the first priced region when omitted.
    region: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InstancePriceResponse {
    success: bool,
    price: InstancePrice,
    /// Whether the price came from the one-hour cache.
    cached: bool,
}

/// The on-demand price of an instance type: live for Azure, the dated table for AWS and GCP.
#[utoipa::path(get, path = "/api/costs/instance-price", tag = TAG, params(InstancePriceQuery),
    responses((status = 200, body = InstancePriceResponse),
        (status = 400, description = "Bad input, or no cloud uses this name", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No price for it", body = ErrorBody),
        (status = 502, description = "The pricing API failed", body = ErrorBody),
        (status = 504, description = "The pricing API did not answer in time", body = ErrorBody)))]
pub(crate) async fn instance_price(
    State(state): State<AppState>,
    Extension(pricing): Extension<Arc<Pricing>>,
    ApiQuery(q): ApiQuery<InstancePriceQuery>,
) -> ApiResult<Json<InstancePriceResponse>> {
    let t = q
        .instance_type
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("instanceType is required"))?;
    let (price, cached) = pricing
        .price(&state.config().pricing, &t, q.region.as_deref())
        .await?;
    Ok(Json(InstancePriceResponse {
        success: true,
        price,
        cached,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GpuModelsResponse {
    success: bool,
    models: Vec<GpuModel>,
    note: String,
}

/// The GPU models prices and memory are known for.
#[utoipa::path(get, path = "/api/costs/gpu-models", tag = TAG,
    responses((status = 200, body = GpuModelsResponse), (status = 401, body = ErrorBody)))]
pub(crate) async fn gpu_models() -> Json<GpuModelsResponse> {
    Json(GpuModelsResponse {
        success: true,
        models: GPU_MODELS.to_vec(),
        note: "For actual pricing, use /costs/node-pools or /costs/instance-price for real-time cloud provider pricing".into(),
    })
}

/// `?label`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NormalizeQuery {
    /// A GPU product label (`NVIDIA-A100-SXM4-80GB`).
    label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NormalizeResponse {
    success: bool,
    original_label: String,
    /// The canonical model; the label itself when it names no GPU we know.
    normalized_model: String,
    /// `null` for an unknown GPU (the reference guessed `A10`).
    gpu_info: Option<GpuInfo>,
    /// The cloud of the label when it is an instance type.
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<kubeairunway_core::costs::Cloud>,
}

/// The canonical GPU model of a product label, with its memory and generation.
#[utoipa::path(get, path = "/api/costs/normalize-gpu", tag = TAG, params(NormalizeQuery),
    responses((status = 200, body = NormalizeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn normalize(
    ApiQuery(q): ApiQuery<NormalizeQuery>,
) -> ApiResult<Json<NormalizeResponse>> {
    let label = q
        .label
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("GPU label is required"))?;
    if label.len() > 200 {
        return Err(ApiError::bad_request(
            "label must be at most 200 characters",
        ));
    }
    let model = normalize_gpu(&label);
    Ok(Json(NormalizeResponse {
        success: true,
        normalized_model: model.map_or_else(|| label.clone(), str::to_string),
        gpu_info: model.and_then(gpu_info),
        provider: kubeairunway_core::gpu::gpu_model_from_instance_type(&label)
            .and(detect_cloud(&label)),
        original_label: label,
    }))
}
