//! Nodes, GPU capacity and runtime status against the real control plane, as each test user,
//! with auth on and off; and their answers while the API server is down.

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kubeairunway_api::{InferenceProviderConfig, InferenceProviderConfigSpec};
use kubeairunway_server::{AppState, Config, KubeAccess, router};
use kubeairunway_testenv::{User, private_control_plane, shared, wait_until};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, Server};
use tower::ServiceExt;

/// The shared server of `mode`, reached with an HTTP client of this test's own: pooled
/// connections must not outlive the Tokio runtime of the test that opened them.
fn server(mode: AuthMode) -> Server {
    support::own_server(mode)
}

/// The nodes of `crates/testenv/nodes.yaml`: name and GPUs.
const NODES: [(&str, i64); 7] = [
    ("kwok-a100-0", 4),
    ("kwok-cpu-0", 0),
    ("kwok-cpu-1", 0),
    ("kwok-h100-0", 8),
    ("kwok-h100-1", 8),
    ("kwok-t4-0", 1),
    ("kwok-t4-1", 1),
];

/// The callers that may read cluster-wide data: nobody's token with auth off, the admin's with it on.
fn privileged() -> [(Server, Option<User>); 2] {
    [
        (server(AuthMode::Off), None),
        (server(AuthMode::On), Some(User::Admin)),
    ]
}

fn expected_nodes() -> Value {
    Value::Array(
        NODES
            .iter()
            .map(|(name, gpus)| json!({ "name": name, "ready": true, "gpuCount": gpus }))
            .collect(),
    )
}

