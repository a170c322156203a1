//! The contract's `DeploymentStatus` (docs/contract/api.md §5.2) built from a cached
//! ModelDeployment and its pods, with §19.15 fixed: the engine comes from the status when the spec
//! leaves it to the controller, and the prefill/decode workers requested come from the spec, ready
//! ones from what the provider reports (`status.prefillReplicas`/`decodeReplicas`).
//!
//! The view borrows from the cached object, so a list response serializes straight from the
//! cache without copying strings or conditions.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use kubeairunway_api::{DeploymentPhase, ModelDeployment, ProgressStatus, ServingMode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Caller, Resource, Visible};
use crate::pods::{self, PodStatus};

/// A deployment as the API reports it (list items, `GET /api/deployments/{name}`, events).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus<'a> {
    /// ModelDeployment name.
    pub name: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// `spec.model.id` (empty for a custom image without an id).
    pub model_id: &'a str,
    /// `spec.model.servedName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_model_name: Option<&'a str>,
    /// The engine: `spec.engine.type`, else the one the controller selected (`status.engine`).
    /// Absent until one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<&'static str>,
    /// `aggregated` or `disaggregated`.
    pub mode: &'static str,
    /// `Pending`, `Deploying`, `Running`, `Failed` or `Terminating`.
    pub phase: &'static str,
    /// Selected provider (`status.provider.name`), else the requested one, else `unknown`.
    pub provider: &'a str,
    /// Replica counts reported by the provider (zeros before it reports).
    pub replicas: Replicas,
    /// `status.conditions` (standard Kubernetes conditions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub conditions: Option<&'a [Condition]>,
    /// Where the pods are on their way to serving (`status.progress`: scheduled, images pulled,
    /// downloaded, loading, ready, and why a phase is stalled); absent until the controller has
    /// applied the provider's objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ProgressStatus>)]
    pub progress: Option<&'a ProgressStatus>,
    /// The deployment's pods (empty when the caller may not list pods in the namespace).
    pub pods: Vec<PodStatus>,
    /// `metadata.creationTimestamp` (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    /// Service that serves the model: `status.endpoint.service`, else the deployment name.
    pub frontend_service: &'a str,
    /// Port of that Service: `status.endpoint.port`, absent until the controller reports one
    /// (docs/contract/api.md §19.14: clients must not assume 8000).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 65535)]
    pub endpoint_port: Option<i32>,
    /// Prefill workers requested and ready (disaggregated mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_replicas: Option<ComponentReplicas>,
    /// Decode workers requested and ready (disaggregated mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_replicas: Option<ComponentReplicas>,
    /// The gateway integration (`spec.gateway` and what the controller found,
    /// `status.gateway`); absent when the deployment has neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Gateway<'a>>,
}

/// A deployment's gateway integration: the reference's `{endpoint, modelName}` plus the
/// requested settings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gateway<'a> {
    /// Address of the gateway to call (`status.gateway.endpoint`), once the controller found one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<&'a str>,
    /// Model name to put in requests: `status.gateway.modelName`, else `spec.gateway.modelName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<&'a str>,
    /// `spec.gateway.enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `spec.gateway.httpRouteRef`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_route_ref: Option<&'a str>,
}

/// Replica counts.
#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub struct Replicas {
    /// Requested replicas.
    pub desired: i32,
    /// Replicas ready to serve.
    pub ready: i32,
    /// Replicas available.
    pub available: i32,
}

/// Workers of one disaggregated component.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct ComponentReplicas {
    /// `spec.scaling.<component>.replicas`.
    pub desired: i32,
    /// Workers ready to serve, as the provider reports them (0 until it does).
    pub ready: i32,
}

