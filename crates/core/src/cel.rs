//! CEL selection rules: the input they see and their evaluation.
//!
//! Rules written for the reference implementation must give the same answers here, so the `spec`
//! variable is built the way Go's `encoding/json` renders the reference's types
//! (docs/contract/controller.md §14): zero values of `omitempty` fields are absent, `model` and
//! `engine` are always present, every number is a double, and the resolved engine is injected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube_core::cel::cel as kcel;
use kubeairunway_api::{EngineType, ModelDeploymentSpec};
use serde_json::Value;

/// Keys whose values are Go maps (omitted when empty); other objects are Go structs or pointers
/// to structs, which `omitempty` never drops once present.
const MAP_KEYS: [&str; 5] = ["args", "nodeSelector", "labels", "annotations", "overrides"];

/// The JSON value bound to `spec` for a deployment whose engine resolved to `engine`.
pub fn spec_input(spec: &ModelDeploymentSpec, engine: Option<EngineType>) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or(Value::Null);
    if let Some(engine) = engine
        && let Some(obj) = value.as_object_mut()
    {
        let entry = obj
            .entry("engine")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(e) = entry.as_object_mut() {
            e.insert("type".into(), Value::String(engine.as_str().into()));
        }
    }
    prune(&mut value);
    if let Some(obj) = value.as_object_mut() {
        for key in ["model", "engine"] {
            obj.entry(key)
                .or_insert_with(|| Value::Object(Default::default()));
        }
    }
    value
}

/// Drops what Go's `omitempty` would drop.
fn prune(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                prune(v);
            }
            map.retain(|key, v| match v {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !(o.is_empty() && MAP_KEYS.contains(&key.as_str())),
                Value::Bool(true) => true,
            });
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

/// Converts JSON to a CEL value with every number as a double, as Go's JSON decoding does.
fn to_cel(value: &Value) -> kcel::Value {
    match value {
        Value::Null => kcel::Value::Null,
        Value::Bool(b) => kcel::Value::Bool(*b),
        Value::Number(n) => kcel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => kcel::Value::String(Arc::new(s.clone())),
        Value::Array(a) => kcel::Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(o) => {
            let map: HashMap<String, kcel::Value> =
                o.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            kcel::Value::from(map)
        }
    }
}

/// How one rule evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleOutcome {
    /// The condition was `true`.
    Matched,
    /// The condition was `false`.
    NotMatched,
    /// The rule failed to compile, failed at run time or returned a non-boolean; it counts as
    /// no match and the text says why.
    Error(String),
}

/// Compiles each distinct rule once and evaluates it against specs.
#[derive(Default)]
pub struct RuleEngine {
    programs: Mutex<HashMap<String, Result<Arc<kcel::Program>, String>>>,
}

impl std::fmt::Debug for RuleEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleEngine").finish_non_exhaustive()
    }
}

impl RuleEngine {
    /// Evaluates `condition` with `spec` bound to `input` (from [`spec_input`]).
    pub fn evaluate(&self, condition: &str, input: &Value) -> RuleOutcome {
        let program = {
            let Ok(mut cache) = self.programs.lock() else {
                return RuleOutcome::Error("rule cache poisoned".into());
            };
            cache
                .entry(condition.to_string())
                .or_insert_with(|| {
                    kcel::Program::compile(condition)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone()
        };
        let program = match program {
            Ok(p) => p,
            Err(e) => return RuleOutcome::Error(format!("does not compile: {e}")),
        };
        let mut context = kcel::Context::default();
        context.add_variable_from_value("spec", to_cel(input));
        // The interpreter may panic on exotic input; a rule must never take the controller down.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(&context)));
        match result {
            Ok(Ok(kcel::Value::Bool(true))) => RuleOutcome::Matched,
            Ok(Ok(kcel::Value::Bool(false))) => RuleOutcome::NotMatched,
            Ok(Ok(other)) => RuleOutcome::Error(format!("returned {other:?}, not a boolean")),
            Ok(Err(e)) => RuleOutcome::Error(e.to_string()),
            Err(_) => RuleOutcome::Error("evaluation panicked".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> ModelDeploymentSpec {
        serde_json::from_value(v).expect("spec")
    }

    #[test]
    fn input_drops_go_zero_values_and_keeps_model_and_engine() {
        let s = spec(
            json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 0 } }, "engine": { "args": {} } }),
        );
        let input = spec_input(&s, Some(EngineType::Llamacpp));
        assert_eq!(input["engine"], json!({ "type": "llamacpp" }));
        assert_eq!(
            input["resources"],
            json!({ "gpu": { "type": "nvidia.com/gpu" } })
        );
        assert_eq!(
            input["model"],
            json!({ "id": "a/b", "source": "huggingface" })
        );
        assert!(input.get("provider").is_none());
    }

    #[test]
    fn reference_rules_give_reference_answers() {
        let engine = RuleEngine::default();
        let gpu2 = spec_input(
            &spec(json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 2 } } })),
            Some(EngineType::Vllm),
        );
        let cpu = spec_input(
            &spec(json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 0 } } })),
            Some(EngineType::Llamacpp),
        );
        let no_resources = spec_input(
            &spec(json!({ "model": { "id": "a/b" }, "serving": { "mode": "disaggregated" } })),
            Some(EngineType::Vllm),
        );
        let kuberay =
            "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && spec.engine.type == 'vllm'";
        let dynamo =
            "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && spec.engine.type == 'vllm'";
        let kaito = "!has(spec.resources.gpu) || spec.resources.gpu.count == 0";
        let disagg = "has(spec.serving) && spec.serving.mode == 'disaggregated'";
        assert_eq!(engine.evaluate(kuberay, &gpu2), RuleOutcome::Matched);
        assert_eq!(engine.evaluate(dynamo, &gpu2), RuleOutcome::Matched);
        assert_eq!(engine.evaluate(kaito, &gpu2), RuleOutcome::NotMatched);
        // `count: 0` is omitted, so `count == 0` errors and `!has(gpu)` is false: the reference's
        // KAITO rule only matches through its llamacpp rule here.
        assert!(matches!(
            engine.evaluate("spec.resources.gpu.count == 0", &cpu),
            RuleOutcome::Error(_)
        ));
        assert_eq!(
            engine.evaluate("spec.engine.type == 'llamacpp'", &cpu),
            RuleOutcome::Matched
        );
        assert_eq!(engine.evaluate(disagg, &no_resources), RuleOutcome::Matched);
        assert!(
            matches!(
                engine.evaluate(kuberay, &no_resources),
                RuleOutcome::Error(_)
            ),
            "missing resources errors"
        );
        assert_eq!(
            engine.evaluate("spec.resources.gpu.count == 2.0", &gpu2),
            RuleOutcome::Matched
        );
        assert!(
            matches!(
                engine.evaluate("spec.model.id", &gpu2),
                RuleOutcome::Error(_)
            ),
            "non-boolean"
        );
        assert!(
            matches!(engine.evaluate("spec.(", &gpu2), RuleOutcome::Error(_)),
            "syntax error"
        );
    }
}
