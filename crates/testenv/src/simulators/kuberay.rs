//! SIMULATED KubeRay operator (`ray.io/v1` `RayService`), for tests and the demo.
//!
//! From `spec.rayClusterConfig` it creates one head pod `<name>-head` from
//! `headGroupSpec.template.spec`, and for each `workerGroupSpecs` entry `replicas` (else
//! `minReplicas`, else 1) pods `<name>-<groupName>-<i>` from its `template.spec`. Pods get the
//! template's containers (name, image, command, args, env, ports and `resources` as written, so
//! a worker's `nvidia.com/gpu` limit reaches the scheduler), `nodeSelector` and `tolerations`,
//! and the labels and annotations of the template's `metadata`.
//! The head needs no GPU unless its template asks for one.
//!
//! It writes a `RayServiceReady` condition (True when every pod is Ready) and, for each
//! application named in `spec.serveConfigV2` (a YAML string), `status.activeServiceStatus.
//! applicationStatuses.<app>.{status, message}` with status `RUNNING` when every pod is Ready and
//! `DEPLOYING` otherwise (the message then carries the scheduler's if a pod cannot be placed; the
//! real KubeRay does not fail a RayService for that either).

use kube::api::DynamicObject;
use serde_json::{Map, Value, json};

use super::field;
use super::pods::{
    Observed, PlannedPod, condition, container_subset, count, dns_name, pod_spec, template_metadata,
};

/// Component name of the head pod.
const HEAD: &str = "head";

/// The pods of a RayService named `name`.
pub(super) fn plan(ray: &DynamicObject, name: &str) -> Vec<PlannedPod> {
    let head = field(ray, "/spec/rayClusterConfig/headGroupSpec/template");
    let mut pods = vec![PlannedPod {
        name: dns_name(&[name, HEAD]),
        component: HEAD.to_string(),
        metadata: template_metadata(head.and_then(|t| t.get("metadata"))),
        spec: spec_from_template(head.and_then(|t| t.get("spec")), "ray-head"),
    }];
    let groups = field(ray, "/spec/rayClusterConfig/workerGroupSpecs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, group) in groups.iter().enumerate() {
        let group_name = group
            .get("groupName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("workers-{i}"));
        let replicas = count(group.get("replicas"))
            .or_else(|| count(group.get("minReplicas")))
            .unwrap_or(1);
        let metadata = template_metadata(group.pointer("/template/metadata"));
        let spec = spec_from_template(group.pointer("/template/spec"), "ray-worker");
        pods.extend(PlannedPod::replicas(
            name,
            &group_name,
            replicas,
            &metadata,
            &spec,
        ));
    }
    pods
}

fn spec_from_template(template: Option<&Value>, default_name: &str) -> Value {
    let mut containers: Vec<Value> = template
        .and_then(|t| t.get("containers"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| container_subset(c, default_name))
                .collect()
        })
        .unwrap_or_default();
    if containers.is_empty() {
        containers.push(container_subset(&json!({}), default_name));
    }
    pod_spec(
        containers,
        template.and_then(|t| t.get("nodeSelector")),
        template.and_then(|t| t.get("tolerations")),
    )
}

