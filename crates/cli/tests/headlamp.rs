//! The Headlamp plugin's tests (`plugins/headlamp/src/**/*.test.ts(x)`, run by the plugin
//! tooling's own runner, `headlamp-plugin test`) against the real backend on the local control
//! plane.
//!
//! The harness starts the shared control plane with the CRDs, the controller (provider
//! `kubernetes`) in-process, the local HuggingFace Hub, and two servers on loopback: auth off
//! (acting as the admin) and auth on (acting as the backend's own identity, checking each
//! caller's token). It deploys one model through the API and waits until it runs, keeps
//! container log lines flowing in its namespace, then runs the plugin's tests with the URLs,
//! tokens and names in `KAIR_*` variables and fails when they do. The tests render the plugin's
//! pages inside Headlamp's store, theme and router and assert what the backend really answers:
//! the running deployment in the list with its pods and logs, the catalog and HuggingFace models
//! with their GPU fit, a deployment made with the plugin's form appearing on the cluster and
//! disappearing again through its Delete action, the Headlamp user's token reaching the backend.
//!
//! Nothing is skipped: missing `node_modules` fail the test with the command that installs them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kubeairunway_server::{BuildInfo, Config, KubeAccess};
use kubeairunway_testenv::hf_hub::{HubServer, OAUTH_CLIENT_ID};
use kubeairunway_testenv::{User, shared, wait_until};

/// How long the plugin's test run may take before it is killed.
const TEST_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// The deployment the harness makes before the tests start.
const DEPLOYMENT: &str = "hl-qwen";
/// A small model of the curated catalog that fits one GPU of the test cluster.
const MODEL: &str = "Qwen/Qwen3-0.6B";
/// The origin of the page in the tests (jsdom's default), allowed by both servers.
const TEST_ORIGIN: &str = "http://localhost:3000";

/// The plugin folder, checked for its installed tooling.
fn preconditions() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let plugin = root.join("plugins/headlamp");
    let mut missing = Vec::new();
    if !plugin.join("node_modules/.bin/headlamp-plugin").is_file() {
        missing.push(format!(
            "the plugin's tooling is not installed (run `npm ci` in {})",
            plugin.display()
        ));
    }
    // `@kubeairunway/shared` is linked from packages/shared, whose own dependency
    // (openapi-fetch) comes from the root workspace's install.
    if !root
        .join("node_modules/openapi-fetch/package.json")
        .is_file()
    {
        missing.push(format!(
            "the root workspace is not installed (run `npm ci` in {})",
            root.display()
        ));
    }
    assert!(
        missing.is_empty(),
        "the Headlamp plugin tests cannot run:\n  - {}",
        missing.join("\n  - ")
    );
    plugin
}

/// Starts the controller with the built-in `kubernetes` provider.
async fn start_controller() {
    let client = shared().client(User::Admin).await.expect("admin client");
    let options = kubeairunway_controller::Options::in_process(
        &["kubernetes"],
        format!("headlamp-test-{}", std::process::id()),
    );
    tokio::spawn(async move {
        if let Err(e) = kubeairunway_controller::run(client, options, std::future::pending()).await
        {
            eprintln!("the controller stopped with an error: {e}");
        }
    });
}

