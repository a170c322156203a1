//! Lifecycle on the real control plane, in one sequence because each step owns the controller:
//! a restart mid-reconcile creates no duplicates, an edit to a provider object is reverted once,
//! fields owned by others are left alone, and an idle controller issues no writes for 60 s.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use kubeairunway_api::{DeploymentPhase, ModelDeployment};
use kubeairunway_controller::Settings;
use serde_json::json;
use support::*;

fn spec() -> serde_json::Value {
    json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kubernetes" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } })
}

async fn counts(client: &Client, ns: &str) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let per_owner = |names: Vec<String>| {
        let mut m = BTreeMap::new();
        for n in names {
            *m.entry(n).or_insert(0) += 1;
        }
        m
    };
    let label = ListParams::default().labels("kubeairunway.ai/deployment");
    let deps: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let svcs: Api<Service> = Api::namespaced(client.clone(), ns);
    let d = deps
        .list(&label)
        .await
        .expect("deployments")
        .items
        .iter()
        .filter_map(|d| d.labels().get("kubeairunway.ai/deployment").cloned())
        .collect();
    let s = svcs
        .list(&label)
        .await
        .expect("services")
        .items
        .iter()
        .filter_map(|s| s.labels().get("kubeairunway.ai/deployment").cloned())
        .collect();
    (per_owner(d), per_owner(s))
}

#[tokio::test]
async fn restart_drift_and_idle_writes() {
    let (_cp, client, ns) = setup("lifecycle").await;

    // 1. Restart in the middle of reconciling: stop the controller right after creating work.
    let first = start(&["kubernetes"], Settings::quick(), false);
    let names: Vec<String> = (0..6).map(|i| format!("restart-{i}")).collect();
    for n in &names {
        create(&client, &ns, n, spec()).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.stop();
    let controller = start(&["kubernetes"], Settings::quick(), false);
    for n in &names {
        let md = wait_md(&client, &ns, n, "Running after the restart", 60, |m| {
            phase(m) == Some(DeploymentPhase::Running)
        })
        .await;
        let fins: Vec<&String> = md
            .finalizers()
            .iter()
            .filter(|f| f.as_str() == "kubeairunway.ai/kubernetes-provider")
            .collect();
        assert_eq!(
            fins.len(),
            1,
            "{n}: one finalizer, not duplicated: {:?}",
            md.finalizers()
        );
    }
    let (deps, svcs) = counts(&client, &ns).await;
    for n in &names {
        assert_eq!(
            deps.get(n),
            Some(&1),
            "{n}: exactly one Deployment: {deps:?}"
        );
        assert_eq!(svcs.get(n), Some(&1), "{n}: exactly one Service: {svcs:?}");
    }
    assert_eq!(deps.len(), names.len());

    // 2. Drift: change a field the provider owns; it is put back once and then left alone.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let before = deployments.get("restart-0").await.expect("deployment");
    let generation = before.metadata.generation.unwrap_or_default();
    let patch = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "server", "image": "example.invalid/hijacked:1" }] } } } });
    deployments
        .patch(
            "restart-0",
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .expect("edit");
    // Someone else's label is not ours to remove.
    deployments
        .patch(
            "restart-0",
            &PatchParams::default(),
            &Patch::Merge(&json!({ "metadata": { "labels": { "team": "ops" } } })),
        )
        .await
        .expect("label");
    let reverted = kubeairunway_testenv::wait_until(
        "the image edit to be reverted",
        Duration::from_secs(30),
        || {
            let deployments = deployments.clone();
            async move {
                let d = deployments
                    .get("restart-0")
                    .await
                    .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                let image = d
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .map(|p| p.containers[0].image.clone().unwrap_or_default())
                    .unwrap_or_default();
                Ok(((image == "vllm/vllm-openai:v0.11.0").then_some(d), image))
            }
        },
    )
    .await
    .expect("the provider restores its field");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = deployments.get("restart-0").await.expect("deployment");
    assert_eq!(
        settled.metadata.generation,
        Some(generation + 2),
        "one edit, one revert, nothing more"
    );
    assert_eq!(settled.metadata.generation, reverted.metadata.generation);
    assert_eq!(
        settled.labels().get("team").map(String::as_str),
        Some("ops"),
        "fields owned by others are kept"
    );

    // 3. Idle: over 60 s the controller writes nothing (ModelDeployments, Deployments, Services).
    let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let md_writes = count_changes(mds, Duration::from_secs(60));
    let dep_writes = count_changes(deployments.clone(), Duration::from_secs(60));
    let svc_writes = count_changes(services, Duration::from_secs(60));
    let (m, d, s) = tokio::join!(md_writes, dep_writes, svc_writes);
    assert_eq!(
        (m, d, s),
        (0, 0, 0),
        "writes while idle: ModelDeployments {m}, Deployments {d}, Services {s}"
    );
    controller.stop();
}

/// Counts modifications (resourceVersion changes) of objects during `window`.
async fn count_changes<K>(api: Api<K>, window: Duration) -> usize
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for obj in api.list(&Default::default()).await.expect("list").items {
        seen.insert(obj.name_any(), obj.resource_version().unwrap_or_default());
    }
    let mut changes = 0;
    let stream = watcher(api, watcher::Config::default()).boxed();
    let deadline = tokio::time::sleep(window);
    tokio::pin!(deadline);
    let mut stream = stream;
    loop {
        tokio::select! {
            () = &mut deadline => break,
            event = stream.next() => match event {
                Some(Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj))) => {
                    let rv = obj.resource_version().unwrap_or_default();
                    let previous = seen.insert(obj.name_any(), rv.clone());
                    if previous.is_some_and(|p| p != rv) {
                        changes += 1;
                    }
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    changes
}
