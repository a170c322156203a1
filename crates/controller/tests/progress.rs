//! The progress timeline on the real control plane (issue 20): KWOK stages script the pods'
//! lives (`crates/testenv/stages/progress.yaml`) — images pulled after a delay, a slow load, an
//! image pull back-off, a crash loop, an OOM kill — and the real scheduler refuses a pod that
//! wants more GPUs than any node has. The controller's `status.progress` must follow each phase
//! in order and name each stall.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, PostParams};
use kubeairunway_api::labels::DEPLOYMENT;
use kubeairunway_api::{
    ModelDeployment, ProgressPhaseName as Phase, ProgressState as State, ProgressStatus,
};
use kubeairunway_controller::Settings;
use kubeairunway_core::progress::Thresholds;
use kubeairunway_testenv::SCRIPT_LABEL;
use serde_json::{Value, json};
use support::*;

/// Loading may last 1.5 s before it counts as slow (the `slow-start` script loads for 3 s).
fn settings() -> Settings {
    Settings {
        progress: Thresholds {
            loading: Duration::from_millis(1500),
            ..Thresholds::default()
        },
        ..Settings::quick()
    }
}

fn spec(script: Option<&str>, gpus: i64) -> Value {
    let mut spec = json!({
        "model": { "id": "Qwen/Qwen3-0.6B" },
        "provider": { "name": "kubernetes" },
        "engine": { "type": "vllm" },
        "resources": { "gpu": { "count": gpus } },
    });
    if let Some(script) = script {
        spec["podTemplate"] = json!({ "metadata": { "labels": { SCRIPT_LABEL: script } } });
    }
    spec
}

fn progress(md: &ModelDeployment) -> Option<ProgressStatus> {
    md.status.as_ref().and_then(|s| s.progress.clone())
}

fn state_of(p: &ProgressStatus, name: Phase) -> State {
    p.phases
        .iter()
        .find(|ph| ph.name == name)
        .map_or(State::Waiting, |ph| ph.state)
}

