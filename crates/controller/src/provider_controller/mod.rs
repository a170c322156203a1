//! The shared reconcile loop of every provider, as decide-then-act: [`kubeairunway_core::step`]
//! decides what to apply and what the outcome means; this module adds the finalizer, applies
//! the objects, prunes owned objects no longer desired, writes the status once, and on deletion
//! cleans up in a way that always finishes (docs/contract/controller.md §5 with the §13 defects
//! fixed).
//!
//! One controller serves every enabled provider: a pass looks up the provider named in
//! `status.provider.name` (or whose finalizer the object carries) and runs it. Each provider
//! writes with its own field manager, `kubeairunway-provider-<name>`.

mod apply;
mod owned;
pub mod progress;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_api::labels::DEPLOYMENT;
use kubeairunway_core::decide::is_paused;
use kubeairunway_core::providers::{Provider, Registry, field_manager, finalizer};
use kubeairunway_core::step::{self, Applied, Plan, Report, Requeue};
use kubeairunway_core::{Notice, conditions};
use serde_json::{Value, json};

use crate::context::Context;
use crate::{Error, Result, crd};

pub use apply::APPLIED_HASH;

/// Caches of the objects the providers read, so a pass makes no read calls for them.
pub struct LiveObjects {
    /// Pods labelled with a deployment name.
    pub pods: Store<Pod>,
    /// Deployments labelled with a deployment name (the built-in provider's).
    pub deployments: Store<Deployment>,
    /// Services labelled with a deployment name (the built-in provider's).
    pub services: Store<Service>,
}

impl LiveObjects {
    /// The cached object a desired object corresponds to, as JSON, for built-in kinds.
    fn get(&self, desired: &Value) -> Option<Value> {
        let name = desired["metadata"]["name"].as_str()?;
        let ns = desired["metadata"]["namespace"].as_str()?;
        match desired["kind"].as_str()? {
            "Deployment" => self
                .deployments
                .get(&ObjectRef::new(name).within(ns))
                .and_then(|d| serde_json::to_value(&*d).ok()),
            "Service" => self
                .services
                .get(&ObjectRef::new(name).within(ns))
                .and_then(|s| serde_json::to_value(&*s).ok()),
            _ => None,
        }
    }

    /// The pods of a deployment.
    fn pods_of(&self, ns: &str, name: &str) -> Vec<Pod> {
        self.pods
            .state()
            .iter()
            .filter(|p| {
                p.namespace().as_deref() == Some(ns)
                    && p.labels().get(DEPLOYMENT).map(String::as_str) == Some(name)
            })
            .map(|p| (**p).clone())
            .collect()
    }
}

/// State of the provider controller.
pub struct ProviderContext {
    /// Shared controller state.
    pub ctx: Arc<Context>,
    /// Enabled providers.
    pub registry: Registry,
    /// Cached objects.
    pub live: LiveObjects,
}

/// One pass of the provider side for a deployment.
pub async fn reconcile(md: Arc<ModelDeployment>, pc: Arc<ProviderContext>) -> Result<Action> {
    let ctx = &pc.ctx;
    let selected = md
        .status
        .as_ref()
        .and_then(|s| s.provider.as_ref())
        .and_then(|p| p.name.clone());
    // Clean up for any enabled provider whose finalizer is on the object but which is no longer
    // (or never was) the selected one, or when the object is being deleted.
    for provider in pc.registry.all() {
        let holds = md.finalizers().contains(&finalizer(provider.name()));
        let deleting = md.meta().deletion_timestamp.is_some();
        if holds && (deleting || selected.as_deref() != Some(provider.name())) {
            let _timer = ctx.metrics.reconcile_timer(provider.name());
            return cleanup(&md, provider.as_ref(), ctx, &pc.live).await;
        }
    }
    let Some(provider) = selected.as_deref().and_then(|name| pc.registry.get(name)) else {
        return Ok(Action::await_change());
    };
    if md.meta().deletion_timestamp.is_some() || is_paused(&md) {
        return Ok(Action::await_change());
    }
    let _timer = ctx.metrics.reconcile_timer(provider.name());
    pass(&md, provider.as_ref(), ctx, &pc.live).await
}

