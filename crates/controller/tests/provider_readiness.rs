//! A provider's `ready` follows its operator's CRD at once: installing the upstream CRD makes it
//! ready, and removing it makes it not ready, well within one heartbeat period (set to ten
//! minutes here, so only the CRD watch can explain the change; the waits allow a minute for a
//! busy machine, and take about a second when it is not).

mod support;

use std::time::Duration;

use kube::api::Api;
use kubeairunway_api::InferenceProviderConfig;
use kubeairunway_controller::Settings;
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
        ..test_settings()
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
}
