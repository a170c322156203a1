//! The Workspace or InferenceSet the KAITO provider applies. The envelopes are typed after
//! KAITO's `kaito.sh/v1beta1` Workspace and `kaito.sh/v1alpha1` InferenceSet (whose template
//! carries the same `inference` a Workspace has); the llama.cpp template is a Kubernetes pod
//! template.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube_core::ResourceExt;
use kubeairunway_api::{EngineType, ModelDeployment, ModelSource};
use serde::Serialize;
use serde_json::Value;

use super::super::{TransformError, common};
use super::{
    INFERENCE_SET, RESOURCE_TYPE_KEY, ResourceType, TEMPLATE_PORT, UPSTREAM, hf_secret, image,
    model_id,
};

/// The fields of a KAITO Workspace this provider sets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Workspace {
    api_version: String,
    kind: &'static str,
    metadata: ObjectMeta,
    resource: WorkspaceResource,
    inference: Inference,
}

/// The fields of a KAITO InferenceSet this provider sets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceSet {
    api_version: String,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: InferenceSetSpec,
}

/// `spec.replicas` Workspaces on nodes matching `labelSelector`, each serving `template`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceSetSpec {
    replicas: i32,
    label_selector: LabelSelector,
    template: InferenceSetTemplate,
}

/// What every Workspace of the set serves. No `resource.instanceType`: the workspaces run on
/// the cluster's own nodes, as this provider's Workspaces do.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceSetTemplate {
    inference: Inference,
}

/// The nodes a Workspace runs on.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceResource {
    count: i32,
    label_selector: LabelSelector,
}

/// What a Workspace serves: exactly one of a KAITO preset or a pod template.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Inference {
    Preset(Preset),
    Template(Box<PodTemplateSpec>),
}

/// A KAITO model preset; KAITO picks the image and the vLLM flags.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Preset {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    preset_options: Option<PresetOptions>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresetOptions {
    /// Secret holding the HuggingFace token for gated models.
    model_access_secret: String,
}

/// The Workspace (or InferenceSet): a preset for vLLM, an inference template for llama.cpp.
pub(super) fn desired(
    md: &ModelDeployment,
    engine: EngineType,
    kind: ResourceType,
) -> Result<Vec<Value>, TransformError> {
    let inference = match engine {
        EngineType::Vllm => Inference::Preset(preset(md)),
        EngineType::Llamacpp => Inference::Template(Box::new(template(md)?)),
        EngineType::Sglang | EngineType::Trtllm => {
            return Err(TransformError(format!(
                "engine {engine} is not supported by KAITO (supported: vllm, llamacpp)"
            )));
        }
    };
    let mut match_labels = BTreeMap::from([("kubernetes.io/os".into(), "linux".into())]);
    match_labels.extend(md.spec.node_selector.clone().unwrap_or_default());
    let label_selector = LabelSelector {
        match_labels: Some(match_labels),
        ..LabelSelector::default()
    };
    // A Workspace needs at least one node, and an InferenceSet at least one Workspace: scale
    // to zero is not possible here.
    let replicas = common::replicas(md).max(1);
    let mut object = match kind {
        ResourceType::Workspace => common::to_json(&Workspace {
            api_version: UPSTREAM.api_version(),
            kind: UPSTREAM.kind,
            metadata: metadata(md, engine)?,
            resource: WorkspaceResource {
                count: replicas,
                label_selector,
            },
            inference,
        })?,
        ResourceType::InferenceSet => common::to_json(&InferenceSet {
            api_version: INFERENCE_SET.api_version(),
            kind: INFERENCE_SET.kind,
            metadata: metadata(md, engine)?,
            spec: InferenceSetSpec {
                replicas,
                label_selector,
                template: InferenceSetTemplate { inference },
            },
        })?,
    };
    // The kind choice is read above, not merged; everything else is the escape hatch
    // (docs/contract/controller.md §5.8).
    let mut stripped = md.clone();
    if let Some(overrides) = stripped
        .spec
        .provider
        .as_mut()
        .and_then(|p| p.overrides.as_mut())
        .and_then(Value::as_object_mut)
    {
        overrides.remove(RESOURCE_TYPE_KEY);
    }
    common::apply_overrides(&stripped, &mut object)?;
    Ok(vec![object])
}

/// `metadata` of the Workspace: our labels win over `podTemplate` labels so ownership and
/// selection labels cannot be overwritten; `podTemplate` annotations are added when present.
fn metadata(md: &ModelDeployment, engine: EngineType) -> Result<ObjectMeta, TransformError> {
    let namespace = md
        .namespace()
        .ok_or_else(|| TransformError("the ModelDeployment has no namespace".into()))?;
    Ok(common::object_meta(
        md,
        md.name_any(),
        namespace,
        labels(md, engine),
        common::annotations_if_any(md),
    ))
}

/// `podTemplate` labels, then ours, which win.
fn labels(md: &ModelDeployment, engine: EngineType) -> BTreeMap<String, String> {
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, engine));
    labels
}

/// vLLM through a KAITO preset named after the model id.
fn preset(md: &ModelDeployment) -> Preset {
    Preset {
        name: model_id(md).unwrap_or_default().to_string(),
        preset_options: hf_secret(md).map(|secret| PresetOptions {
            model_access_secret: secret.to_string(),
        }),
    }
}

/// llama.cpp through an inference template: one container running `spec.image`. Its pods
/// carry our labels (which win over `podTemplate` labels) so they can be found by
/// `kubeairunway.ai/deployment`.
fn template(md: &ModelDeployment) -> Result<PodTemplateSpec, TransformError> {
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

    let env = common::env(md);
    let container = Container {
        name: "model".into(),
        image: Some(image.to_string()),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            container_port: TEMPLATE_PORT,
            ..ContainerPort::default()
        }]),
        resources: requests(md).map(|requests| ResourceRequirements {
            requests: Some(requests),
            ..ResourceRequirements::default()
        }),
        env: (!env.is_empty()).then_some(env),
        ..Container::default()
    };
    Ok(PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(md, EngineType::Llamacpp)),
            annotations: common::annotations_if_any(md),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![container],
            tolerations: common::tolerations(md),
            ..PodSpec::default()
        }),
    })
}

/// Memory and CPU requests, when the spec gives any; the template requests no GPU.
fn requests(md: &ModelDeployment) -> Option<BTreeMap<String, Quantity>> {
    let r = md.spec.resources.as_ref()?;
    let requests: BTreeMap<String, Quantity> = [("memory", &r.memory), ("cpu", &r.cpu)]
        .into_iter()
        .filter_map(|(name, q)| Some((name.to_string(), Quantity(q.clone()?))))
        .collect();
    (!requests.is_empty()).then_some(requests)
}
