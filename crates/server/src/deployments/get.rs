//! One deployment: `GET` (from the cache), `DELETE` (with the caller's client) and its pods.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kube::Api;
use kube::api::DeleteParams;
use kubeairunway_api::ModelDeployment;
use serde::Serialize;
use utoipa::ToSchema;

use super::list::json_response;
use super::status::{DeploymentStatus, status_of};
use super::{DeploymentName, NamespaceQuery, cached, not_found_in, readable, target};
use crate::activity::{self, Action, Change, Target};
use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::pods::{self, PodStatus};
use crate::state::AppState;

/// A plain confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// What happened.
    pub message: String,
}

/// `GET /api/deployments/{name}/pods` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct PodList {
    /// The deployment's pods, by name.
    pub pods: Vec<PodStatus>,
}

/// One deployment from the cache. 404 only when it does not exist, 403 when the caller may not
/// read it, 503 while the cluster is unreachable.
#[utoipa::path(get, path = "/api/deployments/{name}", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    responses(
        (status = 200, body = DeploymentStatus<'_>),
        (status = 400, description = "Bad name or namespace", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Deployment not found", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> ApiResult<Response> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let md = readable(&state, &caller, &namespace, &name).await?;
    let pods = state.caches()?.pods.state();
    let status = status_of(&caller, &md, &pods).await;
    Ok(json_response(StatusCode::OK, &status))
}

/// Deletes a deployment with the caller's credentials (the controller's finalizer then removes
/// the provider's objects).
#[utoipa::path(delete, path = "/api/deployments/{name}", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    responses(
        (status = 200, body = MessageResponse),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Forbidden by Kubernetes RBAC", body = ErrorBody),
        (status = 404, description = "Deployment '<name>' not found in namespace '<ns>'", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> ApiResult<Json<MessageResponse>> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    // Read before the delete: the cache may drop the object before the Event is written.
    let uid = state
        .caches()
        .ok()
        .and_then(|c| cached(c, &namespace, &name))
        .and_then(|md| md.metadata.uid.clone());
    let api: Api<ModelDeployment> = Api::namespaced(caller.client().clone(), &namespace);
    let result = match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(Json(MessageResponse {
            message: "Deployment deleted successfully".into(),
        })),
        Err(e) if is_object_not_found(&e, &name) => Err(not_found_in(&name, &namespace)),
        Err(e) => Err(ApiError::kube("Failed to delete deployment", e)),
    };
    let change = Change::new(Action::Delete, Target::Deployment { namespace, name }).uid(uid);
    activity::record(&state, &caller, change, &result).await;
    result
}

/// The deployment's pods from the cache (empty when none match; no existence check, as in the
/// contract). 403 when the caller may not list pods in the namespace.
#[utoipa::path(get, path = "/api/deployments/{name}/pods", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    responses(
        (status = 200, body = PodList),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn pods(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> ApiResult<Json<PodList>> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let caches = state.caches()?;
    caches.ready(Kind::Pods).await?;
    caller
        .require("list", Resource::PODS, Some(&namespace))
        .await?;
    let all = caches.pods.state();
    let pods = pods::of_deployment(&all, &namespace, &name)
        .iter()
        .map(|p| PodStatus::of(p))
        .collect();
    Ok(Json(PodList { pods }))
}

/// Whether `err` is the API server saying the object `name` itself does not exist (a missing
/// CRD is a 404 too, but without the object's name in its details).
pub(crate) fn is_object_not_found(err: &kube::Error, name: &str) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404
        && s.details.as_ref().is_some_and(|d| d.name == name))
}
