//! `PATCH /api/deployments/{name}`: scale a deployment (aggregated replicas, or the prefill and
//! decode workers of a disaggregated one) with a merge patch made with the caller's client.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kubeairunway_api::{ModelDeployment, ServingMode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::get::is_object_not_found;
use super::list::json_response;
use super::status::{DeploymentStatus, status_of};
use super::{DeploymentName, FIELD_MANAGER, NamespaceQuery, cached, not_found_in, target};
use crate::activity::{self, Action, Change, Target};
use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Body of `PATCH /api/deployments/{name}`: at least one count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleRequest {
    /// Replicas of an aggregated deployment (0 scales to zero) → `spec.scaling.replicas`.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub replicas: Option<i64>,
    /// Prefill workers of a disaggregated deployment → `spec.scaling.prefill.replicas`.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub prefill_replicas: Option<i64>,
    /// Decode workers of a disaggregated deployment → `spec.scaling.decode.replicas`.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub decode_replicas: Option<i64>,
}

/// Scales a deployment and answers its updated status.
#[utoipa::path(patch, path = "/api/deployments/{name}", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), NamespaceQuery),
    request_body = ScaleRequest,
    responses(
        (status = 200, body = DeploymentStatus<'_>),
        (status = 400, description = "Bad counts, or counts that do not fit the serving mode", body = ErrorBody),
        (status = 403, description = "Forbidden by Kubernetes RBAC", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn scale(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
    ApiJson(body): ApiJson<ScaleRequest>,
) -> ApiResult<Response> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let replicas = count("replicas", body.replicas)?;
    let prefill = count("prefillReplicas", body.prefill_replicas)?;
    let decode = count("decodeReplicas", body.decode_replicas)?;
    if replicas.is_none() && prefill.is_none() && decode.is_none() {
        return Err(ApiError::bad_request(
            "Give replicas (aggregated) or prefillReplicas/decodeReplicas (disaggregated)",
        ));
    }
    let detail = match (replicas, prefill, decode) {
        (Some(n), None, None) => format!("to {n} replicas"),
        _ => {
            let counts: Vec<String> = [
                replicas.map(|n| format!("{n} replicas")),
                prefill.map(|n| format!("{n} prefill workers")),
                decode.map(|n| format!("{n} decode workers")),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("to {}", counts.join(", "))
        }
    };
    let result = apply(
        &state, &caller, &namespace, &name, replicas, prefill, decode,
    )
    .await;
    let change = Change::new(Action::Scale, Target::Deployment { namespace, name }).detail(detail);
    activity::record(&state, &caller, change, &result).await;
    result
}

/// Scales `namespace/name` to the given counts (checked against its serving mode).
async fn apply(
    state: &AppState,
    caller: &Caller,
    namespace: &str,
    name: &str,
    replicas: Option<i32>,
    prefill: Option<i32>,
    decode: Option<i32>,
) -> ApiResult<Response> {
    let (namespace, name) = (namespace.to_string(), name.to_string());
    // Checked before the cache answers: a 404 for a missing name next to the API server's 403
    // for an existing one would tell a caller what exists in a namespace it may not touch.
    caller
        .require("patch", Resource::DEPLOYMENTS, Some(&namespace))
        .await?;
    let caches = state.caches()?;
    caches.ready(Kind::Deployments).await?;
    let current =
        cached(caches, &namespace, &name).ok_or_else(|| not_found_in(&name, &namespace))?;
    let mut scaling = Map::new();
    match current.spec.serving.mode {
        ServingMode::Aggregated => {
            if prefill.is_some() || decode.is_some() {
                return Err(ApiError::bad_request(format!(
                    "Deployment '{name}' is aggregated: scale it with replicas, not prefillReplicas/decodeReplicas"
                )));
            }
            if let Some(n) = replicas {
                scaling.insert("replicas".into(), json!(n));
            }
        }
        ServingMode::Disaggregated => {
            if replicas.is_some() {
                return Err(ApiError::bad_request(format!(
                    "Deployment '{name}' is disaggregated: scale it with prefillReplicas and decodeReplicas, not replicas"
                )));
            }
            if let Some(n) = prefill {
                scaling.insert("prefill".into(), json!({ "replicas": n }));
            }
            if let Some(n) = decode {
                scaling.insert("decode".into(), json!({ "replicas": n }));
            }
        }
    }
    let patch = json!({ "spec": { "scaling": Value::Object(scaling) } });
    let api: Api<ModelDeployment> = Api::namespaced(caller.client().clone(), &namespace);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let updated = match api.patch(&name, &params, &Patch::Merge(&patch)).await {
        Ok(md) => md,
        Err(e) if is_object_not_found(&e, &name) => return Err(not_found_in(&name, &namespace)),
        Err(e) => return Err(ApiError::kube("Failed to scale deployment", e)),
    };
    let pods = if caches.is_synced(Kind::Pods) {
        caches.pods.state()
    } else {
        Vec::new()
    };
    let status = status_of(caller, &updated, &pods).await;
    Ok(json_response(StatusCode::OK, &status))
}

fn count(field: &str, value: Option<i64>) -> ApiResult<Option<i32>> {
    value
        .map(|v| {
            i32::try_from(v).ok().filter(|v| *v >= 0).ok_or_else(|| {
                ApiError::bad_request(format!("{field} must be an integer from 0 to {}", i32::MAX))
            })
        })
        .transpose()
}
