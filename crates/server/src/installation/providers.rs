//! `/api/installation/providers/{id}/…` (docs/contract/api.md §8.2): a provider's installation
//! status and manual commands, and installing or uninstalling it with Helm from its
//! InferenceProviderConfig's `spec.installation`.
//!
//! Fixes of §19.6: `uninstall` answers `success: false` with every step's result when a step
//! fails, and
//! `uninstall-crds` removes what it names — the CRDs the provider's charts ship (which
//! `helm uninstall` never deletes) and then the InferenceProviderConfig — reporting each
//! deletion and any failure.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use kube::runtime::reflector::ObjectRef;
use kubeairunway_api::{InferenceProviderConfig, InstallationInfo};
use kubeairunway_install::args;
use kubeairunway_install::jobs::{Finish, JobState};
use kubeairunway_install::provider::{self, manual_commands};
use kubeairunway_install::run::Plan;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{Access, JobKind};
use super::launch::{self, Launch, RunQuery};
use super::{Installer, TAG};
use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, truncate};
use crate::runtimes::display_name;
use crate::state::AppState;

/// Core `secrets`: Helm keeps each release in Secrets of its namespace.
pub(crate) const SECRETS: Resource = Resource {
    group: "",
    resource: "secrets",
};
/// Core `namespaces`.
pub(crate) const NAMESPACES: Resource = Resource {
    group: "",
    resource: "namespaces",
};
/// `customresourcedefinitions.apiextensions.k8s.io`.
const CRDS: Resource = Resource {
    group: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
};

/// A manual installation step.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct InstallationStepView {
    /// Short title.
    pub title: String,
    /// Shell command, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// What the step does.
    pub description: String,
}

/// A chart of the installation and its release in the cluster.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChartStatus {
    /// Release name.
    pub name: String,
    /// Chart reference.
    pub chart: String,
    /// Pinned version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Release namespace.
    pub namespace: String,
    /// Whether the install creates the namespace.
    pub create_namespace: bool,
    /// The release's latest revision, from Helm's release Secrets; absent when not installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseInfo>,
    /// Why the release could not be read (e.g. the caller may not list Secrets there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_error: Option<String>,
}

/// A Helm release's latest revision.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct ReleaseInfo {
    /// `deployed`, `failed`, `pending-install`, `uninstalling`, …
    pub status: String,
    /// Revision number.
    pub revision: u32,
}

/// The job running for a target.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActiveJob {
    /// Job id.
    pub job_id: String,
    /// What it does.
    pub kind: JobKind,
    /// `queued` or `running`.
    pub state: JobState,
}

/// `GET /api/installation/providers/{id}/status`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderInstallStatus {
    /// InferenceProviderConfig name.
    pub provider_id: String,
    /// Display name.
    pub provider_name: String,
    /// The provider reports ready.
    pub installed: bool,
    /// Always true (the provider registered itself).
    pub crd_found: bool,
    /// The provider reports ready.
    pub operator_running: bool,
    /// Provider version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `<Name> is installed and running` or `<Name> is registered but not ready`.
    pub message: String,
    /// Manual steps.
    pub installation_steps: Vec<InstallationStepView>,
    /// The Helm commands that install it by hand.
    pub helm_commands: Vec<String>,
    /// What gets installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Namespace the operator goes to by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_namespace: Option<String>,
    /// The charts and their releases.
    pub charts: Vec<ChartStatus>,
    /// The install or uninstall job running for this provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_job: Option<ActiveJob>,
}

/// `GET /api/installation/providers/{id}/commands`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderCommands {
    /// InferenceProviderConfig name.
    pub provider_id: String,
    /// Display name.
    pub provider_name: String,
    /// The Helm commands that install it by hand.
    pub commands: Vec<String>,
    /// Manual steps.
    pub steps: Vec<InstallationStepView>,
}

