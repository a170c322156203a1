//! Health and cluster status (api.md §3).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const MD_CRD: &str = "modeldeployments.kubeairunway.ai";

/// Health, version and cluster-status routes (and their contract aliases).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(cluster_alias))
        .routes(routes!(version))
        .routes(routes!(cluster_version_alias))
        .routes(routes!(cluster_status))
        .routes(routes!(health_status_alias))
}

/// Liveness: touches nothing outside the process.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, description = "`{status, timestamp}`")))]
pub(crate) async fn health() -> Json<Value> {
    Json(
        json!({ "status": "healthy", "timestamp": k8s_openapi::jiff::Timestamp::now().to_string() }),
    )
}

/// Alias of `/api/health` (protected when auth is on).
#[utoipa::path(get, path = "/api/cluster", tag = "health", responses((status = 200, description = "`{status, timestamp}`")))]
pub(crate) async fn cluster_alias() -> Json<Value> {
    health().await
}

/// Alias of `/api/health/version`.
#[utoipa::path(get, path = "/api/cluster/version", tag = "health", responses((status = 200, description = "`{version, buildTime, gitCommit}`")))]
pub(crate) async fn cluster_version_alias(state: State<AppState>) -> Json<Value> {
    version(state).await
}

/// Alias of `/api/cluster/status`.
#[utoipa::path(get, path = "/api/health/status", tag = "health", responses((status = 200, description = "Cluster connectivity")))]
pub(crate) async fn health_status_alias(state: State<AppState>) -> Json<Value> {
    cluster_status(state).await
}

/// Build information of the running binary.
#[utoipa::path(get, path = "/api/health/version", tag = "health", responses((status = 200, description = "`{version, buildTime, gitCommit}`")))]
pub(crate) async fn version(State(state): State<AppState>) -> Json<Value> {
    let b = &state.config().build;
    Json(json!({ "version": b.version, "buildTime": b.build_time, "gitCommit": b.git_commit }))
}

/// Always 200; `connected` says whether the API server answered.
#[utoipa::path(get, path = "/api/cluster/status", tag = "health", responses((status = 200, description = "Cluster connectivity")))]
pub(crate) async fn cluster_status(State(state): State<AppState>) -> Json<Value> {
    let namespace = state.config().default_namespace.clone();
    let Ok(kube) = state.kube() else {
        return Json(json!({
            "connected": false,
            "namespace": namespace,
            "error": "no Kubernetes configuration found (set KUBECONFIG or run in a cluster)",
            "providerInstallation": null,
        }));
    };
    let probe = tokio::time::timeout(PROBE_TIMEOUT, kube.client.apiserver_version()).await;
    let error = match probe {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "the Kubernetes API server did not answer within {PROBE_TIMEOUT:?}"
        )),
    };
    if let Some(error) = error {
        return Json(
            json!({ "connected": false, "namespace": namespace, "error": error, "providerInstallation": null }),
        );
    }
    let crds: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    let installation = match tokio::time::timeout(PROBE_TIMEOUT, crds.get_opt(MD_CRD)).await {
        Ok(Ok(Some(_))) => {
            json!({ "installed": true, "crdFound": true, "message": "ModelDeployment CRD is installed" })
        }
        Ok(Ok(None)) => json!({
            "installed": false, "crdFound": false,
            "message": "ModelDeployment CRD not found. Please install KubeAIRunway controller.",
        }),
        Ok(Err(e)) => {
            json!({ "installed": false, "crdFound": false, "message": format!("Error checking CRD: {e}") })
        }
        Err(_) => {
            json!({ "installed": false, "crdFound": false, "message": "Error checking CRD: timed out" })
        }
    };
    Json(json!({
        "connected": true,
        "namespace": namespace,
        "clusterName": kube.context,
        "providerInstallation": installation,
    }))
}
