//! Fixtures shared by the providers' unit tests, so each test module states only what is
//! particular to its provider.

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{EngineType, ModelDeployment};
use serde_json::{Value, json};

use super::Provider;
use super::common::deep_merge;

/// A ModelDeployment `team-a/llama` (uid `uid-1`) with the given spec.
pub(crate) fn md(spec: Value) -> ModelDeployment {
    let mut md = ModelDeployment::new("llama", serde_json::from_value(spec).expect("spec"));
    md.metadata.namespace = Some("team-a".into());
    md.metadata.uid = Some("uid-1".into());
    md
}

/// [`md`] of a provider's base spec with `extra` deep-merged over it, so a test states only what
/// it changes.
pub(crate) fn md_with(mut base: Value, extra: &Value) -> ModelDeployment {
    deep_merge(&mut base, extra);
    md(base)
}

/// The one object `provider` renders for `md`.
pub(crate) fn desired_one(
    provider: &impl Provider,
    md: &ModelDeployment,
    engine: EngineType,
) -> Value {
    let mut objects = provider.desired(md, engine).expect("desired");
    assert_eq!(objects.len(), 1, "one object");
    objects.remove(0)
}

/// A JSON array of strings, to compare argv in one assertion.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).expect("array of strings")
}

/// A provider's `tests/golden.json`: the complete rendering of its representative spec, kept as
/// a file so a change to the rendering shows as a diff of the objects.
pub(crate) fn golden(text: &str) -> Value {
    serde_json::from_str(text).expect("golden.json")
}

/// A pod the scheduler could not place, with the scheduler's message.
pub(crate) fn unschedulable_pod(name: &str, message: &str) -> Pod {
    pod(
        name,
        json!([{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message }]),
    )
}

/// A pod the scheduler has placed.
pub(crate) fn scheduled_pod(name: &str) -> Pod {
    pod(name, json!([{ "type": "PodScheduled", "status": "True" }]))
}

fn pod(name: &str, conditions: Value) -> Pod {
    serde_json::from_value(
        json!({ "metadata": { "name": name }, "status": { "conditions": conditions } }),
    )
    .expect("pod")
}

/// One row of a compatibility table: a name for the failure message, the deployment, the
/// engine, and `None` when it must be accepted or a fragment of the expected refusal.
pub(crate) type CompatibilityCase = (
    &'static str,
    ModelDeployment,
    EngineType,
    Option<&'static str>,
);

/// Checks every row of a compatibility table against `provider`.
pub(crate) fn assert_compatibility(provider: &impl Provider, cases: Vec<CompatibilityCase>) {
    for (name, md, engine, want) in cases {
        let got = provider.check_compatible(&md, engine);
        match want {
            None => assert_eq!(got, Ok(()), "{name}"),
            Some(fragment) => {
                let err = got.expect_err(name).to_string();
                assert!(err.contains(fragment), "{name}: {err}");
            }
        }
    }
}

/// Registrations of `providers` as each would write them, ready and with a fresh heartbeat.
pub(crate) fn registered(
    providers: &[&dyn Provider],
    now: k8s_openapi::jiff::Timestamp,
) -> Vec<kubeairunway_api::InferenceProviderConfig> {
    providers
        .iter()
        .map(|p| {
            let mut ipc =
                kubeairunway_api::InferenceProviderConfig::new(p.name(), p.registration());
            ipc.status = Some(kubeairunway_api::InferenceProviderConfigStatus {
                ready: true,
                last_heartbeat: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now)),
                ..Default::default()
            });
            ipc
        })
        .collect()
}
