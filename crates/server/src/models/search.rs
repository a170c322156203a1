//! `GET /api/models/search`: HuggingFace search filtered by what our engines can serve, with a
//! GPU-fit plan per result. Fixed against the reference (docs/contract/api.md §19.11): the Hub is
//! asked with its documented `expand[]` properties (so architectures, pipeline tag, library, gated
//! flag and safetensors counts really arrive), its pages are followed through the `Link` header
//! instead of over-fetching one window, `offset` is bounded, and pages are cached briefly per
//! query.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::fit::{self, PlanTarget};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::hf::hub::HubModel;
use crate::hf::{HfToken, Hub, ModelId};
use crate::state::AppState;
use crate::wire::Engine;
use kubeairunway_core::fit::compat;
use kubeairunway_core::fit::planner::{self, ModelPlan, Weights};

/// Most Hub results scanned for one query (10 pages): bounds the work a query can cause.
const MAX_SCANNED: usize = 1_000;
/// Largest `offset` accepted.
const MAX_OFFSET: u32 = 500;
/// Config files fetched at once while planning a page of results.
const PLAN_FETCHES: usize = 8;

/// Query of the search.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// Text to search for (2–100 characters).
    q: Option<String>,
    /// Results per page (1–50, default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
    /// Results to skip (0–500).
    #[param(minimum = 0, maximum = 500)]
    offset: Option<u32>,
    /// Plan for this GPU type only (default: every GPU type of the cluster).
    gpu_type: Option<String>,
    /// Context length the plans reserve KV cache for (default 8192, capped at the model's).
    context_length: Option<u64>,
    /// Concurrent sequences the plans reserve KV cache for (default 1).
    concurrency: Option<u32>,
}

/// One compatible HuggingFace model (`HfModelSearchResult`).
#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HfModelSearchResult {
    /// `namespace/name`.
    id: String,
    /// Text before the first `/`.
    author: String,
    /// Text after the first `/`.
    name: String,
    /// Downloads.
    downloads: u64,
    /// Likes.
    likes: u64,
    /// Task (`""` when the Hub gives none).
    pipeline_tag: String,
    /// Library (`""` when the Hub gives none).
    library_name: String,
    /// Model classes (from the config, or inferred from the id).
    architectures: Vec<String>,
    /// Needs accepted terms and a token.
    gated: bool,
    /// Parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_count: Option<u64>,
    /// The reference's rough estimate, `"<n>GB"` (kept for existing clients; see `plan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_gpu_memory: Option<String>,
    /// The reference's rough estimate in GB: parameters × 2 bytes × 1.2.
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_gpu_memory_gb: Option<u64>,
    /// Engines that can serve it.
    supported_engines: Vec<Engine>,
    /// Always true here (incompatible models are dropped).
    compatible: bool,
    /// Why it cannot be served (never set in search results).
    #[serde(skip_serializing_if = "Option::is_none")]
    incompatibility_reason: Option<String>,
    /// The GPU-fit plan per GPU type (absent for GGUF models, which run on CPU with llama.cpp,
    /// and when the size is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<ModelPlan>,
}

/// A page of search results.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchResponse {
    /// This page.
    models: Vec<HfModelSearchResult>,
    /// Compatible models found so far (exact when `complete`).
    total: usize,
    /// More results follow this page.
    has_more: bool,
    /// The query as searched.
    query: String,
    /// The Hub's listing was read to its end, so `total` is exact.
    complete: bool,
}

/// A compatible model with what the rules derived from it.
struct Candidate {
    result: HfModelSearchResult,
    safetensors_weights: Option<Weights>,
    gguf: bool,
}

