//! The core's reconcile pass: read the registered providers from the cache, let
//! [`kubeairunway_core::decide`] choose engine and provider, and write the status patch the
//! decision returns with the core's field manager [`FIELD_MANAGER`].

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment};
use kubeairunway_core::decide::{self, Decision};

use crate::context::Context;
use crate::{Error, Result};

/// Field manager of the core's status writes.
pub const FIELD_MANAGER: &str = "kubeairunway-core";
/// How often a deployment that waits for a provider is looked at again (providers registering
/// or recovering also trigger it at once through the InferenceProviderConfig watch).
pub const WAITING_RECHECK: Duration = Duration::from_secs(30);

/// One pass of the core for a deployment.
pub async fn reconcile(md: Arc<ModelDeployment>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_timer("core");
    if decide::is_paused(&md) {
        return Ok(Action::await_change());
    }
    let providers: Vec<InferenceProviderConfig> = ctx
        .providers
        .state()
        .iter()
        .map(|p| (**p).clone())
        .collect();
    let now = Timestamp::now();
    let decision = decide::decide(&md, &providers, &ctx.rules, now);
    for e in &decision.rule_errors {
        tracing::warn!(deployment = %md.name_any(), "selection rule failed and counts as no match: {e}");
    }
    write_status(&md, &decision, &ctx, now).await?;
    if decision.waiting {
        Ok(Action::requeue(WAITING_RECHECK))
    } else {
        Ok(Action::await_change())
    }
}

/// Writes the decision's status patch, unless the stored status or our own last write already
/// says it, and publishes the Events of the conditions that changed.
async fn write_status(
    md: &ModelDeployment,
    decision: &Decision,
    ctx: &Context,
    now: Timestamp,
) -> Result<()> {
    let Some(patch) = decision.status_patch(md, now) else {
        return Ok(());
    };
    let uid = md.uid().unwrap_or_default();
    let fingerprint = kubeairunway_core::conditions::fingerprint(&patch);
    if ctx.already_written(&uid, FIELD_MANAGER, fingerprint) {
        return Ok(());
    }
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    let yields = decision.yields_to_provider();
    let params = if yields {
        PatchParams::apply(FIELD_MANAGER)
    } else {
        PatchParams::apply(FIELD_MANAGER).force()
    };
    match api
        .patch_status(&md.name_any(), &params, &Patch::Apply(&patch))
        .await
    {
        Ok(_) => {}
        // The provider has reported since our cache was read: its phase stands.
        Err(kube::Error::Api(s)) if yields && s.code == 409 => return Ok(()),
        Err(source) => {
            return Err(Error::Kube {
                what: format!("writing the status of {}", md.name_any()),
                source,
            });
        }
    }
    ctx.record_written(&uid, FIELD_MANAGER, fingerprint);
    ctx.metrics.status_write("core");
    let before = md.status.as_ref().and_then(|s| s.conditions.as_ref());
    for notice in Decision::notices(before, &decision.conditions(md, now)) {
        ctx.emit(md, notice);
    }
    Ok(())
}
