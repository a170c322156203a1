//! What the installation routes attach to a job of the job model
//! (`kubeairunway_install::jobs`) — its kind and what reading it requires — and the JSON shapes
//! clients read jobs in.

use k8s_openapi::jiff::Timestamp;
use kubeairunway_install::jobs::{JobState, PlannedStep, Snapshot, StepResult, StepView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Resource;

/// A job of these routes.
pub(crate) type Job = kubeairunway_install::jobs::Job<JobMeta>;
/// The jobs of one server.
pub(crate) type Jobs = kubeairunway_install::jobs::Jobs<JobMeta>;

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum JobKind {
    /// `POST /api/installation/providers/{id}/install`.
    InstallProvider,
    /// `POST /api/installation/providers/{id}/uninstall`.
    UninstallProvider,
    /// `POST /api/installation/providers/{id}/uninstall-crds`.
    UninstallProviderCrds,
    /// `POST /api/installation/gpu-operator/install`.
    InstallGpuOperator,
    /// `POST /api/aikit/build`: an AIKit image build.
    BuildImage,
}

/// A permission a caller needs to run, or to read, a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    /// Kubernetes verb.
    pub verb: &'static str,
    /// Resource.
    pub resource: Resource,
    /// Namespace (`None`: cluster-wide).
    pub namespace: Option<String>,
}

/// What these routes attach to each job.
#[derive(Clone, Debug)]
pub(crate) struct JobMeta {
    /// What it does.
    pub kind: JobKind,
    /// What a caller must be allowed to do to read it (what starting it required).
    pub access: Vec<Access>,
}

/// `GET /api/jobs/{id}`: a job with its steps.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobView {
    /// Job id.
    pub job_id: String,
    /// What it does.
    pub kind: JobKind,
    /// The provider id, `gpu-operator`, or `aikit/<image>:<tag>` for an image build.
    pub target: String,
    /// Where it is.
    pub state: JobState,
    /// Who started it (with authentication).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When it was accepted (RFC 3339).
    pub created_at: String,
    /// When it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Outcome in words (set when finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The first step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Steps that started, in order.
    pub steps: Vec<StepView>,
    /// Steps still to run, in order (steps may be added while running, e.g. a clean-up).
    pub pending: Vec<PlannedStep>,
    /// Finished steps in the reference's shape.
    pub results: Vec<StepResult>,
    /// Endpoint-specific outcome (for the GPU Operator: `status`).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl JobView {
    /// `job` as of `snapshot`.
    pub(crate) fn of(job: &Job, snapshot: Snapshot) -> Self {
        let results = snapshot.results();
        Self {
            job_id: job.id.clone(),
            kind: job.meta.kind,
            target: job.target.clone(),
            state: snapshot.state,
            user: job.user.clone(),
            created_at: time(job.created_at),
            started_at: snapshot.started_at.map(time),
            finished_at: snapshot.finished_at.map(time),
            message: snapshot.message,
            failed_step: snapshot.failed_step,
            steps: snapshot.steps,
            pending: snapshot.pending,
            results,
            details: snapshot.details,
        }
    }

    /// `job` as it is now.
    pub(crate) fn now(job: &Job) -> Self {
        Self::of(job, job.snapshot())
    }
}

/// One entry of `GET /api/jobs`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobSummary {
    /// Job id.
    pub job_id: String,
    /// What it does.
    pub kind: JobKind,
    /// The provider id, or `gpu-operator`.
    pub target: String,
    /// Where it is.
    pub state: JobState,
    /// When it was accepted.
    pub created_at: String,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Outcome in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl JobSummary {
    /// `job` as a list shows it now.
    pub(crate) fn of(job: &Job) -> Self {
        let summary = job.summary();
        Self {
            job_id: job.id.clone(),
            kind: job.meta.kind,
            target: job.target.clone(),
            state: summary.state,
            created_at: time(job.created_at),
            finished_at: summary.finished_at.map(time),
            message: summary.message,
        }
    }
}

fn time(t: Timestamp) -> String {
    t.to_string()
}