/// Optional body of the install endpoints: values per release, each passed as `--set-json`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstallBody {
    /// `{"<release>": {"<value path>": <JSON value>}}`, e.g.
    /// `{"gpu-operator": {"driver.enabled": false}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

/// Most `--set-json` entries per install.
const MAX_VALUES: usize = 100;

/// Parses the optional install body (empty means none).
pub(crate) fn parse_body(bytes: &Bytes) -> ApiResult<InstallBody> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(InstallBody::default());
    }
    let body: InstallBody = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))?;
    if body.values.values().map(BTreeMap::len).sum::<usize>() > MAX_VALUES {
        return Err(ApiError::bad_request(format!(
            "Too many values: at most {MAX_VALUES}"
        )));
    }
    Ok(body)
}

/// The `{id}` path parameter: an InferenceProviderConfig name.
pub(crate) struct ProviderId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ProviderId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| {
                ApiError::bad_request(format!(
                    "Invalid provider id in the path: {}",
                    r.body_text()
                ))
            })?;
        let valid = !id.is_empty()
            && id.len() <= 253
            && id.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if valid {
            Ok(Self(id))
        } else {
            Err(ApiError::bad_request(format!(
                "Invalid provider id \"{}\": must be a lower-case DNS name",
                truncate(&id)
            )))
        }
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Provider not found: {id}"))
}

/// The cached InferenceProviderConfig, for the read endpoints.
async fn cached(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Arc<InferenceProviderConfig>> {
    let caches = state.caches()?;
    caches.ready(Kind::Providers).await?;
    caller.require("get", Resource::PROVIDERS, None).await?;
    caches
        .providers
        .get(&ObjectRef::new(id))
        .ok_or_else(|| not_found(id))
}

/// The InferenceProviderConfig read now with the caller's client, for the endpoints that act:
/// a config registered a moment ago is found, and RBAC decides.
async fn fresh(caller: &Caller, id: &str) -> ApiResult<InferenceProviderConfig> {
    let api: Api<InferenceProviderConfig> = Api::all(caller.client().clone());
    match api.get_opt(id).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(not_found(id)),
        Err(e) => Err(ApiError::kube("Failed to read the provider", e)),
    }
}

