//! The Workspace the KAITO provider applies.

use std::collections::BTreeMap;

use kube_core::ResourceExt;
use kubeairunway_api::{EngineType, ModelDeployment, ModelSource};
use serde_json::{Map, Value, json};

use super::super::{TransformError, common};
use super::{TEMPLATE_PORT, UPSTREAM, hf_secret, image, model_id};

/// The Workspace: a preset for vLLM, an inference template for llama.cpp.
pub(super) fn desired(
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
        container["env"] = json!(env);
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
