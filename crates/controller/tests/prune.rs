//! Every provider pass prunes what the deployment owns but no longer wants: an object of the
//! provider's kinds, labelled with the deployment and owned by it, that the pass did not render
//! (left by an earlier version or another spec) is deleted, while the rendered objects and
//! labelled objects someone else owns stay.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Service};
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};
use kubeairunway_api::{DeploymentPhase, ModelDeployment};
use kubeairunway_controller::Settings;
use kubeairunway_testenv::wait_until;
use serde_json::json;
use support::*;

fn service(name: &str, deployment: &ModelDeployment, owned: bool) -> Service {
    let mut svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": name,
            "labels": { "kubeairunway.ai/deployment": deployment.name_any() },
        },
        "spec": { "ports": [{ "port": 9000 }] },
    });
    if owned {
        svc["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "name": deployment.name_any(), "uid": deployment.uid(),
            "controller": true, "blockOwnerDeletion": true,
        }]);
    }
    serde_json::from_value(svc).expect("service shape")
}

#[tokio::test]
async fn a_pass_deletes_owned_objects_no_longer_desired() {
    let (_cp, client, ns) = setup("prune").await;
    let _controller = start(&["kubernetes"], Settings::quick(), false);
    let spec = json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" },
                       "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } },
                       "scaling": { "replicas": 0 } });
    create(&client, &ns, "pruned", spec).await;
    let md = wait_md(&client, &ns, "pruned", "Running", 60, |m| {
        phase(m) == Some(DeploymentPhase::Running)
    })
    .await;

    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let pp = PostParams::default();
    services
        .create(&pp, &service("pruned-stale", &md, true))
        .await
        .expect("stale service");
    services
        .create(&pp, &service("pruned-bystander", &md, false))
        .await
        .expect("bystander service");

    // The owned Service triggers a pass of its owner, which deletes it.
    wait_until("the stale Service pruned", Duration::from_secs(30), || {
        let services = services.clone();
        async move {
            let stale = services
                .get_opt("pruned-stale")
                .await
                .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
            let gone = stale
                .as_ref()
                .is_none_or(|s| s.metadata.deletion_timestamp.is_some());
            Ok((
                gone.then_some(()),
                format!("{:?}", stale.map(|s| s.name_any())),
            ))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    let names: Vec<String> = services
        .list(&ListParams::default().labels("kubeairunway.ai/deployment=pruned"))
        .await
        .expect("services")
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    assert!(
        names.contains(&"pruned".to_string()),
        "rendered Service kept: {names:?}"
    );
    assert!(
        names.contains(&"pruned-bystander".to_string()),
        "a Service the deployment does not own is never pruned: {names:?}"
    );
    let md = wait_md(&client, &ns, "pruned", "still Running", 10, |m| {
        phase(m) == Some(DeploymentPhase::Running)
    })
    .await;
    assert_eq!(phase(&md), Some(DeploymentPhase::Running));

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    wait_until("a Pruned Event", Duration::from_secs(20), || {
        let events = events.clone();
        async move {
            let list = events
                .list(&ListParams::default())
                .await
                .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
            let found = list.items.iter().find(|e| {
                e.reason.as_deref() == Some("Pruned")
                    && e.message
                        .as_deref()
                        .is_some_and(|m| m.contains("Service pruned-stale"))
            });
            Ok((found.map(|_| ()), format!("{} events", list.items.len())))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}
