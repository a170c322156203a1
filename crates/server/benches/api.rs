//! `make bench`: the REST backend with 1,000 ModelDeployments and their pods on the local control
//! plane.
//!
//! Setup: 1,000 ModelDeployments spread over four namespaces, each with the status the controller
//! writes for a running deployment and one pod — the pod template the built-in `kubernetes`
//! provider renders, labelled `kubeairunway.ai/deployment=<name>` and bound to a KWOK node with
//! `spec.nodeName`, which KWOK then reports Running. No controller runs: the GPU pods of 1,000
//! deployments would not fit the simulated nodes, and the server reads nothing else.
//!
//! Then `kubeairunway serve` (the release binary, as its own process, so its RSS is its own)
//! starts against that cluster, and once `GET /api/deployments` lists all of them the benchmark
//! measures:
//! - `GET /api/deployments` (every namespace, the whole list) and `?limit=50` (one page), with
//!   and without gzip, at 50 connections for 15 s each with `oha` (scripts/load-generator.sh):
//!   requests/s, p50, p99, the server's CPU;
//! - the server's RSS once synced and at its peak under load;
//! - kube-apiserver requests per list call: its own `apiserver_request_total` before and after a
//!   fixed number of list calls, less the same count over an equally long idle window;
//! - the same list calls and one load run again with `AUTH_ENABLED=true` (bearer tokens,
//!   TokenReview and access reviews), as the admin and as the read-only user.
//!
//! Benchmarks report, they do not assert: the process fails only when the setup does.
//!
//! Environment: `KAIR_BIN` (the release `kubeairunway`), `OHA` (the load generator; default:
//! whatever scripts/load-generator.sh installs), `BENCH_N` (1000), `BENCH_SECONDS` (15),
//! `BENCH_CONNECTIONS` (50), `BENCH_CALLS` (1000), `BENCH_TOUCH_SECONDS` (0: off; otherwise one
//! ModelDeployment and its pod are annotated this often, a trickle of changes like a live
//! cluster's), `BENCH_SERVE_LOG` (the server's `LOG_LEVEL`, default `warn`; its log goes to a
//! temporary directory whose path is printed, kept when a request failed), `BENCH_BASELINE_BIN`
//! (another build, e.g. of the previous commit: its page scenarios and cold start are measured
//! in the same run, for before/after figures).
//!
//! Cold start: `serve` is started 10 times and `/api/health` polled every millisecond; the time
//! from spawning the process to the first 200 is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{ControlPlane, User, shared};
use serde_json::{Value, json};

/// Requests in flight while the fixtures are created.
const PARALLEL: usize = 32;
/// Namespaces the deployments are spread over.
const NAMESPACES: usize = 4;
/// Annotation of the nodes KWOK manages.
const KWOK_NODE: &str = "kwok.x-k8s.io/node";
/// Page size of the paged scenario.
const PAGE: usize = 50;

/// What the run is told by its environment.
struct Settings {
    n: usize,
    seconds: u64,
    connections: usize,
    calls: usize,
    touch: Option<Duration>,
    serve_log: String,
    bin: PathBuf,
    /// Another build to measure in the same run (the before of a before/after).
    baseline: Option<PathBuf>,
    oha: PathBuf,
}

impl Settings {
    fn from_env() -> Self {
        let num = |key: &str, default: usize| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let bin = std::env::var_os("KAIR_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/release/kubeairunway"));
        let oha = std::env::var_os("OHA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| install_oha(&root));
        Self {
            n: num("BENCH_N", 1000),
            seconds: num("BENCH_SECONDS", 15) as u64,
            connections: num("BENCH_CONNECTIONS", 50),
            calls: num("BENCH_CALLS", 1000),
            touch: Some(num("BENCH_TOUCH_SECONDS", 0))
                .filter(|s| *s > 0)
                .map(|s| Duration::from_secs(s as u64)),
            serve_log: std::env::var("BENCH_SERVE_LOG").unwrap_or_else(|_| "warn".into()),
            bin,
            baseline: std::env::var_os("BENCH_BASELINE_BIN")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            oha,
        }
    }
}

