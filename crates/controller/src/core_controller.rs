//! The core's reconcile pass: read the registered providers from the cache, let
//! [`kubeairunway_core::decide`] choose engine and provider, and write the status patch the
//! decision returns with the core's field manager [`FIELD_MANAGER`]; then report, with its own
//! field manager [`GATEWAY_FIELD_MANAGER`], whether the Gateway API Inference Extension is
//! there for the deployment ([`kubeairunway_core::gateway`]).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment};
use kubeairunway_core::decide::{self, Decision};
use kubeairunway_core::gateway;

use crate::context::Context;
use crate::{Error, Result, crd};

/// Field manager of the core's status writes.
pub const FIELD_MANAGER: &str = "kubeairunway-core";
/// Field manager of the `GatewayReady` condition.
pub const GATEWAY_FIELD_MANAGER: &str = "kubeairunway-gateway";
/// How often a deployment whose `spec.gateway` waits for the CRDs is looked at again (their
/// installation triggers nothing else).
pub const GATEWAY_RECHECK: Duration = Duration::from_secs(60);
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
    let gateway_waits = write_gateway_status(&md, &ctx, now).await?;
    if decision.waiting {
        Ok(Action::requeue(WAITING_RECHECK))
    } else if gateway_waits {
        Ok(Action::requeue(GATEWAY_RECHECK))
    } else {
        Ok(Action::await_change())
    }
}

/// Writes the `GatewayReady` condition `kubeairunway_core::gateway` decides for the CRDs the
/// cluster has; true while `spec.gateway` asks for CRDs that are missing.
async fn write_gateway_status(md: &ModelDeployment, ctx: &Context, now: Timestamp) -> Result<bool> {
    if md.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let mut missing = Vec::new();
    for name in gateway::REQUIRED_CRDS {
        match crd::installed(ctx, name).await {
            Ok(true) => {}
            Ok(false) => missing.push(name),
            // Unknown is not "missing": say nothing rather than something false, and never
            // hold up the core's own pass for it.
            Err(e) => {
                tracing::warn!(deployment = %md.name_any(), error = %e, "cannot tell whether the Gateway API is installed");
                return Ok(false);
            }
        }
    }
    let want = gateway::want(md, &missing);
    let waits = md
        .spec
        .gateway
        .as_ref()
        .is_some_and(|g| g.enabled != Some(false))
        && !missing.is_empty();
    let Some(patch) = gateway::status_patch(md, want.as_ref(), now) else {
        return Ok(waits);
    };
    let uid = md.uid().unwrap_or_default();
    let fingerprint = kubeairunway_core::conditions::fingerprint(&patch);
    if ctx.already_written(&uid, GATEWAY_FIELD_MANAGER, fingerprint) {
        return Ok(waits);
    }
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    match api
        .patch_status(
            &md.name_any(),
            &PatchParams::apply(GATEWAY_FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
        Err(source) => {
            return Err(Error::Kube {
                what: format!("writing the gateway status of {}", md.name_any()),
                source,
            });
        }
    }
    ctx.record_written(&uid, GATEWAY_FIELD_MANAGER, fingerprint);
    ctx.metrics.status_write("gateway");
    Ok(waits)
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
