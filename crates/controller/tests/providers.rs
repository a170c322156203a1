//! The controller on the real control plane with every provider: selection (the outcome matrix of
//! docs/contract/controller.md §4.5), each provider's path to Running through the simulated
//! upstream operators, scheduling failures, invalid input, and deletion.

mod support;

use kube::ResourceExt;
use kube::api::{Api, DeleteParams};
use kubeairunway_api::{DeploymentPhase, ModelDeployment};
use serde_json::json;
use support::*;

/// The spec with every replica count at zero.
fn scaled_to_zero(mut spec: serde_json::Value) -> serde_json::Value {
    spec["scaling"]["replicas"] = json!(0);
    for component in ["prefill", "decode"] {
        if spec["scaling"].get(component).is_some() {
            spec["scaling"][component]["replicas"] = json!(0);
        }
    }
    spec
}

/// The spec pinned to the H100 nodes, leaving the A100 node to the test that needs it.
fn on_h100(mut spec: serde_json::Value) -> serde_json::Value {
    spec["nodeSelector"] = json!({ "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" });
    spec
}

#[tokio::test]
async fn auto_selection_follows_the_outcome_matrix() {
    shared_controller();
    let (_cp, client, ns) = setup("matrix").await;
    let rows = [
        (
            "vllm-gpu1",
            json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "dynamo",
        ),
        (
            "vllm-gpu2",
            json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 2 } } }),
            "kuberay",
        ),
        (
            "sglang",
            json!({ "model": { "id": "a/b" }, "engine": { "type": "sglang" }, "resources": { "gpu": { "count": 1 } } }),
            "dynamo",
        ),
        (
            "trtllm",
            json!({ "model": { "id": "a/b" }, "engine": { "type": "trtllm" }, "resources": { "gpu": { "count": 1 } } }),
            "dynamo",
        ),
        (
            "disagg",
            json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "serving": { "mode": "disaggregated" },
                    "scaling": { "prefill": { "gpu": { "count": 1 } }, "decode": { "gpu": { "count": 1 } } } }),
            "dynamo",
        ),
        (
            "cpu-auto",
            json!({ "model": { "id": "a/b-GGUF" }, "resources": { "cpu": "2" } }),
            "kaito",
        ),
        (
            "cpu-gpu0",
            json!({ "model": { "id": "a/b-GGUF" }, "resources": { "gpu": { "count": 0 } } }),
            "kaito",
        ),
    ];
    // Selection only: scaled to zero so these take no GPUs from the tests running alongside.
    for (name, spec, _) in &rows {
        create(&client, &ns, name, scaled_to_zero(spec.clone())).await;
    }
    for (name, _, want) in rows {
        let md = wait_md(
            &client,
            &ns,
            name,
            &format!("provider {want} selected"),
            30,
            |m| provider(m).is_some(),
        )
        .await;
        assert_eq!(
            provider(&md).as_deref(),
            Some(want),
            "{name}: {}",
            md.status
                .as_ref()
                .and_then(|s| s.provider.as_ref())
                .and_then(|p| p.selected_reason.clone())
                .unwrap_or_default()
        );
    }
    let cpu = wait_md(&client, &ns, "cpu-auto", "engine resolved", 30, |m| {
        m.status.as_ref().and_then(|s| s.engine.as_ref()).is_some()
    })
    .await;
    let engine = cpu
        .status
        .as_ref()
        .and_then(|s| s.engine.clone())
        .expect("engine status");
    assert_eq!(
        engine.type_,
        Some(kubeairunway_api::EngineType::Llamacpp),
        "a CPU deployment gets llama.cpp"
    );
    assert!(
        engine
            .selected_reason
            .unwrap_or_default()
            .starts_with("auto-selected from provider")
    );
}

