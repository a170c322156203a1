//! The chart's life cycle on the local control plane, with the commands of docs/install.md:
//! install, apply the CRDs server-side before an upgrade, `helm upgrade --reuse-values` (a
//! changed environment rolls the server's pod), `helm uninstall` (every object goes, the CRDs
//! stay). A test binary of its own, so uninstalling disturbs no other test.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kubeairunway_testenv::{Binaries, User, shared, wait_until};
use support::{Helm, NAMESPACE, RELEASE};

fn kubeconfig_flag() -> String {
    format!(
        "--kubeconfig={}",
        shared().info().kubeconfig_path().display()
    )
}

/// The names of the running server pods.
async fn server_pods(pods: &Api<Pod>) -> Vec<String> {
    let selector =
        format!("app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=server");
    pods.list(&ListParams::default().labels(&selector))
        .await
        .map(|l| {
            l.items
                .iter()
                .filter(|p| {
                    p.metadata.deletion_timestamp.is_none()
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
                .map(ResourceExt::name_any)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn install_upgrade_and_uninstall_as_the_docs_say() {
    let cp = shared();
    let helm = Helm::new();
    let chart = support::chart().display().to_string();
    let kc = kubeconfig_flag();
    let port = format!(
        "server.port={}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port")
    );
    let out = helm.run(&[
        "install",
        RELEASE,
        &chart,
        "-n",
        NAMESPACE,
        "--create-namespace",
        &kc,
        "--wait",
        "--timeout=3m",
        "--set",
        &port,
    ]);
    assert!(out.ok, "helm install: {}{}", out.stdout, out.stderr);
    let client = cp.client(User::Admin).await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let before = server_pods(&pods).await;
    assert_eq!(before.len(), 1, "{before:?}");

    // Upgrade: CRDs first (server-side, taking them over from Helm's field manager), then the
    // release with a changed value.
    let kubectl = Binaries::from_env().tool("kubectl").expect("kubectl");
    let crds = support::chart().join("crds");
    let applied = std::process::Command::new(&kubectl)
        .arg(&kc)
        .args(["apply", "--server-side", "--force-conflicts", "-f"])
        .arg(&crds)
        .output()
        .expect("kubectl runs");
    assert!(
        applied.status.success(),
        "kubectl apply of the chart's CRDs: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let out = helm.run(&[
        "upgrade",
        RELEASE,
        &chart,
        "-n",
        NAMESPACE,
        &kc,
        "--reuse-values",
        "--wait",
        "--timeout=3m",
        "--set",
        "server.logLevel=debug",
    ]);
    assert!(out.ok, "helm upgrade: {}{}", out.stdout, out.stderr);
    let env: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    let data = env
        .get("kubeairunway-server-env")
        .await
        .expect("env ConfigMap")
        .data
        .unwrap_or_default();
    assert_eq!(data.get("LOG_LEVEL").map(String::as_str), Some("debug"));
    assert_eq!(
        data.get("PORT").map(String::as_str),
        port.strip_prefix("server.port="),
        "--reuse-values keeps the values of the install"
    );
    let rolled = wait_until("the server pod to roll", Duration::from_secs(60), || {
        let (pods, before) = (pods.clone(), before.clone());
        async move {
            let now = server_pods(&pods).await;
            let fresh = now.len() == 1 && !before.contains(&now[0]);
            Ok((fresh.then_some(()), format!("{now:?}")))
        }
    })
    .await;
    rolled.expect("a changed environment rolls the server");

    // Uninstall: every object of the release goes; the CRDs (from crds/) stay.
    let out = helm.run(&["uninstall", RELEASE, "-n", NAMESPACE, &kc, "--wait"]);
    assert!(out.ok, "helm uninstall: {}{}", out.stdout, out.stderr);
    let roles: Api<ClusterRole> = Api::all(client.clone());
    for role in [
        "kubeairunway-server",
        "kubeairunway-controller",
        "kubeairunway-view",
        "kubeairunway-edit",
    ] {
        assert!(
            roles.get_opt(role).await.expect("get").is_none(),
            "ClusterRole {role} survived helm uninstall"
        );
    }
    let gone = wait_until("the release's pods to go", Duration::from_secs(60), || {
        let pods = pods.clone();
        async move {
            let left = pods
                .list(
                    &ListParams::default().labels(&format!("app.kubernetes.io/instance={RELEASE}")),
                )
                .await
                .map(|l| l.items.len())
                .unwrap_or(usize::MAX);
            Ok(((left == 0).then_some(()), format!("{left} pods")))
        }
    })
    .await;
    gone.expect("pods removed");
    let crd_api: Api<CustomResourceDefinition> = Api::all(client);
    for crd in kubeairunway_api::crds::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        assert!(
            crd_api.get_opt(&name).await.expect("get").is_some(),
            "CRD {name} is kept by helm uninstall"
        );
    }
}
