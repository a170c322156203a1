//! Helpers every provider shares: labels, owner references, environment, engine arguments,
//! overrides and the GPU reading of a spec.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, Pod, SecretKeySelector, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube_core::{Resource, ResourceExt};
use kubeairunway_api::labels::{
    DEPLOYMENT, ENGINE_TYPE, KAIR_MANAGED_BY, MANAGED_BY, MANAGED_BY_VALUE, MODEL_SOURCE,
};
use kubeairunway_api::{EngineType, ModelDeployment, ModelSource, ServingMode};
use serde::Serialize;
use serde_json::Value;

use super::TransformError;

/// Labels every provider object carries (docs/contract/controller.md §1.6), plus `extra`.
pub fn base_labels(md: &ModelDeployment, engine: EngineType) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string());
    labels.insert(KAIR_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string());
    labels.insert(
        DEPLOYMENT.to_string(),
        md.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(
        MODEL_SOURCE.to_string(),
        source_str(md.spec.model.source).to_string(),
    );
    labels.insert(ENGINE_TYPE.to_string(), engine.as_str().to_string());
    labels
}

/// `podTemplate.metadata.labels` of the spec, if any; providers merge them with
/// [`base_labels`] in the order that decides which win.
pub fn template_labels(md: &ModelDeployment) -> BTreeMap<String, String> {
    md.spec
        .pod_template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// `podTemplate.metadata.annotations` of the spec, if any (an empty map when none).
pub fn template_annotations(md: &ModelDeployment) -> BTreeMap<String, String> {
    md.spec
        .pod_template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default()
}

/// The wire name of a model source, for the `model-source` label.
pub fn source_str(source: ModelSource) -> &'static str {
    match source {
        ModelSource::Huggingface => "huggingface",
        ModelSource::Custom => "custom",
    }
}

/// An owner reference to the ModelDeployment (`controller: true`), so the garbage collector
/// removes objects in the same namespace with it and deletion waits for them.
pub fn owner_reference(md: &ModelDeployment) -> OwnerReference {
    OwnerReference {
        api_version: ModelDeployment::api_version(&()).into_owned(),
        kind: ModelDeployment::kind(&()).into_owned(),
        name: md.metadata.name.clone().unwrap_or_default(),
        uid: md.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `metadata` of a provider's primary object, owned by `md` so it is garbage-collected with it.
/// `annotations` is written only when given, so objects without any keep the reference's shape.
pub fn object_meta(
    md: &ModelDeployment,
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    annotations: Option<BTreeMap<String, String>>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace),
        labels: Some(labels),
        annotations,
        owner_references: Some(vec![owner_reference(md)]),
        ..ObjectMeta::default()
    }
}

/// GPUs per replica as the reference reads the spec: `resources.gpu.count`, and one GPU when
/// `resources` is absent in aggregated mode (the reference's defaulting webhook injected it).
pub fn gpu_count(md: &ModelDeployment) -> i32 {
    match &md.spec.resources {
        Some(r) => r.gpu.as_ref().map_or(0, |g| g.count),
        None if md.spec.serving.mode == ServingMode::Aggregated => 1,
        None => 0,
    }
}

/// Extended-resource name of the GPU (`nvidia.com/gpu` unless the spec says otherwise), so
/// other vendors' GPUs are requested by their own resource name.
pub fn gpu_resource(md: &ModelDeployment) -> String {
    md.spec
        .resources
        .as_ref()
        .and_then(|r| r.gpu.as_ref())
        .map_or_else(
            || kubeairunway_api::DEFAULT_GPU_RESOURCE.to_string(),
            |g| g.type_.clone(),
        )
}

/// True when the deployment has a GPU for the GPU-only providers: a GPU count above zero, or
/// in disaggregated mode a prefill GPU count above zero (docs/contract/controller.md §7.2).
pub fn has_serving_gpu(md: &ModelDeployment) -> bool {
    match md.spec.serving.mode {
        ServingMode::Aggregated => gpu_count(md) > 0,
        ServingMode::Disaggregated => md
            .spec
            .scaling
            .prefill
            .as_ref()
            .and_then(|p| p.gpu.as_ref())
            .is_some_and(|g| g.count > 0),
    }
}

/// Aggregated replica count as providers use it: the spec's value, where 0 means scale to zero.
pub fn replicas(md: &ModelDeployment) -> i32 {
    md.spec.scaling.replicas.max(0)
}