/// Decide, apply, prune, report.
async fn pass(
    md: &ModelDeployment,
    provider: &dyn Provider,
    ctx: &Context,
    live: &LiveObjects,
) -> Result<Action> {
    let fin = finalizer(provider.name());
    if !md.finalizers().contains(&fin) {
        let mut finalizers = md.finalizers().to_vec();
        finalizers.push(fin);
        set_finalizers(md, finalizers, ctx).await?;
    }
    let upstream_installed = match provider.upstream_for(md) {
        Some(upstream) => crd::installed(ctx, &upstream.crd_name()).await?,
        None => true,
    };
    let mut pods = None;
    let report = match step::plan(md, provider, upstream_installed) {
        Plan::Wait => return Ok(Action::await_change()),
        Plan::Stop { wants, next } => Report::stopped(wants, next),
        Plan::Apply { objects, wants } => {
            let applied = apply_all(md, provider, ctx, live, &objects).await;
            if applied.is_ok() {
                prune(md, provider, ctx, live, &objects).await;
            }
            let pods =
                &*pods.insert(live.pods_of(&md.namespace().unwrap_or_default(), &md.name_any()));
            let outcome = match &applied {
                Ok(primary) => Applied::Ok { primary, pods },
                Err((kind, e)) => Applied::Failed {
                    kind,
                    conflict: matches!(e, kube::Error::Api(s) if s.code == 409),
                    message: &describe(e),
                },
            };
            step::report(md, provider, &objects, wants, outcome)
        }
    };
    write_status(md, provider, &report, ctx).await?;
    // The timeline only means something once the provider's objects are applied.
    let recheck = match &pods {
        Some(pods) => progress::update(md, pods, ctx).await?,
        None => None,
    };
    let next = match report.next {
        Requeue::AwaitChange => None,
        Requeue::Resync => Some(ctx.settings.resync),
        Requeue::Slow => Some(ctx.settings.resync * 10),
    };
    // Look again just after a phase under way would cross its stall threshold.
    let recheck = recheck.map(|d| d + Duration::from_millis(500));
    Ok(match (next, recheck) {
        (Some(a), Some(b)) => Action::requeue(a.min(b)),
        (Some(d), None) | (None, Some(d)) => Action::requeue(d),
        (None, None) => Action::await_change(),
    })
}

/// Applies every object in order and returns the first (primary) one as stored, or the kind
/// that failed and why.
async fn apply_all(
    md: &ModelDeployment,
    provider: &dyn Provider,
    ctx: &Context,
    live: &LiveObjects,
    objects: &[Value],
) -> std::result::Result<Value, (String, kube::Error)> {
    let manager = field_manager(provider.name());
    let mut primary = None;
    for object in objects {
        match apply::apply_object(&ctx.client, object, &manager, live).await {
            Ok(stored) => {
                primary.get_or_insert(stored);
            }
            Err(e) => {
                let kind = object["kind"].as_str().unwrap_or("object").to_string();
                tracing::debug!(deployment = %md.name_any(), %kind, error = %e, "apply refused");
                return Err((kind, e));
            }
        }
    }
    Ok(primary.unwrap_or(Value::Null))
}

/// Deletes the objects of the provider's kinds this deployment owns but no longer wants (a
/// renamed object, a kind this spec no longer renders). A failure is logged and retried on the
/// next pass; it never blocks the status.
async fn prune(
    md: &ModelDeployment,
    provider: &dyn Provider,
    ctx: &Context,
    live: &LiveObjects,
    desired: &[Value],
) {
    let found = match owned::list(&ctx.client, live, md, &provider.kinds(), true).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(deployment = %md.name_any(), error = %e, "cannot look for objects to prune");
            return;
        }
    };
    let keys: Vec<_> = found.iter().map(owned::Found::key).collect();
    for orphan in step::orphans(desired, &keys) {
        let Some(object) = found.iter().find(|f| f.key() == orphan && !f.deleting) else {
            continue;
        };
        match owned::delete(&ctx.client, md, object).await {
            Ok(()) => {
                tracing::info!(deployment = %md.name_any(), kind = %orphan.kind, name = %orphan.name, "pruned an object no longer desired");
                ctx.emit(
                    md,
                    Notice::normal(
                        "Pruned",
                        format!("Deleted {} {}: no longer desired", orphan.kind, orphan.name),
                        "Reconcile",
                    ),
                );
            }
            Err(e) => {
                tracing::warn!(deployment = %md.name_any(), kind = %orphan.kind, name = %orphan.name, error = %e, "pruning failed");
            }
        }
    }
}

