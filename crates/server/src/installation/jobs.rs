//! Installation jobs: what a long Helm operation did and is doing, kept in memory so clients can
//! follow it (`GET /api/jobs/{id}`, `GET /api/jobs/{id}/events`) instead of holding one HTTP
//! request open for minutes.
//!
//! A job has planned steps; each step records its command, output lines, exit code and whether
//! it timed out. Every change is also broadcast as an event; subscribing takes a snapshot under
//! the same lock, so a subscriber sees each event exactly once after its snapshot. At most one
//! job runs per target (a provider, or the GPU Operator): a second one is refused with the id of
//! the running one. Finished jobs are kept for [`RETENTION`], at most [`MAX_JOBS`] of them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use utoipa::ToSchema;

use super::helm::{Outcome, Stream};
use crate::auth::Resource;

/// How long a finished job stays readable.
pub(crate) const RETENTION: Duration = Duration::from_secs(3600);
/// Most jobs kept; the oldest finished ones are forgotten first.
pub(crate) const MAX_JOBS: usize = 200;
/// Output kept per stream of one step; later lines are dropped (and said to be).
const MAX_OUTPUT: usize = 256 * 1024;
/// Events buffered per job for slow subscribers (who then get a fresh snapshot).
const EVENT_BUFFER: usize = 1024;

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
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum JobState {
    /// Accepted, not started.
    Queued,
    /// Running a step.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed (see `failedStep`).
    Failed,
}

impl JobState {
    fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

/// Where a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StepState {
    /// Running now.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Not run because an earlier step failed.
    Skipped,
}

/// A step that has not started yet.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlannedStep {
    /// Step id (`repo-add-<name>`, `repo-update`, `install-<release>`, …).
    pub step: String,
    /// What it does, in words.
    pub title: String,
    /// The equivalent command line.
    pub command: String,
}

/// A step that started.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StepView {
    /// Step id.
    pub step: String,
    /// What it does, in words.
    pub title: String,
    /// The equivalent command line (Helm), or the Kubernetes call.
    pub command: String,
    /// Where it is.
    pub state: StepState,
    /// Standard output so far.
    pub output: String,
    /// Standard error so far.
    pub error: String,
    /// Exit code of the command, when it exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Killed because it outlived its timeout.
    pub timed_out: bool,
    /// Start time (RFC 3339).
    pub started_at: String,
    /// End time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Run time in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A finished step in the reference's `results[]` shape.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct StepResult {
    /// Step id.
    pub step: String,
    /// Whether it succeeded.
    pub success: bool,
    /// Its standard output.
    pub output: String,
    /// Its standard error.
    pub error: String,
}

/// `GET /api/jobs/{id}`: a job with its steps.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobView {
    /// Job id.
    pub job_id: String,
    /// What it does.
    pub kind: JobKind,
    /// The provider id, or `gpu-operator`.
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

/// A change to a job, as sent on `GET /api/jobs/{id}/events` (the SSE event name is `event`).
#[derive(Clone, Debug)]
pub(crate) enum JobEvent {
    /// The job changed state (`queued` → `running`).
    State { state: JobState },
    /// A step started.
    StepStart {
        index: usize,
        step: String,
        title: String,
        command: String,
    },
    /// A line of output.
    Output {
        index: usize,
        step: String,
        stream: Stream,
        line: String,
    },
    /// A step ended.
    StepEnd {
        index: usize,
        step: String,
        state: StepState,
        exit_code: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
    },
    /// The job finished; the payload is the final view.
    End(Box<JobView>),
}

impl JobEvent {
    /// SSE event name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            JobEvent::State { .. } => "state",
            JobEvent::StepStart { .. } => "step-start",
            JobEvent::Output { .. } => "output",
            JobEvent::StepEnd { .. } => "step-end",
            JobEvent::End(_) => "end",
        }
    }

    /// SSE data (JSON).
    pub(crate) fn data(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
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
                "index": index, "step": step, "state": state, "success": *state == StepState::Succeeded,
                "exitCode": exit_code, "timedOut": timed_out, "durationMs": duration_ms,
            }),
            JobEvent::End(view) => serde_json::to_value(view.as_ref()).unwrap_or_default(),
        }
    }
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

/// One job.
pub(crate) struct Job {
    /// Job id (random, unguessable).
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// The provider id or `gpu-operator`.
    pub target: String,
    /// Who started it.
    pub user: Option<String>,
    /// What a caller must be allowed to do to read it (what starting it required).
    pub access: Vec<Access>,
    created_at: Timestamp,
    data: Mutex<JobData>,
    events: broadcast::Sender<JobEvent>,
    done: watch::Sender<bool>,
}

