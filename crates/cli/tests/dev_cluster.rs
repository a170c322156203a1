//! The path `make demo` takes: `kubeairunway dev up` starts a detached local cluster with the
//! CRDs installed, `serve` answers against it, and `dev down` removes every trace.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubeairunway");

fn kair(state: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .expect("kubeairunway runs")
}

/// Stops the cluster and the server even when an assertion fails.
struct Cleanup {
    state: PathBuf,
    server: Option<Child>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
        if self.state.exists() {
            let _ = kair(&self.state, &["dev", "down"]);
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn dev_up_serve_and_down() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("dev");
    let mut cleanup = Cleanup {
        state: state.clone(),
        server: None,
    };

    let up = kair(&state, &["dev", "up"]);
    assert!(up.status.success(), "dev up failed:\n{}", text(&up));
    assert!(text(&up).contains("CRDs installed"), "{}", text(&up));
    let again = kair(&state, &["dev", "up"]);
    assert!(
        again.status.success() && text(&again).contains("already running"),
        "{}",
        text(&again)
    );

    let env = kair(&state, &["dev", "env"]);
    let exports = String::from_utf8_lossy(&env.stdout).to_string();
    let kubeconfig = state.join("kubeconfig");
    assert!(
        exports.contains(&format!("export KUBECONFIG='{}'", kubeconfig.display())),
        "{exports}"
    );
    assert!(exports.contains("export PATH="), "{exports}");

    let kubectl_dir = exports
        .lines()
        .find_map(|l| {
            l.strip_prefix("export PATH='")
                .and_then(|rest| rest.split('\'').next())
        })
        .expect("PATH export names the binaries");
    let kubectl = Command::new(Path::new(kubectl_dir).join("kubectl"))
        .env("KUBECONFIG", &kubeconfig)
        .args(["get", "modeldeployments", "-A"])
        .output()
        .expect("kubectl runs");
    assert!(
        kubectl.status.success(),
        "the CRDs must be installed: {}",
        text(&kubectl)
    );

    let upstream = Command::new(Path::new(kubectl_dir).join("kubectl"))
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "get",
            "crd",
            "workspaces.kaito.sh",
            "dynamographdeployments.nvidia.com",
            "rayservices.ray.io",
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        upstream.status.success(),
        "the simulated upstream CRDs must be installed: {}",
        text(&upstream)
    );

    // The API server reaches the simulated kubelets through the egress proxy `dev up` left
    // running (`dev egress`): asked for the logs of a running pod, it gets KWOK's own answer
    // (no ClusterLogs for this namespace), not a failure to dial the proxy.
    let kubectl_out = |args: &[&str]| {
        Command::new(Path::new(kubectl_dir).join("kubectl"))
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .output()
            .expect("kubectl runs")
    };
    let run = kubectl_out(&["run", "talker", "--image=vllm/vllm-openai:v0.10.0"]);
    assert!(run.status.success(), "{}", text(&run));
    let wait = kubectl_out(&[
        "wait",
        "--for=jsonpath={.status.phase}=Running",
        "pod/talker",
        "--timeout=60s",
    ]);
    assert!(wait.status.success(), "{}", text(&wait));
    let logs = kubectl_out(&["logs", "talker"]);
    assert!(
        text(&logs).contains("no logs found for container \"talker\""),
        "the kubelet through the egress proxy: {}",
        text(&logs)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    cleanup.server = Some(
        Command::new(BIN)
            .args(["serve", "--port", &port.to_string()])
            .env("KUBECONFIG", &kubeconfig)
            .spawn()
            .expect("serve starts"),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if http
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not answer /api/health"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status: serde_json::Value = http
        .get(format!("{base}/api/cluster/status"))
        .send()
        .await
        .expect("status answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(status["connected"], true, "{status}");
    assert_eq!(status["clusterName"], "admin");
    assert_eq!(
        status["providerInstallation"]["installed"], true,
        "{status}"
    );

    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("cluster.json")).expect("cluster.json"),
    )
    .expect("JSON");
    let pids: Vec<u64> = info["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .filter_map(|p| p[1].as_u64())
        .collect();
    assert_eq!(
        pids.len(),
        7,
        "etcd, apiserver, controller-manager, scheduler, kwok, egress proxy, simulated operators: {info}"
    );

    let down = kair(&state, &["dev", "down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(!state.exists(), "dev down removes the state directory");
    for pid in pids {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("/kubeairunway"),
            "process {pid} still runs after dev down"
        );
    }
    let env_after = kair(&state, &["dev", "env"]);
    assert!(
        !env_after.status.success(),
        "dev env must fail clearly without a cluster"
    );
    assert!(text(&env_after).contains("dev up"), "{}", text(&env_after));
}