#[tokio::test]
async fn every_provider_reaches_running_with_replicas_and_endpoint() {
    shared_controller();
    let (_cp, client, ns) = setup("happy").await;
    let cases = [
        (
            "on-kaito",
            json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kaito" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "Workspace",
        ),
        (
            "on-dynamo",
            json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "dynamo" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "DynamoGraphDeployment",
        ),
        (
            "on-kuberay",
            json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kuberay" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "RayService",
        ),
        (
            "on-kubernetes",
            json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" }, "engine": { "type": "vllm" },
                    "resources": { "gpu": { "count": 4 } }, "nodeSelector": { "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB" } }),
            "Deployment",
        ),
    ];
    for (name, spec, kind) in &cases {
        let spec = if *kind == "Deployment" {
            spec.clone()
        } else {
            on_h100(spec.clone())
        };
        create(&client, &ns, name, spec).await;
    }
    for (name, _, kind) in cases {
        let md = wait_md(&client, &ns, name, "Running", 60, |m| {
            phase(m) == Some(DeploymentPhase::Running)
        })
        .await;
        let status = md.status.clone().expect("status");
        let replicas = status.replicas.expect("replicas reported");
        // Dynamo counts its frontend too (docs/contract/controller.md §7.4), so desired is 2 there.
        assert!(
            replicas.desired >= 1 && replicas.ready == replicas.desired,
            "{name}: {replicas:?}"
        );
        assert!(
            status
                .endpoint
                .as_ref()
                .and_then(|e| e.service.clone())
                .is_some_and(|s| !s.is_empty()),
            "{name}: endpoint"
        );
        assert!(
            status.endpoint.as_ref().and_then(|e| e.port).is_some(),
            "{name}: port"
        );
        assert_eq!(
            status
                .provider
                .as_ref()
                .and_then(|p| p.resource_kind.as_deref()),
            Some(kind),
            "{name}"
        );
        assert!(
            md.finalizers().iter().any(|f| f.ends_with("-provider")),
            "{name}: provider finalizer"
        );
        let ready = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Ready")
            .expect("Ready condition");
        assert_eq!(ready.status, "True");
    }
    // The kubernetes provider's pod really runs on a matching GPU node.
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &ns);
    let list = pods
        .list(&kube::api::ListParams::default().labels("kubeairunway.ai/deployment=on-kubernetes"))
        .await
        .expect("pods");
    assert_eq!(list.items.len(), 1);
    let node = list.items[0]
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("scheduled");
    assert_eq!(
        node, "kwok-a100-0",
        "4 GPUs with an A100 selector fit only the A100 node"
    );
    let limits = list.items[0]
        .spec
        .as_ref()
        .map(|s| s.containers[0].resources.clone())
        .and_then(|r| r.and_then(|r| r.limits))
        .expect("limits");
    assert_eq!(limits["nvidia.com/gpu"].0, "4");
}