/// Runs scripts/load-generator.sh (installs the pinned `oha` once) and returns the binary.
fn install_oha(root: &Path) -> PathBuf {
    let out = std::process::Command::new(root.join("scripts/load-generator.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("running scripts/load-generator.sh");
    assert!(out.status.success(), "scripts/load-generator.sh failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

// ---------------------------------------------------------------------------------------------
// Fixtures

fn model_deployment(name: &str) -> ModelDeployment {
    serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" },
                  "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } },
                  "scaling": { "replicas": 1 } },
    }))
    .expect("ModelDeployment shape")
}

/// The status the controller writes for a running `kubernetes`-provider deployment.
fn running_status(name: &str) -> Value {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let condition = |type_: &str, reason: &str, message: String| {
        json!({ "type": type_, "status": "True", "reason": reason, "message": message,
                "lastTransitionTime": now, "observedGeneration": 1 })
    };
    json!({ "status": {
        "phase": "Running",
        "message": "All replicas are ready",
        "provider": { "name": "kubernetes", "resourceName": name, "resourceKind": "Deployment",
                      "selectedReason": "explicit provider selection" },
        "engine": { "type": "vllm", "selectedReason": "explicit engine selection" },
        "replicas": { "desired": 1, "ready": 1, "available": 1 },
        "endpoint": { "service": name, "port": 8000 },
        "observedGeneration": 1,
        "conditions": [
            condition("Validated", "Valid", "Spec is valid".into()),
            condition("EngineSelected", "ExplicitSelection", "Engine vllm: explicit engine selection".into()),
            condition("ProviderSelected", "ExplicitSelection", "Provider kubernetes: explicit provider selection".into()),
            condition("ProviderCompatible", "Compatible", "Provider kubernetes supports engine vllm".into()),
            condition("ResourceCreated", "Created", format!("Deployment {name} created")),
            condition("Ready", "Running", "1/1 replicas ready".into()),
        ],
    }})
}

/// A pod of `md` as the `kubernetes` provider's Deployment would create it, bound to `node`.
fn pod_of(md: &ModelDeployment, node: &str, index: usize) -> Pod {
    let provider = kubeairunway_core::providers::kubernetes::Kubernetes;
    let objects = kubeairunway_core::providers::Provider::desired(
        &provider,
        md,
        kubeairunway_api::EngineType::Vllm,
    )
    .expect("the kubernetes provider renders the deployment");
    let deployment = objects
        .into_iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the kubernetes provider renders a Deployment");
    let mut template = deployment["spec"]["template"].clone();
    let name = md.name_any();
    template["metadata"]["name"] = json!(format!("{name}-7d9f8b6c5d-{index:05}"));
    template["metadata"]["labels"][kubeairunway_api::labels::DEPLOYMENT] = json!(name);
    template["metadata"]["labels"]["pod-template-hash"] = json!("7d9f8b6c5d");
    template["spec"]["nodeName"] = json!(node);
    serde_json::from_value(template).expect("pod shape")
}

