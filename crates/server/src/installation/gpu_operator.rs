//! `/api/installation/gpu-operator/…` (docs/contract/api.md §8.1): whether the NVIDIA GPU Operator
//! runs and GPUs are advertised, and installing it with Helm.
//!
//! Nodes and pods come from the watch caches (no list per request); whether the `ClusterPolicy`
//! CRD exists is a discovery call, remembered for [`CRD_TTL`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kube::ResourceExt;
use kubeairunway_install::args;
use kubeairunway_install::jobs::Finish;
use kubeairunway_install::run::{Chart, Plan, Repo};
use serde::Serialize;
use utoipa::ToSchema;

use super::jobs::{Access, JobKind};
use super::launch::{self, Launch, RunQuery};
use super::providers::{ActiveJob, InstallBody, NAMESPACES, SECRETS, parse_body};
use super::{Installer, TAG};
use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use kubeairunway_core::gpu::GPU_RESOURCE;

/// The operator's namespace.
const NAMESPACE: &str = "gpu-operator";
/// The Helm repository.
const REPO_NAME: &str = "nvidia";
const REPO_URL: &str = "https://helm.ngc.nvidia.com/nvidia";
/// The release and chart.
const RELEASE: &str = "gpu-operator";
const CHART: &str = "nvidia/gpu-operator";
/// How long the answer of the CRD discovery is reused.
const CRD_TTL: Duration = Duration::from_secs(10);
/// Job target of GPU Operator installs.
const TARGET: &str = "gpu-operator";

/// `GET /api/installation/gpu-operator/status`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GpuOperatorStatus {
    /// CRD found and the operator running.
    pub installed: bool,
    /// `clusterpolicies.nvidia.com` exists.
    pub crd_found: bool,
    /// A pod of the operator runs in `gpu-operator`.
    pub operator_running: bool,
    /// Some node advertises `nvidia.com/gpu`.
    pub gpus_available: bool,
    /// Σ allocatable `nvidia.com/gpu`.
    #[serde(rename = "totalGPUs")]
    pub total_gpus: i64,
    /// Nodes with GPUs.
    pub gpu_nodes: Vec<String>,
    /// Summary in words.
    pub message: String,
    /// The commands that install it by hand.
    pub helm_commands: Vec<String>,
    /// The install job running now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_job: Option<ActiveJob>,
}

/// The last answer of the CRD discovery.
#[derive(Default)]
pub(crate) struct CrdCache(Mutex<Option<(Instant, bool)>>);

impl CrdCache {
    fn get(&self) -> Option<bool> {
        let slot = self.0.lock().ok()?;
        slot.filter(|(at, _)| at.elapsed() < CRD_TTL)
            .map(|(_, found)| found)
    }

    fn set(&self, found: bool) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((Instant::now(), found));
        }
    }
}

fn manual_commands() -> Vec<String> {
    vec![
        format!("helm repo add {REPO_NAME} {REPO_URL}"),
        "helm repo update".into(),
        format!("helm install {RELEASE} {CHART} --namespace {NAMESPACE} --create-namespace"),
    ]
}

/// Whether the `ClusterPolicy` resource is served (discovery is readable by every
/// authenticated user).
async fn crd_found(installer: &Installer, caller: &Caller, fresh: bool) -> ApiResult<bool> {
    if !fresh && let Some(found) = installer.gpu_crd.get() {
        return Ok(found);
    }
    let found = match caller
        .client()
        .list_api_group_resources("nvidia.com/v1")
        .await
    {
        Ok(list) => list.resources.iter().any(|r| r.name == "clusterpolicies"),
        Err(kube::Error::Api(s)) if s.code == 404 => false,
        Err(e) => return Err(ApiError::kube("Failed to look for the GPU Operator CRD", e)),
    };
    installer.gpu_crd.set(found);
    Ok(found)
}

/// Computes the status from the caches.
async fn compute(
    state: &AppState,
    installer: &Installer,
    caller: &Caller,
    fresh: bool,
) -> ApiResult<GpuOperatorStatus> {
    let caches = state.caches()?;
    caches.ready(Kind::Nodes).await?;
    caches.ready(Kind::Pods).await?;
    caller.require("list", Resource::NODES, None).await?;
    caller
        .require("list", Resource::PODS, Some(NAMESPACE))
        .await?;
    let crd_found = crd_found(installer, caller, fresh).await?;
    let mut total = 0i64;
    let mut gpu_nodes = Vec::new();
    for node in caches.nodes.state() {
        let gpus = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get(GPU_RESOURCE))
            .and_then(|q| q.0.parse::<i64>().ok())
            .unwrap_or(0);
        if gpus > 0 {
            total += gpus;
            gpu_nodes.push(node.name_any());
        }
    }
    gpu_nodes.sort();
    let pods: Vec<_> = caches
        .pods
        .state()
        .into_iter()
        .filter(|p| p.namespace().as_deref() == Some(NAMESPACE))
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .collect();
    let labelled = pods
        .iter()
        .any(|p| p.labels().get("app").map(String::as_str) == Some("gpu-operator"));
    let operator_running = labelled || !pods.is_empty();
    let installed = crd_found && operator_running;
    let message = if total > 0 {
        format!(
            "GPUs enabled: {total} GPU(s) on {} node(s)",
            gpu_nodes.len()
        )
    } else if installed {
        "GPU Operator installed but no GPUs detected on nodes".to_string()
    } else if crd_found {
        "GPU Operator CRD found but operator is not running".to_string()
    } else {
        "GPU Operator not installed".to_string()
    };
    let active_job = installer.jobs.active(TARGET).map(|j| ActiveJob {
        job_id: j.id.clone(),
        kind: j.meta.kind,
        state: j.state(),
    });
    Ok(GpuOperatorStatus {
        installed,
        crd_found,
        operator_running,
        gpus_available: total > 0,
        total_gpus: total,
        gpu_nodes,
        message,
        helm_commands: manual_commands(),
        active_job,
    })
}

