//! `POST /api/deployments` (create, or a server-side dry run with `?dryRun=true`) and `POST
//! /api/deployments/preview`, with the GPU-fit warnings of docs/contract/api.md §5 step 1, and the
//! copy of the HuggingFace token Secret into the deployment's namespace (docs/contract/api.md
//! §19.12). The body and its mapping onto a ModelDeployment are in [`super::plan`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;
use kube::runtime::reflector::ObjectRef;
use kubeairunway_api::ModelDeployment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::manifest::{ManifestResource, ManifestResponse, to_value};
use super::plan::{CreateDeploymentRequest, InvalidRequest, Plan};
use super::schedule::Outcome;
use super::selection::{self, Preview};
use super::{FIELD_MANAGER, resolve_namespace};
use crate::activity::{self, Action, Change, Target};
use crate::auth::{Caller, Resource};
use crate::cache::{Caches, Kind};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, truncate};
use crate::secrets::{self, TokenCopy};
use crate::state::AppState;

/// `?dryRun=` of `POST /api/deployments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateQuery {
    /// `true`: validate through a server-side dry run and return the manifest; nothing is
    /// created.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// `POST /api/deployments` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreateResponse {
    /// `Deployment created successfully`.
    pub message: String,
    /// Name of the new deployment.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Fields of the body that were accepted but not applied (`⚠️ Not applied: …`), then
    /// GPU-fit, provider and HuggingFace token Secret warnings (omitted when none); they never
    /// block creation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Creates a ModelDeployment with the caller's credentials (no retry). `?dryRun=true` runs a
/// server-side dry run instead and answers 200 with the manifest the API server would store.
#[utoipa::path(post, path = "/api/deployments", tag = super::TAG, params(CreateQuery),
    request_body = CreateDeploymentRequest,
    responses(
        (status = 201, description = "Created", body = CreateResponse),
        (status = 200, description = "Dry run: the manifest, nothing created", body = ManifestResponse),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 403, description = "Forbidden by Kubernetes RBAC", body = ErrorBody),
        (status = 404, description = "Namespace (or CRD) not found", body = ErrorBody),
        (status = 409, description = "A deployment with this name exists", body = ErrorBody),
        (status = 422, description = "Rejected by the CRD's validation", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CreateQuery>,
    ApiJson(body): ApiJson<CreateDeploymentRequest>,
) -> ApiResult<Response> {
    let dry_run = match query.dry_run.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dryRun \"{}\": must be true or false",
                truncate(other)
            )));
        }
    };
    if dry_run {
        return Ok(dry_run_create(&state, &caller, body).await?.into_response());
    }
    let namespace = resolve_namespace(&state, body.namespace.as_deref())?;
    let plan = Plan::from_request(&body, &namespace)?;
    log_not_applied(&plan, &namespace);
    let preview = preview_of(&state, &caller, &plan.deployment).await;
    let mut warnings = warnings(&state, &caller, &plan, preview.as_ref()).await;
    let api: Api<ModelDeployment> = Api::namespaced(caller.client().clone(), &namespace);
    let params = PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    let created = api
        .create(&params, &plan.deployment)
        .await
        .map_err(|e| ApiError::kube("Failed to create deployment", e));
    let change = Change::new(
        Action::Create,
        Target::Deployment {
            namespace: namespace.clone(),
            name: body.name.clone(),
        },
    )
    .detail(format!("(model {})", body.model_id))
    .succeeded_with(StatusCode::CREATED)
    .uid(created.as_ref().ok().and_then(|md| md.metadata.uid.clone()));
    activity::record(&state, &caller, change, &created).await;
    created?;
    // After the create: a refused create leaves no Secret behind.
    warnings.extend(token_secret_warning(&state, &caller, &plan, &namespace, false).await);
    Ok((
        StatusCode::CREATED,
        Json(CreateResponse {
            message: "Deployment created successfully".into(),
            name: body.name,
            namespace,
            warnings,
        }),
    )
        .into_response())
}

/// The manifest a create would store, through a server-side dry run (the CRD's defaults and
/// validation apply; RBAC too: the caller needs permission to create). Nothing is created.
#[utoipa::path(post, path = "/api/deployments/preview", tag = super::TAG,
    request_body = CreateDeploymentRequest,
    responses(
        (status = 200, body = ManifestResponse),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateDeploymentRequest>,
) -> ApiResult<Json<ManifestResponse>> {
    dry_run_create(&state, &caller, body).await
}

