//! The built-in `kubernetes` provider: serves a model with vLLM or llama.cpp as a plain
//! Deployment and Service, so any cluster can serve a model without a third-party operator.

use k8s_openapi::api::core::v1::Pod;
use kube_core::{ApiResource, GroupVersionKind};
use kubeairunway_api::{
    EndpointStatus, EngineType, InferenceProviderConfigSpec, InstallationInfo, ModelDeployment,
    ModelSource, ProviderCapabilities, ReplicaStatus, ServingMode,
};
use serde_json::{Value, json};

use super::common::{self, base_labels, string_map};
use super::{Incompatible, Observed, ObservedPhase, Provider, TransformError, UpstreamKind};

/// Default vLLM image.
pub const VLLM_IMAGE: &str = "vllm/vllm-openai:v0.11.0";
/// Default llama.cpp server image.
pub const LLAMACPP_IMAGE: &str = "ghcr.io/ggml-org/llama.cpp:server";
/// Port of the Service (both engines).
pub const SERVICE_PORT: i32 = 8000;

/// The built-in provider.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kubernetes;

impl Kubernetes {
    fn container_port(engine: EngineType) -> i32 {
        if engine == EngineType::Llamacpp {
            8080
        } else {
            8000
        }
    }

    fn args(md: &ModelDeployment, engine: EngineType) -> Result<Vec<String>, TransformError> {
        let spec = &md.spec;
        let id = spec.model.id.clone().unwrap_or_default();
        let mut args = Vec::new();
        match engine {
            EngineType::Vllm => {
                if !id.is_empty() {
                    args.extend(["--model".to_string(), id]);
                }
                args.extend([
                    "--host".into(),
                    "0.0.0.0".into(),
                    "--port".into(),
                    "8000".into(),
                ]);
                if let Some(name) = &spec.model.served_name {
                    args.extend(["--served-model-name".to_string(), name.clone()]);
                }
                if let Some(len) = spec.engine.context_length {
                    args.extend(["--max-model-len".to_string(), len.to_string()]);
                }
                if spec.engine.trust_remote_code {
                    args.push("--trust-remote-code".into());
                }
                let gpus = common::gpu_count(md);
                if gpus > 1 {
                    args.extend(["--tensor-parallel-size".to_string(), gpus.to_string()]);
                }
            }
            EngineType::Llamacpp => {
                if spec.model.source == ModelSource::Huggingface && !id.is_empty() {
                    args.extend(["--hf-repo".to_string(), id]);
                }
                args.extend([
                    "--host".into(),
                    "0.0.0.0".into(),
                    "--port".into(),
                    "8080".into(),
                ]);
                if let Some(name) = &spec.model.served_name {
                    args.extend(["--alias".to_string(), name.clone()]);
                }
                if let Some(len) = spec.engine.context_length {
                    args.extend(["--ctx-size".to_string(), len.to_string()]);
                }
                if common::gpu_count(md) > 0 {
                    args.extend(["--n-gpu-layers".to_string(), "999".to_string()]);
                }
            }
            other => {
                return Err(TransformError(format!(
                    "engine {other} is not supported by the kubernetes provider"
                )));
            }
        }
        args.extend(common::engine_args(md)?);
        Ok(args)
    }

    fn resources(md: &ModelDeployment) -> Value {
        let mut requests = serde_json::Map::new();
        let mut limits = serde_json::Map::new();
        let gpus = common::gpu_count(md);
        if gpus > 0 {
            let key = common::gpu_resource(md);
            requests.insert(key.clone(), json!(gpus.to_string()));
            limits.insert(key, json!(gpus.to_string()));
        }
        if let Some(r) = &md.spec.resources {
            if let Some(memory) = &r.memory {
                requests.insert("memory".into(), json!(memory));
                limits.insert("memory".into(), json!(memory));
            }
            if let Some(cpu) = &r.cpu {
                requests.insert("cpu".into(), json!(cpu));
            }
        }
        json!({ "requests": requests, "limits": limits })
    }
}

