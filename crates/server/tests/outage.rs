//! An API-server outage (issue 4 items 2 and 7): with the API server stopped, `serve` answers
//! within a second with a clear 503 (not an empty 200, not a retry storm); after the API server
//! restarts, fresh data appears within 10 s without restarting `serve`.
//!
//! The test runs on a control plane of its own, so stopping its API server disturbs nothing else.

mod support;

use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::core::ApiResource;
use kubeairunway_api::ModelDeployment;
use kubeairunway_server::{Config, KubeAccess};
use kubeairunway_testenv::{ControlPlane, User, private_control_plane};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Reply, Server};

/// How fast a request must be answered while the API server is down.
const FAST: Duration = Duration::from_secs(1);

fn md(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" }, "scaling": { "replicas": 1 }, "resources": { "gpu": { "count": 1 } } },
    }))
    .expect("shape")
}

async fn mds(cp: &ControlPlane, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        cp.client(User::Admin).await.expect("client"),
        ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
}

/// Starts `serve` against `cp` as its admin, on its own thread and runtime.
fn start_server(cp: &'static ControlPlane) -> Server {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let kube = KubeAccess::new(cp.config(User::Admin).await.expect("config"), "admin")
                .expect("access");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let config = Config::local(addr, support::build_info());
            tx.send(format!("http://{addr}")).expect("report address");
            kubeairunway_server::serve_on(listener, config, Some(kube), std::future::pending())
                .await
                .expect("serve");
        });
    });
    Server {
        base: rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server started"),
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
    }
}

/// Sends a request and measures how long the answer took.
async fn timed(s: &Server, method: Method, path: &str, body: Option<&Value>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = s.call(method, path, None, body).await;
    (reply, started.elapsed())
}

/// A control plane of the test's own with the CRDs, a namespace holding ModelDeployments named
/// `names`, and `serve` listing them all; with the namespace and its list path.
async fn scene(prefix: &str, names: &[&str]) -> (&'static ControlPlane, Server, String, String) {
    let cp: &'static ControlPlane = Box::leak(Box::new(private_control_plane()));
    let admin = cp.client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
        .await
        .expect("CRDs");
    let ns = cp.namespace(prefix).await.expect("namespace").name;
    for name in names {
        mds(cp, &ns)
            .await
            .create(&PostParams::default(), &md(name))
            .await
            .expect("create");
    }
    let s = start_server(cp);
    let list = format!("/api/deployments?namespace={ns}");
    s.get_eventually(&list, None, "the deployments listed", |b| {
        let listed = listed(b);
        names.iter().all(|n| listed.contains_key(*n))
    })
    .await;
    (cp, s, ns, list)
}