/// Names of the Serve applications in `spec.serveConfigV2` (a YAML document with
/// `applications: [{name: …}]`); empty when there is none or it does not parse.
fn applications(ray: &DynamicObject) -> Vec<String> {
    let Some(yaml) = field(ray, "/spec/serveConfigV2").and_then(Value::as_str) else {
        return Vec::new();
    };
    let Ok(config) = serde_saphyr::from_str::<Value>(yaml) else {
        return Vec::new();
    };
    config
        .get("applications")
        .and_then(Value::as_array)
        .map(|apps| {
            apps.iter()
                .filter_map(|a| a.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The RayService status for the observed pods.
pub(super) fn status(ray: &DynamicObject, observed: &Observed, now: &str) -> Value {
    let total = observed.total();
    let running = observed.all_ready();
    let unschedulable = observed
        .unschedulable()
        .map(|(_, pod, message)| format!("pod {pod} cannot be scheduled: {message}"));
    let (reason, message) = match (&unschedulable, running) {
        (_, true) => (
            "ServeApplicationsRunning",
            format!("all {} Ray pods are ready", total.ready),
        ),
        (Some(message), false) => ("Unschedulable", message.clone()),
        (None, false) => (
            "Deploying",
            format!("{} of {} Ray pods are ready", total.ready, total.desired),
        ),
    };
    let ready = condition(
        ray.data.get("status"),
        "RayServiceReady",
        if running { "True" } else { "False" },
        reason,
        &message,
        ray.metadata.generation,
        now,
    );
    let apps: Map<String, Value> = applications(ray)
        .into_iter()
        .map(|app| {
            let status = if running { "RUNNING" } else { "DEPLOYING" };
            (app, json!({ "status": status, "message": message }))
        })
        .collect();
    let mut status = json!({ "conditions": [ready] });
    if !apps.is_empty() {
        status["activeServiceStatus"] = json!({ "applicationStatuses": apps });
    }
    status
}

#[cfg(test)]
mod tests {
    use super::super::pods::{ComponentState, GPU_RESOURCE};
    use super::*;

    fn ray() -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "ray.io/v1", "kind": "RayService",
            "metadata": { "name": "qwen", "namespace": "team", "generation": 1 },
            "spec": {
                "serveConfigV2": "applications:\n- name: llm\n  route_prefix: /\n  import_path: vllm_serve:deployment\n  deployments:\n  - name: VLLMDeployment\n    num_replicas: 1\n",
                "rayClusterConfig": {
                    "headGroupSpec": {
                        "rayStartParams": { "dashboard-host": "0.0.0.0" },
                        "template": { "spec": { "containers": [{
                            "name": "ray-head", "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                            "resources": { "limits": { "cpu": "4", "memory": "16Gi" } },
                        }] } },
                    },
                    "workerGroupSpecs": [{
                        "groupName": "gpu-workers", "replicas": 2, "minReplicas": 2, "maxReplicas": 2,
                        "rayStartParams": {},
                        "template": { "spec": { "containers": [{
                            "name": "ray-worker", "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                            "resources": { "limits": { "memory": "32Gi", GPU_RESOURCE: "1" } },
                        }] } },
                    }],
                },
            },
        }))
        .expect("object")
    }

    #[test]
    fn a_cpu_head_and_gpu_workers() {
        let pods = plan(&ray(), "qwen");
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["qwen-head", "qwen-gpu-workers-0", "qwen-gpu-workers-1"]
        );
        assert!(!pods[0].spec.to_string().contains(GPU_RESOURCE));
        assert_eq!(
            pods[1].spec["containers"][0]["resources"]["limits"][GPU_RESOURCE],
            "1"
        );
        assert_eq!(pods[1].component, "gpu-workers");
    }

    #[test]
    fn applications_come_from_the_serve_config() {
        assert_eq!(applications(&ray()), ["llm"]);
        let mut observed = Observed::default();
        observed.components.insert(
            HEAD.into(),
            ComponentState {
                desired: 1,
                scheduled: 1,
                ready: 1,
                unschedulable: None,
            },
        );
        let s = status(&ray(), &observed, "T");
        assert_eq!(s["conditions"][0]["type"], "RayServiceReady");
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(
            s["activeServiceStatus"]["applicationStatuses"]["llm"]["status"],
            "RUNNING"
        );
        observed.components.insert(
            "gpu-workers".into(),
            ComponentState {
                desired: 2,
                ..Default::default()
            },
        );
        let s = status(&ray(), &observed, "T");
        assert_eq!(s["conditions"][0]["status"], "False");
        assert_eq!(
            s["activeServiceStatus"]["applicationStatuses"]["llm"]["status"],
            "DEPLOYING"
        );
    }
}
