//! The declarative file of simulated nodes and its translation into Node objects.

use k8s_openapi::api::core::v1::Node;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The node pools shipped with the project (`crates/testenv/nodes.yaml`).
pub const DEFAULT_NODES_YAML: &str = include_str!("../nodes.yaml");

/// Annotation KWOK selects the nodes it manages by.
pub const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// A set of node pools.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NodePools {
    /// The pools.
    pub pools: Vec<NodePool>,
}

/// Identical simulated nodes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePool {
    /// Pool name (the `agentpool` label and the node name prefix).
    pub name: String,
    /// Number of nodes.
    pub count: u32,
    /// Allocatable CPU (a quantity).
    pub cpu: String,
    /// Allocatable memory (a quantity).
    pub memory: String,
    /// `node.kubernetes.io/instance-type`.
    pub instance_type: String,
    /// `topology.kubernetes.io/region`.
    pub region: String,
    /// GPUs per node; absent for CPU-only pools.
    #[serde(default)]
    pub gpu: Option<GpuSpec>,
}

/// GPUs of one node, as NVIDIA GPU Feature Discovery labels them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GpuSpec {
    /// `nvidia.com/gpu.product`, e.g. `NVIDIA-H100-80GB-HBM3`.
    pub product: String,
    /// GPUs per node (`nvidia.com/gpu` capacity).
    pub count: u32,
    /// Memory per GPU in MiB (`nvidia.com/gpu.memory`).
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u64,
    /// `nvidia.com/gpu.family`, e.g. `hopper`.
    pub family: String,
}

impl NodePools {
    /// Parses and checks a pool file.
    pub fn from_yaml(yaml: &str) -> Result<Self> {
        let pools: NodePools =
            serde_saphyr::from_str(yaml).map_err(|e| Error::NodeFile(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for p in &pools.pools {
            let valid_name = !p.name.is_empty()
                && p.name.len() <= 40
                && p.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_name {
                return Err(Error::NodeFile(format!(
                    "pool name {:?} must be lowercase letters, digits and '-'",
                    p.name
                )));
            }
            if !seen.insert(p.name.clone()) {
                return Err(Error::NodeFile(format!(
                    "pool name {:?} appears twice",
                    p.name
                )));
            }
        }
        Ok(pools)
    }

    /// The pools shipped with the project.
    pub fn default_pools() -> Self {
        // The file is part of this crate and covered by a unit test, so it always parses.
        Self::from_yaml(DEFAULT_NODES_YAML).unwrap_or(NodePools { pools: Vec::new() })
    }

    /// The Node objects, named `kwok-<pool>-<index>`.
    pub fn nodes(&self) -> Result<Vec<Node>> {
        let mut nodes = Vec::new();
        for pool in &self.pools {
            for i in 0..pool.count {
                nodes.push(pool.node(i)?);
            }
        }
        Ok(nodes)
    }
}

impl NodePool {
    fn node(&self, index: u32) -> Result<Node> {
        let name = format!("kwok-{}-{index}", self.name);
        let mut labels = serde_json::json!({
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "type": "kwok",
            "agentpool": self.name,
            "node.kubernetes.io/instance-type": self.instance_type,
            "topology.kubernetes.io/region": self.region,
            "topology.kubernetes.io/zone": format!("{}-{}", self.region, index % 3 + 1),
        });
        let mut capacity =
            serde_json::json!({ "cpu": self.cpu, "memory": self.memory, "pods": "110" });
        if let Some(gpu) = &self.gpu {
            labels["nvidia.com/gpu.present"] = "true".into();
            labels["nvidia.com/gpu.product"] = gpu.product.clone().into();
            labels["nvidia.com/gpu.count"] = gpu.count.to_string().into();
            labels["nvidia.com/gpu.memory"] = gpu.memory_mib.to_string().into();
            labels["nvidia.com/gpu.family"] = gpu.family.clone().into();
            capacity["nvidia.com/gpu"] = gpu.count.to_string().into();
        }
        let node = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": { KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0" },
            },
            "spec": {},
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "nodeInfo": {
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                    "kubeletVersion": "fake",
                    "kubeProxyVersion": "fake",
                    "containerRuntimeVersion": "kwok",
                    "osImage": "kwok",
                    "kernelVersion": "kwok",
                    "machineID": "", "systemUUID": "", "bootID": "",
                },
            },
        });
        serde_json::from_value(node)
            .map_err(|e| Error::NodeFile(format!("pool {}: {e}", self.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_pools_match_the_documented_cluster() {
        let pools = NodePools::from_yaml(DEFAULT_NODES_YAML).expect("nodes.yaml parses");
        let nodes = pools.nodes().expect("nodes build");
        let gpus = |product: &str| -> Vec<String> {
            nodes
                .iter()
                .filter(|n| {
                    n.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("nvidia.com/gpu.product"))
                        .map(String::as_str)
                        == Some(product)
                })
                .map(|n| {
                    n.status
                        .as_ref()
                        .and_then(|s| s.capacity.as_ref())
                        .and_then(|c| c.get("nvidia.com/gpu"))
                        .map(|q| q.0.clone())
                        .unwrap_or_default()
                })
                .collect()
        };
        assert_eq!(gpus("NVIDIA-H100-80GB-HBM3"), vec!["8", "8"]);
        assert_eq!(gpus("NVIDIA-A100-SXM4-40GB"), vec!["4"]);
        assert_eq!(gpus("Tesla-T4"), vec!["1", "1"]);
        let cpu_only = nodes
            .iter()
            .filter(|n| {
                n.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| !l.contains_key("nvidia.com/gpu.present"))
            })
            .count();
        assert_eq!(cpu_only, 2);
        assert_eq!(nodes.len(), 7);
    }

    #[test]
    fn rejects_duplicate_and_malformed_pools() {
        let dup = "pools:\n- {name: a, count: 1, cpu: '1', memory: 1Gi, instanceType: x, region: r}\n- {name: a, count: 1, cpu: '1', memory: 1Gi, instanceType: x, region: r}\n";
        assert!(
            NodePools::from_yaml(dup)
                .expect_err("must be rejected")
                .to_string()
                .contains("appears twice")
        );
        let bad =
            "pools:\n- {name: A_B, count: 1, cpu: '1', memory: 1Gi, instanceType: x, region: r}\n";
        assert!(
            NodePools::from_yaml(bad)
                .expect_err("must be rejected")
                .to_string()
                .contains("lowercase")
        );
        let unknown = "pools:\n- {name: a, count: 1, cpu: '1', memory: 1Gi, instanceType: x, region: r, gpus: 3}\n";
        assert!(NodePools::from_yaml(unknown).is_err());
    }
}