async fn dry_run_create(
    state: &AppState,
    caller: &Caller,
    body: CreateDeploymentRequest,
) -> ApiResult<Json<ManifestResponse>> {
    let namespace = resolve_namespace(state, body.namespace.as_deref())?;
    let plan = Plan::from_request(&body, &namespace)?;
    log_not_applied(&plan, &namespace);
    let api: Api<ModelDeployment> = Api::namespaced(caller.client().clone(), &namespace);
    let params = PostParams {
        dry_run: true,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    let mut stored = api
        .create(&params, &plan.deployment)
        .await
        .map_err(|e| ApiError::kube("Failed to create deployment", e))?;
    stored.metadata.managed_fields = None;
    let preview = preview_of(state, caller, &stored).await;
    let mut response = ManifestResponse::for_deployment(body.name, to_value(&stored)?);
    response.warnings = warnings(state, caller, &plan, preview.as_ref()).await;
    let objects = preview.as_ref().map_or(&[][..], |p| p.objects.as_slice());
    match super::schedule::answer(state, caller, &stored, objects).await {
        Outcome::Answer(answer) => response.scheduling = Some(*answer),
        Outcome::Unavailable(why) => response.scheduling_unavailable = Some(why),
    }
    if let Some(preview) = preview {
        for object in preview.objects {
            response.resources.push(ManifestResource {
                kind: object["kind"].as_str().unwrap_or_default().to_string(),
                api_version: object["apiVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                name: object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                manifest: object,
            });
        }
        response.selection = Some(preview.selection);
    }
    response
        .warnings
        .extend(token_secret_warning(state, caller, &plan, &namespace, true).await);
    Ok(Json(response))
}

/// The controller's decision for `md`, when the caller may see the registered providers and
/// their cache is synced (the decision reveals which providers exist and are ready).
async fn preview_of(state: &AppState, caller: &Caller, md: &ModelDeployment) -> Option<Preview> {
    let caches = state.caches().ok()?;
    if !caches.is_synced(Kind::Providers) || !caller.can("list", Resource::PROVIDERS, None).await {
        return None;
    }
    Some(selection::preview(
        md,
        &caches.providers.state(),
        state.rules(),
        Timestamp::now(),
    ))
}

/// Logs the accepted fields a create or preview does not apply, so an operator sees what the
/// clients send that means nothing here.
fn log_not_applied(plan: &Plan, namespace: &str) {
    for warning in &plan.warnings {
        tracing::info!(deployment = %plan.deployment.metadata.name.as_deref().unwrap_or_default(), %namespace, %warning, "request field not applied");
    }
}

/// Warnings that never block creation: the fields of the body that were not applied, and (docs/contract/api.md §5 step 1) whether the cluster has the
/// GPUs, whether the named provider is registered, and whether the controller will be able to
/// select a provider that serves the deployment. Figures come from the caches, only when they are
/// synced and the caller may read nodes and providers (the warnings describe the whole cluster).
async fn warnings(
    state: &AppState,
    caller: &Caller,
    plan: &Plan,
    preview: Option<&Preview>,
) -> Vec<String> {
    // Fields of the body that were accepted but not applied come first: they are about the
    // request itself.
    let mut out = plan.warnings.clone();
    let Ok(caches) = state.caches() else {
        return out;
    };
    if plan.total_gpus > 0
        && caches.is_synced(Kind::Nodes)
        && caches.is_synced(Kind::Pods)
        && caller.can("list", Resource::NODES, None).await
    {
        let capacity = crate::capacity::cluster_capacity(caches);
        out.extend(gpu_warnings(
            plan.total_gpus,
            plan.gpus_per_worker,
            capacity.available_gpus,
            capacity.max_contiguous_available,
        ));
    }
    if let Some(provider) = &plan.provider
        && !provider_known(caches, provider)
        && caller.can("list", Resource::PROVIDERS, None).await
    {
        out.push(format!(
            "⚠️ Provider not installed: no InferenceProviderConfig named \"{provider}\" exists, so the deployment stays Pending until that provider runs"
        ));
    } else if let Some(warning) = preview.and_then(|p| p.warning.clone()) {
        out.push(warning);
    }
    out
}

/// Copies the HuggingFace token Secret into `namespace` when the deployment references the
/// managed `hf-token-secret` and the namespace lacks it (`dry_run`: only checks that the copy
/// would succeed). A copy that is impossible never blocks the deployment: the answer is a
/// warning saying why and how to fix it (docs/models.md, "The token Secret").
async fn token_secret_warning(
    state: &AppState,
    caller: &Caller,
    plan: &Plan,
    namespace: &str,
    dry_run: bool,
) -> Option<String> {
    let referenced = plan
        .deployment
        .spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref());
    if referenced != Some(secrets::SECRET_NAME) {
        return None;
    }
    match secrets::copy_to_namespace(state, caller.client(), namespace, dry_run).await {
        Ok(TokenCopy::Present) => None,
        Ok(TokenCopy::Copied { from }) => {
            if !dry_run {
                tracing::info!(%namespace, %from, "copied the HuggingFace token Secret");
            }
            None
        }
        Err(e) => Some(format!(
            "⚠️ HuggingFace token missing: the deployment references Secret \"{}\", which could not be copied into \"{namespace}\": {e}. Gated models cannot be downloaded until it exists there; save the token again (Settings → HuggingFace) as a user who may write Secrets in \"{namespace}\"",
            secrets::SECRET_NAME
        )),
    }
}

/// A body that cannot become a ModelDeployment is the client's to fix.
impl From<InvalidRequest> for ApiError {
    fn from(err: InvalidRequest) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

fn provider_known(caches: &Caches, provider: &str) -> bool {
    // Unknown when the cache is not synced: do not warn on a guess.
    !caches.is_synced(Kind::Providers) || caches.providers.get(&ObjectRef::new(provider)).is_some()
}

/// The GPU-fit warnings for a deployment needing `total` GPUs, at most `per_worker` on one node.
fn gpu_warnings(total: i64, per_worker: i64, available: i64, max_contiguous: i64) -> Vec<String> {
    let mut out = Vec::new();
    if total > available {
        out.push(format!(
            "⚠️ Insufficient cluster GPUs: the deployment needs {total} GPU(s) but only {} are available",
            available.max(0)
        ));
    }
    if per_worker > max_contiguous {
        out.push(format!(
            "⚠️ Scheduling constraint: each worker needs {per_worker} GPU(s) on one node, but no node has more than {max_contiguous} available"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_fit_warnings() {
        assert!(gpu_warnings(2, 1, 10, 8).is_empty());
        let w = gpu_warnings(16, 16, 10, 8);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("⚠️ Insufficient cluster GPUs"));
        assert!(w[1].starts_with("⚠️ Scheduling constraint"));
    }
}
