//! What the three simulated operators share: the pods they plan for an upstream object, creating
//! and deleting those pods, and reading back what the real scheduler and KWOK made of them.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Map, Value, json};

use super::Upstream;
use crate::{Error, Result};

/// Label naming the simulation that owns a pod (`kaito`, `dynamo`, `kuberay`).
pub const LABEL_SIMULATOR: &str = "sim.kubeairunway.ai/simulator";
/// Label carrying the upstream object's name (made a valid label value).
pub const LABEL_OWNER: &str = "sim.kubeairunway.ai/owner";
/// Label naming the component of the upstream object the pod belongs to.
pub const LABEL_COMPONENT: &str = "sim.kubeairunway.ai/component";
/// Annotation with a hash of the pod template the simulation planned, to notice changes.
pub const ANNOTATION_SPEC_HASH: &str = "sim.kubeairunway.ai/spec-hash";
/// The product's label naming the ModelDeployment; copied from the upstream object to its pods.
pub const LABEL_DEPLOYMENT: &str = "kubeairunway.ai/deployment";
/// The extended resource the simulated GPU nodes advertise.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// Image of simulated containers when the upstream object names none. KWOK never pulls it.
pub const SIMULATED_IMAGE: &str = "simulated.kubeairunway.ai/upstream-operator:sim";

/// Upper bound on the pods one upstream object may ask for, so a typo cannot flood the cluster.
pub(crate) const MAX_PODS_PER_OBJECT: usize = 64;

/// One pod a simulated operator wants for an upstream object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedPod {
    /// Pod name, derived from the upstream object, the component and an index.
    pub name: String,
    /// The component: a Dynamo service, a Ray group (or `head`), `inference` for KAITO.
    pub component: String,
    /// Pod metadata from the upstream object's pod template: `{labels, annotations}` (either
    /// may be absent). The simulation's own labels are added on top.
    pub metadata: Value,
    /// The pod spec (JSON of a `PodSpec`).
    pub spec: Value,
}

impl PlannedPod {
    /// `count` pods `<owner>-<component>-<i>` sharing one template.
    pub fn replicas(
        owner: &str,
        component: &str,
        count: usize,
        metadata: &Value,
        spec: &Value,
    ) -> Vec<Self> {
        (0..count)
            .map(|i| PlannedPod {
                name: dns_name(&[owner, component, &i.to_string()]),
                component: component.to_string(),
                metadata: metadata.clone(),
                spec: spec.clone(),
            })
            .collect()
    }

    /// Hash of what the upstream object asked for (template metadata and spec), stored on the
    /// pod to notice when the object changes it.
    pub fn hash(&self) -> String {
        let template = json!({ "metadata": self.metadata, "spec": self.spec });
        format!("{:016x}", fnv1a(template.to_string().as_bytes()))
    }
}

/// The `labels` and `annotations` of an upstream pod template's `metadata` (string values only).
pub(crate) fn template_metadata(metadata: Option<&Value>) -> Value {
    let mut out = Map::new();
    for key in ["labels", "annotations"] {
        let strings: Map<String, Value> = metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.is_string())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if !strings.is_empty() {
            out.insert(key.into(), Value::Object(strings));
        }
    }
    Value::Object(out)
}

/// A pod spec around `containers` as the simulated operators create them: no service-account
/// token, short grace period, and the scheduling constraints of the upstream object. No
/// tolerations are added beyond those the upstream object asks for.
pub(crate) fn pod_spec(
    containers: Vec<Value>,
    node_selector: Option<&Value>,
    tolerations: Option<&Value>,
) -> Value {
    let mut spec = json!({
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "terminationGracePeriodSeconds": 1,
        "containers": containers,
    });
    if let Some(selector) = node_selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) {
        spec["nodeSelector"] = selector.clone();
    }
    if let Some(tolerations) = tolerations.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        spec["tolerations"] = tolerations.clone();
    }
    spec
}