/// Kills the API server and waits until `list` answers 503 (the server notices at once, as its
/// watches break: a moment, no more); returns when it was killed.
async fn stop_apiserver(cp: &ControlPlane, s: &Server, list: &str) -> Instant {
    cp.stop_apiserver().expect("stop the API server");
    let stopped = Instant::now();
    loop {
        let reply = s.get(list, None).await;
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            return stopped;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "still {} {} 5 s into the outage",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `POST /api/deployments` body.
fn create_body(ns: &str, name: &str) -> Value {
    json!({ "name": name, "namespace": ns, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm", "resources": { "gpu": 1 } })
}

#[tokio::test]
async fn requests_fail_fast_during_an_outage_and_recover_without_a_restart() {
    let (cp, s, ns, list) = scene("outage", &["before"]).await;
    for path in [
        "/api/cluster/nodes".to_string(),
        "/api/installation/gpu-capacity".to_string(),
        format!("/api/deployments/before?namespace={ns}"),
    ] {
        let reply = s.get(&path, None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{path} before the outage: {}",
            reply.body
        );
    }

    stop_apiserver(cp, &s, &list).await;

    let create = create_body(&ns, "during");
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, list.clone(), None),
        (Method::GET, "/api/deployments".into(), None),
        (
            Method::GET,
            format!("/api/deployments/before?namespace={ns}"),
            None,
        ),
        (Method::GET, "/api/cluster/nodes".into(), None),
        (Method::GET, "/api/installation/gpu-capacity".into(), None),
        (
            Method::GET,
            "/api/installation/gpu-capacity/detailed".into(),
            None,
        ),
        (
            Method::POST,
            "/api/deployments".into(),
            Some(create.clone()),
        ),
    ];
    for round in 0..2 {
        for (method, path, body) in &requests {
            let (reply, took) = timed(&s, method.clone(), path, body.as_ref()).await;
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{method} {path} (round {round}): {}",
                reply.body
            );
            assert_eq!(reply.body["error"]["statusCode"], 503, "{}", reply.body);
            let message = reply.message().to_lowercase();
            assert!(
                message.contains("api server") || message.contains("unreachable"),
                "{method} {path}: the message says what is wrong: {message}"
            );
            assert!(took < FAST, "{method} {path} took {took:?}");
        }
    }
    let (status, took) = timed(&s, Method::GET, "/api/cluster/status", None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["connected"], false, "{}", status.body);
    assert!(
        status.body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{}",
        status.body
    );
    assert!(took < FAST, "cluster status took {took:?}");
    let health = s.get("/api/health", None).await;
    assert_eq!(
        health.status,
        StatusCode::OK,
        "liveness does not depend on the cluster"
    );
    let ready = s.get("/api/health/ready", None).await;
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "a server whose caches loaded stays ready during an outage (its routes say 503 themselves): {}",
        ready.body
    );

    cp.start_apiserver()
        .await
        .expect("start the API server again");
    let restarted = Instant::now();
    mds(cp, &ns)
        .await
        .create(&PostParams::default(), &md("after"))
        .await
        .expect("create after the restart");
    let fresh = loop {
        let reply = s.get(&list, None).await;
        let names: Vec<String> = reply.body["deployments"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|d| d["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if reply.status == StatusCode::OK && names.contains(&"after".to_string()) {
            break names;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "no fresh data 10 s after the restart: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(fresh.contains(&"before".to_string()), "{fresh:?}");
    assert!(
        !fresh.contains(&"during".to_string()),
        "the create during the outage did not happen: {fresh:?}"
    );
    for path in [
        "/api/cluster/nodes".to_string(),
        "/api/installation/gpu-capacity".to_string(),
        format!("/api/deployments/after?namespace={ns}"),
    ] {
        let reply = s.get(&path, None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{path} after the restart: {}",
            reply.body
        );
    }
    let status = s.get("/api/cluster/status", None).await;
    assert_eq!(status.body["connected"], true, "{}", status.body);
    let reply = s
        .call(
            Method::POST,
            "/api/deployments",
            None,
            Some(&create_body(&ns, "recovered")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// What a client following the event stream believes: name → servedModelName, from the
/// `snapshot`, `upsert` and `delete` events it has read.
#[derive(Default)]
struct Followed(std::collections::BTreeMap<String, String>);

impl Followed {
    fn apply(&mut self, event: &support::Sse) {
        let served = |d: &Value| {
            d["servedModelName"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        match event.event.as_str() {
            "snapshot" => {
                self.0 = event.data["deployments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| Some((d["name"].as_str()?.to_string(), served(d))))
                    .collect();
            }
            "upsert" => {
                let d = &event.data["deployment"];
                if let Some(name) = d["name"].as_str() {
                    self.0.insert(name.to_string(), served(d));
                }
            }
            "delete" => {
                if let Some(name) = event.data["name"].as_str() {
                    self.0.remove(name);
                }
            }
            _ => {}
        }
    }
}

/// name → servedModelName of a `GET /api/deployments` answer.
fn listed(body: &Value) -> std::collections::BTreeMap<String, String> {
    body["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some((
                d["name"].as_str()?.to_string(),
                d["servedModelName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect()
}

/// A change made while the server's API server is down (through a second API server of the
/// same cluster, as in a control plane of several replicas) is what the list and the event
/// stream show once it returns: the caches are current within 10 s, no answer after the
/// restart shows the state from before the change, and the stream that stayed open resumes.
#[tokio::test]
async fn a_change_made_during_the_outage_is_seen_after_it_and_the_event_stream_resumes() {
    let (cp, s, ns, list) = scene("outage-change", &["kept", "doomed"]).await;
    let second = cp
        .start_second_apiserver()
        .await
        .expect("a second API server");
    let mut stream =
        support::SseReader::open(&s, &format!("/api/deployments/events?namespace={ns}"), None)
            .await;
    let mut followed = Followed::default();
    let first = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    followed.apply(&first);
    assert_eq!(
        followed.0.keys().collect::<Vec<_>>(),
        ["doomed", "kept"],
        "{:?}",
        first.data
    );

    let stopped = stop_apiserver(cp, &s, &list).await;

    // The change, made where the server cannot see it.
    let other = Api::<DynamicObject>::namespaced_with(
        cp.client_of(&second, User::Admin)
            .await
            .expect("client of the second API server"),
        &ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    );
    other
        .create(&PostParams::default(), &md("born-during"))
        .await
        .expect("create during the outage");
    other
        .delete("doomed", &Default::default())
        .await
        .expect("delete during the outage");
    other
        .patch(
            "kept",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({ "spec": { "model": { "servedName": "renamed" } } })),
        )
        .await
        .expect("patch during the outage");
    let outage_reply = s.get(&list, None).await;
    assert_eq!(
        outage_reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no stale list during the outage: {}",
        outage_reply.body
    );
    // The stream stays open (keep-alives) but sends nothing it cannot vouch for.
    let quiet = stream.next(Duration::from_secs(1)).await;
    assert!(
        quiet.is_none(),
        "an event during the outage: {:?}",
        quiet.map(|e| e.data)
    );

    let outage = stopped.elapsed();
    cp.start_apiserver()
        .await
        .expect("start the API server again");
    let restarted = Instant::now();
    // The names after the change ("kept" is also renamed).
    let want = ["born-during", "kept"];
    // Every answer after the restart is either a 503 or the state after the change.
    let list_current = loop {
        let reply = s.get(&list, None).await;
        if reply.status == StatusCode::OK {
            let got = listed(&reply.body);
            assert!(
                got.keys().eq(want),
                "a list after the restart is not current: {}",
                reply.body
            );
            assert_eq!(got["kept"], "renamed", "{}", reply.body);
            break restarted.elapsed();
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "no list 10 s after the restart: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stream_current = loop {
        let left = Duration::from_secs(10).saturating_sub(restarted.elapsed());
        let event = stream.next(left).await.unwrap_or_else(|| {
            panic!(
                "the stream did not catch up within 10 s of the restart; it shows {:?}",
                followed.0
            )
        });
        followed.apply(&event);
        if followed.0.keys().eq(want) && followed.0["kept"] == "renamed" {
            break restarted.elapsed();
        }
    };
    eprintln!(
        "figure: API server down {outage:?}; after its return the list was current in \
         {list_current:?} and the open event stream in {stream_current:?}"
    );
    cp.stop_second_apiserver()
        .expect("stop the second API server");
}

/// etcd killed under a running server: nothing can change while it is down, so reads keep
/// answering from the caches; a write gets a clear error within the server's timeout instead
/// of hanging, and changes nothing; once etcd returns, writes work and the caches follow.
#[tokio::test]
async fn an_etcd_restart_is_survived() {
    let (cp, s, ns, list) = scene("etcd-restart", &["before"]).await;

    cp.stop_etcd().expect("stop etcd");
    let stopped = Instant::now();
    let (read, read_took) = timed(&s, Method::GET, &list, None).await;
    eprintln!(
        "during: GET list {} in {read_took:?}: {}",
        read.status, read.body
    );
    let body = create_body(&ns, "during");
    let (write, write_took) = timed(&s, Method::POST, "/api/deployments", Some(&body)).await;
    eprintln!(
        "during: POST {} in {write_took:?}: {}",
        write.status, write.body
    );
    assert!(
        write.status.is_server_error(),
        "a write while etcd is down cannot succeed: {} {}",
        write.status,
        write.body
    );
    assert!(
        !write.message().is_empty(),
        "the error says what failed: {}",
        write.body
    );
    let outage = stopped.elapsed();

    cp.start_etcd().await.expect("start etcd again");
    let restarted = Instant::now();
    let created = loop {
        let reply = s
            .call(
                Method::POST,
                "/api/deployments",
                None,
                Some(&create_body(&ns, "after")),
            )
            .await;
        if reply.status == StatusCode::CREATED {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "writes still fail 30 s after etcd returned: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let listed_after = loop {
        let reply = s.get(&list, None).await;
        if reply.status == StatusCode::OK && listed(&reply.body).contains_key("after") {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(40),
            "the new deployment not listed: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let names: Vec<String> = listed(&s.get(&list, None).await.body).into_keys().collect();
    assert!(
        !names.contains(&"during".to_string()),
        "the write refused during the outage did not happen later: {names:?}"
    );
    eprintln!(
        "figure: etcd down {outage:?} (read during: {} in {read_took:?}; write during: {} in \
         {write_took:?}); after its return a create succeeded in {created:?} and was listed in \
         {listed_after:?}",
        read.status, write.status
    );
}