#[tokio::test]
async fn nodes_are_listed_sorted_with_readiness_and_gpus() {
    for (srv, user) in privileged() {
        let reply = srv.get("/api/cluster/nodes", user).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}: {}", user, reply.body);
        assert_eq!(reply.body, json!({ "nodes": expected_nodes() }));
    }

    // A cordoned node is left out (no GPU pod of this binary targets the CPU pool).
    let kubectl = |verb: &str| {
        let out = shared()
            .kubectl(User::Admin)
            .args([verb, "kwok-cpu-1"])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    kubectl("cordon");
    let names = |b: &Value| -> Vec<String> {
        b["nodes"]
            .as_array()
            .map(|n| {
                n.iter()
                    .filter_map(|n| n["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (srv, user) in privileged() {
        let body = srv
            .get_eventually("/api/cluster/nodes", user, "the cordoned node gone", |b| {
                names(b).len() == 6
            })
            .await;
        assert!(!names(&body).contains(&"kwok-cpu-1".to_string()), "{body}");
    }
    kubectl("uncordon");
    for (srv, user) in privileged() {
        srv.get_eventually("/api/cluster/nodes", user, "the node back", |b| {
            *b == json!({ "nodes": expected_nodes() })
        })
        .await;
    }
}

#[tokio::test]
async fn nodes_follow_rbac_and_the_public_alias_is_gone() {
    let on = server(AuthMode::On);
    let anonymous = on.get("/api/cluster/nodes", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.message(), "Authentication required");
    // `view` grants no cluster-scoped node access, and team-a only edits its namespace.
    for user in [User::Viewer, User::TeamA] {
        let reply = on.get("/api/cluster/nodes", Some(user)).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{user:?}: {}",
            reply.body
        );
        assert!(
            reply.message().contains("cannot list resource \"nodes\""),
            "{}",
            reply.message()
        );
        assert_eq!(reply.body["error"]["statusCode"], 403);
    }
    // The leaking alias of the reference does not exist, with or without a token.
    assert_eq!(
        on.get("/api/health/nodes", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let alias = on.get("/api/health/nodes", Some(User::Admin)).await;
    assert_eq!(alias.status, StatusCode::NOT_FOUND);
    assert!(alias.message().starts_with("Route not found"));
    let off = server(AuthMode::Off).get("/api/health/nodes", None).await;
    assert_eq!(off.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cluster_status_is_connected_and_public() {
    for (srv, user) in [
        (server(AuthMode::Off), None),
        (server(AuthMode::On), None),
        (server(AuthMode::On), Some(User::TeamA)),
    ] {
        for path in ["/api/cluster/status", "/api/health/status"] {
            let started = Instant::now();
            let reply = srv.get(path, user).await;
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{path} took {:?}",
                started.elapsed()
            );
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            let body = &reply.body;
            assert_eq!(body["connected"], true, "{body}");
            assert_eq!(body["namespace"], "kubeairunway-system");
            assert!(
                body["clusterName"].as_str().is_some_and(|c| !c.is_empty()),
                "{body}"
            );
            assert!(body.get("error").is_none(), "{body}");
            assert_eq!(
                body["providerInstallation"],
                json!({ "installed": true, "crdFound": true, "message": "ModelDeployment CRD is installed" })
            );
        }
    }
}

fn gpu_pod(name: &str, namespace: &str, pool: &str, gpus: u32) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": namespace },
        "spec": {
            "nodeSelector": { "agentpool": pool },
            "containers": [{
                "name": "main", "image": "registry.example/none:1",
                "resources": { "limits": { "nvidia.com/gpu": gpus.to_string() } },
            }],
        },
    }))
    .expect("pod")
}

/// The allocated GPUs of `node` in a capacity answer.
fn allocated_on(capacity: &Value, node: &str) -> Option<i64> {
    capacity["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["nodeName"] == node)?["allocatedGpus"]
        .as_i64()
}

/// The only test that places GPU pods, so the figures are exact: the cluster starts with every
/// GPU free.
#[tokio::test]
async fn gpu_capacity_follows_the_pods_on_gpu_nodes() {
    let free_nodes: Vec<Value> = NODES
        .iter()
        .filter(|(_, gpus)| *gpus > 0)
        .map(|(name, gpus)| json!({ "nodeName": name, "totalGpus": gpus, "allocatedGpus": 0, "availableGpus": gpus }))
        .collect();
    let idle = json!({
        "totalGpus": 22, "allocatedGpus": 0, "availableGpus": 22, "maxContiguousAvailable": 8,
        "maxNodeGpuCapacity": 8, "gpuNodeCount": 5,
        // kwok-a100-0 sorts first: 40960 MiB.
        "totalMemoryGb": 40,
        "nodes": free_nodes,
    });
    let pools = json!([
        { "name": "a100", "gpuCount": 4, "nodeCount": 1, "availableGpus": 4, "gpuModel": "NVIDIA-A100-SXM4-40GB",
          "instanceType": "Standard_NC48ads_A100_v4", "region": "eastus" },
        { "name": "h100", "gpuCount": 16, "nodeCount": 2, "availableGpus": 16, "gpuModel": "NVIDIA-H100-80GB-HBM3",
          "instanceType": "Standard_ND96isr_H100_v5", "region": "eastus" },
        { "name": "t4", "gpuCount": 2, "nodeCount": 2, "availableGpus": 2, "gpuModel": "Tesla-T4",
          "instanceType": "Standard_NC8as_T4_v3", "region": "westus2" },
    ]);
    for (srv, user) in privileged() {
        let reply = srv.get("/api/installation/gpu-capacity", user).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body, idle);
        let detailed = srv
            .get("/api/installation/gpu-capacity/detailed", user)
            .await;
        assert_eq!(detailed.status, StatusCode::OK, "{}", detailed.body);
        let mut summary = idle.clone();
        if let Some(map) = summary.as_object_mut() {
            map.remove("nodes");
            map.insert("nodePools".into(), pools.clone());
        }
        assert_eq!(detailed.body, summary);
    }

    let cp = shared();
    let ns = cp.namespace("capacity").await.expect("namespace");
    let pods: Api<Pod> = Api::namespaced(cp.client(User::Admin).await.expect("client"), &ns.name);
    pods.create(
        &PostParams::default(),
        &gpu_pod("takes-three", &ns.name, "a100", 3),
    )
    .await
    .expect("create pod");
    pods.create(
        &PostParams::default(),
        &gpu_pod("takes-eight", &ns.name, "h100", 8),
    )
    .await
    .expect("create pod");
    for (srv, user) in privileged() {
        let body = srv
            .get_eventually(
                "/api/installation/gpu-capacity",
                user,
                "both pods bound",
                |b| allocated_on(b, "kwok-a100-0") == Some(3) && b["allocatedGpus"] == 11,
            )
            .await;
        assert_eq!(body["totalGpus"], 22);
        assert_eq!(body["availableGpus"], 11);
        assert_eq!(
            body["maxContiguousAvailable"], 8,
            "one H100 node is still free"
        );
        let a100 = body["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["nodeName"] == "kwok-a100-0"))
            .cloned();
        assert_eq!(
            a100,
            Some(
                json!({ "nodeName": "kwok-a100-0", "totalGpus": 4, "allocatedGpus": 3, "availableGpus": 1 })
            )
        );
        let detailed = srv
            .get("/api/installation/gpu-capacity/detailed", user)
            .await;
        assert_eq!(detailed.body["allocatedGpus"], 11, "{}", detailed.body);
        let available: Vec<(Value, Value)> = detailed.body["nodePools"]
            .as_array()
            .map(|p| {
                p.iter()
                    .map(|p| (p["name"].clone(), p["availableGpus"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            available,
            [
                (json!("a100"), json!(1)),
                (json!("h100"), json!(8)),
                (json!("t4"), json!(2))
            ]
        );
    }

    // A pod that asks for more than any node has stays Pending and unbound: it takes nothing.
    pods.create(
        &PostParams::default(),
        &gpu_pod("too-big", &ns.name, "h100", 9),
    )
    .await
    .expect("create pod");
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    pods.delete("takes-three", &dp).await.expect("delete pod");
    pods.delete("takes-eight", &dp).await.expect("delete pod");
    for (srv, user) in privileged() {
        srv.get_eventually(
            "/api/installation/gpu-capacity",
            user,
            "GPUs free again",
            |b| b["allocatedGpus"] == 0 && b["availableGpus"] == 22,
        )
        .await;
    }
    pods.delete("too-big", &dp).await.expect("delete pod");
}

#[tokio::test]
async fn gpu_capacity_follows_rbac() {
    let on = server(AuthMode::On);
    for path in [
        "/api/installation/gpu-capacity",
        "/api/installation/gpu-capacity/detailed",
    ] {
        assert_eq!(on.get(path, None).await.status, StatusCode::UNAUTHORIZED);
        for user in [User::Viewer, User::TeamA] {
            let reply = on.get(path, Some(user)).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} {user:?}: {}",
                reply.body
            );
            assert!(reply.message().contains("nodes"), "{}", reply.message());
        }
    }
}

fn provider(name: &str) -> InferenceProviderConfig {
    InferenceProviderConfig::new(name, InferenceProviderConfigSpec::default())
}

async fn set_status(api: &Api<InferenceProviderConfig>, name: &str, status: Value) {
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(&json!({ "status": status })),
    )
    .await
    .expect("patch status");
}

fn runtimes(body: &Value) -> Vec<Value> {
    body["runtimes"].as_array().cloned().unwrap_or_default()
}

/// The only test that creates InferenceProviderConfigs (they are cluster-scoped).
#[tokio::test]
async fn runtimes_report_registered_providers_and_stale_heartbeats() {
    let paths = ["/api/runtimes/status", "/api/installation/runtimes/status"];
    let readers = [
        (server(AuthMode::Off), None),
        (server(AuthMode::On), Some(User::Admin)),
        (server(AuthMode::On), Some(User::Viewer)),
    ];
    for (srv, user) in &readers {
        let user = *user;
        for path in paths {
            let reply = srv.get(path, user).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{path} {user:?}: {}",
                reply.body
            );
            assert_eq!(reply.body, json!({ "runtimes": [] }), "{path} {user:?}");
        }
    }

    let api: Api<InferenceProviderConfig> =
        Api::all(shared().client(User::Admin).await.expect("client"));
    for name in ["kaito", "dynamo", "kuberay"] {
        api.create(&PostParams::default(), &provider(name))
            .await
            .expect("create provider");
    }
    let now = k8s_openapi::jiff::Timestamp::now();
    set_status(&api, "kaito", json!({ "ready": true, "version": "kaito-provider:v0.1.0", "lastHeartbeat": now.to_string() })).await;
    let old = now - k8s_openapi::jiff::SignedDuration::from_mins(4);
    set_status(
        &api,
        "dynamo",
        json!({ "ready": true, "version": "dynamo-provider:v1", "lastHeartbeat": old.to_string() }),
    )
    .await;
    set_status(&api, "kuberay", json!({ "ready": false })).await;

    for (srv, user) in &readers {
        let user = *user;
        for path in paths {
            let body = srv
                .get_eventually(path, user, "three providers with status", |b| {
                    let r = runtimes(b);
                    r.len() == 3
                        && r.iter()
                            .all(|p| p["id"] != "kuberay" || p.get("version").is_none())
                        && r.iter().any(|p| p["id"] == "kaito" && p["healthy"] == true)
                        && r.iter()
                            .any(|p| p["id"] == "dynamo" && p["version"] == "dynamo-provider:v1")
                })
                .await;
            let r = runtimes(&body);
            assert_eq!(
                r[2],
                json!({ "id": "kuberay", "name": "Kuberay", "installed": true, "healthy": false, "message": "Provider not ready" })
            );
            assert_eq!(
                r[1],
                json!({ "id": "kaito", "name": "Kaito", "installed": true, "healthy": true,
                        "version": "kaito-provider:v0.1.0", "message": "Provider ready" })
            );
            assert_eq!(r[0]["id"], "dynamo", "sorted by id");
            assert_eq!(r[0]["healthy"], false, "stale heartbeat: {}", r[0]);
            assert!(
                r[0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("heartbeat") && m.contains("240")),
                "{}",
                r[0]
            );
        }
    }

    let on = server(AuthMode::On);
    for path in paths {
        assert_eq!(on.get(path, None).await.status, StatusCode::UNAUTHORIZED);
        let reply = on.get(path, Some(User::TeamA)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(
            reply.message().contains("inferenceproviderconfigs"),
            "{}",
            reply.message()
        );
    }

    for name in ["kaito", "dynamo", "kuberay"] {
        api.delete(name, &DeleteParams::default())
            .await
            .expect("delete provider");
    }
    server(AuthMode::Off)
        .get_eventually(paths[0], None, "providers gone", |b| runtimes(b).is_empty())
        .await;
}

async fn call(state: &AppState, path: &str) -> (reqwest::StatusCode, Value, Duration) {
    let started = Instant::now();
    let response = router(state.clone())
        .oneshot(
            axum::http::Request::get(path)
                .header("host", "localhost")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("router answers");
    let elapsed = started.elapsed();
    let status = reqwest::StatusCode::from_u16(response.status().as_u16()).expect("status");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        elapsed,
    )
}

/// A cluster of this test's own: first without the CRDs, then with its API server stopped
/// and started again.
#[tokio::test]
async fn without_crds_and_during_an_outage() {
    let cp = private_control_plane();
    let access =
        KubeAccess::new(cp.config(User::Admin).await.expect("config"), "private").expect("access");
    let state = AppState::new(
        Config::local("127.0.0.1:0".parse().expect("addr"), support::build_info()),
        Some(access),
    );

    // No CRDs: no runtimes (not an error), and the status says so.
    wait_until("nodes served", Duration::from_secs(30), || async {
        let (status, body, _) = call(&state, "/api/cluster/nodes").await;
        Ok((
            (status == StatusCode::OK).then_some(body.clone()),
            format!("{status} {body}"),
        ))
    })
    .await
    .expect("nodes");
    for path in ["/api/runtimes/status", "/api/installation/runtimes/status"] {
        let (status, body, _) = call(&state, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body, json!({ "runtimes": [] }));
    }
    let (status, body, _) = call(&state, "/api/cluster/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["connected"], true);
    assert_eq!(body["clusterName"], "private");
    assert_eq!(
        body["providerInstallation"],
        json!({ "installed": false, "crdFound": false,
                "message": "ModelDeployment CRD not found. Please install KubeAIRunway controller." })
    );

    // Outage: every cache-backed endpoint answers 503 fast; status says not connected at once.
    cp.stop_apiserver().expect("stop the API server");
    wait_until(
        "the caches notice the outage",
        Duration::from_secs(10),
        || async {
            let (status, body, _) = call(&state, "/api/cluster/nodes").await;
            Ok((
                (status == StatusCode::SERVICE_UNAVAILABLE).then_some(()),
                format!("{status} {body}"),
            ))
        },
    )
    .await
    .expect("503 during the outage");
    for path in [
        "/api/cluster/nodes",
        "/api/installation/gpu-capacity",
        "/api/installation/gpu-capacity/detailed",
        "/api/settings",
    ] {
        let (status, body, elapsed) = call(&state, path).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert!(elapsed < Duration::from_secs(1), "{path} took {elapsed:?}");
        assert_eq!(body["error"]["statusCode"], 503);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("unreachable")),
            "{path}: {body}"
        );
    }
    for path in ["/api/cluster/status", "/api/health/status"] {
        let (status, body, elapsed) = call(&state, path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(elapsed < Duration::from_secs(1), "{path} took {elapsed:?}");
        assert_eq!(body["connected"], false, "{body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
        assert_eq!(body["providerInstallation"], Value::Null);
        assert!(body.get("clusterName").is_none());
    }

    // Back: fresh data within 10 s, without a new server.
    cp.start_apiserver().await.expect("start the API server");
    let back = Instant::now();
    wait_until("nodes served again", Duration::from_secs(10), || async {
        let (status, body, _) = call(&state, "/api/cluster/nodes").await;
        Ok((
            (status == StatusCode::OK).then_some(body.clone()),
            format!("{status} {body}"),
        ))
    })
    .await
    .expect("nodes after the restart");
    let (_, body, _) = call(&state, "/api/cluster/status").await;
    assert_eq!(body["connected"], true, "{body}");
    eprintln!(
        "served again {:?} after the API server was ready",
        back.elapsed()
    );
}
