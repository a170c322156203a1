//! Models: the curated catalog, HuggingFace search, GGUF file listing and the GPU-fit planner
//! (docs/contract/api.md §6, §16.1). Model ids contain a `/`, so `/api/models/{id…}` is one
//! wildcard route that dispatches on its suffix (`/gguf-files`, `/plan`); `/api/models/search` is a
//! fixed route and wins over it.

pub(crate) mod catalog;
mod fit;
mod search;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::catalog::{Catalog, Model};
use self::fit::PlanTarget;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::hf::hub::Sibling;
use crate::hf::{HfToken, HubError, ModelId};
use crate::state::AppState;
use kubeairunway_core::fit::compat;
use kubeairunway_core::fit::planner::{self, ModelPlan};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(WildcardPaths::openapi())
        .routes(routes!(list))
        .routes(routes!(search::search))
        .route("/api/models/{*rest}", axum::routing::get(by_id))
}

/// The routes served by the wildcard, described one by one.
#[derive(OpenApi)]
#[openapi(paths(get_model, gguf_files, plan))]
struct WildcardPaths;

/// The curated catalog.
#[utoipa::path(get, path = "/api/models", operation_id = "list_models", tag = "models",
    responses((status = 200, body = Catalog), (status = 401, body = ErrorBody)))]
pub(crate) async fn list() -> Json<&'static Catalog> {
    Json(catalog::catalog())
}

/// Query of the plan.
#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PlanQuery {
    /// Plan for this GPU type only: a product name from the cluster or a well-known GPU
    /// (`H100`, `A100-80GB`, `L4`, …). Default: every GPU type of the cluster.
    gpu_type: Option<String>,
    /// Context length to reserve KV cache for (default 8192, capped at the model's).
    context_length: Option<u64>,
    /// Concurrent sequences to reserve KV cache for (default 1).
    concurrency: Option<u32>,
}

async fn by_id(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(rest): Path<String>,
    query: Result<ApiQuery<PlanQuery>, ApiError>,
) -> Response {
    let result = if let Some(id) = rest.strip_suffix("/gguf-files") {
        gguf_files(State(state), headers, Path(id.to_string()))
            .await
            .map(IntoResponse::into_response)
    } else if let Some(id) = rest.strip_suffix("/plan") {
        match query {
            Ok(q) => plan(State(state), caller, headers, Path(id.to_string()), q)
                .await
                .map(IntoResponse::into_response),
            Err(e) => Err(e),
        }
    } else {
        get_model(Path(rest)).await.map(IntoResponse::into_response)
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// One curated model by id (`Qwen/Qwen3-0.6B`, raw or with `%2F`).
#[utoipa::path(get, path = "/api/models/{id}", operation_id = "get_model", tag = "models",
    params(("id" = String, Path, description = "Catalog id; may contain '/'")),
    responses((status = 200, body = Model), (status = 404, body = ErrorBody)))]
pub(crate) async fn get_model(Path(id): Path<String>) -> ApiResult<Json<&'static Model>> {
    catalog::find(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Model not found"))
}

/// The GGUF files of a repository.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GgufFiles {
    /// File paths ending in `.gguf`, sorted.
    files: Vec<String>,
    /// Size in bytes of each file the Hub reports a size for.
    sizes: BTreeMap<String, u64>,
}

