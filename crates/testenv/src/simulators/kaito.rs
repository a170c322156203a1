//! SIMULATED KAITO workspace operator (`kaito.sh/v1beta1` `Workspace`), for tests and the demo.
//!
//! A Workspace has no `spec`; the simulation reads its root-level fields:
//!
//! | Field | Effect |
//! |---|---|
//! | `resource.count` | number of pods `<workspace>-<i>` (default 1) |
//! | `resource.labelSelector.matchLabels` | the pods' `nodeSelector` |
//! | `inference.preset` | one container `model` with 1 `nvidia.com/gpu` (KAITO's vLLM presets run on GPUs) |
//! | `inference.template.spec` | its containers (name, image, command, args, env, ports, resources), `nodeSelector` and `tolerations`; no GPU is added (llama.cpp on CPU) |
//! | `inference.template.metadata` | labels and annotations of the pods |
//!
//! It writes `status.conditions` (by type) and `status.workerNodes`:
//!
//! | Condition | True when | Otherwise |
//! |---|---|---|
//! | `ResourceReady` | every pod is bound to a node | False: `Unschedulable` with the scheduler's message, or `ResourcesPending` |
//! | `InferenceReady` | every pod is Ready | False: `InferencePodsNotReady` |
//! | `WorkspaceSucceeded` | every pod is Ready | False: `Unschedulable` with the scheduler's message if a pod cannot be placed; else Unknown: `Deploying` |
//!
//! An InferenceSet (`kaito.sh/v1alpha1`) is simulated as the Workspaces it would make, without
//! the Workspace objects: `spec.replicas` (default 1) pods `<set>-<i>` planned from
//! `spec.labelSelector.matchLabels` and `spec.template.inference` exactly as above. It writes
//! `status.replicas`, `status.readyReplicas` (pods Ready) and the condition `InferenceSetReady`
//! (True: `inferencesetReady` when every pod is Ready; else False, with the scheduler's message
//! when a pod cannot be placed).

use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::field;
use super::pods::{
    GPU_RESOURCE, Observed, PlannedPod, condition, container_subset, count, dns_name, pod_spec,
    template_metadata,
};

/// Component name of the workspace's pods.
const COMPONENT: &str = "inference";

/// The pods of a Workspace named `name`.
pub(super) fn plan(ws: &DynamicObject, name: &str) -> Vec<PlannedPod> {
    plan_at(
        ws,
        name,
        "/resource/count",
        "/resource/labelSelector",
        "/inference",
    )
}

/// The pods of an InferenceSet named `name`: those of its Workspaces.
pub(super) fn plan_set(set: &DynamicObject, name: &str) -> Vec<PlannedPod> {
    plan_at(
        set,
        name,
        "/spec/replicas",
        "/spec/labelSelector",
        "/spec/template/inference",
    )
}

