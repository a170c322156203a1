//! Providers and the core through InferenceProviderConfigs: a provider that registers after a
//! deployment was created is picked up with no edit to the deployment; a provider with a stale
//! heartbeat is not selected; leader election lets only one of two replicas act.

mod support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, Patch, PatchParams};
use kubeairunway_api::{DeploymentPhase, InferenceProviderConfig};
use kubeairunway_controller::{LeaderConfig, Options, Settings};
use kubeairunway_testenv::{User, shared};
use serde_json::json;
use support::*;

async fn register_external(client: &kube::Client, name: &str, heartbeat: Timestamp) {
    let api: Api<InferenceProviderConfig> = Api::all(client.clone());
    let body = json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
        "metadata": { "name": name },
        "spec": { "capabilities": { "engines": ["vllm", "llamacpp"], "servingModes": ["aggregated"], "cpuSupport": true, "gpuSupport": true } },
    });
    let pp = PatchParams::apply("test-external-provider").force();
    api.patch(name, &pp, &Patch::Apply(&body))
        .await
        .expect("register");
    let status = json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
        "metadata": { "name": name },
        "status": { "ready": true, "version": "external:v1", "lastHeartbeat": heartbeat },
    });
    api.patch_status(name, &pp, &Patch::Apply(&status))
        .await
        .expect("heartbeat");
}

/// A free loopback address for a replica's metrics endpoint.
fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// `/readyz` of the replica serving metrics at `addr`, once it answers.
async fn readyz(addr: std::net::SocketAddr) -> (u16, String) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("http client");
    let url = format!("http://{addr}/readyz");
    let mut last = String::new();
    for _ in 0..100 {
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                return (r.status().as_u16(), r.text().await.unwrap_or_default());
            }
            Ok(r) => last = format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not become ready: {last}");
}

#[tokio::test]
async fn late_registration_stale_heartbeats_and_leader_election() {
    let (_cp, client, ns) = setup("registration").await;
    kubeairunway_api::crds::install(&client, Duration::from_secs(60))
        .await
        .expect("CRDs");

    // Core only: no providers registered yet.
    let core_only = start(&[], Settings::quick(), false);
    create(&client, &ns, "early", json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } })).await;
    let md = wait_md(&client, &ns, "early", "no providers", 30, |m| {
        message(m).contains("no inference providers are registered")
    })
    .await;
    assert_eq!(phase(&md), Some(DeploymentPhase::Pending));

    // A provider with a heartbeat ten minutes old is not taken.
    register_external(
        &client,
        "stale-provider",
        Timestamp::now() - SignedDuration::from_mins(10),
    )
    .await;
    let md = wait_md(&client, &ns, "early", "stale provider reported", 30, |m| {
        message(m).contains("heartbeat")
    })
    .await;
    assert!(
        provider(&md).is_none(),
        "a stale provider must not be selected"
    );

    // A live provider registering later is selected at once, with no edit to the deployment.
    register_external(&client, "late-provider", Timestamp::now()).await;
    let md = wait_md(
        &client,
        &ns,
        "early",
        "selected the late provider",
        15,
        |m| provider(m).is_some(),
    )
    .await;
    assert_eq!(provider(&md).as_deref(), Some("late-provider"));
    assert_eq!(
        md.metadata.generation,
        Some(1),
        "the deployment was not edited"
    );
    core_only.stop();
    let ipcs: Api<InferenceProviderConfig> = Api::all(client.clone());
    for n in ["stale-provider", "late-provider"] {
        let _ = ipcs.delete(n, &Default::default()).await;
    }

    // Two replicas with leader election: one acts; when it stops, the other takes over.
    let cp = shared();
    let lease_ns = ns.clone();
    let replica = |id: &str, metrics: std::net::SocketAddr| {
        let id = id.to_string();
        let lease_ns = lease_ns.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let client = cp.client(User::Admin).await.expect("client");
                let mut leader = LeaderConfig::new(lease_ns, id.clone());
                leader.lease_duration = Duration::from_secs(6);
                leader.renew_every = Duration::from_secs(2);
                let options = Options {
                    providers: vec!["kubernetes".into()],
                    metrics_addr: Some(metrics),
                    leader: Some(leader),
                    settings: Settings::quick(),
                    instance: id,
                };
                let _ = kubeairunway_controller::run(client, options, async move {
                    let _ = stop_rx.await;
                })
                .await;
            });
        });
        (stop_tx, thread)
    };
    let (metrics_a, metrics_b) = (free_addr(), free_addr());
    let (stop_a, thread_a) = replica("replica-a", metrics_a);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (stop_b, thread_b) = replica("replica-b", metrics_b);
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let holder = || async {
        leases
            .get("kubeairunway-controller")
            .await
            .ok()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    };
    create(&client, &ns, "led", json!({ "model": { "id": "a/b" }, "provider": { "name": "kubernetes" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } })).await;
    wait_md(
        &client,
        &ns,
        "led",
        "Running under the first leader",
        60,
        |m| phase(m) == Some(DeploymentPhase::Running),
    )
    .await;
    assert_eq!(holder().await.as_deref(), Some("replica-a"));
    // Both replicas are ready: the leader with its caches loaded, the other standing by (a
    // rolling update and a PodDisruptionBudget count it as available).
    assert_eq!(readyz(metrics_a).await, (200, "ok".to_string()));
    let (code, body) = readyz(metrics_b).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("standby"), "{body}");
    let _ = stop_a.send(());
    let _ = thread_a.join();
    assert_ne!(
        holder().await.as_deref(),
        Some("replica-a"),
        "a replica that stops gracefully gives the lease up"
    );
    create(&client, &ns, "led-later", json!({ "model": { "id": "a/b" }, "provider": { "name": "kubernetes" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } })).await;
    wait_md(
        &client,
        &ns,
        "led-later",
        "Running under the second leader",
        60,
        |m| phase(m) == Some(DeploymentPhase::Running),
    )
    .await;
    assert_eq!(holder().await.as_deref(), Some("replica-b"));
    let _ = stop_b.send(());
    let _ = thread_b.join();
}
