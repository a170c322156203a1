use super::*;

fn workspace(conditions: Value, template: bool, count: Value) -> Value {
    let mut ws = json!({ "resource": { "count": count }, "status": { "conditions": conditions } });
    ws["inference"] = if template {
        json!({ "template": { "spec": {} } })
    } else {
        json!({ "preset": { "name": "x" } })
    };
    ws
}

#[test]
fn status_mapping_table() {
    let c = |t: &str, s: &str, m: &str| json!({ "type": t, "status": s, "message": m });
    let cases: Vec<(&str, Value, ObservedPhase, Option<&str>, i32)> = vec![
        ("no conditions", json!([]), ObservedPhase::Pending, None, 0),
        (
            "succeeded",
            json!([c("WorkspaceSucceeded", "True", "")]),
            ObservedPhase::Running,
            None,
            2,
        ),
        (
            "failed",
            json!([
                c("ResourceReady", "True", ""),
                c("WorkspaceSucceeded", "False", "boom")
            ]),
            ObservedPhase::Failed,
            Some("boom"),
            0,
        ),
        (
            "resource ready only",
            json!([
                c("ResourceReady", "True", ""),
                c("InferenceReady", "False", "pulling image")
            ]),
            ObservedPhase::Deploying,
            Some("pulling image"),
            0,
        ),
        (
            "resource and inference ready",
            json!([
                c("ResourceReady", "True", ""),
                c("InferenceReady", "True", "")
            ]),
            ObservedPhase::Deploying,
            None,
            0,
        ),
        (
            "resource not ready",
            json!([c("ResourceReady", "False", "no matching nodes")]),
            ObservedPhase::Pending,
            Some("no matching nodes"),
            0,
        ),
        (
            "malformed entries skipped",
            json!([{ "type": "WorkspaceSucceeded" }, 7, { "status": "True" }, c("ResourceReady", "True", "")]),
            ObservedPhase::Deploying,
            None,
            0,
        ),
    ];
    for (name, conditions, phase, message, ready) in cases {
        let ws = workspace(conditions, false, json!(2));
        let got = Kaito.observe(&vllm(), Some(&ws), &[]);
        assert_eq!(got.phase, phase, "{name}");
        assert_eq!(got.message.as_deref(), message, "{name}");
        assert_eq!(
            got.replicas,
            Some(ReplicaStatus {
                desired: 2,
                ready,
                available: ready
            }),
            "{name}"
        );
        assert_eq!(
            got.endpoint,
            Some(EndpointStatus {
                service: Some("llama".into()),
                port: Some(80)
            }),
            "{name}"
        );
    }
}

#[test]
fn endpoint_port_follows_the_inference_kind() {
    let ws = workspace(json!([]), true, json!(1));
    assert_eq!(
        Kaito
            .observe(&vllm(), Some(&ws), &[])
            .endpoint
            .and_then(|e| e.port),
        Some(5000)
    );
    let ws = workspace(json!([]), false, json!(1));
    assert_eq!(
        Kaito
            .observe(&vllm(), Some(&ws), &[])
            .endpoint
            .and_then(|e| e.port),
        Some(80)
    );
}

#[test]
fn no_object_yet_reports_desired_replicas_and_endpoint() {
    let got = Kaito.observe(
        &llamacpp(json!({ "scaling": { "replicas": 3 } })),
        None,
        &[],
    );
    assert_eq!(
        got,
        Observed {
            phase: ObservedPhase::Pending,
            message: None,
            replicas: Some(ReplicaStatus {
                desired: 3,
                ready: 0,
                available: 0
            }),
            endpoint: Some(EndpointStatus {
                service: Some("llama".into()),
                port: Some(5000)
            }),
            components: None,
        }
    );
    let got = Kaito.observe(&vllm(), None, &[]);
    assert_eq!(got.endpoint.and_then(|e| e.port), Some(80));
    assert_eq!(got.replicas.map(|r| r.desired), Some(1));
}

