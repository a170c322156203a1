//! Providers register their InferenceProviderConfig at start and heartbeat it
//! (docs/contract/controller.md §5.2, with §13.19 fixed): server-side apply with the provider's own
//! field manager, so fields others set are kept and an unchanged spec causes no write; a provider
//! whose upstream CRD is missing reports `ready: false` with a condition saying so.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use kubeairunway_api::InferenceProviderConfig;
use kubeairunway_api::labels::{MANAGED_BY, MANAGED_BY_VALUE};
use serde_json::json;

use kubeairunway_core::conditions::{self, Want};
use kubeairunway_core::providers::{Provider, Registry, field_manager};

use crate::crd::is_established;
use crate::{Error, Result};

/// Condition type on an InferenceProviderConfig saying whether the upstream CRD exists.
pub const UPSTREAM_CRD_INSTALLED: &str = "UpstreamCRDInstalled";

/// Applies the provider's InferenceProviderConfig spec.
pub async fn register(client: &Client, provider: &dyn Provider) -> Result<()> {
    let api: Api<InferenceProviderConfig> = Api::all(client.clone());
    let body = json!({
        "apiVersion": InferenceProviderConfig::api_version(&()),
        "kind": InferenceProviderConfig::kind(&()),
        "metadata": { "name": provider.name(), "labels": { MANAGED_BY: MANAGED_BY_VALUE } },
        "spec": provider.registration(),
    });
    api.patch(
        provider.name(),
        &PatchParams::apply(&field_manager(provider.name())).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::Kube {
        what: format!("registering provider {}", provider.name()),
        source,
    })?;
    Ok(())
}

/// Heartbeats a provider as soon as its upstream CRD appears, becomes Established or goes, so
/// `ready` follows an operator's installation within a second rather than a heartbeat period.
/// Runs until dropped; a failed watch is retried with back-off.
pub async fn follow_upstream_crds(client: &Client, registry: &Registry) {
    let providers: BTreeMap<String, _> = registry
        .all()
        .filter_map(|p| p.upstream().map(|u| (u.crd_name(), p.clone())))
        .collect();
    if providers.is_empty() {
        return std::future::pending().await;
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut events = std::pin::pin!(watcher(crds, watcher::Config::default()).default_backoff());
    // The last state seen of each upstream CRD (present ⇒ Established or not), and the names a
    // re-list has shown so far, to notice deletions missed while the watch was down.
    let mut known: BTreeMap<String, bool> = BTreeMap::new();
    let mut relisted: BTreeSet<String> = BTreeSet::new();
    while let Some(event) = events.next().await {
        let mut changed = Vec::new();
        match event {
            Ok(watcher::Event::Apply(crd) | watcher::Event::InitApply(crd)) => {
                let name = crd.name_any();
                if providers.contains_key(&name) {
                    relisted.insert(name.clone());
                    let established = is_established(&crd);
                    if known.insert(name.clone(), established) != Some(established) {
                        changed.push(name);
                    }
                }
            }
            Ok(watcher::Event::Delete(crd)) => {
                let name = crd.name_any();
                if known.remove(&name).is_some() {
                    changed.push(name);
                }
            }
            Ok(watcher::Event::Init) => relisted.clear(),
            Ok(watcher::Event::InitDone) => {
                let gone: Vec<String> = known
                    .keys()
                    .filter(|n| !relisted.contains(*n))
                    .cloned()
                    .collect();
                for name in gone {
                    known.remove(&name);
                    changed.push(name);
                }
            }
            Err(e) => tracing::debug!(error = %e, "watching upstream CRDs"),
        }
        for name in changed {
            if let Some(provider) = providers.get(&name)
                && let Err(e) = heartbeat(client, provider.as_ref(), false).await
            {
                tracing::warn!(provider = provider.name(), error = %e, "heartbeat failed");
            }
        }
    }
}

/// Writes the provider's liveness: `ready` (false when stopping or when its upstream CRD is
/// missing or not yet Established), version, heartbeat time and the upstream CRD condition.
///
/// A registration someone removed (Settings → Runtimes → Remove CRDs deletes the CRDs, then the
/// registration) is left removed while the provider's upstream CRD is absent, and is written
/// again once that CRD is installed and Established: the operator is back, so the provider can
/// serve again. A provider without an upstream CRD stays removed until the controller restarts.
pub async fn heartbeat(client: &Client, provider: &dyn Provider, stopping: bool) -> Result<()> {
    let api: Api<InferenceProviderConfig> = Api::all(client.clone());
    let now = Timestamp::now();
    let current = api
        .get_opt(provider.name())
        .await
        .map_err(|source| Error::Kube {
            what: format!("reading provider {}", provider.name()),
            source,
        })?;
    let (crd_ok, want) = match provider.upstream() {
        None => (
            true,
            Want::yes(
                UPSTREAM_CRD_INSTALLED,
                "BuiltIn",
                "Uses built-in Kubernetes resources",
            ),
        ),
        Some(u) => {
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            let found = crds
                .get_opt(&u.crd_name())
                .await
                .map_err(|source| Error::Kube {
                    what: format!("looking up CRD {}", u.crd_name()),
                    source,
                })?
                .is_some_and(|crd| is_established(&crd));
            if found {
                (
                    true,
                    Want::yes(
                        UPSTREAM_CRD_INSTALLED,
                        "Found",
                        format!("CRD {} is installed", u.crd_name()),
                    ),
                )
            } else {
                (
                    false,
                    Want::no(
                        UPSTREAM_CRD_INSTALLED,
                        "NotFound",
                        format!(
                            "CRD {} ({} {}) is not installed (or not yet Established); install the provider's operator",
                            u.crd_name(),
                            u.api_version(),
                            u.kind
                        ),
                    ),
                )
            }
        }
    };
    if current.is_none() {
        if stopping || !crd_ok || provider.upstream().is_none() {
            tracing::debug!(
                provider = provider.name(),
                "not registered (its registration was removed); not heartbeating"
            );
            return Ok(());
        }
        register(client, provider).await?;
        tracing::info!(
            provider = provider.name(),
            "registered again: its registration had been removed and its upstream CRD is installed"
        );
    }
    let current_conditions = current.and_then(|c| c.status).and_then(|s| s.conditions);
    let conds = conditions::build(current_conditions.as_ref(), &[want], None, now);
    let body = json!({
        "apiVersion": InferenceProviderConfig::api_version(&()),
        "kind": InferenceProviderConfig::kind(&()),
        "metadata": { "name": provider.name() },
        "status": {
            "ready": crd_ok && !stopping,
            "version": provider.version(),
            "lastHeartbeat": now,
            "upstreamCRDVersion": provider.upstream().map_or_else(|| "v1".to_string(), |u| u.api_version()),
            "conditions": conds,
        },
    });
    api.patch_status(
        provider.name(),
        &PatchParams::apply(&field_manager(provider.name())).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::Kube {
        what: format!("heartbeating provider {}", provider.name()),
        source,
    })?;
    Ok(())
}
