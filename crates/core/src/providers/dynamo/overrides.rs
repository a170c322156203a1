//! The typed keys of `spec.provider.overrides` (router mode and Frontend settings), read apart
//! from the rest, which is deep-merged.

use serde_json::{Map, Value};

use kubeairunway_api::ModelDeployment;

use super::super::TransformError;

/// Frontend settings read from the typed keys of `spec.provider.overrides`.
#[derive(Debug, PartialEq)]
pub(super) struct FrontendSettings {
    pub(super) replicas: i32,
    pub(super) router_mode: String,
    pub(super) cpu: String,
    pub(super) memory: String,
}

impl Default for FrontendSettings {
    fn default() -> Self {
        Self {
            replicas: 1,
            router_mode: "round-robin".into(),
            cpu: "2".into(),
            memory: "4Gi".into(),
        }
    }
}

/// Splits `spec.provider.overrides` into the typed Frontend settings and the rest, which is
/// deep-merged into the object. The typed keys are not merged as well.
pub(super) fn split_overrides(
    md: &ModelDeployment,
) -> Result<(FrontendSettings, Option<Map<String, Value>>), TransformError> {
    let mut settings = FrontendSettings::default();
    let Some(overrides) = md.spec.provider.as_ref().and_then(|p| p.overrides.as_ref()) else {
        return Ok((settings, None));
    };
    let Value::Object(map) = overrides else {
        return Err(TransformError(
            "spec.provider.overrides must be a JSON object".into(),
        ));
    };
    let mut rest = map.clone();
    if let Some(mode) = rest.remove("routerMode") {
        settings.router_mode = mode
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                TransformError(
                    "spec.provider.overrides.routerMode must be a non-empty string such as \
                     round-robin, random or kv"
                        .into(),
                )
            })?
            .to_string();
    }
    if let Some(frontend) = rest.remove("frontend") {
        read_frontend(&frontend, &mut settings)?;
    }
    Ok((settings, (!rest.is_empty()).then_some(rest)))
}

fn read_frontend(frontend: &Value, settings: &mut FrontendSettings) -> Result<(), TransformError> {
    const FIELD: &str = "spec.provider.overrides.frontend";
    let Value::Object(map) = frontend else {
        return Err(TransformError(format!("{FIELD} must be an object")));
    };
    for (key, value) in map {
        match key.as_str() {
            "replicas" => {
                settings.replicas = whole_number(value)
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| {
                        TransformError(format!("{FIELD}.replicas must be a whole number >= 0"))
                    })?;
            }
            "resources" => {
                let Value::Object(resources) = value else {
                    return Err(TransformError(format!(
                        "{FIELD}.resources must be an object"
                    )));
                };
                for (name, quantity) in resources {
                    let target = match name.as_str() {
                        "cpu" => &mut settings.cpu,
                        "memory" => &mut settings.memory,
                        other => {
                            return Err(TransformError(format!(
                                "{FIELD}.resources.{other} is not supported (supported: cpu, \
                                 memory)"
                            )));
                        }
                    };
                    *target = quantity_string(quantity).ok_or_else(|| {
                        TransformError(format!(
                            "{FIELD}.resources.{name} must be a quantity such as \"2\" or \"4Gi\""
                        ))
                    })?;
                }
            }
            other => {
                return Err(TransformError(format!(
                    "{FIELD}.{other} is not supported (supported: replicas, resources.cpu, \
                     resources.memory); set other Frontend fields through \
                     spec.provider.overrides.spec.services.Frontend"
                )));
            }
        }
    }
    Ok(())
}

/// An integer, also when it arrives as a whole JSON double (`2.0`).
fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

fn quantity_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
