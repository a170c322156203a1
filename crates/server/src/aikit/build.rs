//! `POST /api/aikit/build` and `/build/preview`.
//!
//! A premade model needs no build: its image is the answer. A HuggingFace GGUF file is built
//! into an AIKit image by the real `buildctl` talking to buildkitd (`--buildkit-addr`): the
//! AIKit frontend through BuildKit's gateway, the aikitfile as remote context, the model as a
//! build argument, the image pushed to the in-cluster registry. The build is a job of the same
//! model as Helm installs: `?async=true` (or `Prefer: respond-async`) answers `202 {jobId, …}`
//! and the output streams from `/api/jobs/{id}/events`; without it the answer is the
//! reference's shape once the build finished (`imageRef`, `buildTime`, …), with keep-alive
//! whitespace meanwhile.
//!
//! Refused before anything runs: bad values (400, the rule named), infrastructure that is not
//! set up or not ready (409, saying to run the setup), a buildkitd that does not answer or no
//! `buildctl` (503, saying what to configure), the same image already building (409).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kubeairunway_core::aikit::build::{
    BuildPlan, BuildRequest, BuildctlArgs, ImageBuild, pushed_digest,
};
use kubeairunway_core::aikit::{NAMESPACE, Progress};
use kubeairunway_install::home::PrivateHome;
use kubeairunway_install::jobs::{Finish, NewJob, PlannedStep, Stream};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{DEPLOYMENTS, TAG, buildctl, infra};
use crate::activity::{self, Action, Change, Target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::installation::{Access, Job, JobKind, JobMeta, Jobs, RunQuery, answer, conflict};
use crate::state::{AikitConfig, AppState};

/// How long the check that buildkitd answers may take.
const WORKERS_TIMEOUT: Duration = Duration::from_secs(10);

/// Body of `/api/aikit/build` and `/api/aikit/build/preview`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildBody {
    /// `premade` or `huggingface`.
    pub model_source: Option<String>,
    /// Premade model id (`llama3.2:1b`), for `premade`.
    pub premade_model: Option<String>,
    /// HuggingFace repository id, for `huggingface`.
    pub model_id: Option<String>,
    /// The `.gguf` file in it, for `huggingface`.
    pub gguf_file: Option<String>,
    /// Image name (default `aikit-<sanitized modelId>`).
    pub image_name: Option<String>,
    /// Image tag (default: the file's quantisation, else `custom`).
    pub image_tag: Option<String>,
}

impl BuildBody {
    fn plan(self) -> Result<BuildPlan, kubeairunway_core::aikit::BuildError> {
        BuildPlan::from_request(&BuildRequest {
            model_source: self.model_source,
            premade_model: self.premade_model,
            model_id: self.model_id,
            gguf_file: self.gguf_file,
            image_name: self.image_name,
            image_tag: self.image_tag,
        })
    }
}

/// Query of `POST /api/aikit/build`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BuildQuery {
    /// `true` (or the header `Prefer: respond-async`) answers `202 {jobId, …}` at once; follow
    /// the build at `GET /api/jobs/{id}/events`. Otherwise the answer comes when the build has
    /// finished (whitespace keeps the connection alive meanwhile).
    #[serde(rename = "async")]
    #[param(rename = "async", value_type = Option<bool>)]
    pub run_async: Option<String>,
}

/// `POST /api/aikit/build/preview` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildPreview {
    /// The image reference a deployment would run.
    pub image_ref: String,
    /// A premade image.
    pub was_premade: bool,
    /// A build is needed.
    pub requires_build: bool,
    /// The registry builds push to.
    pub registry_url: String,
}

