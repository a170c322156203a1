//! Which pods belong to which ModelDeployment, decided from labels in memory (docs/contract/api.md
//! §5.1 with §19.5 fixed: no generic `app=<name>` label and no bare prefix match, so `llama` never
//! picks up the pods of `llama-2`).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde::Serialize;
use utoipa::ToSchema;

/// Labels naming the deployment directly, in the order they are trusted.
const NAME_LABELS: [&str; 4] = [
    kubeairunway_api::labels::DEPLOYMENT,
    "app.kubernetes.io/instance",
    "kaito.sh/workspace",
    "nvidia.com/dynamo-graph-deployment-name",
];
/// KubeRay names a RayService's cluster `<rayservice>-raycluster-<suffix>`.
const RAY_CLUSTER_LABEL: &str = "ray.io/cluster";
const RAY_CLUSTER_INFIX: &str = "-raycluster-";

/// The name of the ModelDeployment `pod` belongs to, if any.
pub fn deployment_of(pod: &Pod) -> Option<String> {
    let labels = pod.labels();
    for key in NAME_LABELS {
        if let Some(v) = labels.get(key).filter(|v| !v.is_empty()) {
            return Some(v.clone());
        }
    }
    labels
        .get(RAY_CLUSTER_LABEL)
        .and_then(|v| v.rsplit_once(RAY_CLUSTER_INFIX))
        .map(|(name, _)| name.to_string())
        .filter(|n| !n.is_empty())
}

/// Pods grouped by `(namespace, deployment name)`, built in one pass over the cache.
pub fn group_by_deployment(pods: &[Arc<Pod>]) -> HashMap<(String, String), Vec<Arc<Pod>>> {
    let mut map: HashMap<(String, String), Vec<Arc<Pod>>> = HashMap::new();
    for pod in pods {
        if let Some(name) = deployment_of(pod) {
            map.entry((pod.namespace().unwrap_or_default(), name))
                .or_default()
                .push(pod.clone());
        }
    }
    for list in map.values_mut() {
        list.sort_by_key(|p| p.name_any());
    }
    map
}

/// The pods of one deployment, sorted by name.
pub fn of_deployment(pods: &[Arc<Pod>], namespace: &str, name: &str) -> Vec<Arc<Pod>> {
    let mut out: Vec<Arc<Pod>> = pods
        .iter()
        .filter(|p| p.namespace().as_deref() == Some(namespace))
        .filter(|p| deployment_of(p).as_deref() == Some(name))
        .cloned()
        .collect();
    out.sort_by_key(|p| p.name_any());
    out
}

/// A pod as the API reports it (`PodStatus` of the contract).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PodStatus {
    /// Pod name.
    pub name: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    pub phase: String,
    /// Every container is ready (false without containers).
    pub ready: bool,
    /// Sum of the containers' restart counts.
    pub restarts: i32,
    /// The node the pod runs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl PodStatus {
    /// The contract's view of `pod`.
    pub fn of(pod: &Pod) -> Self {
        let status = pod.status.as_ref();
        let containers = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        Self {
            name: pod.name_any(),
            phase: status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            ready: !containers.is_empty() && containers.iter().all(|c| c.ready),
            restarts: containers.iter().map(|c| c.restart_count).sum(),
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({ "metadata": { "name": "p", "namespace": "ns", "labels": labels } }),
        )
        .expect("pod")
    }

    #[test]
    fn labels_name_the_deployment() {
        assert_eq!(
            deployment_of(&pod(json!({"kubeairunway.ai/deployment": "a"}))).as_deref(),
            Some("a")
        );
        assert_eq!(
            deployment_of(&pod(json!({"kaito.sh/workspace": "w"}))).as_deref(),
            Some("w")
        );
        assert_eq!(
            deployment_of(&pod(json!({"ray.io/cluster": "llama-raycluster-abcde"}))).as_deref(),
            Some("llama")
        );
        assert_eq!(
            deployment_of(&pod(json!({"ray.io/cluster": "llama-2-raycluster-abcde"}))).as_deref(),
            Some("llama-2")
        );
        assert_eq!(deployment_of(&pod(json!({"app": "llama"}))), None);
        assert_eq!(
            deployment_of(&pod(json!({"ray.io/cluster": "llama"}))),
            None
        );
    }
}