fn steps_of(info: Option<&InstallationInfo>) -> Vec<InstallationStepView> {
    info.and_then(|i| i.steps.as_ref())
        .map(|steps| {
            steps
                .iter()
                .map(|s| InstallationStepView {
                    title: s.title.clone(),
                    command: s.command.clone(),
                    description: s.description.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Target of a provider's jobs.
fn target(id: &str) -> String {
    id.to_string()
}

/// Reads the latest revision of `release` from Helm's release Secrets (metadata only).
async fn release_of(
    client: &kube::Client,
    release: &str,
    namespace: &str,
) -> Result<Option<ReleaseInfo>, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().labels(&format!("owner=helm,name={release}"));
    let list = api
        .list_metadata(&params)
        .await
        .map_err(|e| crate::error::describe_kube_error(&e).1)?;
    Ok(list
        .items
        .iter()
        .filter_map(|s| {
            let labels = s.metadata.labels.as_ref()?;
            let revision = labels.get("version")?.parse::<u32>().ok()?;
            let status = labels.get("status")?.clone();
            Some(ReleaseInfo { status, revision })
        })
        .max_by_key(|r| r.revision))
}

/// A provider's installation status: what the provider reports, its manual steps and commands,
/// each chart's Helm release, and the job running for it.
#[utoipa::path(get, path = "/api/installation/providers/{id}/status", operation_id = "provider_install_status", tag = TAG,
    params(("id" = String, Path, description = "InferenceProviderConfig name")),
    responses(
        (status = 200, body = ProviderInstallStatus),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Provider not found", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ProviderId(id): ProviderId,
) -> ApiResult<Json<ProviderInstallStatus>> {
    let provider = cached(&state, &caller, &id).await?;
    let info = provider.spec.installation.as_ref();
    let ready = provider.status.as_ref().is_some_and(|s| s.ready);
    let name = display_name(&id);
    let mut charts = Vec::new();
    for chart in info
        .and_then(|i| i.helm_charts.as_deref())
        .unwrap_or_default()
    {
        let (release, release_error) = if args::namespace(&chart.namespace).is_ok()
            && args::release_name(&chart.name).is_ok()
        {
            match release_of(caller.client(), &chart.name, &chart.namespace).await {
                Ok(r) => (r, None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, Some("invalid release name or namespace".to_string()))
        };
        charts.push(ChartStatus {
            name: chart.name.clone(),
            chart: chart.chart.clone(),
            version: chart.version.clone(),
            namespace: chart.namespace.clone(),
            create_namespace: chart.create_namespace == Some(true),
            release,
            release_error,
        });
    }
    let active_job = installer.jobs.active(&target(&id)).map(|j| ActiveJob {
        job_id: j.id.clone(),
        kind: j.meta.kind,
        state: j.state(),
    });
    Ok(Json(ProviderInstallStatus {
        provider_id: id.clone(),
        provider_name: name.clone(),
        installed: ready,
        crd_found: true,
        operator_running: ready,
        version: provider.status.as_ref().and_then(|s| s.version.clone()),
        message: if ready {
            format!("{name} is installed and running")
        } else {
            format!("{name} is registered but not ready")
        },
        installation_steps: steps_of(info),
        helm_commands: manual_commands(info),
        description: info.and_then(|i| i.description.clone()),
        default_namespace: info.and_then(|i| i.default_namespace.clone()),
        charts,
        active_job,
    }))
}

/// The commands and steps that install a provider by hand.
#[utoipa::path(get, path = "/api/installation/providers/{id}/commands", operation_id = "provider_install_commands", tag = TAG,
    params(("id" = String, Path, description = "InferenceProviderConfig name")),
    responses(
        (status = 200, body = ProviderCommands),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Provider not found", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn commands(
    State(state): State<AppState>,
    caller: Caller,
    ProviderId(id): ProviderId,
) -> ApiResult<Json<ProviderCommands>> {
    let provider = cached(&state, &caller, &id).await?;
    let info = provider.spec.installation.as_ref();
    Ok(Json(ProviderCommands {
        provider_name: display_name(&id),
        provider_id: id,
        commands: manual_commands(info),
        steps: steps_of(info),
    }))
}

/// What installing or uninstalling `plan` requires of the caller: Helm keeps releases in
/// Secrets of each release namespace, and `--create-namespace` creates the namespace.
fn helm_access(plan: &Plan, verb: &'static str) -> Vec<Access> {
    let mut access: Vec<Access> = Vec::new();
    for chart in &plan.charts {
        let a = Access {
            verb,
            resource: SECRETS,
            namespace: Some(chart.namespace.clone()),
        };
        if !access.contains(&a) {
            access.push(a);
        }
        let ns = Access {
            verb: "create",
            resource: NAMESPACES,
            namespace: None,
        };
        if verb == "create" && chart.create_namespace && !access.contains(&ns) {
            access.push(ns);
        }
    }
    access
}

/// What every provider job starts from: the run options, the caller's token for Helm, and the
/// provider's plan with `values` applied.
struct Prepared {
    run_async: bool,
    timeout: std::time::Duration,
    token: Option<String>,
    plan: Plan,
}

async fn prepare(
    caller: &Caller,
    id: &str,
    query: &RunQuery,
    headers: &HeaderMap,
    values: &BTreeMap<String, BTreeMap<String, serde_json::Value>>,
) -> Result<Prepared, Response> {
    let prepared = async {
        let run_async = query.is_async(headers)?;
        let timeout = query.timeout()?;
        let token = launch::caller_token(caller, headers)?;
        let provider = fresh(caller, id).await?;
        let plan = provider::plan(id, provider.spec.installation.as_ref(), values)?;
        ApiResult::Ok(Prepared {
            run_async,
            timeout,
            token,
            plan,
        })
    };
    prepared.await.map_err(IntoResponse::into_response)
}

/// Refuses a Helm job for a provider whose installation lists no charts.
fn require_charts(plan: &Plan, id: &str, what: &str) -> ApiResult<()> {
    if plan.charts.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Provider {id} has no Helm charts to {what}"
        )));
    }
    Ok(())
}

/// Installs the provider's charts (`helm upgrade --install`, after adding its repositories).
/// Synchronous by default: `200 {success, message, results, jobId}` once Helm has finished
/// (`success: false` naming the failing step with every step's output); `?async=true` or
/// `Prefer: respond-async` answers `202 {jobId, …}` at once.
#[utoipa::path(post, path = "/api/installation/providers/{id}/install", operation_id = "install_provider", tag = TAG,
    params(("id" = String, Path, description = "InferenceProviderConfig name"), RunQuery),
    request_body(content = Option<InstallBody>, description = "Optional values per release"),
    responses(
        (status = 200, description = "Finished: `success` says whether every step succeeded", body = launch::JobOutcome),
        (status = 202, description = "Accepted (`?async=true` or `Prefer: respond-async`)", body = launch::JobAccepted),
        (status = 400, description = "Helm missing, an argument Helm cannot be given safely, or bad values", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not create Helm releases (Secrets) or namespaces there", body = ErrorBody),
        (status = 404, description = "Provider not found", body = ErrorBody),
        (status = 409, description = "A job is already running for this provider", body = launch::ConflictBody)))]
