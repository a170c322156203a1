//! What the RayService's status means for the ModelDeployment.

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{EndpointStatus, ModelDeployment, ReplicaStatus, ServingMode};
use serde_json::Value;

use super::super::common::{self, unschedulable_message};
use super::super::{Observed, ObservedPhase};
use super::SERVE_PORT;

/// Phase from the `Ready` condition, overridden by the Serve applications' statuses once they
/// are reported; replicas from the worker groups.
pub(super) fn observe(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
    let endpoint = Some(EndpointStatus {
        service: Some(format!("{}-serve-svc", md.name_any())),
        port: Some(SERVE_PORT),
    });
    let desired = primary
        .and_then(|rs| rs.pointer("/spec/rayClusterConfig/workerGroupSpecs"))
        .and_then(Value::as_array)
        .and_then(|groups| {
            groups
                .iter()
                .filter_map(|g| g.get("replicas")?.as_i64())
                .filter_map(|n| i32::try_from(n).ok())
                .reduce(i32::saturating_add)
        })
        .unwrap_or_else(|| desired_from_spec(md));

    let conditions = primary.map(common::conditions).unwrap_or_default();
    // KubeRay names the condition `Ready`; the reference looked for `RayServiceReady`.
    let ready_condition = conditions
        .iter()
        .find(|(t, _, _)| t == "Ready" || t == "RayServiceReady");
    let (mut phase, mut message) = match ready_condition {
        Some((_, s, _)) if s == "True" => (ObservedPhase::Running, None),
        Some((_, s, m)) if s == "False" => (ObservedPhase::Deploying, non_empty(m)),
        _ => (ObservedPhase::Pending, None),
    };

    let apps = applications(primary);
    let all_running = !apps.is_empty() && apps.iter().all(|a| a.status == "RUNNING");
    if !apps.is_empty() {
        if let Some(failed) = apps.iter().find(|a| a.status == "DEPLOY_FAILED") {
            phase = ObservedPhase::Failed;
            message = Some(non_empty(&failed.message).unwrap_or_else(|| {
                format!("Ray Serve application {} failed to deploy", failed.name)
            }));
        } else if all_running {
            phase = ObservedPhase::Running;
            message = None;
        } else {
            phase = ObservedPhase::Deploying;
            if let Some(waiting) = apps
                .iter()
                .find(|a| a.status != "RUNNING" && !a.message.is_empty())
            {
                message = Some(waiting.message.clone());
            }
        }
    }
    if matches!(phase, ObservedPhase::Pending | ObservedPhase::Deploying)
        && let Some(unschedulable) = unschedulable_message(pods)
    {
        message = Some(unschedulable);
    }
    let ready = if all_running { desired } else { 0 };
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

/// One Ray Serve application status.
struct AppStatus {
    name: String,
    status: String,
    message: String,
}

/// `status.activeServiceStatus.applicationStatuses`, skipping entries without a status string.
fn applications(primary: Option<&Value>) -> Vec<AppStatus> {
    primary
        .and_then(|rs| rs.pointer("/status/activeServiceStatus/applicationStatuses"))
        .and_then(Value::as_object)
        .map(|apps| {
            apps.iter()
                .filter_map(|(name, app)| {
                    Some(AppStatus {
                        name: name.clone(),
                        status: app.get("status")?.as_str()?.to_string(),
                        message: app
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Worker replicas the RayService asks for, when the live object cannot tell.
fn desired_from_spec(md: &ModelDeployment) -> i32 {
    match md.spec.serving.mode {
        ServingMode::Aggregated => common::replicas(md),
        ServingMode::Disaggregated => [&md.spec.scaling.prefill, &md.spec.scaling.decode]
            .into_iter()
            .flatten()
            .map(|c| c.replicas.max(0))
            .sum(),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
