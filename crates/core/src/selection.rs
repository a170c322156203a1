//! Engine and provider selection (docs/contract/controller.md §4.4–4.5), as pure functions over the
//! deployment spec and the registered providers.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kubeairunway_api::{EngineType, InferenceProviderConfig, ModelDeploymentSpec, ServingMode};

use crate::cel::{RuleEngine, RuleOutcome, spec_input};

/// A provider whose heartbeat is older than this is treated as not ready.
pub const HEARTBEAT_STALE_AFTER: Duration = Duration::from_secs(180);

/// Why a provider cannot take work now, or `None` when it can.
pub fn unavailable_reason(ipc: &InferenceProviderConfig, now: Timestamp) -> Option<String> {
    let Some(status) = &ipc.status else {
        return Some("it has not reported a status yet".into());
    };
    if !status.ready {
        return Some("it reports ready=false".into());
    }
    if let Some(beat) = &status.last_heartbeat {
        let age = now.duration_since(beat.0);
        let stale =
            k8s_openapi::jiff::SignedDuration::try_from(HEARTBEAT_STALE_AFTER).unwrap_or_default();
        if age > stale {
            return Some(format!("its last heartbeat is {}s old", age.as_secs()));
        }
    }
    None
}

/// The deployment's characteristics that capabilities gate on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// GPUs in use: a GPU count above zero, or disaggregated mode.
    pub gpu: bool,
    /// Serving mode.
    pub mode: ServingMode,
}

impl Shape {
    /// `GPU` or `CPU-only`, for messages.
    pub fn hardware(self) -> &'static str {
        if self.gpu { "GPU" } else { "CPU-only" }
    }

    /// Reads the shape of a spec (absent `resources` in aggregated mode means one GPU).
    pub fn of(spec: &ModelDeploymentSpec) -> Self {
        let gpu_count = match &spec.resources {
            Some(r) => r.gpu.as_ref().map_or(0, |g| g.count),
            None if spec.serving.mode == ServingMode::Aggregated => 1,
            None => 0,
        };
        Self {
            gpu: gpu_count > 0 || spec.serving.mode == ServingMode::Disaggregated,
            mode: spec.serving.mode,
        }
    }
}

fn needs_gpu(engine: EngineType) -> bool {
    !matches!(engine, EngineType::Llamacpp)
}

/// True when `ipc`'s capabilities allow the shape (engine aside).
fn shape_fits(ipc: &InferenceProviderConfig, shape: Shape) -> bool {
    let Some(caps) = &ipc.spec.capabilities else {
        return false;
    };
    let hardware = if shape.gpu {
        caps.gpu_support.unwrap_or(false)
    } else {
        caps.cpu_support.unwrap_or(false)
    };
    hardware
        && caps
            .serving_modes
            .as_ref()
            .is_some_and(|m| m.contains(&shape.mode))
}

/// Why selection failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// No InferenceProviderConfig exists.
    #[error("no inference providers are registered")]
    NoProviders,
    /// None of the registered providers can take work.
    #[error("no provider is ready ({0})")]
    NoneReady(String),
    /// No ready provider offers an engine for this shape.
    #[error("no ready provider offers an engine for a {hardware} deployment in {mode} mode")]
    NoEngine {
        /// `GPU` or `CPU-only`.
        hardware: &'static str,
        /// Serving mode.
        mode: &'static str,
    },
    /// No ready provider supports the engine and shape.
    #[error(
        "no ready provider supports engine {engine} for a {hardware} deployment in {mode} mode"
    )]
    NoCompatibleProvider {
        /// Resolved engine.
        engine: EngineType,
        /// `GPU` or `CPU-only`.
        hardware: &'static str,
        /// Serving mode.
        mode: &'static str,
    },
    /// The explicitly named provider is not registered.
    #[error("provider {name:?} is not registered (registered: {known})")]
    UnknownProvider {
        /// Requested name.
        name: String,
        /// Registered names.
        known: String,
    },
}