/// The namespaces of the run, with `n` ModelDeployments (status included) and their pods,
/// once every pod is Running.
async fn create_fixtures(cp: &ControlPlane, client: &Client, n: usize) -> Vec<String> {
    let nodes: Vec<String> = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("listing nodes")
        .items
        .iter()
        .filter(|node| node.annotations().contains_key(KWOK_NODE))
        .map(|node| node.name_any())
        .collect();
    assert!(!nodes.is_empty(), "no KWOK nodes in the control plane");
    let mut namespaces = Vec::new();
    for _ in 0..NAMESPACES {
        namespaces.push(cp.namespace("bench-api").await.expect("namespace").name);
    }
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let ns = namespaces[i % NAMESPACES].clone();
            let node = nodes[i % nodes.len()].clone();
            let client = client.clone();
            async move {
                let name = format!("model-{i:04}");
                let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
                let created = mds
                    .create(&PostParams::default(), &model_deployment(&name))
                    .await?;
                mds.patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(running_status(&name)),
                )
                .await?;
                let pods: Api<Pod> = Api::namespaced(client, &ns);
                pods.create(&PostParams::default(), &pod_of(&created, &node, i))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await
        .expect("creating ModelDeployments and pods");
    let created = started.elapsed();
    let pods: Api<Pod> = Api::all(client.clone());
    let selector = ListParams::default().labels(kubeairunway_api::labels::DEPLOYMENT);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let running = pods
            .list(&selector)
            .await
            .expect("listing pods")
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        if running >= n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {running}/{n} pods Running after 5 minutes"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // The size of one of each as the API server serves it (managedFields left out, as the
    // server's caches drop them), to relate the server's memory to what it holds.
    let json_kib = |mut v: Value| {
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        serde_json::to_vec(&v).map_or(0.0, |b| b.len() as f64 / 1024.0)
    };
    let md_size = Api::<ModelDeployment>::namespaced(client.clone(), &namespaces[0])
        .get("model-0000")
        .await
        .map_or(0.0, |o| {
            json_kib(serde_json::to_value(o).unwrap_or_default())
        });
    let pod_size = Api::<Pod>::namespaced(client.clone(), &namespaces[0])
        .get("model-0000-7d9f8b6c5d-00000")
        .await
        .map_or(0.0, |o| {
            json_kib(serde_json::to_value(o).unwrap_or_default())
        });
    println!(
        "fixtures: {n} ModelDeployments (with status, {md_size:.1} KiB of JSON each) and {n} pods ({pod_size:.1} KiB each) in {NAMESPACES} namespaces on {} KWOK nodes: created in {:.1}s, all Running after {:.1}s",
        nodes.len(),
        created.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    namespaces
}

// ---------------------------------------------------------------------------------------------
// The server process

/// `kubeairunway serve` as a child process; killed when dropped.
struct Serve {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `bin` on a free loopback port with `kubeconfig`; its log goes to `log`.
fn start_serve(
    bin: &Path,
    settings: &Settings,
    kubeconfig: &Path,
    auth: bool,
    log: &Path,
) -> Serve {
    let log_file = std::fs::File::create(log).expect("creating the server's log file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = tokio::process::Command::new(bin)
        .args(["serve", "--port", &port.to_string()])
        .env("KUBECONFIG", kubeconfig)
        .env("AUTH_ENABLED", if auth { "true" } else { "false" })
        .env("LOG_LEVEL", &settings.serve_log)
        .stdout(Stdio::null())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "starting {}: {e} (build it with `cargo build --release -p kubeairunway`)",
                bin.display()
            )
        });
    let pid = child.id().expect("serve has a pid");
    Serve {
        child,
        pid,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// The kubeconfig of the control plane with `user` as the current context.
fn kubeconfig_as(cp: &ControlPlane, user: User, dir: &Path) -> PathBuf {
    let original = cp.info().kubeconfig_path();
    let text = std::fs::read_to_string(&original).expect("reading the kubeconfig");
    let text = text.replace(
        "current-context: admin",
        &format!("current-context: {}", user.context()),
    );
    let path = dir.join(format!("kubeconfig-{}", user.context()));
    std::fs::write(&path, text).expect("writing a kubeconfig");
    path
}

/// Which endpoint the run measures: the list once it exists, `/api/health` before that.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Deployments,
    Health,
}

/// Waits until the server lists all `n` deployments with their pods (or, while the list
/// endpoint does not exist yet, until `/api/health` answers).
async fn wait_synced(
    http: &reqwest::Client,
    serve: &Serve,
    n: usize,
    token: Option<&str>,
) -> Target {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = String::new();
    while Instant::now() < deadline {
        let mut req = http.get(format!("{}/api/deployments", serve.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                let health = http.get(format!("{}/api/health", serve.base)).send().await;
                if health.is_ok_and(|h| h.status().is_success()) {
                    return Target::Health;
                }
            }
            Ok(r) => {
                let status = r.status();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let items = body["deployments"].as_array().map_or(0, Vec::len);
                let pods: usize = body["deployments"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|d| d["pods"].as_array().map_or(0, Vec::len))
                            .sum()
                    })
                    .unwrap_or(0);
                if status.is_success() && items >= n && pods >= n {
                    return Target::Deployments;
                }
                last = format!("{status}: {items} deployments, {pods} pods");
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not list {n} deployments within 2 minutes (last: {last})");
}

// ---------------------------------------------------------------------------------------------
// Process measurements

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Busy and total CPU time of the whole machine so far (`/proc/stat`, in ticks).
fn machine_ticks() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal ...
    let total: f64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0.0) + fields.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
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

// ---------------------------------------------------------------------------------------------
// Load

/// One load-generator run.
struct Load {
    label: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    bytes: u64,
    ok: usize,
    failed: usize,
    server_cores: f64,
    /// Cores busy on the whole machine (server, load generator, control plane).
    machine_cores: f64,
    peak_rss_kib: u64,
}

/// Runs `oha` against `path` for `seconds` with `connections`, sampling the server's RSS.
async fn load(
    settings: &Settings,
    serve: &Serve,
    label: &str,
    path: &str,
    gzip: bool,
    token: Option<&str>,
    seconds: u64,
) -> Load {
    let mut cmd = tokio::process::Command::new(&settings.oha);
    cmd.args([
        "--no-tui",
        "--output-format",
        "json",
        "--wait-ongoing-requests-after-deadline",
        "-z",
        &format!("{seconds}s"),
        "-c",
        &settings.connections.to_string(),
    ]);
    if !gzip {
        cmd.arg("--disable-compression");
    }
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    cmd.arg(format!("{}{path}", serve.base))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let cpu_before = cpu_seconds(serve.pid);
    let machine_before = machine_ticks();
    let started = Instant::now();
    let run = cmd.output();
    tokio::pin!(run);
    let mut peak = proc_kib(serve.pid, "VmRSS");
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let output = loop {
        tokio::select! {
            out = &mut run => break out.expect("running oha"),
            _ = tick.tick() => peak = peak.max(proc_kib(serve.pid, "VmRSS")),
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(serve.pid) - cpu_before;
    let machine_after = machine_ticks();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let machine_cores = (machine_after.0 - machine_before.0)
        / (machine_after.1 - machine_before.1).max(1.0)
        * cores;
    assert!(
        output.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("oha's JSON report");
    let codes = report["statusCodeDistribution"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let count = |v: &Value| v.as_u64().unwrap_or(0) as usize;
    let ok = codes.get("200").map_or(0, count);
    let failed = codes
        .iter()
        .filter(|(k, _)| k.as_str() != "200")
        .map(|(_, v)| count(v))
        .sum::<usize>()
        + report["errorDistribution"]
            .as_object()
            .map_or(0, |e| e.values().map(count).sum());
    let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN) * 1000.0;
    Load {
        label: label.to_string(),
        rps: report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: ms(&report["latencyPercentiles"]["p50"]),
        p99_ms: ms(&report["latencyPercentiles"]["p99"]),
        max_ms: ms(&report["summary"]["slowest"]),
        bytes: report["summary"]["sizePerRequest"].as_u64().unwrap_or(0),
        ok,
        failed,
        server_cores: cpu / wall,
        machine_cores,
        peak_rss_kib: peak,
    }
}

// ---------------------------------------------------------------------------------------------
// API-server requests

/// kube-apiserver's `apiserver_request_total`, summed by `VERB resource[/subresource]`.
async fn apiserver_requests(client: &Client) -> BTreeMap<String, f64> {
    let req = axum::http::Request::get("/metrics")
        .body(Vec::new())
        .expect("a request");
    let text = client
        .request_text(req)
        .await
        .expect("reading kube-apiserver /metrics");
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let label = |key: &str| {
            line.split(&format!(",{key}=\""))
                .nth(1)
                .or_else(|| line.split(&format!("{{{key}=\"")).nth(1))
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_string()
        };
        let value: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let mut key = format!("{} {}", label("verb"), label("resource"));
        let sub = label("subresource");
        if !sub.is_empty() {
            key = format!("{key}/{sub}");
        }
        *out.entry(key).or_insert(0.0) += value;
    }
    out
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d != 0.0)
        .collect()
}

/// API-server requests caused per list call.
struct PerCall {
    label: String,
    calls: usize,
    /// Calls that did not answer 2xx.
    failed: usize,
    /// Mean time of one call (sequential, no other load).
    mean: Duration,
    during: f64,
    idle: f64,
    /// `VERB resource` whose count differs between the two windows.
    attributed: BTreeMap<String, f64>,
}

impl PerCall {
    fn per_call(&self) -> f64 {
        ((self.during - self.idle) / self.calls as f64).max(0.0)
    }
}

/// Makes `calls` sequential `GET path` calls and compares the API server's request count over
/// them with the count over an idle window of the same length.
async fn requests_per_call(
    admin: &Client,
    http: &reqwest::Client,
    serve: &Serve,
    label: &str,
    path: &str,
    token: Option<&str>,
    calls: usize,
) -> PerCall {
    let url = format!("{}{path}", serve.base);
    let before = apiserver_requests(admin).await;
    let started = Instant::now();
    let mut failed = 0;
    for _ in 0..calls {
        let mut req = http.get(&url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let reply = req.send().await.expect("list call");
        if !reply.status().is_success() {
            failed += 1;
        }
        let _ = reply.bytes().await.expect("list body");
    }
    let elapsed = started.elapsed();
    let after = apiserver_requests(admin).await;
    tokio::time::sleep(elapsed).await;
    let idle_after = apiserver_requests(admin).await;
    let during = delta(&before, &after);
    let idle = delta(&after, &idle_after);
    let mut attributed = BTreeMap::new();
    for key in during.keys().chain(idle.keys()) {
        let d = during.get(key).copied().unwrap_or(0.0) - idle.get(key).copied().unwrap_or(0.0);
        if d.abs() >= 1.0 {
            attributed.insert(key.clone(), d);
        }
    }
    PerCall {
        label: label.to_string(),
        calls,
        failed,
        mean: elapsed / calls.max(1) as u32,
        during: during.values().sum(),
        idle: idle.values().sum(),
        attributed,
    }
}

// ---------------------------------------------------------------------------------------------
// Report

fn print_loads(loads: &[Load]) {
    println!(
        "| {:<34} | {:>6} | {:>7} | {:>7} | {:>7} | {:>10} | {:>11} | {:>10} | {:>11} | {:>8} |",
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "bytes/resp",
        "ok/failed",
        "server CPU",
        "machine CPU",
        "peak RSS"
    );
    println!("|{}|", ["-"; 10].map(|_| "---").join("|"));
    for l in loads {
        println!(
            "| {:<34} | {:>6.0} | {:>7.1} | {:>7.1} | {:>7.1} | {:>10} | {:>11} | {:>10} | {:>11} | {:>5.1} MB |",
            l.label,
            l.rps,
            l.p50_ms,
            l.p99_ms,
            l.max_ms,
            l.bytes,
            format!("{}/{}", l.ok, l.failed),
            format!("{:.2} cores", l.server_cores),
            format!("{:.2} cores", l.machine_cores),
            mb(l.peak_rss_kib)
        );
    }
}

fn print_per_call(rows: &[PerCall]) {
    println!(
        "| {:<36} | {:>15} | {:>9} | {:>12} | {:>11} | {:>8} |",
        "API-server requests, sequential calls",
        "calls (non-2xx)",
        "mean ms",
        "during calls",
        "idle window",
        "per call"
    );
    println!("|{}|", ["-"; 6].map(|_| "---").join("|"));
    for r in rows {
        println!(
            "| {:<36} | {:>15} | {:>9.2} | {:>12.0} | {:>11.0} | {:>8.3} |",
            r.label,
            format!("{} ({})", r.calls, r.failed),
            r.mean.as_secs_f64() * 1000.0,
            r.during,
            r.idle,
            r.per_call()
        );
    }
    for r in rows.iter().filter(|r| !r.attributed.is_empty()) {
        println!("  {}: difference to the idle window by request:", r.label);
        for (k, v) in &r.attributed {
            println!("    {k:<50} {v:+.0}");
        }
    }
}

/// Annotates one ModelDeployment and its pod every `every` until aborted: the trickle of
/// changes of a live cluster (each reaches the server's watches).
fn touch_periodically(
    client: Client,
    namespace: String,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), &namespace);
        let pods: Api<Pod> = Api::namespaced(client, &namespace);
        let pod = format!("model-0000-7d9f8b6c5d-{:05}", 0);
        for i in 0u64.. {
            tokio::time::sleep(every).await;
            let patch = Patch::Merge(
                json!({ "metadata": { "annotations": { "bench.kubeairunway.ai/touch": i.to_string() } } }),
            );
            let _ = mds
                .patch("model-0000", &PatchParams::default(), &patch)
                .await;
            let _ = pods.patch(&pod, &PatchParams::default(), &patch).await;
        }
    })
}