/// The parts of an upstream container a pod may carry here: name, image, command, args, env,
/// ports and resources (volume mounts and probes would need matching volumes and servers).
pub(crate) fn container_subset(container: &Value, default_name: &str) -> Value {
    let mut out = Map::new();
    let name = container
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(default_name);
    out.insert("name".into(), name.into());
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .unwrap_or(SIMULATED_IMAGE);
    out.insert("image".into(), image.into());
    for key in ["command", "args", "env", "ports", "resources"] {
        if let Some(v) = container.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// A resource quantity as the API expects it: strings as they are, numbers as decimal text.
pub(crate) fn quantity(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// True when a quantity asks for nothing (`0`, `0.0`).
pub(crate) fn is_zero(quantity: &str) -> bool {
    quantity.parse::<f64>().is_ok_and(|q| q == 0.0)
}

/// A non-negative count from an integer (or integral float or numeric string) field.
pub(crate) fn count(value: Option<&Value>) -> Option<usize> {
    match value? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Joins `parts` with `-` into a valid pod name: lowercase letters, digits and `-`, at most 253
/// characters (longer names keep a prefix plus a hash of the whole).
pub(crate) fn dns_name(parts: &[&str]) -> String {
    let joined = parts.join("-");
    let mut name = String::with_capacity(joined.len());
    for c in joined.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches(|c| c == '-' || c == '.').to_string();
    shorten(name, 253)
}

/// `value` made a valid label value: at most 63 characters of `[A-Za-z0-9-_.]`, starting and
/// ending alphanumeric (longer values keep a prefix plus a hash of the whole).
pub(crate) fn label_value(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    shorten(trimmed.to_string(), 63)
}

fn shorten(value: String, max: usize) -> String {
    if value.len() <= max {
        return value;
    }
    let hash = format!("{:016x}", fnv1a(value.as_bytes()));
    let keep = max - 9;
    let prefix = value[..keep].trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{prefix}-{}", &hash[..8])
}

/// 64-bit FNV-1a: a tiny, stable hash (the std hasher may change between Rust releases).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The upstream object a set of pods belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Owner {
    /// Which upstream kind the object is.
    pub upstream: Upstream,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The upstream object's `kubeairunway.ai/deployment` label, if any.
    pub deployment: Option<String>,
}

impl Owner {
    /// The label selector of this owner's pods.
    fn selector(&self) -> String {
        format!(
            "{LABEL_SIMULATOR}={},{LABEL_OWNER}={}",
            self.upstream.simulator(),
            label_value(&self.name)
        )
    }

    /// The pod for `planned`, owned (controller reference) by this upstream object so the
    /// controller-manager's garbage collector deletes it with the object.
    fn pod(&self, planned: &PlannedPod) -> Result<Pod> {
        // The template's labels and annotations first, the simulation's own on top.
        let mut labels = planned
            .metadata
            .get("labels")
            .cloned()
            .unwrap_or_else(|| json!({}));
        labels[LABEL_SIMULATOR] = self.upstream.simulator().into();
        labels[LABEL_OWNER] = label_value(&self.name).into();
        labels[LABEL_COMPONENT] = label_value(&planned.component).into();
        if let Some(deployment) = &self.deployment {
            labels[LABEL_DEPLOYMENT] = deployment.clone().into();
        }
        let mut annotations = planned
            .metadata
            .get("annotations")
            .cloned()
            .unwrap_or_else(|| json!({}));
        annotations[ANNOTATION_SPEC_HASH] = planned.hash().into();
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": planned.name,
                "namespace": self.namespace,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [{
                    "apiVersion": self.upstream.api_resource().api_version,
                    "kind": self.upstream.kind(),
                    "name": self.name,
                    "uid": self.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": planned.spec,
        });
        serde_json::from_value(pod).map_err(|e| self.error(format!("pod {}: {e}", planned.name)))
    }

    pub fn error(&self, reason: impl Into<String>) -> Error {
        Error::Simulation {
            kind: self.upstream.kind(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            reason: reason.into(),
        }
    }

    fn is_controller_of(&self, pod: &Pod) -> bool {
        pod.owner_references()
            .iter()
            .any(|o| o.uid == self.uid && o.controller == Some(true))
    }
}

/// What the pods of one component look like right now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ComponentState {
    /// Pods planned.
    pub desired: usize,
    /// Pods bound to a node by the scheduler.
    pub scheduled: usize,
    /// Pods whose Ready condition is True.
    pub ready: usize,
    /// The first pod the scheduler could not place: `(pod name, scheduler message)`.
    pub unschedulable: Option<(String, String)>,
}

/// What the pods of one upstream object look like right now, by component (sorted by name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    pub components: BTreeMap<String, ComponentState>,
    /// Nodes the pods run on.
    pub nodes: BTreeSet<String>,
}

impl Observed {
    /// Sums over all components.
    pub fn total(&self) -> ComponentState {
        let mut total = ComponentState::default();
        for c in self.components.values() {
            total.desired += c.desired;
            total.scheduled += c.scheduled;
            total.ready += c.ready;
            if total.unschedulable.is_none() {
                total.unschedulable.clone_from(&c.unschedulable);
            }
        }
        total
    }

    /// The first component with a pod the scheduler cannot place, with that pod and message.
    pub fn unschedulable(&self) -> Option<(&str, &str, &str)> {
        self.components.iter().find_map(|(component, c)| {
            c.unschedulable
                .as_ref()
                .map(|(pod, message)| (component.as_str(), pod.as_str(), message.as_str()))
        })
    }

    /// True when every planned pod is Ready (also when none is planned).
    pub fn all_ready(&self) -> bool {
        self.components.values().all(|c| c.ready == c.desired)
    }
}

/// Brings the pods of `owner` in line with `planned` and reports their state.
///
/// Pods that are not planned any more, or whose spec hash differs from the plan, are deleted;
/// planned pods that do not exist are created (a pod whose name is still taken by a terminating
/// pod is created on a later pass, triggered by that pod's deletion). Pods just created count as
/// desired but not yet scheduled.
pub(crate) async fn sync(
    pods: &Api<Pod>,
    owner: &Owner,
    planned: &[PlannedPod],
) -> Result<Observed> {
    if planned.len() > MAX_PODS_PER_OBJECT {
        return Err(owner.error(format!(
            "asks for {} pods; the simulation creates at most {MAX_PODS_PER_OBJECT}",
            planned.len()
        )));
    }
    let listed = pods
        .list(&ListParams::default().labels(&owner.selector()))
        .await
        .map_err(crate::Error::kube(format!(
            "listing the pods of {} {}/{}",
            owner.upstream.kind(),
            owner.namespace,
            owner.name
        )))?;
    let wanted: BTreeMap<&str, &PlannedPod> =
        planned.iter().map(|p| (p.name.as_str(), p)).collect();
    // Every existing pod with that label, by name (ours or a left-over of an earlier object
    // with the same name that the garbage collector has not removed yet).
    let existing: BTreeMap<String, Pod> = listed
        .items
        .into_iter()
        .map(|p| (p.name_any(), p))
        .collect();

    for (name, pod) in &existing {
        if !owner.is_controller_of(pod) || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let keep = wanted
            .get(name.as_str())
            .is_some_and(|p| pod.annotations().get(ANNOTATION_SPEC_HASH) == Some(&p.hash()));
        if !keep {
            tracing::info!(pod = %name, namespace = %owner.namespace, "simulation deletes pod");
            match pods.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(crate::Error::kube(format!("deleting pod {name}"))(e)),
            }
        }
    }

    let mut observed = Observed::default();
    for p in planned {
        let state = observed.components.entry(p.component.clone()).or_default();
        state.desired += 1;
        match existing.get(&p.name) {
            Some(pod) => {
                let current = owner.is_controller_of(pod)
                    && pod.metadata.deletion_timestamp.is_none()
                    && pod.annotations().get(ANNOTATION_SPEC_HASH) == Some(&p.hash());
                if current {
                    observe(pod, state, &mut observed.nodes);
                }
            }
            None => {
                tracing::info!(pod = %p.name, namespace = %owner.namespace, "simulation creates pod");
                match pods.create(&PostParams::default(), &owner.pod(p)?).await {
                    Ok(_) => {}
                    // Taken by a pod the label list did not show yet; a later pass sorts it out.
                    Err(kube::Error::Api(s)) if s.code == 409 => {}
                    Err(e) => {
                        return Err(crate::Error::kube(format!("creating pod {}", p.name))(e));
                    }
                }
            }
        }
    }
    Ok(observed)
}

/// Adds one live pod to its component's state.
fn observe(pod: &Pod, state: &mut ComponentState, nodes: &mut BTreeSet<String>) {
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        state.scheduled += 1;
        nodes.insert(node);
    }
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    if conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
    {
        state.ready += 1;
    }
    let unschedulable = conditions.iter().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    });
    if let Some(c) = unschedulable
        && state.unschedulable.is_none()
    {
        state.unschedulable = Some((pod.name_any(), c.message.clone().unwrap_or_default()));
    }
}

