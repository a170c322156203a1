//! Browser end-to-end tests: Playwright drives Debian's headless Chromium through the built web
//! UI (`web/e2e/*.spec.ts`) against the real backend on the local control plane.
//!
//! This harness starts what a user's machine would have: the shared control plane with the
//! CRDs, the controller (providers `kubernetes` and `kaito`) in-process, the local HuggingFace
//! Hub, a Helm chart repository on loopback, and two real servers (auth off acting as the admin,
//! auth on acting as the backend's own identity) running the built `helm` and serving the UI
//! embedded from `web/dist`. It creates the namespace the specs deploy into, keeps container
//! logs flowing there, then runs `npx playwright test` in `web/` and fails when Playwright does.
//! Screenshots and failure traces land in `target/e2e/`.
//!
//! KAITO's operator is not installed at the start. The chart repository serves a chart under
//! the name and version KAITO's registration names, carrying KAITO's Workspace CRD; the harness
//! points KAITO's `spec.installation` repository at it, so the install flow of the UI runs real
//! Helm against a real cluster and the provider becomes ready when the CRD lands.
//!
//! The auth-off server scrapes metrics straight from pod IPs (`MetricsAccess::Direct`, the
//! in-cluster way) and asks a local Azure Retail Prices API for the KWOK nodes' instance types.
//! The harness deploys one model whose pod gets a model server of its own: a loopback endpoint
//! bound to the pod's IP and port that serves vLLM's real metric names, its counters growing
//! every second, so the Metrics tab shows real scrapes, rates and history. It also puts a
//! Cluster Autoscaler status ConfigMap (the real YAML format, rewritten every minute so it stays
//! fresh) in `kube-system`, so the deploy form and Settings see a detected autoscaler.
//!
//! Nothing is skipped: a missing browser, `node_modules` or UI build fails the test with the
//! command that fixes it. `KAIR_E2E_SERVE=1` starts everything, prints the environment for
//! running `npx playwright test` by hand, and waits (for writing specs).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kubeairunway_api::InferenceProviderConfig;
use kubeairunway_server::{BuildInfo, Config, KubeAccess, MetricsAccess};
use kubeairunway_testenv::hf_hub::{HubServer, OAUTH_CLIENT_ID, TOKEN_READ};
use kubeairunway_testenv::simulators::upstream_crd_yaml;
use kubeairunway_testenv::{
    AzurePricesServer, Binaries, ChartRepo, ChartSource, MetricsServer, PriceItem, Upstream, User,
    shared, wait_until,
};

/// Debian's Chromium (`apt-get install -y chromium`); `CHROMIUM_PATH` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// How long the whole Playwright run may take before it is killed.
const PLAYWRIGHT_DEADLINE: Duration = Duration::from_secs(20 * 60);

/// The paths the run needs, checked before anything starts.
struct Paths {
    root: PathBuf,
    web: PathBuf,
    chromium: PathBuf,
    artifacts: PathBuf,
}

/// Checks the preconditions and names the fix for each one that is missing.
fn preconditions() -> Paths {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let web = root.join("web");
    let chromium = std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM));
    let mut missing = Vec::new();
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium is not installed at {} (install Debian's package: `apt-get install -y chromium`, \
             or point CHROMIUM_PATH at a Chromium binary; Playwright never downloads a browser here)",
            chromium.display()
        ));
    }
    // Resolved the way the specs will resolve them (hoisted to the root or kept in web/).
    let resolve = std::process::Command::new("node")
        .args([
            "-e",
            "for (const p of ['@playwright/test', '@axe-core/playwright']) require.resolve(p)",
        ])
        .current_dir(&web)
        .output();
    match resolve {
        Err(e) => missing.push(format!(
            "Node.js cannot be run ({e}): install Node ≥ 20.19 with npm"
        )),
        Ok(o) if !o.status.success() => missing.push(format!(
            "the npm packages are not installed (run `npm ci` in {}): {}",
            root.display(),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        )),
        Ok(_) => {}
    }
    if !web.join("dist/index.html").is_file() {
        missing.push(format!(
            "the web UI is not built: {} is missing (run `npm ci && npm run build` in {})",
            web.join("dist/index.html").display(),
            root.display()
        ));
    }
    assert!(
        missing.is_empty(),
        "the browser tests cannot run:\n  - {}",
        missing.join("\n  - ")
    );
    let artifacts = root.join("target/e2e");
    Paths {
        root,
        web,
        chromium,
        artifacts,
    }
}

