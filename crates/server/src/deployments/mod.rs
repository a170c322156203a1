//! ModelDeployment endpoints (docs/contract/api.md §5, with the fixes of §19 and the additions of
//! issue 4: cross-namespace listing, dry-run and preview, scaling, log follow and a live event
//! stream).
//!
//! Reads are served from the watch caches and filtered by what the caller may see; writes and
//! reads the caches do not hold (events, logs, provider objects) go through the caller's own
//! client, once, without retries.

mod create;
mod get;
mod index;
mod list;
mod live;
mod logs;
mod manifest;
mod pending;
pub(crate) mod plan;
mod scale;
mod schedule;
pub(crate) mod selection;
pub(crate) mod status;

use std::sync::Arc;

use axum::extract::{Extension, FromRequestParts, Path};
use axum::http::request::Parts;
use kube::runtime::reflector::ObjectRef;
use kubeairunway_api::ModelDeployment;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use k8s_openapi::api::core::v1::Pod;

use self::index::ListIndex;
use crate::auth::{Caller, Resource};
use crate::cache::{Caches, Derived, Kind};
use crate::error::{ApiError, ApiResult};
use crate::extract::{validate_deployment_name, validate_namespace};
use crate::pods;
use crate::settings;
use crate::state::AppState;

/// OpenAPI tag of every route here.
const TAG: &str = "deployments";
/// Field manager recorded for the changes the API makes.
const FIELD_MANAGER: &str = "kubeairunway-api";

/// The `/api/deployments` routes. The static paths (`events`, `preview`) take precedence over
/// `{name}` in axum's router. The routes own the list index, rebuilt when the caches change.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    let list_index: Arc<Derived<ListIndex>> = Arc::default();
    OpenApiRouter::new()
        .routes(routes!(list::list, create::create))
        .routes(routes!(create::preview))
        .routes(routes!(live::events))
        .routes(routes!(get::get, scale::scale, get::delete))
        .routes(routes!(manifest::manifest))
        .routes(routes!(get::pods))
        .routes(routes!(pending::pending_reasons))
        .routes(routes!(logs::logs))
        .layer(Extension(list_index))
}

/// `?namespace=`: the deployment's namespace (the configured default namespace when omitted).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NamespaceQuery {
    /// Namespace of the deployment; the settings' default namespace when omitted.
    pub namespace: Option<String>,
}

/// The namespace a per-deployment request is about, validated.
pub(crate) fn resolve_namespace(state: &AppState, namespace: Option<&str>) -> ApiResult<String> {
    match namespace {
        Some(ns) => {
            validate_namespace(ns)?;
            Ok(ns.to_string())
        }
        None => Ok(settings::default_namespace(state)),
    }
}

/// Validates a `{name}` path parameter and the namespace of a per-deployment request.
pub(crate) fn target(state: &AppState, name: &str, namespace: Option<&str>) -> ApiResult<String> {
    validate_deployment_name(name)?;
    resolve_namespace(state, namespace)
}

/// The cached ModelDeployment `namespace/name` once the caller may read it: 503 while the
/// caches are unavailable, 403 before 404 so existence does not leak, 404 when it is missing.
pub(crate) async fn readable(
    state: &AppState,
    caller: &Caller,
    namespace: &str,
    name: &str,
) -> ApiResult<Arc<ModelDeployment>> {
    let caches = state.caches()?;
    caches.ready(Kind::Deployments).await?;
    caches.ready(Kind::Pods).await?;
    caller
        .require("get", Resource::DEPLOYMENTS, Some(namespace))
        .await?;
    cached(caches, namespace, name).ok_or_else(|| ApiError::not_found("Deployment not found"))
}

/// The pods of a deployment the caller may read, when it may also list pods there.
pub(crate) async fn readable_pods(
    state: &AppState,
    caller: &Caller,
    namespace: &str,
    name: &str,
) -> ApiResult<Vec<Arc<Pod>>> {
    readable(state, caller, namespace, name).await?;
    caller
        .require("list", Resource::PODS, Some(namespace))
        .await?;
    let all = state.caches()?.pods.state();
    Ok(pods::of_deployment(&all, namespace, name))
}

/// The cached ModelDeployment `namespace/name`, if any.
pub(crate) fn cached(caches: &Caches, namespace: &str, name: &str) -> Option<Arc<ModelDeployment>> {
    caches
        .deployments
        .get(&ObjectRef::new(name).within(namespace))
}

/// The `{name}` path parameter (a malformed path is a 400 envelope, not axum's plain text).
pub(crate) struct DeploymentName(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DeploymentName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(name)) => Ok(Self(name)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "Invalid deployment name in the path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// `Deployment '<name>' not found in namespace '<ns>'`.
pub(crate) fn not_found_in(name: &str, namespace: &str) -> ApiError {
    ApiError::not_found(format!(
        "Deployment '{name}' not found in namespace '{namespace}'"
    ))
}
