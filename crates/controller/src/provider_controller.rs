//! The shared reconcile loop of every provider: finalizer, compatibility, server-side apply of
//! the provider's objects, status mapping, and a deletion that always finishes
//! (controller.md §5 with the §13 defects fixed).
//!
//! One controller serves every enabled provider: a pass looks up the provider named in
//! `status.provider.name` (or whose finalizer the object carries) and runs it. Each provider
//! writes with its own field manager, `kubeairunway-provider-<name>`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy,
};
use kube::core::ApiResource;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_api::labels::DEPLOYMENT;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::conditions::{self, Want, types};
use crate::context::Context;
use crate::core::is_paused;
use crate::providers::{Observed, ObservedPhase, Provider};
use crate::{Error, Result};

/// The enabled providers by name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl Registry {
    /// A registry of `providers`.
    pub fn new(providers: Vec<Arc<dyn Provider>>) -> Self {
        Self {
            providers: providers.into_iter().map(|p| (p.name(), p)).collect(),
        }
    }

    /// Every enabled provider.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// The provider named `name`, if enabled.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }
}

/// Field manager of a provider's writes.
pub fn field_manager(provider: &str) -> String {
    format!("kubeairunway-provider-{provider}")
}

/// Finalizer a provider puts on the deployments it serves.
pub fn finalizer(provider: &str) -> String {
    format!("kubeairunway.ai/{provider}-provider")
}

/// Caches of the objects the providers read, so a pass makes no read calls.
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

/// Annotation holding a hash of the last applied object, so an unchanged object is not
/// applied again.
pub const APPLIED_HASH: &str = "kubeairunway.ai/applied-hash";

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
        let fin = finalizer(provider.name());
        let holds = md.finalizers().contains(&fin);
        let deleting = md.meta().deletion_timestamp.is_some();
        if holds && (deleting || selected.as_deref() != Some(provider.name())) {
            let _timer = ctx.metrics.reconcile_timer(provider.name());
            return cleanup(&md, provider.as_ref(), ctx).await;
        }
    }
    let Some(provider) = selected.as_deref().and_then(|name| pc.registry.get(name)) else {
        return Ok(Action::await_change());
    };
    if md.meta().deletion_timestamp.is_some() || is_paused(&md) {
        return Ok(Action::await_change());
    }
    let _timer = ctx.metrics.reconcile_timer(provider.name());
    apply(&md, provider.as_ref(), ctx, &pc.live).await
}

