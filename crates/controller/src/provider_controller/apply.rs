//! Server-side apply of a provider's objects, skipping the ones already as wanted.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::LiveObjects;

/// Annotation holding a hash of the last applied object, so an unchanged object is not
/// applied again.
pub const APPLIED_HASH: &str = "kubeairunway.ai/applied-hash";

/// Server-side applies one object with the provider's field manager and returns it as stored.
/// Only the fields we send are ours: fields defaulted by the API server or set by others never
/// make us write again, and drift in our fields is corrected by the apply.
///
/// The object carries a hash of itself; when the cached live object has the same hash and still
/// holds every field we set, nothing is sent at all.
pub async fn apply_object(
    client: &kube::Client,
    object: &Value,
    manager: &str,
    live: &LiveObjects,
) -> Result<Value, kube::Error> {
    let mut object = object.clone();
    let hash = format!("{:x}", Sha256::digest(object.to_string().as_bytes()));
    object["metadata"]["annotations"][APPLIED_HASH] = Value::String(hash.clone());
    if let Some(current) = live.get(&object)
        && current["metadata"]["annotations"][APPLIED_HASH].as_str() == Some(hash.as_str())
        && holds(&current, &object)
    {
        return Ok(current);
    }
    let ar = api_resource(&object);
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let stored = api
        .patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&object),
        )
        .await?;
    Ok(serde_json::to_value(stored).unwrap_or(Value::Null))
}

/// True when `live` has every field of `want` with the same value (lists element by element;
/// an empty object or list matches an absent one).
fn holds(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => w.iter().all(|(k, wv)| match l.get(k) {
            Some(lv) => holds(lv, wv),
            None => vacuous(wv),
        }),
        (Value::Array(l), Value::Array(w)) => {
            l.len() == w.len() && l.iter().zip(w).all(|(a, b)| holds(a, b))
        }
        (l, w) => l == w,
    }
}

/// An empty list, or an object with nothing but vacuous values: the API server drops these.
fn vacuous(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.values().all(vacuous),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The API resource of an object from its `apiVersion` and `kind`.
pub fn api_resource(object: &Value) -> ApiResource {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
}

#[cfg(test)]
mod tests {
    use super::holds;
    use serde_json::json;

    #[test]
    fn holds_ignores_defaulted_fields_but_not_changed_or_missing_ones() {
        let live = json!({ "spec": { "replicas": 1, "template": { "spec": { "containers": [{ "name": "s", "image": "a", "imagePullPolicy": "IfNotPresent" }] } } }, "status": {} });
        assert!(holds(
            &live,
            &json!({ "spec": { "replicas": 1, "template": { "spec": { "containers": [{ "name": "s", "image": "a" }] } } } })
        ));
        assert!(!holds(
            &live,
            &json!({ "spec": { "template": { "spec": { "containers": [{ "name": "s", "image": "b" }] } } } })
        ));
        assert!(!holds(&live, &json!({ "spec": { "paused": true } })));
        assert!(
            holds(&live, &json!({ "metadata": { "annotations": {} } })),
            "empty matches absent"
        );
        assert!(
            !holds(
                &live,
                &json!({ "spec": { "template": { "spec": { "containers": [] } } } })
            ),
            "lists must match in length"
        );
    }
}
