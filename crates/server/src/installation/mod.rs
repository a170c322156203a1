//! Installing runtimes with Helm (api.md §8.1–8.2, issue 7): provider operators from their
//! InferenceProviderConfig's `installation`, and the NVIDIA GPU Operator.
//!
//! | File | Job |
//! |---|---|
//! | `args.rs` | the rules for every value that becomes a Helm argument |
//! | `helm.rs` | the Helm service: the real `helm` binary, no shell, private homes, timeouts |
//! | `kubeconfig.rs` | the private kubeconfig that makes Helm act as the caller |
//! | `jobs.rs` | the job model: steps, output, events, one job per target, retention |
//! | `run.rs` | the install, uninstall and CRD-removal sequences |
//! | `launch.rs` | starting a job from a POST and answering it (sync, async, 409) |
//! | `job_api.rs` | `GET /api/jobs`, `/api/jobs/{id}`, `/api/jobs/{id}/events` |
//! | `providers.rs` | `/api/installation/providers/{id}/…` |
//! | `gpu_operator.rs` | `/api/installation/gpu-operator/…` |
//!
//! The state of this module (the jobs, Helm's private directory, small caches) lives in an
//! [`Installer`] attached to these routes only, created with them.

mod args;
mod gpu_operator;
mod helm;
mod job_api;
mod jobs;
mod kubeconfig;
mod launch;
mod providers;
mod run;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Extension, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// OpenAPI tag of these routes.
const TAG: &str = "installation";

/// The `/api/installation/…` Helm routes and `/api/jobs/…`.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    let installer = Arc::new(Installer::default());
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
    helm: tokio::sync::OnceCell<Arc<helm::Helm>>,
    home: Mutex<Option<PathBuf>>,
    jobs: jobs::Jobs,
    gpu_crd: gpu_operator::CrdCache,
}

impl Installer {
    /// The Helm service, created on first use with `HELM_PATH` and a private home directory.
    async fn helm(&self, state: &AppState) -> ApiResult<Arc<helm::Helm>> {
        self.helm
            .get_or_try_init(|| async {
                let home = private_home().map_err(|e| {
                    ApiError::new(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        format!("Could not create a private directory for Helm: {e}"),
                    )
                })?;
                if let Ok(mut slot) = self.home.lock() {
                    *slot = Some(home.clone());
                }
                Ok(Arc::new(helm::Helm::new(
                    state.config().helm_path.clone(),
                    home,
                )))
            })
            .await
            .cloned()
    }
}

impl Drop for Installer {
    fn drop(&mut self) {
        let home = self.home.lock().ok().and_then(|mut h| h.take());
        if let Some(home) = home {
            let _ = std::fs::remove_dir_all(home);
        }
    }
}

/// Prefix of the private directories under the temporary directory.
const HOME_PREFIX: &str = "kubeairunway-helm-";

/// A new `0700` directory for Helm's cache, config and data and the jobs' kubeconfigs. Those
/// left by servers that no longer run (a crash would leave a kubeconfig behind) are removed.
fn private_home() -> std::io::Result<PathBuf> {
    remove_stale_homes();
    let dir = std::env::temp_dir().join(format!(
        "{HOME_PREFIX}{}-{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir)?;
    for sub in ["cache", "config", "data", "kubeconfigs"] {
        builder.create(dir.join(sub))?;
    }
    Ok(dir)
}

/// Removes `kubeairunway-helm-<pid>-…` directories of processes that are gone (Linux: `/proc`).
fn remove_stale_homes() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name
            .strip_prefix(HOME_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            // Directories of other users are not ours to remove (and cannot be).
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether Helm can run, and its version (checked at most every 30 s).
#[utoipa::path(get, path = "/api/installation/helm/status", operation_id = "helm_status", tag = TAG,
    responses(
        (status = 200, body = helm::HelmStatus),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn helm_status(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
) -> ApiResult<Json<helm::HelmStatus>> {
    let helm = installer.helm(&state).await?;
    Ok(Json(helm.status().await))
}
