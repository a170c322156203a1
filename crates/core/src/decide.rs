//! The core's decision for one ModelDeployment: resolve the engine, validate, select the
//! provider, and derive the one phase and message a user sees before the provider reports
//! (docs/contract/controller.md §4, with the §13 defects fixed).
//!
//! The core owns, through server-side apply with its own field manager: `observedGeneration`,
//! `engine`, `provider.name`, `provider.selectedReason`, the conditions `Validated`,
//! `EngineSelected`, `ProviderSelected`, and `phase`/`message` until the provider reports (then
//! the provider writes the phase its conditions imply, see [`provider_phase`]). Providers own
//! the rest of the status.
//!
//! Everything here is pure: the controller reads the cluster, calls [`decide`], and writes the
//! patch [`Decision::status_patch`] returns. The API server runs the same [`decide`] to tell a
//! user, before anything is created, which engine and provider the controller will choose.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube_core::{Resource, ResourceExt};
use kubeairunway_api::labels::RECONCILE_PAUSED;
use kubeairunway_api::{
    DeploymentPhase, EngineType, InferenceProviderConfig, ModelDeployment, ModelDeploymentSpec,
    ModelSource, ServingMode,
};
use serde_json::{Value, json};

use crate::cel::RuleEngine;
use crate::conditions::{self, Want, types};
use crate::notice::Notice;
use crate::selection::{self, SelectionError, unavailable_reason};

/// `selectedReason` of an engine the user named.
const EXPLICIT_ENGINE: &str = "explicit engine selection";
/// `selectedReason` of a provider the user named.
const EXPLICIT_PROVIDER: &str = "explicit provider selection";

/// True when reconciling is paused by annotation.
pub fn is_paused(md: &ModelDeployment) -> bool {
    md.annotations()
        .get(RECONCILE_PAUSED)
        .is_some_and(|v| v == "true")
}