#[tokio::test]
async fn a_deployment_that_fits_no_node_says_why() {
    shared_controller();
    let (_cp, client, ns) = setup("toolarge").await;
    create(&client, &ns, "llama-70b", json!({
        "model": { "id": "meta-llama/Llama-3.3-70B-Instruct" }, "provider": { "name": "kubernetes" },
        "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 16 } },
    }))
    .await;
    let md = wait_md(
        &client,
        &ns,
        "llama-70b",
        "the scheduler's reason in the status",
        60,
        |m| message(m).contains("Insufficient nvidia.com/gpu"),
    )
    .await;
    assert_eq!(
        phase(&md),
        Some(DeploymentPhase::Deploying),
        "it never runs: {}",
        message(&md)
    );
    assert!(
        message(&md).contains("cannot be scheduled"),
        "{}",
        message(&md)
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    let later = api.get("llama-70b").await.expect("get");
    assert_ne!(phase(&later), Some(DeploymentPhase::Running));
    assert_eq!(
        later.status.and_then(|s| s.replicas).map(|r| r.ready),
        Some(0)
    );
}

#[tokio::test]
async fn invalid_overrides_and_unsupported_pairs_fail_clearly() {
    shared_controller();
    let (_cp, client, ns) = setup("invalid").await;
    let cases = [
        (
            "kaito-sglang",
            json!({ "model": { "id": "a/b" }, "provider": { "name": "kaito" }, "engine": { "type": "sglang" }, "resources": { "gpu": { "count": 1 } } }),
            "sglang",
        ),
        (
            "kuberay-cpu",
            json!({ "model": { "id": "a/b" }, "provider": { "name": "kuberay" }, "engine": { "type": "llamacpp" }, "resources": { "cpu": "2" } }),
            "KubeRay",
        ),
        (
            "k8s-trtllm",
            json!({ "model": { "id": "a/b" }, "provider": { "name": "kubernetes" }, "engine": { "type": "trtllm" }, "resources": { "gpu": { "count": 1 } } }),
            "trtllm",
        ),
        (
            "bad-override",
            json!({ "model": { "id": "a/b" }, "provider": { "name": "dynamo", "overrides": { "metadata": { "name": "x" } } }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "metadata",
        ),
        (
            "k8s-override",
            json!({ "model": { "id": "a/b" }, "provider": { "name": "kubernetes", "overrides": { "spec": {} } }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
            "overrides",
        ),
    ];
    for (name, spec, _) in &cases {
        create(&client, &ns, name, spec.clone()).await;
    }
    for (name, _, expected) in cases {
        let md = wait_md(&client, &ns, name, "Failed", 30, |m| {
            phase(m) == Some(DeploymentPhase::Failed)
        })
        .await;
        assert!(
            message(&md).contains(expected),
            "{name}: message should mention {expected:?}: {}",
            message(&md)
        );
    }
    create(&client, &ns, "typo", json!({ "model": { "id": "a/b" }, "provider": { "name": "kaitoo" }, "resources": { "gpu": { "count": 1 } } })).await;
    let md = wait_md(&client, &ns, "typo", "a clear condition", 30, |m| {
        message(m).contains("not registered")
    })
    .await;
    let cond = md
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "ProviderSelected").cloned())
        .expect("condition");
    assert_eq!(
        (cond.status.as_str(), cond.reason.as_str()),
        ("False", "ProviderNotFound")
    );
    assert!(
        cond.message.contains("kaitoo") && cond.message.contains("kubernetes"),
        "{}",
        cond.message
    );
}

#[tokio::test]
async fn deleting_removes_each_providers_objects() {
    shared_controller();
    let (_cp, client, ns) = setup("delete").await;
    let cases = [
        (
            "del-kaito",
            "kaito",
            ("kaito.sh", "v1beta1", "Workspace", "workspaces"),
        ),
        (
            "del-dynamo",
            "dynamo",
            (
                "nvidia.com",
                "v1alpha1",
                "DynamoGraphDeployment",
                "dynamographdeployments",
            ),
        ),
        (
            "del-kuberay",
            "kuberay",
            ("ray.io", "v1", "RayService", "rayservices"),
        ),
        (
            "del-k8s",
            "kubernetes",
            ("apps", "v1", "Deployment", "deployments"),
        ),
    ];
    for (name, p, _) in &cases {
        create(&client, &ns, name, on_h100(json!({ "model": { "id": "a/b" }, "provider": { "name": p }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }))).await;
    }
    for (name, _, _) in &cases {
        wait_md(&client, &ns, name, "objects created", 60, |m| {
            m.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "ResourceCreated" && c.status == "True")
                })
        })
        .await;
    }
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    for (name, _, (g, v, k, p)) in cases {
        assert_eq!(
            list(&client, &ns, g, v, k, p).await.len(),
            1,
            "{name}: one {k} before deletion"
        );
        api.delete(name, &DeleteParams::default())
            .await
            .expect("delete");
        wait_gone(&client, &ns, name, 30).await;
        let left: Vec<_> = list(&client, &ns, g, v, k, p)
            .await
            .into_iter()
            .filter(|o| o.metadata.deletion_timestamp.is_none())
            .collect();
        assert!(
            left.is_empty(),
            "{name}: the {k} must be deleted with the ModelDeployment"
        );
    }
}

