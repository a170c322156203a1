//! The Deployment and Service the built-in provider applies, built from the k8s-openapi types
//! so every field is the one the API server reads.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubeairunway_api::labels::{DEPLOYMENT, MANAGED_BY, MANAGED_BY_VALUE};
use kubeairunway_api::{EngineType, ModelDeployment, ModelSource};
use serde_json::Value;

use super::super::TransformError;
use super::super::common::{self, base_labels};
use super::{LLAMACPP_IMAGE, SERVICE_PORT, VLLM_IMAGE};

/// Name of the container port, so the probe and the Service follow the engine's port.
const PORT_NAME: &str = "http";

/// The Deployment (primary) and the Service in front of it.
pub(super) fn desired(
    md: &ModelDeployment,
    engine: EngineType,
) -> Result<Vec<Value>, TransformError> {
    let name = md.metadata.name.clone().unwrap_or_default();
    let namespace = md.metadata.namespace.clone().unwrap_or_default();
    // A Deployment's selector cannot change once created: it uses only the name and our
    // managed-by label, never the template's labels.
    let selector = BTreeMap::from([
        (DEPLOYMENT.to_string(), name.clone()),
        (MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
    ]);
    let mut labels = base_labels(md, engine);
    labels.extend(common::template_labels(md));
    let annotations = common::template_annotations(md);
    let metadata = common::object_meta(md, name, namespace, labels.clone(), None);

    let deployment = Deployment {
        metadata: ObjectMeta {
            annotations: Some(annotations.clone()),
            ..metadata.clone()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(common::replicas(md)),
            selector: LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container(md, engine)?],
                    node_selector: md.spec.node_selector.clone(),
                    tolerations: md.spec.tolerations.clone(),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    let service = Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    Ok(vec![
        common::to_json(&deployment)?,
        common::to_json(&service)?,
    ])
}

/// The model server: the engine's image and flags, ready once `/health` answers.
fn container(md: &ModelDeployment, engine: EngineType) -> Result<Container, TransformError> {
    let image = md.spec.image.clone().unwrap_or_else(|| {
        if engine == EngineType::Llamacpp {
            LLAMACPP_IMAGE.into()
        } else {
            VLLM_IMAGE.into()
        }
    });
    Ok(Container {
        name: "server".into(),
        image: Some(image),
        args: Some(args(md, engine)?),
        env: Some(common::env(md)),
        ports: Some(vec![ContainerPort {
            name: Some(PORT_NAME.into()),
            container_port: container_port(engine),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: Some(resources(md)),
        readiness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/health".into()),
                port: IntOrString::String(PORT_NAME.into()),
                ..HTTPGetAction::default()
            }),
            period_seconds: Some(10),
            failure_threshold: Some(3),
            ..Probe::default()
        }),
        ..Container::default()
    })
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
                // llama.cpp's server serves `/metrics` only when asked to (the metrics API
                // scrapes it, docs/contract/api.md §10).
                "--metrics".into(),
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

/// GPUs and memory are requested and limited alike; CPU is only requested, so a busy server
/// is not throttled.
fn resources(md: &ModelDeployment) -> ResourceRequirements {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    let gpus = common::gpu_count(md);
    if gpus > 0 {
        let key = common::gpu_resource(md);
        requests.insert(key.clone(), Quantity(gpus.to_string()));
        limits.insert(key, Quantity(gpus.to_string()));
    }
    if let Some(r) = &md.spec.resources {
        if let Some(memory) = &r.memory {
            requests.insert("memory".into(), Quantity(memory.clone()));
            limits.insert("memory".into(), Quantity(memory.clone()));
        }
        if let Some(cpu) = &r.cpu {
            requests.insert("cpu".into(), Quantity(cpu.clone()));
        }
    }
    ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        ..ResourceRequirements::default()
    }
}