impl<'a> DeploymentStatus<'a> {
    /// The view of `md` with `pods` (already filtered to this deployment).
    pub fn of(md: &'a ModelDeployment, pods: Vec<PodStatus>) -> Self {
        let spec = &md.spec;
        let status = md.status.as_ref();
        let name = md.metadata.name.as_deref().unwrap_or_default();
        let engine = spec
            .engine
            .type_
            .or_else(|| status.and_then(|s| s.engine.as_ref()).and_then(|e| e.type_))
            .map(|e| e.as_str());
        let provider = status
            .and_then(|s| s.provider.as_ref())
            .and_then(|p| p.name.as_deref())
            .or_else(|| spec.provider.as_ref().and_then(|p| p.name.as_deref()))
            .filter(|p| !p.is_empty())
            .unwrap_or("unknown");
        let replicas = status
            .and_then(|s| s.replicas.as_ref())
            .map(|r| Replicas {
                desired: r.desired,
                ready: r.ready,
                available: r.available,
            })
            .unwrap_or_default();
        let component =
            |c: &Option<kubeairunway_api::ComponentScalingSpec>,
             reported: Option<&kubeairunway_api::ComponentReplicaStatus>| {
                c.as_ref().map(|c| ComponentReplicas {
                    desired: c.replicas,
                    ready: reported.map_or(0, |r| r.ready.clamp(0, c.replicas.max(0))),
                })
            };
        let gateway_spec = spec.gateway.as_ref();
        let gateway_status = status.and_then(|s| s.gateway.as_ref());
        let gateway = (gateway_spec.is_some() || gateway_status.is_some()).then(|| Gateway {
            endpoint: gateway_status
                .and_then(|g| g.endpoint.as_deref())
                .filter(|e| !e.is_empty()),
            model_name: gateway_status
                .and_then(|g| g.model_name.as_deref())
                .or_else(|| gateway_spec.and_then(|g| g.model_name.as_deref()))
                .filter(|m| !m.is_empty()),
            enabled: gateway_spec.and_then(|g| g.enabled),
            http_route_ref: gateway_spec
                .and_then(|g| g.http_route_ref.as_deref())
                .filter(|r| !r.is_empty()),
        });
        let disaggregated = spec.serving.mode == ServingMode::Disaggregated;
        Self {
            name,
            namespace: md.metadata.namespace.as_deref().unwrap_or_default(),
            model_id: spec.model.id.as_deref().unwrap_or_default(),
            served_model_name: spec.model.served_name.as_deref(),
            engine,
            mode: spec.serving.mode.as_str(),
            // Deleting shows at once, before the controller writes the phase.
            phase: if md.metadata.deletion_timestamp.is_some() {
                "Terminating"
            } else {
                phase_str(status.and_then(|s| s.phase))
            },
            provider,
            replicas,
            conditions: status.and_then(|s| s.conditions.as_deref()),
            progress: status.and_then(|s| s.progress.as_ref()),
            pods,
            created_at: md
                .metadata
                .creation_timestamp
                .clone()
                .unwrap_or_else(|| Time(k8s_openapi::jiff::Timestamp::now())),
            frontend_service: status
                .and_then(|s| s.endpoint.as_ref())
                .and_then(|e| e.service.as_deref())
                .filter(|s| !s.is_empty())
                .unwrap_or(name),
            // A port outside 1–65535 is no port a client could connect to.
            endpoint_port: status
                .and_then(|s| s.endpoint.as_ref())
                .and_then(|e| e.port)
                .filter(|p| (1..=65535).contains(p)),
            prefill_replicas: disaggregated
                .then(|| {
                    component(
                        &spec.scaling.prefill,
                        status.and_then(|s| s.prefill_replicas.as_ref()),
                    )
                })
                .flatten(),
            decode_replicas: disaggregated
                .then(|| {
                    component(
                        &spec.scaling.decode,
                        status.and_then(|s| s.decode_replicas.as_ref()),
                    )
                })
                .flatten(),
            gateway,
        }
    }
}

/// The wire name of a phase (`Pending` when the controller has not written one yet).
pub fn phase_str(phase: Option<DeploymentPhase>) -> &'static str {
    match phase {
        None | Some(DeploymentPhase::Pending) => "Pending",
        Some(DeploymentPhase::Deploying) => "Deploying",
        Some(DeploymentPhase::Running) => "Running",
        Some(DeploymentPhase::Failed) => "Failed",
        Some(DeploymentPhase::Terminating) => "Terminating",
    }
}

/// Newest first, then by namespace and name so equal timestamps keep a stable order.
pub fn newest_first(a: &ModelDeployment, b: &ModelDeployment) -> std::cmp::Ordering {
    let created = |md: &ModelDeployment| md.metadata.creation_timestamp.as_ref().map(|t| t.0);
    // A missing timestamp counts as "now" (the reference did the same), i.e. newest.
    match (created(a), created(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
    .then_with(|| a.metadata.namespace.cmp(&b.metadata.namespace))
    .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// The namespaces of `page` in which the caller may list pods.
/// The namespaces of `page` in which the caller may list pods.
pub(crate) async fn pod_access(caller: &Caller, page: &[Arc<ModelDeployment>]) -> Visible {
    caller
        .visible(
            Resource::PODS,
            page.iter()
                .filter_map(|md| md.metadata.namespace.as_deref()),
        )
        .await
}

/// Builds the statuses of `page` with their pods, in one pass over the cached `pods`. Pods are
/// left out for namespaces in which the caller may not list pods.
pub async fn statuses<'a>(
    caller: &Caller,
    page: &'a [Arc<ModelDeployment>],
    pods: &[Arc<Pod>],
) -> Vec<DeploymentStatus<'a>> {
    let pod_access = pod_access(caller, page).await;
    statuses_with(page, pods, &pod_access)
}

/// The statuses of `page` with their pods from `index`, leaving out pods of namespaces not in
/// `pod_access` ([`pod_access`]).
pub fn statuses_indexed<'a>(
    page: &'a [Arc<ModelDeployment>],
    index: &super::index::ListIndex,
    pod_access: &Visible,
) -> Vec<DeploymentStatus<'a>> {
    page.iter()
        .map(|md| {
            let namespace = md.metadata.namespace.as_deref().unwrap_or_default();
            let name = md.metadata.name.as_deref().unwrap_or_default();
            let pods = if pod_access.contains(namespace) {
                index
                    .pods_of(namespace, name)
                    .iter()
                    .map(|p| PodStatus::of(p))
                    .collect()
            } else {
                Vec::new()
            };
            DeploymentStatus::of(md, pods)
        })
        .collect()
}

