//! The build infrastructure: an in-cluster registry and a BuildKit builder (buildkitd as a
//! Deployment with a Service), both in `kubeairunway-system`, created **as the caller** (RBAC
//! decides, the audit log names the person), never updated once they exist (an operator's
//! edits stay), with readiness read from the Deployments' status.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::Client;
use kube::api::{Api, PostParams};
use kubeairunway_core::aikit::infra::{self, Readiness};
use kubeairunway_core::aikit::{BUILDER_DRIVER, BUILDER_NAME, NAMESPACE, REGISTRY_NAME};
use serde::Serialize;
use utoipa::ToSchema;

use super::TAG;
use crate::activity::{self, Action, Change, Target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, describe_kube_error};
use crate::state::AppState;

/// How often setup looks at readiness while it waits.
const POLL: Duration = Duration::from_millis(500);

/// The registry's state.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistryStatus {
    /// Its Deployment exists.
    pub installed: bool,
    /// Every replica is ready.
    pub ready: bool,
    /// Where the builder pushes.
    pub url: String,
    /// In words.
    pub message: String,
}

/// The builder's state.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuilderStatus {
    /// Its Deployment exists.
    pub exists: bool,
    /// buildkitd is ready.
    pub ready: bool,
    /// The same as `ready`, under the name the reference's shared client reads.
    pub running: bool,
    /// `kubeairunway-builder`.
    pub name: String,
    /// `kubernetes` (buildkitd runs as a Deployment in the cluster).
    pub driver: String,
    /// Where `buildctl` reaches buildkitd.
    pub address: String,
    /// In words.
    pub message: String,
}

/// `GET /api/aikit/infrastructure/status`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InfrastructureStatus {
    /// Registry and builder are ready: builds can run.
    pub ready: bool,
    /// The registry.
    pub registry: RegistryStatus,
    /// The builder.
    pub builder: BuilderStatus,
    /// Why the state could not be read (the answer is still 200, as in the reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads a Deployment: `Ok(None)` when it does not exist.
async fn read(client: &Client, name: &str) -> Result<Option<Readiness>, String> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), NAMESPACE);
    api.get_opt(name)
        .await
        .map(|d| d.as_ref().map(Readiness::of))
        .map_err(|e| describe_kube_error(&e).1)
}

/// The state of both, read as the caller.
pub(crate) async fn current(state: &AppState, caller: &Caller) -> InfrastructureStatus {
    let aikit = &state.config().aikit;
    let client = caller.client();
    let (registry, builder) = tokio::join!(read(client, REGISTRY_NAME), read(client, BUILDER_NAME));
    let url = aikit.target.push_host.clone();
    let mut errors = Vec::new();
    let registry = match registry {
        Ok(None) => RegistryStatus {
            installed: false,
            ready: false,
            url,
            message: "Registry deployment not found".into(),
        },
        Ok(Some(r)) if r.is_ready() => RegistryStatus {
            installed: true,
            ready: true,
            message: format!("Registry ready at {url}"),
            url,
        },
        Ok(Some(r)) => RegistryStatus {
            installed: true,
            ready: false,
            url,
            message: format!("Registry not ready: {}/{} replicas", r.ready, r.desired),
        },
        Err(e) => {
            errors.push(format!("registry: {e}"));
            RegistryStatus {
                installed: false,
                ready: false,
                url,
                message: "Failed to check registry status".into(),
            }
        }
    };
    let address = aikit.buildkit_addr.clone();
    let builder = match builder {
        Ok(None) => BuilderStatus {
            exists: false,
            ready: false,
            message: "Builder not found".into(),
            ..builder_base(address)
        },
        Ok(Some(r)) if r.is_ready() => BuilderStatus {
            exists: true,
            ready: true,
            message: "Builder is ready".into(),
            ..builder_base(address)
        },
        Ok(Some(r)) => BuilderStatus {
            exists: true,
            ready: false,
            message: format!(
                "Builder exists but is not running: {}/{} replicas ready",
                r.ready, r.desired
            ),
            ..builder_base(address)
        },
        Err(e) => {
            errors.push(format!("builder: {e}"));
            BuilderStatus {
                exists: false,
                ready: false,
                message: "Failed to check builder status".into(),
                ..builder_base(address)
            }
        }
    };
    let builder = BuilderStatus {
        running: builder.ready,
        ..builder
    };
    InfrastructureStatus {
        ready: registry.ready && builder.exists && builder.ready,
        registry,
        builder,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    }
}

fn builder_base(address: String) -> BuilderStatus {
    BuilderStatus {
        exists: false,
        ready: false,
        running: false,
        name: BUILDER_NAME.into(),
        driver: BUILDER_DRIVER.into(),
        address,
        message: String::new(),
    }
}

