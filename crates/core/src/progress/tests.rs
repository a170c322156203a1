use super::*;
use serde_json::{Value, json};

const T0: &str = "2026-12-03T10:00:00Z";

fn t(s: u64) -> String {
    let base: Timestamp = T0.parse().expect("time");
    (base + std::time::Duration::from_secs(s)).to_string()
}

fn ts(s: u64) -> Timestamp {
    t(s).parse().expect("time")
}

/// A pod created at T0 with `status` and, when `init` is set, one weights-download init
/// container.
fn pod(name: &str, node: Option<&str>, init: bool, status: Value) -> Pod {
    let mut spec = json!({ "containers": [{ "name": "server", "image": "vllm" }] });
    if init {
        spec["initContainers"] = json!([{ "name": "download", "image": "hf-cli" }]);
    }
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    serde_json::from_value(json!({
        "metadata": { "name": name, "creationTimestamp": T0 },
        "spec": spec,
        "status": status,
    }))
    .expect("pod")
}

fn scheduled(at: u64) -> Value {
    json!({ "type": "PodScheduled", "status": "True", "lastTransitionTime": t(at) })
}

fn waiting(name: &str, reason: &str) -> Value {
    json!({ "name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": { "waiting": { "reason": reason, "message": format!("{reason} message") } } })
}

fn running(name: &str, at: u64, ready: bool) -> Value {
    json!({ "name": name, "image": "x", "imageID": "", "ready": ready, "restartCount": 0,
            "state": { "running": { "startedAt": t(at) } } })
}

fn ready_pod(name: &str, scheduled_at: u64, started: u64, ready_at: u64) -> Pod {
    pod(
        name,
        Some("gpu-0"),
        false,
        json!({
            "phase": "Running",
            "conditions": [scheduled(scheduled_at),
                           { "type": "Ready", "status": "True", "lastTransitionTime": t(ready_at) }],
            "containerStatuses": [running("server", started, true)],
        }),
    )
}

fn phase(p: &ProgressStatus, name: ProgressPhaseName) -> &ProgressPhase {
    p.phases.iter().find(|ph| ph.name == name).expect("phase")
}

fn observe_at(pods: &[Pod], desired: i32, now: u64) -> ProgressStatus {
    observe(
        pods,
        desired,
        None,
        Some(ts(0)),
        ts(now),
        &Thresholds::default(),
    )
    .0
}

#[test]
fn no_pods_yet_waits_in_scheduled() {
    let p = observe_at(&[], 2, 5);
    assert_eq!(p.current, Some(ProgressPhaseName::Scheduled));
    let s = phase(&p, ProgressPhaseName::Scheduled);
    assert_eq!(s.state, ProgressState::Active);
    assert_eq!(s.started_at.as_deref(), Some(t(0).as_str()));
    assert_eq!(
        s.message.as_deref(),
        Some("Waiting for the provider to create pods")
    );
    assert_eq!((p.pods_desired, p.pods_ready), (2, 0));
}

#[test]
fn a_pod_the_scheduler_refuses_for_gpus_stalls_with_insufficient_gpu() {
    let refused = pod(
        "a",
        None,
        false,
        json!({ "phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
            "lastTransitionTime": t(1) }] }),
    );
    let p = observe_at(&[refused], 1, 2);
    assert_eq!(p.current, Some(ProgressPhaseName::Scheduled));
    assert_eq!(p.stalled_reason.as_deref(), Some(INSUFFICIENT_GPU));
    let s = phase(&p, ProgressPhaseName::Scheduled);
    assert_eq!(s.state, ProgressState::Stalled);
    assert!(
        s.message
            .as_deref()
            .is_some_and(|m| m.contains("Insufficient nvidia.com/gpu"))
    );

    let tainted = pod(
        "b",
        None,
        false,
        json!({ "conditions": [{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 node(s) had untolerated taint {x: y}." }] }),
    );
    assert_eq!(
        observe_at(&[tainted], 1, 2).stalled_reason.as_deref(),
        Some(UNSCHEDULABLE)
    );
}

#[test]
fn image_pull_then_loading_then_ready_with_durations() {
    let pulling = pod(
        "a",
        Some("gpu-0"),
        false,
        json!({ "phase": "Pending", "conditions": [scheduled(2)],
                "containerStatuses": [waiting("server", "ContainerCreating")] }),
    );
    let p = observe_at(std::slice::from_ref(&pulling), 1, 10);
    assert_eq!(p.current, Some(ProgressPhaseName::ImagePulling));
    let s = phase(&p, ProgressPhaseName::Scheduled);
    assert_eq!(s.state, ProgressState::Done);
    assert_eq!(s.duration_seconds, Some(2));
    let pull = phase(&p, ProgressPhaseName::ImagePulling);
    assert_eq!(pull.state, ProgressState::Active);
    assert_eq!(pull.started_at.as_deref(), Some(t(2).as_str()));
    assert_eq!(
        phase(&p, ProgressPhaseName::Downloading).state,
        ProgressState::Skipped
    );
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).state,
        ProgressState::Waiting
    );

    let loading = pod(
        "a",
        Some("gpu-0"),
        false,
        json!({ "phase": "Running", "conditions": [scheduled(2)],
                "containerStatuses": [running("server", 30, false)] }),
    );
    let p = observe_at(&[loading], 1, 40);
    assert_eq!(p.current, Some(ProgressPhaseName::Loading));
    assert_eq!(
        phase(&p, ProgressPhaseName::ImagePulling).duration_seconds,
        Some(28)
    );
    let load = phase(&p, ProgressPhaseName::Loading);
    assert_eq!(load.started_at.as_deref(), Some(t(30).as_str()));
    assert_eq!(
        load.message.as_deref(),
        Some("Model server running, not ready yet")
    );

    let p = observe_at(&[ready_pod("a", 2, 30, 100)], 1, 120);
    assert_eq!(p.current, None);
    assert_eq!(p.stalled_reason, None);
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).duration_seconds,
        Some(70)
    );
    assert_eq!(
        phase(&p, ProgressPhaseName::Ready).state,
        ProgressState::Done
    );
    assert_eq!((p.pods_desired, p.pods_ready), (1, 1));
}

