//! The HuggingFace token Secret (docs/contract/api.md §12): `hf-token-secret` with key `HF_TOKEN`,
//! which deployments of gated models reference. Fixed against the reference (§19.12, security 7):
//! it is written where deployments run — the default namespace, every namespace holding
//! ModelDeployments, and the providers' namespaces — the token is checked with the Hub before it is
//! stored, no endpoint returns it, and the status reads only Secret metadata (the user is recorded
//! in an annotation at save time, so polling never calls the Hub). A namespace's first deployment
//! after the save gets a copy ([`copy_to_namespace`], called by the create).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use kubeairunway_api::labels;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::activity::{self, Action, Change, Target};
use crate::auth::Caller;
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody, describe_kube_error};
use crate::extract::ApiJson;
use crate::hf::{HfToken, HfUserInfo, HubError};
use crate::state::AppState;

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
    responses((status = 200, description = "Namespaces other than the default one that refuse the caller are left out", body = SecretStatus),
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
    // The settings' default namespace is public; the others come from the caches, which hold
    // namespaces the caller may not see, so one that refuses the caller is left out.
    let public = crate::settings::default_namespace(&state);
    for (name, result) in futures::future::join_all(checks).await {
        match result {
            Err(kube::Error::Api(s)) if s.code == 403 && name != public => {}
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
    let result = save_token(&state, &caller, &token).await;
    // Never the token: only where it went.
    let detail = match &result {
        Ok(Json(saved)) => format!("in {} namespace(s)", saved.results.len()),
        Err(_) => String::new(),
    };
    let change = Change::new(Action::SaveToken, token_target(&state)).detail(detail);
    activity::record(&state, &caller, change, &result).await;
    result
}

/// The object the activity of the token routes is recorded on: its copy in the default
/// namespace.
fn token_target(state: &AppState) -> Target {
    Target::TokenSecret {
        namespace: crate::settings::default_namespace(state),
        name: SECRET_NAME.into(),
    }
}

async fn save_token(
    state: &AppState,
    caller: &Caller,
    token: &HfToken,
) -> ApiResult<Json<SaveResponse>> {
    let token = token.clone();
    let targets = target_namespaces(state).await?;
    let user = state.hub()?.whoami(&token).await.map_err(|e| match e {
        HubError::Unauthorized(m) | HubError::Forbidden(m) => {
            ApiError::bad_request(format!("Invalid HuggingFace token: {m}"))
        }
        other => ApiError::hub("Could not validate the HuggingFace token", other),
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
    responses((status = 200, description = "`success` is false when some namespace failed; namespaces that refused the caller are counted in `message`, not listed", body = DeleteResponse),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may delete the Secret in none of the namespaces", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DeleteResponse>> {
    let result = delete_token(&state, &caller).await;
    let change = Change::new(Action::DeleteToken, token_target(&state));
    activity::record(&state, &caller, change, &result).await;
    result
}

async fn delete_token(state: &AppState, caller: &Caller) -> ApiResult<Json<DeleteResponse>> {
    let targets = target_namespaces(state).await?;
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
    let mut refused = 0;
    for (ns, outcome) in targets.iter().zip(futures::future::join_all(deletes).await) {
        results.push(match outcome {
            Err(kube::Error::Api(s)) if s.code == 403 => {
                refused += 1;
                continue;
            }
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
    // Refused everywhere: nothing changed, and the answer is the refusal itself. Otherwise the
    // namespaces that refused the caller are counted, not named: they come from the caches,
    // which hold namespaces the caller may not see.
    if refused > 0 && results.is_empty() {
        let who = caller.identity().map_or("", |i| i.username.as_str());
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "secrets is forbidden: User \"{who}\" cannot delete the HuggingFace token Secrets"
            ),
        ));
    }
    let success = refused == 0 && results.iter().all(|r| r.success);
    Ok(Json(DeleteResponse {
        success,
        message: if success {
            "HuggingFace secrets deleted successfully".into()
        } else if refused > 0 {
            format!("Some secrets could not be deleted ({refused} namespaces refused the deletion)")
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
    let mut value = serde_json::to_value(managed_secret(ns, token, Some(user)))
        .map_err(kube::Error::SerdeError)?;
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

/// The token Secret as every writer stores it: name, type, key, labels, and the token's user
/// (without e-mail) in an annotation so `status` never needs the token.
fn managed_secret(ns: &str, token: &HfToken, user: Option<&HfUserInfo>) -> Secret {
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
    secret.metadata.annotations = user.map(|user| {
        let who = HfUserInfo {
            email: None,
            ..user.clone()
        };
        [(
            USER_ANNOTATION.to_string(),
            serde_json::to_string(&who).unwrap_or_default(),
        )]
        .into()
    });
    secret
}

/// What [`copy_to_namespace`] found or did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCopy {
    /// The namespace already has a Secret of that name (never overwritten).
    Present,
    /// Copied from this namespace (in a dry run: would be; the API server accepted a dry-run
    /// create).
    Copied {
        /// Where the saved token was read.
        from: String,
    },
}

/// Why the token Secret could not be put into a deployment's namespace. The deployment is
/// created anyway (docs/models.md, "The token Secret"); the create answers this as a warning.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CopyError {
    /// No managed token Secret exists anywhere the caller could look.
    #[error("no HuggingFace token is saved (no Secret \"{SECRET_NAME}\" in {searched})")]
    NotSaved {
        /// Where it was looked for.
        searched: String,
    },
    /// The caller may not read the namespaces the token is saved in.
    #[error("you may not read Secrets in {namespaces}, where a saved token would be")]
    Unreadable {
        /// Namespaces whose Secrets the caller may not read.
        namespaces: String,
    },
    /// The saved Secret holds no usable token.
    #[error("the Secret \"{SECRET_NAME}\" in \"{from}\" holds no valid {SECRET_KEY}")]
    Unusable {
        /// Namespace of that Secret.
        from: String,
    },
    /// The API server refused the copy (typically 403: the caller may not create Secrets).
    #[error("creating it in \"{namespace}\" failed: {reason}")]
    Write {
        /// Target namespace.
        namespace: String,
        /// The API server's answer.
        reason: String,
    },
    /// The cluster could not be asked.
    #[error("{0}")]
    Cluster(String),
}

/// Makes sure `ns` has the token Secret a new deployment references (docs/contract/api.md §19.12: a
/// namespace's first deployment after the token was saved would otherwise reference a missing
/// Secret). Copies the managed Secret from the settings' default namespace or wherever it is
/// saved, acting with `client` (the caller's own: this never escalates to the server's
/// identity). Creates rather than applies, so an existing Secret of that name — possibly the
/// user's own — is never overwritten. `dry_run`: the create is a server-side dry run (the API
/// server checks permission and existence, nothing is stored).
pub(crate) async fn copy_to_namespace(
    state: &AppState,
    client: &Client,
    ns: &str,
    dry_run: bool,
) -> Result<TokenCopy, CopyError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    match api.get_metadata_opt(SECRET_NAME).await {
        Ok(Some(_)) => return Ok(TokenCopy::Present),
        Ok(None) => {}
        // Unknown whether it exists: the create below refuses (403) or finds it (409).
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        Err(e) => return Err(CopyError::Cluster(describe_kube_error(&e).1)),
    }
    let (from, source) = find_saved(state, client, ns).await?;
    let token = source
        .data
        .as_ref()
        .and_then(|d| d.get(SECRET_KEY))
        .and_then(|b| std::str::from_utf8(&b.0).ok())
        .and_then(|t| HfToken::parse(t).ok())
        .ok_or_else(|| CopyError::Unusable { from: from.clone() })?;
    let user = source
        .annotations()
        .get(USER_ANNOTATION)
        .and_then(|a| serde_json::from_str::<HfUserInfo>(a).ok());
    let params = PostParams {
        dry_run,
        field_manager: Some(MANAGER.into()),
    };
    match api
        .create(&params, &managed_secret(ns, &token, user.as_ref()))
        .await
    {
        Ok(_) => Ok(TokenCopy::Copied { from }),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(TokenCopy::Present),
        Err(e) => Err(CopyError::Write {
            namespace: ns.to_string(),
            reason: describe_kube_error(&e).1,
        }),
    }
}

/// The saved token Secret, read as the caller, outside `except`: the settings' default
/// namespace first, then any namespace (one label-selected list, when the caller may list
/// Secrets cluster-wide), else each namespace the token is saved into. Only Secrets carrying
/// our label count, so a foreign Secret that happens to share the name is never spread.
async fn find_saved(
    state: &AppState,
    client: &Client,
    except: &str,
) -> Result<(String, Secret), CopyError> {
    let default = crate::settings::default_namespace(state);
    let mut forbidden = Vec::new();
    if default != except {
        match read_managed(client, &default).await {
            Ok(Some(secret)) => return Ok((default, secret)),
            Ok(None) => {}
            Err(kube::Error::Api(s)) if s.code == 403 => forbidden.push(default.clone()),
            Err(e) => return Err(CopyError::Cluster(describe_kube_error(&e).1)),
        }
    }
    let all: Api<Secret> = Api::all(client.clone());
    let params = ListParams::default()
        .labels(&format!("{SECRET_TYPE_LABEL}={SECRET_TYPE}"))
        .fields(&format!("metadata.name={SECRET_NAME}"));
    match all.list(&params).await {
        Ok(list) => {
            return list
                .items
                .into_iter()
                .find_map(|s| s.namespace().filter(|ns| ns != except).map(|ns| (ns, s)))
                .ok_or_else(|| CopyError::NotSaved {
                    searched: "any namespace".into(),
                });
        }
        Err(e) if transport(&e) => return Err(CopyError::Cluster(describe_kube_error(&e).1)),
        // Not allowed cluster-wide: look where the token is saved, one namespace at a time.
        Err(_) => {}
    }
    let targets = target_namespaces(state)
        .await
        .map_err(|e| CopyError::Cluster(e.message))?;
    let mut searched = vec![default.clone()];
    for ns in targets {
        if ns == except || ns == default {
            continue;
        }
        match read_managed(client, &ns).await {
            Ok(Some(secret)) => return Ok((ns, secret)),
            Ok(None) => searched.push(ns),
            Err(kube::Error::Api(s)) if s.code == 403 => forbidden.push(ns),
            Err(e) => return Err(CopyError::Cluster(describe_kube_error(&e).1)),
        }
    }
    let quoted = |list: &[String]| {
        list.iter()
            .map(|ns| format!("\"{ns}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if forbidden.is_empty() {
        Err(CopyError::NotSaved {
            searched: quoted(&searched),
        })
    } else {
        Err(CopyError::Unreadable {
            namespaces: quoted(&forbidden),
        })
    }
}

/// The token Secret in `ns` if it exists and is ours.
async fn read_managed(client: &Client, ns: &str) -> Result<Option<Secret>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    Ok(api
        .get_opt(SECRET_NAME)
        .await?
        .filter(|s| s.labels().get(SECRET_TYPE_LABEL).map(String::as_str) == Some(SECRET_TYPE)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_copied_secrets_have_one_shape_without_the_email() {
        let token = HfToken::parse("hf_abc").expect("token");
        let user = HfUserInfo {
            id: "1".into(),
            name: "u".into(),
            fullname: "U".into(),
            email: Some("u@example.com".into()),
            avatar_url: None,
        };
        let secret = managed_secret("ns", &token, Some(&user));
        assert_eq!(secret.metadata.name.as_deref(), Some(SECRET_NAME));
        assert_eq!(secret.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(secret.type_.as_deref(), Some("Opaque"));
        assert_eq!(
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(SECRET_KEY))
                .map(|b| b.0.as_slice()),
            Some(b"hf_abc".as_slice())
        );
        assert_eq!(secret.labels()[SECRET_TYPE_LABEL], SECRET_TYPE);
        assert_eq!(
            secret.labels()[labels::MANAGED_BY],
            labels::MANAGED_BY_VALUE
        );
        let who = &secret.annotations()[USER_ANNOTATION];
        assert!(
            who.contains("\"name\":\"u\"") && !who.contains("example.com"),
            "{who}"
        );
        assert!(
            managed_secret("ns", &token, None)
                .metadata
                .annotations
                .is_none()
        );
    }
}