/// Removes the provider's objects, then its finalizer. A deletion always finishes: objects of a
/// kind whose CRD is gone cannot exist, and after the finalizer timeout the finalizer is removed
/// even if objects are stuck (with a Warning event).
async fn cleanup(
    md: &ModelDeployment,
    provider: &dyn Provider,
    ctx: &Context,
    live: &LiveObjects,
) -> Result<Action> {
    let found = match owned::list(&ctx.client, live, md, &provider.kinds(), false).await {
        Ok(found) => found,
        Err(_) if past_timeout(md, ctx) => Vec::new(),
        Err(e) => {
            return Err(Error::Kube {
                what: format!("{e} of {}", md.name_any()),
                source: e.source,
            });
        }
    };
    for object in found.iter().filter(|f| !f.deleting) {
        owned::delete(&ctx.client, md, object)
            .await
            .map_err(|source| Error::Kube {
                what: format!("deleting {} {}", object.resource.kind, object.name),
                source,
            })?;
    }
    let remaining = found.len();
    if remaining > 0 && !past_timeout(md, ctx) {
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    if remaining > 0 {
        let note = format!(
            "{remaining} {} object(s) were still being deleted after {:?}; removing the finalizer anyway",
            provider.name(),
            ctx.settings.finalizer_timeout
        );
        ctx.emit(md, Notice::warning("FinalizerTimeout", note, "Cleanup"));
    }
    let fin = finalizer(provider.name());
    let finalizers: Vec<String> = md
        .finalizers()
        .iter()
        .filter(|f| **f != fin)
        .cloned()
        .collect();
    set_finalizers(md, finalizers, ctx).await?;
    ctx.forget(&md.uid().unwrap_or_default());
    Ok(Action::await_change())
}

fn past_timeout(md: &ModelDeployment, ctx: &Context) -> bool {
    let Some(since) = &md.meta().deletion_timestamp else {
        return false;
    };
    let elapsed = Timestamp::now().duration_since(since.0);
    elapsed.as_secs_f64() > ctx.settings.finalizer_timeout.as_secs_f64()
}

/// Sets the finalizer list with a merge patch guarded by the resourceVersion (never a full
/// update, which would re-default zero values; docs/contract/controller.md §13.9).
async fn set_finalizers(
    md: &ModelDeployment,
    finalizers: Vec<String>,
    ctx: &Context,
) -> Result<()> {
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    let patch = json!({ "metadata": { "finalizers": finalizers, "resourceVersion": md.resource_version() } });
    match api
        .patch(
            &md.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Gone already, or changed meanwhile: the watch brings the new version.
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(source) => Err(Error::Kube {
            what: format!("updating the finalizers of {}", md.name_any()),
            source,
        }),
    }
}

/// Writes the pass's status once, unless the stored status or our own last write already says
/// it, and publishes the Events of the conditions that changed.
async fn write_status(
    md: &ModelDeployment,
    provider: &dyn Provider,
    report: &Report,
    ctx: &Context,
) -> Result<()> {
    let Some((body, wanted)) = step::status_patch(md, report, Timestamp::now()) else {
        return Ok(());
    };
    let uid = md.uid().unwrap_or_default();
    let fingerprint = conditions::fingerprint(&body);
    if ctx.already_written(&uid, provider.name(), fingerprint) {
        return Ok(());
    }
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    api.patch_status(
        &md.name_any(),
        &PatchParams::apply(&field_manager(provider.name())).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::Kube {
        what: format!("writing the provider status of {}", md.name_any()),
        source,
    })?;
    ctx.record_written(&uid, provider.name(), fingerprint);
    ctx.metrics.status_write(provider.name());
    let before = md.status.as_ref().and_then(|s| s.conditions.as_ref());
    for notice in step::notices(before, &wanted) {
        ctx.emit(md, notice);
    }
    Ok(())
}

/// A readable message of a Kubernetes error (its status message, not the debug form).
fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}
