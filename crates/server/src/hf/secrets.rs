//! The HuggingFace token Secret (api.md §12): `hf-token-secret` with key `HF_TOKEN`, which
//! deployments of gated models reference. Fixed against the reference (§19.12, security 7): it
//! is written where deployments run — the default namespace, every namespace holding
//! ModelDeployments, and the providers' namespaces — the token is checked with the Hub before
//! it is stored, no endpoint returns it, and the status reads only Secret metadata (the user is
//! recorded in an annotation at save time, so polling never calls the Hub).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use kubeairunway_api::labels;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::hub::{HfToken, HfUserInfo, HubError};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody, describe_kube_error};
use crate::extract::ApiJson;
use crate::{AppState, Caller};

/// Name of the Secret deployments reference (`hfTokenSecret`).
pub const SECRET_NAME: &str = "hf-token-secret";
/// Key of the token in the Secret.
pub const SECRET_KEY: &str = "HF_TOKEN";
/// Label telling our Secrets apart.
pub const SECRET_TYPE_LABEL: &str = "kubeairunway.ai/secret-type";
/// Value of [`SECRET_TYPE_LABEL`].
pub const SECRET_TYPE: &str = "huggingface-token";
/// Annotation holding the token's user (never the token).
pub const USER_ANNOTATION: &str = "kubeairunway.ai/hf-user";
/// Field manager of our writes.
const MANAGER: &str = "kubeairunway-backend";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(save, delete))
}

/// Whether one namespace has the Secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceSecret {
    /// Namespace.
    name: String,
    /// The Secret exists there.
    exists: bool,
    /// Why it could not be checked (for example no permission).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Where the token is stored (`HfSecretStatus`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretStatus {
    /// The Secret exists in at least one namespace.
    configured: bool,
    /// Every namespace deployments run in, and whether it has the Secret.
    namespaces: Vec<NamespaceSecret>,
    /// Who the stored token belongs to (as validated when it was saved).
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<HfUserInfo>,
}