/// The provider whose installation the specs run from the UI.
const INSTALLED_PROVIDER: &str = "kaito";
/// The Helm repository name KAITO's installation adds.
const INSTALLED_REPO: &str = "kaito";

/// Starts the controller with the built-in `kubernetes` provider and KAITO on this runtime.
async fn start_controller() {
    let client = shared().client(User::Admin).await.expect("admin client");
    let options = kubeairunway_controller::Options::in_process(
        &["kubernetes", INSTALLED_PROVIDER],
        format!("browser-test-{}", std::process::id()),
    );
    tokio::spawn(async move {
        if let Err(e) = kubeairunway_controller::run(client, options, std::future::pending()).await
        {
            eprintln!("the controller stopped with an error: {e}");
        }
    });
}

/// Serves KAITO's charts from loopback and points its registration at them: waits for the
/// controller to register KAITO, packages each chart of its installation under the name and
/// version it names (with KAITO's Workspace CRD in `crds/` and a ConfigMap standing in for the
/// operator), and re-points the `kaito` repository at the local one. The controller applies its
/// spec only at start, so this apply (with a field manager of its own) holds for the run.
async fn serve_provider_charts() -> ChartRepo {
    let client = shared().client(User::Admin).await.expect("admin client");
    let ipcs: Api<InferenceProviderConfig> = Api::all(client);
    let installation = wait_until(
        "KAITO to register its installation",
        Duration::from_secs(60),
        || {
            let ipcs = ipcs.clone();
            async move {
                let ipc = ipcs.get_opt(INSTALLED_PROVIDER).await.map_err(|e| {
                    kubeairunway_testenv::Error::State(format!("reading {INSTALLED_PROVIDER}: {e}"))
                })?;
                Ok((ipc.and_then(|i| i.spec.installation), String::new()))
            }
        },
    )
    .await
    .expect("KAITO registered");
    let charts: Vec<ChartSource> = installation
        .helm_charts
        .iter()
        .flatten()
        .map(|c| {
            let name = c
                .chart
                .strip_prefix(&format!("{INSTALLED_REPO}/"))
                .unwrap_or_else(|| {
                    panic!(
                        "{} is not a chart of the {INSTALLED_REPO} repository",
                        c.chart
                    )
                });
            let version = c.version.as_deref().unwrap_or("0.1.0");
            ChartSource::new(name, version)
                .file(
                    "crds/workspaces.kaito.sh.yaml",
                    upstream_crd_yaml(Upstream::Workspace),
                )
                .file("templates/operator.yaml", OPERATOR_STAND_IN)
        })
        .collect();
    assert!(!charts.is_empty(), "KAITO's installation names no chart");
    let repo = ChartRepo::start(&charts).expect("chart repository");
    let mut installation = installation;
    for r in installation.helm_repos.iter_mut().flatten() {
        if r.name == INSTALLED_REPO {
            r.url = repo.url();
        }
    }
    let body = serde_json::json!({
        "apiVersion": "kubeairunway.ai/v1alpha1",
        "kind": "InferenceProviderConfig",
        "metadata": { "name": INSTALLED_PROVIDER },
        "spec": { "installation": installation },
    });
    ipcs.patch(
        INSTALLED_PROVIDER,
        &PatchParams::apply("kubeairunway-browser-test").force(),
        &Patch::Apply(&body),
    )
    .await
    .expect("point KAITO's installation at the local chart repository");
    repo
}

/// What the test chart installs besides the CRD: a ConfigMap named after the release, so the
/// release owns a resource that `helm uninstall` removes.
const OPERATOR_STAND_IN: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-operator
  namespace: {{ .Release.Namespace }}
