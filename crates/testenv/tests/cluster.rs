//! The local control plane behaves like a real cluster: the real scheduler does GPU fit checks,
//! KWOK runs what fits, the controller-manager reconciles Deployments, RBAC and TokenReview work.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenReview;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use kubeairunway_testenv::{Error, User, shared, wait_until};
use serde_json::json;

fn gpu_pod(name: &str, gpus: u32) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "containers": [{
            "name": "server", "image": "vllm/vllm-openai:v0.10.0",
            "resources": { "limits": { "nvidia.com/gpu": gpus.to_string() } },
        }] },
    }))
    .expect("pod shape")
}

#[tokio::test]
async fn nodes_carry_gpu_capacity_and_feature_discovery_labels() {
    let cp = shared();
    let nodes: Api<Node> = Api::all(cp.client(User::Admin).await.expect("client"));
    let list = nodes
        .list(&ListParams::default().labels("nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3"))
        .await
        .expect("list");
    assert_eq!(list.items.len(), 2);
    for node in &list.items {
        let labels = node.metadata.labels.as_ref().expect("labels");
        assert_eq!(labels["nvidia.com/gpu.count"], "8");
        assert_eq!(labels["nvidia.com/gpu.memory"], "81559");
        assert_eq!(labels["agentpool"], "h100");
        assert!(labels.contains_key("node.kubernetes.io/instance-type"));
        assert!(labels.contains_key("topology.kubernetes.io/region"));
        let allocatable = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .expect("allocatable");
        assert_eq!(allocatable["nvidia.com/gpu"].0, "8");
    }
    let all = nodes.list(&ListParams::default()).await.expect("list");
    assert_eq!(all.items.len(), 7, "2 H100 + 1 A100 + 2 T4 + 2 CPU nodes");
}

#[tokio::test]
async fn a_pod_that_fits_runs_on_an_h100_node_and_one_that_does_not_stays_pending() {
    let cp = shared();
    let ns = cp.namespace("sched").await.expect("namespace").name;
    let client = cp.client(User::Admin).await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    pods.create(&PostParams::default(), &gpu_pod("eight", 8))
        .await
        .expect("create");
    pods.create(&PostParams::default(), &gpu_pod("nine", 9))
        .await
        .expect("create");

    let running = wait_until("the 8-GPU pod to run", Duration::from_secs(60), || {
        let pods = pods.clone();
        async move {
            let pod = pods
                .get("eight")
                .await
                .map_err(|e| Error::State(e.to_string()))?;
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            let seen = format!("phase {phase}");
            Ok(((phase == "Running").then_some(pod), seen))
        }
    })
    .await
    .expect("8 GPUs fit on one H100 node");
    let node = running
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("bound to a node");
    assert!(
        node.starts_with("kwok-h100-"),
        "only the H100 nodes have 8 GPUs, got {node}"
    );

    let events: Api<Event> = Api::namespaced(client, &ns);
    let event = wait_until(
        "a FailedScheduling event for the 9-GPU pod",
        Duration::from_secs(60),
        || {
            let events = events.clone();
            async move {
                let list = events
                    .list(
                        &ListParams::default()
                            .fields("involvedObject.name=nine,reason=FailedScheduling"),
                    )
                    .await
                    .map_err(|e| Error::State(e.to_string()))?;
                Ok((list.items.into_iter().next(), String::new()))
            }
        },
    )
    .await
    .expect("the scheduler reports why the pod cannot run");
    let message = event.message.unwrap_or_default();
    assert!(
        message.contains("Insufficient nvidia.com/gpu"),
        "scheduler message: {message}"
    );
    let nine = pods.get("nine").await.expect("get");
    assert_eq!(
        nine.status.and_then(|s| s.phase).as_deref(),
        Some("Pending")
    );
    assert!(nine.spec.and_then(|s| s.node_name).is_none());
}

#[tokio::test]
async fn the_controller_manager_runs_deployments_to_ready_pods() {
    let cp = shared();
    let ns = cp.namespace("deploy").await.expect("namespace").name;
    let deployments: Api<Deployment> =
        Api::namespaced(cp.client(User::Admin).await.expect("client"), &ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "cpu-server" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "cpu-server" } },
            "template": {
                "metadata": { "labels": { "app": "cpu-server" } },
                "spec": {
                    "nodeSelector": { "agentpool": "cpu" },
                    "containers": [{ "name": "server", "image": "ghcr.io/ggml-org/llama.cpp:server" }],
                },
            },
        },
    }))
    .expect("shape");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("create");
    wait_until("2 ready replicas", Duration::from_secs(60), || {
        let deployments = deployments.clone();
        async move {
            let d = deployments
                .get("cpu-server")
                .await
                .map_err(|e| Error::State(e.to_string()))?;
            let ready = d.status.and_then(|s| s.ready_replicas).unwrap_or(0);
            Ok(((ready == 2).then_some(()), format!("{ready} ready")))
        }
    })
    .await
    .expect("ReplicaSet controller, scheduler and KWOK bring the Deployment up");
}

