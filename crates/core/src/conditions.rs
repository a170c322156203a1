//! Standard `metav1.Condition` handling: a condition keeps its `lastTransitionTime` unless its
//! status flips, so unchanged conditions never cause a write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Condition types (docs/contract/controller.md §1.4).
pub mod types {
    /// Core: spec validation.
    pub const VALIDATED: &str = "Validated";
    /// Core: engine decision.
    pub const ENGINE_SELECTED: &str = "EngineSelected";
    /// Core: provider decision.
    pub const PROVIDER_SELECTED: &str = "ProviderSelected";
    /// Provider: the spec is something it can serve.
    pub const PROVIDER_COMPATIBLE: &str = "ProviderCompatible";
    /// Provider: its objects exist.
    pub const RESOURCE_CREATED: &str = "ResourceCreated";
    /// Provider: the model is served.
    pub const READY: &str = "Ready";
}

/// A condition to set (type, status, reason, message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Want {
    /// Condition type.
    pub type_: &'static str,
    /// True or False.
    pub status: bool,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Want {
    /// A True condition.
    pub fn yes(type_: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A False condition.
    pub fn no(type_: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: false,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Builds the conditions to write, reusing `lastTransitionTime` from `current` when the status
/// did not change.
pub fn build(
    current: Option<&Vec<Condition>>,
    wants: &[Want],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    wants
        .iter()
        .map(|w| {
            let status = if w.status { "True" } else { "False" };
            let previous = current.and_then(|cs| cs.iter().find(|c| c.type_ == w.type_));
            let last_transition_time = match previous {
                Some(p) if p.status == status => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: w.type_.to_string(),
                status: status.to_string(),
                reason: w.reason.clone(),
                message: w.message.clone(),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}

/// True when every condition in `wanted` is already present in `current` with the same
/// status, reason, message and observed generation.
pub fn unchanged(current: Option<&Vec<Condition>>, wanted: &[Condition]) -> bool {
    wanted.iter().all(|w| {
        current.is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_ == w.type_
                    && c.status == w.status
                    && c.reason == w.reason
                    && c.message == w.message
                    && c.observed_generation == w.observed_generation
            })
        })
    })
}

/// The condition of a type, if present.
pub fn find<'a>(conditions: Option<&'a Vec<Condition>>, type_: &str) -> Option<&'a Condition> {
    conditions.and_then(|cs| cs.iter().find(|c| c.type_ == type_))
}

/// A fingerprint of a status write without its timestamps: what a writer meant to say.
pub fn fingerprint(body: &serde_json::Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut body = body.clone();
    if let Some(conds) = body
        .pointer_mut("/status/conditions")
        .and_then(serde_json::Value::as_array_mut)
    {
        for c in conds {
            if let Some(o) = c.as_object_mut() {
                o.remove("lastTransitionTime");
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.to_string().hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_only_moves_when_status_flips() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let t1: Timestamp = "2026-01-01T00:05:00Z".parse().expect("time");
        let first = build(
            None,
            &[Want::yes(types::READY, "DeploymentReady", "ok")],
            Some(1),
            t0,
        );
        let same = build(
            Some(&first),
            &[Want::yes(types::READY, "DeploymentReady", "still ok")],
            Some(2),
            t1,
        );
        assert_eq!(same[0].last_transition_time, Time(t0));
        let flipped = build(
            Some(&first),
            &[Want::no(types::READY, "DeploymentInProgress", "wait")],
            Some(2),
            t1,
        );
        assert_eq!(flipped[0].last_transition_time, Time(t1));
        assert!(unchanged(Some(&first), &first));
        assert!(!unchanged(Some(&first), &same), "message changed");
    }
}
