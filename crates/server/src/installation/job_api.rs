//! Reading jobs: `GET /api/jobs`, `GET /api/jobs/{id}` and the Server-Sent Events of
//! `GET /api/jobs/{id}/events`.
//!
//! A job is readable by whoever may do what starting it required (with authentication), so
//! installers can follow each other's jobs and others cannot read their output.
//!
//! Events: `snapshot` (the job as `GET /api/jobs/{id}` shows it) first, then `state`,
//! `step-start`, `output` (one line), `step-end`, and finally `end` (the finished job), after
//! which the stream closes. A subscriber too slow for the buffer gets a fresh `snapshot`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use kubeairunway_install::jobs::{JobEvent, RETENTION, StepState};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};

use super::jobs::{Job, JobSummary, JobView};
use super::{Installer, TAG};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;

/// `GET /api/jobs` response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobList {
    /// Jobs kept by this server (finished ones for an hour), newest first.
    pub jobs: Vec<JobSummary>,
}

/// Query of `GET /api/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only jobs of this provider id (or `gpu-operator`).
    target: Option<String>,
}

/// The `{id}` path parameter of the job routes.
pub(crate) struct JobId(String);

impl<S: Send + Sync> FromRequestParts<S> for JobId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "Invalid job id in the path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Whether `caller` may read `job`.
async fn readable(caller: &Caller, job: &Job) -> bool {
    for access in &job.meta.access {
        if !caller
            .can(access.verb, access.resource, access.namespace.as_deref())
            .await
        {
            return false;
        }
    }
    true
}

async fn find(installer: &Installer, caller: &Caller, id: &str) -> ApiResult<Arc<Job>> {
    let job = installer.jobs.get(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "Job not found: {} (finished jobs are kept for {} minutes)",
            crate::extract::truncate(id),
            RETENTION.as_secs() / 60
        ))
    })?;
    if !readable(caller, &job).await {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You may not read this job: it needs the permissions that starting it needed",
        ));
    }
    Ok(job)
}

/// Installation jobs of this server the caller may read, newest first.
#[utoipa::path(get, path = "/api/jobs", operation_id = "list_jobs", tag = TAG,
    params(ListQuery),
    responses((status = 200, body = JobList), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Json<JobList> {
    let mut jobs = Vec::new();
    for job in installer.jobs.all() {
        if query.target.as_deref().is_some_and(|t| t != job.target) {
            continue;
        }
        if readable(&caller, &job).await {
            jobs.push(JobSummary::of(&job));
        }
    }
    Json(JobList { jobs })
}

/// A job: its state, every step with its output so far, and `results[]` of the finished steps.
#[utoipa::path(get, path = "/api/jobs/{id}", operation_id = "get_job", tag = TAG,
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, body = JobView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown or forgotten job", body = ErrorBody)))]
pub(crate) async fn get(
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    JobId(id): JobId,
) -> ApiResult<Json<JobView>> {
    let job = find(&installer, &caller, &id).await?;
    Ok(Json(JobView::now(&job)))
}

/// The job's progress as Server-Sent Events: `snapshot` (a `JobView`) first, then `state`,
/// `step-start` `{index, step, title, command}`, `output` `{index, step, stream, line}`,
/// `step-end` `{index, step, state, success, exitCode, timedOut, durationMs}`, and `end` (the
/// final `JobView`), after which the stream closes.
#[utoipa::path(get, path = "/api/jobs/{id}/events", operation_id = "job_events", tag = TAG,
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "text/event-stream of the job's events", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown or forgotten job", body = ErrorBody)))]
pub(crate) async fn events(
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    JobId(id): JobId,
) -> ApiResult<Response> {
    let job = find(&installer, &caller, &id).await?;
    let stream = async_stream::stream! {
        let (snapshot, mut rx) = job.subscribe();
        let snapshot = JobView::of(&job, snapshot);
        let finished = snapshot.state.finished();
        yield Ok::<_, Infallible>(json_event("snapshot", &to_json(&snapshot)));
        if finished {
            yield Ok(json_event("end", &to_json(&snapshot)));
            return;
        }
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let end = matches!(event, JobEvent::End(_));
                    yield Ok(json_event(event.name(), &event_data(&job, event)));
                    if end {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow for the buffer: start over from a fresh snapshot.
                    let (snapshot, fresh) = job.subscribe();
                    rx = fresh;
                    let snapshot = JobView::of(&job, snapshot);
                    let finished = snapshot.state.finished();
                    yield Ok(json_event("snapshot", &to_json(&snapshot)));
                    if finished {
                        yield Ok(json_event("end", &to_json(&snapshot)));
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    };
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn json_event(name: &str, data: &serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

fn to_json(view: &JobView) -> serde_json::Value {
    serde_json::to_value(view).unwrap_or_default()
}

/// The data of the SSE event for `event` of `job` (JSON).
fn event_data(job: &Job, event: JobEvent) -> serde_json::Value {
    use serde_json::json;
    match event {
        JobEvent::State { state } => json!({ "state": state }),
        JobEvent::StepStart {
            index,
            step,
            title,
            command,
        } => json!({ "index": index, "step": step, "title": title, "command": command }),
        JobEvent::Output {
            index,
            step,
            stream,
            line,
        } => json!({ "index": index, "step": step, "stream": stream, "line": line }),
        JobEvent::StepEnd {
            index,
            step,
            state,
            exit_code,
            timed_out,
            duration_ms,
        } => json!({
            "index": index, "step": step, "state": state, "success": state == StepState::Succeeded,
            "exitCode": exit_code, "timedOut": timed_out, "durationMs": duration_ms,
        }),
        JobEvent::End(snapshot) => to_json(&JobView::of(job, *snapshot)),
    }
}
