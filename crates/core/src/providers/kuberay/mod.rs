//! The `kuberay` provider: serves a ModelDeployment with vLLM on Ray Serve through a KubeRay
//! `ray.io/v1 RayService` (controller.md §8): one head group plus GPU worker groups, and a Serve
//! application that reads its model and vLLM flags from the head's environment. Deviations from
//! the reference are listed in `docs/providers.md`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EndpointStatus, EngineType, HelmChart, HelmRepo,
    InferenceProviderConfigSpec, InstallationInfo, InstallationStep, ModelDeployment,
    ProviderCapabilities, ReplicaStatus, SelectionRule, ServingMode,
};
use serde_json::{Map, Value, json};

use super::common;
use super::common::unschedulable_message;
use super::{Incompatible, Observed, ObservedPhase, Provider, TransformError, UpstreamKind};

/// The KubeRay provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct KubeRay;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "ray.io",
    version: "v1",
    kind: "RayService",
    plural: "rayservices",
};

/// Port of the `<name>-serve-svc` Service KubeRay creates for Ray Serve.
const SERVE_PORT: i32 = 8000;
const DEFAULT_IMAGE: &str = "rayproject/ray-ml:2.44.0-py311-gpu";
const HELM_REPO_URL: &str = "https://ray-project.github.io/kuberay-helm/";
const CHART_VERSION: &str = "1.3.0";
const INSTALL_NAMESPACE: &str = "ray-system";

