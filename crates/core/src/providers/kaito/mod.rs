//! The `kaito` provider: serves a ModelDeployment through a KAITO `kaito.sh/v1beta1 Workspace`
//! (controller.md §6). vLLM runs as a KAITO preset named after the model id; llama.cpp runs from
//! a custom image through an inference template. Deviations from the reference are listed in
//! `docs/providers.md`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{
    EndpointStatus, EngineType, HelmChart, HelmRepo, InferenceProviderConfigSpec, InstallationInfo,
    InstallationStep, ModelDeployment, ModelSource, ProviderCapabilities, ReplicaStatus,
    SelectionRule, ServingMode,
};
use serde_json::{Map, Value, json};

use super::common;
use super::common::{resolved_engine, unschedulable_message};
use super::{Incompatible, Observed, ObservedPhase, Provider, TransformError, UpstreamKind};

/// The KAITO provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct Kaito;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "kaito.sh",
    version: "v1beta1",
    kind: "Workspace",
    plural: "workspaces",
};

/// Port of the Service KAITO creates for a preset.
const PRESET_PORT: i32 = 80;
/// Port the llama.cpp template container listens on (and its Service port).
const TEMPLATE_PORT: i32 = 5000;
const HELM_REPO_URL: &str = "https://kaito-project.github.io/kaito/charts/kaito";
const CHART_VERSION: &str = "0.8.0";
const INSTALL_NAMESPACE: &str = "kaito-workspace";

