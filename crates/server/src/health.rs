//! Health and cluster status (docs/contract/api.md §3).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cluster::ClusterStatus;
use crate::error::ApiError;
use crate::state::AppState;

/// Health, version and cluster-status routes (and their contract aliases).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(cluster_alias))
        .routes(routes!(version))
        .routes(routes!(cluster_version_alias))
        .routes(routes!(cluster_status))
        .routes(routes!(health_status_alias))
}

/// `GET /api/health` response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `healthy`.
    pub status: &'static str,
    /// Server time (RFC 3339).
    pub timestamp: String,
}

/// `GET /api/health/version` response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Version {
    /// Release version.
    pub version: String,
    /// Build time.
    pub build_time: String,
    /// Commit the binary was built from.
    pub git_commit: String,
}

/// Liveness: touches nothing outside the process.
#[utoipa::path(get, path = "/api/health", tag = "health", security(()), responses((status = 200, body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "healthy",
        timestamp: k8s_openapi::jiff::Timestamp::now().to_string(),
    })
}

/// `GET /api/health/ready` response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Ready {
    /// Always `ready` (a server that is not ready answers 503 with the error envelope).
    pub status: &'static str,
    /// Server time (RFC 3339).
    pub timestamp: String,
}

/// Readiness (the probe a Kubernetes Service follows): 200 once every watch cache has loaded
/// its first full list, so a new replica takes traffic only when it answers reads from data
/// rather than with "still loading"; 503 naming the caches still loading, or when there is no
/// Kubernetes configuration at all. A cache whose watch fails later keeps the server ready: its
/// routes then answer 503 with the reason, which every replica would do alike.
#[utoipa::path(get, path = "/api/health/ready", tag = "health", security(()), responses(
    (status = 200, body = Ready),
    (status = 503, description = "Caches still loading, or no cluster configuration", body = crate::error::ErrorBody),
))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let loading = state.caches()?.not_loaded();
    if !loading.is_empty() {
        return Err(ApiError::unavailable(format!(
            "not ready: still loading {} from the Kubernetes API server",
            loading.join(", ")
        )));
    }
    Ok(Json(Ready {
        status: "ready",
        timestamp: k8s_openapi::jiff::Timestamp::now().to_string(),
    }))
}

/// Alias of `/api/health` (protected when auth is on).
#[utoipa::path(get, path = "/api/cluster", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn cluster_alias() -> Json<Health> {
    health().await
}

/// Alias of `/api/health/version`.
#[utoipa::path(get, path = "/api/cluster/version", tag = "health", responses((status = 200, body = Version)))]
pub(crate) async fn cluster_version_alias(state: State<AppState>) -> Json<Version> {
    version(state).await
}

/// Alias of `/api/cluster/status`.
#[utoipa::path(get, path = "/api/health/status", tag = "health", security(()), responses((status = 200, body = ClusterStatus)))]
pub(crate) async fn health_status_alias(state: State<AppState>) -> Json<ClusterStatus> {
    cluster_status(state).await
}

/// Build information of the running binary.
#[utoipa::path(get, path = "/api/health/version", tag = "health", security(()), responses((status = 200, body = Version)))]
pub(crate) async fn version(State(state): State<AppState>) -> Json<Version> {
    let b = &state.config().build;
    Json(Version {
        version: b.version.clone(),
        build_time: b.build_time.clone(),
        git_commit: b.git_commit.clone(),
    })
}

/// Always 200; `connected` says whether the API server answers (from the watch caches, so a
/// stopped API server is reported at once), `providerInstallation` whether the CRD exists.
#[utoipa::path(get, path = "/api/cluster/status", tag = "health", security(()), responses((status = 200, body = ClusterStatus)))]
pub(crate) async fn cluster_status(State(state): State<AppState>) -> Json<ClusterStatus> {
    Json(crate::cluster::status(&state).await)
}