async fn apply(
    md: &ModelDeployment,
    provider: &dyn Provider,
    ctx: &Context,
    live: &LiveObjects,
) -> Result<Action> {
    let name = md.name_any();
    let ns = md.namespace().unwrap_or_default();
    let fin = finalizer(provider.name());
    if !md.finalizers().contains(&fin) {
        let mut finalizers = md.finalizers().to_vec();
        finalizers.push(fin);
        set_finalizers(md, finalizers, ctx).await?;
    }
    let Some(engine) = crate::providers::common::resolved_engine(md) else {
        return Ok(Action::await_change());
    };
    let label = provider_label(provider);
    let mut wants = Vec::new();
    if let Err(why) = provider.check_compatible(md, engine) {
        wants.push(Want::no(
            types::PROVIDER_COMPATIBLE,
            "IncompatibleConfiguration",
            format!("{label} cannot serve this deployment: {why}"),
        ));
        write_status(md, provider, &wants, None, ctx).await?;
        return Ok(Action::await_change());
    }
    wants.push(Want::yes(
        types::PROVIDER_COMPATIBLE,
        "CompatibilityVerified",
        format!("Configuration compatible with {label}"),
    ));
    let objects = match provider.desired(md, engine) {
        Ok(objects) => objects,
        Err(e) => {
            wants.push(Want::no(
                types::RESOURCE_CREATED,
                "TransformFailed",
                format!("Failed to generate {label} resources: {e}"),
            ));
            write_status(md, provider, &wants, None, ctx).await?;
            return Ok(Action::await_change());
        }
    };
    if let Some(upstream) = provider.upstream()
        && !crd_installed(ctx, &upstream.crd_name()).await?
    {
        let message = format!(
            "The {} {} CRD ({}) is not installed in the cluster; install {label} (see the provider's installation steps) and the deployment continues",
            upstream.api_version(),
            upstream.kind,
            upstream.crd_name()
        );
        wants.push(Want::no(
            types::RESOURCE_CREATED,
            "UpstreamCRDMissing",
            message,
        ));
        write_status(md, provider, &wants, None, ctx).await?;
        return Ok(Action::requeue(ctx.settings.resync));
    }
    let manager = field_manager(provider.name());
    let mut primary: Option<Value> = None;
    for (i, object) in objects.iter().enumerate() {
        match apply_object(&ctx.client, object, &manager, live).await {
            Ok(live) => {
                if i == 0 {
                    primary = Some(live);
                }
            }
            Err(e) => {
                let kind = object["kind"].as_str().unwrap_or("object");
                let reason = if matches!(&e, kube::Error::Api(s) if s.code == 409) {
                    "ResourceConflict"
                } else {
                    "CreateFailed"
                };
                wants.push(Want::no(
                    types::RESOURCE_CREATED,
                    reason,
                    format!("Failed to create {kind}: {}", describe(&e)),
                ));
                write_status(md, provider, &wants, None, ctx).await?;
                return Ok(Action::requeue(ctx.settings.resync));
            }
        }
    }
    let kind = objects
        .first()
        .and_then(|o| o["kind"].as_str())
        .unwrap_or("Resource")
        .to_string();
    wants.push(Want::yes(
        types::RESOURCE_CREATED,
        "ResourceCreated",
        format!("{kind} created successfully"),
    ));
    let pods = live.pods_of(&ns, &name);
    let observed = provider.observe(md, primary.as_ref(), &pods);
    let ready = match observed.phase {
        ObservedPhase::Running => Want::yes(
            types::READY,
            "DeploymentReady",
            observed.message.clone().unwrap_or_else(|| "Serving".into()),
        ),
        ObservedPhase::Failed => Want::no(
            types::READY,
            "DeploymentFailed",
            observed
                .message
                .clone()
                .unwrap_or_else(|| format!("{kind} failed")),
        ),
        _ => Want::no(
            types::READY,
            "DeploymentInProgress",
            observed
                .message
                .clone()
                .unwrap_or_else(|| format!("{kind} created, waiting for pods to be ready")),
        ),
    };
    wants.push(ready);
    let resource = primary.as_ref().map(|p| {
        (
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind,
        )
    });
    write_status(md, provider, &wants, Some((&observed, resource)), ctx).await?;
    if provider.upstream().is_some() {
        Ok(Action::requeue(ctx.settings.resync))
    } else {
        Ok(Action::requeue(ctx.settings.resync * 10))
    }
}

/// Server-side applies one object with the provider's field manager and returns it as stored.
/// Only the fields we send are ours: fields defaulted by the API server or set by others never
/// make us write again, and drift in our fields is corrected by the apply.
///
/// The object carries a hash of itself; when the cached live object has the same hash and still
/// holds every field we set, nothing is sent at all.
async fn apply_object(
    client: &kube::Client,
    object: &Value,
    manager: &str,
    live: &LiveObjects,
) -> std::result::Result<Value, kube::Error> {
    let mut object = object.clone();
    let hash = format!("{:x}", Sha256::digest(object.to_string().as_bytes()));
    object["metadata"]["annotations"][APPLIED_HASH] = Value::String(hash.clone());
    if let Some(current) = live.get(&object)
        && current["metadata"]["annotations"][APPLIED_HASH].as_str() == Some(hash.as_str())
        && holds(&current, &object)
    {
        return Ok(current);
    }
    let object = &object;
    let ar = api_resource(object);
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let live = api
        .patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(object),
        )
        .await?;
    Ok(serde_json::to_value(live).unwrap_or(Value::Null))
}

/// True when `live` has every field of `want` with the same value (lists element by element;
/// an empty object or list matches an absent one).
fn holds(live: &Value, want: &Value) -> bool {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => w.iter().all(|(k, wv)| match l.get(k) {
            Some(lv) => holds(lv, wv),
            None => vacuous(wv),
        }),
        (Value::Array(l), Value::Array(w)) => {
            l.len() == w.len() && l.iter().zip(w).all(|(a, b)| holds(a, b))
        }
        (l, w) => l == w,
    }
}

