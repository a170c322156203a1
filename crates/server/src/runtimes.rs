//! Runtime (provider) status (docs/contract/api.md §7), from the InferenceProviderConfig cache. A
//! provider whose heartbeat is stale is reported unhealthy, as the controller judges it.

use axum::Json;
use axum::extract::State;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;
use kubeairunway_api::InferenceProviderConfig;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// A provider whose last heartbeat is older than this is not healthy (the controller's
/// `HEARTBEAT_STALE_AFTER`).
const HEARTBEAT_STALE_AFTER: SignedDuration = SignedDuration::from_secs(180);

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(runtimes_status))
        .routes(routes!(installation_runtimes_status))
}

/// One registered provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct RuntimeStatus {
    /// The InferenceProviderConfig name.
    pub id: String,
    /// Display name (the id with its first letter upper-cased).
    pub name: String,
    /// Always true: a registered provider is installed.
    pub installed: bool,
    /// The provider reports ready and its heartbeat is fresh.
    pub healthy: bool,
    /// Provider version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `Provider ready`, `Provider not ready`, or why the heartbeat is stale.
    pub message: String,
}

/// `GET /api/runtimes/status` response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct RuntimesStatus {
    /// Registered providers sorted by id; empty when the CRD is not installed.
    pub runtimes: Vec<RuntimeStatus>,
}

/// Every registered provider with its health.
#[utoipa::path(get, path = "/api/runtimes/status", tag = "runtimes",
    responses(
        (status = 200, body = RuntimesStatus),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not list InferenceProviderConfigs", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn runtimes_status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RuntimesStatus>> {
    let caches = state.caches()?;
    // Cache state first: during an outage the answer is a fast 503, not a failed access review.
    let ready = caches.ready(Kind::Providers).await;
    let missing = ready.is_err() && caches.is_missing(Kind::Providers);
    if !missing {
        ready?;
    }
    caller.require("list", Resource::PROVIDERS, None).await?;
    if missing {
        return Ok(Json(RuntimesStatus {
            runtimes: Vec::new(),
        }));
    }
    let now = Timestamp::now();
    let mut runtimes: Vec<RuntimeStatus> = caches
        .providers
        .state()
        .iter()
        .map(|p| runtime_status(p, now))
        .collect();
    runtimes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(RuntimesStatus { runtimes }))
}

/// Alias of `/api/runtimes/status` under `/api/installation`.
#[utoipa::path(get, path = "/api/installation/runtimes/status", tag = "runtimes",
    responses(
        (status = 200, body = RuntimesStatus),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller may not list InferenceProviderConfigs", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn installation_runtimes_status(
    state: State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RuntimesStatus>> {
    runtimes_status(state, caller).await
}

fn runtime_status(ipc: &InferenceProviderConfig, now: Timestamp) -> RuntimeStatus {
    let id = ipc.name_any();
    let status = ipc.status.as_ref();
    let ready = status.is_some_and(|s| s.ready);
    let stale_for = status
        .and_then(|s| s.last_heartbeat.as_ref())
        .map(|beat| now.duration_since(beat.0))
        .filter(|age| *age > HEARTBEAT_STALE_AFTER);
    let (healthy, message) = match (ready, stale_for) {
        (true, None) => (true, "Provider ready".to_string()),
        (true, Some(age)) => (
            false,
            format!(
                "Provider not ready: its last heartbeat is {}s old",
                age.as_secs()
            ),
        ),
        (false, _) => (false, "Provider not ready".to_string()),
    };
    RuntimeStatus {
        name: display_name(&id),
        id,
        installed: true,
        healthy,
        version: status.and_then(|s| s.version.clone()),
        message,
    }
}

/// The id with its first letter upper-cased (`kaito` → `Kaito`), the provider's name in the UI.
pub(crate) fn display_name(id: &str) -> String {
    let mut chars = id.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kubeairunway_api::{InferenceProviderConfigSpec, InferenceProviderConfigStatus};

    fn ipc(name: &str, status: Option<InferenceProviderConfigStatus>) -> InferenceProviderConfig {
        let mut p = InferenceProviderConfig::new(name, InferenceProviderConfigSpec::default());
        p.status = status;
        p
    }

    #[test]
    fn health_follows_ready_and_heartbeat_age() {
        let now = Timestamp::now();
        let beat = |mins: i64| InferenceProviderConfigStatus {
            ready: true,
            version: Some("v1".into()),
            last_heartbeat: Some(Time(now - SignedDuration::from_mins(mins))),
            ..Default::default()
        };
        let fresh = runtime_status(&ipc("kaito", Some(beat(1))), now);
        assert_eq!(
            fresh,
            RuntimeStatus {
                id: "kaito".into(),
                name: "Kaito".into(),
                installed: true,
                healthy: true,
                version: Some("v1".into()),
                message: "Provider ready".into(),
            }
        );
        let stale = runtime_status(&ipc("dynamo", Some(beat(4))), now);
        assert!(!stale.healthy);
        assert!(stale.message.contains("240s"), "{}", stale.message);
        let unready = runtime_status(
            &ipc(
                "kuberay",
                Some(InferenceProviderConfigStatus {
                    ready: false,
                    ..Default::default()
                }),
            ),
            now,
        );
        assert!(!unready.healthy);
        assert_eq!(unready.message, "Provider not ready");
        let silent = runtime_status(&ipc("x", None), now);
        assert!(!silent.healthy);
        assert_eq!(silent.version, None);
        let no_beat = runtime_status(
            &ipc(
                "y",
                Some(InferenceProviderConfigStatus {
                    ready: true,
                    ..Default::default()
                }),
            ),
            now,
        );
        assert!(no_beat.healthy, "no heartbeat recorded is not a stale one");
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("kaito"), "Kaito");
        assert_eq!(display_name("kubernetes"), "Kubernetes");
        assert_eq!(display_name(""), "");
    }
}