struct JobData {
    state: JobState,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    finished_instant: Option<Instant>,
    message: Option<String>,
    failed_step: Option<String>,
    steps: Vec<StepRecord>,
    pending: VecDeque<PlannedStep>,
    details: serde_json::Map<String, serde_json::Value>,
}

struct StepRecord {
    view: StepView,
    started: Instant,
    truncated: [bool; 2],
}

/// The final answer of a job.
pub(crate) struct Finish {
    /// Every step succeeded.
    pub success: bool,
    /// Outcome in words.
    pub message: String,
    /// The first failed step.
    pub failed_step: Option<String>,
    /// Endpoint-specific fields.
    pub details: serde_json::Map<String, serde_json::Value>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_string(t: Timestamp) -> String {
    t.to_string()
}

impl Job {
    /// The current view.
    pub(crate) fn view(&self) -> JobView {
        self.view_of(&lock(&self.data))
    }

    fn view_of(&self, data: &JobData) -> JobView {
        let steps: Vec<StepView> = data.steps.iter().map(|s| s.view.clone()).collect();
        let results = steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Succeeded | StepState::Failed))
            .map(|s| StepResult {
                step: s.step.clone(),
                success: s.state == StepState::Succeeded,
                output: s.output.clone(),
                error: s.error.clone(),
            })
            .collect();
        JobView {
            job_id: self.id.clone(),
            kind: self.kind,
            target: self.target.clone(),
            state: data.state,
            user: self.user.clone(),
            created_at: now_string(self.created_at),
            started_at: data.started_at.map(now_string),
            finished_at: data.finished_at.map(now_string),
            message: data.message.clone(),
            failed_step: data.failed_step.clone(),
            steps,
            pending: data.pending.iter().cloned().collect(),
            results,
            details: data.details.clone(),
        }
    }

    /// A short view for lists.
    pub(crate) fn summary(&self) -> JobSummary {
        let data = lock(&self.data);
        JobSummary {
            job_id: self.id.clone(),
            kind: self.kind,
            target: self.target.clone(),
            state: data.state,
            created_at: now_string(self.created_at),
            finished_at: data.finished_at.map(now_string),
            message: data.message.clone(),
        }
    }

    /// Current state.
    pub(crate) fn state(&self) -> JobState {
        lock(&self.data).state
    }

    /// A snapshot and a receiver of every later event, taken atomically.
    pub(crate) fn subscribe(&self) -> (JobView, broadcast::Receiver<JobEvent>) {
        let data = lock(&self.data);
        (self.view_of(&data), self.events.subscribe())
    }

    /// Waits until the job finished or `limit` passed; true when finished.
    pub(crate) async fn wait(&self, limit: Duration) -> bool {
        let mut done = self.done.subscribe();
        tokio::time::timeout(limit, done.wait_for(|d| *d))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    fn emit(&self, event: JobEvent) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    /// Sets the steps expected to run.
    pub(crate) fn plan(&self, steps: Vec<PlannedStep>) {
        lock(&self.data).pending = steps.into();
    }

    /// Marks the job running.
    pub(crate) fn begin(&self) {
        let mut data = lock(&self.data);
        data.state = JobState::Running;
        data.started_at = Some(Timestamp::now());
        self.emit(JobEvent::State {
            state: JobState::Running,
        });
    }

    /// Starts step `step` (removing it from the plan if planned); returns its index.
    pub(crate) fn step_start(&self, step: &str, title: &str, command: &str) -> usize {
        let mut data = lock(&self.data);
        data.pending.retain(|p| p.step != step);
        let index = data.steps.len();
        data.steps.push(StepRecord {
            view: StepView {
                step: step.to_string(),
                title: title.to_string(),
                command: command.to_string(),
                state: StepState::Running,
                output: String::new(),
                error: String::new(),
                exit_code: None,
                timed_out: false,
                started_at: now_string(Timestamp::now()),
                finished_at: None,
                duration_ms: None,
            },
            started: Instant::now(),
            truncated: [false; 2],
        });
        self.emit(JobEvent::StepStart {
            index,
            step: step.to_string(),
            title: title.to_string(),
            command: command.to_string(),
        });
        index
    }

    /// Records a line of output of step `index`.
    pub(crate) fn output(&self, index: usize, stream: Stream, line: &str) {
        let mut data = lock(&self.data);
        let Some(record) = data.steps.get_mut(index) else {
            return;
        };
        let slot = usize::from(stream == Stream::Stderr);
        if record.truncated[slot] {
            return;
        }
        let buffer = match stream {
            Stream::Stdout => &mut record.view.output,
            Stream::Stderr => &mut record.view.error,
        };
        let line = if buffer.len() + line.len() + 1 > MAX_OUTPUT {
            record.truncated[slot] = true;
            "[further output dropped: more than 256 KiB]"
        } else {
            line
        };
        buffer.push_str(line);
        buffer.push('\n');
        let step = record.view.step.clone();
        self.emit(JobEvent::Output {
            index,
            step,
            stream,
            line: line.to_string(),
        });
    }

    /// Ends step `index` with the result of a Helm command (its output was recorded line by
    /// line already).
    pub(crate) fn step_end_helm(&self, index: usize, outcome: &Outcome) {
        self.step_end(index, outcome.success, outcome.exit_code, outcome.timed_out);
    }

    /// Ends step `index`.
    pub(crate) fn step_end(
        &self,
        index: usize,
        success: bool,
        exit_code: Option<i32>,
        timed_out: bool,
    ) {
        let mut data = lock(&self.data);
        let Some(record) = data.steps.get_mut(index) else {
            return;
        };
        let duration_ms = u64::try_from(record.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let state = if success {
            StepState::Succeeded
        } else {
            StepState::Failed
        };
        record.view.state = state;
        record.view.exit_code = exit_code;
        record.view.timed_out = timed_out;
        record.view.finished_at = Some(now_string(Timestamp::now()));
        record.view.duration_ms = Some(duration_ms);
        let step = record.view.step.clone();
        self.emit(JobEvent::StepEnd {
            index,
            step,
            state,
            exit_code,
            timed_out,
            duration_ms,
        });
    }

    /// Finishes the job; steps still planned are recorded as skipped.
    fn finish(&self, finish: Finish) {
        let mut data = lock(&self.data);
        let skipped: Vec<PlannedStep> = data.pending.drain(..).collect();
        for planned in skipped {
            let now = now_string(Timestamp::now());
            data.steps.push(StepRecord {
                view: StepView {
                    step: planned.step,
                    title: planned.title,
                    command: planned.command,
                    state: StepState::Skipped,
                    output: String::new(),
                    error: String::new(),
                    exit_code: None,
                    timed_out: false,
                    started_at: now.clone(),
                    finished_at: Some(now),
                    duration_ms: Some(0),
                },
                started: Instant::now(),
                truncated: [false; 2],
            });
        }
        data.state = if finish.success {
            JobState::Succeeded
        } else {
            JobState::Failed
        };
        data.finished_at = Some(Timestamp::now());
        data.finished_instant = Some(Instant::now());
        data.message = Some(finish.message);
        data.failed_step = finish.failed_step;
        data.details = finish.details;
        let view = self.view_of(&data);
        self.emit(JobEvent::End(Box::new(view)));
        self.done.send_replace(true);
    }

    fn expired(&self, now: Instant) -> bool {
        lock(&self.data)
            .finished_instant
            .is_some_and(|t| now.duration_since(t) > RETENTION)
    }

    fn finished(&self) -> bool {
        lock(&self.data).state.finished()
    }
}

/// Every job of this server.
#[derive(Default)]
pub(crate) struct Jobs {
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    /// Oldest first.
    order: VecDeque<Arc<Job>>,
    by_id: HashMap<String, Arc<Job>>,
    /// The unfinished job of each target.
    active: HashMap<String, Arc<Job>>,
}

/// What [`Jobs::create`] needs.
pub(crate) struct NewJob {
    /// What it does.
    pub kind: JobKind,
    /// The provider id or `gpu-operator`.
    pub target: String,
    /// Who starts it.
    pub user: Option<String>,
    /// What it required (and what reading it requires).
    pub access: Vec<Access>,
}

impl Jobs {
    /// Registers a queued job, unless another job of the same target is unfinished: then that
    /// one is returned as the error.
    pub(crate) fn create(&self, new: NewJob) -> Result<Arc<Job>, Arc<Job>> {
        let mut registry = lock(&self.registry);
        if let Some(running) = registry.active.get(&new.target)
            && !running.finished()
        {
            return Err(running.clone());
        }
        registry.prune();
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (done, _) = watch::channel(false);
        let job = Arc::new(Job {
            id: hex::encode(rand::random::<[u8; 16]>()),
            kind: new.kind,
            target: new.target.clone(),
            user: new.user,
            access: new.access,
            created_at: Timestamp::now(),
            data: Mutex::new(JobData {
                state: JobState::Queued,
                started_at: None,
                finished_at: None,
                finished_instant: None,
                message: None,
                failed_step: None,
                steps: Vec::new(),
                pending: VecDeque::new(),
                details: serde_json::Map::new(),
            }),
            events,
            done,
        });
        registry.order.push_back(job.clone());
        registry.by_id.insert(job.id.clone(), job.clone());
        registry.active.insert(new.target, job.clone());
        Ok(job)
    }

    /// Finishes `job` and frees its target for the next job.
    pub(crate) fn finish(&self, job: &Arc<Job>, finish: Finish) {
        job.finish(finish);
        let mut registry = lock(&self.registry);
        if registry
            .active
            .get(&job.target)
            .is_some_and(|j| Arc::ptr_eq(j, job))
        {
            registry.active.remove(&job.target);
        }
    }

    /// The job `id`, if still kept.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Job>> {
        let mut registry = lock(&self.registry);
        registry.prune();
        registry.by_id.get(id).cloned()
    }

    /// The unfinished job of `target`, if any.
    pub(crate) fn active(&self, target: &str) -> Option<Arc<Job>> {
        lock(&self.registry)
            .active
            .get(target)
            .filter(|j| !j.finished())
            .cloned()
    }

    /// Every kept job, newest first.
    pub(crate) fn all(&self) -> Vec<Arc<Job>> {
        let mut registry = lock(&self.registry);
        registry.prune();
        registry.order.iter().rev().cloned().collect()
    }
}

