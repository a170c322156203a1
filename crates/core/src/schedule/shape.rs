//! What one replica asks of a node: its resource requests summed the way the scheduler sums
//! them, its node selector and required node affinity, and its tolerations.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, NodeSelector, PodSpec, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::quantity::{parse_milli, parse_value};

/// CPU, counted in millicores.
pub const CPU: &str = "cpu";
/// Memory, counted in bytes.
pub const MEMORY: &str = "memory";
/// The node's pod slots (`allocatable.pods`).
pub const PODS: &str = "pods";
/// Ephemeral storage, counted in bytes.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";

/// Taint keys the `DefaultTolerationSeconds` admission plugin tolerates on every new pod.
const DEFAULT_TOLERATED: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// The scheduling-relevant part of one replica's pod.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodShape {
    /// Requests by resource name: CPU in millicores, everything else in whole units. Zero
    /// requests are left out (the scheduler skips them).
    pub requests: BTreeMap<String, i64>,
    /// `spec.nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_affinity: Option<NodeSelector>,
    /// `spec.tolerations`.
    pub tolerations: Vec<Toleration>,
}

impl PodShape {
    /// The shape of a pod as stored (requests already defaulted by the API server).
    pub fn from_pod_spec(spec: &PodSpec) -> Self {
        Self::read(spec, false)
    }

    /// The shape a pod created from this template will have once the API server stored it:
    /// requests default to limits, and `DefaultTolerationSeconds` adds the NoExecute
    /// tolerations of not-ready and unreachable nodes unless the template has its own.
    pub fn from_template(spec: &PodSpec) -> Self {
        let mut shape = Self::read(spec, true);
        for key in DEFAULT_TOLERATED {
            let has = shape.tolerations.iter().any(|t| {
                t.operator.as_deref() == Some("Exists") && t.key.as_deref().unwrap_or("").is_empty()
                    || t.key.as_deref() == Some(key)
                        && t.effect
                            .as_deref()
                            .is_none_or(|e| e.is_empty() || e == "NoExecute")
            });
            if !has {
                shape.tolerations.push(Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(300),
                    ..Toleration::default()
                });
            }
        }
        shape
    }

    fn read(spec: &PodSpec, default_from_limits: bool) -> Self {
        Self {
            requests: pod_requests(spec, default_from_limits),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_affinity: spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|n| {
                    n.required_during_scheduling_ignored_during_execution
                        .clone()
                }),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
        }
    }

    /// The request of `resource` (0 when none).
    pub fn request(&self, resource: &str) -> i64 {
        self.requests.get(resource).copied().unwrap_or(0)
    }
}

/// A resource amount as an integer the scheduler compares: millicores for CPU, whole units
/// otherwise (0 when unparsable; the API server rejects such objects anyway).
pub fn amount(resource: &str, quantity: &Quantity) -> i64 {
    let parsed = if resource == CPU {
        parse_milli(&quantity.0)
    } else {
        parse_value(&quantity.0)
    };
    parsed.unwrap_or(0).max(0)
}

/// A pod's requests as the scheduler sums them: app containers plus restartable init
/// ("sidecar") containers, or the largest ordinary init container (with the sidecars started
/// before it) when that is larger, plus the pod's overhead; pod-level CPU and memory requests
/// replace the containers' sum.
pub fn pod_requests(spec: &PodSpec, default_from_limits: bool) -> BTreeMap<String, i64> {
    let mut total: BTreeMap<String, i64> = BTreeMap::new();
    for c in &spec.containers {
        add(&mut total, &container_requests(c, default_from_limits));
    }
    let mut sidecars = BTreeMap::new();
    let mut init_peak: BTreeMap<String, i64> = BTreeMap::new();
    for c in spec.init_containers.as_deref().unwrap_or_default() {
        let own = container_requests(c, default_from_limits);
        let during = if c.restart_policy.as_deref() == Some("Always") {
            add(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut sum = own;
            add(&mut sum, &sidecars);
            sum
        };
        max_into(&mut init_peak, &during);
    }
    add(&mut total, &sidecars);
    max_into(&mut total, &init_peak);
    if let Some(pod_level) = &spec.resources {
        let requests = pod_level.requests.clone().unwrap_or_default();
        let limits = pod_level.limits.clone().unwrap_or_default();
        for key in [CPU, MEMORY] {
            let q = requests
                .get(key)
                .or_else(|| limits.get(key).filter(|_| default_from_limits));
            if let Some(q) = q {
                total.insert(key.into(), amount(key, q));
            }
        }
    }
    for (key, q) in spec.overhead.iter().flatten() {
        *total.entry(key.clone()).or_default() += amount(key, q);
    }
    total.retain(|_, v| *v > 0);
    total
}

fn container_requests(c: &Container, default_from_limits: bool) -> BTreeMap<String, i64> {
    let resources = c.resources.as_ref();
    let mut out: BTreeMap<String, i64> = resources
        .and_then(|r| r.requests.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, q)| (k.clone(), amount(k, q)))
        .collect();
    if default_from_limits {
        for (k, q) in resources
            .and_then(|r| r.limits.as_ref())
            .into_iter()
            .flatten()
        {
            out.entry(k.clone()).or_insert_with(|| amount(k, q));
        }
    }
    out
}

fn add(into: &mut BTreeMap<String, i64>, other: &BTreeMap<String, i64>) {
    for (k, v) in other {
        let slot = into.entry(k.clone()).or_default();
        *slot = slot.saturating_add(*v);
    }
}

fn max_into(into: &mut BTreeMap<String, i64>, other: &BTreeMap<String, i64>) {
    for (k, v) in other {
        let slot = into.entry(k.clone()).or_default();
        *slot = (*slot).max(*v);
    }
}

/// An amount for people: CPU as cores (`500m`, `4`), memory and storage in binary units
/// (`32Gi`), other resources as counts.
pub fn display(resource: &str, amount: i64) -> String {
    if resource == CPU {
        return if amount % 1000 == 0 {
            (amount / 1000).to_string()
        } else {
            format!("{amount}m")
        };
    }
    if resource == MEMORY || resource == EPHEMERAL_STORAGE || resource.starts_with("hugepages-") {
        for (shift, unit) in [(40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
            let size = 1i64 << shift;
            if amount != 0 && amount % size == 0 {
                return format!("{}{unit}", amount / size);
            }
        }
    }
    amount.to_string()
}
