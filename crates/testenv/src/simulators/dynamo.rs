//! SIMULATED NVIDIA Dynamo operator (`nvidia.com/v1alpha1` `DynamoGraphDeployment`), for tests
//! and the demo. Works on DGDs in any namespace.
//!
//! For each entry `<svc>` of `spec.services` it creates `replicas` (default 1) pods
//! `<dgd>-<svc>-<i>` with one container `main` built from `extraPodSpec.mainContainer` (image,
//! command, args) and the service's `resources`:
//!
//! - `limits.cpu`/`limits.memory` and `requests.cpu`/`requests.memory` are copied;
//! - services with `componentType: worker` get `nvidia.com/gpu` = `resources.limits.gpu`
//!   (else `resources.requests.gpu`) as limit and request; every other component (the
//!   `frontend`) is CPU-only;
//!   (`resources.limits.gpuType` names another GPU resource, e.g. `amd.com/gpu`);
//! - `extraPodSpec.nodeSelector` and `extraPodSpec.tolerations` are honoured, and the labels
//!   and annotations of `extraPodMetadata` are put on the pods.
//!
//! It writes `status.state`, `status.message`, `status.services.<svc>.{replicas,
//! readyReplicas, availableReplicas}` and a `Ready` condition:
//!
//! | `state` | when |
//! |---|---|
//! | `failed` | a pod cannot be scheduled (the message carries the scheduler's) |
//! | `successful` | every pod is Ready |
//! | `pending` | no pod is bound to a node yet |
//! | `deploying` | otherwise |

use kube::api::DynamicObject;
use serde_json::{Map, Value, json};

use super::field;
use super::pods::{
    GPU_RESOURCE, Observed, PlannedPod, condition, container_subset, count, is_zero, pod_spec,
    quantity, template_metadata,
};

/// The pods of a DGD named `name`.
pub(super) fn plan(dgd: &DynamicObject, name: &str) -> Vec<PlannedPod> {
    let Some(services) = field(dgd, "/spec/services").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut pods = Vec::new();
    for (service, def) in services {
        let replicas = count(def.get("replicas")).unwrap_or(1);
        let worker = def.get("componentType").and_then(Value::as_str) == Some("worker");
        let main = def
            .pointer("/extraPodSpec/mainContainer")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let mut container = container_subset(&main, "main");
        if let Some(resources) = resources(def.get("resources"), worker) {
            container["resources"] = resources;
        }
        let spec = pod_spec(
            vec![container],
            def.pointer("/extraPodSpec/nodeSelector"),
            def.pointer("/extraPodSpec/tolerations"),
        );
        let metadata = template_metadata(def.get("extraPodMetadata"));
        pods.extend(PlannedPod::replicas(
            name, service, replicas, &metadata, &spec,
        ));
    }
    pods
}

