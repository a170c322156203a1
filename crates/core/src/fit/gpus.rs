//! The GPU types a model plan is computed for: those of the cluster's GPU nodes (read from the
//! labels NVIDIA GPU Feature Discovery writes, or the cloud instance type), or one the caller
//! names, looked up among common NVIDIA GPUs.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;
use kube_core::ResourceExt;

use crate::gpu::{
    GPU_MEMORY_LABEL, GPU_PRODUCT_LABEL, INSTANCE_TYPE_LABELS, gpu_model_from_instance_type,
    gpu_nodes_by_name, memory_from_product, node_gpus,
};
/// Name of GPU nodes that tell neither product nor a known instance type.
const UNKNOWN_GPU: &str = "Unknown GPU";

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * 1024 * 1024;

/// One kind of GPU and how many of it a node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuType {
    /// Product name (`NVIDIA-A100-SXM4-40GB`, `H100`, …).
    pub name: String,
    /// Memory of one GPU in bytes, when known.
    pub memory_bytes: Option<u64>,
    /// Most GPUs of this type on one node: the largest single-node tensor-parallel group.
    pub gpus_per_node: u32,
    /// Nodes with this GPU type (0 for a type looked up by name, not in the cluster).
    pub nodes: u32,
}

/// The GPU types of the cluster's GPU nodes, largest memory first (unknown memory last), then
/// by name.
pub fn cluster_gpu_types(nodes: &[Arc<Node>]) -> Vec<GpuType> {
    let sorted = gpu_nodes_by_name(nodes);
    let mut types: BTreeMap<String, GpuType> = BTreeMap::new();
    for node in sorted {
        let name = gpu_name(node);
        let gpus = u32::try_from(node_gpus(node)).unwrap_or(u32::MAX);
        let memory = node_gpu_memory(node, &name);
        let t = types.entry(name.clone()).or_insert_with(|| GpuType {
            name,
            memory_bytes: None,
            gpus_per_node: 0,
            nodes: 0,
        });
        t.gpus_per_node = t.gpus_per_node.max(gpus);
        t.nodes = t.nodes.saturating_add(1);
        if t.memory_bytes.is_none() {
            t.memory_bytes = memory;
        }
    }
    let mut out: Vec<GpuType> = types.into_values().collect();
    // Descending memory with `None` last: `Option`'s order puts `None` first, so reverse it.
    out.sort_by(|a, b| {
        b.memory_bytes
            .cmp(&a.memory_bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// The GPU type a caller asked for: one of the cluster's (by name, ignoring case), else a
/// common NVIDIA GPU (8 per node, as in the usual 8-GPU servers); `None` for names we do not
/// know, so the caller can be told instead of getting a plan for a guess.
pub fn gpu_type_named(name: &str, cluster: &[GpuType]) -> Option<GpuType> {
    if let Some(t) = cluster.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
        return Some(t.clone());
    }
    let key = normalise(name);
    KNOWN_GPUS
        .iter()
        .find(|(_, aliases, _)| aliases.contains(&key.as_str()))
        .map(|(canonical, _, gb)| GpuType {
            name: (*canonical).to_string(),
            memory_bytes: Some(gb * GIB),
            gpus_per_node: 8,
            nodes: 0,
        })
}

/// Common NVIDIA data-centre GPUs: canonical name, normalised names (see `normalise`), GB.
const KNOWN_GPUS: [(&str, &[&str], u64); 13] = [
    ("H100-80GB", &["h100", "h10080gb"], 80),
    ("H200", &["h200", "h200141gb"], 141),
    ("A100-40GB", &["a100", "a10040gb"], 40),
    ("A100-80GB", &["a10080gb"], 80),
    ("A10", &["a10", "a1024gb"], 24),
    ("A10G", &["a10g", "a10g24gb"], 24),
    ("L4", &["l4", "l424gb"], 24),
    ("L40", &["l40", "l4048gb"], 48),
    ("L40S", &["l40s", "l40s48gb"], 48),
    ("T4", &["t4", "t416gb"], 16),
    ("V100-16GB", &["v100", "v10016gb"], 16),
    ("V100-32GB", &["v10032gb"], 32),
    ("B200", &["b200", "b200180gb"], 180),
];

/// A GPU name reduced to what identifies the model: lower case, without the vendor/brand
/// words and form-factor or memory-technology suffixes, separators removed
/// (`NVIDIA-A100-SXM4-40GB` → `a10040gb`, `Tesla T4` → `t4`, `NVIDIA-H100-80GB-HBM3` → `h10080gb`).
fn normalise(name: &str) -> String {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| {
            !matches!(
                *w,
                "nvidia" | "tesla" | "pcie" | "sxm" | "sxm2" | "sxm4" | "sxm5"
            )
        })
        .filter(|w| !(w.starts_with("hbm") && w.len() <= 5))
        .collect()
}

/// The GPU product of a node: the GFD product label, else the model its instance type implies.
fn gpu_name(node: &Node) -> String {
    let labels = node.labels();
    if let Some(product) = labels
        .get(GPU_PRODUCT_LABEL)
        .filter(|v| !v.trim().is_empty())
    {
        return product.trim().to_string();
    }
    INSTANCE_TYPE_LABELS
        .iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()))
        .and_then(|t| gpu_model_from_instance_type(t))
        .unwrap_or(UNKNOWN_GPU)
        .to_string()
}