impl Provider for KubeRay {
    fn name(&self) -> &'static str {
        "kuberay"
    }

    fn version(&self) -> &'static str {
        "kuberay-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm]),
                serving_modes: Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated]),
                cpu_support: Some(false),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![SelectionRule {
                condition: "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && \
                            spec.engine.type == 'vllm'"
                    .into(),
                priority: 80,
            }]),
            installation: Some(InstallationInfo {
                description: Some(
                    "Ray Serve via KubeRay, distributed Ray-based serving with vLLM".into(),
                ),
                default_namespace: Some(INSTALL_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "kuberay".into(),
                    url: HELM_REPO_URL.into(),
                }]),
                helm_charts: Some(vec![HelmChart {
                    name: "kuberay-operator".into(),
                    chart: "kuberay/kuberay-operator".into(),
                    version: Some(CHART_VERSION.into()),
                    namespace: INSTALL_NAMESPACE.into(),
                    create_namespace: Some(true),
                }]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Add KubeRay Helm Repository".into(),
                        command: Some(format!("helm repo add kuberay {HELM_REPO_URL}")),
                        description: "Register the KubeRay chart repository with Helm.".into(),
                    },
                    InstallationStep {
                        title: "Update Helm Repositories".into(),
                        command: Some("helm repo update".into()),
                        description: "Fetch the latest chart index.".into(),
                    },
                    InstallationStep {
                        title: "Install KubeRay Operator".into(),
                        command: Some(format!(
                            "helm upgrade --install kuberay-operator kuberay/kuberay-operator \
                             --version {CHART_VERSION} -n {INSTALL_NAMESPACE} --create-namespace \
                             --wait"
                        )),
                        description: "Install the operator that runs RayService and RayCluster \
                                      objects."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kuberay.md"
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
        if engine != EngineType::Vllm {
            return Err(format!(
                "KubeRay supports only engine vllm, not {engine}: use engine vllm, or choose the \
                 dynamo provider (sglang, trtllm) or the kaito provider (llamacpp)"
            )
            .into());
        }
        if !common::has_serving_gpu(md) {
            return Err(match md.spec.serving.mode {
                ServingMode::Aggregated => "KubeRay needs a GPU: set spec.resources.gpu.count to \
                                            at least 1, or choose a provider with CPU support"
                    .into(),
                ServingMode::Disaggregated => "KubeRay needs a GPU: set \
                                               spec.scaling.prefill.gpu.count to at least 1"
                    .into(),
            });
        }
        if model_id(md).is_none() {
            return Err(
                "KubeRay needs spec.model.id (the model vLLM loads, also when the image \
                 carries it): set spec.model.id"
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
        if engine != EngineType::Vllm {
            return Err(TransformError(format!(
                "engine {engine} is not supported by KubeRay (supported: vllm)"
            )));
        }
        let namespace = md
            .namespace()
            .ok_or_else(|| TransformError("the ModelDeployment has no namespace".into()))?;
        let image = md
            .spec
            .image
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_IMAGE);
        let pods = PodParts {
            metadata: pod_metadata(md, engine),
            scheduling: scheduling(md),
        };

        let mut head_env = vec![
            json!({ "name": "MODEL_ID", "value": model_id(md).unwrap_or_default() }),
            json!({ "name": "VLLM_ENGINE_ARGS", "value": vllm_engine_args(md)? }),
        ];
        head_env.extend(common::env(md));
        let memory = md.spec.resources.as_ref().and_then(|r| r.memory.as_deref());
        let head = json!({
            "name": "ray-head",
            "image": image,
            "resources": { "limits": { "cpu": "4", "memory": memory.unwrap_or("16Gi") } },
            "env": head_env,
        });

        let worker_groups = match md.spec.serving.mode {
            ServingMode::Aggregated => {
                let cpu = md.spec.resources.as_ref().and_then(|r| r.cpu.as_deref());
                let limits = worker_limits(
                    memory,
                    cpu,
                    common::gpu_count(md),
                    &common::gpu_resource(md),
                );
                vec![pods.worker_group(md, image, "gpu-workers", common::replicas(md), limits)]
            }
            ServingMode::Disaggregated => {
                let scaling = &md.spec.scaling;
                [
                    ("prefill-workers", &scaling.prefill),
                    ("decode-workers", &scaling.decode),
                ]
                .into_iter()
                .filter_map(|(name, component)| Some((name, component.as_ref()?)))
                .map(|(name, component)| {
                    pods.worker_group(
                        md,
                        image,
                        name,
                        component.replicas.max(0),
                        component_limits(component),
                    )
                })
                .collect()
            }
        };

        let mut service = json!({
            "apiVersion": UPSTREAM.api_version(),
            "kind": UPSTREAM.kind,
            "metadata": metadata(md, engine, &namespace),
            "spec": {
                "serveConfigV2": serve_config(common::replicas(md)),
                "rayClusterConfig": {
                    "headGroupSpec": {
                        "rayStartParams": { "dashboard-host": "0.0.0.0" },
                        "template": pods.template(head),
                    },
                    "workerGroupSpecs": worker_groups,
                },
            },
        });
        common::apply_overrides(md, &mut service)?;
        Ok(vec![service])
    }

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        let endpoint = Some(EndpointStatus {
            service: Some(format!("{}-serve-svc", md.name_any())),
            port: Some(SERVE_PORT),
        });
        let desired = primary
            .and_then(|rs| rs.pointer("/spec/rayClusterConfig/workerGroupSpecs"))
            .and_then(Value::as_array)
            .and_then(|groups| {
                groups
                    .iter()
                    .filter_map(|g| g.get("replicas")?.as_i64())
                    .filter_map(|n| i32::try_from(n).ok())
                    .reduce(i32::saturating_add)
            })
            .unwrap_or_else(|| desired_from_spec(md));

        let conditions = primary.map(common::conditions).unwrap_or_default();
        // KubeRay names the condition `Ready`; the reference looked for `RayServiceReady`.
        let ready_condition = conditions
            .iter()
            .find(|(t, _, _)| t == "Ready" || t == "RayServiceReady");
        let (mut phase, mut message) = match ready_condition {
            Some((_, s, _)) if s == "True" => (ObservedPhase::Running, None),
            Some((_, s, m)) if s == "False" => (ObservedPhase::Deploying, non_empty(m)),
            _ => (ObservedPhase::Pending, None),
        };

        let apps = applications(primary);
        let all_running = !apps.is_empty() && apps.iter().all(|a| a.status == "RUNNING");
        if !apps.is_empty() {
            if let Some(failed) = apps.iter().find(|a| a.status == "DEPLOY_FAILED") {
                phase = ObservedPhase::Failed;
                message = Some(non_empty(&failed.message).unwrap_or_else(|| {
                    format!("Ray Serve application {} failed to deploy", failed.name)
                }));
            } else if all_running {
                phase = ObservedPhase::Running;
                message = None;
            } else {
                phase = ObservedPhase::Deploying;
                if let Some(waiting) = apps
                    .iter()
                    .find(|a| a.status != "RUNNING" && !a.message.is_empty())
                {
                    message = Some(waiting.message.clone());
                }
            }
        }
        if matches!(phase, ObservedPhase::Pending | ObservedPhase::Deploying)
            && let Some(unschedulable) = unschedulable_message(pods)
        {
            message = Some(unschedulable);
        }
        let ready = if all_running { desired } else { 0 };
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

/// One Ray Serve application status.
struct AppStatus {
    name: String,
    status: String,
    message: String,
}

/// `status.activeServiceStatus.applicationStatuses`, skipping entries without a status string.
fn applications(primary: Option<&Value>) -> Vec<AppStatus> {
    primary
        .and_then(|rs| rs.pointer("/status/activeServiceStatus/applicationStatuses"))
        .and_then(Value::as_object)
        .map(|apps| {
            apps.iter()
                .filter_map(|(name, app)| {
                    Some(AppStatus {
                        name: name.clone(),
                        status: app.get("status")?.as_str()?.to_string(),
                        message: app
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Metadata and scheduling shared by the head and worker pod templates.
struct PodParts {
    metadata: Value,
    scheduling: Map<String, Value>,
}

impl PodParts {
    fn template(&self, container: Value) -> Value {
        let mut spec = self.scheduling.clone();
        spec.insert("containers".into(), json!([container]));
        json!({ "metadata": self.metadata, "spec": spec })
    }

    fn worker_group(
        &self,
        md: &ModelDeployment,
        image: &str,
        name: &str,
        replicas: i32,
        limits: Map<String, Value>,
    ) -> Value {
        let mut container = json!({
            "name": "ray-worker",
            "image": image,
            "resources": { "limits": limits },
        });
        let env = common::env(md);
        if !env.is_empty() {
            container["env"] = Value::Array(env);
        }
        json!({
            "groupName": name,
            "replicas": replicas,
            "minReplicas": replicas,
            "maxReplicas": replicas,
            "rayStartParams": {},
            "template": self.template(container),
        })
    }
}

fn worker_limits(
    memory: Option<&str>,
    cpu: Option<&str>,
    gpus: i32,
    gpu_resource: &str,
) -> Map<String, Value> {
    let mut limits = Map::new();
    limits.insert("memory".into(), json!(memory.unwrap_or("32Gi")));
    if let Some(cpu) = cpu {
        limits.insert("cpu".into(), json!(cpu));
    }
    if gpus > 0 {
        limits.insert(gpu_resource.into(), json!(gpus.to_string()));
    }
    limits
}

fn component_limits(component: &ComponentScalingSpec) -> Map<String, Value> {
    let (count, gpu_type) = component
        .gpu
        .as_ref()
        .map_or((0, DEFAULT_GPU_RESOURCE), |g| (g.count, g.type_.as_str()));
    worker_limits(component.memory.as_deref(), None, count, gpu_type)
}

/// The vLLM flags for `VLLM_ENGINE_ARGS`, space-joined. The Serve application splits the string
/// on spaces, so no element may contain whitespace.
fn vllm_engine_args(md: &ModelDeployment) -> Result<String, TransformError> {
    let mut args = vec![
        "--model".to_string(),
        model_id(md).unwrap_or_default().to_string(),
    ];
    if let Some(n) = md.spec.engine.context_length {
        args.extend(["--max-model-len".to_string(), n.to_string()]);
    }
    if let Some(served) = md
        .spec
        .model
        .served_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        args.extend(["--served-model-name".to_string(), served.to_string()]);
    }
    if md.spec.engine.trust_remote_code {
        args.push("--trust-remote-code".into());
    }
    args.extend(common::engine_args(md)?);
    if let Some(bad) = args.iter().find(|a| a.chars().any(char::is_whitespace)) {
        return Err(TransformError(format!(
            "KubeRay passes vLLM arguments as one space-separated string (VLLM_ENGINE_ARGS), so \
             {bad:?} may not contain whitespace: remove the spaces from the model id, served name \
             or spec.engine.args value"
        )));
    }
    Ok(args.join(" "))
}

/// `serveConfigV2`: one application `llm` whose deployment runs `replicas` vLLM replicas.
fn serve_config(replicas: i32) -> String {
    format!(
        "applications:\n\
         - name: llm\n  \
           route_prefix: /\n  \
           import_path: vllm_serve:deployment\n  \
           deployments:\n  \
           - name: VLLMDeployment\n    \
             num_replicas: {replicas}\n"
    )
}

/// Labels of the RayService and its pods: `podTemplate` labels, then ours, which win.
fn labels(md: &ModelDeployment, engine: EngineType) -> BTreeMap<String, String> {
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, engine));
    labels
}

fn metadata(md: &ModelDeployment, engine: EngineType, namespace: &str) -> Value {
    let mut meta = json!({
        "name": md.name_any(),
        "namespace": namespace,
        "labels": common::string_map(&labels(md, engine)),
        "ownerReferences": [common::owner_reference(md)],
    });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    meta
}

/// Pod template metadata: our labels (so the pods can be found by `kubeairunway.ai/deployment`)
/// and the `podTemplate` annotations.
fn pod_metadata(md: &ModelDeployment, engine: EngineType) -> Value {
    let mut meta = json!({ "labels": common::string_map(&labels(md, engine)) });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    meta
}

fn scheduling(md: &ModelDeployment) -> Map<String, Value> {
    let mut spec = Map::new();
    if let Some(selector) = md.spec.node_selector.as_ref().filter(|s| !s.is_empty()) {
        spec.insert("nodeSelector".into(), common::string_map(selector));
    }
    let tolerations: Vec<Value> = md
        .spec
        .tolerations
        .iter()
        .flatten()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    if !tolerations.is_empty() {
        spec.insert("tolerations".into(), Value::Array(tolerations));
    }
    spec
}

/// Worker replicas the RayService asks for, when the live object cannot tell.
fn desired_from_spec(md: &ModelDeployment) -> i32 {
    match md.spec.serving.mode {
        ServingMode::Aggregated => common::replicas(md),
        ServingMode::Disaggregated => [&md.spec.scaling.prefill, &md.spec.scaling.decode]
            .into_iter()
            .flatten()
            .map(|c| c.replicas.max(0))
            .sum(),
    }
}

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::{
        CompatibilityCase, assert_compatibility, md, unschedulable_pod,
    };

    fn aggregated(extra: Value) -> ModelDeployment {
        let mut spec = json!({
            "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" },
            "engine": { "type": "vllm" },
            "resources": { "gpu": { "count": 2 } },
        });
        common::deep_merge(&mut spec, &extra);
        md(spec)
    }

    fn disaggregated(extra: Value) -> ModelDeployment {
        let mut spec = json!({
            "model": { "id": "org/model" },
            "serving": { "mode": "disaggregated" },
            "scaling": {
                "prefill": { "replicas": 2, "gpu": { "count": 1 } },
                "decode": { "replicas": 3, "gpu": { "count": 4, "type": "amd.com/gpu" }, "memory": "80Gi" },
            },
        });
        common::deep_merge(&mut spec, &extra);
        md(spec)
    }

    fn desired_one(md: &ModelDeployment) -> Value {
        let mut objects = KubeRay.desired(md, EngineType::Vllm).expect("desired");
        assert_eq!(objects.len(), 1);
        objects.remove(0)
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
            Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kuberay.md"
            )
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

    #[test]
    fn aggregated_shape() {
        let rs = desired_one(&aggregated(json!({})));
        let labels = json!({
            "app.kubernetes.io/managed-by": "kubeairunway",
            "kubeairunway.ai/managed-by": "kubeairunway",
            "kubeairunway.ai/deployment": "llama",
            "kubeairunway.ai/model-source": "huggingface",
            "kubeairunway.ai/engine-type": "vllm",
        });
        assert_eq!(
            rs,
            json!({
                "apiVersion": "ray.io/v1",
                "kind": "RayService",
                "metadata": {
                    "name": "llama",
                    "namespace": "team-a",
                    "labels": labels,
                    "ownerReferences": [{
                        "apiVersion": "kubeairunway.ai/v1alpha1",
                        "kind": "ModelDeployment",
                        "name": "llama",
                        "uid": "uid-1",
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "spec": {
                    "serveConfigV2": "applications:\n- name: llm\n  route_prefix: /\n  import_path: vllm_serve:deployment\n  deployments:\n  - name: VLLMDeployment\n    num_replicas: 1\n",
                    "rayClusterConfig": {
                        "headGroupSpec": {
                            "rayStartParams": { "dashboard-host": "0.0.0.0" },
                            "template": {
                                "metadata": { "labels": labels },
                                "spec": { "containers": [{
                                    "name": "ray-head",
                                    "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                                    "resources": { "limits": { "cpu": "4", "memory": "16Gi" } },
                                    "env": [
                                        { "name": "MODEL_ID", "value": "meta-llama/Llama-3.1-8B-Instruct" },
                                        { "name": "VLLM_ENGINE_ARGS", "value": "--model meta-llama/Llama-3.1-8B-Instruct" },
                                    ],
                                }] },
                            },
                        },
                        "workerGroupSpecs": [{
                            "groupName": "gpu-workers",
                            "replicas": 1,
                            "minReplicas": 1,
                            "maxReplicas": 1,
                            "rayStartParams": {},
                            "template": {
                                "metadata": { "labels": labels },
                                "spec": { "containers": [{
                                    "name": "ray-worker",
                                    "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                                    "resources": { "limits": { "memory": "32Gi", "nvidia.com/gpu": "2" } },
                                }] },
                            },
                        }],
                    },
                },
            })
        );
    }

    #[test]
    fn serve_config_is_valid_yaml_with_the_replica_count() {
        let rs = desired_one(&aggregated(json!({ "scaling": { "replicas": 3 } })));
        let config: Value =
            serde_saphyr::from_str(rs["spec"]["serveConfigV2"].as_str().expect("string"))
                .expect("yaml");
        assert_eq!(
            config,
            json!({ "applications": [{
                "name": "llm",
                "route_prefix": "/",
                "import_path": "vllm_serve:deployment",
                "deployments": [{ "name": "VLLMDeployment", "num_replicas": 3 }],
            }] })
        );
    }

    #[test]
    fn replicas_pass_zero_through() {
        for replicas in [0, 1, 4] {
            let rs = desired_one(&aggregated(json!({ "scaling": { "replicas": replicas } })));
            let group = &workers(&rs)[0];
            for field in ["replicas", "minReplicas", "maxReplicas"] {
                assert_eq!(group[field], json!(replicas), "{field} for {replicas}");
            }
            let serve = rs["spec"]["serveConfigV2"].as_str().expect("string");
            assert!(
                serve.ends_with(&format!("num_replicas: {replicas}\n")),
                "{serve}"
            );
        }
    }

    #[test]
    fn engine_args_order_and_sorting() {
        let md = aggregated(json!({
            "model": { "servedName": "llama" },
            "engine": { "contextLength": 8192, "trustRemoteCode": true, "args": { "tensor-parallel-size": "2", "enforce-eager": "" } },
        }));
        let rs = desired_one(&md);
        assert_eq!(
            env_value(head_container(&rs), "VLLM_ENGINE_ARGS").as_deref(),
            Some(
                "--model meta-llama/Llama-3.1-8B-Instruct --max-model-len 8192 --served-model-name llama --trust-remote-code --enforce-eager --tensor-parallel-size 2"
            )
        );
        let plain = desired_one(&aggregated(json!({})));
        assert_eq!(
            env_value(head_container(&plain), "VLLM_ENGINE_ARGS").as_deref(),
            Some("--model meta-llama/Llama-3.1-8B-Instruct")
        );
    }

    #[test]
    fn invalid_engine_args_are_rejected() {
        let cases = [
            (
                json!({ "engine": { "args": { "--tp": "2" } } }),
                "invalid engine argument key",
            ),
            (
                json!({ "engine": { "args": { "a b": "2" } } }),
                "invalid engine argument key",
            ),
            (
                json!({ "engine": { "args": { "x": "1 --evil" } } }),
                "whitespace",
            ),
            (
                json!({ "model": { "servedName": "my model" } }),
                "whitespace",
            ),
        ];
        for (extra, fragment) in cases {
            let err = KubeRay
                .desired(&aggregated(extra.clone()), EngineType::Vllm)
                .expect_err("invalid");
            assert!(err.0.contains(fragment), "{extra}: {err}");
        }
        let err = KubeRay
            .desired(&aggregated(json!({})), EngineType::Sglang)
            .expect_err("engine");
        assert!(err.0.contains("sglang"), "{err}");
    }

    #[test]
    fn env_and_hf_token_on_head_and_workers() {
        let md = aggregated(json!({
            "env": [{ "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" }],
            "secrets": { "huggingFaceToken": "hf-token-secret" },
        }));
        let rs = desired_one(&md);
        let user_env = json!([
            { "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" },
            { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf-token-secret", "key": "HF_TOKEN" } } },
        ]);
        let head_env = head_container(&rs)["env"].as_array().expect("env");
        assert_eq!(head_env[0]["name"], json!("MODEL_ID"));
        assert_eq!(head_env[1]["name"], json!("VLLM_ENGINE_ARGS"));
        assert_eq!(Value::Array(head_env[2..].to_vec()), user_env);
        assert_eq!(
            workers(&rs)[0]["template"]["spec"]["containers"][0]["env"],
            user_env
        );

        let disagg = desired_one(&disaggregated(
            json!({ "secrets": { "huggingFaceToken": "hf" } }),
        ));
        for group in workers(&disagg) {
            assert_eq!(
                group["template"]["spec"]["containers"][0]["env"],
                json!([{ "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf", "key": "HF_TOKEN" } } }])
            );
        }
    }

    #[test]
    fn scheduling_on_every_group() {
        let md = disaggregated(json!({
            "nodeSelector": { "pool": "gpu" },
            "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
        }));
        let rs = desired_one(&md);
        let mut specs = vec![&head(&rs)["template"]["spec"]];
        specs.extend(workers(&rs).iter().map(|g| &g["template"]["spec"]));
        assert_eq!(specs.len(), 3);
        for spec in specs {
            assert_eq!(spec["nodeSelector"], json!({ "pool": "gpu" }));
            assert_eq!(
                spec["tolerations"],
                json!([{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }])
            );
        }
        let plain = desired_one(&aggregated(json!({})));
        assert_eq!(head(&plain)["template"]["spec"].get("nodeSelector"), None);
        assert_eq!(head(&plain)["template"]["spec"].get("tolerations"), None);
    }

    #[test]
    fn images_and_memory() {
        let custom = desired_one(&aggregated(json!({
            "image": "registry.example/ray-vllm:1",
            "resources": { "memory": "64Gi", "cpu": "16", "gpu": { "count": 1, "type": "amd.com/gpu" } },
        })));
        assert_eq!(
            head_container(&custom)["image"],
            json!("registry.example/ray-vllm:1")
        );
        assert_eq!(
            head_container(&custom)["resources"],
            json!({ "limits": { "cpu": "4", "memory": "64Gi" } })
        );
        let worker = &workers(&custom)[0]["template"]["spec"]["containers"][0];
        assert_eq!(worker["image"], json!("registry.example/ray-vllm:1"));
        assert_eq!(
            worker["resources"],
            json!({ "limits": { "memory": "64Gi", "cpu": "16", "amd.com/gpu": "1" } })
        );
        let no_gpu = desired_one(&aggregated(
            json!({ "resources": { "gpu": { "count": 0 } } }),
        ));
        assert_eq!(
            workers(&no_gpu)[0]["template"]["spec"]["containers"][0]["resources"],
            json!({ "limits": { "memory": "32Gi" } })
        );
    }

    #[test]
    fn disaggregated_shape() {
        let rs = desired_one(&disaggregated(json!({})));
        let groups = workers(&rs);
        assert_eq!(groups.len(), 2);
        let cases = [
            (
                "prefill-workers",
                2,
                json!({ "memory": "32Gi", "nvidia.com/gpu": "1" }),
            ),
            (
                "decode-workers",
                3,
                json!({ "memory": "80Gi", "amd.com/gpu": "4" }),
            ),
        ];
        for (group, (name, replicas, limits)) in groups.iter().zip(cases) {
            assert_eq!(group["groupName"], json!(name));
            for field in ["replicas", "minReplicas", "maxReplicas"] {
                assert_eq!(group[field], json!(replicas), "{name} {field}");
            }
            assert_eq!(
                group["template"]["spec"]["containers"][0]["resources"]["limits"],
                limits
            );
        }
        let zero = desired_one(&disaggregated(
            json!({ "scaling": { "decode": { "replicas": 0 } } }),
        ));
        assert_eq!(workers(&zero)[1]["replicas"], json!(0));
        let mut only_prefill = disaggregated(json!({}));
        only_prefill.spec.scaling.decode = None;
        let groups = workers(&desired_one(&only_prefill)).clone();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0]["groupName"], json!("prefill-workers"));
    }

    #[test]
    fn pod_template_metadata() {
        let md = aggregated(json!({ "podTemplate": { "metadata": {
            "labels": { "team": "a", "kubeairunway.ai/deployment": "hijack" },
            "annotations": { "note": "n" },
        } } }));
        let rs = desired_one(&md);
        assert_eq!(rs["metadata"]["labels"]["team"], json!("a"));
        assert_eq!(
            rs["metadata"]["labels"]["kubeairunway.ai/deployment"],
            json!("llama")
        );
        assert_eq!(rs["metadata"]["annotations"], json!({ "note": "n" }));
        let want =
            json!({ "labels": rs["metadata"]["labels"].clone(), "annotations": { "note": "n" } });
        assert_eq!(head(&rs)["template"]["metadata"], want);
        assert_eq!(workers(&rs)[0]["template"]["metadata"], want);
        assert_eq!(
            desired_one(&aggregated(json!({})))["metadata"].get("annotations"),
            None
        );
    }

    #[test]
    fn overrides_are_deep_merged_and_guarded() {
        let md = aggregated(json!({ "provider": { "overrides": {
            "spec": { "rayClusterConfig": { "headGroupSpec": { "rayStartParams": { "num-cpus": "0" } } } },
        } } }));
        let rs = desired_one(&md);
        assert_eq!(
            head(&rs)["rayStartParams"],
            json!({ "dashboard-host": "0.0.0.0", "num-cpus": "0" })
        );
        for key in ["apiVersion", "kind", "metadata", "status"] {
            let md = aggregated(json!({ "provider": { "overrides": { key: {} } } }));
            let err = KubeRay.desired(&md, EngineType::Vllm).expect_err(key);
            assert!(err.0.contains(key), "{err}");
        }
    }

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
                apps(
                    json!({ "llm": { "status": "DEPLOYING", "message": "waiting for replicas" } }),
                ),
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
        };
        assert_eq!(KubeRay.observe(&md, None, &[]), want(2));
        let no_status =
            json!({ "spec": { "rayClusterConfig": { "workerGroupSpecs": [{ "replicas": 5 }] } } });
        assert_eq!(KubeRay.observe(&md, Some(&no_status), &[]), want(5));
        let malformed = json!({ "spec": { "rayClusterConfig": { "workerGroupSpecs": [{ "replicas": "x" }] } } });
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
}
