//! Starting a job for a POST endpoint and answering it: synchronously (the reference's shape,
//! with every step's output) or, with `?async=true` or `Prefer: respond-async`, at once with
//! `202 {jobId, …}`.
//!
//! Jobs run on their own task: a client that disconnects does not kill Helm half-way (which would
//! leave a release pending). The synchronous answer is what the reference's clients wait for,
//! however long Helm takes: `200` and its headers go out at once, a space follows every
//! [`KEEPALIVE`] (JSON allows whitespace before the value, and the bytes keep proxies and
//! clients from giving up on an idle connection), and the body `{success, message, results, …}`
//! ends the answer when the job finishes. The request timeout covers only the time to the
//! headers, so it never cuts such an answer; a failed step is `200 {success: false, …}` as in
//! the reference, because the status was sent before the outcome was known.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubeairunway_install::helm::HelmStatus;
use kubeairunway_install::jobs::{Busy, Finish, JobState, NewJob, PlannedStep, StepResult};
use kubeairunway_install::run::Run;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Installer;
use super::jobs::{Access, Job, JobKind, JobMeta, JobView};
use crate::activity::{self, Action, Change, Target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How often a synchronous answer sends a space while its job runs.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(10);
/// Default timeout of each install, upgrade, rollback or uninstall command.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest `timeoutSeconds`.
const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// Query of the POST endpoints that run Helm.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunQuery {
    /// `true` (or the header `Prefer: respond-async`) answers `202 {jobId, …}` at once; follow
    /// the job at `GET /api/jobs/{id}` or `GET /api/jobs/{id}/events`. Otherwise the answer is
    /// `200` when the job has finished, however long it takes (whitespace keeps the connection
    /// alive meanwhile).
    #[serde(rename = "async")]
    #[param(rename = "async", value_type = Option<bool>)]
    pub run_async: Option<String>,
    /// Timeout of each Helm install, upgrade, rollback or uninstall command, 1–3600 seconds
    /// (default 300); repository commands are limited to 120 s. A command that outlives it is
    /// killed and its release cleaned up.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3600)]
    pub timeout_seconds: Option<String>,
}

impl RunQuery {
    /// Whether to answer at once: `?async=true`, or `Prefer: respond-async` (RFC 7240) without
    /// `?async=false`.
    pub(crate) fn is_async(&self, headers: &HeaderMap) -> ApiResult<bool> {
        let prefers = headers.get_all("prefer").iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',').any(|preference| {
                    preference
                        .split(';')
                        .next()
                        .is_some_and(|p| p.trim().eq_ignore_ascii_case("respond-async"))
                })
            })
        });
        match self.run_async.as_deref() {
            None | Some("") => Ok(prefers),
            Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid async \"{}\": must be true or false",
                crate::extract::truncate(other)
            ))),
        }
    }

    /// The per-command timeout.
    pub(crate) fn timeout(&self) -> ApiResult<Duration> {
        let Some(raw) = self.timeout_seconds.as_deref().filter(|v| !v.is_empty()) else {
            return Ok(DEFAULT_TIMEOUT);
        };
        match raw.parse::<u64>() {
            Ok(n) if (1..=MAX_TIMEOUT_SECONDS).contains(&n) => Ok(Duration::from_secs(n)),
            _ => Err(ApiError::bad_request(format!(
                "Invalid timeoutSeconds \"{}\": must be an integer from 1 to {MAX_TIMEOUT_SECONDS}",
                crate::extract::truncate(raw)
            ))),
        }
    }
}

/// `202` answer: the job was accepted (or is still running).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobAccepted {
    /// Job id.
    pub job_id: String,
    /// What it does.
    pub kind: JobKind,
    /// The provider id or `gpu-operator`.
    pub target: String,
    /// `queued` or `running`.
    pub state: JobState,
    /// What to do next.
    pub message: String,
    /// `GET` this for the job's state and steps.
    pub status_url: String,
    /// `GET` this for the job's Server-Sent Events.
    pub events_url: String,
}

/// The synchronous answer of a finished job, `200` whether it succeeded or not (the reference's
/// shape).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobOutcome {
    /// Every step succeeded.
    pub success: bool,
    /// Outcome in words.
    pub message: String,
    /// The first step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Every step that ran, with its output: `{step, success, output, error}`.
    pub results: Vec<StepResult>,
    /// The job, for `GET /api/jobs/{id}`.
    pub job_id: String,
    /// Endpoint-specific fields (the GPU Operator's `status`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// `409`: another job of the same target is running.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConflictBody {
    /// The error, naming the running job.
    pub error: ConflictDetail,
}

/// The error of a `409`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConflictDetail {
    /// What is running and where to follow it.
    pub message: String,
    /// `409`.
    pub status_code: u16,
    /// The running job.
    pub job_id: String,
}

/// What a POST endpoint wants to run.
pub(crate) struct Launch {
    /// What the job does.
    pub kind: JobKind,
    /// Target of the one-job-per-target rule.
    pub target: String,
    /// Permissions required (checked before anything runs; also required to read the job).
    pub access: Vec<Access>,
    /// Steps expected to run.
    pub plan: Vec<PlannedStep>,
    /// Timeout of each long command.
    pub timeout: Duration,
}

