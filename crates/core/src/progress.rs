//! Where a deployment's pods are on their way to serving, read from what the scheduler and the
//! kubelet (or KWOK) wrote on them: scheduled, image pulled, weights downloaded by an init
//! container, model server loading, ready — with when each phase started and ended, and why one
//! is stuck.
//!
//! A pod is in exactly one phase at a time ([`pod_phase`]); the deployment's timeline aggregates
//! its pods ([`observe`]): a phase is done once every desired pod has passed it, stalled when a
//! pod is stuck in it (a scheduler refusal, an image pull back-off, a crash loop, an OOM kill)
//! or when it has lasted longer than its threshold ([`Thresholds`]).

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;
use kubeairunway_api::{ProgressPhase, ProgressPhaseName, ProgressState, ProgressStatus};

/// Every phase, in order.
pub const PHASES: [ProgressPhaseName; 5] = [
    ProgressPhaseName::Scheduled,
    ProgressPhaseName::ImagePulling,
    ProgressPhaseName::Downloading,
    ProgressPhaseName::Loading,
    ProgressPhaseName::Ready,
];

/// Stall reason of a phase that lasted longer than its threshold.
pub const SLOW: &str = "Slow";
/// Stall reason of a pod the scheduler cannot place for lack of GPUs.
pub const INSUFFICIENT_GPU: &str = "InsufficientGPU";
/// Stall reason of a pod the scheduler cannot place for another reason.
pub const UNSCHEDULABLE: &str = "Unschedulable";

/// Container waiting reasons that mean the image cannot be pulled.
const IMAGE_PULL_FAILURES: [&str; 5] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
];
/// Container waiting reasons that mean the container cannot start or keeps dying.
const START_FAILURES: [&str; 3] = [
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// How long each phase may last before it counts as stalled (`Slow`). Large models take long
/// to download and load, so the defaults are generous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Waiting for the scheduler (a refusal stalls at once; this covers a slow scheduler).
    pub scheduling: Duration,
    /// Pulling images (engine images are tens of GB).
    pub image_pull: Duration,
    /// An init container downloading weights.
    pub download: Duration,
    /// The model server starting and loading weights (and downloading them itself).
    pub loading: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            scheduling: Duration::from_secs(5 * 60),
            image_pull: Duration::from_secs(15 * 60),
            download: Duration::from_secs(60 * 60),
            loading: Duration::from_secs(30 * 60),
        }
    }
}

impl Thresholds {
    /// The threshold of `phase` (`None` for `Ready`, which has no end).
    pub fn of(&self, phase: ProgressPhaseName) -> Option<Duration> {
        match phase {
            ProgressPhaseName::Scheduled => Some(self.scheduling),
            ProgressPhaseName::ImagePulling => Some(self.image_pull),
            ProgressPhaseName::Downloading => Some(self.download),
            ProgressPhaseName::Loading => Some(self.loading),
            ProgressPhaseName::Ready => None,
        }
    }
}

/// The phase one pod is in, with what it says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct PodPhase {
    /// The phase it has not finished.
    pub phase: ProgressPhaseName,
    /// Why it is stuck there, when it is.
    pub stalled: Option<String>,
    /// The scheduler's, kubelet's or container's latest word.
    pub message: Option<String>,
    /// When each phase was finished, by index in [`PHASES`] (`None`: not finished, or not seen).
    pub finished: [Option<Timestamp>; 5],
    /// When the pod was created (entering `Scheduled`).
    pub created: Option<Timestamp>,
    /// True when the pod has no init container (no `Downloading` step).
    pub no_download: bool,
}