data:
  role: "stands in for the KAITO workspace operator in the browser tests"
"#;

/// Starts `serve` on an ephemeral loopback port and returns its base URL. With `auth` the server
/// requires tokens and acts as [`User::Backend`]; without, it acts as [`User::Admin`], scrapes
/// metrics straight from pod IPs and asks `azure_url` for Azure prices.
async fn start_server(hub_url: &str, auth: bool, azure_url: &str) -> String {
    let build = BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        build_time: "e2e".into(),
        git_commit: "e2e".into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let mut config = Config::local(addr, build);
    config.auth_enabled = auth;
    config.huggingface.endpoint = hub_url.to_string();
    config.huggingface.client_id = Some(OAUTH_CLIENT_ID.into());
    config.helm_path = Binaries::from_env().tool("helm").expect("helm built");
    if !auth {
        config.metrics_access = MetricsAccess::Direct;
        config.pricing.azure_base_url = azure_url.to_string();
    }
    let identity = if auth { User::Backend } else { User::Admin };
    let kube = KubeAccess::new(
        shared().config(identity).await.expect("kube config"),
        identity.context(),
    )
    .expect("kube access");
    tokio::spawn(async move {
        if let Err(e) =
            kubeairunway_server::serve_on(listener, config, Some(kube), std::future::pending())
                .await
        {
            eprintln!("the server on {addr} stopped with an error: {e}");
        }
    });
    format!("http://{addr}")
}