/// Whether the NVIDIA GPU Operator is installed and GPUs are advertised.
#[utoipa::path(get, path = "/api/installation/gpu-operator/status", operation_id = "gpu_operator_status", tag = TAG,
    responses(
        (status = 200, body = GpuOperatorStatus),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
) -> ApiResult<Json<GpuOperatorStatus>> {
    Ok(Json(compute(&state, &installer, &caller, false).await?))
}

/// `200` when the operator is already installed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlreadyInstalled {
    /// `true`.
    pub success: bool,
    /// `NVIDIA GPU Operator is already installed`.
    pub message: String,
    /// `true`.
    pub already_installed: bool,
    /// The status.
    pub status: GpuOperatorStatus,
}

/// Installs the NVIDIA GPU Operator (`nvidia/gpu-operator` into `gpu-operator`, created if
/// missing). Synchronous by default: `200 {success, message, status, results, jobId}` or `500`
/// naming the failing step; `?async=true` answers `202 {jobId, …}`. Values may be given as
/// `{"values": {"gpu-operator": {"driver.enabled": false}}}`.
#[utoipa::path(post, path = "/api/installation/gpu-operator/install", operation_id = "install_gpu_operator", tag = TAG,
    params(RunQuery),
    request_body(content = Option<InstallBody>, description = "Optional values for the gpu-operator release"),
    responses(
        (status = 200, description = "Finished (`success` says whether every step succeeded; with `status` on success), or already installed: `{success, message, alreadyInstalled: true, status}`", body = launch::JobOutcome),
        (status = 202, description = "Accepted (`?async=true` or `Prefer: respond-async`)", body = launch::JobAccepted),
        (status = 400, description = "Helm missing or bad values", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "An install is already running", body = launch::ConflictBody)))]
pub(crate) async fn install(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RunQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    let api = |e: ApiError| e.into_response();
    let run_async = query.is_async(&headers).map_err(api)?;
    let timeout = query.timeout().map_err(api)?;
    let body = parse_body(&body).map_err(api)?;
    let token = launch::caller_token(&caller, &headers).map_err(api)?;
    let plan = plan(&body.values).map_err(api)?;
    let helm = installer.helm(&state).await.map_err(api)?;
    let helm_status = helm.status().await;
    if !helm_status.available {
        return Err(api(launch::helm_unavailable(&helm_status)));
    }
    let current = compute(&state, &installer, &caller, true)
        .await
        .map_err(api)?;
    if current.installed {
        return Ok((
            StatusCode::OK,
            Json(AlreadyInstalled {
                success: true,
                message: "NVIDIA GPU Operator is already installed".into(),
                already_installed: true,
                status: current,
            }),
        )
            .into_response());
    }
    let launch = Launch {
        kind: JobKind::InstallGpuOperator,
        target: TARGET.into(),
        access: vec![
            Access {
                verb: "create",
                resource: SECRETS,
                namespace: Some(NAMESPACE.into()),
            },
            Access {
                verb: "create",
                resource: NAMESPACES,
                namespace: None,
            },
        ],
        plan: plan.install_steps(timeout),
        timeout,
    };
    let job_state = state.clone();
    let job_installer = installer.clone();
    let job_caller = caller.clone();
    let job = launch::start(
        &state,
        &installer,
        &caller,
        token,
        launch,
        move |run| async move {
            match run.install(&plan).await {
                Ok(()) => {
                    let mut finish =
                        Finish::succeeded("NVIDIA GPU Operator installed successfully");
                    match compute(&job_state, &job_installer, &job_caller, true).await {
                        Ok(status) => {
                            finish.details.insert(
                                "status".into(),
                                serde_json::to_value(status).unwrap_or_default(),
                            );
                        }
                        Err(e) => tracing::warn!(error = %e, "GPU Operator status after install"),
                    }
                    finish
                }
                Err(f) => Finish::failed_at("Installation", &f.step, &f.error),
            }
        },
    )
    .await?;
    Ok(launch::answer(&job, run_async))
}

/// The fixed install plan with the caller's values.
fn plan(values: &BTreeMap<String, BTreeMap<String, serde_json::Value>>) -> ApiResult<Plan> {
    if let Some(other) = values.keys().find(|k| k.as_str() != RELEASE) {
        return Err(ApiError::bad_request(format!(
            "Invalid values: the only release is \"{RELEASE}\", not \"{}\"",
            crate::extract::truncate(other)
        )));
    }
    let mut set_json = Vec::new();
    for (key, value) in values.get(RELEASE).into_iter().flatten() {
        set_json.push(
            args::set_json(key, value)
                .map_err(|e| ApiError::bad_request(format!("Invalid values: {e}")))?,
        );
    }
    Ok(Plan {
        repos: vec![Repo {
            name: REPO_NAME.into(),
            url: REPO_URL.into(),
        }],
        charts: vec![Chart {
            release: RELEASE.into(),
            chart: CHART.into(),
            version: None,
            namespace: NAMESPACE.into(),
            create_namespace: true,
            set_json,
        }],
    })
}