/// Where the HuggingFace token Secret exists. Reads Secret metadata only: the token is never
/// read back, and the Hub is not called.
#[utoipa::path(get, path = "/api/secrets/huggingface/status", operation_id = "hf_secret_status", tag = "huggingface",
    responses((status = 200, body = SecretStatus),
        (status = 401, body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<SecretStatus>> {
    let targets = target_namespaces(&state).await?;
    let client = caller.client();
    let checks = targets.iter().map(|ns| async move {
        let api: Api<Secret> = Api::namespaced(client.clone(), ns);
        (ns.clone(), api.get_metadata_opt(SECRET_NAME).await)
    });
    let mut namespaces = Vec::new();
    let mut user = None;
    for (name, result) in futures::future::join_all(checks).await {
        match result {
            Ok(Some(meta)) => {
                if user.is_none() {
                    user = meta
                        .annotations()
                        .get(USER_ANNOTATION)
                        .and_then(|a| serde_json::from_str::<HfUserInfo>(a).ok());
                }
                namespaces.push(NamespaceSecret {
                    name,
                    exists: true,
                    error: None,
                });
            }
            Ok(None) => namespaces.push(NamespaceSecret {
                name,
                exists: false,
                error: None,
            }),
            Err(e) if transport(&e) => {
                return Err(ApiError::kube(
                    "Failed to read the HuggingFace token Secrets",
                    e,
                ));
            }
            Err(e) => namespaces.push(NamespaceSecret {
                name,
                exists: false,
                error: Some(describe_kube_error(&e).1),
            }),
        }
    }
    Ok(Json(SecretStatus {
        configured: namespaces.iter().any(|n| n.exists),
        namespaces,
        user,
    }))
}

/// Body of `save`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SaveRequest {
    /// The HuggingFace access token.
    access_token: String,
}

/// What happened in one namespace.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceResult {
    /// Namespace.
    namespace: String,
    /// The step succeeded there.
    success: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Result of `save`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SaveResponse {
    /// Always true (failures are error responses).
    success: bool,
    /// Human-readable summary.
    message: String,
    /// Whose token it is.
    user: HfUserInfo,
    /// Per-namespace outcome.
    results: Vec<NamespaceResult>,
}

/// Validates the token with the Hub and stores it in every namespace deployments run in
/// (creating missing namespaces), with the caller's own Kubernetes permissions.
#[utoipa::path(post, path = "/api/secrets/huggingface", operation_id = "save_hf_secret", tag = "huggingface",
    request_body = SaveRequest,
    responses((status = 200, body = SaveResponse),
        (status = 400, description = "The token is malformed or the Hub rejected it", body = ErrorBody),
        (status = 403, description = "Not allowed to write Secrets in some namespaces", body = ErrorBody),
        (status = 502, description = "The Hub is unreachable", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn save(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SaveRequest>,
) -> ApiResult<Json<SaveResponse>> {
    let token = HfToken::parse(&body.access_token)?;
    let targets = target_namespaces(&state).await?;
    let user = state.hub()?.whoami(&token).await.map_err(|e| match e {
        HubError::Unauthorized(m) | HubError::Forbidden(m) => {
            ApiError::bad_request(format!("Invalid HuggingFace token: {m}"))
        }
        other => other.into_api("Could not validate the HuggingFace token"),
    })?;
    let client = caller.client();
    let writes = targets
        .iter()
        .map(|ns| write_secret(client, ns, &token, &user));
    let outcomes = futures::future::join_all(writes).await;
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for (ns, outcome) in targets.iter().zip(outcomes) {
        match outcome {
            Ok(()) => results.push(NamespaceResult {
                namespace: ns.clone(),
                success: true,
                error: None,
            }),
            Err(e) => {
                let (status, message) = describe_kube_error(&e);
                failures.push((status, format!("{ns}: {message}")));
                results.push(NamespaceResult {
                    namespace: ns.clone(),
                    success: false,
                    error: Some(message),
                });
            }
        }
    }
    if let Some((status, _)) = failures.first() {
        let list: Vec<&str> = failures.iter().map(|(_, m)| m.as_str()).collect();
        return Err(ApiError::new(
            *status,
            format!(
                "Failed to save the HuggingFace token in some namespaces (saved in {} of {}): {}",
                targets.len() - failures.len(),
                targets.len(),
                list.join("; ")
            ),
        ));
    }
    Ok(Json(SaveResponse {
        success: true,
        message: "HuggingFace token saved successfully".into(),
        user,
        results,
    }))
}

/// Result of `delete`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteResponse {
    /// Every namespace succeeded.
    success: bool,
    /// Human-readable summary.
    message: String,
    /// Per-namespace outcome.
    results: Vec<NamespaceResult>,
}

/// Deletes the token Secret everywhere it is written (a missing Secret counts as deleted).
#[utoipa::path(delete, path = "/api/secrets/huggingface", operation_id = "delete_hf_secret", tag = "huggingface",
    responses((status = 200, description = "`success` is false when some namespace failed", body = DeleteResponse),
        (status = 401, body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DeleteResponse>> {
    let targets = target_namespaces(&state).await?;
    let client = caller.client();
    let deletes = targets.iter().map(|ns| async move {
        let api: Api<Secret> = Api::namespaced(client.clone(), ns);
        match api.delete(SECRET_NAME, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    });
    let mut results = Vec::new();
    for (ns, outcome) in targets.iter().zip(futures::future::join_all(deletes).await) {
        results.push(match outcome {
            Ok(()) => NamespaceResult {
                namespace: ns.clone(),
                success: true,
                error: None,
            },
            Err(e) if transport(&e) => {
                return Err(ApiError::kube(
                    "Failed to delete the HuggingFace token Secrets",
                    e,
                ));
            }
            Err(e) => NamespaceResult {
                namespace: ns.clone(),
                success: false,
                error: Some(describe_kube_error(&e).1),
            },
        });
    }
    let success = results.iter().all(|r| r.success);
    Ok(Json(DeleteResponse {
        success,
        message: if success {
            "HuggingFace secrets deleted successfully".into()
        } else {
            "Some secrets could not be deleted".into()
        },
        results,
    }))
}

/// Where deployments run: the settings' default namespace, every namespace with a
/// ModelDeployment, and the namespaces providers install into.
async fn target_namespaces(state: &AppState) -> ApiResult<Vec<String>> {
    let caches = state.caches()?;
    caches.ready(Kind::Deployments).await?;
    caches.ready(Kind::Providers).await?;
    let mut set = BTreeSet::new();
    set.insert(crate::settings::default_namespace(state));
    for md in caches.deployments.state() {
        if let Some(ns) = md.namespace() {
            set.insert(ns);
        }
    }
    for ipc in caches.providers.state() {
        if let Some(ns) = ipc
            .spec
            .installation
            .as_ref()
            .and_then(|i| i.default_namespace.clone())
            .filter(|ns| !ns.is_empty())
        {
            set.insert(ns);
        }
    }
    Ok(set.into_iter().collect())
}

/// Creates `ns` if missing, then applies the Secret (server-side apply: idempotent, and a
/// re-save replaces the token).
async fn write_secret(
    client: &Client,
    ns: &str,
    token: &HfToken,
    user: &HfUserInfo,
) -> Result<(), kube::Error> {
    ensure_namespace(client, ns).await?;
    let mut secret = Secret {
        type_: Some("Opaque".into()),
        data: Some(
            [(
                SECRET_KEY.to_string(),
                ByteString(token.expose().as_bytes().to_vec()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    secret.metadata.name = Some(SECRET_NAME.into());
    secret.metadata.namespace = Some(ns.into());
    secret.metadata.labels = Some(
        [
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (SECRET_TYPE_LABEL.to_string(), SECRET_TYPE.to_string()),
        ]
        .into(),
    );
    let who = HfUserInfo {
        email: None,
        ..user.clone()
    };
    secret.metadata.annotations = Some(
        [(
            USER_ANNOTATION.to_string(),
            serde_json::to_string(&who).unwrap_or_default(),
        )]
        .into(),
    );
    let mut value = serde_json::to_value(&secret).map_err(kube::Error::SerdeError)?;
    value["apiVersion"] = "v1".into();
    value["kind"] = "Secret".into();
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    api.patch(
        SECRET_NAME,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(value),
    )
    .await?;
    Ok(())
}

async fn ensure_namespace(client: &Client, ns: &str) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    match api.get_metadata_opt(ns).await {
        Ok(Some(_)) => return Ok(()),
        Ok(None) => {}
        // Without permission to read namespaces, try the write; it says what is wrong.
        Err(kube::Error::Api(s)) if s.code == 403 => return Ok(()),
        Err(e) => return Err(e),
    }
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some(ns.into());
    match api.create(&PostParams::default(), &namespace).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The API server itself could not be reached (as opposed to refusing one namespace).
fn transport(e: &kube::Error) -> bool {
    !matches!(e, kube::Error::Api(_))
}