/// A status condition of `type_`; its `lastTransitionTime` is kept from `previous` (the object's
/// current status) when the condition's status did not change, so an unchanged condition
/// compares equal and is not written again.
pub(crate) fn condition(
    previous: Option<&Value>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) -> Value {
    let earlier = previous
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        });
    let since = earlier
        .filter(|c| c.get("status").and_then(Value::as_str) == Some(status))
        .and_then(|c| c.get("lastTransitionTime"))
        .and_then(Value::as_str)
        .unwrap_or(now);
    let mut c = json!({
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
    });
    if let Some(generation) = generation {
        c["observedGeneration"] = generation.into();
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_label_values_are_valid_and_stable() {
        assert_eq!(
            dns_name(&["llama", "VllmWorker", "0"]),
            "llama-vllmworker-0"
        );
        assert_eq!(dns_name(&["a_b", "Gpu Workers", "1"]), "a-b-gpu-workers-1");
        let long = "x".repeat(300);
        let name = dns_name(&[&long, "0"]);
        assert_eq!(name.len(), 253);
        assert_eq!(name, dns_name(&[&long, "0"]));
        assert_eq!(label_value("llama"), "llama");
        let label = label_value(&"y".repeat(100));
        assert_eq!(label.len(), 63);
        assert!(label.starts_with("yyy"));
        assert_eq!(label_value("-a/b-"), "a-b");
    }

    #[test]
    fn quantities_and_counts_accept_strings_and_numbers() {
        assert_eq!(quantity(Some(&json!("1"))), Some("1".into()));
        assert_eq!(quantity(Some(&json!(2))), Some("2".into()));
        assert_eq!(quantity(Some(&json!(""))), None);
        assert_eq!(quantity(None), None);
        assert!(is_zero("0") && !is_zero("1") && !is_zero("4Gi"));
        assert_eq!(count(Some(&json!(3))), Some(3));
        assert_eq!(count(Some(&json!(2.0))), Some(2));
        assert_eq!(count(Some(&json!("4"))), Some(4));
        assert_eq!(count(Some(&json!(-1))), None);
        assert_eq!(count(Some(&json!(1.5))), None);
    }

    #[test]
    fn conditions_keep_their_transition_time_while_unchanged() {
        let previous = json!({ "conditions": [{
            "type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z",
        }] });
        let same = condition(Some(&previous), "Ready", "True", "R", "m", Some(2), "NOW");
        assert_eq!(same["lastTransitionTime"], "2026-01-01T00:00:00Z");
        assert_eq!(same["observedGeneration"], 2);
        let flipped = condition(Some(&previous), "Ready", "False", "R", "m", None, "NOW");
        assert_eq!(flipped["lastTransitionTime"], "NOW");
        let fresh = condition(None, "Other", "True", "R", "m", None, "NOW");
        assert_eq!(fresh["lastTransitionTime"], "NOW");
    }
}