/// [`statuses`] once the namespaces whose pods may be shown are known.
pub fn statuses_with<'a>(
    page: &'a [Arc<ModelDeployment>],
    pods: &[Arc<Pod>],
    pod_access: &Visible,
) -> Vec<DeploymentStatus<'a>> {
    // namespace → name → pods, for the page only.
    let mut by_key: HashMap<&str, HashMap<&str, Vec<PodStatus>>> = HashMap::new();
    for md in page {
        let namespace = md.metadata.namespace.as_deref().unwrap_or_default();
        if pod_access.contains(namespace) {
            by_key
                .entry(namespace)
                .or_default()
                .insert(md.metadata.name.as_deref().unwrap_or_default(), Vec::new());
        }
    }
    if !by_key.is_empty() {
        for pod in pods {
            let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
            let Some(names) = by_key.get_mut(namespace) else {
                continue;
            };
            // Fast path without an allocation: the label our providers set wins in
            // `pods::deployment_of` too; other pods take the full rules.
            let direct = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(kubeairunway_api::labels::DEPLOYMENT))
                .filter(|v| !v.is_empty());
            let owned;
            let owner = match direct {
                Some(name) => name.as_str(),
                None => match pods::deployment_of(pod) {
                    Some(name) => {
                        owned = name;
                        owned.as_str()
                    }
                    None => continue,
                },
            };
            if let Some(list) = names.get_mut(owner) {
                list.push(PodStatus::of(pod));
            }
        }
    }
    page.iter()
        .map(|md| {
            let namespace = md.metadata.namespace.as_deref().unwrap_or_default();
            let name = md.metadata.name.as_deref().unwrap_or_default();
            let mut pods = by_key
                .get_mut(namespace)
                .and_then(|names| names.remove(name))
                .unwrap_or_default();
            pods.sort_by(|a, b| a.name.cmp(&b.name));
            DeploymentStatus::of(md, pods)
        })
        .collect()
}

/// The status of one deployment, pods included when the caller may list them.
pub async fn status_of<'a>(
    caller: &Caller,
    md: &'a ModelDeployment,
    pods: &[Arc<Pod>],
) -> DeploymentStatus<'a> {
    let namespace = md.namespace().unwrap_or_default();
    let pods = if caller
        .can("list", Resource::PODS, Some(namespace.as_str()))
        .await
    {
        pods::of_deployment(pods, &namespace, &md.name_any())
            .iter()
            .map(|p| PodStatus::of(p))
            .collect()
    } else {
        Vec::new()
    };
    DeploymentStatus::of(md, pods)
}