/// The pods of an object whose replica count, label selector and `inference` are at these
/// pointers.
fn plan_at(
    ws: &DynamicObject,
    name: &str,
    count_at: &str,
    selector_at: &str,
    inference_at: &str,
) -> Vec<PlannedPod> {
    let replicas = count(field(ws, count_at)).unwrap_or(1);
    let mut node_selector = field(ws, &format!("{selector_at}/matchLabels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let metadata = template_metadata(field(ws, &format!("{inference_at}/template/metadata")));
    let spec = match field(ws, &format!("{inference_at}/template/spec")) {
        Some(template) => {
            let mut containers: Vec<Value> = template
                .get("containers")
                .and_then(Value::as_array)
                .map(|cs| cs.iter().map(|c| container_subset(c, "model")).collect())
                .unwrap_or_default();
            if containers.is_empty() {
                containers.push(container_subset(&json!({}), "model"));
            }
            // The template's own node selector, with the workspace's label selector on top.
            if let Some(own) = template.get("nodeSelector").and_then(Value::as_object) {
                for (k, v) in own {
                    node_selector.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            pod_spec(
                containers,
                Some(&Value::Object(node_selector)),
                template.get("tolerations"),
            )
        }
        None => {
            let preset = field(ws, &format!("{inference_at}/preset/name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let container = json!({
                "name": "model",
                "image": super::pods::SIMULATED_IMAGE,
                "env": [{ "name": "KAITO_PRESET", "value": preset }],
                "ports": [{ "containerPort": 5000 }],
                "resources": {
                    "limits": { GPU_RESOURCE: "1" },
                    "requests": { GPU_RESOURCE: "1" },
                },
            });
            pod_spec(vec![container], Some(&Value::Object(node_selector)), None)
        }
    };
    (0..replicas)
        .map(|i| PlannedPod {
            name: dns_name(&[name, &i.to_string()]),
            component: COMPONENT.to_string(),
            metadata: metadata.clone(),
            spec: spec.clone(),
        })
        .collect()
}

/// The Workspace status for the observed pods.
pub(super) fn status(ws: &DynamicObject, observed: &Observed, now: &str) -> Value {
    let previous = ws.data.get("status");
    let generation = ws.metadata.generation;
    let total = observed.total();
    let all_ready = observed.all_ready();
    let unschedulable = observed
        .unschedulable()
        .map(|(_, pod, message)| format!("pod {pod} cannot be scheduled: {message}"));
    let cond = |type_: &str, status: &str, reason: &str, message: &str| {
        condition(previous, type_, status, reason, message, generation, now)
    };

    let resource_ready = match &unschedulable {
        Some(message) => cond("ResourceReady", "False", "Unschedulable", message),
        None if total.scheduled == total.desired => cond(
            "ResourceReady",
            "True",
            "ResourcesReady",
            &format!(
                "{} of {} pods are bound to nodes",
                total.scheduled, total.desired
            ),
        ),
        None => cond(
            "ResourceReady",
            "False",
            "ResourcesPending",
            &format!(
                "{} of {} pods are bound to nodes",
                total.scheduled, total.desired
            ),
        ),
    };
    let ready_message = format!(
        "{} of {} inference pods are ready",
        total.ready, total.desired
    );
    let inference_ready = if all_ready {
        cond("InferenceReady", "True", "InferenceReady", &ready_message)
    } else {
        cond(
            "InferenceReady",
            "False",
            "InferencePodsNotReady",
            &ready_message,
        )
    };
    let succeeded = match (&unschedulable, all_ready) {
        (_, true) => cond(
            "WorkspaceSucceeded",
            "True",
            "WorkspaceSucceeded",
            "workspace is ready",
        ),
        (Some(message), false) => cond("WorkspaceSucceeded", "False", "Unschedulable", message),
        (None, false) => cond("WorkspaceSucceeded", "Unknown", "Deploying", &ready_message),
    };
    json!({
        "conditions": [resource_ready, inference_ready, succeeded],
        "workerNodes": observed.nodes,
    })
}

/// The InferenceSet status for the observed pods.
pub(super) fn status_set(set: &DynamicObject, observed: &Observed, now: &str) -> Value {
    let previous = set.data.get("status");
    let total = observed.total();
    let unschedulable = observed
        .unschedulable()
        .map(|(_, pod, message)| format!("pod {pod} cannot be scheduled: {message}"));
    let ready = if observed.all_ready() {
        condition(
            previous,
            "InferenceSetReady",
            "True",
            "inferencesetReady",
            "inferenceset is ready",
            set.metadata.generation,
            now,
        )
    } else {
        let message = unschedulable.unwrap_or_else(|| {
            format!("{} of {} workspaces are ready", total.ready, total.desired)
        });
        condition(
            previous,
            "InferenceSetReady",
            "False",
            "inferencesetNotReady",
            &message,
            set.metadata.generation,
            now,
        )
    };
    json!({
        "replicas": total.desired,
        "readyReplicas": total.ready,
        "conditions": [ready],
    })
}

#[cfg(test)]
mod tests {
    use super::super::pods::ComponentState;
    use super::*;

    fn workspace(body: Value) -> DynamicObject {
        let mut obj = json!({
            "apiVersion": "kaito.sh/v1beta1", "kind": "Workspace",
            "metadata": { "name": "phi", "namespace": "ns", "generation": 1 },
        });
        if let (Some(o), Some(b)) = (obj.as_object_mut(), body.as_object()) {
            o.extend(b.clone());
        }
        serde_json::from_value(obj).expect("object")
    }

    #[test]
    fn a_preset_workspace_gets_count_gpu_pods_on_the_selected_nodes() {
        let ws = workspace(json!({
            "resource": { "count": 2, "labelSelector": { "matchLabels": { "kubernetes.io/os": "linux" } } },
            "inference": { "preset": { "name": "microsoft/Phi-4" } },
        }));
        let pods = plan(&ws, "phi");
        assert_eq!(
            pods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["phi-0", "phi-1"]
        );
        let spec = &pods[0].spec;
        assert_eq!(spec["nodeSelector"], json!({ "kubernetes.io/os": "linux" }));
        assert_eq!(
            spec["containers"][0]["resources"]["limits"][GPU_RESOURCE],
            "1"
        );
        assert!(spec.get("tolerations").is_none());
    }

    #[test]
    fn a_template_workspace_keeps_its_container_resources_and_gets_no_gpu() {
        let ws = workspace(json!({
            "resource": { "count": 1 },
            "inference": { "template": {
                "metadata": { "labels": { "kubeairunway.ai/deployment": "phi", "team": "a" } },
                "spec": { "containers": [{
                "name": "model", "image": "ghcr.io/ggml-org/llama.cpp:server",
                "args": ["huggingface://x"], "volumeMounts": [{ "name": "v", "mountPath": "/v" }],
                "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
            }] } } },
        }));
        let pods = plan(&ws, "phi");
        assert_eq!(pods[0].metadata["labels"]["team"], "a");
        assert_eq!(pods.len(), 1);
        let c = &pods[0].spec["containers"][0];
        assert_eq!(c["image"], "ghcr.io/ggml-org/llama.cpp:server");
        assert_eq!(
            c["resources"],
            json!({ "requests": { "cpu": "2", "memory": "4Gi" } })
        );
        assert!(c.get("volumeMounts").is_none());
        assert!(!pods[0].spec.to_string().contains(GPU_RESOURCE));
    }

    #[test]
    fn an_inference_set_gets_the_pods_of_its_workspaces() {
        let set: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kaito.sh/v1alpha1", "kind": "InferenceSet",
            "metadata": { "name": "phi", "namespace": "ns", "generation": 1 },
            "spec": { "replicas": 2, "labelSelector": { "matchLabels": { "pool": "a" } },
                      "template": { "inference": { "preset": { "name": "microsoft/Phi-4" } } } },
        }))
        .expect("object");
        let pods = plan_set(&set, "phi");
        assert_eq!(pods.len(), 2);
        assert_eq!(pods[1].name, "phi-1");
        assert_eq!(pods[0].spec["nodeSelector"], json!({ "pool": "a" }));
        assert_eq!(
            pods[0].spec["containers"][0]["resources"]["limits"][GPU_RESOURCE],
            "1"
        );
        let mut observed = Observed::default();
        observed.components.insert(
            COMPONENT.into(),
            ComponentState {
                desired: 2,
                scheduled: 2,
                ready: 1,
                unschedulable: None,
            },
        );
        let s = status_set(&set, &observed, "T0");
        assert_eq!(
            (s["replicas"].clone(), s["readyReplicas"].clone()),
            (json!(2), json!(1))
        );
        assert_eq!(s["conditions"][0]["status"], "False");
        observed
            .components
            .get_mut(COMPONENT)
            .expect("component")
            .ready = 2;
        let s = status_set(&set, &observed, "T1");
        assert_eq!(s["conditions"][0]["type"], "InferenceSetReady");
        assert_eq!(s["conditions"][0]["status"], "True");
    }

    #[test]
    fn status_follows_the_pods() {
        let ws = workspace(json!({ "resource": { "count": 1 } }));
        let mut observed = Observed::default();
        observed.components.insert(
            COMPONENT.into(),
            ComponentState {
                desired: 1,
                ..Default::default()
            },
        );
        let s = status(&ws, &observed, "T0");
        assert_eq!(s["conditions"][0]["status"], "False");
        assert_eq!(s["conditions"][2]["status"], "Unknown");

        let state = observed.components.get_mut(COMPONENT).expect("component");
        state.unschedulable = Some(("phi-0".into(), "0/7 nodes are available".into()));
        let s = status(&ws, &observed, "T1");
        assert_eq!(s["conditions"][2]["status"], "False");
        assert_eq!(s["conditions"][2]["reason"], "Unschedulable");
        assert!(
            s["conditions"][2]["message"]
                .as_str()
                .is_some_and(|m| m.contains("0/7 nodes are available"))
        );

        let state = observed.components.get_mut(COMPONENT).expect("component");
        *state = ComponentState {
            desired: 1,
            scheduled: 1,
            ready: 1,
            unschedulable: None,
        };
        observed.nodes.insert("kwok-t4-0".into());
        let s = status(&ws, &observed, "T2");
        for i in 0..3 {
            assert_eq!(s["conditions"][i]["status"], "True", "{s}");
        }
        assert_eq!(s["workerNodes"], json!(["kwok-t4-0"]));
    }
}
