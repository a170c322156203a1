//! `GET /api/deployments/{name}/logs` against pods on KWOK nodes whose container logs come from
//! a file the test writes (`ControlPlane::pod_logs`): tail, timestamps, ANSI colours stripped,
//! pod selection, and `follow=true` over Server-Sent Events delivering a line appended after the
//! stream opened.

mod support;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::core::ApiResource;
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{PodLogs, User, shared, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{AuthMode, Server};

const STAMP: &str = "2026-01-02T03:04:05.123456789Z";

/// A deployment `name` in a fresh namespace with one running pod (on a KWOK CPU node) that
/// prints the lines of the returned log file.
async fn deployment_with_logs(prefix: &str, name: &str) -> (String, PodLogs) {
    let cp = shared();
    let ns = cp.namespace(prefix).await.expect("namespace").name;
    let logs = cp.pod_logs(&ns).await.expect("log file");
    let client = cp.client(User::Admin).await.expect("client");
    let md: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" }, "scaling": { "replicas": 1 } },
    }))
    .expect("shape");
    Api::<DynamicObject>::namespaced_with(
        client.clone(),
        &ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
    .create(&PostParams::default(), &md)
    .await
    .expect("ModelDeployment");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": format!("{name}-0"), "labels": { kubeairunway_api::labels::DEPLOYMENT: name } },
        "spec": {
            "nodeSelector": { "agentpool": "cpu" },
            "containers": [{ "name": "server", "image": "vllm/vllm-openai:v0.10.0" }],
        },
    }))
    .expect("shape");
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("pod");
    let pod_name = format!("{name}-0");
    wait_until("the pod to run", Duration::from_secs(60), || {
        let pods = pods.clone();
        let pod_name = pod_name.clone();
        async move {
            let pod = pods
                .get(&pod_name)
                .await
                .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
            let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
            Ok(((phase == "Running").then_some(()), format!("phase {phase}")))
        }
    })
    .await
    .expect("KWOK runs the pod");
    (ns, logs)
}

fn server() -> &'static Server {
    support::server(AuthMode::Off)
}

/// Waits until the server's cache lists the pod of `name`.
async fn wait_for_pod(s: &Server, ns: &str, name: &str) {
    s.get_eventually(
        &format!("/api/deployments/{name}/pods?namespace={ns}"),
        None,
        "the pod in the server's cache",
        |b| {
            b["pods"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["phase"] == "Running"))
        },
    )
    .await;
}

#[tokio::test]
async fn logs_are_tailed_timestamped_and_stripped_of_colours() {
    let s = server();
    let (ns, logs) = deployment_with_logs("logs-tail", "chatty").await;
    let at = STAMP.parse().expect("time");
    logs.append_at(
        at,
        "\u{1b}[32mINFO\u{1b}[0m loading weights\nplain second line\n\u{1b}[1;31mERROR\u{1b}[0m out of \u{1b}[33mmemory\u{1b}[0m\nfourth\nfifth",
    )
    .expect("append");
    wait_for_pod(s, &ns, "chatty").await;

    let base = format!("/api/deployments/chatty/logs?namespace={ns}");
    let reply = s.get(&base, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["podName"], "chatty-0");
    assert_eq!(
        reply.body["logs"].as_str().map(str::trim_end),
        Some("INFO loading weights\nplain second line\nERROR out of memory\nfourth\nfifth"),
        "{}",
        reply.body
    );

    let reply = s.get(&format!("{base}&tailLines=2"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["logs"].as_str().map(str::trim_end),
        Some("fourth\nfifth")
    );

    let reply = s
        .get(&format!("{base}&tailLines=3&timestamps=true"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let text = reply.body["logs"].as_str().expect("logs").to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("{STAMP} ERROR out of memory"),
            format!("{STAMP} fourth"),
            format!("{STAMP} fifth"),
        ],
        "{text:?}"
    );

    // The pod and container can be named.
    let reply = s
        .get(
            &format!("{base}&podName=chatty-0&container=server&tailLines=1"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["logs"].as_str().map(str::trim_end),
        Some("fifth")
    );
    assert_eq!(reply.body["podName"], "chatty-0");
}

#[tokio::test]
async fn unknown_pods_containers_and_deployments_are_errors() {
    let s = server();
    let (ns, logs) = deployment_with_logs("logs-errors", "picky").await;
    logs.append("something").expect("append");
    wait_for_pod(s, &ns, "picky").await;
    let base = format!("/api/deployments/picky/logs?namespace={ns}");

    let reply = s.get(&format!("{base}&podName=intruder-0"), None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["error"]["statusCode"], 400);
    assert!(
        reply.message().contains("intruder-0"),
        "{}",
        reply.message()
    );
    assert!(reply.message().contains("picky"), "{}", reply.message());

    // A name that merely starts with the pod's name is not the pod.
    let reply = s.get(&format!("{base}&podName=picky-0-other"), None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    let reply = s.get(&format!("{base}&container=sidecar"), None).await;
    assert!(
        reply.status.is_client_error(),
        "{} {}",
        reply.status,
        reply.body
    );
    assert!(reply.message().contains("sidecar"), "{}", reply.message());

    let reply = s
        .get(
            &format!("/api/deployments/nobody-here/logs?namespace={ns}"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(reply.body["error"]["statusCode"], 404);
}

#[tokio::test]
async fn a_deployment_without_pods_has_empty_logs() {
    let s = server();
    let cp = shared();
    let ns = cp.namespace("logs-none").await.expect("namespace").name;
    let md: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": "quiet" },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" } },
    }))
    .expect("shape");
    Api::<DynamicObject>::namespaced_with(
        cp.client(User::Admin).await.expect("client"),
        &ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
    .create(&PostParams::default(), &md)
    .await
    .expect("ModelDeployment");
    let body = s
        .get_eventually(
            &format!("/api/deployments/quiet/logs?namespace={ns}"),
            None,
            "the deployment in the cache",
            |_| true,
        )
        .await;
    assert_eq!(
        body,
        json!({ "logs": "", "podName": "", "message": "No pods found for this deployment" })
    );
}

#[tokio::test]
async fn follow_streams_a_line_appended_after_the_stream_opened() {
    let s = server();
    let (ns, logs) = deployment_with_logs("logs-follow", "streamer").await;
    logs.append("before the stream").expect("append");
    wait_for_pod(s, &ns, "streamer").await;

    let response = s
        .request(
            Method::GET,
            &format!("/api/deployments/streamer/logs?namespace={ns}&follow=true&tailLines=1"),
            None,
        )
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "Content-Type {content_type}"
    );
    let mut stream = response.bytes_stream();
    let mut seen = String::new();

    // The tail arrives first.
    let tail = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if seen.contains("before the stream") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(tail, Ok(true), "the tail line arrives; got {seen:?}");

    let marker = format!(
        "appended at {}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let appended = std::time::Instant::now();
    logs.append(&format!("\u{1b}[36m{marker}\u{1b}[0m"))
        .expect("append");
    let arrived = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if seen.contains(&marker) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        arrived,
        Ok(true),
        "the appended line arrives within 5 s; got {seen:?}"
    );
    assert!(appended.elapsed() < Duration::from_secs(5));
    assert!(
        seen.lines()
            .any(|l| l.starts_with("data:") && l.contains(&marker)),
        "lines are SSE data events: {seen:?}"
    );
    assert!(!seen.contains('\u{1b}'), "colours are stripped: {seen:?}");
}
