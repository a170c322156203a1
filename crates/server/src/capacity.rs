//! GPU capacity of the cluster (docs/contract/api.md §8.3–8.5), computed in memory from the node
//! and pod caches: no request lists nodes or pods (§19 performance 2), and a broken cluster answers
//! 503 instead of zeros (§19.4).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::ResourceExt;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use kubeairunway_core::gpu::{
    GPU_PRODUCT_LABEL, INSTANCE_TYPE_LABELS, gpu_memory_gb, gpu_model_from_instance_type,
    gpu_nodes_by_name, node_gpus, occupies_node, pod_gpus,
};

use crate::auth::{Caller, Resource};
use crate::cache::{Caches, Kind};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// Node labels naming the node pool, in order of preference (AKS, AKS, GKE, EKS).
pub(crate) const POOL_LABELS: [&str; 4] = [
    "agentpool",
    "kubernetes.azure.com/agentpool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
];
pub(crate) const REGION_LABELS: [&str; 2] = [
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/region",
];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(gpu_capacity))
        .routes(routes!(gpu_capacity_detailed))
}

/// GPUs of one node (`ClusterGpuCapacity.nodes[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeGpuCapacity {
    /// Node name.
    pub node_name: String,
    /// Allocatable GPUs of the node.
    pub total_gpus: i64,
    /// GPUs requested by the node's non-terminated pods.
    pub allocated_gpus: i64,
    /// `max(0, total − allocated)`.
    pub available_gpus: i64,
}

/// GPU capacity of the whole cluster (docs/contract/api.md §8.3). Also used at deployment creation
/// to warn when a request cannot fit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterGpuCapacity {
    /// Σ allocatable GPUs over GPU nodes.
    pub total_gpus: i64,
    /// Σ GPUs requested by pods on GPU nodes.
    pub allocated_gpus: i64,
    /// `total − allocated` (negative only if nodes are over-committed).
    pub available_gpus: i64,
    /// Most GPUs free on a single node: the largest request that fits on one node.
    pub max_contiguous_available: i64,
    /// Most GPUs any single node has.
    pub max_node_gpu_capacity: i64,
    /// Nodes with at least one GPU.
    pub gpu_node_count: i64,
    /// Memory of one GPU in GB, from the first GPU node that tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_memory_gb: Option<i64>,
    /// Per-node figures, sorted by node name.
    pub nodes: Vec<NodeGpuCapacity>,
}

/// A group of GPU nodes (`NodePoolInfo` of docs/contract/api.md §8.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodePoolInfo {
    /// Pool name from the cloud's node-pool label, else `default`.
    pub name: String,
    /// Σ allocatable GPUs of the pool.
    pub gpu_count: i64,
    /// GPU nodes in the pool.
    pub node_count: i64,
    /// Σ free GPUs of the pool's nodes.
    pub available_gpus: i64,
    /// GPU model (product label, else derived from the instance type, else `accelerator`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// Cloud instance type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Cloud region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// GPU capacity grouped by node pool (`DetailedClusterCapacity` of docs/contract/api.md §8.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailedClusterCapacity {
    /// Σ allocatable GPUs over GPU nodes.
    pub total_gpus: i64,
    /// Σ GPUs requested by pods on GPU nodes.
    pub allocated_gpus: i64,
    /// `total − allocated`.
    pub available_gpus: i64,
    /// Most GPUs free on a single node.
    pub max_contiguous_available: i64,
    /// Most GPUs any single node has.
    pub max_node_gpu_capacity: i64,
    /// Nodes with at least one GPU.
    pub gpu_node_count: i64,
    /// Memory of one GPU in GB, from the first GPU node that tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_memory_gb: Option<i64>,
    /// GPU node pools, sorted by name.
    pub node_pools: Vec<NodePoolInfo>,
}

/// Cluster GPU capacity from the caches. Read it only after `caches.ready(Kind::Nodes)` and
/// `caches.ready(Kind::Pods)` succeeded, or the figures may be empty.
pub(crate) fn cluster_capacity(caches: &Caches) -> ClusterGpuCapacity {
    compute(&caches.nodes.state(), &caches.pods.state())
}

