//! What list requests need from the caches, prepared once per cache generation instead of once
//! per request: every deployment sorted newest first and the pods grouped by deployment. A page
//! then costs a slice and a few map lookups, however many deployments and pods are cached. The
//! deployment routes own the one [`Derived`] slot that keeps it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::ModelDeployment;

use super::status;
use crate::auth::Visible;
use crate::cache::{Caches, Derived};
use crate::encoded::EncodedJson;
use crate::pods;

/// Pages kept per generation; a caller with an unusual view or paging evicts the rest, which
/// only costs the next request an encoding.
const MAX_PAGES: usize = 64;

/// What a list page depends on besides the generation: the same key gives the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    /// The `namespace` filter.
    pub namespace: Option<String>,
    /// Namespaces whose deployments the caller may list.
    pub deployments: Visible,
    /// Namespaces (of the page) whose pods the caller may list.
    pub pods: Visible,
    /// `limit` and `offset` as asked.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// Deployments and their pods as of one cache generation.
pub(crate) struct ListIndex {
    /// Every cached deployment, newest first ([`status::newest_first`]).
    pub deployments: Vec<Arc<ModelDeployment>>,
    /// namespace → deployment name → pods, each list sorted by pod name.
    pods: HashMap<String, HashMap<String, Vec<Arc<Pod>>>>,
    /// Each distinct namespace of `deployments`, the candidates of a visibility check.
    pub namespaces: Vec<String>,
    /// Encoded pages of this generation.
    pages: Mutex<HashMap<PageKey, Arc<EncodedJson>>>,
}

impl ListIndex {
    /// The pods of `namespace/name` (empty when it has none).
    pub fn pods_of(&self, namespace: &str, name: &str) -> &[Arc<Pod>] {
        self.pods
            .get(namespace)
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }

    /// The page for `key`, encoded by `encode` unless this generation already has it.
    pub fn page(
        &self,
        key: &PageKey,
        encode: impl FnOnce() -> Result<EncodedJson, serde_json::Error>,
    ) -> Result<Arc<EncodedJson>, serde_json::Error> {
        if let Some(page) = self.pages.lock().ok().and_then(|p| p.get(key).cloned()) {
            return Ok(page);
        }
        // Encoded outside the lock: concurrent first requests may each encode, which is cheaper
        // than making every other page wait.
        let page = Arc::new(encode()?);
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
            pages.insert(key.clone(), page.clone());
        }
        Ok(page)
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
    let mut namespaces: Vec<String> = deployments
        .iter()
        .filter_map(|md| md.metadata.namespace.clone())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    ListIndex {
        deployments,
        pods: grouped,
        namespaces,
        pages: Mutex::default(),
    }
}
