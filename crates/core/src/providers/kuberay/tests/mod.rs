//! Unit tests of the KubeRay provider: identity, registration and compatibility here, rendering
//! and status mapping in the child modules.

mod observe;
mod render;

use kubeairunway_api::{EndpointStatus, ReplicaStatus};
use serde_json::json;

use super::*;
use crate::providers::fixtures::{
    CompatibilityCase, assert_compatibility, desired_one, golden, md_with, unschedulable_pod,
};
use crate::providers::{Observed, ObservedPhase};

fn aggregated(extra: Value) -> ModelDeployment {
    md_with(
        json!({
            "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" },
            "engine": { "type": "vllm" },
            "resources": { "gpu": { "count": 2 } },
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
                "prefill": { "replicas": 2, "gpu": { "count": 1 } },
                "decode": { "replicas": 3, "gpu": { "count": 4, "type": "amd.com/gpu" }, "memory": "80Gi" },
            },
        }),
        &extra,
    )
}

fn head(rs: &Value) -> &Value {
    &rs["spec"]["rayClusterConfig"]["headGroupSpec"]
}

fn head_container(rs: &Value) -> &Value {
    &head(rs)["template"]["spec"]["containers"][0]
}

fn workers(rs: &Value) -> &Vec<Value> {
    rs["spec"]["rayClusterConfig"]["workerGroupSpecs"]
        .as_array()
        .expect("worker groups")
}

fn env_value(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .map(str::to_string)
}

#[test]
fn identity_and_upstream_kind() {
    assert_eq!(KubeRay.name(), "kuberay");
    assert_eq!(KubeRay.version(), "kuberay-provider:v0.1.0");
    let up = KubeRay.upstream().expect("upstream");
    assert_eq!(up.api_version(), "ray.io/v1");
    assert_eq!(up.kind, "RayService");
    assert_eq!(up.crd_name(), "rayservices.ray.io");
}

#[test]
fn registration_matches_the_reference() {
    let reg = KubeRay.registration();
    let caps = reg.capabilities.expect("capabilities");
    assert_eq!(caps.engines, Some(vec![EngineType::Vllm]));
    assert_eq!(
        caps.serving_modes,
        Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated])
    );
    assert_eq!(
        (caps.cpu_support, caps.gpu_support),
        (Some(false), Some(true))
    );
    let rules = reg.selection_rules.expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0].condition,
        "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && spec.engine.type == 'vllm'"
    );
    assert_eq!(rules[0].priority, 80);
    let inst = reg.installation.expect("installation");
    assert_eq!(
        inst.description.as_deref(),
        Some("Ray Serve via KubeRay, distributed Ray-based serving with vLLM")
    );
    assert_eq!(inst.default_namespace.as_deref(), Some("ray-system"));
    let repos = inst.helm_repos.expect("repos");
    assert_eq!(repos[0].name, "kuberay");
    assert_eq!(repos[0].url, "https://ray-project.github.io/kuberay-helm/");
    assert_eq!(
        inst.helm_charts.expect("charts"),
        vec![HelmChart {
            name: "kuberay-operator".into(),
            chart: "kuberay/kuberay-operator".into(),
            version: Some("1.3.0".into()),
            namespace: "ray-system".into(),
            create_namespace: Some(true),
        }]
    );
    let commands: Vec<String> = inst
        .steps
        .expect("steps")
        .into_iter()
        .map(|s| s.command.expect("command"))
        .collect();
    assert_eq!(
        commands,
        vec![
            "helm repo add kuberay https://ray-project.github.io/kuberay-helm/",
            "helm repo update",
            "helm upgrade --install kuberay-operator kuberay/kuberay-operator --version 1.3.0 -n ray-system --create-namespace --wait",
        ]
    );
    assert_eq!(
        reg.documentation.as_deref(),
        Some("https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kuberay.md")
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
            "sglang",
            aggregated(json!({})),
            EngineType::Sglang,
            Some("not sglang"),
        ),
        (
            "llamacpp",
            aggregated(json!({})),
            EngineType::Llamacpp,
            Some("not llamacpp"),
        ),
        (
            "trtllm",
            aggregated(json!({})),
            EngineType::Trtllm,
            Some("not trtllm"),
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
    assert_compatibility(&KubeRay, cases);
}
