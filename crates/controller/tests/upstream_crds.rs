//! A provider whose upstream CRD is missing: it is reported on the InferenceProviderConfig and
//! on the deployments that use it, the controller keeps running, and deletions still finish —
//! also for a paused deployment.

mod support;

use std::time::Duration;

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kubeairunway_api::{DeploymentPhase, InferenceProviderConfig, ModelDeployment};
use kubeairunway_controller::Settings;
use kubeairunway_testenv::wait_until;
use serde_json::json;
use support::*;

fn on(provider: &str) -> serde_json::Value {
    json!({ "model": { "id": "a/b" }, "provider": { "name": provider }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } })
}

#[tokio::test]
async fn missing_upstream_crds_are_reported_and_never_block_deletion() {
    let (_cp, client, ns) = setup("upstream").await;
    let settings = Settings {
        heartbeat: Duration::from_secs(2),
        progress: Default::default(),
        ..Settings::quick()
    };
    let controller = start(&["kaito", "kuberay", "kubernetes"], settings, true);
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);

    // A RayService-backed deployment runs; then the RayService CRD is uninstalled under it.
    create(&client, &ns, "ray-before", on("kuberay")).await;
    wait_md(&client, &ns, "ray-before", "Running", 60, |m| {
        phase(m) == Some(DeploymentPhase::Running)
    })
    .await;
    kubeairunway_testenv::simulators::uninstall_upstream_crd(&client, "rayservices.ray.io")
        .await
        .expect("uninstall the CRD");

    // The provider says so on its InferenceProviderConfig.
    let ipcs: Api<InferenceProviderConfig> = Api::all(client.clone());
    let ipc = wait_until(
        "kuberay to report its CRD missing",
        Duration::from_secs(30),
        || {
            let ipcs = ipcs.clone();
            async move {
                let ipc = ipcs
                    .get("kuberay")
                    .await
                    .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                let missing = ipc.status.as_ref().is_some_and(|s| {
                    !s.ready
                        && s.conditions
                            .iter()
                            .flatten()
                            .any(|c| c.type_ == "UpstreamCRDInstalled" && c.status == "False")
                });
                Ok((missing.then_some(ipc), String::new()))
            }
        },
    )
    .await
    .expect("IPC condition");
    let cond = ipc
        .status
        .and_then(|s| s.conditions)
        .and_then(|cs| cs.into_iter().find(|c| c.type_ == "UpstreamCRDInstalled"))
        .expect("condition");
    assert!(
        cond.message.contains("rayservices.ray.io"),
        "{}",
        cond.message
    );

    // A new deployment on that provider is told why it cannot proceed.
    create(&client, &ns, "ray-after", on("kuberay")).await;
    let md = wait_md(&client, &ns, "ray-after", "UpstreamCRDMissing", 30, |m| {
        message(m).contains("CRD")
    })
    .await;
    assert_eq!(phase(&md), Some(DeploymentPhase::Failed));
    assert!(
        message(&md).contains("ray.io/v1 RayService"),
        "{}",
        message(&md)
    );

    // Deleting both completes although their provider's CRD is gone.
    let started = std::time::Instant::now();
    for name in ["ray-before", "ray-after"] {
        api.delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    for name in ["ray-before", "ray-after"] {
        wait_gone(&client, &ns, name, 30).await;
    }
    assert!(started.elapsed() < Duration::from_secs(30));

    // A paused deployment still deletes.
    create(&client, &ns, "paused", on("kaito")).await;
    wait_md(&client, &ns, "paused", "finalizer added", 30, |m| {
        !m.metadata.finalizers.clone().unwrap_or_default().is_empty()
    })
    .await;
    api.patch("paused", &PatchParams::default(), &Patch::Merge(&json!({ "metadata": { "annotations": { "kubeairunway.ai/reconcile-paused": "true" } } })))
        .await
        .expect("pause");
    api.delete("paused", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&client, &ns, "paused", 30).await;

    // An upstream object that never goes away: after the finalizer timeout the deletion
    // finishes anyway, with a Warning event.
    create(&client, &ns, "stuck", on("kaito")).await;
    wait_md(&client, &ns, "stuck", "Workspace created", 60, |m| {
        m.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "ResourceCreated" && c.status == "True")
            })
    })
    .await;
    let ws_gvk = kube::core::GroupVersionKind::gvk("kaito.sh", "v1beta1", "Workspace");
    let ws_ar = kube::core::ApiResource::from_gvk_with_plural(&ws_gvk, "workspaces");
    let workspaces: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &ws_ar);
    workspaces
        .patch(
            "stuck",
            &PatchParams::default(),
            &Patch::Merge(&json!({ "metadata": { "finalizers": ["test.kubeairunway.ai/hold"] } })),
        )
        .await
        .expect("hold the Workspace");
    let started = std::time::Instant::now();
    api.delete("stuck", &DeleteParams::default())
        .await
        .expect("delete");
    wait_gone(&client, &ns, "stuck", 40).await;
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "the provider waited for its object first ({:?})",
        started.elapsed()
    );
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &ns);
    let timeouts = events
        .list(&Default::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("FinalizerTimeout"))
        .count();
    assert_eq!(timeouts, 1, "a FinalizerTimeout warning is recorded");
    workspaces
        .patch(
            "stuck",
            &PatchParams::default(),
            &Patch::Merge(&json!({ "metadata": { "finalizers": null } })),
        )
        .await
        .expect("release");

    // The controller is still alive and working.
    create(&client, &ns, "still-alive", on("kubernetes")).await;
    wait_md(&client, &ns, "still-alive", "Running", 60, |m| {
        phase(m) == Some(DeploymentPhase::Running)
    })
    .await;
    controller.stop();
}
