//! Reading GPUs off Kubernetes objects: how many a node offers (the NVIDIA device plugin's
//! extended resource), what kind and how much memory (GPU Feature Discovery labels, else the
//! product name or the cloud instance type), and how many a pod takes, the way the scheduler
//! counts them. Capacity views, fit plans and selection all read GPUs through these functions.

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use kube_core::ResourceExt;

/// The extended resource NVIDIA's device plugin advertises.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// GPU Feature Discovery label: memory per GPU in MiB.
pub const GPU_MEMORY_LABEL: &str = "nvidia.com/gpu.memory";
/// GPU Feature Discovery label: the GPU product name.
pub const GPU_PRODUCT_LABEL: &str = "nvidia.com/gpu.product";
/// Node labels naming the cloud instance type, newest first.
pub const INSTANCE_TYPE_LABELS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];

/// Allocatable GPUs of a node (0 when absent or unparsable).
pub fn node_gpus(node: &Node) -> i64 {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get(GPU_RESOURCE))
        .map_or(0, |q| parse_count(&q.0))
}

/// The nodes that offer GPUs, by name: one order for every view that walks them, so answers do
/// not depend on the order a watch delivered the nodes in.
pub fn gpu_nodes_by_name(nodes: &[std::sync::Arc<Node>]) -> Vec<&Node> {
    let mut sorted: Vec<&Node> = nodes
        .iter()
        .map(AsRef::as_ref)
        .filter(|n| node_gpus(n) > 0)
        .collect();
    sorted.sort_by_key(|n| n.name_any());
    sorted
}

/// Whether a pod still holds its node's resources (the scheduler's view: every pod bound to
/// the node that has not terminated).
pub fn occupies_node(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// GPUs a pod reserves, as the scheduler counts them: the larger of the app containers (plus
/// restartable init "sidecar" containers) and the largest ordinary init container.
pub fn pod_gpus(pod: &Pod) -> i64 {
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
pub fn container_gpus(c: &Container) -> i64 {
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
pub fn parse_count(s: &str) -> i64 {
    let s = s.trim();
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// Memory per GPU in GB: the `nvidia.com/gpu.memory` label (MiB), else a guess from the
/// product name.
pub fn gpu_memory_gb(node: &Node) -> Option<i64> {
    let labels = node.labels();
    if let Some(mib) = labels
        .get(GPU_MEMORY_LABEL)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|m| *m > 0.0)
    {
        // Rounded like the reference (`Math.round(MiB / 1024)`); the value is a label, far below
        // i64::MAX.
        #[allow(clippy::cast_possible_truncation)]
        return Some((mib / 1024.0).round() as i64);
    }
    labels
        .get(GPU_PRODUCT_LABEL)
        .and_then(|p| memory_from_product(p))
}

/// Memory per GPU in GB guessed from a product name (docs/contract/api.md §8.3 table, first hit).
pub fn memory_from_product(product: &str) -> Option<i64> {
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

/// GPU model from a cloud instance type (docs/contract/api.md §8.5, first hit). Fixed against the
/// reference: Azure `_a100` is tested before `_a10` (A100 SKUs are not A10s, §19.7), Azure T4 SKUs
/// (`NCasT4_v3`) before the generic `NC…_v3` V100 rule, AWS `p5e` is H200, `p4de` has 80 GB A100s,
/// `g5g` has T4G GPUs and `g4ad` has no NVIDIA GPU at all.
pub fn gpu_model_from_instance_type(instance_type: &str) -> Option<&'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn node(labels: Value) -> Node {
        serde_json::from_value(json!({ "metadata": { "name": "n", "labels": labels } }))
            .expect("node")
    }

    #[test]
    fn init_containers_count_like_the_scheduler() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": { "name": "p" },
            "spec": {
                "nodeName": "h100-0",
                "initContainers": [
                    { "name": "init", "image": "i", "resources": { "requests": { GPU_RESOURCE: "3" } } },
                    { "name": "side", "image": "i", "restartPolicy": "Always", "resources": { "requests": { GPU_RESOURCE: "1" } } },
                ],
                "containers": [{ "name": "c", "image": "i", "resources": { "requests": { GPU_RESOURCE: "1" } } }],
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
        let by_label = node(json!({ GPU_MEMORY_LABEL: "15360", GPU_PRODUCT_LABEL: "Tesla-T4" }));
        assert_eq!(gpu_memory_gb(&by_label), Some(15));
        let by_product = node(json!({ GPU_PRODUCT_LABEL: "NVIDIA-A100-SXM4-80GB" }));
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
    fn counts_parse_like_parse_int() {
        assert_eq!(parse_count("8"), 8);
        assert_eq!(parse_count(" 4 "), 4);
        assert_eq!(parse_count("2k"), 2);
        assert_eq!(parse_count(""), 0);
        assert_eq!(parse_count("x"), 0);
    }
}