#[test]
fn a_phase_is_done_only_when_every_desired_pod_passed_it() {
    let behind = pod(
        "b",
        Some("gpu-1"),
        false,
        json!({ "conditions": [scheduled(5)], "containerStatuses": [waiting("server", "ContainerCreating")] }),
    );
    let p = observe_at(&[ready_pod("a", 2, 30, 100), behind.clone()], 2, 120);
    assert_eq!(p.current, Some(ProgressPhaseName::ImagePulling));
    assert_eq!(
        phase(&p, ProgressPhaseName::Scheduled)
            .finished_at
            .as_deref(),
        Some(t(5).as_str())
    );
    assert_eq!((p.pods_desired, p.pods_ready), (2, 1));
    // Three wanted, two exist: scheduling is not done.
    let p = observe_at(&[ready_pod("a", 2, 30, 100), behind], 3, 120);
    assert_eq!(p.current, Some(ProgressPhaseName::Scheduled));
    // Surplus pods (scaled down from two to one): the ready one counts.
    let slow = pod("c", None, false, json!({}));
    let p = observe_at(&[slow, ready_pod("a", 2, 30, 100)], 1, 120);
    assert_eq!(p.current, None);
}

#[test]
fn image_pull_failures_stall_in_image_pulling() {
    for reason in ["ImagePullBackOff", "ErrImagePull"] {
        let p = observe_at(
            &[pod(
                "a",
                Some("gpu-0"),
                false,
                json!({ "conditions": [scheduled(1)], "containerStatuses": [waiting("server", reason)] }),
            )],
            1,
            10,
        );
        assert_eq!(p.current, Some(ProgressPhaseName::ImagePulling));
        assert_eq!(p.stalled_reason.as_deref(), Some(reason));
        let pull = phase(&p, ProgressPhaseName::ImagePulling);
        assert_eq!(pull.state, ProgressState::Stalled);
        assert_eq!(
            pull.message.as_deref(),
            Some(format!("server: {reason}: {reason} message").as_str())
        );
    }
}

#[test]
fn crash_loops_and_oom_kills_stall_in_loading() {
    let crash = json!({ "name": "server", "image": "x", "imageID": "", "ready": false, "restartCount": 3,
        "state": { "waiting": { "reason": "CrashLoopBackOff", "message": "back-off 40s" } },
        "lastState": { "terminated": { "exitCode": 1, "reason": "Error", "startedAt": t(20), "finishedAt": t(25) } } });
    let p = observe_at(
        &[pod(
            "a",
            Some("gpu-0"),
            false,
            json!({ "conditions": [scheduled(1)], "containerStatuses": [crash] }),
        )],
        1,
        60,
    );
    assert_eq!(p.current, Some(ProgressPhaseName::Loading));
    assert_eq!(p.stalled_reason.as_deref(), Some("CrashLoopBackOff"));
    let load = phase(&p, ProgressPhaseName::Loading);
    assert!(
        load.message
            .as_deref()
            .is_some_and(|m| m.contains("last exit code 1, Error")),
        "{load:?}"
    );
    // The image was there: it started at 20.
    assert_eq!(
        phase(&p, ProgressPhaseName::ImagePulling)
            .finished_at
            .as_deref(),
        Some(t(20).as_str())
    );

    let oom = json!({ "name": "server", "image": "x", "imageID": "", "ready": false, "restartCount": 2,
        "state": { "running": { "startedAt": t(50) } },
        "lastState": { "terminated": { "exitCode": 137, "reason": "OOMKilled", "startedAt": t(20), "finishedAt": t(45) } } });
    let p = observe_at(
        &[pod(
            "a",
            Some("gpu-0"),
            false,
            json!({ "conditions": [scheduled(1)], "containerStatuses": [oom] }),
        )],
        1,
        60,
    );
    assert_eq!(p.stalled_reason.as_deref(), Some("OOMKilled"));
    assert!(
        phase(&p, ProgressPhaseName::Loading)
            .message
            .as_deref()
            .is_some_and(|m| m.contains("memory"))
    );
}