#[tokio::test]
async fn the_backend_identity_may_review_tokens_and_others_may_not() {
    let cp = shared();
    let review: TokenReview =
        serde_json::from_value(json!({ "spec": { "token": cp.info().users.team_a } }))
            .expect("shape");
    let backend: Api<TokenReview> = Api::all(cp.client(User::Backend).await.expect("client"));
    let answer = backend
        .create(&PostParams::default(), &review)
        .await
        .expect("auth-delegator allows TokenReview");
    let status = answer.status.expect("status");
    assert_eq!(status.authenticated, Some(true));
    let user = status.user.expect("user info");
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert!(
        user.groups
            .unwrap_or_default()
            .contains(&"team-a".to_string())
    );

    let viewer: Api<TokenReview> = Api::all(cp.client(User::Viewer).await.expect("client"));
    match viewer.create(&PostParams::default(), &review).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403),
        other => panic!("the viewer must not review tokens: {other:?}"),
    }
}

/// `kubectl logs` (through the real API server's `pods/log`, which calls KWOK's simulated
/// kubelet over TLS) shows what the test wrote to the namespace's log file, honours `--tail` and
/// `--timestamps`, and `kubectl logs -f` delivers a line appended after it started.
#[tokio::test]
async fn kubectl_logs_and_follow_serve_the_namespace_log_file() {
    use std::io::{BufRead, BufReader};

    let cp = shared();
    let ns = cp.namespace("logs").await.expect("namespace").name;
    let logs = cp.pod_logs(&ns).await.expect("log file");
    let at: k8s_openapi::jiff::Timestamp = "2026-01-02T03:04:05.123456789Z".parse().expect("time");
    logs.append_at(at, "first line\nsecond line")
        .expect("append");
    logs.append("third line").expect("append");
    let client = cp.client(User::Admin).await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let mut pod = gpu_pod("talker", 0);
    if let Some(spec) = pod.spec.as_mut() {
        spec.containers[0].resources = None;
        spec.node_selector = Some([("agentpool".to_string(), "cpu".to_string())].into());
    }
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create");
    wait_until("the pod to run", Duration::from_secs(60), || {
        let pods = pods.clone();
        async move {
            let pod = pods
                .get("talker")
                .await
                .map_err(|e| Error::State(e.to_string()))?;
            let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
            Ok(((phase == "Running").then_some(()), format!("phase {phase}")))
        }
    })
    .await
    .expect("KWOK runs the pod");

    let kubectl = |args: &[&str]| {
        let out = cp
            .kubectl(User::Admin)
            .args(["-n", &ns, "logs", "talker"])
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl logs {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    // KWOK picks up the namespace's ClusterLogs object asynchronously: until then the API
    // server answers "no logs found" even for a running pod.
    wait_until(
        "KWOK to serve the pod's logs",
        Duration::from_secs(30),
        || async {
            let out = cp
                .kubectl(User::Admin)
                .args(["-n", &ns, "logs", "talker"])
                .output()
                .map_err(|e| Error::State(e.to_string()))?;
            Ok((
                out.status.success().then_some(()),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        },
    )
    .await
    .expect("logs become available");
    assert_eq!(kubectl(&[]), "first line\nsecond line\nthird line\n");
    assert_eq!(kubectl(&["--tail=1"]), "third line\n");
    assert_eq!(
        kubectl(&["--timestamps", "--tail=3"]).lines().next(),
        Some("2026-01-02T03:04:05.123456789Z first line")
    );

    let mut follower = cp
        .kubectl(User::Admin)
        .args(["-n", &ns, "logs", "-f", "--tail=1", "talker"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("kubectl logs -f starts");
    let stdout = follower.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the follower prints the tail");
    assert_eq!(first, "third line");
    logs.append("appended while following").expect("append");
    let next = rx.recv_timeout(Duration::from_secs(5));
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(
        next.expect("the appended line arrives within 5 s"),
        "appended while following"
    );

    // The API server fetched the logs from the pod's KWOK kubelet through the egress proxy.
    let node_name = pods
        .get("talker")
        .await
        .expect("pod")
        .spec
        .and_then(|s| s.node_name)
        .expect("bound");
    let nodes: Api<Node> = Api::all(cp.client(User::Admin).await.expect("client"));
    let kubelet_port = nodes
        .get(&node_name)
        .await
        .expect("node")
        .status
        .and_then(|s| s.daemon_endpoints)
        .and_then(|d| d.kubelet_endpoint)
        .map(|e| e.port)
        .expect("kubelet port");
    let kubelet = format!("127.0.0.1:{kubelet_port}");
    let dials = cp.egress_dials();
    assert!(
        dials.iter().any(|d| d.requested == kubelet
            && d.delivered.as_ref() == Some(&kubelet)
            && d.connected),
        "no dial of {kubelet} in {dials:?}"
    );
}

/// The API server's pod proxy reaches a pod once it has a routable IP: the egress proxy
/// delivers `10.100.a.b` at KWOK's `127.100.a.b`, where a test serves; KWOK keeps the IP.
#[tokio::test]
async fn the_pod_proxy_reaches_a_routed_pod_through_the_egress_proxy() {
    use kubeairunway_testenv::MetricsServer;

    let cp = shared();
    let ns = cp.namespace("routed").await.expect("namespace").name;
    // Without kube's retries, which would back off on the 503 at the end for minutes.
    let mut config = cp.config(User::Admin).await.expect("config");
    config.default_retry = false;
    let client = kube::Client::try_from(config).expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "served" },
        "spec": {
            "nodeSelector": { "agentpool": "cpu" },
            "containers": [{ "name": "server", "image": "vllm/vllm-openai:v0.10.0",
                             "ports": [{ "containerPort": 8000 }] }]
        }
    }))
    .expect("pod shape");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create");
    let routed = cp.route_pod(&ns, "served").await.expect("routed");
    assert!(
        routed.local.to_string().starts_with("127.100."),
        "{routed:?}"
    );
    assert_eq!(
        routed.routable.to_string(),
        routed.local.to_string().replacen("127.", "10.", 1),
        "same last octets"
    );
    assert_eq!(
        cp.route_pod(&ns, "served").await.expect("again"),
        routed,
        "routing twice changes nothing"
    );
    let text = "# TYPE up gauge\nup 1\n";
    let endpoint = MetricsServer::start(std::net::SocketAddr::new(routed.local, 8000), text)
        .expect("an endpoint at the pod's loopback IP");

    let proxy = |path: &str| {
        axum::http::Request::get(format!(
            "/api/v1/namespaces/{ns}/pods/served:8000/proxy{path}"
        ))
        .body(Vec::new())
        .expect("request")
    };
    let got = client
        .request_text(proxy("/metrics"))
        .await
        .expect("the pod proxy answers");
    assert_eq!(got, text);
    assert_eq!(endpoint.scrapes(), 1);
    let wanted = format!("{}:8000", routed.routable);
    let dials = cp.egress_dials();
    assert!(
        dials.iter().any(|d| d.requested == wanted
            && d.delivered == Some(format!("{}:8000", routed.local))
            && d.connected),
        "no dial of {wanted} in {dials:?}"
    );

    // The pod's own answers come back as they are (a 404 for another path).
    let missing = client.request_text(proxy("/nothing")).await;
    assert!(
        matches!(&missing, Err(kube::Error::Api(s)) if s.code == 404),
        "{missing:?}"
    );

    // KWOK leaves the routed IP alone: still Running at it a while later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = pods
        .get("served")
        .await
        .expect("pod")
        .status
        .expect("status");
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(status.pod_ip, Some(routed.routable.to_string()));
    let ips: Vec<String> = status
        .pod_ips
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.ip)
        .collect();
    assert_eq!(ips, vec![routed.routable.to_string()]);

    // Nothing serving there any more: the API server reports the proxy's refusal.
    drop(endpoint);
    let gone = client.request_text(proxy("/metrics")).await;
    assert!(
        matches!(&gone, Err(kube::Error::Api(s)) if s.code == 503 && s.message.contains("code 502")),
        "{gone:?}"
    );
}

/// The API server's audit log names the person who changed an object.
#[tokio::test]
async fn the_audit_log_names_who_wrote_a_config_map() {
    use k8s_openapi::api::core::v1::ConfigMap;

    let cp = shared();
    let name = format!("audited-{}", std::process::id());
    let maps: Api<ConfigMap> = Api::namespaced(
        cp.client(User::TeamA).await.expect("client"),
        User::TEAM_NAMESPACE,
    );
    let map: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": name } })).expect("shape");
    maps.create(&PostParams::default(), &map)
        .await
        .expect("alice may edit team-a");
    let path = cp.info().audit_log_path();
    let user = wait_until(
        "the create in the audit log",
        Duration::from_secs(10),
        || {
            let path = path.clone();
            let name = name.clone();
            async move {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let user = text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find(|e| e["verb"] == "create" && e["objectRef"]["name"] == name.as_str())
                    .map(|e| {
                        e["user"]["username"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string()
                    });
                Ok((user, String::new()))
            }
        },
    )
    .await
    .expect("audited");
    assert_eq!(user, "alice");
}
