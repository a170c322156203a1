//! Providers register their InferenceProviderConfig at start and heartbeat it (controller.md
//! §5.2, with §13.19 fixed): server-side apply with the provider's own field manager, so fields
//! others set are kept and an unchanged spec causes no write; a provider whose upstream CRD is
//! missing reports `ready: false` with a condition saying so.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource};
use kubeairunway_api::InferenceProviderConfig;
use kubeairunway_api::labels::{MANAGED_BY, MANAGED_BY_VALUE};
use serde_json::json;

use crate::conditions::{self, Want};
use crate::provider_controller::field_manager;
use crate::providers::Provider;
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

/// Writes the provider's liveness: `ready` (false when stopping or when its upstream CRD is
/// missing), version, heartbeat time and the upstream CRD condition.
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
    let current_conditions = current
        .as_ref()
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.conditions.clone());
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
                .is_some();
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
                            "CRD {} ({} {}) is not installed; install the provider's operator",
                            u.crd_name(),
                            u.api_version(),
                            u.kind
                        ),
                    ),
                )
            }
        }
    };
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
