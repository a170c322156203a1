//! Installing runtimes with Helm (docs/contract/api.md §8.1–8.2, issue 7): provider operators from
//! their InferenceProviderConfig's `installation`, and the NVIDIA GPU Operator. This is the HTTP
//! layer; the jobs, the Helm runner and the install sequences are the `kubeairunway-install` crate,
//! whose errors are mapped to answers here.
//!
//! | File | Job |
//! |---|---|
//! | `jobs.rs` | what a job of these routes carries (kind, required access) and its JSON shapes |
//! | `launch.rs` | starting a job from a POST and answering it (sync, async, 409) |
//! | `job_api.rs` | `GET /api/jobs`, `/api/jobs/{id}`, `/api/jobs/{id}/events` |
//! | `providers.rs` | `/api/installation/providers/{id}/…` |
//! | `gpu_operator.rs` | `/api/installation/gpu-operator/…` |
//!
//! The state of this module (the jobs, Helm with its private directory, small caches) lives in
//! an [`Installer`] attached to these routes only, created with them.

mod gpu_operator;
mod job_api;
mod jobs;
pub(crate) use jobs::{Access, Job, JobKind, JobMeta, Jobs};
mod launch;
pub(crate) use launch::{JobAccepted, RunQuery, answer, conflict};
mod providers;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use kubeairunway_install::helm::{self, Helm};
use kubeairunway_install::home::PrivateHome;
use kubeairunway_install::provider::PlanError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// OpenAPI tag of these routes.
const TAG: &str = "installation";

/// The `/api/installation/…` Helm routes and `/api/jobs/…`, over `jobs` (shared with the
/// image builds of `/api/aikit`, which `/api/jobs` shows too).
pub(crate) fn routes(jobs: Jobs) -> OpenApiRouter<AppState> {
    let installer = Arc::new(Installer {
        jobs,
        ..Installer::default()
    });
    OpenApiRouter::new()
        .routes(routes!(helm_status))
        .routes(routes!(providers::status))
        .routes(routes!(providers::commands))
        .routes(routes!(providers::install))
        .routes(routes!(providers::uninstall))
        .routes(routes!(providers::uninstall_crds))
        .routes(routes!(gpu_operator::status))
        .routes(routes!(gpu_operator::install))
        .routes(routes!(job_api::list))
        .routes(routes!(job_api::get))
        .routes(routes!(job_api::events))
        .layer(Extension(installer))
}

/// State of the installation routes of one server.
#[derive(Default)]
pub(crate) struct Installer {
    helm: tokio::sync::OnceCell<Arc<Helm>>,
    jobs: jobs::Jobs,
    gpu_crd: gpu_operator::CrdCache,
}

impl Installer {
    /// The Helm runner, created on first use with `HELM_PATH` and a private home directory
    /// (removed when the server and its last job are done with it).
    async fn helm(&self, state: &AppState) -> ApiResult<Arc<Helm>> {
        self.helm
            .get_or_try_init(|| async {
                let home = PrivateHome::create().map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!(
                            "Could not create a private directory for Helm: {}",
                            e.source
                        ),
                    )
                })?;
                Ok(Arc::new(Helm::new(state.config().helm_path.clone(), home)))
            })
            .await
            .cloned()
    }
}

/// A provider installation Helm cannot be given, or bad values: the message names the value.
impl From<PlanError> for ApiError {
    fn from(err: PlanError) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

/// `GET /api/installation/helm/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HelmStatus {
    /// Whether `helm version` ran.
    pub available: bool,
    /// `helm version --short` (e.g. `v3.16.2+g13654a5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why Helm cannot be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<helm::HelmStatus> for HelmStatus {
    fn from(status: helm::HelmStatus) -> Self {
        Self {
            available: status.available,
            version: status.version,
            error: status.error,
        }
    }
}

/// Whether Helm can run, and its version (checked at most every 30 s).
#[utoipa::path(get, path = "/api/installation/helm/status", operation_id = "helm_status", tag = TAG,
    responses(
        (status = 200, body = HelmStatus),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn helm_status(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
) -> ApiResult<Json<HelmStatus>> {
    let helm = installer.helm(&state).await?;
    Ok(Json(helm.status().await.into()))
}
