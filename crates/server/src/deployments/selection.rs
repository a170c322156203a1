//! What the controller will do with a deployment, told before it is created: the engine and
//! provider it selects and the objects that provider renders. The answer comes from the same
//! `kubeairunway_core` functions the controller runs, over the same registered providers (from
//! the watch cache), so a preview cannot disagree with what happens after the create.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kubeairunway_api::{
    DeploymentPhase, EngineStatus, InferenceProviderConfig, ModelDeployment, ModelDeploymentStatus,
    ProviderStatus,
};
use kubeairunway_core::RuleEngine;
use kubeairunway_core::decide::{Decision, decide};
use kubeairunway_core::providers::{self, label};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The controller's decision for a deployment that does not exist yet.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    /// The engine the controller selects; absent when it cannot select one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<&'static str>,
    /// Why that engine (`explicit engine selection`, `auto-selected from provider …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_reason: Option<String>,
    /// The provider the controller selects; absent when it cannot select one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Why that provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_reason: Option<String>,
    /// `Pending` (the deployment waits for its provider, or for one to be ready) or `Failed`
    /// (the spec is invalid).
    pub phase: &'static str,
    /// What the deployment will say first, as the controller words it.
    pub message: String,
}

/// The preview of one deployment: the decision, the objects its provider renders (built-in
/// providers only: others render out of process), and a warning when it will not run.
#[derive(Debug)]
pub(crate) struct Preview {
    pub selection: Selection,
    pub objects: Vec<Value>,
    pub warning: Option<String>,
}

/// Decides for `md` (as stored by a dry run, defaults applied) among `providers`.
pub(crate) fn preview(
    md: &ModelDeployment,
    providers: &[Arc<InferenceProviderConfig>],
    rules: &RuleEngine,
    now: Timestamp,
) -> Preview {
    let registered: Vec<InferenceProviderConfig> =
        providers.iter().map(|p| (**p).clone()).collect();
    let decision = decide(md, &registered, rules, now);
    let selection = selection_of(&decision);
    let mut warning = match (&decision.provider, decision.phase.as_ref()) {
        (None, Some((phase, message))) => Some(if *phase == DeploymentPhase::Failed {
            format!("⚠️ The controller will not deploy this: {message}")
        } else {
            format!("⚠️ No provider will take this deployment yet: {message}")
        }),
        _ => None,
    };
    let mut objects = Vec::new();
    if let (Some((engine, engine_reason)), Some((name, provider_reason))) =
        (&decision.engine, &decision.provider)
        && let Ok(provider) = providers::built_in(name)
    {
        let mut decided = md.clone();
        decided.status = Some(ModelDeploymentStatus {
            engine: Some(EngineStatus {
                type_: Some(*engine),
                selected_reason: Some(engine_reason.clone()),
            }),
            provider: Some(ProviderStatus {
                name: Some(name.clone()),
                selected_reason: Some(provider_reason.clone()),
                ..Default::default()
            }),
            ..Default::default()
        });
        match provider.check_compatible(&decided, *engine) {
            Err(why) => {
                warning = Some(format!(
                    "⚠️ {} cannot serve this deployment: {why}",
                    label(name)
                ));
            }
            Ok(()) => match provider.desired(&decided, *engine) {
                Ok(rendered) => objects = rendered,
                Err(e) => {
                    warning = Some(format!(
                        "⚠️ {} cannot render this deployment: {e}",
                        label(name)
                    ));
                }
            },
        }
    }
    Preview {
        selection,
        objects,
        warning,
    }
}

fn selection_of(d: &Decision) -> Selection {
    let (phase, message) = d
        .phase
        .clone()
        .unwrap_or((DeploymentPhase::Pending, "Waiting for the provider".into()));
    Selection {
        engine: d.engine.as_ref().map(|(e, _)| e.as_str()),
        engine_reason: d.engine.as_ref().map(|(_, r)| r.clone()),
        provider: d.provider.as_ref().map(|(p, _)| p.clone()),
        provider_reason: d.provider.as_ref().map(|(_, r)| r.clone()),
        phase: super::status::phase_str(Some(phase)),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kubeairunway_api::InferenceProviderConfigStatus;
    use serde_json::json;

    fn registered(names: &[&str], now: Timestamp) -> Vec<Arc<InferenceProviderConfig>> {
        names
            .iter()
            .map(|n| {
                let p = providers::built_in(n).expect("built in");
                let mut ipc = InferenceProviderConfig::new(p.name(), p.registration());
                ipc.status = Some(InferenceProviderConfigStatus {
                    ready: true,
                    last_heartbeat: Some(Time(now)),
                    ..Default::default()
                });
                Arc::new(ipc)
            })
            .collect()
    }

    fn md(spec: Value) -> ModelDeployment {
        let mut md = ModelDeployment::new("qwen", serde_json::from_value(spec).expect("spec"));
        md.metadata.namespace = Some("team".into());
        md.metadata.uid = Some("dry-run-uid".into());
        md
    }

    #[test]
    fn the_preview_names_the_controllers_choice_and_its_objects() {
        let now = Timestamp::now();
        let p = preview(
            &md(
                json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "resources": { "gpu": { "count": 1 } } }),
            ),
            &registered(&["kubernetes"], now),
            &RuleEngine::default(),
            now,
        );
        assert_eq!(p.selection.engine, Some("vllm"));
        assert_eq!(p.selection.provider.as_deref(), Some("kubernetes"));
        assert_eq!(p.selection.phase, "Pending");
        assert_eq!(p.warning, None);
        let kinds: Vec<_> = p.objects.iter().map(|o| o["kind"].clone()).collect();
        assert_eq!(kinds, [json!("Deployment"), json!("Service")]);
    }

    #[test]
    fn a_deployment_no_provider_takes_is_a_warning() {
        let now = Timestamp::now();
        let p = preview(
            &md(
                json!({ "model": { "id": "a/b" }, "engine": { "type": "sglang" }, "resources": { "gpu": { "count": 1 } } }),
            ),
            &registered(&["kubernetes"], now),
            &RuleEngine::default(),
            now,
        );
        assert_eq!(p.selection.provider, None);
        assert!(p.objects.is_empty());
        assert_eq!(
            p.warning.as_deref(),
            Some(
                "⚠️ No provider will take this deployment yet: Provider selection failed: no ready provider supports engine sglang for a GPU deployment in aggregated mode"
            )
        );
    }

    #[test]
    fn an_explicit_provider_that_cannot_serve_says_why() {
        let now = Timestamp::now();
        let p = preview(
            &md(
                json!({ "model": { "id": "a/b" }, "engine": { "type": "sglang" }, "provider": { "name": "kubernetes" } }),
            ),
            &registered(&["kubernetes"], now),
            &RuleEngine::default(),
            now,
        );
        assert_eq!(p.selection.provider.as_deref(), Some("kubernetes"));
        assert!(
            p.warning
                .as_deref()
                .is_some_and(|w| w.starts_with("⚠️ the kubernetes provider cannot serve this deployment: the kubernetes provider runs vllm and llamacpp, not sglang")),
            "{:?}",
            p.warning
        );
    }
}