impl Provider for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn version(&self) -> &'static str {
        "kubernetes-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm, EngineType::Llamacpp]),
                serving_modes: Some(vec![ServingMode::Aggregated]),
                cpu_support: Some(true),
                gpu_support: Some(true),
            }),
            selection_rules: None,
            installation: Some(InstallationInfo {
                description: Some(
                    "Built into KubeAIRunway: serves vLLM or llama.cpp as a plain Deployment and Service; nothing to install"
                        .into(),
                ),
                default_namespace: None,
                helm_repos: None,
                helm_charts: None,
                steps: None,
            }),
            documentation: Some("docs/providers.md#kubernetes".into()),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        None
    }

    fn kinds(&self) -> Vec<ApiResource> {
        vec![
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("apps", "v1", "Deployment"),
                "deployments",
            ),
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("", "v1", "Service"),
                "services",
            ),
        ]
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        if !matches!(engine, EngineType::Vllm | EngineType::Llamacpp) {
            return Err(format!(
                "the kubernetes provider runs vllm and llamacpp, not {engine}; choose one of those engines or the dynamo provider"
            ).into());
        }
        if md.spec.serving.mode == ServingMode::Disaggregated {
            return Err("the kubernetes provider serves aggregated mode only; use the dynamo provider for disaggregated serving".into());
        }
        if md.spec.model.source == ModelSource::Custom && md.spec.image.is_none() {
            return Err("spec.image is required when spec.model.source is custom".into());
        }
        if md
            .spec
            .provider
            .as_ref()
            .is_some_and(|p| p.overrides.is_some())
        {
            return Err("the kubernetes provider takes no spec.provider.overrides; set the fields of the spec instead".into());
        }
        Ok(())
    }

    fn desired(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<Vec<Value>, TransformError> {
        let name = md.metadata.name.clone().unwrap_or_default();
        let namespace = md.metadata.namespace.clone().unwrap_or_default();
        let mut labels = base_labels(md, engine);
        let selector = json!({
            kubeairunway_api::labels::DEPLOYMENT: name,
            kubeairunway_api::labels::MANAGED_BY: kubeairunway_api::labels::MANAGED_BY_VALUE,
        });
        let mut pod_labels = labels.clone();
        pod_labels.extend(common::template_labels(md));
        labels.extend(common::template_labels(md));
        let image = md.spec.image.clone().unwrap_or_else(|| {
            if engine == EngineType::Llamacpp {
                LLAMACPP_IMAGE.into()
            } else {
                VLLM_IMAGE.into()
            }
        });
        let port = Self::container_port(engine);
        let mut pod_spec = json!({
            "containers": [{
                "name": "server",
                "image": image,
                "args": Self::args(md, engine)?,
                "env": common::env(md),
                "ports": [{ "name": "http", "containerPort": port, "protocol": "TCP" }],
                "resources": Self::resources(md),
                "readinessProbe": {
                    "httpGet": { "path": "/health", "port": "http" },
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                },
            }],
        });
        if let Some(ns) = &md.spec.node_selector {
            pod_spec["nodeSelector"] = string_map(ns);
        }
        if let Some(t) = &md.spec.tolerations {
            pod_spec["tolerations"] =
                serde_json::to_value(t).map_err(|e| TransformError(e.to_string()))?;
        }
        let owner = common::owner_reference(md);
        let annotations = common::template_annotations(md);
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name, "namespace": namespace,
                "labels": string_map(&labels),
                "annotations": string_map(&annotations),
                "ownerReferences": [owner],
            },
            "spec": {
                "replicas": common::replicas(md),
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": { "labels": string_map(&pod_labels), "annotations": string_map(&annotations) },
                    "spec": pod_spec,
                },
            },
        });
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name, "namespace": namespace,
                "labels": string_map(&labels),
                "ownerReferences": [common::owner_reference(md)],
            },
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{ "name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP" }],
            },
        });
        Ok(vec![deployment, service])
    }

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        let name = md.metadata.name.clone().unwrap_or_default();
        let endpoint = Some(EndpointStatus {
            service: Some(name),
            port: Some(SERVICE_PORT),
        });
        let desired = common::replicas(md);
        let Some(deployment) = primary else {
            return Observed {
                phase: ObservedPhase::Pending,
                message: None,
                replicas: None,
                endpoint,
            };
        };
        let int = |p: &str| {
            deployment
                .pointer(p)
                .and_then(Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0)
        };
        let replicas = ReplicaStatus {
            desired,
            ready: int("/status/readyReplicas"),
            available: int("/status/availableReplicas"),
        };
        let deadline_exceeded = common::conditions(deployment)
            .into_iter()
            .find(|(t, s, _)| t == "Progressing" && s == "False");
        let (phase, message) = if let Some((_, _, msg)) = deadline_exceeded {
            (
                ObservedPhase::Failed,
                Some(format!("The Deployment stopped progressing: {msg}")),
            )
        } else if desired == 0 {
            (
                ObservedPhase::Running,
                Some("Scaled to zero replicas".to_string()),
            )
        } else if replicas.ready >= desired {
            (
                ObservedPhase::Running,
                Some(format!("{}/{} replicas ready", replicas.ready, desired)),
            )
        } else if let Some(why) = common::unschedulable_message(pods) {
            (ObservedPhase::Deploying, Some(why))
        } else {
            (
                ObservedPhase::Deploying,
                Some(format!(
                    "{}/{} replicas ready, waiting for pods to be ready",
                    replicas.ready, desired
                )),
            )
        };
        Observed {
            phase,
            message,
            replicas: Some(replicas),
            endpoint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::{CompatibilityCase, assert_compatibility, unschedulable_pod};

    fn md(spec: Value) -> ModelDeployment {
        serde_json::from_value(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "m", "namespace": "ns", "uid": "u-1" },
            "spec": spec,
        }))
        .expect("md")
    }

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
        let args: Vec<&str> = c["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            args,
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
        assert_eq!(objs[0]["metadata"]["ownerReferences"][0]["uid"], "u-1");
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
        let args: Vec<&str> = c["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            args,
            [
                "--hf-repo",
                "a/b-GGUF",
                "--host",
                "0.0.0.0",
                "--port",
                "8080",
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
            "m-1",
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
}
