use super::*;

fn dgd_with_status(status: Value) -> Value {
    json!({
        "spec": { "services": { "Frontend": { "replicas": 1 }, "VllmWorker": { "replicas": 2 } } },
        "status": status,
    })
}

#[test]
fn no_object_or_no_status_keeps_desired_replicas_and_endpoint() {
    let md = aggregated(json!({ "scaling": { "replicas": 3 } }));
    let want = |desired| Observed {
        phase: ObservedPhase::Pending,
        message: None,
        replicas: Some(ReplicaStatus {
            desired,
            ready: 0,
            available: 0,
        }),
        endpoint: Some(EndpointStatus {
            service: Some("llama-frontend".into()),
            port: Some(8000),
        }),
        components: None,
    };
    // Frontend (1) + workers (3), as the DGD status would count them.
    assert_eq!(Dynamo.observe(&md, None, &[]), want(4));
    let no_status = json!({ "spec": { "services": { "Frontend": { "replicas": 1 }, "VllmWorker": { "replicas": 2 } } } });
    assert_eq!(Dynamo.observe(&md, Some(&no_status), &[]), want(3));
    let malformed = json!({ "status": "weird" });
    assert_eq!(Dynamo.observe(&md, Some(&malformed), &[]), want(4));
    let disagg =
        disaggregated(json!({ "provider": { "overrides": { "frontend": { "replicas": 2 } } } }));
    assert_eq!(
        Dynamo
            .observe(&disagg, None, &[])
            .replicas
            .map(|r| r.desired),
        Some(7)
    );
}

#[test]
fn state_mapping_table() {
    let cases = [
        (json!("successful"), ObservedPhase::Running),
        (json!("deploying"), ObservedPhase::Deploying),
        (json!("failed"), ObservedPhase::Failed),
        (json!("pending"), ObservedPhase::Pending),
        (json!("Unknown"), ObservedPhase::Pending),
        (json!(null), ObservedPhase::Pending),
        (json!(5), ObservedPhase::Pending),
    ];
    for (state, phase) in cases {
        let dgd = dgd_with_status(json!({ "state": state, "message": "m" }));
        let got = Dynamo.observe(&aggregated(json!({})), Some(&dgd), &[]);
        assert_eq!(got.phase, phase, "{state}");
        assert_eq!(got.message.as_deref(), Some("m"), "{state}");
    }
    let dgd = dgd_with_status(json!({ "state": "deploying" }));
    assert_eq!(
        Dynamo
            .observe(&aggregated(json!({})), Some(&dgd), &[])
            .message,
        None
    );
}

#[test]
fn failure_message_falls_back_to_error_then_conditions() {
    let cases = [
        (
            json!({ "state": "failed", "message": "m", "error": "e" }),
            Some("m"),
        ),
        (json!({ "state": "failed", "error": "e" }), Some("e")),
        (
            json!({ "state": "failed", "conditions": [
                { "type": "Ready", "status": "True", "message": "fine" },
                { "type": "Ready2", "status": "False", "message": "worker crashed" },
            ] }),
            Some("worker crashed"),
        ),
        (json!({ "state": "failed" }), None),
    ];
    for (status, want) in cases {
        let got = Dynamo.observe(
            &aggregated(json!({})),
            Some(&dgd_with_status(status.clone())),
            &[],
        );
        assert_eq!(got.phase, ObservedPhase::Failed);
        assert_eq!(got.message.as_deref(), want, "{status}");
    }
}

