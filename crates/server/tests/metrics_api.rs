//! `GET /api/deployments/{name}/metrics` on the local control plane. A ModelDeployment with the
//! status the controller writes, and a pod carrying its labels on a KWOK node, which KWOK makes
//! Running with an IP from `127.100.0.0/16`. A loopback HTTP server bound to that very IP and the
//! pod's port answers with vLLM's (or llama.cpp's) real metric names and shapes, so a scrape
//! made straight to the pod (`METRICS_ACCESS=direct`, the in-cluster way) reaches it as it
//! would a model server (docs/local-cluster.md, "Metrics endpoints").
//!
//! Off the cluster the server scrapes through the API server's pod proxy as the caller. The API
//! server refuses loopback pod IPs, so those tests give the pod the routable twin of its KWOK IP
//! (`ControlPlane::route_pod`: `10.100.a.b`), which the test cluster's egress proxy delivers at
//! `127.100.a.b`, where the endpoint serves.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubeairunway_api::ModelDeployment;
use kubeairunway_server::MetricsAccess;
use kubeairunway_testenv::{MetricsServer, User, shared, wait_until};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, admin_client, namespace, start_in_mode};

const VLLM: &str = include_str!("../../core/src/metrics/samples/vllm.prom");
const LLAMACPP: &str = include_str!("../../core/src/metrics/samples/llamacpp.prom");

/// Creates a ModelDeployment `name` (provider kubernetes, `engine`) with its status, and one pod
/// of it serving on `port`; returns the pod's IP once KWOK made it Running.
async fn deployment_with_pod(ns: &str, name: &str, engine: &str, port: u16) -> String {
    let admin = admin_client().await;
    let mds: Api<ModelDeployment> = Api::namespaced(admin.clone(), ns);
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name, "namespace": ns },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": engine },
                  "provider": { "name": "kubernetes" } }
    }))
    .expect("md");
    mds.create(&PostParams::default(), &md)
        .await
        .expect("create md");
    mds.patch_status(
        name,
        &PatchParams::apply("metrics-test").force(),
        &Patch::Apply(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "status": { "phase": "Running", "provider": { "name": "kubernetes" },
                        "endpoint": { "service": name, "port": port } }
        })),
    )
    .await
    .expect("status");
    let pods: Api<Pod> = Api::namespaced(admin, ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": format!("{name}-0"), "labels": { "kubeairunway.ai/deployment": name } },
        "spec": {
            "nodeSelector": { "agentpool": "cpu" },
            "containers": [{ "name": "server", "image": "vllm/vllm-openai:v0.9.0",
                             "ports": [{ "name": "http", "containerPort": port }] }]
        }
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
    wait_until("the pod to run", Duration::from_secs(60), || {
        let pods = pods.clone();
        let pod_name = format!("{name}-0");
        async move {
            let p = pods
                .get(&pod_name)
                .await
                .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
            let status = p.status.unwrap_or_default();
            let ip = status
                .pod_ip
                .filter(|_| status.phase.as_deref() == Some("Running"));
            Ok((ip, "not Running".into()))
        }
    })
    .await
    .expect("pod running")
}

async fn metrics(server: &support::Server, ns: &str, name: &str, query: &str) -> Value {
    let r = server
        .get(
            &format!("/api/deployments/{name}/metrics?namespace={ns}{query}"),
            None,
        )
        .await;
    r.expect_status(StatusCode::OK, "metrics");
    r.body.clone()
}

