//! Is a provider's upstream CRD there? Registration, heartbeats and every provider pass ask.

use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::runtime::wait::Condition;

use crate::context::Context;
use crate::{Error, Result};

/// How long an answer of [`installed`] is reused.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// Whether a CRD serves its kind: the API server has Established it (a CRD just created is not
/// yet, and objects of its kind cannot be created until it is) and it is not being deleted (a
/// terminating CRD stays Established while it refuses new objects).
pub fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.metadata.deletion_timestamp.is_none()
        && kube::runtime::wait::conditions::is_crd_established().matches_object(Some(crd))
}

/// Whether the CRD `name` is installed and Established. Answers are reused for a few seconds,
/// so a burst of passes for one provider costs one lookup, not one per deployment.
pub async fn installed(ctx: &Context, name: &str) -> Result<bool> {
    if let Ok(cache) = ctx.crd_presence.lock()
        && let Some((present, at)) = cache.get(name)
        && at.elapsed() < FRESH_FOR
    {
        return Ok(*present);
    }
    let api: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    let crd = api.get_opt(name).await.map_err(|source| Error::Kube {
        what: format!("looking up CRD {name}"),
        source,
    })?;
    let present = crd.as_ref().is_some_and(is_established);
    if let Ok(mut cache) = ctx.crd_presence.lock() {
        cache.insert(name.to_string(), (present, Instant::now()));
    }
    Ok(present)
}