/// Container resources for a DGD service's `resources` (`{limits, requests}` with `cpu`,
/// `memory` and `gpu`); `None` when it sets none.
fn resources(service: Option<&Value>, worker: bool) -> Option<Value> {
    let service = service?;
    let mut limits = Map::new();
    let mut requests = Map::new();
    for key in ["cpu", "memory"] {
        if let Some(q) = quantity(service.pointer(&format!("/limits/{key}"))) {
            limits.insert(key.into(), q.into());
        }
        if let Some(q) = quantity(service.pointer(&format!("/requests/{key}"))) {
            requests.insert(key.into(), q.into());
        }
    }
    if worker {
        let gpu = quantity(service.pointer("/limits/gpu"))
            .or_else(|| quantity(service.pointer("/requests/gpu")))
            .filter(|q| !is_zero(q));
        // `gpuType` names another GPU resource (e.g. `amd.com/gpu`); the default is NVIDIA's.
        let key = ["/limits/gpuType", "/requests/gpuType"]
            .iter()
            .find_map(|p| service.pointer(p).and_then(Value::as_str))
            .filter(|t| !t.is_empty())
            .unwrap_or(GPU_RESOURCE);
        if let Some(gpu) = gpu {
            // Extended resources need request == limit.
            limits.insert(key.into(), gpu.clone().into());
            requests.insert(key.into(), gpu.into());
        }
    }
    let mut out = Map::new();
    if !limits.is_empty() {
        out.insert("limits".into(), limits.into());
    }
    if !requests.is_empty() {
        out.insert("requests".into(), requests.into());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The DGD status for the observed pods.
pub(super) fn status(dgd: &DynamicObject, observed: &Observed, now: &str) -> Value {
    let mut services = Map::new();
    if let Some(defined) = field(dgd, "/spec/services").and_then(Value::as_object) {
        for service in defined.keys() {
            let state = observed
                .components
                .get(service)
                .cloned()
                .unwrap_or_default();
            services.insert(
                service.clone(),
                json!({
                    "replicas": state.desired,
                    "readyReplicas": state.ready,
                    "availableReplicas": state.ready,
                }),
            );
        }
    }
    let total = observed.total();
    let (state, message) = if let Some((service, pod, message)) = observed.unschedulable() {
        (
            "failed",
            format!("service {service}: pod {pod} cannot be scheduled: {message}"),
        )
    } else if observed.all_ready() {
        (
            "successful",
            format!(
                "all {} pods of {} services are ready",
                total.ready,
                services.len()
            ),
        )
    } else if total.scheduled == 0 {
        (
            "pending",
            format!("waiting for {} pods to be scheduled", total.desired),
        )
    } else {
        (
            "deploying",
            format!("{} of {} pods are ready", total.ready, total.desired),
        )
    };
    let ready = condition(
        dgd.data.get("status"),
        "Ready",
        if state == "successful" {
            "True"
        } else {
            "False"
        },
        match state {
            "successful" => "AllServicesReady",
            "failed" => "Unschedulable",
            _ => "ServicesNotReady",
        },
        &message,
        dgd.metadata.generation,
        now,
    );
    json!({
        "state": state,
        "message": message,
        "services": services,
        "conditions": [ready],
    })
}

#[cfg(test)]
mod tests {
    use super::super::pods::ComponentState;
    use super::*;

    fn dgd(worker_gpu: Value, replicas: u32) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment",
            "metadata": { "name": "llama", "namespace": "team", "generation": 1 },
            "spec": { "backendFramework": "vllm", "services": {
                "Frontend": {
                    "componentType": "frontend", "replicas": 1,
                    "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
                    "extraPodSpec": { "mainContainer": { "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1" } },
                },
                "VllmWorker": {
                    "componentType": "worker", "replicas": replicas,
                    "resources": { "limits": { "gpu": worker_gpu, "memory": "64Gi" }, "requests": { "gpu": worker_gpu } },
                    "extraPodSpec": {
                        "mainContainer": { "image": "img", "command": ["python3", "-m", "dynamo.vllm"] },
                        "nodeSelector": { "agentpool": "h100" },
                        "tolerations": [{ "key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule" }],
                    },
                },
            } },
        }))
        .expect("object")
    }

    #[test]
    fn workers_get_their_gpus_and_the_frontend_none() {
        let pods = plan(&dgd(json!("2"), 2), "llama");
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "llama-frontend-0",
                "llama-vllmworker-0",
                "llama-vllmworker-1"
            ]
        );
        let frontend = &pods[0].spec["containers"][0];
        assert_eq!(
            frontend["resources"],
            json!({ "requests": { "cpu": "2", "memory": "4Gi" } })
        );
        let worker = &pods[1].spec;
        assert_eq!(
            worker["containers"][0]["resources"],
            json!({
                "limits": { "memory": "64Gi", GPU_RESOURCE: "2" },
                "requests": { GPU_RESOURCE: "2" },
            })
        );
        assert_eq!(worker["nodeSelector"], json!({ "agentpool": "h100" }));
        assert_eq!(worker["tolerations"][0]["key"], "sku");
        assert_eq!(worker["containers"][0]["command"][2], "dynamo.vllm");
        assert!(pods[0].spec.get("tolerations").is_none());
    }

    #[test]
    fn gpu_type_and_pod_metadata_are_honoured() {
        let mut obj = dgd(json!("1"), 1);
        let worker = obj
            .data
            .pointer_mut("/spec/services/VllmWorker")
            .expect("worker");
        worker["resources"] = json!({
            "limits": { "gpu": "1", "gpuType": "amd.com/gpu" },
            "requests": { "gpu": "1", "gpuType": "amd.com/gpu" },
        });
        worker["extraPodMetadata"] = json!({ "labels": { "team": "a", "n": 1 } });
        let pods = plan(&obj, "llama");
        assert_eq!(
            pods[1].spec["containers"][0]["resources"],
            json!({ "limits": { "amd.com/gpu": "1" }, "requests": { "amd.com/gpu": "1" } })
        );
        assert_eq!(pods[1].metadata, json!({ "labels": { "team": "a" } }));
        assert_eq!(pods[0].metadata, json!({}));
        assert_ne!(pods[0].hash(), pods[1].hash());
    }

    #[test]
    fn numeric_gpu_values_are_accepted() {
        let pods = plan(&dgd(json!(1), 1), "llama");
        assert_eq!(
            pods[1].spec["containers"][0]["resources"]["limits"][GPU_RESOURCE],
            "1"
        );
    }

    #[test]
    fn state_is_failed_with_the_scheduler_message_then_successful() {
        let obj = dgd(json!("16"), 1);
        let mut observed = Observed::default();
        observed.components.insert(
            "Frontend".into(),
            ComponentState {
                desired: 1,
                scheduled: 1,
                ready: 1,
                unschedulable: None,
            },
        );
        observed.components.insert(
            "VllmWorker".into(),
            ComponentState {
                desired: 1,
                unschedulable: Some((
                    "llama-vllmworker-0".into(),
                    "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.".into(),
                )),
                ..Default::default()
            },
        );
        let s = status(&obj, &observed, "T");
        assert_eq!(s["state"], "failed");
        assert!(
            s["message"]
                .as_str()
                .is_some_and(|m| m.contains("Insufficient nvidia.com/gpu"))
        );
        assert_eq!(
            s["services"]["VllmWorker"],
            json!({ "replicas": 1, "readyReplicas": 0, "availableReplicas": 0 })
        );
        assert_eq!(s["services"]["Frontend"]["readyReplicas"], 1);

        let worker = observed.components.get_mut("VllmWorker").expect("worker");
        *worker = ComponentState {
            desired: 1,
            scheduled: 1,
            ready: 1,
            unschedulable: None,
        };
        let s = status(&obj, &observed, "T");
        assert_eq!(s["state"], "successful");
        assert_eq!(s["conditions"][0]["status"], "True");
    }
}