#[test]
fn engine_from_status_decides_the_port_before_the_object_exists() {
    let mut md = md(json!({ "model": { "id": "a/b" }, "image": "x:1" }));
    md.status = Some(ModelDeploymentStatus {
        engine: Some(EngineStatus {
            type_: Some(EngineType::Llamacpp),
            selected_reason: None,
        }),
        ..Default::default()
    });
    assert_eq!(
        Kaito.observe(&md, None, &[]).endpoint.and_then(|e| e.port),
        Some(5000)
    );
}

#[test]
fn replicas_without_count_or_status_fall_back_to_the_spec() {
    let ws = json!({ "inference": { "preset": { "name": "x" } } });
    let md = md(json!({ "model": { "id": "a/b" }, "scaling": { "replicas": 0 } }));
    let got = Kaito.observe(&md, Some(&ws), &[]);
    assert_eq!(got.phase, ObservedPhase::Pending);
    assert_eq!(
        got.replicas,
        Some(ReplicaStatus {
            desired: 1,
            ready: 0,
            available: 0
        })
    );
    let ws = workspace(json!([]), false, json!("three"));
    assert_eq!(
        Kaito
            .observe(&vllm(), Some(&ws), &[])
            .replicas
            .map(|r| r.desired),
        Some(1)
    );
}

#[test]
fn unschedulable_pods_explain_a_waiting_deployment() {
    let pods = [
        unschedulable_pod("llama-b", "0/3 nodes: insufficient nvidia.com/gpu"),
        scheduled_pod("llama-a"),
    ];
    let pending = workspace(json!([]), false, json!(1));
    let got = Kaito.observe(&vllm(), Some(&pending), &pods);
    assert_eq!(
        got.message.as_deref(),
        Some("Pod llama-b cannot be scheduled: 0/3 nodes: insufficient nvidia.com/gpu")
    );
    let running = workspace(
        json!([{ "type": "WorkspaceSucceeded", "status": "True" }]),
        false,
        json!(1),
    );
    assert_eq!(Kaito.observe(&vllm(), Some(&running), &pods).message, None);
    assert_eq!(
        Kaito
            .observe(&vllm(), Some(&pending), &[scheduled_pod("a")])
            .message,
        None
    );
}

#[test]
fn an_inference_set_is_running_when_it_reports_ready() {
    let md = md(
        json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "scaling": { "replicas": 2 },
                "provider": { "overrides": { "resourceType": "inferenceset" } } }),
    );
    let set = |status: Value| {
        json!({ "kind": "InferenceSet", "spec": { "replicas": 2, "template": { "inference": { "preset": { "name": "a/b" } } } },
                "status": status })
    };
    let none = Kaito.observe(&md, None, &[]);
    assert_eq!(none.phase, ObservedPhase::Pending);
    assert_eq!(
        none.endpoint,
        Some(EndpointStatus {
            service: Some("llama-0".into()),
            port: Some(80)
        })
    );
    let half = Kaito.observe(
        &md,
        Some(&set(json!({ "replicas": 2, "readyReplicas": 1, "conditions": [
            { "type": "InferenceSetReady", "status": "False", "message": "1 of 2 workspaces ready" }] }))),
        &[],
    );
    assert_eq!(half.phase, ObservedPhase::Deploying);
    assert_eq!(half.message.as_deref(), Some("1 of 2 workspaces ready"));
    assert_eq!(half.replicas.as_ref().map(|r| r.ready), Some(1));
    let ready = Kaito.observe(
        &md,
        Some(&set(json!({ "replicas": 2, "readyReplicas": 2, "conditions": [
            { "type": "InferenceSetReady", "status": "True", "message": "inferenceset is ready" }] }))),
        &[],
    );
    assert_eq!(ready.phase, ObservedPhase::Running);
    assert_eq!(ready.replicas.map(|r| (r.desired, r.ready)), Some((2, 2)));
}
