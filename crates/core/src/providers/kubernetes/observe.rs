//! What the Deployment's status means for the ModelDeployment.

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{EndpointStatus, ModelDeployment, ReplicaStatus};
use serde_json::Value;

use super::super::common;
use super::super::{Observed, ObservedPhase};
use super::SERVICE_PORT;

/// Phase and replicas from the Deployment's status; the scheduler's reason while pods wait.
pub(super) fn observe(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
    let name = md.metadata.name.clone().unwrap_or_default();
    let endpoint = Some(EndpointStatus {
        service: Some(name),
        port: Some(SERVICE_PORT),
    });
    let desired = common::replicas(md);
    let Some(deployment) = primary else {
        return Observed {
            phase: ObservedPhase::Pending,
            message: None,
            replicas: None,
            endpoint,
            components: None,
        };
    };
    let int = |p: &str| {
        deployment
            .pointer(p)
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or(0)
    };
    let replicas = ReplicaStatus {
        desired,
        ready: int("/status/readyReplicas"),
        available: int("/status/availableReplicas"),
    };
    let deadline_exceeded = common::conditions(deployment)
        .into_iter()
        .find(|(t, s, _)| t == "Progressing" && s == "False");
    let (phase, message) = if let Some((_, _, msg)) = deadline_exceeded {
        (
            ObservedPhase::Failed,
            Some(format!("The Deployment stopped progressing: {msg}")),
        )
    } else if desired == 0 {
        (
            ObservedPhase::Running,
            Some("Scaled to zero replicas".to_string()),
        )
    } else if replicas.ready >= desired {
        (
            ObservedPhase::Running,
            Some(format!("{}/{} replicas ready", replicas.ready, desired)),
        )
    } else if let Some(why) = common::unschedulable_message(pods) {
        (ObservedPhase::Deploying, Some(why))
    } else {
        (
            ObservedPhase::Deploying,
            Some(format!(
                "{}/{} replicas ready, waiting for pods to be ready",
                replicas.ready, desired
            )),
        )
    };
    Observed {
        phase,
        message,
        replicas: Some(replicas),
        endpoint,
        components: None,
    }
}
