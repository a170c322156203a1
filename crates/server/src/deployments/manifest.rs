//! `GET /api/deployments/{name}/manifest`: the ModelDeployment and the provider objects it owns,
//! read with the caller's client (the caches hold neither the raw object nor the providers'
//! kinds).

use axum::Json;
use axum::extract::State;
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use kube::{Resource, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_core::providers;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::get::is_object_not_found;
use super::{DeploymentName, NamespaceQuery, target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// A deployment's objects as manifests (also the shape of dry-run and preview answers).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestResponse {
    /// The ModelDeployment first, then the objects its provider created (previews: will create).
    pub resources: Vec<ManifestResource>,
    /// Kind of the first resource (always the ModelDeployment).
    pub primary_resource: ResourceKind,
    /// What could not be shown or what deserves attention (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Previews only: the engine and provider the controller will select, decided by the
    /// controller's own rules over the registered providers; the objects that provider will
    /// create follow the ModelDeployment in `resources`. Absent when the caller may not list
    /// providers or the provider cache is not synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<super::selection::Selection>,
    /// Previews only: would the kube-scheduler place each replica on the cluster as it is now
    /// (GPUs, CPU, memory, pod slots left after the pods bound to each node; taints,
    /// tolerations, node selector and affinity; cordoned nodes), per node why not in the
    /// scheduler's words, and what would fix it. Absent when the node or pod cache is not synced
    /// or the caller may not list nodes; `schedulingUnavailable` then says which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<kubeairunway_core::schedule::ScheduleAnswer>,
    /// Previews only: why `scheduling` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduling_unavailable: Option<String>,
}

/// One object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestResource {
    /// Object kind.
    pub kind: String,
    /// `group/version`.
    pub api_version: String,
    /// Object name.
    pub name: String,
    /// The whole object as stored (status included, `managedFields` removed).
    #[schema(value_type = Object)]
    pub manifest: Value,
}

/// A kind and its API version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceKind {
    /// Object kind.
    pub kind: String,
    /// `group/version`.
    pub api_version: String,
}

impl ManifestResponse {
    /// A response whose primary resource is the ModelDeployment `manifest`.
    pub fn for_deployment(name: String, manifest: Value) -> Self {
        let api_version = ModelDeployment::api_version(&()).to_string();
        let kind = ModelDeployment::kind(&()).to_string();
        Self {
            resources: vec![ManifestResource {
                kind: kind.clone(),
                api_version: api_version.clone(),
                name,
                manifest,
            }],
            primary_resource: ResourceKind { kind, api_version },
            warnings: Vec::new(),
            selection: None,
            scheduling: None,
            scheduling_unavailable: None,
        }
    }
}

/// The ModelDeployment (status included) and the provider objects it owns, `managedFields`
/// removed. Provider objects that do not exist yet are left out; ones the caller may not read
/// are named in `warnings`.
#[utoipa::path(get, path = "/api/deployments/{name}/manifest", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    responses(
        (status = 200, body = ManifestResponse),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Deployment manifest not found", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> ApiResult<Json<ManifestResponse>> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let client = caller.client().clone();
    let md_resource = ApiResource::erase::<ModelDeployment>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &md_resource);
    let mut md = match api.get(&name).await {
        Ok(md) => md,
        Err(e) if is_object_not_found(&e, &name) => {
            return Err(ApiError::not_found("Deployment manifest not found"));
        }
        Err(e) => return Err(ApiError::kube("Failed to read deployment", e)),
    };
    md.metadata.managed_fields = None;
    let uid = md.metadata.uid.clone().unwrap_or_default();
    let provider = md
        .data
        .pointer("/status/provider/name")
        .or_else(|| md.data.pointer("/spec/provider/name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let object_name = md
        .data
        .pointer("/status/provider/resourceName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or(&name)
        .to_string();

    let mut response = ManifestResponse::for_deployment(name.clone(), to_value(&md)?);
    // What each built-in provider creates, as the controller renders it: every object is named
    // after the ModelDeployment, lives in its namespace and carries an owner reference to it.
    let kinds = providers::built_in(&provider).map_or_else(|_| Vec::new(), |p| p.kinds());
    let reads = kinds.into_iter().map(|resource| {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
        let object_name = object_name.clone();
        async move { (resource, api.get_opt(&object_name).await) }
    });
    for (resource, result) in futures::future::join_all(reads).await {
        match result {
            Ok(Some(mut obj)) => {
                let owned = obj.owner_references().iter().any(|o| o.uid == uid);
                if !owned {
                    response.warnings.push(format!(
                        "{} {object_name} exists but is not owned by this deployment; it is not shown",
                        resource.kind
                    ));
                    continue;
                }
                obj.metadata.managed_fields = None;
                response.resources.push(ManifestResource {
                    kind: resource.kind.clone(),
                    api_version: resource.api_version.clone(),
                    name: obj.name_any(),
                    manifest: to_value(&obj)?,
                });
            }
            // Not created yet, or the provider's CRD is not installed.
            Ok(None) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Api(s)) if s.code == 403 => response.warnings.push(format!(
                "Cannot read {} {object_name}: {}",
                resource.kind, s.message
            )),
            Err(e) => {
                return Err(ApiError::kube(
                    &format!("Failed to read {} {object_name}", resource.kind),
                    e,
                ));
            }
        }
    }
    Ok(Json(response))
}

/// An object as JSON.
pub(crate) fn to_value<T: Serialize>(obj: &T) -> ApiResult<Value> {
    serde_json::to_value(obj).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not encode the object: {e}"),
        )
    })
}