/// Memory of one of the node's GPUs: the GFD memory label (MiB), else a guess from the name.
fn node_gpu_memory(node: &Node, name: &str) -> Option<u64> {
    let from_label = node
        .labels()
        .get(GPU_MEMORY_LABEL)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|mib| *mib > 0)
        .and_then(|mib| mib.checked_mul(MIB));
    from_label.or_else(|| {
        memory_from_product(name)
            .and_then(|gb| u64::try_from(gb).ok())
            .map(|gb| gb * GIB)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, gpus: Option<&str>, labels: serde_json::Value) -> Arc<Node> {
        let mut allocatable = json!({ "cpu": "8" });
        if let Some(g) = gpus {
            allocatable["nvidia.com/gpu"] = g.into();
        }
        Arc::new(
            serde_json::from_value(json!({
                "metadata": { "name": name, "labels": labels },
                "status": { "allocatable": allocatable },
            }))
            .expect("node"),
        )
    }

    /// The KWOK pools of `crates/testenv/nodes.yaml`, plus nodes that only tell an instance
    /// type or nothing at all.
    fn cluster() -> Vec<Arc<Node>> {
        let gfd = |product: &str, mib: &str, instance: &str| {
            json!({ GPU_PRODUCT_LABEL: product, GPU_MEMORY_LABEL: mib,
                    "node.kubernetes.io/instance-type": instance })
        };
        vec![
            node(
                "h100-0",
                Some("8"),
                gfd("NVIDIA-H100-80GB-HBM3", "81559", "Standard_ND96isr_H100_v5"),
            ),
            node(
                "h100-1",
                Some("8"),
                gfd("NVIDIA-H100-80GB-HBM3", "81559", "Standard_ND96isr_H100_v5"),
            ),
            node(
                "a100-0",
                Some("4"),
                gfd("NVIDIA-A100-SXM4-40GB", "40960", "Standard_NC48ads_A100_v4"),
            ),
            node(
                "t4-0",
                Some("1"),
                gfd("Tesla-T4", "15360", "Standard_NC8as_T4_v3"),
            ),
            node(
                "t4-1",
                Some("1"),
                gfd("Tesla-T4", "15360", "Standard_NC8as_T4_v3"),
            ),
            node(
                "cpu-0",
                None,
                json!({ "node.kubernetes.io/instance-type": "Standard_D16s_v5" }),
            ),
            node("cpu-1", Some("0"), json!({})),
            // No GFD labels: the model from the instance type, memory from the model name.
            node(
                "l4-0",
                Some("2"),
                json!({ "beta.kubernetes.io/instance-type": "g6.12xlarge" }),
            ),
            node(
                "l4-1",
                Some("4"),
                json!({ "node.kubernetes.io/instance-type": "g6.24xlarge" }),
            ),
            node("mystery-0", Some("2"), json!({})),
        ]
    }

    #[test]
    fn cluster_types_group_gpu_nodes_by_product() {
        let types = cluster_gpu_types(&cluster());
        assert_eq!(
            types,
            vec![
                GpuType {
                    name: "NVIDIA-H100-80GB-HBM3".into(),
                    memory_bytes: Some(81_559 * MIB),
                    gpus_per_node: 8,
                    nodes: 2,
                },
                GpuType {
                    name: "NVIDIA-A100-SXM4-40GB".into(),
                    memory_bytes: Some(40_960 * MIB),
                    gpus_per_node: 4,
                    nodes: 1,
                },
                GpuType {
                    name: "L4".into(),
                    memory_bytes: Some(24 * GIB),
                    gpus_per_node: 4,
                    nodes: 2,
                },
                GpuType {
                    name: "Tesla-T4".into(),
                    memory_bytes: Some(15_360 * MIB),
                    gpus_per_node: 1,
                    nodes: 2,
                },
                GpuType {
                    name: UNKNOWN_GPU.into(),
                    memory_bytes: None,
                    gpus_per_node: 2,
                    nodes: 1,
                },
            ]
        );
        assert!(cluster_gpu_types(&[]).is_empty());
    }

    #[test]
    fn memory_falls_back_to_the_product_name() {
        let n = node(
            "n",
            Some("8"),
            json!({ GPU_PRODUCT_LABEL: "NVIDIA-A100-SXM4-80GB", GPU_MEMORY_LABEL: "garbage" }),
        );
        let types = cluster_gpu_types(&[n]);
        assert_eq!(types[0].memory_bytes, Some(80 * GIB));
    }

    #[test]
    fn named_types_prefer_the_cluster_then_the_known_table() {
        let cluster = cluster_gpu_types(&cluster());
        let t4 = gpu_type_named("tesla-t4", &cluster).unwrap();
        assert_eq!(
            (t4.name.as_str(), t4.nodes, t4.gpus_per_node),
            ("Tesla-T4", 2, 1)
        );
        for (name, canonical, gb) in [
            ("H100", "H100-80GB", 80),
            ("h100-80gb", "H100-80GB", 80),
            ("NVIDIA-H100-80GB-HBM3", "H100-80GB", 80),
            ("H200", "H200", 141),
            ("A100", "A100-40GB", 40),
            ("NVIDIA-A100-SXM4-40GB", "A100-40GB", 40),
            ("A100-80GB", "A100-80GB", 80),
            ("nvidia a100 pcie 80gb", "A100-80GB", 80),
            ("A10", "A10", 24),
            ("A10G", "A10G", 24),
            ("L4", "L4", 24),
            ("L40", "L40", 48),
            ("L40S", "L40S", 48),
            ("T4", "T4", 16),
            ("V100", "V100-16GB", 16),
            ("Tesla-V100-SXM2-32GB", "V100-32GB", 32),
            ("B200", "B200", 180),
        ] {
            let t = gpu_type_named(name, &[]).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(
                t,
                GpuType {
                    name: canonical.into(),
                    memory_bytes: Some(gb * GIB),
                    gpus_per_node: 8,
                    nodes: 0
                },
                "{name}"
            );
        }
        for unknown in ["", "Mystery", "RTX-9090", "H100-NVL", "a1000"] {
            assert_eq!(gpu_type_named(unknown, &[]), None, "{unknown}");
        }
    }
}