#[tokio::test]
async fn scraped_straight_from_the_pod_with_rates_and_history() {
    // The server first: it installs the CRDs.
    let server = start_in_mode(AuthMode::Off, |c| c.metrics_access = MetricsAccess::Direct);
    let ns = namespace("metrics").await;
    let ip = deployment_with_pod(&ns, "qwen", "vllm", 8000).await;
    let endpoint = MetricsServer::start(SocketAddr::new(ip.parse().expect("ip"), 8000), VLLM)
        .expect("metrics endpoint at the pod IP");
    // The pod cache sees the pod Running shortly.
    let mut body = Value::Null;
    for _ in 0..50 {
        body = metrics(&server, &ns, "qwen", "").await;
        if body["available"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(body["available"], true, "{body}");
    assert_eq!(body["source"], "direct");
    assert!(body.get("runningOffCluster").is_none());
    assert_eq!(
        body["pods"][0],
        json!({ "pod": "qwen-0", "port": 8000, "path": "/metrics", "ok": true })
    );
    let running = body["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "vllm:num_requests_running")
        .cloned()
        .expect("running sample");
    assert_eq!(running["value"], 3.0);
    assert_eq!(running["labels"]["model_name"], "Qwen/Qwen3-0.6B");
    assert_eq!(body["summary"]["family"], "vllm");
    assert_eq!(body["summary"]["kvCacheUsage"], 0.4375);
    assert_eq!(body["summary"]["requestsTotal"], 42.0);
    assert!(body.get("rates").is_none(), "no rates from one scrape");

    // Counters grow; the next scrape (≥ 1 s later) has rates.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    endpoint.set(&VLLM.replace(
        "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 67890.0",
        "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 77890.0",
    ));
    let body = metrics(&server, &ns, "qwen", "&history=true").await;
    let rate = body["rates"]["generationTokensPerSecond"]
        .as_f64()
        .expect("rate");
    let interval = body["rates"]["intervalSeconds"].as_f64().expect("interval");
    assert!(
        (rate * interval - 10000.0).abs() < 1.0,
        "{rate} × {interval}"
    );
    let history = body["history"].as_array().expect("history");
    assert!(!history.is_empty() && history.len() <= 2, "{history:?}");
    assert!(endpoint.scrapes() >= 2);

    // Parse errors are reported, the good lines still count.
    endpoint.set(&format!("{LLAMACPP}this line is broken {{\n"));
    let body = metrics(&server, &ns, "qwen", "").await;
    assert_eq!(body["available"], true);
    assert_eq!(body["summary"]["family"], "llamacpp");
    assert!(
        body["parseErrors"][0]
            .as_str()
            .unwrap_or("")
            .contains("qwen-0: line 37"),
        "{body}"
    );

    // A 404 from the server: no endpoint, in words, with 200.
    endpoint.set_status(404);
    let body = metrics(&server, &ns, "qwen", "").await;
    assert_eq!(
        (body["available"].clone(), body["reason"].clone()),
        (json!(false), json!("no-endpoint"))
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("answered 404"),
        "{body}"
    );

    // Nothing listening: unreachable.
    drop(endpoint);
    let body = metrics(&server, &ns, "qwen", "").await;
    assert_eq!(body["reason"], "unreachable", "{body}");
}

#[tokio::test]
async fn answers_say_why_metrics_are_unavailable() {
    let server = start_in_mode(AuthMode::Off, |c| c.metrics_access = MetricsAccess::Proxy);
    let ns = namespace("metrics-none").await;
    let admin = admin_client().await;
    let mds: Api<ModelDeployment> = Api::namespaced(admin, &ns);
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": "idle", "namespace": ns },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" } }
    }))
    .expect("md");
    mds.create(&PostParams::default(), &md)
        .await
        .expect("create");
    let body = server
        .get_eventually(
            &format!("/api/deployments/idle/metrics?namespace={ns}"),
            None,
            "the deployment in the cache",
            |b| b["reason"] == "not-running",
        )
        .await;
    assert_eq!(body["available"], false);
    assert_eq!(body["source"], "none");
    assert_eq!(body["runningOffCluster"], true);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("no running pods")
    );
    server
        .get(
            &format!("/api/deployments/missing/metrics?namespace={ns}"),
            None,
        )
        .await
        .expect_status(StatusCode::NOT_FOUND, "missing");
    server
        .get(
            &format!("/api/deployments/idle/metrics?namespace={ns}&bogus=1"),
            None,
        )
        .await
        .expect_status(StatusCode::BAD_REQUEST, "unknown query");

    // Through the pod proxy, as the caller: a viewer may not proxy to pods (`view` has no
    // `pods/proxy`), and says so.
    let ip = deployment_with_pod(&ns, "served", "vllm", 8000).await;
    let _endpoint = MetricsServer::start(SocketAddr::new(ip.parse().expect("ip"), 8000), VLLM)
        .expect("endpoint");
    let on = support::own_server(AuthMode::On);
    let mut body = Value::Null;
    for _ in 0..50 {
        let r = on
            .get(
                &format!("/api/deployments/served/metrics?namespace={ns}"),
                Some(User::Viewer),
            )
            .await;
        body = r.body.clone();
        if body["reason"] != "not-running" && r.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(body["source"], "pod-proxy", "{body}");
    assert_eq!(body["reason"], "forbidden", "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("pods/proxy"),
        "{body}"
    );
    // The admin may, but the API server refuses to proxy to a loopback pod IP (KWOK's
    // 127.100.x.y): the answer says the pod cannot be reached, with the API server's words.
    let r = server
        .get(
            &format!("/api/deployments/served/metrics?namespace={ns}"),
            None,
        )
        .await;
    assert_eq!(r.body["reason"], "unreachable", "{}", r.body);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap_or("")
            .contains("address not allowed"),
        "{}",
        r.body
    );
}

