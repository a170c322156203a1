//! What the DGD's status means for the ModelDeployment.

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::{
    ComponentReplicaStatus, EndpointStatus, ModelDeployment, ReplicaStatus, ServingMode,
};
use serde_json::{Map, Value};

use super::super::common::{self, unschedulable_message};
use super::super::{Components, Observed, ObservedPhase};
use super::FRONTEND_PORT;
use super::overrides::split_overrides;

/// Phase from `status.state`, replicas summed over the services (top-level counts win), the
/// endpoint from `status.endpoint` when Dynamo reports one.
pub(super) fn observe(md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
    let spec_desired = primary
        .and_then(|dgd| dgd.pointer("/spec/services"))
        .and_then(Value::as_object)
        .and_then(|services| sum_field(services, "replicas"))
        .unwrap_or_else(|| desired_from_spec(md));
    let mut endpoint = EndpointStatus {
        service: Some(format!("{}-frontend", md.name_any())),
        port: Some(FRONTEND_PORT),
    };
    let waiting = |phase: ObservedPhase, message: Option<String>| match phase {
        ObservedPhase::Pending | ObservedPhase::Deploying => {
            unschedulable_message(pods).or(message)
        }
        ObservedPhase::Running | ObservedPhase::Failed => message,
    };

    let Some(status) = primary
        .and_then(|dgd| dgd.get("status"))
        .and_then(Value::as_object)
    else {
        return Observed {
            phase: ObservedPhase::Pending,
            message: waiting(ObservedPhase::Pending, None),
            replicas: Some(ReplicaStatus {
                desired: spec_desired,
                ready: 0,
                available: 0,
            }),
            endpoint: Some(endpoint),
            components: components(md, primary, None),
        };
    };

    let phase = match status.get("state").and_then(Value::as_str) {
        Some("successful") => ObservedPhase::Running,
        Some("deploying") => ObservedPhase::Deploying,
        Some("failed") => ObservedPhase::Failed,
        _ => ObservedPhase::Pending,
    };
    let text = |key: &str| {
        status
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let message = if phase == ObservedPhase::Failed {
        let false_condition = primary
            .map(common::conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|(_, s, m)| s == "False" && !m.is_empty())
            .map(|(_, _, m)| m);
        text("message")
            .or_else(|| text("error"))
            .or(false_condition)
    } else {
        text("message")
    };

    let services = status.get("services").and_then(Value::as_object);
    let from_services = |field: &str| services.and_then(|s| sum_field(s, field));
    let top_level = |field: &str| {
        status
            .get(field)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let desired = top_level("desiredReplicas")
        .or_else(|| from_services("replicas"))
        .unwrap_or(spec_desired);
    let ready = top_level("readyReplicas").or_else(|| from_services("readyReplicas"));
    let available = top_level("availableReplicas").or_else(|| from_services("availableReplicas"));

    if let Some(service) = status
        .get("endpoint")
        .and_then(|e| e.get("service"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        endpoint.service = Some(service.to_string());
    }
    if let Some(port) = status
        .get("endpoint")
        .and_then(|e| e.get("port"))
        .and_then(Value::as_i64)
        .and_then(|p| i32::try_from(p).ok())
    {
        endpoint.port = Some(port);
    }

    Observed {
        phase,
        message: waiting(phase, message),
        replicas: Some(ReplicaStatus {
            desired,
            ready: ready.unwrap_or(0),
            available: available.unwrap_or(0),
        }),
        endpoint: Some(endpoint),
        components: components(md, primary, services),
    }
}

/// The prefill and decode workers of a disaggregated DGD: requested from the DGD's services
/// (else the ModelDeployment's spec), ready from the services' status.
fn components(
    md: &ModelDeployment,
    primary: Option<&Value>,
    status: Option<&Map<String, Value>>,
) -> Option<Components> {
    if md.spec.serving.mode != ServingMode::Disaggregated {
        return None;
    }
    let spec_services = primary
        .and_then(|dgd| dgd.pointer("/spec/services"))
        .and_then(Value::as_object);
    let count = |service: Option<&Value>, field: &str| {
        service
            .and_then(|s| s.get(field))
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let one = |suffix: &str, fallback: Option<&kubeairunway_api::ComponentScalingSpec>| {
        let desired = count(service(spec_services, suffix), "replicas")
            .or_else(|| fallback.map(|c| c.replicas.max(0)))
            .unwrap_or(0);
        ComponentReplicaStatus {
            desired,
            ready: count(service(status, suffix), "readyReplicas").unwrap_or(0),
        }
    };
    Some(Components {
        prefill: one("PrefillWorker", md.spec.scaling.prefill.as_ref()),
        decode: one("DecodeWorker", md.spec.scaling.decode.as_ref()),
    })
}

/// Replicas the DGD asks for, counted like its status counts them: Frontend plus workers.
fn desired_from_spec(md: &ModelDeployment) -> i32 {
    let frontend = split_overrides(md).map_or(1, |(settings, _)| settings.replicas);
    let workers = match md.spec.serving.mode {
        ServingMode::Aggregated => common::replicas(md),
        ServingMode::Disaggregated => [&md.spec.scaling.prefill, &md.spec.scaling.decode]
            .into_iter()
            .flatten()
            .map(|c| c.replicas.max(0))
            .sum(),
    };
    frontend.saturating_add(workers)
}

/// The service whose name ends with `suffix` (`VllmPrefillWorker` for `PrefillWorker`).
fn service<'a>(services: Option<&'a Map<String, Value>>, suffix: &str) -> Option<&'a Value> {
    services?
        .iter()
        .find(|(name, _)| name.ends_with(suffix))
        .map(|(_, v)| v)
}

/// Sum of an integer field over the services map; `None` when no service has it.
fn sum_field(services: &Map<String, Value>, field: &str) -> Option<i32> {
    services
        .values()
        .filter_map(|s| s.get(field)?.as_i64())
        .filter_map(|n| i32::try_from(n).ok())
        .reduce(i32::saturating_add)
}