/// The capacity maths over plain objects.
fn compute(nodes: &[Arc<Node>], pods: &[Arc<Pod>]) -> ClusterGpuCapacity {
    let mut gpu_nodes: Vec<&Node> = nodes
        .iter()
        .map(AsRef::as_ref)
        .filter(|n| node_gpus(n) > 0)
        .collect();
    gpu_nodes.sort_by_key(|n| n.name_any());
    let mut allocated: BTreeMap<String, i64> =
        gpu_nodes.iter().map(|n| (n.name_any(), 0)).collect();
    for pod in pods {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
            continue;
        };
        if !occupies_node(pod) {
            continue;
        }
        if let Some(sum) = allocated.get_mut(node) {
            *sum += pod_gpus(pod);
        }
    }
    let mut out = ClusterGpuCapacity::default();
    for node in &gpu_nodes {
        let name = node.name_any();
        let total = node_gpus(node);
        let used = allocated.get(&name).copied().unwrap_or(0);
        let free = (total - used).max(0);
        out.total_gpus += total;
        out.allocated_gpus += used;
        out.max_contiguous_available = out.max_contiguous_available.max(free);
        out.max_node_gpu_capacity = out.max_node_gpu_capacity.max(total);
        out.gpu_node_count += 1;
        if out.total_memory_gb.is_none() {
            out.total_memory_gb = gpu_memory_gb(node);
        }
        out.nodes.push(NodeGpuCapacity {
            node_name: name,
            total_gpus: total,
            allocated_gpus: used,
            available_gpus: free,
        });
    }
    out.available_gpus = out.total_gpus - out.allocated_gpus;
    out
}

/// The capacity grouped into node pools, from the caches.
pub(crate) fn detailed_capacity(caches: &Caches) -> DetailedClusterCapacity {
    detailed(&caches.nodes.state(), &caches.pods.state())
}

/// The capacity grouped into node pools.
fn detailed(nodes: &[Arc<Node>], pods: &[Arc<Pod>]) -> DetailedClusterCapacity {
    let capacity = compute(nodes, pods);
    let free: BTreeMap<&str, i64> = capacity
        .nodes
        .iter()
        .map(|n| (n.node_name.as_str(), n.available_gpus))
        .collect();
    let sorted = gpu_nodes_by_name(nodes);
    let mut pools: BTreeMap<String, NodePoolInfo> = BTreeMap::new();
    for node in sorted {
        let labels = node.labels();
        let name = first_label(node, &POOL_LABELS).unwrap_or_else(|| "default".into());
        let pool = pools.entry(name.clone()).or_insert_with(|| NodePoolInfo {
            name,
            gpu_count: 0,
            node_count: 0,
            available_gpus: 0,
            gpu_model: None,
            instance_type: None,
            region: None,
        });
        let instance_type = first_label(node, &INSTANCE_TYPE_LABELS);
        pool.gpu_count += node_gpus(node);
        pool.node_count += 1;
        pool.available_gpus += free.get(node.name_any().as_str()).copied().unwrap_or(0);
        if pool.gpu_model.is_none() {
            pool.gpu_model = first_label(node, &[GPU_PRODUCT_LABEL])
                .or_else(|| {
                    instance_type
                        .as_deref()
                        .and_then(gpu_model_from_instance_type)
                        .map(str::to_string)
                })
                .or_else(|| labels.get("accelerator").filter(|v| !v.is_empty()).cloned());
        }
        if pool.instance_type.is_none() {
            pool.instance_type = instance_type;
        }
        if pool.region.is_none() {
            pool.region = first_label(node, &REGION_LABELS);
        }
    }
    DetailedClusterCapacity {
        total_gpus: capacity.total_gpus,
        allocated_gpus: capacity.allocated_gpus,
        available_gpus: capacity.available_gpus,
        max_contiguous_available: capacity.max_contiguous_available,
        max_node_gpu_capacity: capacity.max_node_gpu_capacity,
        gpu_node_count: capacity.gpu_node_count,
        total_memory_gb: capacity.total_memory_gb,
        node_pools: pools.into_values().collect(),
    }
}

/// The first non-empty value among `keys`.
pub(crate) fn first_label(node: &Node, keys: &[&str]) -> Option<String> {
    let labels = node.labels();
    keys.iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
}