#[test]
fn init_containers_are_the_download() {
    let downloading = pod(
        "a",
        Some("gpu-0"),
        true,
        json!({ "conditions": [scheduled(1)],
                "initContainerStatuses": [running("download", 10, false)],
                "containerStatuses": [waiting("server", "PodInitializing")] }),
    );
    let p = observe_at(&[downloading], 1, 30);
    assert_eq!(p.current, Some(ProgressPhaseName::Downloading));
    let d = phase(&p, ProgressPhaseName::Downloading);
    assert_eq!(d.state, ProgressState::Active);
    assert_eq!(d.started_at.as_deref(), Some(t(10).as_str()));
    assert_eq!(
        d.message.as_deref(),
        Some("Init container download running")
    );

    let done = json!({ "name": "download", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
        "state": { "terminated": { "exitCode": 0, "reason": "Completed", "startedAt": t(10), "finishedAt": t(70) } } });
    let p = observe_at(
        &[pod(
            "a",
            Some("gpu-0"),
            true,
            json!({ "conditions": [scheduled(1)],
            "initContainerStatuses": [done], "containerStatuses": [running("server", 71, false)] }),
        )],
        1,
        80,
    );
    assert_eq!(p.current, Some(ProgressPhaseName::Loading));
    assert_eq!(
        phase(&p, ProgressPhaseName::Downloading).duration_seconds,
        Some(60)
    );

    let failed = json!({ "name": "download", "image": "x", "imageID": "", "ready": false, "restartCount": 1,
        "state": { "waiting": { "reason": "CrashLoopBackOff" } },
        "lastState": { "terminated": { "exitCode": 2, "startedAt": t(10), "finishedAt": t(12) } } });
    let p = observe_at(
        &[pod(
            "a",
            Some("gpu-0"),
            true,
            json!({ "conditions": [scheduled(1)],
            "initContainerStatuses": [failed], "containerStatuses": [waiting("server", "PodInitializing")] }),
        )],
        1,
        80,
    );
    assert_eq!(p.current, Some(ProgressPhaseName::Downloading));
    assert_eq!(p.stalled_reason.as_deref(), Some("CrashLoopBackOff"));
}

#[test]
fn a_phase_past_its_threshold_is_slow_and_a_recheck_is_due_before() {
    let loading = pod(
        "a",
        Some("gpu-0"),
        false,
        json!({ "conditions": [scheduled(1)], "containerStatuses": [running("server", 10, false)] }),
    );
    let limits = Thresholds {
        loading: Duration::from_secs(60),
        ..Thresholds::default()
    };
    let (p, recheck) = observe(
        std::slice::from_ref(&loading),
        1,
        None,
        None,
        ts(40),
        &limits,
    );
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).state,
        ProgressState::Active
    );
    assert_eq!(recheck, Some(Duration::from_secs(30)));
    let (p, recheck) = observe(&[loading], 1, None, None, ts(75), &limits);
    assert_eq!(p.stalled_reason.as_deref(), Some(SLOW));
    assert_eq!(recheck, None);
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).message.as_deref(),
        Some(
            "Loading for 1m5s, longer than the 1m threshold; last: Model server running, not ready yet"
        )
    );
}

#[test]
fn a_replaced_pod_keeps_the_phase_clock() {
    let previous = observe_at(
        &[pod(
            "a",
            Some("gpu-0"),
            false,
            json!({ "conditions": [scheduled(1)], "containerStatuses": [running("server", 10, false)] }),
        )],
        1,
        20,
    );
    // The pod was replaced at 50; the new one is loading since 60.
    let replaced: Pod = {
        let mut p = pod(
            "b",
            Some("gpu-0"),
            false,
            json!({ "conditions": [scheduled(55)], "containerStatuses": [running("server", 60, false)] }),
        );
        p.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(ts(50)));
        p
    };
    let (p, _) = observe(
        &[replaced],
        1,
        Some(&previous),
        None,
        ts(70),
        &Thresholds::default(),
    );
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).started_at.as_deref(),
        Some(t(10).as_str())
    );
}

#[test]
fn terminating_pods_do_not_count() {
    let mut gone = ready_pod("a", 1, 2, 3);
    gone.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(ts(5)));
    let p = observe_at(&[gone], 1, 10);
    assert_eq!(p.current, Some(ProgressPhaseName::Scheduled));
    assert_eq!(p.pods_ready, 0);
}

#[test]
fn a_phase_done_before_starts_afresh() {
    let previous = observe_at(&[ready_pod("a", 1, 2, 3)], 1, 10);
    let later = pod(
        "b",
        Some("gpu-0"),
        false,
        json!({ "conditions": [scheduled(1000)], "containerStatuses": [running("server", 1005, false)] }),
    );
    let (p, _) = observe(
        &[later],
        1,
        Some(&previous),
        None,
        ts(1010),
        &Thresholds::default(),
    );
    assert_eq!(
        phase(&p, ProgressPhaseName::Loading).started_at.as_deref(),
        Some(t(1005).as_str())
    );
}
