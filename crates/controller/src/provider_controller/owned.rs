//! The objects a deployment owns, read from the caches where the controller watches their kind
//! and listed otherwise, and their deletion: every pass prunes the ones no longer desired, and
//! clean-up deletes them all.

use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PropagationPolicy};
use kube::core::ApiResource;
use kube::runtime::reflector::Store;
use kubeairunway_api::ModelDeployment;
use kubeairunway_api::labels::DEPLOYMENT;
use kubeairunway_core::step::{Owned, owned_by};

use super::LiveObjects;

/// An object the deployment owns.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its kind.
    pub resource: ApiResource,
    /// Its name.
    pub name: String,
    /// It is being deleted already.
    pub deleting: bool,
}

impl Found {
    /// Its key, to compare with desired objects.
    pub fn key(&self) -> Owned {
        Owned {
            api_version: self.resource.api_version.clone(),
            kind: self.resource.kind.clone(),
            name: self.name.clone(),
        }
    }
}

/// A kind whose objects could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("listing {plural}: {source}")]
pub struct ListFailed {
    /// The kind's plural name.
    pub plural: String,
    /// Cause.
    pub source: kube::Error,
}

/// The objects of `kinds` in the deployment's namespace that carry its label and name it as
/// owner. Kinds whose CRD is not installed have none. With `cached`, kinds the controller
/// watches are read from its caches (no request).
pub async fn list(
    client: &kube::Client,
    live: &LiveObjects,
    md: &ModelDeployment,
    kinds: &[ApiResource],
    cached: bool,
) -> Result<Vec<Found>, ListFailed> {
    let name = md.name_any();
    let ns = md.namespace().unwrap_or_default();
    let uid = md.uid().unwrap_or_default();
    let mut out = Vec::new();
    for ar in kinds {
        if cached && let Some(found) = live.owned(ar, &ns, &name, &uid) {
            out.extend(found);
            continue;
        }
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
        let list = match api
            .list_metadata(&ListParams::default().labels(&format!("{DEPLOYMENT}={name}")))
            .await
        {
            Ok(list) => list,
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(source) => {
                return Err(ListFailed {
                    plural: ar.plural.clone(),
                    source,
                });
            }
        };
        out.extend(
            list.items
                .into_iter()
                .filter(|o| owned_by(o.owner_references(), &uid))
                .map(|o| Found {
                    resource: ar.clone(),
                    name: o.name_any(),
                    deleting: o.metadata.deletion_timestamp.is_some(),
                }),
        );
    }
    Ok(out)
}

/// Deletes an owned object (its dependents in the background). Gone already, or refused: the
/// next pass sees it again.
pub async fn delete(
    client: &kube::Client,
    md: &ModelDeployment,
    found: &Found,
) -> Result<(), kube::Error> {
    let ns = md.namespace().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &found.resource);
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    match api.delete(&found.name, &dp).await {
        Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

impl LiveObjects {
    /// The owned objects of `ar` from the caches, or `None` when the kind is not cached.
    fn owned(&self, ar: &ApiResource, ns: &str, name: &str, uid: &str) -> Option<Vec<Found>> {
        match (ar.api_version.as_str(), ar.kind.as_str()) {
            ("apps/v1", "Deployment") => Some(of(&self.deployments, ar, ns, name, uid)),
            ("v1", "Service") => Some(of(&self.services, ar, ns, name, uid)),
            _ => None,
        }
    }
}

fn of<K>(store: &Store<K>, ar: &ApiResource, ns: &str, name: &str, uid: &str) -> Vec<Found>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store
        .state()
        .iter()
        .filter(|o| {
            o.namespace().as_deref() == Some(ns)
                && o.labels().get(DEPLOYMENT).map(String::as_str) == Some(name)
                && owned_by(o.owner_references(), uid)
        })
        .map(|o| Found {
            resource: ar.clone(),
            name: o.name_any(),
            deleting: o.meta().deletion_timestamp.is_some(),
        })
        .collect()
}
