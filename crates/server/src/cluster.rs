//! Cluster nodes (docs/contract/api.md §3) and the connectivity answer of `/api/cluster/status`,
//! both from the watch caches. Only the protected `/api/cluster/nodes` exists: the public alias
//! `/api/health/nodes` leaked node names (§19 security 3).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{Api, ResourceExt};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use kubeairunway_core::gpu::node_gpus;

/// How long the CRD lookup of the status answer may take when the cache cannot tell.
const CRD_TIMEOUT: Duration = Duration::from_secs(1);
/// The CRD whose presence means KubeAIRunway is installed.
const MD_CRD: &str = "modeldeployments.kubeairunway.ai";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(nodes))
}

/// One schedulable node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeInfo {
    /// Node name.
    pub name: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// Allocatable `nvidia.com/gpu`.
    pub gpu_count: i64,
}

/// `GET /api/cluster/nodes` response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct NodeList {
    /// Schedulable nodes sorted by name.
    pub nodes: Vec<NodeInfo>,
}

/// The schedulable nodes with their readiness and GPU count.
#[utoipa::path(get, path = "/api/cluster/nodes", tag = "cluster",
    responses(
        (status = 200, body = NodeList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not list nodes", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn nodes(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NodeList>> {
    let caches = state.caches()?;
    // Cache state first: during an outage the answer is a fast 503, not a failed access review.
    caches.ready(Kind::Nodes).await?;
    caller.require("list", Resource::NODES, None).await?;
    let mut nodes: Vec<NodeInfo> = caches
        .nodes
        .state()
        .iter()
        .filter(|n| {
            !n.spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false)
        })
        .map(|n| node_info(n))
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(NodeList { nodes }))
}

fn node_info(node: &Node) -> NodeInfo {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    NodeInfo {
        name: node.name_any(),
        ready,
        gpu_count: node_gpus(node),
    }
}

/// `providerInstallation` of the status answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderInstallation {
    /// The ModelDeployment CRD is installed.
    pub installed: bool,
    /// Same as `installed`.
    pub crd_found: bool,
    /// What was found.
    pub message: String,
}

/// `GET /api/cluster/status` response (always 200).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterStatus {
    /// The API server answers.
    pub connected: bool,
    /// `DEFAULT_NAMESPACE` of the server (not the settings value).
    pub namespace: String,
    /// Kubeconfig context name; only when connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Why the cluster is not reachable; only when not connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether KubeAIRunway's CRD is installed; `null` when not connected.
    pub provider_installation: Option<ProviderInstallation>,
}

/// Connectivity and installation state, answered from the caches' view of the API server: a
/// cluster the watches cannot reach is reported at once instead of after a probe timeout.
pub(crate) async fn status(state: &AppState) -> ClusterStatus {
    let namespace = state.config().default_namespace.clone();
    let disconnected = |error: String| ClusterStatus {
        connected: false,
        namespace: namespace.clone(),
        cluster_name: None,
        error: Some(error),
        provider_installation: None,
    };
    let (kube, caches) = match (state.kube(), state.caches()) {
        (Ok(k), Ok(c)) => (k, c),
        (Err(e), _) | (_, Err(e)) => return disconnected(e.message),
    };
    // Nodes always exist, so the node watch's health is the API server's.
    if let Err(e) = caches.ready(Kind::Nodes).await {
        if !still_loading(caches) {
            return disconnected(e.message);
        }
        // The first list has not finished: ask the API server directly, briefly.
        match tokio::time::timeout(CRD_TIMEOUT, kube.client.apiserver_version()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return disconnected(crate::error::describe_kube_error(&err).1),
            Err(_) => {
                return disconnected(format!(
                    "the Kubernetes API server did not answer within {CRD_TIMEOUT:?}"
                ));
            }
        }
    }
    ClusterStatus {
        connected: true,
        namespace,
        cluster_name: Some(kube.context.clone()),
        error: None,
        provider_installation: Some(installation(state).await),
    }
}

/// Whether the node watch is still on its first list (neither synced nor failed).
fn still_loading(caches: &crate::cache::Caches) -> bool {
    // `Caches` tells synced and missing apart but not starting from failing; a failing watch
    // answers `ready` at once, so a second immediate check separates them.
    !caches.is_synced(Kind::Nodes)
        && futures::FutureExt::now_or_never(caches.ready(Kind::Nodes)).is_none()
}

/// Whether the ModelDeployment CRD exists: a synced deployment cache proves it; otherwise
/// (missing, failing or starting) the CRD is looked up with a short timeout, so a CRD installed
/// a moment ago is reported at once.
async fn installation(state: &AppState) -> ProviderInstallation {
    let found = |installed: bool, message: String| ProviderInstallation {
        installed,
        crd_found: installed,
        message,
    };
    let installed = || found(true, "ModelDeployment CRD is installed".into());
    if state.caches().is_ok_and(|c| c.is_synced(Kind::Deployments)) {
        return installed();
    }
    let Ok(kube) = state.kube() else {
        return found(
            false,
            "Error checking CRD: no Kubernetes configuration".into(),
        );
    };
    let crds: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    match tokio::time::timeout(CRD_TIMEOUT, crds.get_opt(MD_CRD)).await {
        Ok(Ok(Some(_))) => installed(),
        Ok(Ok(None)) => found(
            false,
            "ModelDeployment CRD not found. Please install KubeAIRunway controller.".into(),
        ),
        Ok(Err(e)) => found(
            false,
            format!(
                "Error checking CRD: {}",
                crate::error::describe_kube_error(&e).1
            ),
        ),
        Err(_) => found(false, "Error checking CRD: timed out".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_info_reads_ready_and_gpus() {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "n1" },
            "status": {
                "allocatable": { "nvidia.com/gpu": "4" },
                "conditions": [
                    { "type": "MemoryPressure", "status": "True" },
                    { "type": "Ready", "status": "True" },
                ],
            },
        }))
        .expect("node");
        assert_eq!(
            node_info(&node),
            NodeInfo {
                name: "n1".into(),
                ready: true,
                gpu_count: 4
            }
        );
        let bare: Node =
            serde_json::from_value(serde_json::json!({ "metadata": { "name": "n2" } }))
                .expect("node");
        assert_eq!(
            node_info(&bare),
            NodeInfo {
                name: "n2".into(),
                ready: false,
                gpu_count: 0
            }
        );
    }
}
