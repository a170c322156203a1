//! `make bench`: 1,000 ModelDeployments for the `kubernetes` provider on the local control plane.
//!
//! Measures the time until every one has its Deployment, Service and status, against a floor: a
//! plain client creating the same objects (ModelDeployment, Deployment, Service, status write)
//! with the same parallelism. Also the controller's peak RSS (VmHWM of the `kubeairunway
//! controller` process). Deployments are scaled to zero so no pods compete for the API server.
//!
//! Environment: `KAIR_BIN` (path to the release `kubeairunway` binary), `BENCH_N` (default 1000).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{User, shared};
use serde_json::json;

const PARALLEL: usize = 32;

fn md(name: &str) -> ModelDeployment {
    serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" }, "engine": { "type": "vllm" },
                  "resources": { "gpu": { "count": 1 } }, "scaling": { "replicas": 0 } },
    }))
    .expect("shape")
}

async fn create_mds(client: &Client, ns: &str, n: usize) {
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), ns);
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &md(&format!("m-{i}")))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await
        .expect("create ModelDeployments");
}

/// What the controller does per deployment, done by a plain client.
async fn floor(client: &Client, ns: &str, n: usize) -> Duration {
    let started = Instant::now();
    create_mds(client, ns, n).await;
    let provider = kubeairunway_core::providers::kubernetes::Kubernetes;
    let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), ns);
    stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            let mds = mds.clone();
            let ns = ns.to_string();
            async move {
                let name = format!("m-{i}");
                let mut m = md(&name);
                m.metadata.namespace = Some(ns.clone());
                m.metadata.uid = Some(format!("00000000-0000-0000-0000-{i:012}"));
                let objects = kubeairunway_core::providers::Provider::desired(&provider, &m, kubeairunway_api::EngineType::Vllm).expect("desired");
                for mut o in objects {
                    o["metadata"].as_object_mut().map(|m| m.remove("ownerReferences"));
                    let gvk = kube::core::GroupVersionKind::gvk(if o["kind"] == "Deployment" { "apps" } else { "" }, "v1", o["kind"].as_str().unwrap_or_default());
                    let ar = kube::core::ApiResource::from_gvk(&gvk);
                    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
                    api.patch(&name, &PatchParams::apply("bench-floor").force(), &Patch::Apply(&o)).await?;
                }
                let status = json!({ "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": { "name": name },
                    "status": { "phase": "Running", "message": "floor" } });
                mds.patch_status(&name, &PatchParams::apply("bench-floor").force(), &Patch::Apply(&status)).await.map(|_| ())
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await
        .expect("floor writes");
    started.elapsed()
}

/// Mutating requests the API server has served so far, by resource (from its own metrics).
async fn writes(client: &Client) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(req) = http::Request::get("/metrics").body(Vec::new()) else {
        return out;
    };
    let Ok(text) = client.request_text(req).await else {
        return out;
    };
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let label = |key: &str| {
            line.split(&format!("{key}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_string()
        };
        let verb = label("verb");
        if !["POST", "PATCH", "PUT", "APPLY", "CREATE", "UPDATE"].contains(&verb.as_str()) {
            continue;
        }
        let value: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let key = format!("{}/{}", label("resource"), label("subresource"));
        *out.entry(key).or_insert(0.0) += value;
    }
    out
}

fn print_writes(
    what: &str,
    n: usize,
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) {
    let total: f64 = after
        .iter()
        .map(|(k, v)| v - before.get(k).copied().unwrap_or(0.0))
        .sum();
    println!(
        "{what}: {total:.0} API writes ({:.1} per ModelDeployment)",
        total / n as f64
    );
    for (k, v) in after {
        let d = v - before.get(k).copied().unwrap_or(0.0);
        if d >= 1.0 {
            println!("    {k:<40} {d:.0}");
        }
    }
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let bin = std::env::var("KAIR_BIN").unwrap_or_else(|_| "target/release/kubeairunway".into());
    let cp = shared();
    let client = cp.client(User::Admin).await.expect("client");
    kubeairunway_api::crds::install(&client, Duration::from_secs(60))
        .await
        .expect("CRDs");

    let ns = cp.namespace("bench-controller").await.expect("ns").name;
    let mut child = Command::new(&bin)
        .args([
            "controller",
            "--providers",
            "kubernetes",
            "--metrics-bind-address",
            "off",
        ])
        .env("KUBECONFIG", cp.info().kubeconfig_path())
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("starting {bin}: {e} (build it with `cargo build --release -p kubeairunway`)")
        });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = peak_rss_kib(child.id());
    let writes_before = writes(&client).await;
    let started = Instant::now();
    create_mds(&client, &ns, n).await;
    let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), &ns);
    // Completion is observed through a watch (as cheap for the API server as the floor's own
    // bookkeeping), not by listing everything in a loop.
    let mut done_names = std::collections::BTreeSet::new();
    let mut stream =
        kube::runtime::watcher(mds.clone(), kube::runtime::watcher::Config::default()).boxed();
    let deadline = tokio::time::sleep(Duration::from_secs(900));
    tokio::pin!(deadline);
    while done_names.len() < n {
        tokio::select! {
            () = &mut deadline => panic!("only {}/{n} deployments reconciled after 15 minutes", done_names.len()),
            event = stream.next() => match event {
                Some(Ok(kube::runtime::watcher::Event::Apply(m) | kube::runtime::watcher::Event::InitApply(m))) => {
                    let ok = m.status.as_ref().is_some_and(|s| {
                        s.phase.is_some() && s.conditions.iter().flatten().any(|c| c.type_ == "ResourceCreated" && c.status == "True")
                    });
                    if ok {
                        done_names.insert(m.name_any());
                    }
                }
                Some(_) => {}
                None => panic!("the watch ended"),
            },
        }
    }
    let done = started.elapsed();
    let d = deployments
        .list(&ListParams::default().labels("kubeairunway.ai/deployment"))
        .await
        .expect("list")
        .items
        .len();
    let s = services
        .list(&ListParams::default().labels("kubeairunway.ai/deployment"))
        .await
        .expect("list")
        .items
        .len();
    assert_eq!(
        (d, s),
        (n, n),
        "every ModelDeployment has its Deployment and Service"
    );
    let peak = peak_rss_kib(child.id());
    let writes_after = writes(&client).await;
    let cpu = cpu_seconds(child.id());
    let _ = child.kill();
    let _ = child.wait();
    // The floor runs after the controller has stopped, so the controller never sees its objects.
    let floor_ns = cp.namespace("bench-floor").await.expect("ns").name;
    let floor_before = writes(&client).await;
    let floor_time = floor(&client, &floor_ns, n).await;
    let floor_after = writes(&client).await;
    println!(
        "floor: {n} ModelDeployments + Deployments + Services + status writes by a plain client: {:.2}s",
        floor_time.as_secs_f64()
    );

    print_writes("controller run", n, &writes_before, &writes_after);
    print_writes("floor run", n, &floor_before, &floor_after);
    let ratio = done.as_secs_f64() / floor_time.as_secs_f64();
    println!(
        "controller: {n} ModelDeployments to Deployment + Service + status: {:.2}s ({ratio:.2}x the floor; target <= 1.5x)",
        done.as_secs_f64()
    );
    println!("controller CPU: {cpu:.1}s");
    println!(
        "controller RSS: idle {:.1} MB, peak {:.1} MB (target <= 100 MB)",
        idle_rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let names: Vec<String> = mds
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|m| m.name_any())
        .collect();
    assert_eq!(names.len(), n);
}
