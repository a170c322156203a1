//! `GET /api/deployments/{name}/pending-reasons`: why the deployment's pods are not scheduled.
//!
//! Fixes of docs/contract/api.md §19.16: every Pending pod is examined (not just the first),
//! Warning events come from one list call in the namespace, reasons are deduplicated by (reason,
//! message) and ordered newest first, and the autoscaler heuristic reads the scheduler's message: a
//! resource shortage is something a cluster autoscaler can help with even when other nodes are
//! excluded by taints or selectors; only pure taint or selector mismatches are not.

use std::collections::{BTreeSet, HashSet};

use axum::Json;
use axum::extract::State;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde::Serialize;
use utoipa::ToSchema;

use super::{DeploymentName, NamespaceQuery, readable_pods, target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Why a pod is not running (`PodFailureReason` of the contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodFailureReason {
    /// Event reason, e.g. `FailedScheduling`.
    pub reason: String,
    /// Event message.
    pub message: String,
    /// The scheduler could not place the pod, or a resource is short.
    pub is_resource_constraint: bool,
    /// The resource that is short: `gpu`, `cpu` or `memory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<&'static str>,
    /// Whether adding nodes (a cluster autoscaler) can resolve it: true when a GPU, CPU or
    /// memory shortage is reported.
    pub can_autoscaler_help: bool,
}

/// `GET /api/deployments/{name}/pending-reasons` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingReasons {
    /// Distinct reasons, newest first.
    pub reasons: Vec<PodFailureReason>,
}

/// Reasons the deployment's Pending pods are waiting: their Warning events (one list call with
/// the caller's client) and the scheduler's condition on each pod.
#[utoipa::path(get, path = "/api/deployments/{name}/pending-reasons", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    responses(
        (status = 200, body = PendingReasons),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Deployment not found", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn pending_reasons(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> ApiResult<Json<PendingReasons>> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let pending: Vec<_> = readable_pods(&state, &caller, &namespace, &name)
        .await?
        .into_iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .collect();
    if pending.is_empty() {
        return Ok(Json(PendingReasons {
            reasons: Vec::new(),
        }));
    }

    let mut fields = "involvedObject.kind=Pod,type=Warning".to_string();
    if let [only] = pending.as_slice() {
        fields.push_str(&format!(",involvedObject.name={}", only.name_any()));
    }
    let events = Api::<Event>::namespaced(caller.client().clone(), &namespace)
        .list(&ListParams::default().fields(&fields))
        .await
        .map_err(|e| ApiError::kube("Failed to list events", e))?;

    let pending_pods: Vec<&Pod> = pending.iter().map(AsRef::as_ref).collect();
    Ok(Json(PendingReasons {
        reasons: reasons(&pending_pods, &events.items),
    }))
}

/// Distinct reasons from `events` about `pods` and the pods' scheduling conditions, newest first.
fn reasons(pods: &[&Pod], events: &[Event]) -> Vec<PodFailureReason> {
    let names: HashSet<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    let uids: HashSet<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    let mut found: Vec<(Option<Timestamp>, String, String)> = Vec::new();
    for event in events {
        let object = &event.involved_object;
        let about_pod = object.name.as_deref().is_some_and(|n| names.contains(n))
            // An event of an earlier pod with the same name is not about this one.
            && object.uid.as_deref().is_none_or(|u| uids.contains(u));
        if !about_pod || event.type_.as_deref() != Some("Warning") {
            continue;
        }
        let time = event
            .last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or_else(|| event.event_time.as_ref().map(|t| t.0))
            .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
            .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0));
        found.push((
            time,
            event.reason.clone().unwrap_or_else(|| "Unknown".into()),
            event.message.clone().unwrap_or_default(),
        ));
    }
    // The scheduler's verdict is also on the pod itself, even once its events have expired.
    for pod in pods {
        let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_deref());
        for c in conditions.unwrap_or_default() {
            if c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
                && let Some(message) = c.message.as_ref().filter(|m| !m.is_empty())
            {
                let time = c.last_transition_time.as_ref().map(|t| t.0);
                found.push((time, "FailedScheduling".into(), message.clone()));
            }
        }
    }
    // Newest first (unknown times last); the first of each (reason, message) wins.
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut seen = BTreeSet::new();
    found
        .into_iter()
        .filter(|(_, reason, message)| seen.insert((reason.clone(), message.clone())))
        .map(|(_, reason, message)| classify(reason, message))
        .collect()
}