/// What a build would produce, without side effects.
#[utoipa::path(post, path = "/api/aikit/build/preview", operation_id = "aikit_build_preview", tag = TAG,
    request_body = BuildBody,
    responses(
        (status = 200, body = BuildPreview),
        (status = 400, description = "Invalid request: the rule broken", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BuildBody>,
) -> ApiResult<Json<BuildPreview>> {
    let target = &state.config().aikit.target;
    let plan = body
        .plan()
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    Ok(Json(match plan {
        BuildPlan::Premade(model) => BuildPreview {
            image_ref: model.image.into(),
            was_premade: true,
            requires_build: false,
            registry_url: target.push_host.clone(),
        },
        BuildPlan::Build(build) => BuildPreview {
            image_ref: target.pull_ref(&build),
            was_premade: false,
            requires_build: true,
            registry_url: target.push_host.clone(),
        },
    }))
}

/// The synchronous answer of `POST /api/aikit/build` (the reference's shape; a build also
/// carries the job's `results` and `jobId`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildResult {
    /// The image is there.
    pub success: bool,
    /// The image reference a deployment runs (`localhost:30500/<name>:<tag>` when built).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<String>,
    /// Seconds the build took (0 for premade).
    pub build_time: f64,
    /// A premade image.
    pub was_premade: bool,
    /// In words; why, when it failed.
    pub message: String,
    /// The build job (builds only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Digest of the pushed image (builds only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Uses a premade image, or builds an AIKit image from a HuggingFace GGUF file as a job
/// (`?async=true`: `202 {jobId, statusUrl, eventsUrl}` at once).
#[utoipa::path(post, path = "/api/aikit/build", operation_id = "aikit_build", tag = TAG,
    params(BuildQuery),
    request_body = BuildBody,
    responses(
        (status = 200, description = "Premade image, or the finished build (success or not)", body = BuildResult),
        (status = 202, description = "Build job accepted (async)", body = crate::installation::JobAccepted),
        (status = 400, description = "Invalid build request: the rule broken", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Infrastructure not set up or not ready, or the same image is building", body = ErrorBody),
        (status = 503, description = "buildkitd does not answer, or buildctl is missing", body = ErrorBody)))]
pub(crate) async fn build(
    State(state): State<AppState>,
    Extension(jobs): Extension<Jobs>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<BuildQuery>,
    ApiJson(body): ApiJson<BuildBody>,
) -> Response {
    match start(&state, &jobs, &caller, &headers, &query, body).await {
        Ok(response) => response,
        Err(response) => response,
    }
}

async fn start(
    state: &AppState,
    jobs: &Jobs,
    caller: &Caller,
    headers: &HeaderMap,
    query: &BuildQuery,
    body: BuildBody,
) -> Result<Response, Response> {
    let run_async = RunQuery {
        run_async: query.run_async.clone(),
        timeout_seconds: None,
    }
    .is_async(headers)
    .map_err(IntoResponse::into_response)?;
    let plan = body.plan().map_err(|e| {
        ApiError::bad_request(format!("Invalid build request: {e}")).into_response()
    })?;
    let build = match plan {
        BuildPlan::Premade(model) => {
            return Ok(Json(BuildResult {
                success: true,
                image_ref: Some(model.image.into()),
                build_time: 0.0,
                was_premade: true,
                message: "Using premade AIKit image".into(),
                job_id: None,
                digest: None,
            })
            .into_response());
        }
        BuildPlan::Build(build) => build,
    };
    let access = vec![Access {
        verb: "update",
        resource: DEPLOYMENTS,
        namespace: Some(NAMESPACE.into()),
    }];
    let change = Change::new(
        Action::Build,
        Target::Workload {
            namespace: NAMESPACE.into(),
            name: kubeairunway_core::aikit::BUILDER_NAME.into(),
        },
    )
    .what(format!("image {}", build.name_tag()));
    for a in &access {
        let allowed = caller
            .require(a.verb, a.resource, a.namespace.as_deref())
            .await;
        if allowed.is_err() {
            activity::record(state, caller, change.clone(), &allowed).await;
        }
        allowed.map_err(IntoResponse::into_response)?;
    }
    let infra = infra::current(state, caller).await;
    if let Some(error) = &infra.error {
        return Err(ApiError::unavailable(format!(
            "Could not read the build infrastructure: {error}"
        ))
        .into_response());
    }
    if !infra.ready {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Build infrastructure is not ready ({}; {}). Set it up with POST /api/aikit/infrastructure/setup and retry when GET /api/aikit/infrastructure/status reports ready",
                infra.registry.message, infra.builder.message
            ),
        )
        .into_response());
    }
    let config = state.config().aikit.clone();
    check_builder(&config)
        .await
        .map_err(IntoResponse::into_response)?;
    let home = PrivateHome::create().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "Could not create a private directory for the build: {}",
                e.source
            ),
        )
        .into_response()
    })?;
    let metadata = home.path().join("metadata.json");
    let args = BuildctlArgs::build(
        &config.buildkit_addr,
        &config.target,
        &build,
        &metadata.to_string_lossy(),
    );
    let command = buildctl::display(&config.buildctl_path, &args);
    let job = jobs
        .create(NewJob {
            target: format!("aikit/{}", build.name_tag()),
            user: caller.identity().map(|i| i.username.clone()),
            meta: JobMeta {
                kind: JobKind::BuildImage,
                access,
            },
        })
        .map_err(|busy| conflict(&busy))?;
    let title = format!("Build {} from {}", build.name_tag(), build.model_arg());
    job.plan(vec![PlannedStep {
        step: "build".into(),
        title: title.clone(),
        command: command.clone(),
    }]);
    let work = run_build(job.clone(), config, build, args, home, title, command);
    jobs.spawn(
        job.clone(),
        activity::record_job(state, caller, change, work),
    );
    Ok(answer(&job, run_async))
}