/// Waits until `base` serves the built UI (not the placeholder page of an unbuilt UI) and the
/// controller's `kubernetes` provider is registered and healthy (asked with `token` when given).
async fn wait_ready(http: &reqwest::Client, base: &str, token: Option<&str>) {
    let page = http
        .get(format!("{base}/"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("index.html");
    assert!(
        page.contains(r#"id="root""#),
        "the server embeds the placeholder page instead of the built UI: rebuild the test after \
         `npm run build` (cargo rebuilds the server when web/dist appears)"
    );
    wait_until(
        "the kubernetes provider to report healthy",
        Duration::from_secs(60),
        || async {
            let mut request = http.get(format!("{base}/api/runtimes/status"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let reply = request
                .send()
                .await
                .and_then(reqwest::Response::error_for_status);
            let body = match reply {
                Ok(r) => r.json::<serde_json::Value>().await.unwrap_or_default(),
                Err(e) => return Ok((None, e.to_string())),
            };
            let healthy = body["runtimes"].as_array().is_some_and(|rs| {
                rs.iter()
                    .any(|r| r["id"] == "kubernetes" && r["healthy"] == true)
            });
            Ok((healthy.then_some(()), body.to_string()))
        },
    )
    .await
    .expect("provider registered");
}

/// Runs the real `kubeairunway login --server <server>` with a kubeconfig holding `token` and a
/// BROWSER that records the link it is started on, and returns that link (for `cli-auth.spec.ts`).
fn login_link(server: &str, token: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().expect("temp dir");
    let info = shared().info();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\n    \
             certificate-authority: {}\ncontexts:\n- name: e2e\n  context:\n    cluster: local\n    \
             user: e2e\ncurrent-context: e2e\nusers:\n- name: e2e\n  user:\n    token: {token}\n",
            info.server,
            info.ca_path().display()
        ),
    )
    .expect("write kubeconfig");
    let opened = home.path().join("opened");
    let browser = home.path().join("browser");
    std::fs::write(
        &browser,
        // Written whole (a rename), so the file is never seen half-written.
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{o}.part' && mv '{o}.part' '{o}'\n",
            o = opened.display()
        ),
    )
    .expect("write browser script");
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubeairunway"))
        .args(["login", "--server", server])
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .env("BROWSER", &browser)
        .env("NO_PROXY", "*")
        .output()
        .expect("kubeairunway login runs");
    assert!(
        out.status.success(),
        "kubeairunway login failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The browser is started detached (login does not wait for it): give it time to run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !opened.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::read_to_string(&opened).expect("kubeairunway login started the browser")
}

/// The deployment `auth.spec.ts` creates through the UI as the admin.
const AUDIT_DEPLOYMENT: &str = "ui-audit-e2e";

/// (user, response code) of every completed create of ModelDeployment `namespace/name` in the
/// API server's audit log.
fn audited_creates(namespace: &str, name: &str) -> Vec<(String, i64)> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(shared().info().audit_log_path()).expect("audit log");
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["verb"] == "create"
                && e["objectRef"]["resource"] == "modeldeployments"
                && e["objectRef"]["namespace"] == namespace
                && e["objectRef"]["name"] == name
        })
        .map(|e| {
            (
                e["user"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["responseStatus"]["code"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The deployment whose pod serves metrics.
const METRICS_DEPLOYMENT: &str = "metrics-e2e";
/// vLLM's metrics as a real server exposes them.
const VLLM_METRICS: &str = include_str!("../../core/src/metrics/samples/vllm.prom");
/// The Azure price of one `Standard_NC48ads_A100_v4` node (the local cluster's A100 pool).
const A100_NODE_PRICE: f64 = 7.35;

/// The local Azure Retail Prices API with Linux on-demand prices of the KWOK nodes' instance types.
fn azure_prices() -> AzurePricesServer {
    AzurePricesServer::start(
        vec![
            PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", A100_NODE_PRICE),
            PriceItem::linux("Standard_ND96isr_H100_v5", "eastus", 98.32),
            PriceItem::linux("Standard_NC8as_T4_v3", "westus2", 0.752),
        ],
        100,
    )
    .expect("Azure prices server")
}

/// vLLM's sample after `n` seconds of traffic: the counters grow (120 generated and 40 prompt
/// tokens, one request a second) and the load gauges move.
fn vllm_metrics(n: u64) -> String {
    let model = r#"engine="0",model_name="Qwen/Qwen3-0.6B""#;
    let line = |name: &str, labels: &str, v: f64| format!("{name}{{{labels}}} {v:.1}");
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    VLLM_METRICS
        .replace(
            &line("vllm:generation_tokens_total", model, 67890.0),
            &line("vllm:generation_tokens_total", model, 67890.0 + 120.0 * f),
        )
        .replace(
            &line("vllm:prompt_tokens_total", model, 12345.0),
            &line("vllm:prompt_tokens_total", model, 12345.0 + 40.0 * f),
        )
        .replace(
            &line(
                "vllm:request_success_total",
                r#"engine="0",finished_reason="stop",model_name="Qwen/Qwen3-0.6B""#,
                40.0,
            ),
            &line(
                "vllm:request_success_total",
                r#"engine="0",finished_reason="stop",model_name="Qwen/Qwen3-0.6B""#,
                40.0 + f,
            ),
        )
        .replace(
            &line("vllm:num_requests_running", model, 3.0),
            &line("vllm:num_requests_running", model, 2.0 + (n % 3) as f64),
        )
}

/// Deploys [`METRICS_DEPLOYMENT`] through the server and, once its pod runs, stands a model
/// server up at the pod's IP and `http` port whose counters grow every second.
async fn serve_pod_metrics(
    http: &reqwest::Client,
    base: &str,
    namespace: &str,
) -> Arc<MetricsServer> {
    let body = serde_json::json!({
        "name": METRICS_DEPLOYMENT, "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B",
        "engine": "vllm", "provider": "kubernetes", "replicas": 1, "resources": { "gpu": 1 },
    });
    let reply = http
        .post(format!("{base}/api/deployments"))
        .json(&body)
        .send()
        .await
        .expect("create the metrics deployment");
    assert_eq!(
        reply.status(),
        reqwest::StatusCode::CREATED,
        "{:?}",
        reply.text().await
    );
    let pods: Api<Pod> = Api::namespaced(
        shared().client(User::Admin).await.expect("admin"),
        namespace,
    );
    let (ip, port) = wait_until(
        "the metrics deployment's pod to run",
        Duration::from_secs(90),
        || {
            let pods = pods.clone();
            async move {
                let list = pods
                    .list(
                        &ListParams::default()
                            .labels(&format!("kubeairunway.ai/deployment={METRICS_DEPLOYMENT}")),
                    )
                    .await
                    .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                let found = list.items.iter().find_map(|p| {
                    let status = p.status.as_ref()?;
                    let ip = status
                        .pod_ip
                        .clone()
                        .filter(|_| status.phase.as_deref() == Some("Running"))?;
                    let port = p
                        .spec
                        .as_ref()?
                        .containers
                        .iter()
                        .flat_map(|c| c.ports.iter().flatten())
                        .find(|cp| cp.name.as_deref() == Some("http"))
                        .and_then(|cp| u16::try_from(cp.container_port).ok())?;
                    Some((ip, port))
                });
                Ok((
                    found,
                    format!("{} pods, none Running with an http port", list.items.len()),
                ))
            }
        },
    )
    .await
    .expect("metrics pod running");
    let addr = SocketAddr::new(ip.parse().expect("pod IP"), port);
    let endpoint = Arc::new(
        MetricsServer::start(addr, &vllm_metrics(0)).expect("metrics endpoint at the pod IP"),
    );
    let feeder = endpoint.clone();
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            n += 1;
            feeder.set(&vllm_metrics(n));
        }
    });
    endpoint
}

/// The Cluster Autoscaler's status (its YAML format of 1.30+) written now: healthy, the h100
/// group scaling up from 2 to 3 nodes, the t4 group idle.
fn autoscaler_status() -> String {
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC")
        .to_string();
    format!(
        "time: {now}\nautoscalerStatus: Running\nclusterWide:\n  health:\n    status: Healthy\n    nodeCounts:\n      registered:\n        total: 4\n        ready: 4\n  scaleUp:\n    status: InProgress\n  scaleDown:\n    status: NoCandidates\n    candidates: 0\nnodeGroups:\n- name: h100\n  health:\n    status: Healthy\n    nodeCounts:\n      registered:\n        total: 2\n        ready: 2\n    cloudProviderTarget: 3\n    minSize: 1\n    maxSize: 4\n  scaleUp:\n    status: InProgress\n  scaleDown:\n    status: NoCandidates\n    candidates: 0\n- name: t4\n  health:\n    status: Healthy\n    nodeCounts:\n      registered:\n        total: 2\n        ready: 2\n    cloudProviderTarget: 2\n    minSize: 0\n    maxSize: 6\n  scaleUp:\n    status: NoActivity\n  scaleDown:\n    status: NoCandidates\n    candidates: 0\n"
    )
}

/// Keeps a fresh `kube-system/cluster-autoscaler-status` on the cluster (rewritten every
/// minute, as the autoscaler does), from before the specs start.
async fn keep_autoscaler_status() {
    let cms: Api<ConfigMap> = Api::namespaced(
        shared().client(User::Admin).await.expect("admin"),
        "kube-system",
    );
    let apply = move |cms: Api<ConfigMap>| async move {
        let cm = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "cluster-autoscaler-status", "namespace": "kube-system" },
            "data": { "status": autoscaler_status() },
        });
        cms.patch(
            "cluster-autoscaler-status",
            &PatchParams::apply("kubeairunway-browser-test").force(),
            &Patch::Apply(&cm),
        )
        .await
        .map(|_| ())
    };
    apply(cms.clone())
        .await
        .expect("autoscaler status ConfigMap");
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            if let Err(e) = apply(cms.clone()).await {
                eprintln!("could not refresh the autoscaler status: {e}");
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_works_in_chromium_against_the_real_backend() {
    let paths = preconditions();
    let cp = shared();
    let admin = cp.client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
        .await
        .expect("CRDs installed");
    start_controller().await;
    let charts = serve_provider_charts().await;
    let hub = HubServer::start().expect("local HuggingFace Hub");
    let azure = azure_prices();
    let url = start_server(&hub.url(), false, azure.url()).await;
    let auth_url = start_server(&hub.url(), true, azure.url()).await;
    keep_autoscaler_status().await;

    // The namespace the specs deploy into; its pods print a line every second.
    let namespace = cp.namespace("e2e").await.expect("namespace").name;
    let logs = cp.pod_logs(&namespace).await.expect("pod logs");
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            n += 1;
            let _ = logs.append(&format!(
                "INFO e2e log line {n}: vLLM API server is serving requests"
            ));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let users = &cp.info().users;
    wait_ready(&http, &url, None).await;
    wait_ready(&http, &auth_url, Some(&users.admin)).await;
    let metrics_endpoint = serve_pod_metrics(&http, &url, &namespace).await;

    let login_link = login_link(&auth_url, &users.viewer);
    let audited_namespace = namespace.clone();
    let env: Vec<(&str, String)> = vec![
        ("KAIR_AUDIT_DEPLOYMENT", AUDIT_DEPLOYMENT.into()),
        ("KAIR_URL", url),
        ("KAIR_AUTH_URL", auth_url),
        ("KAIR_ADMIN_TOKEN", users.admin.clone()),
        ("KAIR_VIEWER_TOKEN", users.viewer.clone()),
        ("KAIR_HF_TOKEN", TOKEN_READ.into()),
        ("KAIR_NAMESPACE", namespace),
        ("KAIR_INSTALL_PROVIDER", INSTALLED_PROVIDER.into()),
        ("KAIR_CHART_REPO", charts.url()),
        ("KAIR_METRICS_DEPLOYMENT", METRICS_DEPLOYMENT.into()),
        ("KAIR_A100_NODE_PRICE", format!("{A100_NODE_PRICE:.2}")),
        ("CHROMIUM_PATH", paths.chromium.display().to_string()),
        ("KAIR_ARTIFACTS", paths.artifacts.display().to_string()),
        ("KAIR_LOGIN_LINK", login_link),
    ];

    if std::env::var_os("KAIR_E2E_SERVE").is_some() {
        eprintln!("browser test environment is up; run the specs by hand with:");
        eprintln!("  cd {}", paths.web.display());
        for (k, v) in &env {
            eprintln!("  export {k}='{v}'");
        }
        eprintln!("  npx --no-install playwright test");
        std::future::pending::<()>().await;
    }

    // Fresh screenshots every run: a stale picture of a page that no longer renders misleads.
    let _ = std::fs::remove_dir_all(paths.artifacts.join("screenshots"));
    let started = std::time::Instant::now();
    let mut child = tokio::process::Command::new("npx")
        .args(["--no-install", "playwright", "test"])
        .current_dir(&paths.web)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("npx runs (is Node.js installed?)");
    let status = match tokio::time::timeout(PLAYWRIGHT_DEADLINE, child.wait()).await {
        Ok(status) => status.expect("waiting for Playwright"),
        Err(_) => {
            let _ = child.kill().await;
            panic!(
                "Playwright did not finish within {} s (its output is above)",
                PLAYWRIGHT_DEADLINE.as_secs()
            );
        }
    };
    eprintln!(
        "Playwright finished in {:.0} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        paths.artifacts.join("screenshots").display()
    );
    assert!(
        status.success(),
        "Playwright failed ({status}); its report is above, traces of failed tests are under {} \
         (open one with `npx playwright show-trace <trace.zip>` in {})",
        paths.artifacts.join("test-results").display(),
        paths.root.join("web").display()
    );
    assert!(
        metrics_endpoint.scrapes() > 0,
        "the Metrics tab never scraped the pod's endpoint"
    );
    // The create the admin made in the UI ran with the admin's own token: the API server's
    // audit log names the person.
    let creates = audited_creates(&audited_namespace, AUDIT_DEPLOYMENT);
    assert_eq!(
        creates,
        [("admin".to_string(), 201)],
        "the UI's create of {AUDIT_DEPLOYMENT} in the audit log (user, status)"
    );
    drop(hub);
    drop(charts);
    drop(azure);
}
