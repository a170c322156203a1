//! What the Workspace's conditions mean for the ModelDeployment.

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{EndpointStatus, EngineType, ModelDeployment, ReplicaStatus};
use serde_json::Value;

use super::super::common::{self, resolved_engine, unschedulable_message};
use super::super::{Observed, ObservedPhase};
use super::{PRESET_PORT, TEMPLATE_PORT};

/// Phase from `WorkspaceSucceeded` (or the readiness conditions while it is unset); the
/// endpoint port from the inference kind.
pub(super) fn observe(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
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
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
