//! What list requests need from the caches, prepared once per cache generation instead of once
//! per request: every deployment sorted newest first and the pods grouped by deployment. A page
//! then costs a slice and a few map lookups, however many deployments and pods are cached. The
//! deployment routes own the one [`Derived`] slot that keeps it.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::ModelDeployment;

use super::status;
use crate::cache::{Caches, Derived};
use crate::pods;

/// Deployments and their pods as of one cache generation.
pub(crate) struct ListIndex {
    /// Every cached deployment, newest first ([`status::newest_first`]).
    pub deployments: Vec<Arc<ModelDeployment>>,
    /// namespace → deployment name → pods, each list sorted by pod name.
    pods: HashMap<String, HashMap<String, Vec<Arc<Pod>>>>,
}

impl ListIndex {
    /// The pods of `namespace/name` (empty when it has none).
    pub fn pods_of(&self, namespace: &str, name: &str) -> &[Arc<Pod>] {
        self.pods
            .get(namespace)
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }
}

/// The index for the caches' current generation, built now if the one kept in `slot` is
/// outdated.
pub(crate) fn current(slot: &Derived<ListIndex>, caches: &Caches) -> Arc<ListIndex> {
    slot.get(caches, build)
}

fn build(caches: &Caches) -> ListIndex {
    let mut deployments = caches.deployments.state();
    deployments.sort_unstable_by(|a, b| status::newest_first(a, b));
    let mut grouped: HashMap<String, HashMap<String, Vec<Arc<Pod>>>> = HashMap::new();
    for ((namespace, name), list) in pods::group_by_deployment(&caches.pods.state()) {
        grouped.entry(namespace).or_default().insert(name, list);
    }
    ListIndex {
        deployments,
        pods: grouped,
    }
}