/// Grants alice (`User::TeamA`) in `ns` what a viewer has (`view`) and, in a Role of its own,
/// `get` on `pods/proxy`, so the two differ in exactly the permission a proxied scrape needs.
async fn grant_pod_proxy_to_alice(ns: &str) {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let admin = admin_client().await;
    let roles: Api<Role> = Api::namespaced(admin.clone(), ns);
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "pod-metrics" },
        "rules": [{ "apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"] }]
    }))
    .expect("role");
    roles
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    let bindings: Api<RoleBinding> = Api::namespaced(admin, ns);
    for (name, kind, role) in [
        ("alice-view", "ClusterRole", "view"),
        ("alice-pod-metrics", "Role", "pod-metrics"),
    ] {
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                           "name": User::TeamA.name() }]
        }))
        .expect("binding");
        bindings
            .create(&PostParams::default(), &binding)
            .await
            .expect("create binding");
    }
}

/// The audit events of proxy requests to `ns/target` (`pod:port`): (user, response code, the
/// authorizer's reason).
fn proxy_audit(ns: &str, target: &str) -> Vec<(String, i64, String)> {
    let text = std::fs::read_to_string(shared().info().audit_log_path()).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["objectRef"]["resource"] == "pods"
                && e["objectRef"]["subresource"] == "proxy"
                && e["objectRef"]["namespace"] == ns
                && e["objectRef"]["name"] == target
        })
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                text(&e["user"]["username"]),
                e["responseStatus"]["code"].as_i64().unwrap_or(0),
                text(&e["annotations"]["authorization.k8s.io/reason"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn scraped_through_the_pod_proxy_as_the_caller() {
    // The server first: it installs the CRDs. Off the cluster, with auth: the pod proxy, as
    // the person who asks.
    let server = support::own_server(AuthMode::On);
    let ns = namespace("metrics-proxy").await;
    grant_pod_proxy_to_alice(&ns).await;
    deployment_with_pod(&ns, "proxied", "vllm", 8000).await;
    let routed = shared()
        .route_pod(&ns, "proxied-0")
        .await
        .expect("a routable pod IP");
    let endpoint = MetricsServer::start(SocketAddr::new(routed.local, 8000), VLLM)
        .expect("a metrics endpoint at the pod's loopback IP");
    let path = format!("/api/deployments/proxied/metrics?namespace={ns}");

    // alice may proxy to the pod: real samples, parsed, through the API server.
    let mut body = Value::Null;
    for _ in 0..50 {
        let r = server.get(&path, Some(User::TeamA)).await;
        r.expect_status(StatusCode::OK, "alice's metrics");
        body = r.body.clone();
        if body["available"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(body["available"], true, "{body}");
    assert_eq!(body["source"], "pod-proxy", "{body}");
    assert_eq!(body["runningOffCluster"], true, "{body}");
    assert_eq!(
        body["pods"][0],
        json!({ "pod": "proxied-0", "port": 8000, "path": "/metrics", "ok": true })
    );
    let running = body["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "vllm:num_requests_running")
        .cloned()
        .expect("running sample");
    assert_eq!(running["value"], 3.0);
    assert_eq!(running["labels"]["model_name"], "Qwen/Qwen3-0.6B");
    assert_eq!(body["summary"]["family"], "vllm");
    assert_eq!(body["summary"]["kvCacheUsage"], 0.4375);
    assert_eq!(body["summary"]["requestsTotal"], 42.0);
    let scraped = endpoint.scrapes();
    assert!(scraped >= 1);
    // The API server asked the egress proxy for the pod's routable address.
    let wanted = format!("{}:8000", routed.routable);
    assert!(
        shared()
            .egress_dials()
            .iter()
            .any(|d| d.requested == wanted && d.connected),
        "no dial of {wanted}"
    );

    // A viewer may read the deployment but not proxy to its pods: forbidden, and the request
    // never reaches the pod.
    let r = server.get(&path, Some(User::Viewer)).await;
    r.expect_status(StatusCode::OK, "the viewer's metrics");
    assert_eq!(r.body["available"], false, "{}", r.body);
    assert_eq!(r.body["source"], "pod-proxy", "{}", r.body);
    assert_eq!(r.body["reason"], "forbidden", "{}", r.body);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap_or("")
            .contains("pods/proxy"),
        "{}",
        r.body
    );
    assert_eq!(
        endpoint.scrapes(),
        scraped,
        "the viewer's scrape reached the pod"
    );

    // The API server's audit log: the proxy requests ran as alice (allowed) and as the viewer
    // (refused), never as the backend's own identity.
    let events = wait_until(
        "the proxy requests in the audit log",
        Duration::from_secs(10),
        || {
            let events = proxy_audit(&ns, "proxied-0:8000");
            async move {
                let done = events.iter().any(|(u, c, _)| u == "alice" && *c == 200)
                    && events.iter().any(|(u, c, _)| u == "viewer" && *c == 403);
                let seen = format!("{events:?}");
                Ok((done.then_some(events), seen))
            }
        },
    )
    .await
    .expect("audited");
    assert!(
        events.iter().all(|(u, _, _)| u == "alice" || u == "viewer"),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(u, _, _)| u == User::Backend.name()),
        "{events:?}"
    );
    // alice was allowed by exactly the Role that grants pods/proxy.
    assert!(
        events
            .iter()
            .filter(|(u, _, _)| u == "alice")
            .all(|(_, c, reason)| *c == 200 && reason.contains("Role \"pod-metrics\"")),
        "{events:?}"
    );

    // The pod's own error statuses come back through the proxy as they are.
    endpoint.set_status(404);
    let body = server.get(&path, Some(User::TeamA)).await.body;
    assert_eq!(body["reason"], "no-endpoint", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("answered 404"),
        "{body}"
    );
    endpoint.set_status(500);
    let body = server.get(&path, Some(User::TeamA)).await.body;
    assert_eq!(body["reason"], "bad-response", "{body}");

    // Nothing listening any more: the API server answers 503, which is the pod being
    // unreachable, reported at once rather than retried until the scrape's deadline.
    drop(endpoint);
    let body = server.get(&path, Some(User::TeamA)).await.body;
    assert_eq!(body["reason"], "unreachable", "{body}");
}
