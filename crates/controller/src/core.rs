//! The core reconciler: resolves the engine, validates, selects the provider, and derives the one
//! phase and message a user sees from its own conditions and the provider's (controller.md §4,
//! with the §13 defects fixed).
//!
//! It owns, through server-side apply with the field manager [`FIELD_MANAGER`]:
//! `observedGeneration`, `engine`, `provider.name`, `provider.selectedReason`, the conditions
//! `Validated`, `EngineSelected`, `ProviderSelected`, and `phase`/`message` until the provider
//! reports (then the provider writes the phase its conditions imply, see [`provider_phase`]).
//! Providers own the rest of the status.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use kubeairunway_api::labels::RECONCILE_PAUSED;
use kubeairunway_api::{
    DeploymentPhase, EngineType, InferenceProviderConfig, ModelDeployment, ModelDeploymentSpec,
    ServingMode,
};
use serde_json::json;

use crate::conditions::{self, Want, types};
use crate::context::Context;
use crate::selection::{self, unavailable_reason};
use crate::{Error, Result};

/// Field manager of the core's status writes.
pub const FIELD_MANAGER: &str = "kubeairunway-core";
/// How often a deployment that waits for a provider is looked at again (providers registering
/// or recovering also trigger it at once through the InferenceProviderConfig watch).
pub const WAITING_RECHECK: Duration = Duration::from_secs(30);

/// True when reconciling is paused by annotation.
pub fn is_paused(md: &ModelDeployment) -> bool {
    md.annotations()
        .get(RECONCILE_PAUSED)
        .is_some_and(|v| v == "true")
}

/// What the core decided for one deployment.
#[derive(Debug, PartialEq)]
pub(crate) struct Decision {
    engine: Option<(EngineType, String)>,
    provider: Option<(String, String)>,
    wants: Vec<Want>,
    /// Phase and message to write; `None` once the provider owns them.
    phase: Option<(DeploymentPhase, String)>,
    waiting: bool,
    rule_errors: Vec<String>,
}

impl Decision {
    /// A decision that stops before a provider is chosen; `Pending` ones wait to be retried.
    fn stopped(
        engine: Option<(EngineType, String)>,
        wants: Vec<Want>,
        phase: DeploymentPhase,
        message: String,
        rule_errors: Vec<String>,
    ) -> Self {
        let waiting = phase == DeploymentPhase::Pending;
        Self {
            engine,
            provider: None,
            wants,
            phase: Some((phase, message)),
            waiting,
            rule_errors,
        }
    }
}