/// Searches HuggingFace for text-generation models our engines can serve.
#[utoipa::path(get, path = "/api/models/search", operation_id = "search_models", tag = "models",
    params(SearchQuery,
        ("X-HF-Token" = Option<String>, Header, description = "HuggingFace token for gated repositories")),
    responses((status = 200, body = SearchResponse),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 502, description = "The Hub is unreachable or answered badly", body = ErrorBody),
        (status = 504, description = "The Hub timed out", body = ErrorBody)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResponse>> {
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let chars = q.chars().count();
    if !(2..=100).contains(&chars) {
        return Err(ApiError::bad_request("q must be 2 to 100 characters"));
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "q must not contain control characters",
        ));
    }
    let limit = query.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 50"));
    }
    let offset = query.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::bad_request(format!(
            "offset must be between 0 and {MAX_OFFSET}; refine the query to see other models"
        )));
    }
    let token = HfToken::from_headers(&headers)?;
    let target = PlanTarget::resolve(
        &state,
        &caller,
        query.gpu_type.as_deref(),
        query.context_length,
        query.concurrency,
    )
    .await?;
    let hub = state.hub()?;

    let (offset, limit) = (offset as usize, limit as usize);
    let wanted = offset + limit + 1;
    let mut found: Vec<Candidate> = Vec::new();
    let mut scanned = 0usize;
    let mut page = hub
        .search_page(&q, hub.config().search_page_size, token.as_ref())
        .await
        .map_err(|e| ApiError::hub("Model search failed", e))?;
    let complete = loop {
        scanned += page.models.len();
        found.extend(page.models.iter().filter_map(candidate));
        let Some(next) = page.next.clone() else {
            break true;
        };
        if found.len() >= wanted || scanned >= MAX_SCANNED || page.models.is_empty() {
            break false;
        }
        page = hub
            .next_page(next, token.as_ref())
            .await
            .map_err(|e| ApiError::hub("Model search failed", e))?;
    };

    let total = found.len();
    let page_items: Vec<Candidate> = found.into_iter().skip(offset).take(limit).collect();
    let returned = page_items.len();
    let target = Arc::new(target);
    let models = futures::stream::iter(page_items)
        .map(|c| with_plan(hub, token.as_ref(), c, &target))
        .buffered(PLAN_FETCHES)
        .collect::<Vec<_>>()
        .await;
    Ok(Json(SearchResponse {
        models,
        total,
        has_more: offset + returned < total,
        query: q,
        complete,
    }))
}

/// The search result of a Hub model, if our engines can serve it (docs/contract/api.md §6.1).
fn candidate(m: &HubModel) -> Option<Candidate> {
    let from_config = m
        .config
        .as_ref()
        .and_then(|c| c.architectures.clone())
        .filter(|a| !a.is_empty());
    let architectures = from_config.unwrap_or_else(|| compat::infer_architectures(&m.id));
    let gguf = compat::is_gguf(&m.id, m.library_name.as_deref());
    let engines = compat::supported_engines(&architectures, gguf);
    if compat::incompatibility(
        m.pipeline_tag.as_deref(),
        m.library_name.as_deref(),
        &architectures,
        &engines,
        gguf,
    )
    .is_some()
    {
        return None;
    }
    let parameter_count = compat::parameter_count(m.safetensors.as_ref(), &m.id);
    let estimate = parameter_count.map(compat::legacy_gpu_memory_gb);
    let (author, name) = compat::split_id(&m.id);
    Some(Candidate {
        safetensors_weights: m
            .safetensors
            .as_ref()
            .and_then(planner::weights_from_safetensors),
        gguf,
        result: HfModelSearchResult {
            id: m.id.clone(),
            author,
            name,
            downloads: m.downloads.unwrap_or(0),
            likes: m.likes.unwrap_or(0),
            pipeline_tag: m.pipeline_tag.clone().unwrap_or_default(),
            library_name: m.library_name.clone().unwrap_or_default(),
            architectures,
            gated: compat::is_gated(m.gated.as_ref()),
            parameter_count,
            estimated_gpu_memory: estimate.map(|gb| format!("{gb}GB")),
            estimated_gpu_memory_gb: estimate,
            supported_engines: engines.into_iter().map(Engine::from).collect(),
            compatible: true,
            incompatibility_reason: None,
            plan: None,
        },
    })
}

/// Adds the GPU-fit plan: exact when `config.json` can be read, weights-only otherwise.
async fn with_plan(
    hub: &Hub,
    token: Option<&HfToken>,
    c: Candidate,
    target: &PlanTarget,
) -> HfModelSearchResult {
    let mut result = c.result;
    if c.gguf {
        return result;
    }
    let Ok(id) = ModelId::parse(&result.id) else {
        return result;
    };
    let shape = fit::shape(hub, &id, token).await;
    let weights = c.safetensors_weights.or_else(|| {
        let dtype = shape
            .as_ref()
            .ok()
            .and_then(|(_, config)| fit::config_dtype(config));
        result
            .parameter_count
            .map(|n| planner::weights_from_parameter_count(n, dtype))
    });
    if let Some(weights) = weights {
        let shape = shape.as_ref().map(|(s, _)| s).map_err(String::as_str);
        result.plan = Some(fit::plan_with(&result.id, &weights, shape, target));
    }
    result
}

#[cfg(test)]
mod props;
