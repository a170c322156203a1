//! A provider's `ready` follows its operator's CRD at once: installing the upstream CRD makes it
//! ready, and removing it makes it not ready, well within one heartbeat period (set to ten
//! minutes here, so only the CRD watch can explain the change; the waits allow a minute for a
//! busy machine, and take about a second when it is not). A removed registration stays removed
//! while the operator is absent and comes back with it.

mod support;

use std::time::Duration;

use kube::api::{Api, DeleteParams};
use kubeairunway_api::{EngineType, InferenceProviderConfig};
use kubeairunway_controller::Settings;
use kubeairunway_controller::registration;
use kubeairunway_core::providers::kaito::Kaito;
use kubeairunway_testenv::simulators::{install_upstream_crds, uninstall_upstream_crd};
use kubeairunway_testenv::wait_until;
use support::*;

/// Waits until `provider` reports `ready == want`; the message names the upstream condition.
async fn wait_ready(ipcs: &Api<InferenceProviderConfig>, provider: &str, want: bool) -> String {
    wait_until(
        &format!("{provider} to report ready={want}"),
        Duration::from_secs(60),
        || {
            let ipcs = ipcs.clone();
            async move {
                let ipc = ipcs
                    .get_opt(provider)
                    .await
                    .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                let status = ipc.and_then(|i| i.status);
                let condition = status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|cs| cs.iter().find(|c| c.type_ == "UpstreamCRDInstalled"))
                    .map(|c| c.message.clone())
                    .unwrap_or_default();
                let ready = status.as_ref().map(|s| s.ready);
                Ok((
                    (ready == Some(want)).then(|| condition.clone()),
                    format!("ready={ready:?}: {condition}"),
                ))
            }
        },
    )
    .await
    .expect("provider readiness")
}

#[tokio::test]
async fn ready_follows_the_upstream_crd_without_waiting_for_a_heartbeat() {
    let (_cp, client, _ns) = setup("readiness").await;
    install_upstream_crds(&client).await.expect("upstream CRDs");
    let settings = Settings {
        heartbeat: Duration::from_secs(600),
        progress: Default::default(),
        ..Settings::quick()
    };
    let _controller = start(&["kaito", "kuberay"], settings, false);
    let ipcs: Api<InferenceProviderConfig> = Api::all(client.clone());
    wait_ready(&ipcs, "kaito", true).await;

    // The operator is removed: its provider says so within seconds.
    uninstall_upstream_crd(&client, "workspaces.kaito.sh")
        .await
        .expect("remove the Workspace CRD");
    let message = wait_ready(&ipcs, "kaito", false).await;
    assert!(message.contains("workspaces.kaito.sh"), "{message}");
    // Another provider's CRD is untouched, and so is its readiness.
    wait_ready(&ipcs, "kuberay", true).await;

    // Installed again: ready again, once the API server has Established the CRD.
    install_upstream_crds(&client)
        .await
        .expect("upstream CRDs again");
    let message = wait_ready(&ipcs, "kaito", true).await;
    assert!(message.contains("is installed"), "{message}");

    // Removed as Settings → Runtimes → Remove CRDs removes it: the CRD, then the registration.
    uninstall_upstream_crd(&client, "workspaces.kaito.sh")
        .await
        .expect("remove the Workspace CRD again");
    wait_ready(&ipcs, "kaito", false).await;
    ipcs.delete("kaito", &DeleteParams::default())
        .await
        .expect("delete kaito's registration");
    // A heartbeat while the operator is absent leaves it removed.
    registration::heartbeat(&client, &Kaito, false)
        .await
        .expect("heartbeat of an unregistered provider");
    assert!(
        ipcs.get_opt("kaito").await.expect("read kaito").is_none(),
        "a heartbeat re-created a removed registration while its CRD is absent"
    );

    // The operator is installed again: the provider registers again, with its spec, and is ready.
    install_upstream_crds(&client)
        .await
        .expect("upstream CRDs a third time");
    wait_ready(&ipcs, "kaito", true).await;
    let engines = ipcs
        .get("kaito")
        .await
        .expect("kaito registered again")
        .spec
        .capabilities
        .and_then(|c| c.engines)
        .unwrap_or_default();
    assert!(engines.contains(&EngineType::Llamacpp), "{engines:?}");
}