pub(crate) async fn install(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ProviderId(id): ProviderId,
    ApiQuery(query): ApiQuery<RunQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    let body = parse_body(&body).map_err(IntoResponse::into_response)?;
    let Prepared {
        run_async,
        timeout,
        token,
        plan,
    } = prepare(&caller, &id, &query, &headers, &body.values).await?;
    require_charts(&plan, &id, "install; follow its manual installation steps")
        .map_err(IntoResponse::into_response)?;
    let name = display_name(&id);
    let launch = Launch {
        kind: JobKind::InstallProvider,
        target: target(&id),
        access: helm_access(&plan, "create"),
        plan: plan.install_steps(timeout),
        timeout,
    };
    let job = launch::start(
        &state,
        &installer,
        &caller,
        token,
        launch,
        move |run| async move {
            match run.install(&plan).await {
                Ok(()) => Finish::succeeded(format!("{name} installed successfully")),
                Err(f) => Finish::failed_at("Installation", &f.step, &f.error),
            }
        },
    )
    .await?;
    Ok(launch::answer(&job, run_async))
}

/// Uninstalls the provider's charts in reverse order (`helm uninstall`), running every step
/// even after a failure. `200 {success: true, …}` when all succeeded, else `200` with
/// `success: false`, the first failing step and every step's result (as the reference).
#[utoipa::path(post, path = "/api/installation/providers/{id}/uninstall", operation_id = "uninstall_provider", tag = TAG,
    params(("id" = String, Path, description = "InferenceProviderConfig name"), RunQuery),
    responses(
        (status = 200, description = "Finished: `success` says whether every step succeeded", body = launch::JobOutcome),
        (status = 202, description = "Accepted (`?async=true` or `Prefer: respond-async`)", body = launch::JobAccepted),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not delete Helm releases (Secrets) there", body = ErrorBody),
        (status = 404, description = "Provider not found", body = ErrorBody),
        (status = 409, description = "A job is already running for this provider", body = launch::ConflictBody)))]