impl Registry {
    /// Forgets expired jobs, then the oldest finished ones beyond [`MAX_JOBS`].
    fn prune(&mut self) {
        let now = Instant::now();
        let mut excess = self.order.len().saturating_sub(MAX_JOBS);
        let by_id = &mut self.by_id;
        self.order.retain(|job| {
            let forget = job.expired(now) || (excess > 0 && job.finished());
            if forget {
                excess = excess.saturating_sub(1);
                by_id.remove(&job.id);
            }
            !forget
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job(target: &str) -> NewJob {
        NewJob {
            kind: JobKind::InstallProvider,
            target: target.into(),
            user: None,
            access: Vec::new(),
        }
    }

    fn done() -> Finish {
        Finish {
            success: true,
            message: "ok".into(),
            failed_step: None,
            details: serde_json::Map::new(),
        }
    }

    #[test]
    fn one_job_per_target() {
        let jobs = Jobs::default();
        let first = jobs.create(new_job("kaito")).ok().expect("first");
        let second = jobs.create(new_job("kaito")).err().expect("refused");
        assert_eq!(second.id, first.id);
        assert!(jobs.create(new_job("dynamo")).is_ok());
        jobs.finish(&first, done());
        assert!(jobs.create(new_job("kaito")).is_ok());
        assert!(jobs.get(&first.id).is_some());
    }

    #[test]
    fn steps_events_and_snapshot() {
        let jobs = Jobs::default();
        let job = jobs.create(new_job("p")).ok().expect("job");
        job.plan(vec![
            PlannedStep {
                step: "a".into(),
                title: "A".into(),
                command: "helm a".into(),
            },
            PlannedStep {
                step: "b".into(),
                title: "B".into(),
                command: "helm b".into(),
            },
        ]);
        job.begin();
        let i = job.step_start("a", "A", "helm a");
        job.output(i, Stream::Stdout, "hello");
        let (snapshot, mut rx) = job.subscribe();
        assert_eq!(snapshot.steps[0].output, "hello\n");
        assert_eq!(snapshot.pending.len(), 1);
        job.output(i, Stream::Stderr, "oops");
        job.step_end(i, false, Some(1), false);
        jobs.finish(
            &job,
            Finish {
                success: false,
                message: "failed".into(),
                failed_step: Some("a".into()),
                details: serde_json::Map::new(),
            },
        );
        let names: Vec<&str> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.name())
            .collect();
        assert_eq!(names, ["output", "step-end", "end"]);
        let view = job.view();
        assert_eq!(view.state, JobState::Failed);
        assert_eq!(view.steps[1].state, StepState::Skipped);
        assert_eq!(view.results.len(), 1);
        assert_eq!(view.results[0].error, "oops\n");
    }

    #[test]
    fn output_is_bounded() {
        let jobs = Jobs::default();
        let job = jobs.create(new_job("p")).ok().expect("job");
        let i = job.step_start("a", "A", "helm a");
        let line = "x".repeat(1024);
        for _ in 0..400 {
            job.output(i, Stream::Stdout, &line);
        }
        let out = &job.view().steps[0].output;
        assert!(out.len() <= MAX_OUTPUT + 100);
        assert!(out.ends_with("more than 256 KiB]\n"));
    }

    #[test]
    fn finished_jobs_beyond_the_bound_are_forgotten() {
        let jobs = Jobs::default();
        let first = jobs.create(new_job("t0")).ok().expect("job");
        jobs.finish(&first, done());
        for n in 1..=MAX_JOBS {
            let job = jobs.create(new_job(&format!("t{n}"))).ok().expect("job");
            jobs.finish(&job, done());
        }
        let _ = jobs.create(new_job("last"));
        assert!(jobs.get(&first.id).is_none());
        assert!(jobs.all().len() <= MAX_JOBS + 1);
    }
}
