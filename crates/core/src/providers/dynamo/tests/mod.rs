//! Unit tests of the Dynamo provider: identity, registration and compatibility here, rendering
//! and status mapping in the child modules.

mod observe;
mod render;

use kubeairunway_api::{EndpointStatus, ReplicaStatus};
use serde_json::json;

use super::render::dynamo_namespace;
use super::*;
use crate::providers::fixtures::{
    CompatibilityCase, assert_compatibility, desired_one, golden, md, md_with, strings,
    unschedulable_pod,
};
use crate::providers::{Observed, ObservedPhase};

fn aggregated(extra: Value) -> ModelDeployment {
    md_with(
        json!({
            "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" },
            "resources": { "gpu": { "count": 1 } },
        }),
        &extra,
    )
}

fn disaggregated(extra: Value) -> ModelDeployment {
    md_with(
        json!({
            "model": { "id": "org/model" },
            "serving": { "mode": "disaggregated" },
            "scaling": {
                "prefill": { "replicas": 2, "gpu": { "count": 1 }, "memory": "40Gi" },
                "decode": { "replicas": 3, "gpu": { "count": 2 } },
            },
        }),
        &extra,
    )
}

fn service_keys(dgd: &Value) -> Vec<String> {
    dgd["spec"]["services"]
        .as_object()
        .expect("services")
        .keys()
        .cloned()
        .collect()
}

fn main_container<'a>(dgd: &'a Value, service: &str) -> &'a Value {
    &dgd["spec"]["services"][service]["extraPodSpec"]["mainContainer"]
}

fn args_of(dgd: &Value, service: &str) -> Vec<String> {
    strings(&main_container(dgd, service)["args"])
}

#[test]
fn identity_and_upstream_kind() {
    assert_eq!(Dynamo.name(), "dynamo");
    assert_eq!(Dynamo.version(), "dynamo-provider:v0.1.0");
    let up = Dynamo.upstream().expect("upstream");
    assert_eq!(up.api_version(), "nvidia.com/v1alpha1");
    assert_eq!(up.kind, "DynamoGraphDeployment");
    assert_eq!(up.crd_name(), "dynamographdeployments.nvidia.com");
}

#[test]
fn registration_matches_the_reference() {
    let reg = Dynamo.registration();
    let caps = reg.capabilities.expect("capabilities");
    assert_eq!(
        caps.engines,
        Some(vec![
            EngineType::Vllm,
            EngineType::Sglang,
            EngineType::Trtllm
        ])
    );
    assert_eq!(
        caps.serving_modes,
        Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated])
    );
    assert_eq!(
        (caps.cpu_support, caps.gpu_support),
        (Some(false), Some(true))
    );
    let rules: Vec<(String, i32)> = reg
        .selection_rules
        .expect("rules")
        .into_iter()
        .map(|r| (r.condition, r.priority))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("spec.engine.type == 'trtllm'".to_string(), 100),
            ("spec.engine.type == 'sglang'".to_string(), 100),
            ("has(spec.serving) && spec.serving.mode == 'disaggregated'".to_string(), 90),
            (
                "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && spec.engine.type == 'vllm'"
                    .to_string(),
                50
            ),
        ]
    );
    let inst = reg.installation.expect("installation");
    assert_eq!(
        inst.description.as_deref(),
        Some("NVIDIA Dynamo for high-performance GPU inference")
    );
    assert_eq!(inst.default_namespace.as_deref(), Some("dynamo-system"));
    let repos = inst.helm_repos.expect("repos");
    assert_eq!(repos.len(), 1);
    assert_eq!(repos[0].name, "nvidia-ai-dynamo");
    assert_eq!(repos[0].url, "https://helm.ngc.nvidia.com/nvidia/ai-dynamo");
    let charts = inst.helm_charts.expect("charts");
    assert_eq!(
        charts,
        vec![
            HelmChart {
                name: "dynamo-crds".into(),
                chart: "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-crds-0.7.1.tgz"
                    .into(),
                version: None,
                namespace: "default".into(),
                create_namespace: Some(false),
            },
            HelmChart {
                name: "dynamo-platform".into(),
                chart:
                    "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-0.7.1.tgz"
                        .into(),
                version: None,
                namespace: "dynamo-system".into(),
                create_namespace: Some(true),
            },
        ]
    );
    let steps = inst.steps.expect("steps");
    assert_eq!(steps[0].title, "Install Dynamo CRDs");
    assert_eq!(
        steps[0].command.as_deref(),
        Some(
            "helm fetch https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-crds-0.7.1.tgz && helm install dynamo-crds dynamo-crds-0.7.1.tgz --namespace default"
        )
    );
    assert_eq!(steps[1].title, "Install Dynamo Platform");
    assert_eq!(
        steps[1].command.as_deref(),
        Some(
            "helm fetch https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-0.7.1.tgz && helm install dynamo-platform dynamo-platform-0.7.1.tgz --namespace dynamo-system --create-namespace"
        )
    );
    assert_eq!(
        reg.documentation.as_deref(),
        Some("https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/dynamo.md")
    );
}

#[test]
fn compatibility_table() {
    let cases: Vec<CompatibilityCase> = vec![
        (
            "vllm with gpu",
            aggregated(json!({})),
            EngineType::Vllm,
            None,
        ),
        (
            "sglang with gpu",
            aggregated(json!({})),
            EngineType::Sglang,
            None,
        ),
        (
            "trtllm with gpu",
            aggregated(json!({})),
            EngineType::Trtllm,
            None,
        ),
        (
            "resources omitted means one gpu",
            md(json!({ "model": { "id": "a/b" } })),
            EngineType::Vllm,
            None,
        ),
        (
            "llamacpp",
            aggregated(json!({})),
            EngineType::Llamacpp,
            Some("does not support engine llamacpp"),
        ),
        (
            "no gpu",
            aggregated(json!({ "resources": { "gpu": { "count": 0 } } })),
            EngineType::Vllm,
            Some("spec.resources.gpu.count"),
        ),
        (
            "disaggregated with prefill gpu",
            disaggregated(json!({})),
            EngineType::Vllm,
            None,
        ),
        (
            "disaggregated without prefill gpu",
            disaggregated(json!({ "scaling": { "prefill": { "gpu": { "count": 0 } } } })),
            EngineType::Vllm,
            Some("spec.scaling.prefill.gpu.count"),
        ),
        (
            "custom source without id",
            aggregated(json!({ "model": { "source": "custom", "id": null } })),
            EngineType::Vllm,
            Some("spec.model.id"),
        ),
    ];
    assert_compatibility(&Dynamo, cases);
}