/// Reads the deployment every 100 ms until `done` holds for its progress, and returns every
/// distinct (current phase, its state, stall reason) it went through, in order.
async fn follow(
    api: &Api<ModelDeployment>,
    name: &str,
    limit: Duration,
    done: impl Fn(&ProgressStatus) -> bool,
) -> (Vec<(Option<Phase>, State, Option<String>)>, ProgressStatus) {
    let started = Instant::now();
    let mut seen: Vec<(Option<Phase>, State, Option<String>)> = Vec::new();
    loop {
        let md = api.get(name).await.expect("read the deployment");
        if let Some(p) = progress(&md) {
            let state = p.current.map_or(State::Done, |c| state_of(&p, c));
            let step = (p.current, state, p.stalled_reason.clone());
            if seen.last() != Some(&step) {
                seen.push(step);
            }
            if done(&p) {
                return (seen, p);
            }
        }
        assert!(
            started.elapsed() < limit,
            "{name}: progress did not get there in {limit:?}; went through {seen:?}; status {:?}",
            md.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_follows_each_phase_and_names_each_stall() {
    let (_cp, client, ns) = setup("progress").await;
    let _controller = start(&["kubernetes"], settings(), false);
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    for (name, script, gpus) in [
        ("slow-start", Some("slow-start"), 1),
        ("pull-backoff", Some("pull-backoff"), 1),
        ("crash-loop", Some("crash-loop"), 1),
        ("oom", Some("oom"), 1),
        ("too-many-gpus", None, 64),
    ] {
        create(&client, &ns, name, spec(script, gpus)).await;
    }

    // slow-start: scheduled, images pulled after 2 s, loading for 3 s (slow after 1.5 s), ready.
    let (seen, done) = follow(&api, "slow-start", Duration::from_secs(60), |p| {
        p.current.is_none()
    })
    .await;
    eprintln!("slow-start went through {seen:?}");
    let expected = [
        (Some(Phase::ImagePulling), State::Active, None),
        (Some(Phase::Loading), State::Active, None),
        (
            Some(Phase::Loading),
            State::Stalled,
            Some("Slow".to_string()),
        ),
        (None, State::Done, None),
    ];
    let mut rest = seen.iter();
    for step in &expected {
        assert!(
            rest.any(|s| s == step),
            "slow-start: {step:?} missing or out of order in {seen:?}"
        );
    }
    for ph in &done.phases {
        match ph.name {
            Phase::Downloading => assert_eq!(ph.state, State::Skipped, "{ph:?}"),
            _ => assert_eq!(ph.state, State::Done, "{ph:?}"),
        }
    }
    let took = |name: Phase| {
        done.phases
            .iter()
            .find(|ph| ph.name == name)
            .and_then(|ph| ph.duration_seconds)
            .unwrap_or(-1)
    };
    // KWOK waited 2 s before starting the container and 3 s before it was ready (whole seconds).
    assert!((1..=4).contains(&took(Phase::ImagePulling)), "{done:?}");
    assert!((2..=5).contains(&took(Phase::Loading)), "{done:?}");
    assert_eq!((done.pods_desired, done.pods_ready), (1, 1));
    eprintln!(
        "slow-start phases (s): image pull {}, loading {}",
        took(Phase::ImagePulling),
        took(Phase::Loading)
    );

    // A weights download in an init container (as an operator that downloads before the model
    // server starts would create): its own phase. No provider here renders one, so the pod is
    // made by hand for a deployment scaled to zero, labelled as the deployment's.
    let mut zero = spec(None, 1);
    zero["scaling"] = json!({ "replicas": 0 });
    create(&client, &ns, "download", zero).await;
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "download-0", "namespace": ns,
                      "labels": { DEPLOYMENT: "download", SCRIPT_LABEL: "download" } },
        "spec": {
            "initContainers": [{ "name": "model-download", "image": "hf-downloader:test" }],
            "containers": [{ "name": "server", "image": "vllm:test" }],
        },
    }))
    .expect("pod");
    Api::<Pod>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &pod)
        .await
        .expect("create the downloading pod");
    let (seen, done) = follow(&api, "download", Duration::from_secs(60), |p| {
        p.current.is_none() && p.pods_ready == 1
    })
    .await;
    eprintln!("download went through {seen:?}");
    let mut rest = seen.iter();
    for step in [
        (Some(Phase::Downloading), State::Active, None),
        (Some(Phase::Loading), State::Active, None),
        (None, State::Done, None),
    ] {
        assert!(
            rest.any(|s| *s == step),
            "download: {step:?} missing or out of order in {seen:?}"
        );
    }
    let downloaded = done
        .phases
        .iter()
        .find(|ph| ph.name == Phase::Downloading)
        .expect("the download phase");
    assert_eq!(downloaded.state, State::Done, "{done:?}");
    // KWOK ran the init container for 2 s.
    assert!(
        downloaded
            .duration_seconds
            .is_some_and(|d| (1..=4).contains(&d)),
        "{downloaded:?}"
    );

    // The stalls, each in its phase with its reason and the kubelet's (KWOK's) words.
    for (name, phase, reason, words) in [
        (
            "pull-backoff",
            Phase::ImagePulling,
            "ImagePullBackOff",
            "Back-off pulling image",
        ),
        (
            "crash-loop",
            Phase::Loading,
            "CrashLoopBackOff",
            "last exit code 1, Error",
        ),
        ("oom", Phase::Loading, "OOMKilled", "memory limit"),
        (
            "too-many-gpus",
            Phase::Scheduled,
            "InsufficientGPU",
            "Insufficient nvidia.com/gpu",
        ),
    ] {
        let (_, p) = follow(&api, name, Duration::from_secs(60), |p| {
            p.stalled_reason.as_deref() == Some(reason)
        })
        .await;
        assert_eq!(p.current, Some(phase), "{name}: {p:?}");
        let stuck = p
            .phases
            .iter()
            .find(|ph| ph.name == phase)
            .expect("the stalled phase");
        assert_eq!(stuck.state, State::Stalled, "{name}: {p:?}");
        assert!(
            stuck.message.as_deref().is_some_and(|m| m.contains(words)),
            "{name}: the message says {words:?}: {stuck:?}"
        );
    }

    // Each stall is a Warning Event on the deployment, for `kubectl describe`.
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stalled: Vec<String> = events
            .list(&ListParams::default())
            .await
            .expect("events")
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("Stalled"))
            .filter_map(|e| e.involved_object.name)
            .collect();
        let all = [
            "slow-start",
            "pull-backoff",
            "crash-loop",
            "oom",
            "too-many-gpus",
        ]
        .iter()
        .all(|n| stalled.iter().any(|s| s == n));
        if all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a Stalled Event for each deployment; found {stalled:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