/// Waits for the node and pod caches and checks the caller may see nodes.
async fn ready(state: &AppState, caller: &Caller) -> ApiResult<Caches> {
    let caches = state.caches()?;
    // Cache state first: during an outage the answer is a fast 503, not a failed access review.
    caches.ready(Kind::Nodes).await?;
    caches.ready(Kind::Pods).await?;
    caller.require("list", Resource::NODES, None).await?;
    Ok(caches.clone())
}

/// GPUs of the cluster: totals, what pods have taken, and the largest free block on one node.
#[utoipa::path(get, path = "/api/installation/gpu-capacity", tag = "installation",
    responses(
        (status = 200, body = ClusterGpuCapacity),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn gpu_capacity(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ClusterGpuCapacity>> {
    let caches = ready(&state, &caller).await?;
    Ok(Json(cluster_capacity(&caches)))
}

/// GPU capacity grouped by node pool, with each pool's GPU model, instance type and region.
#[utoipa::path(get, path = "/api/installation/gpu-capacity/detailed", tag = "installation",
    responses(
        (status = 200, body = DetailedClusterCapacity),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn gpu_capacity_detailed(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DetailedClusterCapacity>> {
    let caches = ready(&state, &caller).await?;
    Ok(Json(detailed(&caches.nodes.state(), &caches.pods.state())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeairunway_core::gpu::{GPU_MEMORY_LABEL, GPU_RESOURCE};
    use serde_json::json;

    fn node(name: &str, gpus: Option<&str>, labels: serde_json::Value) -> Arc<Node> {
        let mut allocatable = json!({ "cpu": "8" });
        if let Some(g) = gpus {
            allocatable[GPU_RESOURCE] = g.into();
        }
        Arc::new(
            serde_json::from_value(json!({
                "metadata": { "name": name, "labels": labels },
                "status": { "allocatable": allocatable },
            }))
            .expect("node"),
        )
    }

    fn pod(node: Option<&str>, phase: &str, containers: serde_json::Value) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": { "name": "p", "namespace": "ns" },
                "spec": { "nodeName": node, "containers": containers },
                "status": { "phase": phase },
            }))
            .expect("pod"),
        )
    }

    fn gpu_container(requests: Option<&str>, limits: Option<&str>) -> serde_json::Value {
        let mut resources = json!({});
        if let Some(r) = requests {
            resources["requests"] = json!({ GPU_RESOURCE: r });
        }
        if let Some(l) = limits {
            resources["limits"] = json!({ GPU_RESOURCE: l });
        }
        json!({ "name": "c", "image": "i", "resources": resources })
    }

    fn cluster() -> Vec<Arc<Node>> {
        vec![
            node(
                "h100-1",
                Some("8"),
                json!({ "agentpool": "h100", GPU_MEMORY_LABEL: "81559", GPU_PRODUCT_LABEL: "NVIDIA-H100-80GB-HBM3",
                        "node.kubernetes.io/instance-type": "Standard_ND96isr_H100_v5", "topology.kubernetes.io/region": "eastus" }),
            ),
            node(
                "h100-0",
                Some("8"),
                json!({ "agentpool": "h100", GPU_MEMORY_LABEL: "81559", GPU_PRODUCT_LABEL: "NVIDIA-H100-80GB-HBM3",
                        "node.kubernetes.io/instance-type": "Standard_ND96isr_H100_v5", "topology.kubernetes.io/region": "eastus" }),
            ),
            node(
                "a100-0",
                Some("4"),
                json!({ "kubernetes.azure.com/agentpool": "gpu", "node.kubernetes.io/instance-type": "Standard_NC96ads_A100_v4" }),
            ),
            node("cpu-0", None, json!({ "agentpool": "cpu" })),
            node("cpu-1", Some("0"), json!({ "agentpool": "cpu" })),
        ]
    }

    #[test]
    fn capacity_counts_requests_limits_and_skips_terminated_and_unbound_pods() {
        let pods = vec![
            pod(
                Some("h100-0"),
                "Running",
                json!([
                    gpu_container(Some("2"), Some("2")),
                    gpu_container(None, Some("1"))
                ]),
            ),
            pod(
                Some("h100-0"),
                "Pending",
                json!([gpu_container(Some("1"), None)]),
            ),
            pod(
                Some("h100-1"),
                "Succeeded",
                json!([gpu_container(Some("8"), None)]),
            ),
            pod(
                Some("h100-1"),
                "Failed",
                json!([gpu_container(Some("8"), None)]),
            ),
            pod(None, "Pending", json!([gpu_container(Some("8"), None)])),
            pod(
                Some("a100-0"),
                "Running",
                json!([gpu_container(Some("4"), None)]),
            ),
            pod(
                Some("cpu-0"),
                "Running",
                json!([gpu_container(Some("3"), None)]),
            ),
            pod(
                Some("unknown-node"),
                "Running",
                json!([gpu_container(Some("3"), None)]),
            ),
        ];
        let c = compute(&cluster(), &pods);
        assert_eq!(c.total_gpus, 20);
        assert_eq!(c.allocated_gpus, 8);
        assert_eq!(c.available_gpus, 12);
        assert_eq!(c.gpu_node_count, 3);
        assert_eq!(c.max_node_gpu_capacity, 8);
        assert_eq!(c.max_contiguous_available, 8, "h100-1 is untouched");
        assert_eq!(
            c.total_memory_gb,
            Some(80),
            "a100-0 sorts first but tells nothing; h100-0 has the memory label"
        );
        let names: Vec<&str> = c.nodes.iter().map(|n| n.node_name.as_str()).collect();
        assert_eq!(names, ["a100-0", "h100-0", "h100-1"]);
        assert_eq!(
            c.nodes[1],
            NodeGpuCapacity {
                node_name: "h100-0".into(),
                total_gpus: 8,
                allocated_gpus: 4,
                available_gpus: 4
            }
        );
        assert_eq!(c.nodes[0].available_gpus, 0);
    }

    #[test]
    fn capacity_json_uses_the_contract_names() {
        let c = compute(&cluster()[..2], &[]);
        let v = serde_json::to_value(&c).expect("json");
        assert_eq!(
            v,
            json!({
                "totalGpus": 16, "allocatedGpus": 0, "availableGpus": 16, "maxContiguousAvailable": 8,
                "maxNodeGpuCapacity": 8, "gpuNodeCount": 2, "totalMemoryGb": 80,
                "nodes": [
                    { "nodeName": "h100-0", "totalGpus": 8, "allocatedGpus": 0, "availableGpus": 8 },
                    { "nodeName": "h100-1", "totalGpus": 8, "allocatedGpus": 0, "availableGpus": 8 },
                ],
            })
        );
        let empty = serde_json::to_value(compute(&[], &[])).expect("json");
        assert!(empty.get("totalMemoryGb").is_none());
        assert_eq!(empty["nodes"], json!([]));
    }

    #[test]
    fn over_committed_nodes_never_report_negative_free_gpus() {
        let pods = vec![pod(
            Some("a100-0"),
            "Running",
            json!([gpu_container(Some("6"), None)]),
        )];
        let c = compute(&cluster()[2..3], &pods);
        assert_eq!(c.nodes[0].available_gpus, 0);
        assert_eq!(c.available_gpus, -2);
        assert_eq!(c.max_contiguous_available, 0);
    }

    #[test]
    fn pools_group_gpu_nodes_with_model_type_and_region() {
        let pods = vec![pod(
            Some("h100-0"),
            "Running",
            json!([gpu_container(Some("3"), None)]),
        )];
        let mut nodes = cluster();
        nodes.push(node(
            "plain-0",
            Some("2"),
            json!({ "accelerator": "nvidia-tesla-t4" }),
        ));
        let d = detailed(&nodes, &pods);
        assert_eq!(d.total_gpus, 22);
        assert_eq!(d.allocated_gpus, 3);
        assert_eq!(d.gpu_node_count, 4);
        let v = serde_json::to_value(&d.node_pools).expect("json");
        assert_eq!(
            v,
            json!([
                { "name": "default", "gpuCount": 2, "nodeCount": 1, "availableGpus": 2, "gpuModel": "nvidia-tesla-t4" },
                { "name": "gpu", "gpuCount": 4, "nodeCount": 1, "availableGpus": 4, "gpuModel": "A100-80GB",
                  "instanceType": "Standard_NC96ads_A100_v4" },
                { "name": "h100", "gpuCount": 16, "nodeCount": 2, "availableGpus": 13, "gpuModel": "NVIDIA-H100-80GB-HBM3",
                  "instanceType": "Standard_ND96isr_H100_v5", "region": "eastus" },
            ])
        );
    }
}
