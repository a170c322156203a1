//! `/api/autoscaler/detection` and `/api/autoscaler/status` (docs/contract/api.md §9): which
//! cluster autoscaler the cluster has, and the status it writes to
//! `kube-system/cluster-autoscaler-status`, in either of its formats (`core::autoscaler`).
//!
//! Nodes come from the cache; the ConfigMap and the Deployments of `kube-system` are read with
//! the caller's own client, so a caller who may not read them learns that, not a guess.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kubeairunway_core::autoscaler::{
    AutoscalerStatus, Detection, StatusError, detect, parse_status, unknown,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody, describe_kube_error};
use crate::state::AppState;

/// Where the Cluster Autoscaler writes its status.
pub(crate) const STATUS_NAMESPACE: &str = "kube-system";
/// The ConfigMap's name.
pub(crate) const STATUS_CONFIG_MAP: &str = "cluster-autoscaler-status";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(detection))
        .routes(routes!(status))
}

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("the ConfigMap {STATUS_NAMESPACE}/{STATUS_CONFIG_MAP} does not exist")]
    Missing,
    #[error("{1}")]
    Kube(StatusCode, String),
    #[error(transparent)]
    Parse(#[from] StatusError),
}

async fn read_status(caller: &Caller) -> Result<AutoscalerStatus, ReadError> {
    let api: Api<ConfigMap> = Api::namespaced(caller.client().clone(), STATUS_NAMESPACE);
    let cm = api.get_opt(STATUS_CONFIG_MAP).await.map_err(|e| {
        let (status, message) = describe_kube_error(&e);
        ReadError::Kube(status, message)
    })?;
    let cm = cm.ok_or(ReadError::Missing)?;
    let text = cm.data.as_ref().and_then(|d| d.get("status"));
    Ok(parse_status(text.map(String::as_str))?)
}

/// The autoscaler of the cluster: AKS managed, a self-managed Cluster Autoscaler, or none. A
/// cluster that cannot be asked gives `type: unknown` and says why.
#[utoipa::path(get, path = "/api/autoscaler/detection", tag = "autoscaler",
    responses(
        (status = 200, body = Detection),
        (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn detection(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Detection>> {
    let caches = state.caches()?;
    caches.ready(Kind::Nodes).await?;
    let nodes = if caller.can("list", Resource::NODES, None).await {
        caches.nodes.state()
    } else {
        Vec::new()
    };
    Ok(Json(detect_with(&caller, nodes).await))
}

/// The detection over `nodes` (the caller's view of them), reading the status ConfigMap and the
/// Deployments of `kube-system` with the caller's client; `type: unknown` with the reason when
/// they cannot be read. The preview's scheduling answer uses it too.
pub(crate) async fn detect_with(caller: &Caller, nodes: Vec<Arc<Node>>) -> Detection {
    let status = match read_status(caller).await {
        Ok(s) => Some(s),
        Err(ReadError::Missing) => None,
        Err(ReadError::Kube(code, message)) if code != StatusCode::NOT_FOUND => {
            return unknown(&format!(
                "reading {STATUS_NAMESPACE}/{STATUS_CONFIG_MAP} failed: {message}"
            ));
        }
        Err(e) => {
            return unknown(&e.to_string());
        }
    };
    let deployments = if status.is_none() {
        let api: Api<Deployment> = Api::namespaced(caller.client().clone(), STATUS_NAMESPACE);
        match api.list(&ListParams::default()).await {
            Ok(list) => list.items,
            Err(e) => {
                let (code, message) = describe_kube_error(&e);
                if code == StatusCode::FORBIDDEN {
                    return unknown(&format!(
                        "listing Deployments in {STATUS_NAMESPACE} is not allowed: {message}"
                    ));
                }
                return unknown(&message);
            }
        }
    } else {
        Vec::new()
    };
    detect(&nodes, status.as_ref(), &deployments, Timestamp::now())
}

/// The Cluster Autoscaler's status: health, node groups with their sizes and activity. 404 when
/// there is no status ConfigMap, or it cannot be read.
#[utoipa::path(get, path = "/api/autoscaler/status", tag = "autoscaler",
    responses(
        (status = 200, body = AutoscalerStatus),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not read the ConfigMap", body = ErrorBody),
        (status = 404, description = "Autoscaler status not available", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AutoscalerStatus>> {
    state.kube()?;
    match read_status(&caller).await {
        Ok(s) => Ok(Json(s)),
        Err(ReadError::Missing) => Err(ApiError::not_found("Autoscaler status not available")),
        Err(ReadError::Kube(code, message)) => Err(ApiError::new(
            code,
            format!("Autoscaler status not available: {message}"),
        )),
        Err(ReadError::Parse(e)) => Err(ApiError::not_found(format!(
            "Autoscaler status not available: {e}"
        ))),
    }
}