/// Everything measured against one server process.
struct Run {
    sync: Duration,
    idle_rss: u64,
    sync_hwm: u64,
    loads: Vec<Load>,
    hwm: u64,
    per_call: Vec<PerCall>,
    log: PathBuf,
}

/// Starts `serve` (as `backend`, with auth when `auth`), waits for it to list everything, then
/// runs `scenarios` (label, path, gzip) as `token` and the per-call count for each of `callers`.
#[allow(clippy::too_many_arguments)]
async fn measure(
    bin: &Path,
    settings: &Settings,
    cp: &ControlPlane,
    admin: &Client,
    http: &reqwest::Client,
    tmp: &Path,
    backend: User,
    auth: bool,
    token: Option<&str>,
    scenarios: &[(String, String, bool)],
    callers: &[(String, Option<&str>)],
) -> Run {
    let log = tmp.join(format!(
        "serve-{}-{}.log",
        if auth { "auth" } else { "noauth" },
        if bin == settings.bin {
            "current"
        } else {
            "baseline"
        }
    ));
    let started = Instant::now();
    let serve = start_serve(bin, settings, &kubeconfig_as(cp, backend, tmp), auth, &log);
    let target = wait_synced(http, &serve, settings.n, token).await;
    let sync = started.elapsed();
    let rewrite = |path: &str| match target {
        Target::Deployments => path.to_string(),
        Target::Health => "/api/health".to_string(),
    };
    if target == Target::Health {
        println!(
            "NOTE: GET /api/deployments does not exist yet; measuring GET /api/health instead"
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = proc_kib(serve.pid, "VmRSS");
    let sync_hwm = proc_kib(serve.pid, "VmHWM");
    // A short warm-up (connections, allocator growth) that is not reported.
    if let Some((_, path, gzip)) = scenarios.first() {
        let _ = load(settings, &serve, "warm-up", &rewrite(path), *gzip, token, 2).await;
    }
    let mut loads = Vec::new();
    for (label, path, gzip) in scenarios {
        loads.push(
            load(
                settings,
                &serve,
                label,
                &rewrite(path),
                *gzip,
                token,
                settings.seconds,
            )
            .await,
        );
    }
    let hwm = proc_kib(serve.pid, "VmHWM");
    let mut per_call = Vec::new();
    let all = rewrite("/api/deployments");
    for (label, caller) in callers {
        per_call.push(
            requests_per_call(admin, http, &serve, label, &all, *caller, settings.calls).await,
        );
    }
    Run {
        sync,
        idle_rss,
        sync_hwm,
        loads,
        hwm,
        per_call,
        log,
    }
}

fn print_run(title: &str, run: &Run) {
    println!("-- {title} --");
    println!(
        "synced (lists every deployment with its pods) {:.2}s after start; server log: {}",
        run.sync.as_secs_f64(),
        run.log.display()
    );
    print_loads(&run.loads);
    println!(
        "server RSS: idle after sync {:.1} MB (peak while syncing {:.1} MB); peak under load {:.1} MB (VmHWM {:.1} MB)",
        mb(run.idle_rss),
        mb(run.sync_hwm),
        run.loads
            .iter()
            .map(|l| l.peak_rss_kib)
            .max()
            .map_or(0.0, mb),
        mb(run.hwm),
    );
    print_per_call(&run.per_call);
    println!();
}

/// Times from spawning `bin serve` to its first 200 on `/api/health`, sorted, over 10 starts.
async fn cold_start(bin: &Path, kubeconfig: &Path) -> Vec<Duration> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("http client");
    let mut times = Vec::new();
    for _ in 0..10 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/api/health");
        let started = Instant::now();
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--port", &port.to_string()])
            .env("KUBECONFIG", kubeconfig)
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting serve");
        let deadline = started + Duration::from_secs(30);
        loop {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                times.push(started.elapsed());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = child.kill().await;
    }
    times.sort();
    times
}

/// The 1-minute load average: other work on the machine skews every number here.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[tokio::main]
async fn main() {
    let settings = Settings::from_env();
    let load_before = load_average();
    let cp = shared();
    let admin = cp.client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
        .await
        .expect("CRDs");
    let n = settings.n;
    let namespaces = create_fixtures(cp, &admin, n).await;
    let touch = settings
        .touch
        .map(|every| touch_periodically(admin.clone(), namespaces[0].clone(), every));

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let tmp = std::env::temp_dir().join(format!("kubeairunway-bench-api-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let all = "/api/deployments".to_string();
    let page = format!("/api/deployments?limit={PAGE}");

    // Auth off: the server acts with the admin's kubeconfig, like on a developer's machine.
    let off = measure(
        &settings.bin,
        &settings,
        cp,
        &admin,
        &http,
        &tmp,
        User::Admin,
        false,
        None,
        &[
            (
                format!("all {n}, gzip (as a browser asks)"),
                all.clone(),
                true,
            ),
            (format!("all {n}, uncompressed"), all.clone(), false),
            (format!("page of {PAGE}, gzip"), page.clone(), true),
            (format!("page of {PAGE}, uncompressed"), page.clone(), false),
        ],
        &[(format!("GET {all}"), None)],
    )
    .await;

    // Auth on: the server runs as its own identity; callers send their bearer tokens.
    let users = &cp.info().users;
    let on = measure(
        &settings.bin,
        &settings,
        cp,
        &admin,
        &http,
        &tmp,
        User::Backend,
        true,
        Some(&users.admin),
        &[(format!("page of {PAGE}, gzip, admin"), page.clone(), true)],
        &[
            (format!("GET {all} as admin"), Some(users.admin.as_str())),
            (format!("GET {all} as viewer"), Some(users.viewer.as_str())),
        ],
    )
    .await;
    // The same page scenarios with the baseline build, right after, on the same fixtures.
    let baseline = match &settings.baseline {
        Some(bin) => Some((
            measure(
                bin,
                &settings,
                cp,
                &admin,
                &http,
                &tmp,
                User::Admin,
                false,
                None,
                &[
                    (
                        format!("baseline: page of {PAGE}, gzip"),
                        page.clone(),
                        true,
                    ),
                    (
                        format!("baseline: page of {PAGE}, uncompressed"),
                        page.clone(),
                        false,
                    ),
                ],
                &[],
            )
            .await,
            measure(
                bin,
                &settings,
                cp,
                &admin,
                &http,
                &tmp,
                User::Backend,
                true,
                Some(&users.admin),
                &[(
                    format!("baseline: page of {PAGE}, gzip, admin"),
                    page.clone(),
                    true,
                )],
                &[],
            )
            .await,
        )),
        None => None,
    };
    if let Some(t) = touch {
        t.abort();
    }
    let kubeconfig = kubeconfig_as(cp, User::Admin, &tmp);
    let mut cold = vec![(
        "current".to_string(),
        cold_start(&settings.bin, &kubeconfig).await,
    )];
    if let Some(bin) = &settings.baseline {
        cold.push(("baseline".to_string(), cold_start(bin, &kubeconfig).await));
    }

    println!();
    println!("== kubeairunway serve: {n} ModelDeployments, {n} pods, {NAMESPACES} namespaces ==");
    println!(
        "load generator: {} ({} s per scenario, {} connections); server: {}; changes: {}",
        settings.oha.display(),
        settings.seconds,
        settings.connections,
        settings.bin.display(),
        settings
            .touch
            .map_or("none (an idle cluster)".to_string(), |t| format!(
                "one ModelDeployment and one pod annotated every {} s",
                t.as_secs()
            )),
    );
    println!();
    println!(
        "machine: {} cores; 1-minute load average {load_before} before the run, {} after (anything above ~2.5 means other work shared the cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average()
    );
    println!();
    print_run("auth off (the server uses the admin's kubeconfig)", &off);
    print_run("auth on (AUTH_ENABLED=true, bearer tokens)", &on);
    if let Some((off, on)) = &baseline {
        print_run("baseline build, auth off", off);
        print_run("baseline build, auth on", on);
    }
    for (which, times) in &cold {
        let ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
        println!(
            "cold start ({which}: process spawned to first 200 on /api/health, {} runs): min {:.1} ms, median {:.1} ms, max {:.1} ms (target <= 100 ms)",
            ms.len(),
            ms.first().copied().unwrap_or(f64::NAN),
            ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN),
            ms.last().copied().unwrap_or(f64::NAN),
        );
    }
    println!();
    println!(
        "targets: p99 <= 20 ms and >= 3,000 requests/s on 2 cores (shared with the load generator and the control plane), RSS <= 80 MB, a constant number of API-server requests per list call"
    );
    let failures: usize = [&off, &on]
        .iter()
        .flat_map(|r| {
            r.loads
                .iter()
                .map(|l| l.failed)
                .chain(r.per_call.iter().map(|p| p.failed))
        })
        .sum();
    if failures == 0 {
        let _ = std::fs::remove_dir_all(&tmp);
    } else {
        println!("WARNING: {failures} requests did not answer 200; see the server logs above");
    }
}