/// A selected engine and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineChoice {
    /// The engine.
    pub engine: EngineType,
    /// `selectedReason` text.
    pub reason: String,
    /// Whether the user named it.
    pub explicit: bool,
}

/// Picks the engine: the spec's, else the most preferred (vllm > sglang > trtllm > llamacpp)
/// among ready providers whose capabilities fit — restricted to the explicitly named provider
/// when there is one (docs/contract/controller.md §13.5).
pub fn select_engine(
    spec: &ModelDeploymentSpec,
    providers: &[InferenceProviderConfig],
    now: Timestamp,
) -> Result<EngineChoice, SelectionError> {
    if let Some(engine) = spec.engine.type_ {
        return Ok(EngineChoice {
            engine,
            reason: "explicit engine selection".into(),
            explicit: true,
        });
    }
    let explicit = spec.provider.as_ref().and_then(|p| p.name.as_deref());
    let candidates = ready(providers, explicit, now)?;
    let shape = Shape::of(spec);
    for engine in EngineType::ALL {
        if needs_gpu(engine) && !shape.gpu {
            continue;
        }
        let offering = candidates.iter().find(|ipc| {
            shape_fits(ipc, shape)
                && ipc
                    .spec
                    .capabilities
                    .as_ref()
                    .and_then(|c| c.engines.as_ref())
                    .is_some_and(|e| e.contains(&engine))
        });
        if let Some(ipc) = offering {
            let name = ipc.metadata.name.clone().unwrap_or_default();
            return Ok(EngineChoice {
                engine,
                reason: format!("auto-selected from provider {name} capabilities"),
                explicit: false,
            });
        }
    }
    Err(SelectionError::NoEngine {
        hardware: shape.hardware(),
        mode: shape.mode.as_str(),
    })
}

/// A selected provider and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderChoice {
    /// InferenceProviderConfig name.
    pub name: String,
    /// `selectedReason` text.
    pub reason: String,
    /// Whether the user named it.
    pub explicit: bool,
    /// Rules that failed to evaluate, as `provider: rule: error` (they counted as no match).
    pub rule_errors: Vec<String>,
}

/// Picks the provider (docs/contract/controller.md §4.5): the spec's if named (it must be
/// registered), else among ready providers whose capabilities fit the engine and shape, the highest
/// priority of any matching CEL rule (0 when none matches); ties go to the smallest name.
pub fn select_provider(
    spec: &ModelDeploymentSpec,
    engine: EngineType,
    providers: &[InferenceProviderConfig],
    rules: &RuleEngine,
    now: Timestamp,
) -> Result<ProviderChoice, SelectionError> {
    if let Some(name) = spec.provider.as_ref().and_then(|p| p.name.clone()) {
        if !providers
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(name.as_str()))
        {
            return Err(SelectionError::UnknownProvider {
                name,
                known: known_names(providers),
            });
        }
        return Ok(ProviderChoice {
            name,
            reason: "explicit provider selection".into(),
            explicit: true,
            rule_errors: vec![],
        });
    }
    let candidates = ready(providers, None, now)?;
    let shape = Shape::of(spec);
    let input = spec_input(spec, Some(engine));
    let mut rule_errors = Vec::new();
    let mut best: Option<(i32, String)> = None;
    for ipc in candidates {
        let offers = ipc
            .spec
            .capabilities
            .as_ref()
            .and_then(|c| c.engines.as_ref())
            .is_some_and(|e| e.contains(&engine));
        if !offers || !shape_fits(ipc, shape) {
            continue;
        }
        let name = ipc.metadata.name.clone().unwrap_or_default();
        let mut priority = 0;
        for rule in ipc.spec.selection_rules.iter().flatten() {
            match rules.evaluate(&rule.condition, &input) {
                RuleOutcome::Matched => priority = priority.max(rule.priority),
                RuleOutcome::NotMatched => {}
                RuleOutcome::Error(e) => {
                    rule_errors.push(format!("{name}: {}: {e}", rule.condition))
                }
            }
        }
        let better = match &best {
            None => true,
            Some((p, n)) => priority > *p || (priority == *p && name < *n),
        };
        if better {
            best = Some((priority, name));
        }
    }
    match best {
        Some((_, name)) => Ok(ProviderChoice {
            name,
            reason: format!(
                "matched capabilities: engine={engine}, gpu={}, mode={}",
                shape.gpu,
                shape.mode.as_str()
            ),
            explicit: false,
            rule_errors,
        }),
        None => Err(SelectionError::NoCompatibleProvider {
            engine,
            hardware: shape.hardware(),
            mode: shape.mode.as_str(),
        }),
    }
}

