//! What list requests need from the caches, prepared once per cache generation instead of once
//! per request: every deployment sorted newest first and the pods grouped by deployment. A page
//! then costs a slice and a few map lookups, however many deployments and pods are cached.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::ModelDeployment;

use super::status;
use crate::cache::Caches;
use crate::pods;

/// Deployments and their pods as of one cache generation.
pub(crate) struct ListIndex {
    generation: u64,
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

/// The index for the caches' current generation, built now if the last one is outdated.
pub(crate) fn current(caches: &Caches) -> Arc<ListIndex> {
    // The generation is read before the stores, so an index is never labelled newer than the
    // data it was built from.
    let generation = caches.generation();
    if let Ok(slot) = caches.list_index.lock()
        && let Some(index) = slot.as_ref()
        && index.generation == generation
    {
        return index.clone();
    }
    let mut deployments = caches.deployments.state();
    deployments.sort_unstable_by(|a, b| status::newest_first(a, b));
    let mut grouped: HashMap<String, HashMap<String, Vec<Arc<Pod>>>> = HashMap::new();
    for ((namespace, name), list) in pods::group_by_deployment(&caches.pods.state()) {
        grouped.entry(namespace).or_default().insert(name, list);
    }
    let index = Arc::new(ListIndex {
        generation,
        deployments,
        pods: grouped,
    });
    if let Ok(mut slot) = caches.list_index.lock() {
        // Keep the newest: a slower request must not replace a fresher index.
        if slot.as_ref().is_none_or(|old| old.generation <= generation) {
            *slot = Some(index.clone());
        }
    }
    index
}
