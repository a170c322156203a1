//! Which autoscaler a cluster has (`GET /api/autoscaler/detection`, docs/contract/api.md §9).
//!
//! 1. AKS (a node labelled `kubernetes.azure.com/cluster` or with an `azure://` provider id):
//!    node pools whose nodes carry `cluster-autoscaler.kubernetes.io/enabled=true`, or a status
//!    ConfigMap (AKS's managed autoscaler writes one too), mean the managed autoscaler.
//! 2. A status ConfigMap: a self-managed Cluster Autoscaler, healthy when the status was written
//!    in the last 5 minutes and its health is not `Unhealthy`.
//! 3. A Deployment in `kube-system` labelled `app=cluster-autoscaler` (or named like it):
//!    healthy when every replica is ready.
//! 4. Nothing.
//!
//! The reference looked at the first node only and counted any status as healthy when it had
//! no time.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use kube_core::ResourceExt;
use serde::Serialize;

use super::status::AutoscalerStatus;

/// A status older than this is stale.
pub const STALE_AFTER_SECONDS: i64 = 5 * 60;
/// The label AKS puts on nodes of pools with the managed autoscaler enabled.
const AKS_AUTOSCALER_LABEL: &str = "cluster-autoscaler.kubernetes.io/enabled";
const AKS_CLUSTER_LABEL: &str = "kubernetes.azure.com/cluster";
const POOL_LABELS: [&str; 2] = ["agentpool", "kubernetes.azure.com/agentpool"];

/// `type` of the detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AutoscalerType {
    /// No autoscaler found.
    None,
    /// AKS's managed cluster autoscaler.
    AksManaged,
    /// A self-managed Kubernetes Cluster Autoscaler.
    ClusterAutoscaler,
    /// The cluster could not be asked.
    Unknown,
}

/// The answer (`AutoscalerDetectionResult`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// Which autoscaler.
    #[serde(rename = "type")]
    pub kind: AutoscalerType,
    /// Whether one was found.
    pub detected: bool,
    /// Whether it looks alive.
    pub healthy: bool,
    /// A sentence for people.
    pub message: String,
    /// Node pools or groups it manages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_group_count: Option<usize>,
    /// Whether it is scaling up now (from the status).
    pub scaling_up: bool,
    /// When it last wrote its status (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
}

/// Whether the nodes are AKS nodes.
pub fn is_aks(nodes: &[Arc<Node>]) -> bool {
    nodes.iter().any(|n| {
        n.labels().contains_key(AKS_CLUSTER_LABEL)
            || n.spec
                .as_ref()
                .and_then(|s| s.provider_id.as_deref())
                .is_some_and(|p| p.starts_with("azure://"))
    })
}

/// The detection from the cluster's `nodes`, its parsed `status` ConfigMap (if any), the
/// autoscaler-looking Deployments of `kube-system`, at `now`.
pub fn detect(
    nodes: &[Arc<Node>],
    status: Option<&AutoscalerStatus>,
    deployments: &[Deployment],
    now: Timestamp,
) -> Detection {
    let aks = is_aks(nodes);
    let fresh = status.map(|s| {
        let recent = s
            .updated_at()
            .is_some_and(|t| now.as_second() - t.as_second() <= STALE_AFTER_SECONDS);
        recent && !s.health.eq_ignore_ascii_case("unhealthy")
    });
    let from_status = |kind, message: String| {
        let s = status?;
        Some(Detection {
            kind,
            detected: true,
            healthy: fresh.unwrap_or(false),
            message,
            node_group_count: Some(s.node_groups.len()),
            scaling_up: s.scaling_up(),
            last_activity: s.last_update_time.clone(),
        })
    };
    if aks {
        let pools: BTreeSet<String> = nodes
            .iter()
            .filter(|n| n.labels().get(AKS_AUTOSCALER_LABEL).map(String::as_str) == Some("true"))
            .filter_map(|n| {
                POOL_LABELS
                    .iter()
                    .find_map(|k| n.labels().get(*k).filter(|v| !v.is_empty()).cloned())
            })
            .collect();
        if !pools.is_empty() {
            return Detection {
                kind: AutoscalerType::AksManaged,
                detected: true,
                healthy: fresh.unwrap_or(true),
                message: format!(
                    "AKS managed autoscaler detected on {} node pool(s)",
                    pools.len()
                ),
                node_group_count: Some(pools.len()),
                scaling_up: status.is_some_and(AutoscalerStatus::scaling_up),
                last_activity: status.and_then(|s| s.last_update_time.clone()),
            };
        }
        if let Some(d) = from_status(
            AutoscalerType::AksManaged,
            format!(
                "AKS managed autoscaler detected on {} node pool(s)",
                status.map_or(0, |s| s.node_groups.len())
            ),
        ) {
            return d;
        }
    }
    if let Some(s) = status {
        let message = if fresh == Some(true) {
            format!(
                "Cluster Autoscaler running on {} node group(s)",
                s.node_groups.len()
            )
        } else {
            "Cluster Autoscaler detected but status is stale or unhealthy".to_string()
        };
        if let Some(d) = from_status(AutoscalerType::ClusterAutoscaler, message) {
            return d;
        }
    }
    let found = deployments
        .iter()
        .find(|d| d.labels().get("app").map(String::as_str) == Some("cluster-autoscaler"))
        .or_else(|| {
            deployments
                .iter()
                .find(|d| d.name_any().contains("cluster-autoscaler"))
        });
    if let Some(d) = found {
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        let healthy = replicas > 0 && ready == replicas;
        return Detection {
            kind: AutoscalerType::ClusterAutoscaler,
            detected: true,
            healthy,
            message: if healthy {
                "Cluster Autoscaler running".into()
            } else {
                "Cluster Autoscaler detected but status is stale or unhealthy".into()
            },
            node_group_count: Some(0),
            scaling_up: false,
            last_activity: None,
        };
    }
    Detection {
        kind: AutoscalerType::None,
        detected: false,
        healthy: false,
        message: if aks {
            "No autoscaler detected. Enable AKS node pool autoscaling to automatically scale your cluster.".into()
        } else {
            "No autoscaler detected. Install Kubernetes Cluster Autoscaler to automatically scale your cluster.".into()
        },
        node_group_count: None,
        scaling_up: false,
        last_activity: None,
    }
}

/// The answer when the cluster could not be asked, saying why.
pub fn unknown(reason: &str) -> Detection {
    Detection {
        kind: AutoscalerType::Unknown,
        detected: false,
        healthy: false,
        message: format!("Unable to determine autoscaler status: {reason}"),
        node_group_count: None,
        scaling_up: false,
        last_activity: None,
    }
}