/// Whether `visible` lets the caller see `md`.
pub fn is_visible(visible: &Visible, md: &ModelDeployment) -> bool {
    visible.contains(md.metadata.namespace.as_deref().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn md(value: serde_json::Value) -> ModelDeployment {
        serde_json::from_value(value).expect("ModelDeployment")
    }

    #[test]
    fn engine_falls_back_to_the_status_and_defaults_are_filled() {
        let md = md(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "llama", "namespace": "team-a", "creationTimestamp": "2026-01-02T03:04:05Z" },
            "spec": { "model": { "id": "meta/llama" } },
            "status": { "engine": { "type": "vllm" }, "provider": { "name": "kubernetes" },
                        "endpoint": { "service": "llama-svc" } },
        }));
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert_eq!(
            value,
            json!({
                "name": "llama", "namespace": "team-a", "modelId": "meta/llama", "engine": "vllm",
                "mode": "aggregated", "phase": "Pending", "provider": "kubernetes",
                "replicas": { "desired": 0, "ready": 0, "available": 0 }, "pods": [],
                "createdAt": "2026-01-02T03:04:05Z", "frontendService": "llama-svc",
            })
        );
    }

    #[test]
    fn disaggregated_counts_come_from_the_spec_and_the_reported_status() {
        let mut md = md(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "pd", "namespace": "ns" },
            "spec": { "model": { "id": "a/b" }, "engine": { "type": "sglang" },
                      "serving": { "mode": "disaggregated" }, "provider": { "name": "dynamo" },
                      "scaling": { "prefill": { "replicas": 0, "gpu": { "count": 1 } },
                                   "decode": { "replicas": 3, "gpu": { "count": 2 } } } },
        }));
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        // The reference UI prints `P: ready/desired`: both are always there.
        assert_eq!(
            value["prefillReplicas"],
            json!({ "desired": 0, "ready": 0 })
        );
        assert_eq!(value["decodeReplicas"], json!({ "desired": 3, "ready": 0 }));
        md.status = Some(
            serde_json::from_value(json!({ "decodeReplicas": { "desired": 3, "ready": 2 } }))
                .expect("status"),
        );
        let reported = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert_eq!(
            reported["decodeReplicas"],
            json!({ "desired": 3, "ready": 2 })
        );
        assert_eq!(value["provider"], "dynamo");
        assert_eq!(value["engine"], "sglang");
        assert_eq!(value["frontendService"], "pd");
        assert!(value.get("endpointPort").is_none(), "{value}");
    }

    #[test]
    fn the_gateway_is_shown_when_requested_or_reported() {
        let mut md = md(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "qwen", "namespace": "ns" },
            "spec": { "model": { "id": "a/b" } },
        }));
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert!(value.get("gateway").is_none(), "{value}");
        md.spec.gateway = Some(
            serde_json::from_value(json!({ "enabled": true, "modelName": "qwen" })).expect("gw"),
        );
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert_eq!(
            value["gateway"],
            json!({ "enabled": true, "modelName": "qwen" })
        );
        md.status = Some(
            serde_json::from_value(
                json!({ "gateway": { "endpoint": "10.0.0.1", "modelName": "a/b" } }),
            )
            .expect("status"),
        );
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert_eq!(
            value["gateway"],
            json!({ "endpoint": "10.0.0.1", "modelName": "a/b", "enabled": true })
        );
    }

    #[test]
    fn the_endpoint_port_comes_from_the_status() {
        let with_endpoint = |endpoint: serde_json::Value| {
            md(json!({
                "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
                "metadata": { "name": "qwen", "namespace": "ns" },
                "spec": { "model": { "id": "a/b" } },
                "status": { "endpoint": endpoint },
            }))
        };
        let md = with_endpoint(json!({ "service": "qwen-svc", "port": 8080 }));
        let value = serde_json::to_value(DeploymentStatus::of(&md, Vec::new())).expect("json");
        assert_eq!(value["endpointPort"], 8080);
        assert_eq!(value["frontendService"], "qwen-svc");
        // A service without a port yet: the field is left out, not guessed.
        let md = with_endpoint(json!({ "service": "qwen-svc" }));
        assert_eq!(DeploymentStatus::of(&md, Vec::new()).endpoint_port, None);
        for bad in [0, -1, 70000] {
            let md = with_endpoint(json!({ "service": "qwen-svc", "port": bad }));
            assert_eq!(
                DeploymentStatus::of(&md, Vec::new()).endpoint_port,
                None,
                "port {bad}"
            );
        }
    }

    #[test]
    fn a_deployment_being_deleted_is_terminating() {
        let md = md(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "x", "namespace": "ns", "deletionTimestamp": "2026-01-01T00:00:00Z",
                          "finalizers": ["kubeairunway.ai/cleanup"] },
            "spec": { "model": { "id": "a/b" } },
            "status": { "phase": "Running" },
        }));
        assert_eq!(DeploymentStatus::of(&md, Vec::new()).phase, "Terminating");
    }

    #[test]
    fn newest_first_then_by_namespace_and_name() {
        let at = |ns: &str, name: &str, t: Option<&str>| {
            let mut v = json!({
                "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
                "metadata": { "name": name, "namespace": ns }, "spec": { "model": { "id": "a/b" } },
            });
            if let Some(t) = t {
                v["metadata"]["creationTimestamp"] = json!(t);
            }
            md(v)
        };
        let mut list = [
            at("b", "x", Some("2026-01-01T00:00:00Z")),
            at("a", "y", Some("2026-01-01T00:00:00Z")),
            at("a", "z", Some("2026-02-01T00:00:00Z")),
            at("c", "w", None),
        ];
        list.sort_by(newest_first);
        let names: Vec<_> = list.iter().map(|m| m.name_any()).collect();
        assert_eq!(names, ["w", "z", "y", "x"]);
    }
}
