//! Engine and provider selection (controller.md §4.4–4.5), as pure functions over the
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
/// when there is one (controller.md §13.5).
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

/// Picks the provider (controller.md §4.5): the spec's if named (it must be registered), else
/// among ready providers whose capabilities fit the engine and shape, the highest priority of
/// any matching CEL rule (0 when none matches); ties go to the smallest name.
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