/// Container environment (docs/contract/controller.md §5.10, with §13.21 fixed): every `spec.env`
/// entry is kept whole, then `HF_TOKEN` from the secret named in `secrets.huggingFaceToken`, so
/// engines that download from HuggingFace find the token where they look for it.
pub fn env(md: &ModelDeployment) -> Vec<EnvVar> {
    let mut out = md.spec.env.clone().unwrap_or_default();
    if let Some(secret) = md
        .spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_ref())
    {
        out.push(EnvVar {
            name: "HF_TOKEN".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.clone(),
                    key: "HF_TOKEN".into(),
                    ..SecretKeySelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    out
}

/// `spec.nodeSelector` when it selects anything: an empty selector is left out of the object.
pub fn node_selector(md: &ModelDeployment) -> Option<BTreeMap<String, String>> {
    md.spec.node_selector.clone().filter(|s| !s.is_empty())
}

/// `spec.tolerations` when there are any: an empty list is left out of the object.
pub fn tolerations(md: &ModelDeployment) -> Option<Vec<Toleration>> {
    md.spec.tolerations.clone().filter(|t| !t.is_empty())
}

/// `podTemplate.metadata.annotations` when there are any, for objects that carry annotations
/// only when asked to.
pub fn annotations_if_any(md: &ModelDeployment) -> Option<BTreeMap<String, String>> {
    Some(template_annotations(md)).filter(|a| !a.is_empty())
}

/// A typed object as the JSON the controller applies: rendering builds typed values, the
/// [`super::Provider`] interface hands out JSON so overrides can be merged into it.
pub fn to_json(object: &impl Serialize) -> Result<Value, TransformError> {
    serde_json::to_value(object)
        .map_err(|e| TransformError(format!("cannot render the object: {e}")))
}

/// `spec.engine.args` as argv elements, keys sorted: `--key value`, or `--key` alone when the
/// value is empty. Keys are validated (the CRD schema checks them too) so no key can smuggle in
/// another flag.
pub fn engine_args(md: &ModelDeployment) -> Result<Vec<String>, TransformError> {
    let mut out = Vec::new();
    for (key, value) in md.spec.engine.args.iter().flatten() {
        let valid = !key.is_empty()
            && !key.starts_with('-')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(TransformError(format!(
                "invalid engine argument key {key:?}: use a flag name without leading dashes, made of letters, digits, '-', '_' and '.'"
            )));
        }
        out.push(format!("--{key}"));
        if !value.is_empty() {
            out.push(value.clone());
        }
    }
    Ok(out)
}

/// Deep-merges `spec.provider.overrides` into `target` (docs/contract/controller.md §5.8): objects
/// merge recursively, anything else replaces. `apiVersion`, `kind`, `metadata` and `status` may not
/// be overridden.
pub fn apply_overrides(md: &ModelDeployment, target: &mut Value) -> Result<(), TransformError> {
    let Some(overrides) = md.spec.provider.as_ref().and_then(|p| p.overrides.as_ref()) else {
        return Ok(());
    };
    let Value::Object(map) = overrides else {
        return Err(TransformError(
            "spec.provider.overrides must be a JSON object".into(),
        ));
    };
    for key in ["apiVersion", "kind", "metadata", "status"] {
        if map.contains_key(key) {
            return Err(TransformError(format!(
                "spec.provider.overrides may not set the top-level field {key:?}"
            )));
        }
    }
    deep_merge(target, overrides);
    Ok(())
}

/// Recursive merge of `patch` into `target`: overrides change one nested field without
/// restating its siblings.
pub fn deep_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                deep_merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Label-safe form of a value (docs/contract/controller.md §5.10): at most 63 bytes, characters
/// outside `[A-Za-z0-9-_.]` replaced by `-`, leading and trailing `-`, `_`, `.` trimmed.
pub fn sanitize_label(value: &str) -> String {
    let truncated: String = value.chars().take(63).collect();
    let replaced: String = truncated
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    replaced
        .trim_matches(|c| matches!(c, '-' | '_' | '.'))
        .to_string()
}

/// Reads `status.conditions` of an upstream object into `(type, status, message)` triples,
/// skipping malformed entries.
pub fn conditions(obj: &Value) -> Vec<(String, String, String)> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let t = c.get("type")?.as_str()?.to_string();
                    let s = c.get("status")?.as_str()?.to_string();
                    let m = c
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    Some((t, s, m))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The engine in use: the spec's, else the one the core resolved into the status.
pub fn resolved_engine(md: &ModelDeployment) -> Option<EngineType> {
    md.spec.engine.type_.or_else(|| {
        md.status
            .as_ref()
            .and_then(|s| s.engine.as_ref())
            .and_then(|e| e.type_)
    })
}

/// The scheduler's explanation for the first (by name) pod it cannot place, if any.
pub fn unschedulable_message(pods: &[Pod]) -> Option<String> {
    pods.iter()
        .filter_map(|pod| {
            let condition = pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| {
                c.type_ == "PodScheduled"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
            })?;
            Some((
                pod.name_any(),
                condition.message.clone().unwrap_or_default(),
            ))
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(name, message)| format!("Pod {name} cannot be scheduled: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sanitize_label_follows_the_reference() {
        assert_eq!(
            sanitize_label("meta-llama/Llama-3.1-8B-Instruct"),
            "meta-llama-Llama-3.1-8B-Instruct"
        );
        assert_eq!(sanitize_label("/a/"), "a");
        assert_eq!(sanitize_label(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn deep_merge_merges_objects_and_replaces_the_rest() {
        let mut target = json!({ "a": { "b": 1, "c": [1, 2] }, "d": "x" });
        deep_merge(
            &mut target,
            &json!({ "a": { "c": [3], "e": true }, "d": { "f": 1 } }),
        );
        assert_eq!(
            target,
            json!({ "a": { "b": 1, "c": [3], "e": true }, "d": { "f": 1 } })
        );
    }
}
