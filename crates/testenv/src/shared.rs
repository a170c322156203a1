//! One lazily started control plane per test binary, and per-test namespaces.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use rand::Rng;

use crate::cluster::{ControlPlane, Options};
use crate::nodes::NodePools;
use crate::process::Lifetime;
use crate::wait::wait_until;
use crate::{Binaries, Error, Result, User};

/// The control plane shared by every test of this process, started on first use.
///
/// It is started from a dedicated thread that lives as long as the process, and its processes
/// are tied to that thread, so they die when the test binary exits, however it exits.
///
/// # Panics
/// When the control plane cannot start (a missing binary, a component that crashed): the
/// message says what failed and where its log is. A test cannot run without it.
pub fn shared() -> &'static ControlPlane {
    static CELL: OnceLock<std::result::Result<ControlPlane, String>> = OnceLock::new();
    match CELL.get_or_init(start_supervised) {
        Ok(cp) => cp,
        Err(message) => panic!("the local Kubernetes control plane could not start: {message}"),
    }
}

/// A control plane of the caller's own, started now (about 5 s), for a test that disturbs the
/// cluster, such as stopping the API server ([`ControlPlane::stop_apiserver`]). Its processes
/// live until the test binary exits, like those of [`shared`].
///
/// # Panics
/// When the control plane cannot start, like [`shared`].
pub fn private_control_plane() -> ControlPlane {
    start_supervised().unwrap_or_else(|message| {
        panic!("the local Kubernetes control plane could not start: {message}")
    })
}

/// Starts a control plane from a dedicated thread that then lives as long as the process (the
/// parent of the control-plane processes, which die with it).
fn start_supervised() -> std::result::Result<ControlPlane, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("testenv-supervisor".into())
        .spawn(move || {
            let result = start_for_tests().map_err(|e| e.to_string());
            let failed = result.is_err();
            let _ = tx.send(result);
            if !failed {
                // Keep this thread (the parent of the control-plane processes) alive.
                loop {
                    std::thread::park();
                }
            }
        });
    match spawned {
        Ok(_) => rx
            .recv()
            .unwrap_or_else(|_| Err("the testenv supervisor thread died".into())),
        Err(e) => Err(format!("spawning the testenv supervisor thread: {e}")),
    }
}

fn start_for_tests() -> Result<ControlPlane> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::io("building the testenv runtime"))?;
    let root = std::env::temp_dir().join("kubeairunway-testenv");
    remove_stale_state(&root);
    let state_dir = root.join(format!(
        "{}-{}",
        std::process::id(),
        rand::rng().random::<u32>()
    ));
    let options = Options {
        state_dir,
        binaries: Binaries::from_env(),
        nodes: NodePools::default_pools(),
        lifetime: Lifetime::TiedToProcess,
    };
    let cp = runtime.block_on(ControlPlane::start(options))?;
    eprintln!(
        "testenv: control plane up at {} in {:.1}s (state {})",
        cp.info().server,
        cp.startup.as_secs_f64(),
        cp.info().state_dir.display()
    );
    Ok(cp)
}

/// Removes state directories left by test processes that no longer run.
fn remove_stale_state(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !PathBuf::from(format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A namespace of its own for one test.
#[derive(Clone, Debug)]
pub struct TestNamespace {
    /// Namespace name.
    pub name: String,
}

impl ControlPlane {
    /// Creates a fresh namespace `<prefix>-<random>` and waits until pods can be created in it
    /// (its default service account exists).
    pub async fn namespace(&self, prefix: &str) -> Result<TestNamespace> {
        let client = self.client(User::Admin).await?;
        let name = format!("{prefix}-{:06x}", rand::rng().random::<u32>() & 0xff_ffff);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name, "labels": { "kubeairunway.ai/test": "true" } }
        }))
        .map_err(|e| Error::State(e.to_string()))?;
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .map_err(Error::kube(format!("creating namespace {name}")))?;
        let sa: Api<ServiceAccount> = Api::namespaced(client, &name);
        wait_until(
            &format!("service account default in {name}"),
            Duration::from_secs(30),
            || {
                let sa = sa.clone();
                async move {
                    let found = sa
                        .get_opt("default")
                        .await
                        .map_err(Error::kube("reading service accounts"))?;
                    Ok((found.map(|_| ()), String::new()))
                }
            },
        )
        .await?;
        Ok(TestNamespace { name })
    }

    /// `kubectl` (the built one) acting as `user`.
    pub fn kubectl(&self, user: User) -> std::process::Command {
        let info = self.info();
        let mut cmd = std::process::Command::new(info.bin_dir.join("kubectl"));
        cmd.env("KUBECONFIG", info.kubeconfig_path())
            .arg(format!("--context={}", user.context()));
        cmd
    }
}
