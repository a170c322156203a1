//! GPU capacity of the cluster (api.md §8.3–8.5), computed in memory from the node and pod
//! caches: no request lists nodes or pods (§19 performance 2), and a broken cluster answers 503
//! instead of zeros (§19.4).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use k8s_openapi::api::core::v1::{Container, Node, Pod};
use kube::ResourceExt;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Resource};
use crate::cache::{Caches, Kind};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The extended resource NVIDIA's device plugin advertises.
pub(crate) const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// GPU Feature Discovery label: memory per GPU in MiB.
pub(crate) const GPU_MEMORY_LABEL: &str = "nvidia.com/gpu.memory";
/// GPU Feature Discovery label: the GPU product name.
pub(crate) const GPU_PRODUCT_LABEL: &str = "nvidia.com/gpu.product";
/// Node labels naming the node pool, in order of preference (AKS, AKS, GKE, EKS).
const POOL_LABELS: [&str; 4] = [
    "agentpool",
    "kubernetes.azure.com/agentpool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
];
pub(crate) const INSTANCE_TYPE_LABELS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];
const REGION_LABELS: [&str; 2] = [
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

/// GPU capacity of the whole cluster (api.md §8.3). Also used at deployment creation to warn
/// when a request cannot fit.
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

/// A group of GPU nodes (`NodePoolInfo` of api.md §8.4).
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

/// GPU capacity grouped by node pool (`DetailedClusterCapacity` of api.md §8.4).
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

/// The capacity grouped into node pools.
fn detailed(nodes: &[Arc<Node>], pods: &[Arc<Pod>]) -> DetailedClusterCapacity {
    let capacity = compute(nodes, pods);
    let free: BTreeMap<&str, i64> = capacity
        .nodes
        .iter()
        .map(|n| (n.node_name.as_str(), n.available_gpus))
        .collect();
    let mut sorted: Vec<&Node> = nodes
        .iter()
        .map(AsRef::as_ref)
        .filter(|n| node_gpus(n) > 0)
        .collect();
    sorted.sort_by_key(|n| n.name_any());
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
fn first_label(node: &Node, keys: &[&str]) -> Option<String> {
    let labels = node.labels();
    keys.iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
}

/// Allocatable GPUs of a node (0 when absent or unparsable).
pub(crate) fn node_gpus(node: &Node) -> i64 {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get(GPU_RESOURCE))
        .map_or(0, |q| parse_count(&q.0))
}

/// Whether a pod still holds its node's resources (the scheduler's view: every pod bound to
/// the node that has not terminated).
fn occupies_node(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// GPUs a pod reserves, as the scheduler counts them: the larger of the app containers (plus
/// restartable init "sidecar" containers) and the largest ordinary init container.
fn pod_gpus(pod: &Pod) -> i64 {
    let Some(spec) = &pod.spec else { return 0 };
    let init = spec.init_containers.as_deref().unwrap_or_default();
    let sidecars: i64 = init
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(container_gpus)
        .sum();
    let apps: i64 = spec.containers.iter().map(container_gpus).sum::<i64>() + sidecars;
    let largest_init = init
        .iter()
        .filter(|c| c.restart_policy.as_deref() != Some("Always"))
        .map(container_gpus)
        .max()
        .unwrap_or(0);
    apps.max(largest_init + sidecars)
}

/// A container's GPU request, or its limit when it has no request (Kubernetes defaults the
/// request of an extended resource to its limit).
fn container_gpus(c: &Container) -> i64 {
    let resources = c.resources.as_ref();
    resources
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get(GPU_RESOURCE))
        .or_else(|| {
            resources
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get(GPU_RESOURCE))
        })
        .map_or(0, |q| parse_count(&q.0))
}

/// The leading integer of a quantity (`parseInt` semantics; extended resources are whole
/// numbers), 0 when there is none.
fn parse_count(s: &str) -> i64 {
    let s = s.trim();
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// Memory per GPU in GB: the `nvidia.com/gpu.memory` label (MiB), else a guess from the
/// product name.
fn gpu_memory_gb(node: &Node) -> Option<i64> {
    let labels = node.labels();
    if let Some(mib) = labels
        .get(GPU_MEMORY_LABEL)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|m| *m > 0.0)
    {
        // Rounded like the reference (`Math.round(MiB / 1024)`); the value is a label, far below i64::MAX.
        #[allow(clippy::cast_possible_truncation)]
        return Some((mib / 1024.0).round() as i64);
    }
    labels
        .get(GPU_PRODUCT_LABEL)
        .and_then(|p| memory_from_product(p))
}

/// Memory per GPU in GB guessed from a product name (api.md §8.3 table, first hit).
pub(crate) fn memory_from_product(product: &str) -> Option<i64> {
    let p = product.to_ascii_lowercase();
    let has = |s: &str| p.contains(s);
    let gb = if has("a100") && has("80") {
        80
    } else if has("a100") {
        40
    } else if has("h100") {
        80
    } else if has("h200") {
        141
    } else if has("a10g") || has("a10") {
        24
    } else if has("l40") {
        48
    } else if has("l4") {
        24
    } else if has("t4") {
        16
    } else if has("v100") && has("32") {
        32
    } else if has("v100") {
        16
    } else if has("4090") || has("3090") {
        24
    } else if has("4080") {
        16
    } else if has("3080") && has("12") {
        12
    } else if has("3080") {
        10
    } else {
        return None;
    };
    Some(gb)
}