#[tokio::test]
async fn a_kaito_inference_set_reaches_running_and_switching_kinds_prunes_the_other() {
    shared_controller();
    let (_cp, client, ns) = setup("kaito-set").await;
    let set = ("kaito.sh", "v1alpha1", "InferenceSet", "inferencesets");
    let workspace = ("kaito.sh", "v1beta1", "Workspace", "workspaces");
    let spec = |kind: &str| {
        on_h100(json!({
            "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" },
            "provider": { "name": "kaito", "overrides": { "resourceType": kind } },
            "resources": { "gpu": { "count": 1 } },
        }))
    };
    create(&client, &ns, "qwen-set", spec("inferenceset")).await;
    let md = wait_md(&client, &ns, "qwen-set", "Running", 60, |m| {
        phase(m) == Some(DeploymentPhase::Running)
    })
    .await;
    let status = md.status.expect("status");
    assert_eq!(
        status.provider.and_then(|p| p.resource_kind).as_deref(),
        Some("InferenceSet")
    );
    assert_eq!(
        status.endpoint.and_then(|e| e.service).as_deref(),
        Some("qwen-set-0"),
        "KAITO's first Workspace of the set serves"
    );
    assert_eq!(status.replicas.map(|r| (r.desired, r.ready)), Some((1, 1)));
    let (g, v, k, p) = set;
    let sets = list(&client, &ns, g, v, k, p).await;
    assert_eq!(sets.len(), 1);
    assert_eq!(
        sets[0].data["spec"]["template"]["inference"]["preset"]["name"],
        "Qwen/Qwen3-0.6B"
    );

    // Back to a Workspace: the InferenceSet is pruned on the next pass.
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    api.patch(
        "qwen-set",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(
            json!({ "spec": { "provider": { "overrides": { "resourceType": "workspace" } } } }),
        ),
    )
    .await
    .expect("switch to a Workspace");
    wait_md(&client, &ns, "qwen-set", "a Workspace", 60, |m| {
        m.status
            .as_ref()
            .and_then(|s| s.provider.as_ref())
            .and_then(|p| p.resource_kind.as_deref())
            == Some("Workspace")
    })
    .await;
    let (wg, wv, wk, wp) = workspace;
    assert_eq!(list(&client, &ns, wg, wv, wk, wp).await.len(), 1);
    kubeairunway_testenv::wait_until(
        "the InferenceSet to be pruned",
        std::time::Duration::from_secs(30),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let left: Vec<_> = list(&client, &ns, g, v, k, p)
                    .await
                    .into_iter()
                    .filter(|o| o.metadata.deletion_timestamp.is_none())
                    .collect();
                Ok::<_, kubeairunway_testenv::Error>((
                    left.is_empty().then_some(()),
                    format!("{} left", left.len()),
                ))
            }
        },
    )
    .await
    .expect("pruned");
    api.delete("qwen-set", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&client, &ns, "qwen-set", 30).await;
}

#[tokio::test]
async fn a_disaggregated_dynamo_deployment_reports_each_component() {
    shared_controller();
    let (_cp, client, ns) = setup("pd-status").await;
    create(
        &client,
        &ns,
        "pd",
        on_h100(json!({
            "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" },
            "provider": { "name": "dynamo" }, "serving": { "mode": "disaggregated" },
            "scaling": { "prefill": { "replicas": 1, "gpu": { "count": 1 } },
                         "decode": { "replicas": 1, "gpu": { "count": 1 } } },
        })),
    )
    .await;
    let md = wait_md(&client, &ns, "pd", "both components ready", 60, |m| {
        m.status.as_ref().is_some_and(|s| {
            s.prefill_replicas.as_ref().is_some_and(|p| p.ready == 1)
                && s.decode_replicas.as_ref().is_some_and(|d| d.ready == 1)
        })
    })
    .await;
    let status = md.status.expect("status");
    assert_eq!(status.prefill_replicas.map(|p| p.desired), Some(1));
    assert_eq!(status.decode_replicas.map(|d| d.desired), Some(1));
}