/// Decides engine, validation, provider, phase and message. Pure: everything it reads is passed.
pub(crate) fn decide(
    md: &ModelDeployment,
    providers: &[InferenceProviderConfig],
    rules: &crate::cel::RuleEngine,
    now: Timestamp,
) -> Decision {
    let status = md.status.clone().unwrap_or_default();
    let mut wants = Vec::new();
    let mut rule_errors = Vec::new();

    // Engine: explicit wins; an earlier automatic choice sticks; otherwise choose now.
    let previous_auto = status
        .engine
        .as_ref()
        .filter(|e| e.selected_reason.as_deref() != Some("explicit engine selection"))
        .and_then(|e| e.type_.zip(e.selected_reason.clone()));
    let engine = match (md.spec.engine.type_, previous_auto) {
        (Some(e), _) => Ok((e, "explicit engine selection".to_string(), true)),
        (None, Some((e, reason))) => Ok((e, reason, false)),
        (None, None) => selection::select_engine(&md.spec, providers, now)
            .map(|c| (c.engine, c.reason, c.explicit)),
    };
    let (engine, engine_reason) = match engine {
        Ok((e, reason, explicit)) => {
            let (cond_reason, msg) = if explicit {
                (
                    "ExplicitSelection",
                    format!("Engine {e} selected explicitly"),
                )
            } else {
                ("AutoSelected", format!("Engine {e}: {reason}"))
            };
            wants.push(Want::yes(types::ENGINE_SELECTED, cond_reason, msg));
            (e, reason)
        }
        Err(err) => {
            let mut message = format!("Engine selection failed: {err}");
            wants.push(Want::no(
                types::ENGINE_SELECTED,
                "SelectionFailed",
                message.clone(),
            ));
            if matches!(err, selection::SelectionError::UnknownProvider { .. }) {
                message = format!("Provider selection failed: {err}");
                wants.push(Want::no(
                    types::PROVIDER_SELECTED,
                    "ProviderNotFound",
                    message.clone(),
                ));
            }
            return Decision::stopped(None, wants, DeploymentPhase::Pending, message, rule_errors);
        }
    };

    if let Err(problem) = validate(&md.spec, engine) {
        let message = format!("Validation failed: {problem}");
        wants.push(Want::no(
            types::VALIDATED,
            "ValidationFailed",
            message.clone(),
        ));
        return Decision::stopped(
            Some((engine, engine_reason)),
            wants,
            DeploymentPhase::Failed,
            message,
            rule_errors,
        );
    }
    wants.push(Want::yes(
        types::VALIDATED,
        "ValidationPassed",
        "The spec is valid",
    ));

    // Provider: explicit always wins (even when named after an automatic choice); an automatic
    // choice sticks while its InferenceProviderConfig exists; otherwise choose now.
    let explicit = md.spec.provider.as_ref().and_then(|p| p.name.clone());
    let previous = status
        .provider
        .as_ref()
        .filter(|p| p.selected_reason.as_deref() != Some("explicit provider selection"))
        .and_then(|p| p.name.clone().zip(p.selected_reason.clone()))
        .filter(|(name, _)| {
            providers
                .iter()
                .any(|ipc| ipc.metadata.name.as_deref() == Some(name))
        });
    let choice = match (explicit, previous) {
        (None, Some((name, reason))) => Ok((name, reason, false)),
        _ => selection::select_provider(&md.spec, engine, providers, rules, now).map(|c| {
            rule_errors = c.rule_errors;
            (c.name, c.reason, c.explicit)
        }),
    };
    let (provider, provider_reason) = match choice {
        Ok((name, reason, explicit)) => {
            let (cond_reason, msg) = if explicit {
                (
                    "ExplicitSelection",
                    format!("Provider {name} selected explicitly"),
                )
            } else {
                ("AutoSelected", format!("Provider {name}: {reason}"))
            };
            wants.push(Want::yes(types::PROVIDER_SELECTED, cond_reason, msg));
            (name, reason)
        }
        Err(err) => {
            let reason = if matches!(err, selection::SelectionError::UnknownProvider { .. }) {
                "ProviderNotFound"
            } else {
                "SelectionFailed"
            };
            let message = format!("Provider selection failed: {err}");
            wants.push(Want::no(types::PROVIDER_SELECTED, reason, message.clone()));
            return Decision::stopped(
                Some((engine, engine_reason)),
                wants,
                DeploymentPhase::Pending,
                message,
                rule_errors,
            );
        }
    };

    let (phase, waiting) = derive_phase(md, &provider, providers, now);
    Decision {
        engine: Some((engine, engine_reason)),
        provider: Some((provider, provider_reason)),
        wants,
        phase,
        waiting,
        rule_errors,
    }
}

/// The phase and message a provider's conditions imply (controller.md §1.5), or `None` while the
/// provider has not reported on this generation. Providers write this phase themselves; the core
/// only writes the phase before that (and on deletion).
pub fn provider_phase(
    conditions: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>,
    generation: Option<i64>,
    kind: &str,
) -> Option<(DeploymentPhase, String)> {
    let current = |t: &str| {
        conditions::find(conditions, t)
            .filter(|c| c.observed_generation.is_none() || c.observed_generation == generation)
    };
    for t in [types::PROVIDER_COMPATIBLE, types::RESOURCE_CREATED] {
        if let Some(c) = current(t).filter(|c| c.status == "False") {
            return Some((DeploymentPhase::Failed, c.message.clone()));
        }
    }
    if let Some(c) = current(types::READY) {
        if c.status == "True" {
            return Some((DeploymentPhase::Running, c.message.clone()));
        }
        if c.reason == "DeploymentFailed" {
            return Some((DeploymentPhase::Failed, c.message.clone()));
        }
    }
    if current(types::RESOURCE_CREATED).is_some_and(|c| c.status == "True") {
        let detail = current(types::READY)
            .map(|c| c.message.clone())
            .filter(|m| !m.is_empty());
        let message =
            detail.unwrap_or_else(|| format!("{kind} created, waiting for pods to be ready"));
        return Some((DeploymentPhase::Deploying, message));
    }
    None
}