/// Whether the registry and the BuildKit builder exist and are ready (read as the caller). A
/// failure to read is still a 200 with `error` (the reference's contract), with `ready: false`.
#[utoipa::path(get, path = "/api/aikit/infrastructure/status", operation_id = "aikit_infrastructure_status", tag = TAG,
    responses((status = 200, body = InfrastructureStatus), (status = 401, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<InfrastructureStatus> {
    Json(current(&state, &caller).await)
}

/// `POST /api/aikit/infrastructure/setup`: the registry's part.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetupRegistry {
    /// Where the builder pushes.
    pub url: String,
    /// Ready.
    pub ready: bool,
}

/// `POST /api/aikit/infrastructure/setup`: the builder's part.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetupBuilder {
    /// `kubeairunway-builder`.
    pub name: String,
    /// Ready.
    pub ready: bool,
}

/// `POST /api/aikit/infrastructure/setup` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetupResult {
    /// Both are ready.
    pub success: bool,
    /// In words.
    pub message: String,
    /// The registry.
    pub registry: SetupRegistry,
    /// The builder.
    pub builder: SetupBuilder,
    /// Objects this call created (`Kind/name`); empty when everything existed already.
    pub created: Vec<String>,
}

/// Creates `object` unless it exists (an existing one is left as it is). True when created.
async fn ensure<K>(api: &Api<K>, object: &K, what: &str) -> ApiResult<bool>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    match api.get_opt(&name).await {
        Ok(Some(_)) => return Ok(false),
        Ok(None) => {}
        Err(e) => return Err(ApiError::kube(&format!("Failed to read {what}"), e)),
    }
    match api.create(&PostParams::default(), object).await {
        Ok(_) => Ok(true),
        // Created meanwhile by someone else: as good as existing.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(ApiError::kube(&format!("Failed to create {what}"), e)),
    }
}

/// Creates what is missing of the namespace, the registry (Deployment + NodePort Service) and
/// the BuildKit builder (Deployment + Service), as the caller, then waits briefly for both to
/// be ready. Calling it again creates nothing. Not ready within the wait → `503` saying what is
/// still missing (the objects stay; poll the status).
#[utoipa::path(post, path = "/api/aikit/infrastructure/setup", operation_id = "aikit_infrastructure_setup", tag = TAG,
    responses(
        (status = 200, body = SetupResult),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not create the objects", body = ErrorBody),
        (status = 503, description = "Created, but not ready in time", body = ErrorBody)))]
pub(crate) async fn setup(State(state): State<AppState>, caller: Caller) -> Response {
    let result = run_setup(&state, &caller).await;
    let change = Change::new(
        Action::SetupBuildInfrastructure,
        Target::Workload {
            namespace: NAMESPACE.into(),
            name: BUILDER_NAME.into(),
        },
    )
    .what("the AIKit build infrastructure");
    activity::record(&state, &caller, change, &result).await;
    match result {
        Ok(result) => Json(result).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn run_setup(state: &AppState, caller: &Caller) -> ApiResult<SetupResult> {
    let client = caller.client().clone();
    let mut created = Vec::new();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if ensure(&namespaces, &infra::namespace(), "namespace").await? {
        created.push(format!("Namespace/{NAMESPACE}"));
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NAMESPACE);
    let services: Api<Service> = Api::namespaced(client, NAMESPACE);
    if ensure(
        &deployments,
        &infra::registry_deployment(),
        "registry deployment",
    )
    .await?
    {
        created.push(format!("Deployment/{REGISTRY_NAME}"));
    }
    if ensure(&services, &infra::registry_service(), "registry service").await? {
        created.push(format!("Service/{REGISTRY_NAME}"));
    }
    if ensure(
        &deployments,
        &infra::builder_deployment(),
        "builder deployment",
    )
    .await?
    {
        created.push(format!("Deployment/{BUILDER_NAME}"));
    }
    if ensure(&services, &infra::builder_service(), "builder service").await? {
        created.push(format!("Service/{BUILDER_NAME}"));
    }
    let wait = state.config().aikit.setup_wait;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let now = current(state, caller).await;
        if now.ready {
            return Ok(SetupResult {
                success: true,
                message: "Build infrastructure is ready".into(),
                registry: SetupRegistry {
                    url: now.registry.url,
                    ready: true,
                },
                builder: SetupBuilder {
                    name: BUILDER_NAME.into(),
                    ready: true,
                },
                created,
            });
        }
        if tokio::time::Instant::now() >= deadline {
            let secs = wait.as_secs();
            let message = if !now.registry.ready {
                format!(
                    "Failed to set up registry: Registry not ready after {secs} seconds: {}",
                    now.registry.message
                )
            } else {
                format!(
                    "Failed to set up builder: Builder not ready after {secs} seconds: {}",
                    now.builder.message
                )
            };
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{message}. The objects exist; follow GET /api/aikit/infrastructure/status until it reports ready"
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}