/// GPU model from a cloud instance type (api.md §8.5, first hit). Fixed against the reference:
/// Azure `_a100` is tested before `_a10` (A100 SKUs are not A10s, §19.7), Azure T4 SKUs
/// (`NCasT4_v3`) before the generic `NC…_v3` V100 rule, AWS `p5e` is H200, `p4de` has 80 GB
/// A100s, `g5g` has T4G GPUs and `g4ad` has no NVIDIA GPU at all.
pub(crate) fn gpu_model_from_instance_type(instance_type: &str) -> Option<&'static str> {
    let t = instance_type.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    let starts = |s: &str| t.starts_with(s);
    // Azure (`Standard_…`).
    if has("_a100") {
        return Some("A100-80GB");
    }
    if has("_a10") {
        return Some("A10");
    }
    if has("_h100") {
        return Some("H100");
    }
    if has("nc") && has("t4") {
        return Some("T4");
    }
    if has("nc") && has("_v3") {
        return Some("V100");
    }
    // AWS.
    if starts("p5e") {
        return Some("H200");
    }
    if starts("p5") {
        return Some("H100");
    }
    if starts("p4de") {
        return Some("A100-80GB");
    }
    if starts("p4d") {
        return Some("A100-40GB");
    }
    if starts("p3") {
        return Some("V100");
    }
    if starts("g4dn") {
        return Some("T4");
    }
    if starts("g5g") {
        return Some("T4G");
    }
    if starts("g5.") {
        return Some("A10G");
    }
    if starts("g6e") {
        return Some("L40S");
    }
    if starts("g6.") {
        return Some("L4");
    }
    // GCP.
    if starts("a3") {
        return Some("H100");
    }
    if starts("a2-ultra") {
        return Some("A100-80GB");
    }
    if starts("a2") {
        return Some("A100-40GB");
    }
    if starts("g2") {
        return Some("L4");
    }
    None
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
    fn init_containers_count_like_the_scheduler() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": { "name": "p" },
            "spec": {
                "nodeName": "h100-0",
                "initContainers": [
                    gpu_container(Some("3"), None),
                    { "name": "side", "image": "i", "restartPolicy": "Always", "resources": { "requests": { GPU_RESOURCE: "1" } } },
                ],
                "containers": [gpu_container(Some("1"), None)],
            },
        }))
        .expect("pod");
        assert_eq!(
            pod_gpus(&p),
            4,
            "init 3 + sidecar 1 beats app 1 + sidecar 1"
        );
    }

    #[test]
    fn memory_comes_from_the_label_then_the_product() {
        let by_label = node(
            "n",
            Some("1"),
            json!({ GPU_MEMORY_LABEL: "15360", GPU_PRODUCT_LABEL: "Tesla-T4" }),
        );
        assert_eq!(gpu_memory_gb(&by_label), Some(15));
        let by_product = node(
            "n",
            Some("1"),
            json!({ GPU_PRODUCT_LABEL: "NVIDIA-A100-SXM4-80GB" }),
        );
        assert_eq!(gpu_memory_gb(&by_product), Some(80));
        for (product, gb) in [
            ("NVIDIA-A100-SXM4-40GB", Some(40)),
            ("NVIDIA-H100-80GB-HBM3", Some(80)),
            ("NVIDIA-H200", Some(141)),
            ("NVIDIA-A10G", Some(24)),
            ("NVIDIA-L40S", Some(48)),
            ("NVIDIA-L4", Some(24)),
            ("Tesla-T4", Some(16)),
            ("Tesla-V100-SXM2-32GB", Some(32)),
            ("Tesla-V100-SXM2-16GB", Some(16)),
            ("NVIDIA-GeForce-RTX-4090", Some(24)),
            ("NVIDIA-GeForce-RTX-3080-12GB", Some(12)),
            ("NVIDIA-GeForce-RTX-3080", Some(10)),
            ("Mystery", None),
        ] {
            assert_eq!(memory_from_product(product), gb, "{product}");
        }
    }

    #[test]
    fn instance_types_map_to_gpu_models() {
        for (t, model) in [
            ("Standard_NC24ads_A100_v4", Some("A100-80GB")),
            ("Standard_ND96amsr_A100_v4", Some("A100-80GB")),
            ("Standard_NV36ads_A10_v5", Some("A10")),
            ("Standard_ND96isr_H100_v5", Some("H100")),
            ("Standard_NC40ads_H100_v5", Some("H100")),
            ("Standard_NC8as_T4_v3", Some("T4")),
            ("Standard_NC6s_v3", Some("V100")),
            ("Standard_D16s_v5", None),
            ("p5.48xlarge", Some("H100")),
            ("p5e.48xlarge", Some("H200")),
            ("p4d.24xlarge", Some("A100-40GB")),
            ("p4de.24xlarge", Some("A100-80GB")),
            ("p3.2xlarge", Some("V100")),
            ("g4dn.xlarge", Some("T4")),
            ("g4ad.xlarge", None),
            ("g5.xlarge", Some("A10G")),
            ("g5g.xlarge", Some("T4G")),
            ("g6e.xlarge", Some("L40S")),
            ("g6.xlarge", Some("L4")),
            ("m5.large", None),
            ("a3-highgpu-8g", Some("H100")),
            ("a2-ultragpu-1g", Some("A100-80GB")),
            ("a2-highgpu-1g", Some("A100-40GB")),
            ("g2-standard-4", Some("L4")),
            ("n2-standard-8", None),
        ] {
            assert_eq!(gpu_model_from_instance_type(t), model, "{t}");
        }
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

    #[test]
    fn counts_parse_like_parse_int() {
        assert_eq!(parse_count("8"), 8);
        assert_eq!(parse_count(" 4 "), 4);
        assert_eq!(parse_count("2k"), 2);
        assert_eq!(parse_count(""), 0);
        assert_eq!(parse_count("x"), 0);
    }
}
