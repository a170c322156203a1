//! `/api/aikit/*` (docs/contract/api.md §13): the premade AIKit images, the build
//! infrastructure (an in-cluster registry and a BuildKit builder, created as the caller), and
//! image builds of HuggingFace GGUF files run by the real `buildctl` against buildkitd as jobs
//! whose output streams (`/api/jobs/{id}/events`, the same model as Helm installs).
//!
//! | File | Job |
//! |---|---|
//! | `infra.rs` | `GET /api/aikit/infrastructure/status`, `POST …/setup` |
//! | `build.rs` | `POST /api/aikit/build`, `POST /api/aikit/build/preview` |
//! | `buildctl.rs` | running `buildctl` (no shell, timeout, line by line) |
//!
//! The rules (premade models, allow-lists, objects, command lines, progress) are
//! `kubeairunway_core::aikit`.

mod build;
mod buildctl;
mod infra;

use axum::Json;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use kubeairunway_core::aikit::{PREMADE_MODELS, PremadeModel, premade_model};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Resource;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::installation::Jobs;
use crate::state::AppState;

/// OpenAPI tag of these routes.
const TAG: &str = "aikit";

/// Deployments (`apps/v1`): the registry and the builder are Deployments.
const DEPLOYMENTS: Resource = Resource {
    group: "apps",
    resource: "deployments",
};

/// The `/api/aikit` routes; builds are jobs of `jobs`.
pub(crate) fn routes(jobs: Jobs) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models))
        .routes(routes!(get_model))
        .routes(routes!(infra::status))
        .routes(routes!(infra::setup))
        .routes(routes!(build::preview))
        .routes(routes!(build::build))
        .layer(axum::extract::Extension(jobs))
}

/// `GET /api/aikit/models`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PremadeModels {
    /// The premade images.
    pub models: Vec<PremadeModel>,
    /// How many (10).
    pub total: usize,
}

/// The premade AIKit images (CPU, llama.cpp), each with the image reference a deployment runs.
#[utoipa::path(get, path = "/api/aikit/models", operation_id = "aikit_models", tag = TAG,
    responses((status = 200, body = PremadeModels), (status = 401, body = ErrorBody)))]
pub(crate) async fn list_models() -> Json<PremadeModels> {
    Json(PremadeModels {
        models: PREMADE_MODELS.to_vec(),
        total: PREMADE_MODELS.len(),
    })
}

/// The `{id}` of `/api/aikit/models/{id}` (ids contain `:`, raw or `%3A`).
pub(crate) struct ModelId(String);

impl<S: Send + Sync> FromRequestParts<S> for ModelId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "Invalid model id in the path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// One premade image.
#[utoipa::path(get, path = "/api/aikit/models/{id}", operation_id = "aikit_model", tag = TAG,
    params(("id" = String, Path, description = "Premade model id, e.g. `llama3.2:1b`")),
    responses(
        (status = 200, body = PremadeModel),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No premade model of that id", body = ErrorBody)))]
pub(crate) async fn get_model(ModelId(id): ModelId) -> ApiResult<Json<PremadeModel>> {
    premade_model(&id).cloned().map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "Premade model not found: {}",
            crate::extract::truncate(&id)
        ))
    })
}
