//! The cluster autoscaler without I/O (docs/contract/api.md §9): the
//! `kube-system/cluster-autoscaler-status` ConfigMap read in both formats the Cluster Autoscaler
//! has written ([`status`]: the YAML of releases since 1.30 and the older plain text), and which
//! autoscaler a cluster has ([`detect`]) from its nodes, that status and the Deployments in
//! `kube-system`.

pub mod detect;
pub mod status;

pub use detect::{AutoscalerType, Detection, detect, is_aks, unknown};
pub use status::{Activity, AutoscalerStatus, NodeGroup, StatusError, StatusFormat, parse_status};

#[cfg(test)]
mod tests;
