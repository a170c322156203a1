//! What the Workspace's (or InferenceSet's) conditions mean for the ModelDeployment.

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{EndpointStatus, EngineType, ModelDeployment, ReplicaStatus};
use serde_json::Value;

use super::super::common::{self, resolved_engine, unschedulable_message};
use super::super::{Observed, ObservedPhase};
use super::{INFERENCE_SET, PRESET_PORT, ResourceType, TEMPLATE_PORT, resource_type};

/// Phase from `WorkspaceSucceeded` (or the readiness conditions while it is unset); the
/// endpoint port from the inference kind.
pub(super) fn observe(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
    let inference_set = match primary {
        Some(object) => object["kind"].as_str() == Some(INFERENCE_SET.kind),
        None => resource_type(md) == Ok(ResourceType::InferenceSet),
    };
    if inference_set {
        return observe_set(md, primary, pods);
    }
    let template = match primary {
        Some(ws) => ws.pointer("/inference/template").is_some(),
        None => resolved_engine(md) == Some(EngineType::Llamacpp),
    };
    let endpoint = Some(EndpointStatus {
        service: Some(md.name_any()),
        port: Some(if template { TEMPLATE_PORT } else { PRESET_PORT }),
    });
    let desired = primary
        .and_then(|ws| ws.pointer("/resource/count"))
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or_else(|| common::replicas(md).max(1));

    let conditions = primary.map(common::conditions).unwrap_or_default();
    let find = |t: &str| conditions.iter().find(|(ty, _, _)| ty == t);
    let is_true = |t: &str| find(t).is_some_and(|(_, s, _)| s == "True");

    let (phase, mut message) = match find("WorkspaceSucceeded") {
        Some((_, s, _)) if s == "True" => (ObservedPhase::Running, None),
        Some((_, s, m)) if s == "False" => (ObservedPhase::Failed, non_empty(m)),
        _ => {
            let phase = if is_true("ResourceReady") || is_true("InferenceReady") {
                ObservedPhase::Deploying
            } else {
                ObservedPhase::Pending
            };
            // The first not-ready condition with a message says what is being waited for.
            let waiting = conditions
                .iter()
                .find(|(_, s, m)| s == "False" && !m.is_empty())
                .map(|(_, _, m)| m.clone());
            (phase, waiting)
        }
    };
    if matches!(phase, ObservedPhase::Pending | ObservedPhase::Deploying)
        && let Some(unschedulable) = unschedulable_message(pods)
    {
        message = Some(unschedulable);
    }
    let ready = if phase == ObservedPhase::Running {
        desired
    } else {
        0
    };
    Observed {
        phase,
        message,
        replicas: Some(ReplicaStatus {
            desired,
            ready,
            available: ready,
        }),
        endpoint,
        components: None,
    }
}

/// An InferenceSet: Running once `InferenceSetReady` is True; ready replicas from
/// `status.readyReplicas`. KAITO names the set's Workspaces `<name>-<index>`, each with its own
/// Service; the first one is reported as the endpoint.
fn observe_set(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
    let template = match primary {
        Some(set) => set.pointer("/spec/template/inference/template").is_some(),
        None => resolved_engine(md) == Some(EngineType::Llamacpp),
    };
    let count = |pointer: &str| {
        primary
            .and_then(|set| set.pointer(pointer))
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
    };
    let desired = count("/spec/replicas").unwrap_or_else(|| common::replicas(md).max(1));
    let ready_replicas = count("/status/readyReplicas")
        .unwrap_or(0)
        .clamp(0, desired);
    let conditions = primary.map(common::conditions).unwrap_or_default();
    let ready_condition = conditions
        .iter()
        .find(|(ty, _, _)| ty == "InferenceSetReady");
    let (phase, mut message) = match ready_condition {
        Some((_, s, _)) if s == "True" => (ObservedPhase::Running, None),
        Some((_, _, m)) => (
            if count("/status/replicas").unwrap_or(0) > 0 || ready_replicas > 0 {
                ObservedPhase::Deploying
            } else {
                ObservedPhase::Pending
            },
            non_empty(m),
        ),
        None => (ObservedPhase::Pending, None),
    };
    if phase != ObservedPhase::Running
        && let Some(unschedulable) = unschedulable_message(pods)
    {
        message = Some(unschedulable);
    }
    let ready = if phase == ObservedPhase::Running {
        desired
    } else {
        ready_replicas
    };
    Observed {
        phase,
        message,
        replicas: Some(ReplicaStatus {
            desired,
            ready,
            available: ready,
        }),
        endpoint: Some(EndpointStatus {
            service: Some(format!("{}-0", md.name_any())),
            port: Some(if template { TEMPLATE_PORT } else { PRESET_PORT }),
        }),
        components: None,
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
