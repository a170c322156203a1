use kubeairunway_api::ReplicaStatus;
use serde_json::json;

use super::*;
use crate::providers::ObservedPhase;
use crate::providers::fixtures::{
    CompatibilityCase, assert_compatibility, golden, md, strings, unschedulable_pod,
};

#[test]
fn vllm_deployment_carries_model_gpus_token_and_probe() {
    let m = md(json!({
        "model": { "id": "Qwen/Qwen3-0.6B", "servedName": "qwen" },
        "engine": { "type": "vllm", "contextLength": 4096, "args": { "max-num-seqs": "8", "enforce-eager": "" } },
        "resources": { "gpu": { "count": 2 }, "memory": "32Gi" },
        "secrets": { "huggingFaceToken": "hf" },
        "nodeSelector": { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" },
        "scaling": { "replicas": 0 },
    }));
    let objs = Kubernetes.desired(&m, EngineType::Vllm).expect("desired");
    let c = &objs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(objs[0]["spec"]["replicas"], 0, "scale to zero is kept");
    assert_eq!(c["image"], VLLM_IMAGE);
    assert_eq!(
        strings(&c["args"]),
        [
            "--model",
            "Qwen/Qwen3-0.6B",
            "--host",
            "0.0.0.0",
            "--port",
            "8000",
            "--served-model-name",
            "qwen",
            "--max-model-len",
            "4096",
            "--tensor-parallel-size",
            "2",
            "--enforce-eager",
            "--max-num-seqs",
            "8"
        ]
    );
    assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], "2");
    assert_eq!(c["resources"]["limits"]["memory"], "32Gi");
    assert_eq!(
        c["env"][0]["valueFrom"]["secretKeyRef"],
        json!({ "name": "hf", "key": "HF_TOKEN" })
    );
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(
        objs[0]["spec"]["template"]["spec"]["nodeSelector"]["nvidia.com/gpu.product"],
        "NVIDIA-H100-80GB-HBM3"
    );
    assert_eq!(objs[0]["metadata"]["ownerReferences"][0]["uid"], "uid-1");
    assert_eq!(objs[1]["kind"], "Service");
    assert_eq!(objs[1]["spec"]["ports"][0]["port"], SERVICE_PORT);
}

#[test]
fn llamacpp_on_cpu_requests_no_gpu() {
    let m = md(
        json!({ "model": { "id": "a/b-GGUF" }, "engine": { "type": "llamacpp", "contextLength": 2048 }, "resources": { "cpu": "4" } }),
    );
    let objs = Kubernetes
        .desired(&m, EngineType::Llamacpp)
        .expect("desired");
    let c = &objs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], LLAMACPP_IMAGE);
    assert!(c["resources"]["limits"].get("nvidia.com/gpu").is_none());
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(
        strings(&c["args"]),
        [
            "--hf-repo",
            "a/b-GGUF",
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
            "--metrics",
            "--ctx-size",
            "2048"
        ]
    );
}

#[test]
fn incompatible_specs_are_explained() {
    let cases: Vec<CompatibilityCase> = vec![
        (
            "aggregated vllm",
            md(json!({ "model": { "id": "a/b" } })),
            EngineType::Vllm,
            None,
        ),
        (
            "sglang",
            md(json!({ "model": { "id": "a/b" } })),
            EngineType::Sglang,
            Some("not sglang"),
        ),
        (
            "disaggregated",
            md(json!({ "model": { "id": "a/b" }, "serving": { "mode": "disaggregated" } })),
            EngineType::Vllm,
            Some("disaggregated"),
        ),
        (
            "overrides",
            md(
                json!({ "model": { "id": "a/b" }, "provider": { "name": "kubernetes", "overrides": { "spec": {} } } }),
            ),
            EngineType::Vllm,
            Some("overrides"),
        ),
    ];
    assert_compatibility(&Kubernetes, cases);
}

#[test]
fn status_reads_ready_replicas_and_scheduler_reasons() {
    let m = md(json!({ "model": { "id": "a/b" }, "scaling": { "replicas": 2 } }));
    let dep = json!({ "status": { "readyReplicas": 2, "availableReplicas": 2 } });
    let o = Kubernetes.observe(&m, Some(&dep), &[]);
    assert_eq!(o.phase, ObservedPhase::Running);
    assert_eq!(
        o.replicas,
        Some(ReplicaStatus {
            desired: 2,
            ready: 2,
            available: 2
        })
    );
    let pod = unschedulable_pod(
        "llama-1",
        "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.",
    );
    let o = Kubernetes.observe(&m, Some(&json!({ "status": {} })), &[pod]);
    assert_eq!(o.phase, ObservedPhase::Deploying);
    assert!(
        o.message
            .as_deref()
            .is_some_and(|m| m.contains("Insufficient nvidia.com/gpu"))
    );
    assert_eq!(
        Kubernetes.observe(&m, None, &[]).phase,
        ObservedPhase::Pending
    );
}

/// Every field of the rendering for a spec that sets everything the provider reads; the
/// expected objects are in `golden.json`.
#[test]
fn a_full_spec_renders_the_complete_objects() {
    let m = md(json!({
        "model": { "id": "Qwen/Qwen3-0.6B", "servedName": "qwen" },
        "engine": { "type": "vllm", "contextLength": 4096, "trustRemoteCode": true, "args": { "max-num-seqs": "8" } },
        "resources": { "gpu": { "count": 2 }, "memory": "32Gi", "cpu": "8" },
        "env": [{ "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" }],
        "secrets": { "huggingFaceToken": "hf" },
        "podTemplate": { "metadata": { "labels": { "team": "a" }, "annotations": { "note": "n" } } },
        "nodeSelector": { "pool": "gpu" },
        "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
        "scaling": { "replicas": 2 },
    }));
    let objects = Kubernetes.desired(&m, EngineType::Vllm).expect("desired");
    assert_eq!(Value::Array(objects), golden(include_str!("golden.json")));
}
