use super::*;

fn rayservice(status: Value) -> Value {
    json!({
        "spec": { "rayClusterConfig": { "workerGroupSpecs": [{ "replicas": 2 }, { "replicas": 1 }] } },
        "status": status,
    })
}

#[test]
fn status_mapping_table() {
    let cond = |t: &str, s: &str, m: &str| json!({ "conditions": [{ "type": t, "status": s, "message": m }] });
    let apps =
        |entries: Value| json!({ "activeServiceStatus": { "applicationStatuses": entries } });
    let cases: Vec<(&str, Value, ObservedPhase, Option<&str>, i32)> = vec![
        ("empty status", json!({}), ObservedPhase::Pending, None, 0),
        (
            "Ready true",
            cond("Ready", "True", ""),
            ObservedPhase::Running,
            None,
            0,
        ),
        (
            "RayServiceReady true",
            cond("RayServiceReady", "True", ""),
            ObservedPhase::Running,
            None,
            0,
        ),
        (
            "Ready false",
            cond("Ready", "False", "no serve endpoints"),
            ObservedPhase::Deploying,
            Some("no serve endpoints"),
            0,
        ),
        (
            "no matching condition",
            cond("UpgradeInProgress", "True", "x"),
            ObservedPhase::Pending,
            None,
            0,
        ),
        (
            "app running",
            apps(json!({ "llm": { "status": "RUNNING" } })),
            ObservedPhase::Running,
            None,
            3,
        ),
        (
            "app failed",
            apps(
                json!({ "llm": { "status": "DEPLOY_FAILED", "message": "import error" }, "other": { "status": "RUNNING" } }),
            ),
            ObservedPhase::Failed,
            Some("import error"),
            0,
        ),
        (
            "app failed without message",
            apps(json!({ "llm": { "status": "DEPLOY_FAILED" } })),
            ObservedPhase::Failed,
            Some("Ray Serve application llm failed to deploy"),
            0,
        ),
        (
            "app deploying",
            apps(json!({ "llm": { "status": "DEPLOYING", "message": "waiting for replicas" } })),
            ObservedPhase::Deploying,
            Some("waiting for replicas"),
            0,
        ),
        (
            "mixed apps",
            apps(json!({ "a": { "status": "RUNNING" }, "b": { "status": "NOT_STARTED" } })),
            ObservedPhase::Deploying,
            None,
            0,
        ),
        (
            "empty app map",
            apps(json!({})),
            ObservedPhase::Pending,
            None,
            0,
        ),
        (
            "malformed app entries skipped",
            apps(json!({ "a": 5, "b": { "message": "x" }, "c": { "status": "RUNNING" } })),
            ObservedPhase::Running,
            None,
            3,
        ),
        (
            "apps override the condition",
            json!({
                "conditions": [{ "type": "Ready", "status": "True" }],
                "activeServiceStatus": { "applicationStatuses": { "llm": { "status": "DEPLOY_FAILED", "message": "oom" } } },
            }),
            ObservedPhase::Failed,
            Some("oom"),
            0,
        ),
        (
            "malformed conditions skipped",
            json!({ "conditions": [{ "type": "Ready" }, "x", { "status": "True" }] }),
            ObservedPhase::Pending,
            None,
            0,
        ),
    ];
    for (name, status, phase, message, ready) in cases {
        let got = KubeRay.observe(&aggregated(json!({})), Some(&rayservice(status)), &[]);
        assert_eq!(got.phase, phase, "{name}");
        assert_eq!(got.message.as_deref(), message, "{name}");
        assert_eq!(
            got.replicas,
            Some(ReplicaStatus {
                desired: 3,
                ready,
                available: ready
            }),
            "{name}"
        );
        assert_eq!(
            got.endpoint,
            Some(EndpointStatus {
                service: Some("llama-serve-svc".into()),
                port: Some(8000)
            }),
            "{name}"
        );
    }
}

#[test]
fn no_object_or_no_status_keeps_desired_replicas_and_endpoint() {
    let md = aggregated(json!({ "scaling": { "replicas": 2 } }));
    let want = |desired| Observed {
        phase: ObservedPhase::Pending,
        message: None,
        replicas: Some(ReplicaStatus {
            desired,
            ready: 0,
            available: 0,
        }),
        endpoint: Some(EndpointStatus {
            service: Some("llama-serve-svc".into()),
            port: Some(8000),
        }),
        components: None,
    };
    assert_eq!(KubeRay.observe(&md, None, &[]), want(2));
    let no_status =
        json!({ "spec": { "rayClusterConfig": { "workerGroupSpecs": [{ "replicas": 5 }] } } });
    assert_eq!(KubeRay.observe(&md, Some(&no_status), &[]), want(5));
    let malformed =
        json!({ "spec": { "rayClusterConfig": { "workerGroupSpecs": [{ "replicas": "x" }] } } });
    assert_eq!(KubeRay.observe(&md, Some(&malformed), &[]), want(2));
    assert_eq!(
        KubeRay
            .observe(&disaggregated(json!({})), None, &[])
            .replicas
            .map(|r| r.desired),
        Some(5)
    );
}

#[test]
fn unschedulable_pods_explain_a_waiting_deployment() {
    let md = aggregated(json!({}));
    let pods = [unschedulable_pod(
        "llama-raycluster-worker-x",
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
    )];
    let got = KubeRay.observe(&md, Some(&rayservice(json!({}))), &pods);
    assert_eq!(
        got.message.as_deref(),
        Some(
            "Pod llama-raycluster-worker-x cannot be scheduled: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
        )
    );
    let running = rayservice(
        json!({ "activeServiceStatus": { "applicationStatuses": { "llm": { "status": "RUNNING" } } } }),
    );
    assert_eq!(KubeRay.observe(&md, Some(&running), &pods).message, None);
}
