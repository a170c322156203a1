//! Jobs: what a long operation did and is doing, kept in memory so that clients can follow it
//! (poll a snapshot, or subscribe to its events) instead of holding one request open for
//! minutes.
//!
//! A job has planned steps; each step records its command, output lines, exit code and whether
//! it timed out. Every change is also broadcast as an event; subscribing takes a snapshot under
//! the same lock, so a subscriber sees each event exactly once after its snapshot. At most one
//! job runs per target (a provider, the GPU Operator, an image): a second one is refused with
//! the running one ([`Busy`]). Finished jobs are kept for [`RETENTION`], at most [`MAX_JOBS`] of
//! them.
//!
//! Nothing here knows what a step runs: Helm is one user ([`crate::run`]); whoever starts a job
//! attaches its own metadata `M` (what kind of job it is, what reading it requires).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::FutureExt;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// How long a finished job stays readable.
pub const RETENTION: Duration = Duration::from_secs(3600);
/// Most jobs kept; the oldest finished ones are forgotten first.
pub const MAX_JOBS: usize = 200;
/// Output kept per stream of one step; later lines are dropped (and said to be).
const MAX_OUTPUT: usize = 256 * 1024;
/// Events buffered per job for slow subscribers (who then get a fresh snapshot).
const EVENT_BUFFER: usize = 1024;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
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
    /// Whether nothing will change any more (a follower can stop).
    pub fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

/// Where a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    /// Running now.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Not run because an earlier step failed.
    Skipped,
}

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A step that has not started yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlannedStep {
    /// Step id (`repo-add-<name>`, `repo-update`, `install-<release>`, …).
    pub step: String,
    /// What it does, in words.
    pub title: String,
    /// The equivalent command line.
    pub command: String,
}

/// A step that started.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepView {
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
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepResult {
    /// Step id.
    pub step: String,
    /// Whether it succeeded.
    pub success: bool,
    /// Its standard output.
    pub output: String,
    /// Its standard error.
    pub error: String,
}

/// Everything about a job that changes while it runs, taken at one instant (the identity of the
/// job is on [`Job`]).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Where it is.
    pub state: JobState,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Outcome in words (set when finished).
    pub message: Option<String>,
    /// The first step that failed.
    pub failed_step: Option<String>,
    /// Steps that started, in order.
    pub steps: Vec<StepView>,
    /// Steps still to run, in order (steps may be added while running, e.g. a clean-up).
    pub pending: Vec<PlannedStep>,
    /// Outcome fields only the starter understands (set when finished).
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Snapshot {
    /// The finished steps, in the shape clients of the reference read.
    pub fn results(&self) -> Vec<StepResult> {
        self.steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Succeeded | StepState::Failed))
            .map(|s| StepResult {
                step: s.step.clone(),
                success: s.state == StepState::Succeeded,
                output: s.output.clone(),
                error: s.error.clone(),
            })
            .collect()
    }
}

/// The part of a job a list shows; cheaper than a [`Snapshot`], which copies every output.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Where it is.
    pub state: JobState,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Outcome in words.
    pub message: Option<String>,
}

/// A change to a job, in the order it happened.
#[derive(Clone, Debug)]
pub enum JobEvent {
    /// The job changed state (`queued` → `running`).
    State {
        /// The new state.
        state: JobState,
    },
    /// A step started.
    StepStart {
        /// Position of the step among the started ones.
        index: usize,
        /// Step id.
        step: String,
        /// What it does, in words.
        title: String,
        /// The equivalent command line.
        command: String,
    },
    /// A line of output.
    Output {
        /// Position of the step.
        index: usize,
        /// Step id.
        step: String,
        /// Where the line came from.
        stream: Stream,
        /// The line, without its newline.
        line: String,
    },
    /// A step ended.
    StepEnd {
        /// Position of the step.
        index: usize,
        /// Step id.
        step: String,
        /// How it ended.
        state: StepState,
        /// Exit code of the command, when it exited.
        exit_code: Option<i32>,
        /// Killed because it outlived its timeout.
        timed_out: bool,
        /// Run time in milliseconds.
        duration_ms: u64,
    },
    /// The job finished; the payload is its final state.
    End(Box<Snapshot>),
}

impl JobEvent {
    /// A stable name per kind of event, so followers (Server-Sent Events) can dispatch on it.
    pub fn name(&self) -> &'static str {
        match self {
            JobEvent::State { .. } => "state",
            JobEvent::StepStart { .. } => "step-start",
            JobEvent::Output { .. } => "output",
            JobEvent::StepEnd { .. } => "step-end",
            JobEvent::End(_) => "end",
        }
    }
}

