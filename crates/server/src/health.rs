//! Health and cluster status (api.md §3).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use serde_json::{Value, json};

use crate::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const MD_CRD: &str = "modeldeployments.kubeairunway.ai";

/// `GET /api/health`: liveness; touches nothing outside the process.
pub(crate) async fn health() -> Json<Value> {
    Json(
        json!({ "status": "healthy", "timestamp": k8s_openapi::jiff::Timestamp::now().to_string() }),
    )
}

/// `GET /api/health/version`.
pub(crate) async fn version(State(state): State<AppState>) -> Json<Value> {
    let b = &state.inner.build;
    Json(json!({ "version": b.version, "buildTime": b.build_time, "gitCommit": b.git_commit }))
}

/// `GET /api/cluster/status`: always 200; `connected` says whether the API server answered.
pub(crate) async fn cluster_status(State(state): State<AppState>) -> Json<Value> {
    let namespace = state.inner.default_namespace.clone();
    let Some(kube) = &state.inner.kube else {
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