/// Reads one pod.
pub fn pod_phase(pod: &Pod) -> PodPhase {
    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let condition = |kind: &str| {
        status
            .conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|c| c.type_ == kind)
            .cloned()
    };
    let init_specs: Vec<_> = spec
        .init_containers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|c| c.restart_policy.as_deref() != Some("Always"))
        .map(|c| c.name.clone())
        .collect();
    let inits: Vec<&ContainerStatus> = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|c| init_specs.contains(&c.name))
        .collect();
    let mains: Vec<&ContainerStatus> = status
        .container_statuses
        .as_deref()
        .unwrap_or_default()
        .iter()
        .collect();
    let mut finished: [Option<Timestamp>; 5] = [None; 5];
    let no_download = init_specs.is_empty();
    let base = PodPhase {
        phase: ProgressPhaseName::Scheduled,
        stalled: None,
        message: None,
        finished: [None; 5],
        created,
        no_download,
    };

    // Scheduled: bound to a node. The scheduler's condition says when; KWOK's status writes may
    // drop it, so a node name alone counts too (at the pod's start time).
    let scheduled = condition("PodScheduled");
    let bound = spec.node_name.is_some() || scheduled.as_ref().is_some_and(|c| c.status == "True");
    if !bound {
        let (stalled, message) = match &scheduled {
            Some(c) if c.status == "False" && c.reason.as_deref() == Some("Unschedulable") => {
                let message = c.message.clone().unwrap_or_default();
                let reason = if message.contains("Insufficient") && message.contains("gpu") {
                    INSUFFICIENT_GPU
                } else {
                    UNSCHEDULABLE
                };
                (Some(reason.to_string()), Some(message))
            }
            _ => (None, Some("Waiting for the scheduler".to_string())),
        };
        return PodPhase {
            stalled,
            message,
            ..base
        };
    }
    let scheduled_at = scheduled
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.map(|t| t.0))
        .or_else(|| status.start_time.as_ref().map(|t| t.0))
        .or(created);
    finished[index(ProgressPhaseName::Scheduled)] = scheduled_at;

    // ImagePulling: until a container has started (its image is there). A pull failure on any
    // container stalls here, whichever container it is.
    let all: Vec<&ContainerStatus> = inits.iter().chain(mains.iter()).copied().collect();
    if let Some((reason, message)) = all.iter().find_map(|c| waiting(c, &IMAGE_PULL_FAILURES)) {
        return PodPhase {
            phase: ProgressPhaseName::ImagePulling,
            stalled: Some(reason),
            message,
            finished,
            ..base
        };
    }
    let first_start = if all.iter().any(|c| has_started(c)) {
        all.iter()
            .filter_map(|c| start_time(c))
            .min()
            .or(scheduled_at)
    } else {
        None
    };
    let Some(pulled_at) = first_start else {
        let message = all
            .iter()
            .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
            .map(|r| format!("Containers waiting: {r}"))
            .or_else(|| Some("Pulling images".to_string()));
        return PodPhase {
            phase: ProgressPhaseName::ImagePulling,
            stalled: None,
            message,
            finished,
            ..base
        };
    };
    finished[index(ProgressPhaseName::ImagePulling)] = Some(pulled_at);

    // Downloading: the init containers (weights downloaders) until they all completed.
    if !no_download {
        let done = inits.len() == init_specs.len()
            && inits.iter().all(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .is_some_and(|t| t.exit_code == 0)
            });
        if !done {
            let stalled = inits.iter().find_map(|c| failure(c));
            let message = stalled.as_ref().map(|(_, m)| m.clone()).unwrap_or_else(|| {
                let running: Vec<_> = inits
                    .iter()
                    .filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
                    .map(|c| c.name.as_str())
                    .collect();
                Some(if running.is_empty() {
                    "Init containers starting".to_string()
                } else {
                    format!("Init container {} running", running.join(", "))
                })
            });
            return PodPhase {
                phase: ProgressPhaseName::Downloading,
                stalled: stalled.map(|(r, _)| r),
                message,
                finished,
                ..base
            };
        }
        let done_at = inits
            .iter()
            .filter_map(|c| {
                c.state
                    .as_ref()?
                    .terminated
                    .as_ref()?
                    .finished_at
                    .as_ref()
                    .map(|t| t.0)
            })
            .max()
            .or(Some(pulled_at));
        finished[index(ProgressPhaseName::Downloading)] = done_at;
    }

    // Loading: the model server runs but is not ready; a crash loop or an OOM kill stalls.
    let ready = condition("Ready").filter(|c| c.status == "True");
    let ready_now = ready.is_some()
        && !mains.is_empty()
        && mains.iter().all(|c| c.ready)
        && status.phase.as_deref() != Some("Failed");
    if !ready_now {
        let stalled = mains.iter().find_map(|c| failure(c));
        let message = stalled.as_ref().map(|(_, m)| m.clone()).unwrap_or_else(|| {
            let restarts: i32 = mains.iter().map(|c| c.restart_count).sum();
            Some(if restarts > 0 {
                format!("Model server starting (restarted {restarts} time(s))")
            } else if mains
                .iter()
                .any(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
            {
                "Model server running, not ready yet".to_string()
            } else {
                "Model server starting".to_string()
            })
        });
        return PodPhase {
            phase: ProgressPhaseName::Loading,
            stalled: stalled.map(|(r, _)| r),
            message,
            finished,
            ..base
        };
    }
    let ready_at = ready
        .and_then(|c| c.last_transition_time.map(|t| t.0))
        .or(Some(pulled_at));
    finished[index(ProgressPhaseName::Loading)] = ready_at;
    finished[index(ProgressPhaseName::Ready)] = ready_at;
    PodPhase {
        phase: ProgressPhaseName::Ready,
        stalled: None,
        message: Some("Ready".into()),
        finished,
        ..base
    }
}