/// What the core decided for one deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The engine and why, once resolved.
    pub engine: Option<(EngineType, String)>,
    /// The provider and why, once selected.
    pub provider: Option<(String, String)>,
    /// The core's conditions.
    pub wants: Vec<Want>,
    /// Phase and message to write; `None` once the provider owns them.
    pub phase: Option<(DeploymentPhase, String)>,
    /// True while the deployment waits for a provider (look again later).
    pub waiting: bool,
    /// Selection rules that failed to evaluate (they counted as no match), for the log.
    pub rule_errors: Vec<String>,
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

    /// True when a `Pending` phase is to be written: such a write must not override a phase
    /// the provider wrote meanwhile (the controller does not force it and treats a conflict as
    /// "the provider has reported"). `Failed` (validation) and `Terminating` are the core's to
    /// decide and are forced.
    pub fn yields_to_provider(&self) -> bool {
        matches!(self.phase, Some((DeploymentPhase::Pending, _)))
    }

    /// The status conditions this decision writes, keeping `lastTransitionTime` of those whose
    /// status did not change.
    pub fn conditions(&self, md: &ModelDeployment, now: Timestamp) -> Vec<Condition> {
        let current = md.status.as_ref().and_then(|s| s.conditions.as_ref());
        conditions::build(current, &self.wants, md.metadata.generation, now)
    }

    /// The server-side apply body of the core's status write, or `None` when the stored status
    /// already says all of it (so an unchanged decision never writes).
    pub fn status_patch(&self, md: &ModelDeployment, now: Timestamp) -> Option<Value> {
        let status = md.status.clone().unwrap_or_default();
        let generation = md.metadata.generation;
        let wanted = self.conditions(md, now);
        let engine_same = status
            .engine
            .as_ref()
            .map(|e| (e.type_, e.selected_reason.clone()))
            == self
                .engine
                .as_ref()
                .map(|(e, r)| (Some(*e), Some(r.clone())));
        let provider_same = status
            .provider
            .as_ref()
            .and_then(|p| p.name.clone().zip(p.selected_reason.clone()))
            == self.provider.clone();
        let unchanged = conditions::unchanged(status.conditions.as_ref(), &wanted)
            && status.observed_generation == generation
            && self.phase.as_ref().is_none_or(|(p, m)| {
                status.phase == Some(*p) && status.message.as_deref() == Some(m.as_str())
            })
            && engine_same
            && provider_same;
        if unchanged {
            return None;
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
        if let Some((phase, message)) = &self.phase {
            patch["status"]["phase"] = json!(phase);
            patch["status"]["message"] = json!(message);
        }
        if let Some((engine, reason)) = &self.engine {
            patch["status"]["engine"] = json!({ "type": engine, "selectedReason": reason });
        }
        if let Some((name, reason)) = &self.provider {
            patch["status"]["provider"] = json!({ "name": name, "selectedReason": reason });
        }
        Some(patch)
    }

    /// The Events a write of `after` (the conditions of [`Decision::conditions`]) publishes:
    /// one Normal event per selection naming the engine and the provider, and a Warning for
    /// each failure that is new.
    pub fn notices(before: Option<&Vec<Condition>>, after: &[Condition]) -> Vec<Notice> {
        let changed: Vec<_> = after
            .iter()
            .filter(|c| {
                let old = conditions::find(before, &c.type_);
                !old.is_some_and(|o| o.status == c.status && o.reason == c.reason)
            })
            .collect();
        let mut out = Vec::new();
        if changed
            .iter()
            .any(|c| c.type_ == types::PROVIDER_SELECTED && c.status == "True")
        {
            let note = after
                .iter()
                .filter(|c| {
                    c.status == "True"
                        && (c.type_ == types::ENGINE_SELECTED
                            || c.type_ == types::PROVIDER_SELECTED)
                })
                .map(|c| c.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            out.push(Notice::normal("Selected", note, "Select"));
        }
        for c in changed.iter().filter(|c| c.status == "False") {
            let reason = if c.type_ == types::VALIDATED {
                "ValidationFailed"
            } else {
                "SelectionFailed"
            };
            out.push(Notice::warning(reason, c.message.clone(), "Select"));
        }
        out
    }
}

/// Decides engine, validation, provider, phase and message from the deployment, the
/// registered providers and the time.
pub fn decide(
    md: &ModelDeployment,
    providers: &[InferenceProviderConfig],
    rules: &RuleEngine,
    now: Timestamp,
) -> Decision {
    let status = md.status.clone().unwrap_or_default();
    let mut wants = Vec::new();
    let mut rule_errors = Vec::new();

    // Engine: explicit wins; an earlier automatic choice sticks; otherwise choose now.
    let previous_auto = status
        .engine
        .as_ref()
        .filter(|e| e.selected_reason.as_deref() != Some(EXPLICIT_ENGINE))
        .and_then(|e| e.type_.zip(e.selected_reason.clone()));
    let engine = match (md.spec.engine.type_, previous_auto) {
        (Some(e), _) => Ok((e, EXPLICIT_ENGINE.to_string(), true)),
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
            if matches!(err, SelectionError::UnknownProvider { .. }) {
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
        .filter(|p| p.selected_reason.as_deref() != Some(EXPLICIT_PROVIDER))
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
            let reason = if matches!(err, SelectionError::UnknownProvider { .. }) {
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

/// The phase and message a provider's conditions imply (docs/contract/controller.md §1.5), or
/// `None` while the provider has not reported on this generation. Providers write this phase
/// themselves; the core only writes the phase before that (and on deletion).
pub fn provider_phase(
    conditions: Option<&Vec<Condition>>,
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

/// A cross-field rule the spec breaks (docs/contract/controller.md §3.2). The CRD schema holds
/// the same rules; this catches objects stored before them and engines chosen automatically.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A HuggingFace model without an id.
    #[error("spec.model.id is required when spec.model.source is huggingface")]
    MissingModelId,
    /// A GPU engine in aggregated mode without a GPU.
    #[error("spec.resources.gpu.count must be at least 1 for engine {0}")]
    GpuRequired(EngineType),
    /// Top-level GPUs in disaggregated mode (they belong to the components).
    #[error("spec.resources.gpu.count must be 0 or unset in disaggregated mode")]
    TopLevelGpuInDisaggregated,
    /// A disaggregated component is missing.
    #[error("spec.scaling.{0} is required in disaggregated mode")]
    MissingComponent(&'static str),
    /// A disaggregated component without a GPU.
    #[error("spec.scaling.{0}.gpu.count must be at least 1 in disaggregated mode")]
    ComponentGpuRequired(&'static str),
}

/// Checks the cross-field rules with the resolved engine.
pub fn validate(spec: &ModelDeploymentSpec, engine: EngineType) -> Result<(), ValidationError> {
    if spec.model.source == ModelSource::Huggingface
        && spec.model.id.as_deref().is_none_or(str::is_empty)
    {
        return Err(ValidationError::MissingModelId);
    }
    match spec.serving.mode {
        ServingMode::Aggregated => {
            let gpus = match &spec.resources {
                Some(r) => r.gpu.as_ref().map_or(0, |g| g.count),
                None => 1,
            };
            if engine != EngineType::Llamacpp && gpus < 1 {
                return Err(ValidationError::GpuRequired(engine));
            }
        }
        ServingMode::Disaggregated => {
            if spec
                .resources
                .as_ref()
                .and_then(|r| r.gpu.as_ref())
                .is_some_and(|g| g.count > 0)
            {
                return Err(ValidationError::TopLevelGpuInDisaggregated);
            }
            for (name, component) in [
                ("prefill", &spec.scaling.prefill),
                ("decode", &spec.scaling.decode),
            ] {
                match component {
                    None => return Err(ValidationError::MissingComponent(name)),
                    Some(c) if c.gpu.as_ref().is_none_or(|g| g.count < 1) => {
                        return Err(ValidationError::ComponentGpuRequired(name));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::registered;
    use crate::providers::{dynamo::Dynamo, kaito::Kaito};
    use kubeairunway_api::ModelDeploymentStatus;

    fn md(spec: Value) -> ModelDeployment {
        let mut md = ModelDeployment::new("m", serde_json::from_value(spec).expect("spec"));
        md.metadata.namespace = Some("ns".into());
        md.metadata.generation = Some(3);
        md
    }

    #[test]
    fn a_valid_spec_gets_engine_provider_and_a_pending_phase() {
        let now = Timestamp::now();
        let providers = registered(&[&Kaito, &Dynamo], now);
        let d = decide(
            &md(json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 1 } } })),
            &providers,
            &RuleEngine::default(),
            now,
        );
        assert_eq!(d.engine.as_ref().map(|e| e.0), Some(EngineType::Vllm));
        assert_eq!(d.provider.as_ref().map(|p| p.0.as_str()), Some("dynamo"));
        assert!(d.waiting && d.yields_to_provider());
        assert_eq!(
            d.phase,
            Some((
                DeploymentPhase::Pending,
                "Waiting for provider dynamo to create its resources".into()
            ))
        );
        let types: Vec<_> = d.wants.iter().map(|w| (w.type_, w.status)).collect();
        assert_eq!(
            types,
            [
                (types::ENGINE_SELECTED, true),
                (types::VALIDATED, true),
                (types::PROVIDER_SELECTED, true)
            ]
        );
    }

    #[test]
    fn an_invalid_spec_fails_without_a_provider() {
        let now = Timestamp::now();
        let d = decide(
            &md(
                json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 0 } } }),
            ),
            &registered(&[&Dynamo], now),
            &RuleEngine::default(),
            now,
        );
        assert_eq!(d.provider, None);
        assert!(!d.waiting && !d.yields_to_provider(), "Failed is forced");
        let (phase, message) = d.phase.clone().expect("phase");
        assert_eq!(phase, DeploymentPhase::Failed);
        assert_eq!(
            message,
            "Validation failed: spec.resources.gpu.count must be at least 1 for engine vllm"
        );
    }

    #[test]
    fn an_automatic_choice_sticks_while_its_provider_exists() {
        let now = Timestamp::now();
        let mut m = md(json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 1 } } }));
        m.status = Some(ModelDeploymentStatus {
            provider: Some(kubeairunway_api::ProviderStatus {
                name: Some("kaito".into()),
                selected_reason: Some("chosen earlier".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        let both = registered(&[&Kaito, &Dynamo], now);
        let d = decide(&m, &both, &RuleEngine::default(), now);
        assert_eq!(d.provider, Some(("kaito".into(), "chosen earlier".into())));
        let only_dynamo = registered(&[&Dynamo], now);
        let d = decide(&m, &only_dynamo, &RuleEngine::default(), now);
        assert_eq!(
            d.provider.map(|p| p.0),
            Some("dynamo".into()),
            "kaito is gone"
        );
    }

    #[test]
    fn an_unchanged_decision_writes_nothing() {
        let now = Timestamp::now();
        let providers = registered(&[&Dynamo], now);
        let mut m = md(json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 1 } } }));
        let first = decide(&m, &providers, &RuleEngine::default(), now);
        let patch = first.status_patch(&m, now).expect("first write");
        m.status = serde_json::from_value(patch["status"].clone()).expect("status");
        let again = decide(&m, &providers, &RuleEngine::default(), now);
        assert_eq!(again.status_patch(&m, now), None);
        let notices = Decision::notices(
            None,
            &first.conditions(&md(json!({ "model": { "id": "a/b" } })), now),
        );
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].reason, "Selected");
    }

    #[test]
    fn validation_names_the_field() {
        let spec = |v: Value| -> ModelDeploymentSpec { serde_json::from_value(v).expect("spec") };
        assert_eq!(
            validate(&spec(json!({ "model": {} })), EngineType::Vllm),
            Err(ValidationError::MissingModelId)
        );
        assert_eq!(
            validate(
                &spec(
                    json!({ "model": { "id": "a" }, "serving": { "mode": "disaggregated" }, "scaling": { "prefill": { "gpu": { "count": 1 } } } })
                ),
                EngineType::Vllm
            ),
            Err(ValidationError::MissingComponent("decode"))
        );
        assert_eq!(
            validate(
                &spec(json!({ "model": { "id": "a" }, "resources": { "cpu": "1" } })),
                EngineType::Llamacpp
            ),
            Ok(())
        );
    }
}