/// The `.gguf` files of a HuggingFace repository, with sizes.
#[utoipa::path(get, path = "/api/models/{id}/gguf-files", operation_id = "get_gguf_files", tag = "models",
    params(("id" = String, Path, description = "HuggingFace id; may contain '/'"),
        ("X-HF-Token" = Option<String>, Header, description = "HuggingFace token for gated repositories")),
    responses((status = 200, body = GgufFiles),
        (status = 400, description = "Invalid id", body = ErrorBody),
        (status = 401, description = "Gated or private repository", body = ErrorBody),
        (status = 403, description = "The token has no access", body = ErrorBody),
        (status = 404, description = "No such repository", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub(crate) async fn gguf_files(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<GgufFiles>> {
    let id = ModelId::parse(&id)?;
    let token = HfToken::from_headers(&headers)?;
    let info = state
        .hub()?
        .model_info(&id, true, token.as_ref())
        .await
        .map_err(|e| ApiError::hub("Failed to fetch model info", e))?;
    Ok(Json(GgufFiles::of(info.siblings)))
}

impl GgufFiles {
    /// The `.gguf` files (any case) among a repository's files, sorted, with the LFS size when
    /// the Hub gives one, else the plain size.
    fn of(siblings: Vec<Sibling>) -> Self {
        let mut files = Vec::new();
        let mut sizes = BTreeMap::new();
        for s in siblings {
            if !s.rfilename.to_ascii_lowercase().ends_with(".gguf") {
                continue;
            }
            if let Some(size) = s.lfs.and_then(|l| l.size).or(s.size) {
                sizes.insert(s.rfilename.clone(), size);
            }
            files.push(s.rfilename);
        }
        files.sort();
        Self { files, sizes }
    }
}

/// How many GPUs of each type a model needs at a context length and concurrency, and the
/// longest context that fits on them: weights by dtype from the safetensors metadata, KV cache
/// per token from `config.json`, plus runtime overhead.
#[utoipa::path(get, path = "/api/models/{id}/plan", operation_id = "plan_model", tag = "models",
    params(("id" = String, Path, description = "HuggingFace id; may contain '/'"), PlanQuery,
        ("X-HF-Token" = Option<String>, Header, description = "HuggingFace token for gated repositories")),
    responses((status = 200, body = ModelPlan),
        (status = 400, description = "Invalid id or parameters", body = ErrorBody),
        (status = 401, description = "Gated or private repository", body = ErrorBody),
        (status = 404, description = "No such repository", body = ErrorBody),
        (status = 422, description = "The model's size is unknown", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub(crate) async fn plan(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PlanQuery>,
) -> ApiResult<Json<ModelPlan>> {
    let id = ModelId::parse(&id)?;
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
    let curated = catalog::find(id.as_str());
    let info = match hub.model_info(&id, false, token.as_ref()).await {
        Ok(info) => Some(info),
        // Catalog presets (`kaito/…`) are not Hub repositories: plan them from their size.
        Err(HubError::NotFound(_)) if curated.is_some() => None,
        Err(e) => return Err(ApiError::hub("Failed to fetch model info", e)),
    };
    let shape = match &info {
        Some(_) => fit::shape(hub, &id, token.as_ref()).await,
        None => Err("the model is not on the HuggingFace Hub; the plan counts weights from its catalog size".into()),
    };
    let torch_dtype = shape.as_ref().ok().and_then(|(_, c)| fit::config_dtype(c));
    let weights = info
        .as_ref()
        .and_then(|i| i.safetensors.as_ref())
        .and_then(planner::weights_from_safetensors)
        .or_else(|| {
            let count = info
                .as_ref()
                .and_then(|i| compat::parameter_count(i.safetensors.as_ref(), &i.id))
                .or_else(|| curated.and_then(|m| catalog_parameters(&m.size)))
                .or_else(|| compat::parameter_count(None, id.as_str()))?;
            Some(planner::weights_from_parameter_count(count, torch_dtype))
        })
        .ok_or_else(|| fit::unknown_size(id.as_str()))?;
    let shape = shape.as_ref().map(|(s, _)| s).map_err(String::as_str);
    Ok(Json(fit::plan_with(id.as_str(), &weights, shape, &target)))
}

/// Parameters from a catalog size such as `8B`, `0.6B` or `8x7B`.
fn catalog_parameters(size: &str) -> Option<u64> {
    let billions: f64 = size
        .strip_suffix('B')?
        .split('x')
        .map(|p| p.parse::<f64>().ok())
        .try_fold(1.0, |acc, p| p.map(|p| acc * p))?;
    // Sizes are small positive decimals; the product is far below u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = (billions * 1e9).round() as u64;
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_sizes_become_parameter_counts() {
        assert_eq!(catalog_parameters("0.6B"), Some(600_000_000));
        assert_eq!(catalog_parameters("8x7B"), Some(56_000_000_000));
        assert_eq!(catalog_parameters("70B"), Some(70_000_000_000));
        assert_eq!(catalog_parameters("big"), None);
        assert_eq!(catalog_parameters("0B"), None);
    }
}