fn known_names(providers: &[InferenceProviderConfig]) -> String {
    let names: Vec<&str> = providers
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Ready providers (optionally only `only`), or why there are none.
fn ready<'a>(
    providers: &'a [InferenceProviderConfig],
    only: Option<&str>,
    now: Timestamp,
) -> Result<Vec<&'a InferenceProviderConfig>, SelectionError> {
    if providers.is_empty() {
        return Err(SelectionError::NoProviders);
    }
    let scoped: Vec<&InferenceProviderConfig> = match only {
        Some(name) => {
            let found: Vec<_> = providers
                .iter()
                .filter(|p| p.metadata.name.as_deref() == Some(name))
                .collect();
            if found.is_empty() {
                return Err(SelectionError::UnknownProvider {
                    name: name.to_string(),
                    known: known_names(providers),
                });
            }
            found
        }
        None => providers.iter().collect(),
    };
    let mut reasons = Vec::new();
    let ready: Vec<_> = scoped
        .into_iter()
        .filter(|p| match unavailable_reason(p, now) {
            None => true,
            Some(why) => {
                reasons.push(format!(
                    "{}: {why}",
                    p.metadata.name.as_deref().unwrap_or("?")
                ));
                false
            }
        })
        .collect();
    if ready.is_empty() {
        return Err(SelectionError::NoneReady(reasons.join("; ")));
    }
    Ok(ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::registered;
    use crate::providers::{
        dynamo::Dynamo, kaito::Kaito, kuberay::KubeRay, kubernetes::Kubernetes,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> ModelDeploymentSpec {
        serde_json::from_value(v).expect("spec")
    }

    fn pick(
        spec: &ModelDeploymentSpec,
        providers: &[InferenceProviderConfig],
        now: Timestamp,
    ) -> (EngineType, String) {
        let engine = select_engine(spec, providers, now).expect("engine").engine;
        let provider = select_provider(spec, engine, providers, &RuleEngine::default(), now)
            .expect("provider")
            .name;
        (engine, provider)
    }

    #[test]
    fn outcome_matrix_of_the_reference() {
        let now = Timestamp::now();
        let three = registered(&[&Kaito, &Dynamo, &KubeRay], now);
        let rows = [
            (
                json!({ "model": { "id": "a" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
                EngineType::Vllm,
                "dynamo",
            ),
            (
                json!({ "model": { "id": "a" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 4 } } }),
                EngineType::Vllm,
                "kuberay",
            ),
            (
                json!({ "model": { "id": "a" }, "engine": { "type": "sglang" }, "resources": { "gpu": { "count": 1 } } }),
                EngineType::Sglang,
                "dynamo",
            ),
            (
                json!({ "model": { "id": "a" }, "engine": { "type": "trtllm" }, "resources": { "gpu": { "count": 1 } } }),
                EngineType::Trtllm,
                "dynamo",
            ),
            (
                json!({ "model": { "id": "a" }, "serving": { "mode": "disaggregated" } }),
                EngineType::Vllm,
                "dynamo",
            ),
            (
                json!({ "model": { "id": "a" }, "resources": { "cpu": "2" } }),
                EngineType::Llamacpp,
                "kaito",
            ),
            (
                json!({ "model": { "id": "a" }, "resources": { "gpu": { "count": 0 } } }),
                EngineType::Llamacpp,
                "kaito",
            ),
            // No resources in aggregated mode means one GPU (the reference's defaulting).
            (
                json!({ "model": { "id": "a" } }),
                EngineType::Vllm,
                "dynamo",
            ),
        ];
        for (s, engine, provider) in rows {
            let s = spec(s);
            assert_eq!(
                pick(&s, &three, now),
                (engine, provider.to_string()),
                "{s:?}"
            );
        }
        // Only kaito and kuberay registered: both rank 0 for one GPU, the smaller name wins.
        let two = registered(&[&Kaito, &KubeRay], now);
        let s = spec(
            json!({ "model": { "id": "a" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
        );
        assert_eq!(pick(&s, &two, now).1, "kaito");
        // The built-in provider only wins when nothing else fits better.
        let four = registered(&[&Kaito, &Dynamo, &KubeRay, &Kubernetes], now);
        assert_eq!(pick(&s, &four, now).1, "dynamo");
        let alone = registered(&[&Kubernetes], now);
        assert_eq!(pick(&s, &alone, now).1, "kubernetes");
    }

    #[test]
    fn explicit_provider_limits_engine_choice_and_must_exist() {
        let now = Timestamp::now();
        let all = registered(&[&Kaito, &Dynamo, &KubeRay], now);
        let s = spec(
            json!({ "model": { "id": "a" }, "provider": { "name": "dynamo" }, "resources": { "gpu": { "count": 1 } } }),
        );
        assert_eq!(
            select_engine(&s, &all, now).expect("engine").engine,
            EngineType::Vllm
        );
        let cpu_on_kaito = spec(
            json!({ "model": { "id": "a" }, "provider": { "name": "kaito" }, "resources": { "cpu": "1" } }),
        );
        assert_eq!(
            select_engine(&cpu_on_kaito, &all, now)
                .expect("engine")
                .engine,
            EngineType::Llamacpp
        );
        let typo = spec(json!({ "model": { "id": "a" }, "provider": { "name": "kaitoo" } }));
        let err = select_provider(&typo, EngineType::Vllm, &all, &RuleEngine::default(), now)
            .expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "provider \"kaitoo\" is not registered (registered: kaito, dynamo, kuberay)"
        );
    }

    #[test]
    fn stale_and_unready_providers_are_passed_over() {
        let now = Timestamp::now();
        let mut providers = registered(&[&Kaito, &Dynamo], now);
        if let Some(s) = providers[1].status.as_mut() {
            s.last_heartbeat = Some(Time(now - k8s_openapi::jiff::SignedDuration::from_mins(4)));
        }
        let s = spec(
            json!({ "model": { "id": "a" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
        );
        assert_eq!(
            pick(&s, &providers, now).1,
            "kaito",
            "dynamo's heartbeat is stale"
        );
        if let Some(st) = providers[0].status.as_mut() {
            st.ready = false;
        }
        let err = select_provider(
            &s,
            EngineType::Vllm,
            &providers,
            &RuleEngine::default(),
            now,
        )
        .expect_err("none ready");
        assert!(
            matches!(err, SelectionError::NoneReady(ref why) if why.contains("heartbeat") && why.contains("ready=false")),
            "{err}"
        );
        assert_eq!(
            select_engine(&s, &[], now),
            Ok(EngineChoice {
                engine: EngineType::Vllm,
                reason: "explicit engine selection".into(),
                explicit: true
            })
        );
        let auto = spec(json!({ "model": { "id": "a" } }));
        assert_eq!(
            select_engine(&auto, &[], now),
            Err(SelectionError::NoProviders)
        );
    }
}
