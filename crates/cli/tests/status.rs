//! `kubeairunway status NAME -w` and `kubeairunway get md NAME -w`, the real binary against the
//! local control plane with a controller running: the timeline printed live as KWOK walks a pod
//! through a scripted slow start, a stall named and reported on timeout, and clear errors for a
//! missing deployment or an unknown kind (issue 20).

use std::process::Output;
use std::time::Duration;

use kube::api::{Api, PostParams};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{SCRIPT_LABEL, User, shared};
use serde_json::json;

/// Starts the controller (built-in `kubernetes` provider) on this test's runtime.
async fn start_controller() {
    let client = shared().client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&client, Duration::from_secs(60))
        .await
        .expect("CRDs");
    let options = kubeairunway_controller::Options::in_process(
        &["kubernetes"],
        format!("status-test-{}", std::process::id()),
    );
    tokio::spawn(async move {
        if let Err(e) = kubeairunway_controller::run(client, options, std::future::pending()).await
        {
            eprintln!("the controller stopped with an error: {e}");
        }
    });
}

async fn create(ns: &str, name: &str, script: &str) {
    let client = shared().client(User::Admin).await.expect("admin client");
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name, "namespace": ns },
        "spec": {
            "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" },
            "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } },
            "podTemplate": { "metadata": { "labels": { SCRIPT_LABEL: script } } },
        },
    }))
    .expect("ModelDeployment");
    Api::<ModelDeployment>::namespaced(client, ns)
        .create(&PostParams::default(), &md)
        .await
        .expect("create");
}

/// Runs the binary with the cluster's admin kubeconfig.
async fn run(args: &[&str]) -> Output {
    let kubeconfig = shared().info().kubeconfig_path();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubeairunway"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_PROXY", "*")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("kubeairunway status ends")
        .expect("kubeairunway runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Byte offset of `needle` in `hay` at or after `from`, or a failure naming both.
fn after(hay: &str, from: usize, needle: &str) -> usize {
    hay[from..]
        .find(needle)
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("{needle:?} missing after byte {from} of:\n{hay}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_the_timeline_and_names_stalls() {
    start_controller().await;
    let ns = shared()
        .namespace("cli-status")
        .await
        .expect("namespace")
        .name;

    // Started right after the create: the watch sees the image pull, the load, and ready.
    create(&ns, "slow", "slow-start").await;
    let out = run(&["status", "slow", "-n", &ns, "-w", "--timeout", "60"]).await;
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "status -w failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.starts_with(&format!("ModelDeployment {ns}/slow — ")),
        "{stdout}"
    );
    // In order: the image pulled, the model server loading (with the kubelet's word), then
    // loaded and ready, each followed by the progress line; then "Ready.".
    let i = after(&stdout, 0, "✓ Image pulled");
    let i = after(&stdout, i, "▶ Loading");
    let i = after(&stdout, i, "Model server running, not ready yet");
    let i = after(&stdout, i, "✓ Loaded");
    let i = after(&stdout, i, "✓ Ready");
    let i = after(
        &stdout,
        i,
        "[████████████████████] 5/5 steps · 1/1 pods ready",
    );
    after(&stdout, i, "Ready.");

    // Without -w: one table, and it is all done now.
    let out = run(&["get", "md", "slow", "-n", &ns]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("– Downloading    skipped"), "{stdout}");
    assert!(stdout.contains("5/5 steps · 1/1 pods ready"), "{stdout}");

    // A stall is named, and waiting for it to become ready times out with where it is stuck.
    create(&ns, "no-image", "pull-backoff").await;
    let out = run(&["get", "md", "no-image", "-n", &ns, "-w", "--timeout", "8"]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("⚠ Pulling image  stalled (ImagePullBackOff)"),
        "{stdout}"
    );
    assert!(stdout.contains("stalled: ImagePullBackOff"), "{stdout}");
    assert!(
        stderr.contains("timed out after 8s; still at ImagePulling (stalled: ImagePullBackOff)"),
        "{stderr}"
    );

    // Clear errors.
    let out = run(&["status", "absent", "-n", &ns]).await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("ModelDeployment {ns}/absent not found")),
        "{stderr}"
    );
    let out = run(&["get", "pods", "x"]).await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("unknown kind \"pods\""), "{stderr}");
}
