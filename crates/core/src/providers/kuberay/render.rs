//! The RayService the KubeRay provider applies.

use std::collections::BTreeMap;

use kube_core::ResourceExt;
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineType, ModelDeployment, ServingMode,
};
use serde_json::{Map, Value, json};

use super::super::{TransformError, common};
use super::{DEFAULT_IMAGE, UPSTREAM, model_id};

/// The RayService: a head group, the worker groups of the serving mode and the Serve config.
pub(super) fn desired(
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
    head_env.extend(common::env(md).iter().map(|e| json!(e)));
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
            container["env"] = json!(env);
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