/// Classifies one warning. Scheduler messages look like `0/7 nodes are available: 3
/// Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {…}, 3 node(s) didn't match
/// Pod's node affinity/selector.`: any `Insufficient <resource>` entry is a shortage that more
/// nodes would fix, whatever else the message says about other nodes.
pub(crate) fn classify(reason: String, message: String) -> PodFailureReason {
    let lower = message.to_lowercase();
    let is_resource_constraint = reason == "FailedScheduling" || lower.contains("insufficient");
    let short = shortages(&lower);
    let resource_type = if short.iter().any(|r| r.contains("gpu")) {
        Some("gpu")
    } else if short.contains(&"cpu") {
        Some("cpu")
    } else if short.contains(&"memory") {
        Some("memory")
    } else {
        None
    };
    PodFailureReason {
        reason,
        message,
        is_resource_constraint,
        resource_type,
        can_autoscaler_help: resource_type.is_some(),
    }
}

/// The resource names after each `insufficient ` in a lower-cased message.
fn shortages(lower: &str) -> Vec<&str> {
    lower
        .match_indices("insufficient ")
        .filter_map(|(i, m)| {
            let rest = &lower[i + m.len()..];
            let end = rest
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(rest.len());
            let name = rest[..end].trim_end_matches(['.', ';', ')']);
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(message: &str) -> PodFailureReason {
        classify("FailedScheduling".into(), message.into())
    }

    #[test]
    fn gpu_shortage_with_taints_elsewhere_is_autoscalable() {
        let r = c(
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
        );
        assert!(r.is_resource_constraint);
        assert_eq!(r.resource_type, Some("gpu"));
        assert!(r.can_autoscaler_help);
    }

    #[test]
    fn pure_taints_and_selectors_are_not() {
        let r = c(
            "0/2 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 1 node(s) didn't match Pod's node affinity/selector.",
        );
        assert!(r.is_resource_constraint);
        assert_eq!(r.resource_type, None);
        assert!(!r.can_autoscaler_help);
    }

    #[test]
    fn cpu_and_memory_shortages() {
        assert_eq!(
            c("0/1 nodes are available: 1 Insufficient cpu.").resource_type,
            Some("cpu")
        );
        assert_eq!(
            c("0/1 nodes are available: 1 Insufficient memory, 1 Insufficient cpu.").resource_type,
            Some("cpu")
        );
        assert_eq!(
            c("0/1 nodes are available: 1 Insufficient memory.").resource_type,
            Some("memory")
        );
        let other = classify("BackOff".into(), "Back-off pulling image".into());
        assert!(!other.is_resource_constraint && !other.can_autoscaler_help);
        assert_eq!(other.resource_type, None);
    }

    #[test]
    fn every_pending_pod_deduplicated_newest_first() {
        let pod = |name: &str, uid: &str| -> Pod {
            serde_json::from_value(json!({ "metadata": { "name": name, "uid": uid }, "status": { "phase": "Pending" } }))
                .expect("pod")
        };
        let event = |pod: &str, uid: &str, reason: &str, message: &str, at: &str| -> Event {
            serde_json::from_value(json!({
                "metadata": { "name": format!("{pod}.{at}") },
                "involvedObject": { "kind": "Pod", "name": pod, "uid": uid },
                "type": "Warning", "reason": reason, "message": message, "lastTimestamp": at,
            }))
            .expect("event")
        };
        let (a, b) = (pod("a", "1"), pod("b", "2"));
        let events = [
            event(
                "a",
                "1",
                "FailedScheduling",
                "0/1 nodes are available: 1 Insufficient cpu.",
                "2026-01-01T00:00:01Z",
            ),
            event(
                "b",
                "2",
                "FailedScheduling",
                "0/1 nodes are available: 1 Insufficient cpu.",
                "2026-01-01T00:00:05Z",
            ),
            event(
                "b",
                "2",
                "FailedMount",
                "volume missing",
                "2026-01-01T00:00:09Z",
            ),
            event(
                "a",
                "old",
                "FailedScheduling",
                "stale",
                "2026-01-01T00:00:10Z",
            ),
            event(
                "c",
                "3",
                "FailedScheduling",
                "other pod",
                "2026-01-01T00:00:10Z",
            ),
        ];
        let out = reasons(&[&a, &b], &events);
        let got: Vec<_> = out.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(got, ["FailedMount", "FailedScheduling"]);
    }
}