/// The phase the core writes once a provider is selected: `Terminating` on deletion, nothing
/// once the provider has reported (it owns the phase then), else `Pending` with what it waits for.
fn derive_phase(
    md: &ModelDeployment,
    provider: &str,
    providers: &[InferenceProviderConfig],
    now: Timestamp,
) -> (Option<(DeploymentPhase, String)>, bool) {
    if md.meta().deletion_timestamp.is_some() {
        return (
            Some((
                DeploymentPhase::Terminating,
                "Deleting the provider's resources".into(),
            )),
            false,
        );
    }
    let cs = md.status.as_ref().and_then(|s| s.conditions.as_ref());
    if provider_phase(cs, md.metadata.generation, "Resource").is_some() {
        return (None, false);
    }
    let ipc = providers
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(provider));
    let message = match ipc.and_then(|p| unavailable_reason(p, now)) {
        Some(why) => format!("Waiting for provider {provider}: {why}"),
        None => format!("Waiting for provider {provider} to create its resources"),
    };
    (Some((DeploymentPhase::Pending, message)), true)
}

/// The cross-field rules of controller.md §3.2 with the resolved engine (the CRD schema holds
/// the same rules; this catches objects stored before them and auto-selected engines).
pub fn validate(spec: &ModelDeploymentSpec, engine: EngineType) -> std::result::Result<(), String> {
    if spec.model.source == kubeairunway_api::ModelSource::Huggingface
        && spec.model.id.as_deref().is_none_or(str::is_empty)
    {
        return Err("spec.model.id is required when spec.model.source is huggingface".into());
    }
    match spec.serving.mode {
        ServingMode::Aggregated => {
            let gpus = match &spec.resources {
                Some(r) => r.gpu.as_ref().map_or(0, |g| g.count),
                None => 1,
            };
            if engine != EngineType::Llamacpp && gpus < 1 {
                return Err(format!(
                    "spec.resources.gpu.count must be at least 1 for engine {engine}"
                ));
            }
        }
        ServingMode::Disaggregated => {
            if spec
                .resources
                .as_ref()
                .and_then(|r| r.gpu.as_ref())
                .is_some_and(|g| g.count > 0)
            {
                return Err(
                    "spec.resources.gpu.count must be 0 or unset in disaggregated mode".into(),
                );
            }
            for (name, component) in [
                ("prefill", &spec.scaling.prefill),
                ("decode", &spec.scaling.decode),
            ] {
                match component {
                    None => {
                        return Err(format!(
                            "spec.scaling.{name} is required in disaggregated mode"
                        ));
                    }
                    Some(c) if c.gpu.as_ref().is_none_or(|g| g.count < 1) => {
                        return Err(format!(
                            "spec.scaling.{name}.gpu.count must be at least 1 in disaggregated mode"
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

/// One pass of the core for a deployment.
pub async fn reconcile(md: Arc<ModelDeployment>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_timer("core");
    if is_paused(&md) {
        return Ok(Action::await_change());
    }
    let providers: Vec<InferenceProviderConfig> = ctx
        .providers
        .state()
        .iter()
        .map(|p| (**p).clone())
        .collect();
    let now = Timestamp::now();
    let decision = decide(&md, &providers, &ctx.rules, now);
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

async fn write_status(
    md: &ModelDeployment,
    d: &Decision,
    ctx: &Context,
    now: Timestamp,
) -> Result<()> {
    let status = md.status.clone().unwrap_or_default();
    let generation = md.metadata.generation;
    let wanted = conditions::build(status.conditions.as_ref(), &d.wants, generation, now);
    let engine_same = status
        .engine
        .as_ref()
        .map(|e| (e.type_, e.selected_reason.clone()))
        == d.engine.as_ref().map(|(e, r)| (Some(*e), Some(r.clone())));
    let provider_same = status
        .provider
        .as_ref()
        .and_then(|p| p.name.clone().zip(p.selected_reason.clone()))
        == d.provider.clone();
    let unchanged = conditions::unchanged(status.conditions.as_ref(), &wanted)
        && status.observed_generation == generation
        && d.phase.as_ref().is_none_or(|(p, m)| {
            status.phase == Some(*p) && status.message.as_deref() == Some(m.as_str())
        })
        && engine_same
        && provider_same;
    if unchanged {
        return Ok(());
    }
    let mut patch = json!({
        "apiVersion": ModelDeployment::api_version(&()),
        "kind": ModelDeployment::kind(&()),
        "metadata": { "name": md.name_any() },
        "status": {
            "observedGeneration": generation,
            "conditions": wanted,
        },
    });
    if let Some((phase, message)) = &d.phase {
        patch["status"]["phase"] = json!(phase);
        patch["status"]["message"] = json!(message);
    }
    if let Some((engine, reason)) = &d.engine {
        patch["status"]["engine"] = json!({ "type": engine, "selectedReason": reason });
    }
    if let Some((name, reason)) = &d.provider {
        patch["status"]["provider"] = json!({ "name": name, "selectedReason": reason });
    }
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    // A `Pending` phase never overrides a phase the provider has written since our cache was
    // read: that apply is not forced, and the conflict means the provider has reported already.
    // `Failed` (validation) and `Terminating` are the core's to decide and are forced.
    let uid = md.uid().unwrap_or_default();
    let fingerprint = conditions::fingerprint(&patch);
    if ctx.already_written(&uid, FIELD_MANAGER, fingerprint) {
        return Ok(());
    }
    let pending = matches!(d.phase, Some((DeploymentPhase::Pending, _)));
    let params = if pending {
        PatchParams::apply(FIELD_MANAGER)
    } else {
        PatchParams::apply(FIELD_MANAGER).force()
    };
    match api
        .patch_status(&md.name_any(), &params, &Patch::Apply(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if pending && s.code == 409 => return Ok(()),
        Err(source) => {
            return Err(Error::Kube {
                what: format!("writing the status of {}", md.name_any()),
                source,
            });
        }
    }
    ctx.record_written(&uid, FIELD_MANAGER, fingerprint);
    ctx.metrics.status_write("core");
    publish_transitions(md, &status.conditions, &wanted, ctx).await;
    Ok(())
}

/// Emits an Event when a core condition changes status or reason.
async fn publish_transitions(
    md: &ModelDeployment,
    before: &Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>,
    after: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    ctx: &Context,
) {
    let changed: Vec<_> = after
        .iter()
        .filter(|c| {
            let old = conditions::find(before.as_ref(), &c.type_);
            !old.is_some_and(|o| o.status == c.status && o.reason == c.reason)
        })
        .collect();
    // One event per decision, not per condition: a selection is one Normal event naming the
    // engine and the provider; each failure is a Warning of its own.
    let mut events = Vec::new();
    if changed
        .iter()
        .any(|c| c.type_ == types::PROVIDER_SELECTED && c.status == "True")
    {
        let note = after
            .iter()
            .filter(|c| {
                c.status == "True"
                    && (c.type_ == types::ENGINE_SELECTED || c.type_ == types::PROVIDER_SELECTED)
            })
            .map(|c| c.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        events.push((EventType::Normal, "Selected", note));
    }
    for c in changed.iter().filter(|c| c.status == "False") {
        let reason = if c.type_ == types::VALIDATED {
            "ValidationFailed"
        } else {
            "SelectionFailed"
        };
        events.push((EventType::Warning, reason, c.message.clone()));
    }
    for (type_, reason, note) in events {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: "Select".into(),
            secondary: None,
        };
        ctx.emit(event, md.object_ref(&()));
    }
}
