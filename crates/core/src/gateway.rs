//! The `GatewayReady` condition: whether a deployment can be reached through the Gateway API
//! Inference Extension, decided from `spec.gateway` (the reference's field, added in February
//! 2026) and which of the needed CRDs the cluster has.
//!
//! The reference's controller created an InferencePool, an endpoint picker and an HTTPRoute per
//! deployment when the Gateway API and the Inference Extension were installed. This controller
//! does not create them (docs/compatibility.md); it says what it found, so manifests written for
//! the reference apply and users see why no route exists:
//!
//! | `spec.gateway` | CRDs | `GatewayReady` |
//! |---|---|---|
//! | `enabled: false` | any | none (removed) |
//! | absent | missing | none: nothing was asked for |
//! | set | missing | False, `CRDsNotAvailable`, naming the missing CRDs |
//! | absent or set | present | False, `RoutingNotImplemented`, saying what to route to |

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube_core::{Resource, ResourceExt};
use kubeairunway_api::ModelDeployment;
use serde_json::{Value, json};

use crate::conditions::{self, Want};

/// The condition type (the reference's).
pub const GATEWAY_READY: &str = "GatewayReady";

/// The CRDs the integration needs: the Gateway API's Gateway and HTTPRoute, and the Inference
/// Extension's InferencePool.
pub const REQUIRED_CRDS: [&str; 3] = [
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "inferencepools.inference.networking.k8s.io",
];

/// The model name requests through a gateway would carry: `spec.gateway.modelName`, else
/// `spec.model.servedName`, else `spec.model.id`.
pub fn model_name(md: &ModelDeployment) -> Option<&str> {
    fn non_empty(s: &Option<String>) -> Option<&str> {
        s.as_deref().filter(|s| !s.is_empty())
    }
    md.spec
        .gateway
        .as_ref()
        .and_then(|g| non_empty(&g.model_name))
        .or_else(|| non_empty(&md.spec.model.served_name))
        .or_else(|| non_empty(&md.spec.model.id))
}

/// The condition for `md`, given the names of the [`REQUIRED_CRDS`] the cluster lacks; `None`
/// when there is nothing to say.
pub fn want(md: &ModelDeployment, missing: &[&str]) -> Option<Want> {
    let gateway = md.spec.gateway.as_ref();
    if gateway.and_then(|g| g.enabled) == Some(false) {
        return None;
    }
    if !missing.is_empty() {
        gateway?;
        return Some(Want::no(
            GATEWAY_READY,
            "CRDsNotAvailable",
            format!(
                "spec.gateway needs the Gateway API and the Gateway API Inference Extension; the cluster lacks the CRDs {}",
                missing.join(", ")
            ),
        ));
    }
    let service = md
        .status
        .as_ref()
        .and_then(|s| s.endpoint.as_ref())
        .and_then(|e| e.service.clone())
        .unwrap_or_else(|| md.name_any());
    let route = gateway
        .and_then(|g| g.http_route_ref.as_deref())
        .filter(|r| !r.is_empty())
        .map(|r| format!("point HTTPRoute {r} at"))
        .unwrap_or_else(|| "create an HTTPRoute to".into());
    let model = model_name(md)
        .map(|m| format!(" for model {m}"))
        .unwrap_or_default();
    Some(Want::no(
        GATEWAY_READY,
        "RoutingNotImplemented",
        format!(
            "The Gateway API and the Inference Extension are installed, but this controller does not create InferencePools or HTTPRoutes: {route} Service {service}{model}"
        ),
    ))
}

/// The server-side apply body of the gateway's status write (field manager
/// `kubeairunway-gateway`, which owns only this condition), or `None` when the stored status
/// already says it. Without a condition to report the body lists none, which removes the one
/// this manager wrote before.
pub fn status_patch(md: &ModelDeployment, want: Option<&Want>, now: Timestamp) -> Option<Value> {
    let stored = md.status.as_ref().and_then(|s| s.conditions.as_ref());
    let wanted: Vec<Condition> = want
        .map(|w| conditions::build(stored, std::slice::from_ref(w), md.metadata.generation, now))
        .unwrap_or_default();
    let present = conditions::find(stored, GATEWAY_READY).is_some();
    let unchanged = match want {
        Some(_) => conditions::unchanged(stored, &wanted),
        None => !present,
    };
    if unchanged {
        return None;
    }
    Some(json!({
        "apiVersion": ModelDeployment::api_version(&()),
        "kind": ModelDeployment::kind(&()),
        "metadata": { "name": md.name_any() },
        "status": { "conditions": wanted },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(spec: Value) -> ModelDeployment {
        let mut md = ModelDeployment::new("qwen", serde_json::from_value(spec).expect("spec"));
        md.metadata.namespace = Some("ns".into());
        md.metadata.generation = Some(2);
        md
    }

    #[test]
    fn the_condition_follows_the_table() {
        let plain = md(json!({ "model": { "id": "Qwen/Qwen3-0.6B" } }));
        let asked = md(
            json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "gateway": { "enabled": true, "modelName": "qwen" } }),
        );
        let off = md(json!({ "model": { "id": "a/b" }, "gateway": { "enabled": false } }));
        let missing = &REQUIRED_CRDS[2..];

        assert_eq!(want(&plain, missing), None);
        assert_eq!(want(&off, missing), None);
        assert_eq!(want(&off, &[]), None);
        let w = want(&asked, missing).expect("condition");
        assert!(!w.status);
        assert_eq!(w.reason, "CRDsNotAvailable");
        assert!(
            w.message
                .contains("inferencepools.inference.networking.k8s.io")
        );
        let w = want(&asked, &[]).expect("condition");
        assert_eq!(w.reason, "RoutingNotImplemented");
        assert!(
            w.message.contains("Service qwen for model qwen"),
            "{}",
            w.message
        );
        let w = want(&plain, &[]).expect("the reference routes every deployment by default");
        assert!(
            w.message.contains("for model Qwen/Qwen3-0.6B"),
            "{}",
            w.message
        );
        let with_route = md(
            json!({ "model": { "id": "a/b", "servedName": "b" }, "gateway": { "httpRouteRef": "mine" } }),
        );
        let w = want(&with_route, &[]).expect("condition");
        assert!(
            w.message
                .contains("point HTTPRoute mine at Service qwen for model b"),
            "{}",
            w.message
        );
    }

    #[test]
    fn a_status_is_written_once_and_removed_when_nothing_is_left_to_say() {
        let now = Timestamp::now();
        let mut asked = md(json!({ "model": { "id": "a/b" }, "gateway": {} }));
        let w = want(&asked, &REQUIRED_CRDS).expect("condition");
        let body = status_patch(&asked, Some(&w), now).expect("first write");
        assert_eq!(body["status"]["conditions"][0]["type"], GATEWAY_READY);
        assert_eq!(body["status"]["conditions"][0]["observedGeneration"], 2);
        let written: Vec<Condition> =
            serde_json::from_value(body["status"]["conditions"].clone()).expect("conditions");
        asked.status = Some(kubeairunway_api::ModelDeploymentStatus {
            conditions: Some(written),
            ..Default::default()
        });
        assert_eq!(status_patch(&asked, Some(&w), now), None, "unchanged");
        let removal = status_patch(&asked, None, now).expect("removal");
        assert_eq!(removal["status"]["conditions"], json!([]));
        asked.status = None;
        assert_eq!(status_patch(&asked, None, now), None);
    }
}