/// The deployment's timeline from its pods, wanting `desired` of them. `previous` keeps the
/// start of unfinished phases whose first pod is gone (a replaced pod does not reset the clock;
/// a phase finished before starts afresh, so a pod replaced a week later is not "slow"). Also
/// returns when to look again for a phase to cross its threshold, if one is under way.
pub fn observe(
    pods: &[Pod],
    desired: i32,
    previous: Option<&ProgressStatus>,
    created: Option<Timestamp>,
    now: Timestamp,
    thresholds: &Thresholds,
) -> (ProgressStatus, Option<Duration>) {
    let mut live: Vec<PodPhase> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(pod_phase)
        .collect();
    // The pods furthest along serve; the rest are surplus (a rollout's old pods, or more
    // pods than wanted while scaling down).
    live.sort_by_key(|p| std::cmp::Reverse(index(p.phase)));
    let wanted = usize::try_from(desired.max(0)).unwrap_or(0);
    let counted: Vec<&PodPhase> = live.iter().take(wanted.max(1)).collect();
    let ready = live
        .iter()
        .filter(|p| p.phase == ProgressPhaseName::Ready)
        .count();
    let missing = wanted.saturating_sub(live.len());
    let no_download = !counted.is_empty() && counted.iter().all(|p| p.no_download);
    let earlier = |name: ProgressPhaseName| {
        previous.and_then(|p| {
            p.phases
                .iter()
                .find(|ph| ph.name == name && ph.state != ProgressState::Done)
                .and_then(|ph| ph.started_at.as_deref())
                .and_then(|t| t.parse::<Timestamp>().ok())
        })
    };

    let mut phases = Vec::with_capacity(PHASES.len());
    let mut current = None;
    let mut stalled_reason = None;
    let mut recheck: Option<Duration> = None;
    let mut prev_finished: Option<Timestamp> = None;
    for (i, name) in PHASES.into_iter().enumerate() {
        if name == ProgressPhaseName::Downloading && no_download {
            phases.push(ProgressPhase {
                name,
                state: ProgressState::Skipped,
                started_at: None,
                finished_at: None,
                duration_seconds: None,
                reason: None,
                message: Some(
                    "No init container: the engine downloads the weights while Loading".into(),
                ),
            });
            continue;
        }
        // Entered: when the first counted pod finished the phase before it (or was created).
        let entered = counted
            .iter()
            .filter_map(|p| {
                if i == 0 {
                    p.created
                } else {
                    p.finished[..i].iter().rev().flatten().next().copied()
                }
            })
            .min();
        let started = match (earlier(name), entered) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b).or(if i == 0 { created } else { None }),
        };
        let all_done =
            missing == 0 && !counted.is_empty() && counted.iter().all(|p| p.finished[i].is_some());
        let behind: Vec<&&PodPhase> = counted.iter().filter(|p| p.phase == name).collect();
        let stuck = behind.iter().find(|p| p.stalled.is_some());
        let message = stuck
            .or(behind.first())
            .and_then(|p| p.message.clone())
            .or_else(|| {
                (i == 0 && counted.is_empty())
                    .then(|| "Waiting for the provider to create pods".into())
            });
        let mut phase = ProgressPhase {
            name,
            state: ProgressState::Waiting,
            started_at: None,
            finished_at: None,
            duration_seconds: None,
            reason: None,
            message: None,
        };
        if all_done {
            let finished = counted.iter().filter_map(|p| p.finished[i]).max();
            let begun = started.or(prev_finished).or(finished);
            phase.state = ProgressState::Done;
            phase.started_at = begun.map(|t| t.to_string());
            phase.finished_at = finished.map(|t| t.to_string());
            phase.duration_seconds = match (begun, finished) {
                (Some(b), Some(f)) => Some(f.duration_since(b).as_secs().max(0)),
                _ => None,
            };
            prev_finished = finished;
        } else if current.is_none() {
            current = Some(name);
            phase.started_at = started.map(|t| t.to_string());
            phase.message = message;
            if let Some(p) = stuck {
                phase.state = ProgressState::Stalled;
                phase.reason = p.stalled.clone();
            } else if let (Some(limit), Some(since)) = (thresholds.of(name), started) {
                let elapsed =
                    Duration::from_secs_f64(now.duration_since(since).as_secs_f64().max(0.0));
                if elapsed >= limit {
                    phase.state = ProgressState::Stalled;
                    phase.reason = Some(SLOW.into());
                    phase.message = Some(format!(
                        "{name:?} for {}, longer than the {} threshold{}",
                        minutes(elapsed),
                        minutes(limit),
                        phase
                            .message
                            .as_deref()
                            .map(|m| format!("; last: {m}"))
                            .unwrap_or_default()
                    ));
                } else {
                    phase.state = ProgressState::Active;
                    recheck = Some(limit - elapsed);
                }
            } else {
                phase.state = ProgressState::Active;
            }
            stalled_reason = phase.reason.clone();
        }
        phases.push(phase);
    }
    (
        ProgressStatus {
            current,
            stalled_reason,
            pods_desired: desired.max(0),
            pods_ready: i32::try_from(ready).unwrap_or(i32::MAX),
            phases,
        },
        recheck,
    )
}