/// 503 unless `buildctl debug workers` answers at the configured address.
async fn check_builder(config: &AikitConfig) -> ApiResult<()> {
    let dir = std::env::temp_dir();
    let mut last = None;
    let outcome = buildctl::run(
        &config.buildctl_path,
        &BuildctlArgs::workers(&config.buildkit_addr),
        &dir,
        WORKERS_TIMEOUT,
        &mut |stream, line| {
            if stream == Stream::Stderr && !line.trim().is_empty() {
                last = Some(line.to_string());
            }
        },
    )
    .await;
    if let Some(error) = outcome.spawn_error {
        return Err(ApiError::unavailable(format!(
            "buildctl is not available: {error}. Install buildctl (BuildKit's client) or set --buildctl-path / BUILDCTL_PATH"
        )));
    }
    if !outcome.success {
        let why = if outcome.timed_out {
            format!("no answer within {} seconds", WORKERS_TIMEOUT.as_secs())
        } else {
            last.unwrap_or_else(|| format!("buildctl exited with code {:?}", outcome.exit_code))
        };
        return Err(ApiError::unavailable(format!(
            "The BuildKit builder does not answer at {}: {why}. In the cluster it is the Service of POST /api/aikit/infrastructure/setup; off-cluster set --buildkit-addr / BUILDKIT_HOST to a reachable buildkitd",
            config.buildkit_addr
        )));
    }
    Ok(())
}

async fn run_build(
    job: Arc<Job>,
    config: AikitConfig,
    build: ImageBuild,
    args: Vec<String>,
    home: PrivateHome,
    title: String,
    command: String,
) -> Finish {
    let index = job.step_start("build", &title, &command);
    let started = Instant::now();
    let mut progress = Progress::default();
    let outcome = {
        let job = job.clone();
        let progress = &mut progress;
        buildctl::run(
            &config.buildctl_path,
            &args,
            home.path(),
            config.build_timeout,
            &mut |stream, line| {
                progress.observe(line);
                job.output(index, stream, line);
            },
        )
        .await
    };
    if let Some(error) = &outcome.spawn_error {
        job.output(index, Stream::Stderr, error);
    }
    if outcome.timed_out {
        job.output(
            index,
            Stream::Stderr,
            &format!(
                "Command timed out after {} seconds",
                config.build_timeout.as_secs()
            ),
        );
    }
    job.step_end(index, outcome.success, outcome.exit_code, outcome.timed_out);
    let build_time = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let mut details = serde_json::Map::new();
    details.insert("wasPremade".into(), json!(false));
    details.insert("buildTime".into(), json!(build_time));
    details.insert("progress".into(), json!(progress.summary()));
    if !outcome.success {
        let why = if outcome.timed_out {
            format!("timed out after {} seconds", config.build_timeout.as_secs())
        } else if let Some(e) = outcome.spawn_error {
            e
        } else if let Some(e) = progress.error() {
            e.to_string()
        } else if let Some(e) = outcome.last_error_line {
            e
        } else {
            format!("buildctl exited with code {:?}", outcome.exit_code)
        };
        let mut finish = Finish::failed_at("AIKit image build", "build", &why);
        finish.details = details;
        return finish;
    }
    let metadata = tokio::fs::read_to_string(home.path().join("metadata.json"))
        .await
        .unwrap_or_default();
    details.insert("imageRef".into(), json!(config.target.pull_ref(&build)));
    details.insert("pushedRef".into(), json!(config.target.push_ref(&build)));
    if let Some(digest) = pushed_digest(&metadata) {
        details.insert("digest".into(), json!(digest));
    }
    let mut finish = Finish::succeeded("AIKit image built successfully");
    finish.details = details;
    drop(home);
    finish
}