/// Starts `serve` on an ephemeral loopback port and returns its base URL. With `auth` the server
/// requires tokens and acts as [`User::Backend`]; without, it acts as [`User::Admin`].
async fn start_server(hub_url: &str, auth: bool) -> String {
    let build = BuildInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        build_time: "headlamp-test".into(),
        git_commit: "headlamp-test".into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let mut config = Config::local(addr, build);
    config.auth_enabled = auth;
    config.cors_origins = vec![TEST_ORIGIN.into()];
    config.huggingface.endpoint = hub_url.to_string();
    config.huggingface.client_id = Some(OAUTH_CLIENT_ID.into());
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

/// Waits until the `kubernetes` provider reports healthy on `base`.
async fn wait_provider(http: &reqwest::Client, base: &str) {
    wait_until(
        "the kubernetes provider to report healthy",
        Duration::from_secs(60),
        || async {
            let reply = http
                .get(format!("{base}/api/runtimes/status"))
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

/// Deploys [`MODEL`] as [`DEPLOYMENT`] through the API and waits until it runs with a pod.
async fn deploy_and_wait(http: &reqwest::Client, base: &str, namespace: &str) {
    let created = http
        .post(format!("{base}/api/deployments"))
        .json(&serde_json::json!({
            "name": DEPLOYMENT,
            "namespace": namespace,
            "modelId": MODEL,
            "provider": "kubernetes",
            "engine": "vllm",
            "replicas": 1,
            "resources": { "gpu": 1 },
        }))
        .send()
        .await
        .expect("POST /api/deployments");
    let status = created.status();
    assert_eq!(
        status.as_u16(),
        201,
        "creating {DEPLOYMENT}: {}",
        created.text().await.unwrap_or_default()
    );
    wait_until(
        "the deployment to run",
        Duration::from_secs(120),
        || async {
            let reply = http
                .get(format!(
                    "{base}/api/deployments/{DEPLOYMENT}?namespace={namespace}"
                ))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status);
            let body = match reply {
                Ok(r) => r.json::<serde_json::Value>().await.unwrap_or_default(),
                Err(e) => return Ok((None, e.to_string())),
            };
            let running = body["phase"] == "Running"
                && body["pods"].as_array().is_some_and(|p| !p.is_empty());
            Ok((running.then_some(()), body.to_string()))
        },
    )
    .await
    .expect("deployment running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headlamp_plugin_works_against_the_real_backend() {
    let plugin = preconditions();
    let cp = shared();
    let admin = cp.client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
        .await
        .expect("CRDs installed");
    start_controller().await;
    let hub = HubServer::start().expect("local HuggingFace Hub");
    let url = start_server(&hub.url(), false).await;
    let auth_url = start_server(&hub.url(), true).await;

    let namespace = cp.namespace("headlamp").await.expect("namespace").name;
    let logs = cp.pod_logs(&namespace).await.expect("pod logs");
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            n += 1;
            let _ = logs.append(&format!(
                "INFO headlamp log line {n}: vLLM API server is serving requests"
            ));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    wait_provider(&http, &url).await;
    deploy_and_wait(&http, &url, &namespace).await;

    let users = &cp.info().users;
    let env: Vec<(&str, String)> = vec![
        ("KAIR_URL", url),
        ("KAIR_AUTH_URL", auth_url),
        ("KAIR_ADMIN_TOKEN", users.admin.clone()),
        ("KAIR_ADMIN_NAME", User::Admin.name().into()),
        ("KAIR_VIEWER_TOKEN", users.viewer.clone()),
        ("KAIR_NAMESPACE", namespace),
        ("KAIR_DEPLOYMENT", DEPLOYMENT.into()),
        ("KAIR_MODEL", MODEL.into()),
    ];

    let started = std::time::Instant::now();
    let mut child = tokio::process::Command::new(plugin.join("node_modules/.bin/headlamp-plugin"))
        .arg("test")
        .current_dir(&plugin)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        // One run, no watch mode.
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("headlamp-plugin runs (is Node.js installed?)");
    let status = match tokio::time::timeout(TEST_DEADLINE, child.wait()).await {
        Ok(status) => status.expect("waiting for headlamp-plugin test"),
        Err(_) => {
            let _ = child.kill().await;
            panic!(
                "headlamp-plugin test did not finish within {} s (its output is above)",
                TEST_DEADLINE.as_secs()
            );
        }
    };
    eprintln!(
        "headlamp-plugin test finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "the Headlamp plugin's tests failed ({status}); their report is above"
    );
    drop(hub);
}
