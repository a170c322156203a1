//! Shared helpers of the controller's integration tests: a controller (and, where asked, the
//! simulated upstream operators) running in the background against the local control plane.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::ApiResource;
use kube::{Client, ResourceExt};
use kubeairunway_api::{DeploymentPhase, ModelDeployment};
use kubeairunway_controller::{Options, Settings};
use kubeairunway_testenv::{ControlPlane, Error, User, shared, wait_until};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A controller running on its own thread and runtime (tests each have their own runtime).
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops the controller and waits for it to finish.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Starts a controller with `providers` (and the upstream simulations when `simulate`).
pub fn start(providers: &[&str], settings: Settings, simulate: bool) -> Running {
    let cp = shared();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let providers: Vec<String> = providers.iter().map(|p| p.to_string()).collect();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let client = cp.client(User::Admin).await.expect("client");
            kubeairunway_api::crds::install(&client, Duration::from_secs(60))
                .await
                .expect("CRDs");
            if simulate {
                kubeairunway_testenv::simulators::install_upstream_crds(&client)
                    .await
                    .expect("upstream CRDs");
                let c = client.clone();
                tokio::spawn(async move {
                    let _ = kubeairunway_testenv::simulators::run(c).await;
                });
            }
            let options = Options {
                providers,
                metrics_addr: None,
                leader: None,
                settings,
                instance: format!("test-{}", std::process::id()),
            };
            let _ = ready_tx.send(());
            let shutdown = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = kubeairunway_controller::run(client, options, shutdown).await {
                eprintln!("controller stopped with an error: {e}");
            }
        });
    });
    let _ = ready_rx.recv_timeout(Duration::from_secs(90));
    Running {
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// One controller with every provider and the simulations, shared by a test binary.
pub fn shared_controller() {
    static RUNNING: OnceLock<std::sync::Mutex<Running>> = OnceLock::new();
    RUNNING.get_or_init(|| {
        std::sync::Mutex::new(start(
            &["kaito", "dynamo", "kuberay", "kubernetes"],
            Settings::quick(),
            true,
        ))
    });
}

/// Admin client and a fresh namespace.
pub async fn setup(prefix: &str) -> (&'static ControlPlane, Client, String) {
    let cp = shared();
    let client = cp.client(User::Admin).await.expect("client");
    let ns = cp.namespace(prefix).await.expect("namespace").name;
    (cp, client, ns)
}

/// Creates a ModelDeployment from a spec.
pub async fn create(client: &Client, ns: &str, name: &str, spec: Value) -> ModelDeployment {
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name, "namespace": ns }, "spec": spec,
    }))
    .expect("ModelDeployment shape");
    Api::<ModelDeployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &md)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"))
}

/// Waits until the deployment satisfies `pred`, reporting its last status on timeout.
pub async fn wait_md(
    client: &Client,
    ns: &str,
    name: &str,
    what: &str,
    secs: u64,
    pred: impl Fn(&ModelDeployment) -> bool,
) -> ModelDeployment {
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), ns);
    wait_until(
        &format!("{name}: {what}"),
        Duration::from_secs(secs),
        || {
            let api = api.clone();
            let pred = &pred;
            async move {
                let md = api
                    .get_opt(name)
                    .await
                    .map_err(|e| Error::State(e.to_string()))?;
                let Some(md) = md else {
                    return Ok((None, "gone".into()));
                };
                let seen = serde_json::to_string(&md.status).unwrap_or_default();
                Ok((pred(&md).then_some(md), seen))
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The phase of a deployment.
pub fn phase(md: &ModelDeployment) -> Option<DeploymentPhase> {
    md.status.as_ref().and_then(|s| s.phase)
}

/// The selected provider of a deployment.
pub fn provider(md: &ModelDeployment) -> Option<String> {
    md.status
        .as_ref()
        .and_then(|s| s.provider.as_ref())
        .and_then(|p| p.name.clone())
}

/// The status message of a deployment.
pub fn message(md: &ModelDeployment) -> String {
    md.status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

/// Waits until the deployment is gone.
pub async fn wait_gone(client: &Client, ns: &str, name: &str, secs: u64) {
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), ns);
    wait_until(
        &format!("{name} to be deleted"),
        Duration::from_secs(secs),
        || {
            let api = api.clone();
            async move {
                let md = api
                    .get_opt(name)
                    .await
                    .map_err(|e| Error::State(e.to_string()))?;
                let seen = md
                    .as_ref()
                    .map(|m| format!("finalizers {:?}", m.finalizers()))
                    .unwrap_or_default();
                Ok((md.is_none().then_some(()), seen))
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Objects of a kind in a namespace.
pub async fn list(
    client: &Client,
    ns: &str,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Vec<DynamicObject> {
    let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    api.list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}
