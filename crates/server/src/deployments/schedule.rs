//! "Will it schedule?" for a preview: the pods the deployment's replicas need, read from what
//! its provider renders (the `kubernetes` provider's Deployment pod template) or else from the
//! spec (resources, node selector, tolerations, replicas, prefill/decode workers), checked by
//! `kubeairunway_core::schedule` against the cached nodes and the pods bound to them.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kubeairunway_api::{ModelDeployment, ServingMode};
use kubeairunway_core::providers::common;
use kubeairunway_core::schedule::{self, Options, PodShape, ReplicaGroup, ScheduleAnswer};
use serde_json::Value;

use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::state::AppState;

/// The answer, or why there is none.
pub(crate) enum Outcome {
    /// The answer over the whole cluster.
    Answer(Box<ScheduleAnswer>),
    /// Why it was left out.
    Unavailable(String),
}

/// The scheduling answer for `md` (as the dry run stored it) whose provider renders `objects`.
/// Only when the node and pod caches are synced and the caller may list nodes: the answer
/// describes every node.
pub(crate) async fn answer(
    state: &AppState,
    caller: &Caller,
    md: &ModelDeployment,
    objects: &[Value],
) -> Outcome {
    let Ok(caches) = state.caches() else {
        return Outcome::Unavailable("the server has no cluster connection".into());
    };
    if !caller.can("list", Resource::NODES, None).await {
        return Outcome::Unavailable(
            "you may not list nodes, and the answer describes every node of the cluster".into(),
        );
    }
    if !caches.is_synced(Kind::Nodes) || !caches.is_synced(Kind::Pods) {
        return Outcome::Unavailable(
            "the node and pod caches are not synced with the API server yet; retry shortly".into(),
        );
    }
    let groups = groups(md, objects);
    let nodes = caches.nodes.state();
    let pods = caches.pods.state();
    let mut options = Options {
        gpu_resource: common::gpu_resource(md),
        autoscaler: None,
    };
    let answer = schedule::evaluate(&groups, &nodes, &pods, &options);
    if answer.schedulable {
        return Outcome::Answer(Box::new(answer));
    }
    // The autoscaler is asked (with the caller's client) only when a fix is needed.
    options.autoscaler = Some(crate::autoscaler::detect_with(caller, nodes.clone()).await);
    Outcome::Answer(Box::new(schedule::evaluate(
        &groups, &nodes, &pods, &options,
    )))
}

/// The replica groups: the pod template of a rendered Deployment when there is one, else the
/// spec's reading of one replica per role.
pub(crate) fn groups(md: &ModelDeployment, objects: &[Value]) -> Vec<ReplicaGroup> {
    let rendered: Vec<ReplicaGroup> = objects
        .iter()
        .filter(|o| o["kind"] == "Deployment" && o["apiVersion"] == "apps/v1")
        .filter_map(|o| serde_json::from_value::<Deployment>(o.clone()).ok())
        .filter_map(|d| {
            let spec = d.spec?;
            let pod = spec.template.spec?;
            Some(ReplicaGroup {
                role: "server".into(),
                replicas: spec.replicas.unwrap_or(1),
                pod: PodShape::from_template(&pod),
            })
        })
        .collect();
    if !rendered.is_empty() {
        return rendered;
    }
    let gpu = common::gpu_resource(md);
    match md.spec.serving.mode {
        ServingMode::Aggregated => {
            let resources = md.spec.resources.as_ref();
            vec![ReplicaGroup {
                role: "server".into(),
                replicas: common::replicas(md),
                pod: shape(
                    md,
                    &gpu,
                    common::gpu_count(md),
                    resources.and_then(|r| r.memory.as_deref()),
                    resources.and_then(|r| r.cpu.as_deref()),
                ),
            }]
        }
        ServingMode::Disaggregated => [
            ("prefill", &md.spec.scaling.prefill),
            ("decode", &md.spec.scaling.decode),
        ]
        .into_iter()
        .filter_map(|(role, component)| {
            let c = component.as_ref()?;
            Some(ReplicaGroup {
                role: role.into(),
                replicas: c.replicas.max(0),
                pod: shape(
                    md,
                    &gpu,
                    c.gpu.as_ref().map_or(0, |g| g.count),
                    c.memory.as_deref(),
                    None,
                ),
            })
        })
        .collect(),
    }
}

