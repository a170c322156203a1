//! A provider's resource deleted by hand (a KAITO Workspace, a Dynamo DynamoGraphDeployment, a
//! KubeRay RayService) is recreated, and its ModelDeployment runs again (issue 19). The
//! built-in provider's Deployment and Service are covered with the real binary in
//! `crates/cli/tests/faults.rs`.

mod support;

use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kubeairunway_api::DeploymentPhase;
use kubeairunway_api::labels::DEPLOYMENT;
use kubeairunway_testenv::{Upstream, wait_until};
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_provider_resource_deleted_by_hand_is_recreated() {
    let (_cp, client, ns) = setup("recreate").await;
    shared_controller();
    for (provider, upstream) in [
        ("kaito", Upstream::Workspace),
        ("dynamo", Upstream::DynamoGraphDeployment),
        ("kuberay", Upstream::RayService),
    ] {
        let name = format!("by-hand-{provider}");
        create(
            &client,
            &ns,
            &name,
            json!({ "model": { "id": "a/b" }, "provider": { "name": provider }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
        )
        .await;
        wait_md(&client, &ns, &name, "Running", 90, |m| {
            phase(m) == Some(DeploymentPhase::Running)
        })
        .await;
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &ns, &upstream.api_resource());
        let mine = ListParams::default().labels(&format!("{DEPLOYMENT}={name}"));
        let before = api.list(&mine).await.expect("list").items;
        assert_eq!(
            before.len(),
            1,
            "{provider}: one {} for {name}",
            upstream.kind()
        );
        let old = before[0].uid();
        api.delete(&before[0].name_any(), &DeleteParams::background())
            .await
            .expect("delete by hand");
        let started = Instant::now();
        let took = wait_until(
            &format!("{provider}: the {} to be recreated", upstream.kind()),
            Duration::from_secs(60),
            || {
                let api = api.clone();
                let mine = mine.clone();
                let old = old.clone();
                async move {
                    let items = api
                        .list(&mine)
                        .await
                        .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?
                        .items;
                    let fresh = items.iter().any(|o| o.uid() != old);
                    Ok((
                        fresh.then(|| started.elapsed()),
                        format!("{} objects", items.len()),
                    ))
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_md(&client, &ns, &name, "Running again", 90, |m| {
            phase(m) == Some(DeploymentPhase::Running)
        })
        .await;
        assert_eq!(
            api.list(&mine).await.expect("list").items.len(),
            1,
            "{provider}: exactly one again"
        );
        eprintln!(
            "figure: a {} deleted by hand was recreated in {took:?}",
            upstream.kind()
        );
    }
}
