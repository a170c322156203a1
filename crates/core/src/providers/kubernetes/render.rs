//! The Deployment and Service the built-in provider applies.

use kubeairunway_api::{EngineType, ModelDeployment, ModelSource};
use serde_json::{Value, json};

use super::super::TransformError;
use super::super::common::{self, base_labels, string_map};
use super::{LLAMACPP_IMAGE, SERVICE_PORT, VLLM_IMAGE};

/// The Deployment (primary) and the Service in front of it.
pub(super) fn desired(
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
    let port = container_port(engine);
    let mut pod_spec = json!({
        "containers": [{
            "name": "server",
            "image": image,
            "args": args(md, engine)?,
            "env": common::env(md),
            "ports": [{ "name": "http", "containerPort": port, "protocol": "TCP" }],
            "resources": resources(md),
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