/// One job: its identity (fixed when created), what its starter attached (`meta`), and its
/// steps and events.
pub struct Job<M> {
    /// Random id, unguessable so that it can appear in URLs.
    pub id: String,
    /// What the job acts on; at most one unfinished job per target.
    pub target: String,
    /// Who started it, when known.
    pub user: Option<String>,
    /// What the starter attached (for example the kind of job and what reading it requires).
    pub meta: M,
    /// When it was accepted.
    pub created_at: Timestamp,
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
#[derive(Clone, Debug, Default)]
pub struct Finish {
    /// Every step succeeded.
    pub success: bool,
    /// Outcome in words.
    pub message: String,
    /// The first failed step.
    pub failed_step: Option<String>,
    /// Fields only the starter understands.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Finish {
    /// A successful end.
    pub fn succeeded(message: impl Into<String>) -> Self {
        Self {
            success: true,
            message: message.into(),
            ..Self::default()
        }
    }

    /// A failure that no single step explains (the job could not even start its steps).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            success: false,
            message: message.into(),
            ..Self::default()
        }
    }

    /// A failure at `step`: `<verb> failed at step "<step>": <error>`.
    pub fn failed_at(verb: &str, step: &str, error: &str) -> Self {
        Self {
            success: false,
            message: format!("{verb} failed at step \"{step}\": {error}"),
            failed_step: Some(step.to_string()),
            details: serde_json::Map::new(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_string(t: Timestamp) -> String {
    t.to_string()
}

impl<M> Job<M> {
    /// Everything that changes, as of now.
    pub fn snapshot(&self) -> Snapshot {
        Self::snapshot_of(&lock(&self.data))
    }

    fn snapshot_of(data: &JobData) -> Snapshot {
        Snapshot {
            state: data.state,
            started_at: data.started_at,
            finished_at: data.finished_at,
            message: data.message.clone(),
            failed_step: data.failed_step.clone(),
            steps: data.steps.iter().map(|s| s.view.clone()).collect(),
            pending: data.pending.iter().cloned().collect(),
            details: data.details.clone(),
        }
    }

    /// What a list shows, without copying any output.
    pub fn summary(&self) -> Summary {
        let data = lock(&self.data);
        Summary {
            state: data.state,
            finished_at: data.finished_at,
            message: data.message.clone(),
        }
    }

    /// Current state.
    pub fn state(&self) -> JobState {
        lock(&self.data).state
    }

    /// A snapshot and a receiver of every later event, taken atomically.
    pub fn subscribe(&self) -> (Snapshot, broadcast::Receiver<JobEvent>) {
        let data = lock(&self.data);
        (Self::snapshot_of(&data), self.events.subscribe())
    }

    /// Waits until the job finished or `limit` passed; true when finished.
    pub async fn wait(&self, limit: Duration) -> bool {
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
    pub fn plan(&self, steps: Vec<PlannedStep>) {
        lock(&self.data).pending = steps.into();
    }

    /// Marks the job running.
    pub fn begin(&self) {
        let mut data = lock(&self.data);
        data.state = JobState::Running;
        data.started_at = Some(Timestamp::now());
        self.emit(JobEvent::State {
            state: JobState::Running,
        });
    }

    /// Starts step `step` (removing it from the plan if planned); returns its index.
    pub fn step_start(&self, step: &str, title: &str, command: &str) -> usize {
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
    pub fn output(&self, index: usize, stream: Stream, line: &str) {
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

    /// Ends step `index` (its output was recorded line by line already).
    pub fn step_end(&self, index: usize, success: bool, exit_code: Option<i32>, timed_out: bool) {
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
        let snapshot = Self::snapshot_of(&data);
        self.emit(JobEvent::End(Box::new(snapshot)));
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

/// Another job of the same target is unfinished; it is the one to follow.
pub struct Busy<M> {
    /// The unfinished job.
    pub running: Arc<Job<M>>,
}

impl<M> std::fmt::Debug for Busy<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Busy")
            .field("job", &self.running.id)
            .field("target", &self.running.target)
            .finish()
    }
}

impl<M> std::fmt::Display for Busy<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another job ({}) is already running for {}",
            self.running.id, self.running.target
        )
    }
}

impl<M> std::error::Error for Busy<M> {}

/// Every job of one server. Cloning shares the registry (a running job's task holds a clone to
/// record its end).
pub struct Jobs<M> {
    registry: Arc<Mutex<Registry<M>>>,
}

impl<M> Clone for Jobs<M> {
    fn clone(&self) -> Self {
        Self {
            registry: self.registry.clone(),
        }
    }
}

impl<M> Default for Jobs<M> {
    fn default() -> Self {
        Self {
            registry: Arc::new(Mutex::new(Registry {
                order: VecDeque::new(),
                by_id: HashMap::new(),
                active: HashMap::new(),
            })),
        }
    }
}

struct Registry<M> {
    /// Oldest first.
    order: VecDeque<Arc<Job<M>>>,
    by_id: HashMap<String, Arc<Job<M>>>,
    /// The unfinished job of each target.
    active: HashMap<String, Arc<Job<M>>>,
}

/// What [`Jobs::create`] needs.
pub struct NewJob<M> {
    /// What the job acts on.
    pub target: String,
    /// Who starts it.
    pub user: Option<String>,
    /// What the starter attaches.
    pub meta: M,
}

impl<M: Send + Sync + 'static> Jobs<M> {
    /// Registers a queued job, unless another job of the same target is unfinished.
    pub fn create(&self, new: NewJob<M>) -> Result<Arc<Job<M>>, Busy<M>> {
        let mut registry = lock(&self.registry);
        if let Some(running) = registry.active.get(&new.target)
            && !running.finished()
        {
            return Err(Busy {
                running: running.clone(),
            });
        }
        registry.prune();
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (done, _) = watch::channel(false);
        let job = Arc::new(Job {
            id: hex::encode(rand::random::<[u8; 16]>()),
            target: new.target.clone(),
            user: new.user,
            meta: new.meta,
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
    pub fn finish(&self, job: &Arc<Job<M>>, finish: Finish) {
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

    /// Runs `work` for `job` on its own task, so that a client going away does not stop it
    /// half-way, and finishes the job with its answer; a panic finishes it as failed.
    pub fn spawn<F>(&self, job: Arc<Job<M>>, work: F)
    where
        F: Future<Output = Finish> + Send + 'static,
    {
        let jobs = self.clone();
        tokio::spawn(async move {
            job.begin();
            let finish = match AssertUnwindSafe(work).catch_unwind().await {
                Ok(finish) => finish,
                Err(_) => Finish::failed(
                    "The job failed unexpectedly (internal error); see the server log",
                ),
            };
            jobs.finish(&job, finish);
        });
    }

    /// The job `id`, if still kept.
    pub fn get(&self, id: &str) -> Option<Arc<Job<M>>> {
        let mut registry = lock(&self.registry);
        registry.prune();
        registry.by_id.get(id).cloned()
    }

    /// The unfinished job of `target`, if any.
    pub fn active(&self, target: &str) -> Option<Arc<Job<M>>> {
        lock(&self.registry)
            .active
            .get(target)
            .filter(|j| !j.finished())
            .cloned()
    }

    /// Every kept job, newest first.
    pub fn all(&self) -> Vec<Arc<Job<M>>> {
        let mut registry = lock(&self.registry);
        registry.prune();
        registry.order.iter().rev().cloned().collect()
    }
}

impl<M> Registry<M> {
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

    fn new_job(target: &str) -> NewJob<()> {
        NewJob {
            target: target.into(),
            user: None,
            meta: (),
        }
    }

    fn done() -> Finish {
        Finish::succeeded("ok")
    }

    #[test]
    fn one_job_per_target() {
        let jobs = Jobs::default();
        let first = jobs.create(new_job("kaito")).expect("first");
        let second = jobs.create(new_job("kaito")).err().expect("refused");
        assert_eq!(second.running.id, first.id);
        assert!(jobs.create(new_job("dynamo")).is_ok());
        jobs.finish(&first, done());
        assert!(jobs.create(new_job("kaito")).is_ok());
        assert!(jobs.get(&first.id).is_some());
    }

    #[test]
    fn steps_events_and_snapshot() {
        let jobs = Jobs::default();
        let job = jobs.create(new_job("p")).expect("job");
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
        jobs.finish(&job, Finish::failed_at("Doing", "a", "failed"));
        let names: Vec<&str> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.name())
            .collect();
        assert_eq!(names, ["output", "step-end", "end"]);
        let view = job.snapshot();
        assert_eq!(view.state, JobState::Failed);
        assert_eq!(view.failed_step.as_deref(), Some("a"));
        assert_eq!(view.steps[1].state, StepState::Skipped);
        let results = view.results();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].error, "oops\n");
    }

    #[test]
    fn output_is_bounded() {
        let jobs = Jobs::default();
        let job = jobs.create(new_job("p")).expect("job");
        let i = job.step_start("a", "A", "helm a");
        let line = "x".repeat(1024);
        for _ in 0..400 {
            job.output(i, Stream::Stdout, &line);
        }
        let out = &job.snapshot().steps[0].output;
        assert!(out.len() <= MAX_OUTPUT + 100);
        assert!(out.ends_with("more than 256 KiB]\n"));
    }

    #[test]
    fn finished_jobs_beyond_the_bound_are_forgotten() {
        let jobs = Jobs::default();
        let first = jobs.create(new_job("t0")).expect("job");
        jobs.finish(&first, done());
        for n in 1..=MAX_JOBS {
            let job = jobs.create(new_job(&format!("t{n}"))).expect("job");
            jobs.finish(&job, done());
        }
        let _ = jobs.create(new_job("last"));
        assert!(jobs.get(&first.id).is_none());
        assert!(jobs.all().len() <= MAX_JOBS + 1);
    }

    #[tokio::test]
    async fn spawned_work_finishes_the_job_even_when_it_panics() {
        let jobs = Jobs::default();
        let job = jobs.create(new_job("p")).expect("job");
        jobs.spawn(job.clone(), async { panic!("boom") });
        assert!(job.wait(Duration::from_secs(5)).await);
        assert_eq!(job.state(), JobState::Failed);
        assert!(jobs.active("p").is_none());
    }
}