impl Provider for Kaito {
    fn name(&self) -> &'static str {
        "kaito"
    }

    fn version(&self) -> &'static str {
        "kaito-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm, EngineType::Llamacpp]),
                serving_modes: Some(vec![ServingMode::Aggregated]),
                cpu_support: Some(true),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![
                SelectionRule {
                    condition: "!has(spec.resources.gpu) || spec.resources.gpu.count == 0".into(),
                    priority: 100,
                },
                SelectionRule {
                    condition: "spec.engine.type == 'llamacpp'".into(),
                    priority: 100,
                },
            ]),
            installation: Some(InstallationInfo {
                description: Some(
                    "KAITO (Kubernetes AI Toolchain Operator) runs model presets and custom \
                     inference images on your own CPU or GPU nodes"
                        .into(),
                ),
                default_namespace: Some(INSTALL_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "kaito".into(),
                    url: HELM_REPO_URL.into(),
                }]),
                helm_charts: Some(vec![HelmChart {
                    name: "kaito-workspace".into(),
                    chart: "kaito/workspace".into(),
                    version: Some(CHART_VERSION.into()),
                    namespace: INSTALL_NAMESPACE.into(),
                    create_namespace: Some(true),
                }]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Add KAITO Helm Repository".into(),
                        command: Some(format!("helm repo add kaito {HELM_REPO_URL}")),
                        description: "Register the KAITO chart repository with Helm.".into(),
                    },
                    InstallationStep {
                        title: "Update Helm Repositories".into(),
                        command: Some("helm repo update".into()),
                        description: "Fetch the latest chart index.".into(),
                    },
                    InstallationStep {
                        title: "Install KAITO Workspace Operator".into(),
                        command: Some(format!(
                            "helm upgrade --install kaito-workspace kaito/workspace --version \
                             {CHART_VERSION} -n {INSTALL_NAMESPACE} --create-namespace --set \
                             featureGates.disableNodeAutoProvisioning=true --wait"
                        )),
                        description: "Install the workspace operator in bring-your-own-nodes \
                                      mode (node auto-provisioning disabled), so workspaces run \
                                      on the cluster's existing nodes."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kaito.md"
                    .into(),
            ),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        Some(UPSTREAM)
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        match engine {
            EngineType::Sglang | EngineType::Trtllm => {
                return Err(format!(
                    "KAITO does not support engine {engine}: use engine vllm or llamacpp, or \
                     choose the dynamo provider for {engine}"
                )
                .into());
            }
            EngineType::Vllm | EngineType::Llamacpp => {}
        }
        if md.spec.serving.mode == ServingMode::Disaggregated {
            return Err(
                "KAITO does not support disaggregated serving: use serving.mode \
                 aggregated, or choose the dynamo provider for a prefill/decode split"
                    .into(),
            );
        }
        if engine == EngineType::Llamacpp && image(md).is_none() {
            return Err(
                "KAITO runs llama.cpp only from a custom image: set spec.image to a \
                 llama.cpp server image"
                    .into(),
            );
        }
        if engine == EngineType::Vllm && model_id(md).is_none() {
            return Err(
                "KAITO runs vLLM from the preset named by spec.model.id: set \
                 spec.model.id"
                    .into(),
            );
        }
        Ok(())
    }

    fn desired(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<Vec<Value>, TransformError> {
        let inference = match engine {
            EngineType::Vllm => preset_inference(md),
            EngineType::Llamacpp => template_inference(md)?,
            EngineType::Sglang | EngineType::Trtllm => {
                return Err(TransformError(format!(
                    "engine {engine} is not supported by KAITO (supported: vllm, llamacpp)"
                )));
            }
        };
        let mut match_labels = BTreeMap::from([("kubernetes.io/os".into(), "linux".into())]);
        match_labels.extend(md.spec.node_selector.clone().unwrap_or_default());
        let mut workspace = json!({
            "apiVersion": UPSTREAM.api_version(),
            "kind": UPSTREAM.kind,
            "metadata": metadata(md, engine)?,
            "resource": {
                // A Workspace needs at least one node: scale to zero is not possible here.
                "count": common::replicas(md).max(1),
                "labelSelector": { "matchLabels": common::string_map(&match_labels) },
            },
            "inference": inference,
        });
        common::apply_overrides(md, &mut workspace)?;
        Ok(vec![workspace])
    }

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        let template = match primary {
            Some(ws) => ws.pointer("/inference/template").is_some(),
            None => resolved_engine(md) == Some(EngineType::Llamacpp),
        };
        let endpoint = Some(EndpointStatus {
            service: Some(md.name_any()),
            port: Some(if template { TEMPLATE_PORT } else { PRESET_PORT }),
        });
        let desired = primary
            .and_then(|ws| ws.pointer("/resource/count"))
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or_else(|| common::replicas(md).max(1));

        let conditions = primary.map(common::conditions).unwrap_or_default();
        let find = |t: &str| conditions.iter().find(|(ty, _, _)| ty == t);
        let is_true = |t: &str| find(t).is_some_and(|(_, s, _)| s == "True");

        let (phase, mut message) = match find("WorkspaceSucceeded") {
            Some((_, s, _)) if s == "True" => (ObservedPhase::Running, None),
            Some((_, s, m)) if s == "False" => (ObservedPhase::Failed, non_empty(m)),
            _ => {
                let phase = if is_true("ResourceReady") || is_true("InferenceReady") {
                    ObservedPhase::Deploying
                } else {
                    ObservedPhase::Pending
                };
                // The first not-ready condition with a message says what is being waited for.
                let waiting = conditions
                    .iter()
                    .find(|(_, s, m)| s == "False" && !m.is_empty())
                    .map(|(_, _, m)| m.clone());
                (phase, waiting)
            }
        };
        if matches!(phase, ObservedPhase::Pending | ObservedPhase::Deploying)
            && let Some(unschedulable) = unschedulable_message(pods)
        {
            message = Some(unschedulable);
        }
        let ready = if phase == ObservedPhase::Running {
            desired
        } else {
            0
        };
        Observed {
            phase,
            message,
            replicas: Some(ReplicaStatus {
                desired,
                ready,
                available: ready,
            }),
            endpoint,
        }
    }
}

/// `metadata` of the Workspace: our labels win over `podTemplate` labels so ownership and
/// selection labels cannot be overwritten; `podTemplate` annotations are added when present.
fn metadata(md: &ModelDeployment, engine: EngineType) -> Result<Value, TransformError> {
    let namespace = md
        .namespace()
        .ok_or_else(|| TransformError("the ModelDeployment has no namespace".into()))?;
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, engine));
    let mut meta = json!({
        "name": md.name_any(),
        "namespace": namespace,
        "labels": common::string_map(&labels),
        "ownerReferences": [common::owner_reference(md)],
    });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    Ok(meta)
}

/// vLLM through a KAITO preset named after the model id; KAITO picks the image and flags.
fn preset_inference(md: &ModelDeployment) -> Value {
    let mut preset = json!({ "name": model_id(md).unwrap_or_default() });
    if let Some(secret) = hf_secret(md) {
        preset["presetOptions"] = json!({ "modelAccessSecret": secret });
    }
    json!({ "preset": preset })
}