/// An empty list, or an object with nothing but vacuous values: the API server drops these.
fn vacuous(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.values().all(vacuous),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn api_resource(object: &Value) -> ApiResource {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
    ApiResource::from_gvk(&gvk)
}

/// Whether an upstream CRD is installed and Established. Answers are reused for a few seconds,
/// so a burst of passes for one provider costs one lookup, not one per deployment.
async fn crd_installed(ctx: &Context, name: &str) -> Result<bool> {
    const FRESH_FOR: Duration = Duration::from_secs(5);
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
    let present = crd
        .as_ref()
        .is_some_and(crate::registration::is_established);
    if let Ok(mut cache) = ctx.crd_presence.lock() {
        cache.insert(name.to_string(), (present, std::time::Instant::now()));
    }
    Ok(present)
}

/// Removes the provider's objects, then its finalizer. A deletion always finishes: objects of a
/// kind whose CRD is gone cannot exist, and after the finalizer timeout the finalizer is removed
/// even if objects are stuck (with a Warning event).
async fn cleanup(md: &ModelDeployment, provider: &dyn Provider, ctx: &Context) -> Result<Action> {
    let name = md.name_any();
    let ns = md.namespace().unwrap_or_default();
    let uid = md.uid().unwrap_or_default();
    let mut remaining = 0;
    for ar in provider.kinds() {
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &ar);
        let list = match api
            .list(&ListParams::default().labels(&format!("{DEPLOYMENT}={name}")))
            .await
        {
            Ok(list) => list,
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(source) => {
                if past_timeout(md, ctx) {
                    continue;
                }
                return Err(Error::Kube {
                    what: format!("listing {} of {name}", ar.plural),
                    source,
                });
            }
        };
        for obj in list.items {
            let owned = obj.owner_references().iter().any(|o| o.uid == uid);
            if !owned {
                continue;
            }
            remaining += 1;
            if obj.metadata.deletion_timestamp.is_none() {
                let dp = DeleteParams {
                    propagation_policy: Some(PropagationPolicy::Background),
                    ..Default::default()
                };
                match api.delete(&obj.name_any(), &dp).await {
                    Ok(_) | Err(kube::Error::Api(_)) => {}
                    Err(source) => {
                        return Err(Error::Kube {
                            what: format!("deleting {} {}", ar.kind, obj.name_any()),
                            source,
                        });
                    }
                }
            }
        }
    }
    if remaining > 0 && !past_timeout(md, ctx) {
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    if remaining > 0 {
        let event = Event {
            type_: EventType::Warning,
            reason: "FinalizerTimeout".into(),
            note: Some(format!(
                "{remaining} {} object(s) were still being deleted after {:?}; removing the finalizer anyway",
                provider.name(),
                ctx.settings.finalizer_timeout
            )),
            action: "Cleanup".into(),
            secondary: None,
        };
        let _ = ctx.recorder.publish(&event, &md.object_ref(&())).await;
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
/// update, which would re-default zero values; controller.md §13.9).
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

async fn write_status(
    md: &ModelDeployment,
    provider: &dyn Provider,
    wants: &[Want],
    observed: Option<(&Observed, Option<(String, String)>)>,
    ctx: &Context,
) -> Result<()> {
    let status = md.status.clone().unwrap_or_default();
    let now = Timestamp::now();
    let wanted = conditions::build(
        status.conditions.as_ref(),
        wants,
        md.metadata.generation,
        now,
    );
    let (replicas, endpoint, resource) = match observed {
        Some((o, resource)) => (o.replicas.clone(), o.endpoint.clone(), resource),
        None => (None, None, None),
    };
    let current_resource = status
        .provider
        .as_ref()
        .and_then(|p| p.resource_name.clone().zip(p.resource_kind.clone()));
    // The provider's conditions decide the phase users see; the provider writes it (the core
    // only writes the phase before the provider has reported).
    let kind = resource
        .as_ref()
        .map_or_else(|| "Resource".to_string(), |(_, k)| k.clone());
    let phase = crate::core::provider_phase(Some(&wanted), md.metadata.generation, &kind);
    let unchanged = conditions::unchanged(status.conditions.as_ref(), &wanted)
        && phase.as_ref().is_none_or(|(p, m)| {
            status.phase == Some(*p) && status.message.as_deref() == Some(m.as_str())
        })
        && status.replicas == replicas
        && status.endpoint == endpoint
        && current_resource == resource;
    // Conditions this provider owns but no longer wants must go too.
    let stale = status.conditions.iter().flatten().any(|c| {
        [
            types::PROVIDER_COMPATIBLE,
            types::RESOURCE_CREATED,
            types::READY,
        ]
        .contains(&c.type_.as_str())
            && !wanted.iter().any(|w| w.type_ == c.type_)
    });
    if unchanged && !stale {
        return Ok(());
    }
    let mut body = json!({
        "apiVersion": ModelDeployment::api_version(&()),
        "kind": ModelDeployment::kind(&()),
        "metadata": { "name": md.name_any() },
        "status": { "conditions": wanted },
    });
    if let Some((phase, message)) = &phase {
        body["status"]["phase"] = json!(phase);
        body["status"]["message"] = json!(message);
    }
    if let Some((name, kind)) = &resource {
        body["status"]["provider"] = json!({ "resourceName": name, "resourceKind": kind });
    }
    if let Some(r) = &replicas {
        body["status"]["replicas"] = json!(r);
    }
    if let Some(e) = &endpoint {
        body["status"]["endpoint"] = json!(e);
    }
    let uid = md.uid().unwrap_or_default();
    let fingerprint = conditions::fingerprint(&body);
    if ctx.already_written(&uid, provider.name(), fingerprint) {
        return Ok(());
    }
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    let manager = field_manager(provider.name());
    api.patch_status(
        &md.name_any(),
        &PatchParams::apply(&manager).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::Kube {
        what: format!("writing the provider status of {}", md.name_any()),
        source,
    })?;
    ctx.record_written(&uid, provider.name(), fingerprint);
    ctx.metrics.status_write(provider.name());
    for c in &wanted {
        let old = conditions::find(status.conditions.as_ref(), &c.type_);
        if old.is_some_and(|o| o.status == c.status && o.reason == c.reason) {
            continue;
        }
        let (type_, reason) = match (c.type_.as_str(), c.status.as_str()) {
            (types::RESOURCE_CREATED, "True") => (EventType::Normal, "ResourceCreated"),
            // Readiness is in the status; events record actions and failures.
            (types::READY, _) | (types::PROVIDER_COMPATIBLE, "True") => continue,
            (_, _) => (EventType::Warning, c.reason.as_str()),
        };
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(c.message.clone()),
            action: "Reconcile".into(),
            secondary: None,
        };
        ctx.emit(event, md.object_ref(&()));
    }
    Ok(())
}

fn provider_label(provider: &dyn Provider) -> String {
    match provider.name() {
        "kaito" => "KAITO".into(),
        "dynamo" => "Dynamo".into(),
        "kuberay" => "KubeRay".into(),
        "kubernetes" => "the kubernetes provider".into(),
        other => other.to_string(),
    }
}

/// A readable message of a Kubernetes error (its status message, not the debug form).
fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::holds;
    use serde_json::json;

    #[test]
    fn holds_ignores_defaulted_fields_but_not_changed_or_missing_ones() {
        let live = json!({ "spec": { "replicas": 1, "template": { "spec": { "containers": [{ "name": "s", "image": "a", "imagePullPolicy": "IfNotPresent" }] } } }, "status": {} });
        assert!(holds(
            &live,
            &json!({ "spec": { "replicas": 1, "template": { "spec": { "containers": [{ "name": "s", "image": "a" }] } } } })
        ));
        assert!(!holds(
            &live,
            &json!({ "spec": { "template": { "spec": { "containers": [{ "name": "s", "image": "b" }] } } } })
        ));
        assert!(!holds(&live, &json!({ "spec": { "paused": true } })));
        assert!(
            holds(&live, &json!({ "metadata": { "annotations": {} } })),
            "empty matches absent"
        );
        assert!(
            !holds(
                &live,
                &json!({ "spec": { "template": { "spec": { "containers": [] } } } })
            ),
            "lists must match in length"
        );
    }
}