pub(crate) async fn uninstall(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ProviderId(id): ProviderId,
    ApiQuery(query): ApiQuery<RunQuery>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let Prepared {
        run_async,
        timeout,
        token,
        plan,
    } = prepare(&caller, &id, &query, &headers, &BTreeMap::new()).await?;
    require_charts(&plan, &id, "uninstall").map_err(IntoResponse::into_response)?;
    let name = display_name(&id);
    let launch = Launch {
        kind: JobKind::UninstallProvider,
        target: target(&id),
        access: helm_access(&plan, "delete"),
        plan: plan.uninstall_steps(timeout),
        timeout,
    };
    let job = launch::start(&state, &installer, &caller, token, launch, move |run| async move {
        let failures = run.uninstall(&plan).await;
        match failures.first() {
            None => Finish::succeeded(format!("{name} uninstalled successfully")),
            Some(first) => {
                let mut finish = Finish::failed_at("Uninstall", &first.step, &first.error);
                finish.message = format!(
                    "{name} uninstall completed with errors: {} of {} steps failed; first failure at step \"{}\": {}",
                    failures.len(),
                    plan.charts.len(),
                    first.step,
                    first.error
                );
                finish
            }
        }
    })
    .await?;
    Ok(launch::answer(&job, run_async))
}

/// Removes the provider: the CRDs its charts ship in their `crds/` directories (listed with
/// `helm show crds`; Helm never deletes them), then its InferenceProviderConfig — only once
/// every CRD is gone, so a failed removal can be retried. Deleting a CRD deletes every object
/// of that kind. Uninstall the charts first.
#[utoipa::path(post, path = "/api/installation/providers/{id}/uninstall-crds", operation_id = "uninstall_provider_crds", tag = TAG,
    params(("id" = String, Path, description = "InferenceProviderConfig name"), RunQuery),
    responses(
        (status = 200, description = "Finished: `success` says whether every step succeeded", body = launch::JobOutcome),
        (status = 202, description = "Accepted (`?async=true` or `Prefer: respond-async`)", body = launch::JobAccepted),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not delete CRDs or the provider config", body = ErrorBody),
        (status = 404, description = "Provider not found", body = ErrorBody),
        (status = 409, description = "A job is already running for this provider", body = launch::ConflictBody)))]
pub(crate) async fn uninstall_crds(
    State(state): State<AppState>,
    Extension(installer): Extension<Arc<Installer>>,
    caller: Caller,
    ProviderId(id): ProviderId,
    ApiQuery(query): ApiQuery<RunQuery>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let Prepared {
        run_async,
        timeout,
        token,
        plan,
    } = prepare(&caller, &id, &query, &headers, &BTreeMap::new()).await?;
    let mut access = vec![Access {
        verb: "delete",
        resource: Resource::PROVIDERS,
        namespace: None,
    }];
    if !plan.charts.is_empty() {
        access.push(Access {
            verb: "delete",
            resource: CRDS,
            namespace: None,
        });
    }
    let launch = Launch {
        kind: JobKind::UninstallProviderCrds,
        target: target(&id),
        access,
        plan: plan.remove_crds_steps(timeout, &id),
        timeout,
    };
    let client = caller.client().clone();
    let provider_id = id.clone();
    let job = launch::start(
        &state,
        &installer,
        &caller,
        token,
        launch,
        move |run| async move {
            match run.remove_crds(&plan, &client, &provider_id).await {
                Ok(crds) => {
                    let removed = if crds.is_empty() {
                        "no CRDs (its charts ship none)".to_string()
                    } else {
                        format!("{} CRD(s) ({})", crds.len(), crds.join(", "))
                    };
                    let mut finish = Finish::succeeded(format!(
                        "{provider_id} provider config and {removed} removed successfully"
                    ));
                    finish
                        .details
                        .insert("removedCrds".into(), serde_json::json!(crds));
                    finish
                }
                Err(f) => Finish::failed_at("Removal", &f.step, &f.error),
            }
        },
    )
    .await?;
    Ok(launch::answer(&job, run_async))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert!(parse_body(&Bytes::new()).is_ok());
        assert!(parse_body(&Bytes::from_static(b"{\"values\":{\"a\":{\"b\":1}}}")).is_ok());
        assert!(parse_body(&Bytes::from_static(b"{\"other\":1}")).is_err());
        assert!(parse_body(&Bytes::from_static(b"nope")).is_err());
    }
}