/// llama.cpp through an inference template: one container running `spec.image`.
fn template_inference(md: &ModelDeployment) -> Result<Value, TransformError> {
    let image = image(md).ok_or_else(|| {
        TransformError("KAITO runs llama.cpp only from a custom image: set spec.image".into())
    })?;
    let mut args = Vec::new();
    match (md.spec.model.source, model_id(md)) {
        (ModelSource::Huggingface, Some(id)) => args.push(format!("huggingface://{id}")),
        // A custom image carries its model: the id, when given, names it verbatim.
        (ModelSource::Custom, Some(id)) => args.push(id.to_string()),
        (_, None) => {}
    }
    args.push(format!("--address=:{TEMPLATE_PORT}"));
    if let Some(served) = md
        .spec
        .model
        .served_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        args.push(format!("--served-model-name={served}"));
    }
    args.extend(common::engine_args(md)?);

    let mut container = json!({
        "name": "model",
        "image": image,
        "args": args,
        "ports": [{ "containerPort": TEMPLATE_PORT }],
    });
    let mut requests = Map::new();
    if let Some(r) = &md.spec.resources {
        if let Some(memory) = &r.memory {
            requests.insert("memory".into(), json!(memory));
        }
        if let Some(cpu) = &r.cpu {
            requests.insert("cpu".into(), json!(cpu));
        }
    }
    if !requests.is_empty() {
        container["resources"] = json!({ "requests": requests });
    }
    let env = common::env(md);
    if !env.is_empty() {
        container["env"] = Value::Array(env);
    }

    let mut pod_spec = json!({ "containers": [container] });
    if let Some(tolerations) = tolerations(md) {
        pod_spec["tolerations"] = tolerations;
    }
    Ok(json!({ "template": { "metadata": pod_metadata(md), "spec": pod_spec } }))
}

/// Metadata of the pods the template creates: `podTemplate` labels and annotations, plus our
/// labels (which win) so the pods can be found by `kubeairunway.ai/deployment`.
fn pod_metadata(md: &ModelDeployment) -> Value {
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, EngineType::Llamacpp));
    let mut meta = json!({ "labels": common::string_map(&labels) });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    meta
}

