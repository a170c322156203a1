//! Health and cluster-status endpoints against the real local control plane.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kubeairunway_server::{AppState, BuildInfo, Config, KubeAccess, router};
use kubeairunway_testenv::{User, shared};
use serde_json::Value;
use tower::ServiceExt;

fn config() -> Config {
    Config::local(
        "127.0.0.1:0".parse().expect("addr"),
        BuildInfo {
            version: "1.2.3".into(),
            build_time: "then".into(),
            git_commit: "abc".into(),
        },
    )
}

async fn get(state: AppState, path: &str) -> (StatusCode, Value) {
    let response = router(state)
        .oneshot(
            Request::get(path)
                .header("host", "localhost:3001")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

async fn admin_access() -> KubeAccess {
    KubeAccess::new(shared().config(User::Admin).await.expect("config"), "admin").expect("access")
}

#[tokio::test]
async fn health_and_version_answer_without_the_cluster() {
    let state = AppState::new(config(), None);
    let (status, body) = get(state.clone(), "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert!(
        body["timestamp"]
            .as_str()
            .is_some_and(|t| t.parse::<k8s_openapi::jiff::Timestamp>().is_ok()),
        "{body}"
    );
    let (_, alias) = get(state.clone(), "/api/cluster").await;
    assert_eq!(alias["status"], "healthy");
    let (status, body) = get(state, "/api/health/version").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({ "version": "1.2.3", "buildTime": "then", "gitCommit": "abc" })
    );
}

#[tokio::test]
async fn unknown_api_routes_get_the_error_envelope() {
    let (status, body) = get(AppState::new(config(), None), "/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        serde_json::json!({ "error": { "message": "Route not found: GET /api/nope", "statusCode": 404 } })
    );
}

#[tokio::test]
async fn cluster_status_reports_the_crd_once_installed() {
    let access = admin_access().await;
    let client = access.client.clone();
    let state = AppState::new(config(), Some(access));
    let (status, body) = get(state.clone(), "/api/cluster/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["connected"], true, "{body}");
    assert_eq!(body["namespace"], "kubeairunway-system");
    assert_eq!(body["clusterName"], "admin");
    assert!(body.get("error").is_none());
    kubeairunway_api::crds::install(&client, Duration::from_secs(60))
        .await
        .expect("install");
    let (_, body) = get(state, "/api/health/status").await;
    assert_eq!(body["providerInstallation"]["installed"], true, "{body}");
    assert_eq!(body["providerInstallation"]["crdFound"], true);
    assert_eq!(
        body["providerInstallation"]["message"],
        "ModelDeployment CRD is installed"
    );
}

#[tokio::test]
async fn readiness_waits_for_every_cache_and_then_survives_an_unreachable_api_server() {
    // No cluster configuration: never ready.
    let (status, body) = get(AppState::new(config(), None), "/api/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("No Kubernetes configuration")),
        "{body}"
    );
    // An API server that is not there: the caches never load, so not ready, naming them.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut gone = kube::Config::new(format!("https://127.0.0.1:{port}").parse().expect("url"));
    gone.connect_timeout = Some(Duration::from_secs(1));
    let state = AppState::new(
        config(),
        Some(KubeAccess::new(gone, "gone").expect("access")),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = get(state, "/api/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("still loading") && message.contains("nodes"),
        "{body}"
    );
    // The real cluster: ready once every watch has listed (CRDs installed or not).
    let state = AppState::new(config(), Some(admin_access().await));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(state.clone(), "/api/health/ready").await;
        if status == StatusCode::OK {
            assert_eq!(body["status"], "ready");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not ready: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn cluster_status_says_not_connected_quickly_when_the_api_server_is_gone() {
    // A port that nothing listens on: connection refused, like a stopped API server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut config = kube::Config::new(format!("https://127.0.0.1:{port}").parse().expect("url"));
    config.connect_timeout = Some(Duration::from_secs(1));
    let state = AppState::new(
        self::config(),
        Some(KubeAccess::new(config, "gone").expect("access")),
    );
    let started = std::time::Instant::now();
    let (status, body) = get(state, "/api/cluster/status").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["connected"], false);
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(body["providerInstallation"], Value::Null);
}

mod support;

#[tokio::test]
async fn a_real_server_answers_over_tcp() {
    let server = support::server(support::AuthMode::Off);
    let reply = server.get("/api/health", None).await;
    assert_eq!(reply.status, reqwest::StatusCode::OK);
    assert_eq!(reply.body["status"], "healthy");
    assert_eq!(
        reply
            .headers
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
}