/// Checks the caller's permissions, registers the job (409 when its target is busy) and runs
/// `work` on its own task with a private kubeconfig for the caller. The caller's token is read
/// from the request by the handler and only ever written into that file.
pub(crate) async fn start<F, Fut>(
    state: &AppState,
    installer: &Arc<Installer>,
    caller: &Caller,
    token: Option<String>,
    launch: Launch,
    work: F,
) -> Result<Arc<Job>, Response>
where
    F: FnOnce(Run<JobMeta>) -> Fut + Send + 'static,
    Fut: Future<Output = Finish> + Send + 'static,
{
    let change = change_of(launch.kind, &launch.target);
    for access in &launch.access {
        let allowed = caller
            .require(access.verb, access.resource, access.namespace.as_deref())
            .await;
        if allowed.is_err() {
            activity::record(state, caller, change.clone(), &allowed).await;
        }
        allowed.map_err(IntoResponse::into_response)?;
    }
    let helm = installer
        .helm(state)
        .await
        .map_err(IntoResponse::into_response)?;
    let status = helm.status().await;
    if !status.available {
        return Err(helm_unavailable(&status).into_response());
    }
    let kube = state.kube().map_err(IntoResponse::into_response)?;
    let job = installer
        .jobs
        .create(NewJob {
            target: launch.target.clone(),
            user: caller.identity().map(|i| i.username.clone()),
            meta: JobMeta {
                kind: launch.kind,
                access: launch.access,
            },
        })
        .map_err(|busy| conflict(&busy))?;
    job.plan(launch.plan);
    let run = match Run::prepare(
        helm,
        job.clone(),
        &kube.config,
        token.as_deref(),
        launch.timeout,
    ) {
        Ok(run) => run,
        Err(e) => {
            let message = format!(
                "Could not write the private kubeconfig for Helm: {}",
                e.source
            );
            installer.jobs.finish(&job, Finish::failed(message.clone()));
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message).into_response());
        }
    };
    let work = work(run);
    installer.jobs.spawn(
        job.clone(),
        activity::record_job(state, caller, change, work),
    );
    Ok(job)
}

/// The activity a job of `kind` for `target` is recorded as: on the provider's config, or on
/// the namespace the GPU Operator goes to.
fn change_of(kind: JobKind, target: &str) -> Change {
    let provider = |action| {
        Change::new(
            action,
            Target::Provider {
                name: target.to_string(),
            },
        )
    };
    match kind {
        JobKind::InstallProvider => provider(Action::Install),
        JobKind::UninstallProvider => provider(Action::Uninstall),
        JobKind::UninstallProviderCrds => provider(Action::UninstallCrds),
        JobKind::InstallGpuOperator => Change::new(
            Action::Install,
            // The GPU Operator's job target is its namespace.
            Target::Namespace {
                name: target.to_string(),
            },
        )
        .what("the NVIDIA GPU Operator"),
        JobKind::BuildImage => Change::new(
            Action::Build,
            Target::Workload {
                namespace: kubeairunway_core::aikit::NAMESPACE.into(),
                name: kubeairunway_core::aikit::BUILDER_NAME.into(),
            },
        )
        .what(format!("image {target}")),
    }
}

use crate::limits::Uncompressed;

/// The answer to a POST that started `job`: at once with `202` (async), or `200` with the
/// outcome once the job has finished (sync, see the module's doc).
pub(crate) fn answer(job: &Arc<Job>, run_async: bool) -> Response {
    if run_async {
        return accepted(job);
    }
    let job = job.clone();
    let body = async_stream::stream! {
        yield Ok::<_, Infallible>(Bytes::from_static(b" "));
        while !job.wait(KEEPALIVE).await {
            yield Ok(Bytes::from_static(b" "));
        }
        yield Ok(Bytes::from(outcome_json(&JobView::now(&job))));
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

fn accepted(job: &Job) -> Response {
    let view = JobView::now(job);
    let status_url = format!("/api/jobs/{}", view.job_id);
    let body = JobAccepted {
        job_id: view.job_id.clone(),
        kind: view.kind,
        target: view.target.clone(),
        state: view.state,
        message: format!("Job accepted; follow it at {status_url} or {status_url}/events"),
        events_url: format!("{status_url}/events"),
        status_url: status_url.clone(),
    };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&status_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The outcome of a finished job as the JSON of the synchronous answer.
pub(crate) fn outcome_json(view: &JobView) -> Vec<u8> {
    let body = JobOutcome {
        success: view.state == JobState::Succeeded,
        message: view.message.clone().unwrap_or_default(),
        failed_step: view.failed_step.clone(),
        results: view.results.clone(),
        job_id: view.job_id.clone(),
        details: view.details.clone(),
    };
    serde_json::to_vec(&body).unwrap_or_else(|e| {
        // Cannot happen (plain data); the answer must still be JSON the client can read.
        serde_json::json!({ "success": false, "message": format!("The job's outcome could not be written: {e}"), "results": [], "jobId": view.job_id })
            .to_string()
            .into_bytes()
    })
}

pub(crate) fn conflict(busy: &Busy<JobMeta>) -> Response {
    let running = &busy.running;
    let body = ConflictBody {
        error: ConflictDetail {
            message: format!(
                "Another job ({} {}) is already running for {}; follow it at /api/jobs/{} and retry when it has finished",
                serde_json::to_value(running.meta.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                running.id,
                running.target,
                running.id
            ),
            status_code: 409,
            job_id: running.id.clone(),
        },
    };
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// The bearer token of the request when authentication is on (Helm then acts as the caller);
/// `None` without authentication (Helm acts with the backend's credentials). An authenticated
/// request always yields its token: falling back to the backend's identity would be an
/// escalation.
pub(crate) fn caller_token(
    caller: &Caller,
    headers: &axum::http::HeaderMap,
) -> ApiResult<Option<String>> {
    if caller.identity().is_none() {
        return Ok(None);
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Some(t.to_string()))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Authentication required"))
}

/// `400` when Helm cannot run (the reference's message).
pub(crate) fn helm_unavailable(status: &HelmStatus) -> ApiError {
    ApiError::bad_request(format!(
        "Helm CLI not available: {}. Please install Helm or use the manual installation commands.",
        status.error.as_deref().unwrap_or("unknown error")
    ))
}
