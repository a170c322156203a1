//! Unit tests of the KAITO provider: identity, registration and compatibility here, rendering
//! and status mapping in the child modules.

mod observe;
mod render;

use kubeairunway_api::{EndpointStatus, EngineStatus, ModelDeploymentStatus, ReplicaStatus};
use serde_json::json;

use super::*;
use crate::providers::fixtures::{
    CompatibilityCase, assert_compatibility, desired_one, golden, md, md_with, scheduled_pod,
    unschedulable_pod,
};
use crate::providers::{Observed, ObservedPhase};

fn vllm() -> ModelDeployment {
    md(
        json!({ "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" }, "engine": { "type": "vllm" } }),
    )
}

fn llamacpp(extra: Value) -> ModelDeployment {
    md_with(
        json!({
            "model": { "id": "org/model-GGUF" },
            "engine": { "type": "llamacpp" },
            "image": "ghcr.io/example/llama:1",
            "resources": { "gpu": { "count": 0 } },
        }),
        &extra,
    )
}

fn container(ws: &Value) -> &Value {
    &ws["inference"]["template"]["spec"]["containers"][0]
}

#[test]
fn identity_and_upstream_kind() {
    assert_eq!(Kaito.name(), "kaito");
    assert_eq!(Kaito.version(), "kaito-provider:v0.1.0");
    let up = Kaito.upstream().expect("upstream");
    assert_eq!(up.api_version(), "kaito.sh/v1beta1");
    assert_eq!(up.kind, "Workspace");
    assert_eq!(up.crd_name(), "workspaces.kaito.sh");
}

#[test]
fn registration_matches_the_reference() {
    let reg = Kaito.registration();
    let caps = reg.capabilities.expect("capabilities");
    assert_eq!(
        caps.engines,
        Some(vec![EngineType::Vllm, EngineType::Llamacpp])
    );
    assert_eq!(caps.serving_modes, Some(vec![ServingMode::Aggregated]));
    assert_eq!(
        (caps.cpu_support, caps.gpu_support),
        (Some(true), Some(true))
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
            (
                "!has(spec.resources.gpu) || spec.resources.gpu.count == 0".to_string(),
                100
            ),
            ("spec.engine.type == 'llamacpp'".to_string(), 100),
        ]
    );
    let inst = reg.installation.expect("installation");
    assert_eq!(inst.default_namespace.as_deref(), Some("kaito-workspace"));
    let repos = inst.helm_repos.expect("repos");
    assert_eq!(
        (repos[0].name.as_str(), repos[0].url.as_str()),
        ("kaito", HELM_REPO_URL)
    );
    let charts = inst.helm_charts.expect("charts");
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].name, "kaito-workspace");
    assert_eq!(charts[0].chart, "kaito/workspace");
    assert_eq!(charts[0].version.as_deref(), Some("0.8.0"));
    assert_eq!(charts[0].namespace, "kaito-workspace");
    assert_eq!(charts[0].create_namespace, Some(true));
    let commands: Vec<String> = inst
        .steps
        .expect("steps")
        .into_iter()
        .map(|s| s.command.expect("command"))
        .collect();
    assert_eq!(
        commands,
        vec![
            "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito",
            "helm repo update",
            "helm upgrade --install kaito-workspace kaito/workspace --version 0.8.0 -n \
             kaito-workspace --create-namespace --set \
             featureGates.disableNodeAutoProvisioning=true --wait",
        ]
    );
    assert_eq!(
        reg.documentation.as_deref(),
        Some("https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kaito.md")
    );
}

#[test]
fn compatibility_table() {
    let disaggregated = md(json!({
        "model": { "id": "a/b" },
        "serving": { "mode": "disaggregated" },
        "scaling": { "prefill": { "gpu": { "count": 1 } }, "decode": { "gpu": { "count": 1 } } },
    }));
    let no_image = md(json!({ "model": { "id": "a/b" }, "engine": { "type": "llamacpp" } }));
    let custom_no_id = md(json!({ "model": { "source": "custom" } }));
    let cases: Vec<CompatibilityCase> = vec![
        ("vllm", vllm(), EngineType::Vllm, None),
        (
            "llamacpp with image",
            llamacpp(json!({})),
            EngineType::Llamacpp,
            None,
        ),
        (
            "llamacpp without image",
            no_image.clone(),
            EngineType::Llamacpp,
            Some("set spec.image"),
        ),
        (
            "blank image",
            llamacpp(json!({ "image": "  " })),
            EngineType::Llamacpp,
            Some("set spec.image"),
        ),
        (
            "sglang",
            vllm(),
            EngineType::Sglang,
            Some("does not support engine sglang"),
        ),
        (
            "trtllm",
            vllm(),
            EngineType::Trtllm,
            Some("does not support engine trtllm"),
        ),
        (
            "disaggregated",
            disaggregated,
            EngineType::Vllm,
            Some("disaggregated"),
        ),
        (
            "vllm preset without id",
            custom_no_id,
            EngineType::Vllm,
            Some("set spec.model.id"),
        ),
    ];
    assert_compatibility(&Kaito, cases);
}