fn tolerations(md: &ModelDeployment) -> Option<Value> {
    let list: Vec<Value> = md
        .spec
        .tolerations
        .iter()
        .flatten()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

fn image(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .image
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn hf_secret(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref())
        .filter(|s| !s.is_empty())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::{
        CompatibilityCase, assert_compatibility, md, scheduled_pod, unschedulable_pod,
    };
    use kubeairunway_api::{EngineStatus, ModelDeploymentStatus};

    fn vllm() -> ModelDeployment {
        md(
            json!({ "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" }, "engine": { "type": "vllm" } }),
        )
    }

    fn llamacpp(extra: Value) -> ModelDeployment {
        let mut spec = json!({
            "model": { "id": "org/model-GGUF" },
            "engine": { "type": "llamacpp" },
            "image": "ghcr.io/example/llama:1",
            "resources": { "gpu": { "count": 0 } },
        });
        common::deep_merge(&mut spec, &extra);
        md(spec)
    }

    fn desired_one(md: &ModelDeployment, engine: EngineType) -> Value {
        let mut objects = Kaito.desired(md, engine).expect("desired");
        assert_eq!(objects.len(), 1);
        objects.remove(0)
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

    #[test]
    fn vllm_preset_workspace_shape() {
        let ws = desired_one(&vllm(), EngineType::Vllm);
        assert_eq!(
            ws,
            json!({
                "apiVersion": "kaito.sh/v1beta1",
                "kind": "Workspace",
                "metadata": {
                    "name": "llama",
                    "namespace": "team-a",
                    "labels": {
                        "app.kubernetes.io/managed-by": "kubeairunway",
                        "kubeairunway.ai/managed-by": "kubeairunway",
                        "kubeairunway.ai/deployment": "llama",
                        "kubeairunway.ai/model-source": "huggingface",
                        "kubeairunway.ai/engine-type": "vllm",
                    },
                    "ownerReferences": [{
                        "apiVersion": "kubeairunway.ai/v1alpha1",
                        "kind": "ModelDeployment",
                        "name": "llama",
                        "uid": "uid-1",
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "resource": {
                    "count": 1,
                    "labelSelector": { "matchLabels": { "kubernetes.io/os": "linux" } },
                },
                "inference": { "preset": { "name": "meta-llama/Llama-3.1-8B-Instruct" } },
            })
        );
    }

    #[test]
    fn vllm_preset_ignores_engine_settings_and_passes_the_hf_secret() {
        let md = md(json!({
            "model": { "id": "a/b" },
            "engine": { "type": "vllm", "contextLength": 4096, "args": { "x": "1" }, "trustRemoteCode": true },
            "image": "ignored:1",
            "env": [{ "name": "A", "value": "1" }],
            "secrets": { "huggingFaceToken": "hf-token-secret" },
        }));
        let ws = desired_one(&md, EngineType::Vllm);
        assert_eq!(
            ws["inference"],
            json!({ "preset": { "name": "a/b", "presetOptions": { "modelAccessSecret": "hf-token-secret" } } })
        );
    }

    #[test]
    fn replicas_mapping() {
        for (replicas, want) in [
            (json!(null), 1),
            (json!(0), 1),
            (json!(1), 1),
            (json!(3), 3),
        ] {
            let mut spec = json!({ "model": { "id": "a/b" } });
            if !replicas.is_null() {
                spec["scaling"] = json!({ "replicas": replicas });
            }
            let ws = desired_one(&md(spec), EngineType::Vllm);
            assert_eq!(ws["resource"]["count"], json!(want), "replicas {replicas}");
        }
    }

    #[test]
    fn node_selector_is_merged_into_match_labels() {
        let md = md(
            json!({ "model": { "id": "a/b" }, "nodeSelector": { "pool": "gpu", "zone": "z1" } }),
        );
        let ws = desired_one(&md, EngineType::Vllm);
        assert_eq!(
            ws["resource"]["labelSelector"]["matchLabels"],
            json!({ "kubernetes.io/os": "linux", "pool": "gpu", "zone": "z1" })
        );
    }

    #[test]
    fn llamacpp_template_shape() {
        let md = llamacpp(json!({
            "model": { "servedName": "tiny" },
            "resources": { "memory": "8Gi", "cpu": "4" },
            "engine": { "args": { "threads": "8", "embeddings": "" } },
        }));
        let ws = desired_one(&md, EngineType::Llamacpp);
        assert_eq!(
            ws["inference"]["template"]["metadata"],
            json!({ "labels": ws["metadata"]["labels"].clone() })
        );
        assert_eq!(
            ws["inference"]["template"]["spec"],
            json!({ "containers": [{
                "name": "model",
                "image": "ghcr.io/example/llama:1",
                "args": [
                    "huggingface://org/model-GGUF",
                    "--address=:5000",
                    "--served-model-name=tiny",
                    "--embeddings",
                    "--threads",
                    "8",
                ],
                "ports": [{ "containerPort": 5000 }],
                "resources": { "requests": { "memory": "8Gi", "cpu": "4" } },
            }] })
        );
        assert_eq!(
            ws["metadata"]["labels"]["kubeairunway.ai/engine-type"],
            json!("llamacpp")
        );
    }

    #[test]
    fn llamacpp_model_argument_by_source() {
        let cases = [
            (json!({}), Some("huggingface://org/model-GGUF")),
            (
                json!({ "model": { "source": "custom", "id": "/models/tiny.gguf" } }),
                Some("/models/tiny.gguf"),
            ),
            (json!({ "model": { "source": "custom", "id": null } }), None),
        ];
        for (extra, want) in cases {
            let ws = desired_one(&llamacpp(extra.clone()), EngineType::Llamacpp);
            let args = container(&ws)["args"].as_array().expect("args").clone();
            match want {
                Some(model) => assert_eq!(args[0], json!(model), "{extra}"),
                None => assert_eq!(args[0], json!("--address=:5000"), "{extra}"),
            }
            if extra.pointer("/model/source").is_some() {
                let hf = args
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| a.starts_with("huggingface://"));
                assert!(
                    !hf,
                    "custom source must not download from HuggingFace: {args:?}"
                );
            }
        }
    }

    #[test]
    fn llamacpp_resources_only_memory_and_cpu() {
        let gpu_only = llamacpp(json!({ "resources": { "gpu": { "count": 1 } } }));
        assert_eq!(
            container(&desired_one(&gpu_only, EngineType::Llamacpp)).get("resources"),
            None
        );
        let memory_only = llamacpp(json!({ "resources": { "memory": "2Gi" } }));
        assert_eq!(
            container(&desired_one(&memory_only, EngineType::Llamacpp))["resources"],
            json!({ "requests": { "memory": "2Gi" } })
        );
    }

    #[test]
    fn llamacpp_env_and_hf_token() {
        let md = llamacpp(json!({
            "env": [
                { "name": "PLAIN", "value": "v" },
                { "name": "FROM_SECRET", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } },
                { "name": "FROM_CM", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
            ],
            "secrets": { "huggingFaceToken": "hf" },
        }));
        assert_eq!(
            container(&desired_one(&md, EngineType::Llamacpp))["env"],
            json!([
                { "name": "PLAIN", "value": "v" },
                { "name": "FROM_SECRET", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } },
                { "name": "FROM_CM", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
                { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf", "key": "HF_TOKEN" } } },
            ])
        );
        assert_eq!(
            container(&desired_one(&llamacpp(json!({})), EngineType::Llamacpp)).get("env"),
            None
        );
    }

    #[test]
    fn llamacpp_tolerations_and_pod_metadata() {
        let md = llamacpp(json!({
            "tolerations": [{ "key": "gpu", "operator": "Exists", "effect": "NoSchedule" }],
            "podTemplate": { "metadata": { "labels": { "team": "a" }, "annotations": { "note": "x" } } },
        }));
        let ws = desired_one(&md, EngineType::Llamacpp);
        let template = &ws["inference"]["template"];
        assert_eq!(
            template["spec"]["tolerations"],
            json!([{ "key": "gpu", "operator": "Exists", "effect": "NoSchedule" }])
        );
        assert_eq!(
            template["metadata"],
            json!({
                "labels": {
                    "team": "a",
                    "app.kubernetes.io/managed-by": "kubeairunway",
                    "kubeairunway.ai/managed-by": "kubeairunway",
                    "kubeairunway.ai/deployment": "llama",
                    "kubeairunway.ai/model-source": "huggingface",
                    "kubeairunway.ai/engine-type": "llamacpp",
                },
                "annotations": { "note": "x" },
            })
        );
    }

    #[test]
    fn invalid_engine_arg_keys_are_rejected() {
        for key in ["--x", "a b", "x;y", ""] {
            let md = llamacpp(json!({ "engine": { "args": { key: "1" } } }));
            let err = Kaito.desired(&md, EngineType::Llamacpp).expect_err(key);
            assert!(
                err.0.contains("invalid engine argument key"),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn unsupported_engines_and_missing_image_fail_the_transform() {
        for engine in [EngineType::Sglang, EngineType::Trtllm] {
            let err = Kaito.desired(&vllm(), engine).expect_err("unsupported");
            assert!(err.0.contains(engine.as_str()), "{err}");
        }
        let no_image = md(json!({ "model": { "id": "a/b" }, "engine": { "type": "llamacpp" } }));
        assert!(Kaito.desired(&no_image, EngineType::Llamacpp).is_err());
    }

    #[test]
    fn pod_template_metadata_on_the_workspace() {
        let md = md(json!({
            "model": { "id": "a/b" },
            "podTemplate": { "metadata": {
                "labels": { "team": "a", "kubeairunway.ai/deployment": "hijack" },
                "annotations": { "owner": "me" },
            } },
        }));
        let ws = desired_one(&md, EngineType::Vllm);
        assert_eq!(ws["metadata"]["labels"]["team"], json!("a"));
        assert_eq!(
            ws["metadata"]["labels"]["kubeairunway.ai/deployment"],
            json!("llama")
        );
        assert_eq!(ws["metadata"]["annotations"], json!({ "owner": "me" }));
        assert_eq!(
            desired_one(&vllm(), EngineType::Vllm)["metadata"].get("annotations"),
            None
        );
    }

    #[test]
    fn overrides_are_deep_merged_and_guarded() {
        let md_with = |overrides: Value| {
            md(json!({ "model": { "id": "a/b" }, "provider": { "overrides": overrides } }))
        };
        let ws = desired_one(
            &md_with(json!({ "inference": { "preset": { "accessMode": "private" } }, "extra": 1 })),
            EngineType::Vllm,
        );
        assert_eq!(
            ws["inference"]["preset"],
            json!({ "name": "a/b", "accessMode": "private" })
        );
        assert_eq!(ws["extra"], json!(1));
        for key in ["apiVersion", "kind", "metadata", "status"] {
            let err = Kaito
                .desired(&md_with(json!({ key: {} })), EngineType::Vllm)
                .expect_err(key);
            assert!(err.0.contains(key), "{err}");
        }
        assert!(
            Kaito
                .desired(&md_with(json!([1])), EngineType::Vllm)
                .is_err()
        );
    }

    #[test]
    fn missing_namespace_is_a_transform_error() {
        let mut md = vllm();
        md.metadata.namespace = None;
        assert!(Kaito.desired(&md, EngineType::Vllm).is_err());
    }

    fn workspace(conditions: Value, template: bool, count: Value) -> Value {
        let mut ws =
            json!({ "resource": { "count": count }, "status": { "conditions": conditions } });
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
}