/// One replica's pod as the spec describes it: GPUs and memory requested, CPU if given, the
/// spec's node selector and tolerations.
fn shape(
    md: &ModelDeployment,
    gpu: &str,
    gpus: i32,
    memory: Option<&str>,
    cpu: Option<&str>,
) -> PodShape {
    let mut requests = std::collections::BTreeMap::new();
    if gpus > 0 {
        requests.insert(gpu.to_string(), Quantity(gpus.to_string()));
    }
    if let Some(m) = memory {
        requests.insert("memory".into(), Quantity(m.into()));
    }
    if let Some(c) = cpu {
        requests.insert("cpu".into(), Quantity(c.into()));
    }
    let spec = PodSpec {
        containers: vec![Container {
            name: "server".into(),
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        }],
        node_selector: common::node_selector(md),
        tolerations: common::tolerations(md),
        ..PodSpec::default()
    };
    PodShape::from_template(&spec)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn md(spec: Value) -> ModelDeployment {
        serde_json::from_value(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "m", "namespace": "ns" }, "spec": spec,
        }))
        .expect("md")
    }

    #[test]
    fn a_rendered_deployment_gives_its_template_and_replicas() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "m" },
            "spec": { "replicas": 3, "selector": {}, "template": { "spec": {
                "nodeSelector": { "pool": "gpu" },
                "containers": [{ "name": "server", "resources": { "limits": { "nvidia.com/gpu": "2" } } }],
            } } },
        });
        let service = json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "m" } });
        let groups = groups(
            &md(json!({ "model": { "id": "a/b" } })),
            &[deployment, service],
        );
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].replicas, 3);
        assert_eq!(
            groups[0].pod.request("nvidia.com/gpu"),
            2,
            "requests default to limits"
        );
        assert_eq!(
            groups[0].pod.node_selector.get("pool").map(String::as_str),
            Some("gpu")
        );
    }

    #[test]
    fn without_one_the_spec_describes_each_role() {
        let aggregated = md(json!({
            "model": { "id": "a/b" }, "scaling": { "replicas": 2 },
            "resources": { "gpu": { "count": 4, "type": "amd.com/gpu" }, "memory": "32Gi", "cpu": "8" },
            "nodeSelector": { "pool": "gpu" },
            "tolerations": [{ "key": "gpu", "operator": "Exists" }],
        }));
        let g = groups(&aggregated, &[]);
        assert_eq!(
            (g.len(), g[0].role.as_str(), g[0].replicas),
            (1, "server", 2)
        );
        assert_eq!(g[0].pod.request("amd.com/gpu"), 4);
        assert_eq!(g[0].pod.request("memory"), 32 << 30);
        assert_eq!(g[0].pod.request("cpu"), 8000);
        assert!(
            g[0].pod
                .tolerations
                .iter()
                .any(|t| t.key.as_deref() == Some("gpu"))
        );

        let defaulted = groups(&md(json!({ "model": { "id": "a/b" } })), &[]);
        assert_eq!(
            defaulted[0].pod.request("nvidia.com/gpu"),
            1,
            "no resources: one GPU"
        );

        let disaggregated = md(json!({
            "model": { "id": "a/b" }, "serving": { "mode": "disaggregated" },
            "scaling": {
                "prefill": { "replicas": 1, "gpu": { "count": 2 }, "memory": "16Gi" },
                "decode": { "replicas": 3, "gpu": { "count": 1 } },
            },
        }));
        let g = groups(&disaggregated, &[]);
        let roles: Vec<_> = g
            .iter()
            .map(|g| (g.role.as_str(), g.replicas, g.pod.request("nvidia.com/gpu")))
            .collect();
        assert_eq!(roles, [("prefill", 1, 2), ("decode", 3, 1)]);
    }
}