/// The position of `phase` in [`PHASES`].
pub fn index(phase: ProgressPhaseName) -> usize {
    PHASES.iter().position(|p| *p == phase).unwrap_or(0)
}

/// A waiting reason in `reasons`, with its message.
fn waiting(c: &ContainerStatus, reasons: &[&str]) -> Option<(String, Option<String>)> {
    let w = c.state.as_ref()?.waiting.as_ref()?;
    let reason = w.reason.as_deref()?;
    reasons.contains(&reason).then(|| {
        (
            reason.to_string(),
            Some(format!(
                "{}: {reason}{}",
                c.name,
                w.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
        )
    })
}

/// Why a container cannot start or keeps dying: `OOMKilled` when its last run was killed for
/// memory, else the waiting reason (`CrashLoopBackOff`…), else a non-zero exit.
fn failure(c: &ContainerStatus) -> Option<(String, Option<String>)> {
    let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let now = c.state.as_ref().and_then(|s| s.terminated.as_ref());
    for t in [now, last].into_iter().flatten() {
        if t.reason.as_deref() == Some("OOMKilled") {
            return Some((
                "OOMKilled".into(),
                Some(format!(
                    "{}: killed for exceeding its memory limit (exit code {}, {} restart(s)); give it more memory",
                    c.name, t.exit_code, c.restart_count
                )),
            ));
        }
    }
    if let Some(found) = waiting(c, &START_FAILURES) {
        let exit = last
            .map(|t| {
                format!(
                    " (last exit code {}{})",
                    t.exit_code,
                    t.reason
                        .as_deref()
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        return Some((found.0, found.1.map(|m| format!("{m}{exit}"))));
    }
    let t = now.filter(|t| t.exit_code != 0)?;
    Some((
        t.reason.clone().unwrap_or_else(|| "Error".into()),
        Some(format!("{}: exited with code {}", c.name, t.exit_code)),
    ))
}

/// True once a container has run (its image is on the node).
fn has_started(c: &ContainerStatus) -> bool {
    let state = c.state.as_ref();
    state.is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        || c.restart_count > 0
        || c.last_state
            .as_ref()
            .is_some_and(|s| s.terminated.is_some())
}

/// When a container first started, as far as its status tells.
fn start_time(c: &ContainerStatus) -> Option<Timestamp> {
    let state = c.state.as_ref();
    let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    [
        last.and_then(|t| t.started_at.as_ref()),
        state
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.as_ref()),
        state
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.started_at.as_ref()),
    ]
    .into_iter()
    .flatten()
    .map(|t| t.0)
    .min()
}

/// `12m30s`, `45s`.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests;