#[test]
fn replicas_are_summed_over_services_and_top_level_wins() {
    let md = aggregated(json!({}));
    let summed = dgd_with_status(json!({ "state": "deploying", "services": {
        "Frontend": { "replicas": 1, "readyReplicas": 1, "availableReplicas": 1 },
        "VllmWorker": { "replicas": 2, "readyReplicas": 1, "availableReplicas": "2" },
        "Broken": 7,
        "Float": { "replicas": 1.5 },
    } }));
    assert_eq!(
        Dynamo.observe(&md, Some(&summed), &[]).replicas,
        Some(ReplicaStatus {
            desired: 3,
            ready: 2,
            available: 1
        })
    );
    let top = dgd_with_status(json!({ "state": "successful",
        "services": { "VllmWorker": { "replicas": 2, "readyReplicas": 2, "availableReplicas": 2 } },
        "desiredReplicas": 5, "readyReplicas": 4, "availableReplicas": 3,
    }));
    assert_eq!(
        Dynamo.observe(&md, Some(&top), &[]).replicas,
        Some(ReplicaStatus {
            desired: 5,
            ready: 4,
            available: 3
        })
    );
    let state_only = dgd_with_status(json!({ "state": "deploying" }));
    assert_eq!(
        Dynamo.observe(&md, Some(&state_only), &[]).replicas,
        Some(ReplicaStatus {
            desired: 3,
            ready: 0,
            available: 0
        })
    );
}

#[test]
fn endpoint_from_status_or_default() {
    let md = aggregated(json!({}));
    let explicit = dgd_with_status(
        json!({ "state": "successful", "endpoint": { "service": "svc", "port": 9000 } }),
    );
    assert_eq!(
        Dynamo.observe(&md, Some(&explicit), &[]).endpoint,
        Some(EndpointStatus {
            service: Some("svc".into()),
            port: Some(9000)
        })
    );
    let partial = dgd_with_status(
        json!({ "state": "successful", "endpoint": { "port": "x", "service": "" } }),
    );
    assert_eq!(
        Dynamo.observe(&md, Some(&partial), &[]).endpoint,
        Some(EndpointStatus {
            service: Some("llama-frontend".into()),
            port: Some(8000)
        })
    );
}

#[test]
fn unschedulable_pods_explain_a_waiting_deployment() {
    let md = aggregated(json!({}));
    let pods = [unschedulable_pod(
        "llama-vllmworker-0",
        "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.",
    )];
    let deploying = dgd_with_status(json!({ "state": "deploying", "message": "waiting" }));
    assert_eq!(
        Dynamo
            .observe(&md, Some(&deploying), &pods)
            .message
            .as_deref(),
        Some(
            "Pod llama-vllmworker-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
        )
    );
    assert_eq!(
        Dynamo.observe(&md, None, &pods).message.as_deref(),
        Some(
            "Pod llama-vllmworker-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
        )
    );
    let failed = dgd_with_status(json!({ "state": "failed", "message": "boom" }));
    assert_eq!(
        Dynamo.observe(&md, Some(&failed), &pods).message.as_deref(),
        Some("boom")
    );
}

#[test]
fn disaggregated_deployments_report_each_component() {
    let md = disaggregated(json!({}));
    let none = Dynamo
        .observe(&md, None, &[])
        .components
        .expect("components");
    assert_eq!(
        (
            none.prefill.desired,
            none.prefill.ready,
            none.decode.desired
        ),
        (2, 0, 3)
    );
    let dgd = json!({
        "spec": { "services": { "Frontend": { "replicas": 1 },
            "VllmPrefillWorker": { "replicas": 2 }, "VllmDecodeWorker": { "replicas": 4 } } },
        "status": { "state": "deploying", "services": {
            "VllmPrefillWorker": { "replicas": 2, "readyReplicas": 1 },
            "VllmDecodeWorker": { "replicas": 4, "readyReplicas": 4 } } },
    });
    let got = Dynamo
        .observe(&md, Some(&dgd), &[])
        .components
        .expect("components");
    assert_eq!(
        got.prefill,
        kubeairunway_api::ComponentReplicaStatus {
            desired: 2,
            ready: 1
        }
    );
    assert_eq!(
        got.decode,
        kubeairunway_api::ComponentReplicaStatus {
            desired: 4,
            ready: 4
        }
    );
    assert!(
        Dynamo
            .observe(&aggregated(json!({})), Some(&dgd), &[])
            .components
            .is_none()
    );
}
