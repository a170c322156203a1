//! The kube-scheduler's filters that decide whether a node can take a pod, in the default
//! profile's order, with the scheduler's own failure messages (kube-scheduler 1.34:
//! NodeUnschedulable, TaintToleration, NodeAffinity with its PreFilter, NodeResourcesFit).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, NodeSelector, NodeSelectorRequirement, Taint, Toleration};
use kube_core::ResourceExt;

use super::shape::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS, PodShape};

/// NodeUnschedulable's message.
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// TaintToleration's message.
pub const REASON_TAINT: &str = "node(s) had untolerated taint(s)";
/// NodeAffinity's message.
pub const REASON_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
/// NodeAffinity's PreFilter message when every term names nodes and no node is left.
pub const REASON_AFFINITY_CONFLICT: &str = "pod affinity terms conflict";
/// The message of nodes NodeAffinity's PreFilter (`matchFields` on `metadata.name`) left out.
pub const REASON_PREFILTER_NAMES: &str = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
/// NodeResourcesFit's message when the node's pod slots are used up.
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";

/// The taint a cordoned node is treated as having.
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// One node as the scheduler's snapshot sees it: what it offers and what its pods request.
#[derive(Clone, Debug)]
pub(super) struct NodeState<'a> {
    pub node: &'a Node,
    pub name: String,
    /// `status.allocatable`: CPU in millicores, everything else in whole units.
    pub allocatable: BTreeMap<String, i64>,
    /// Summed requests of the non-terminal pods bound to the node.
    pub requested: BTreeMap<String, i64>,
    /// Number of those pods.
    pub pods: i64,
}

impl<'a> NodeState<'a> {
    pub fn new(node: &'a Node) -> Self {
        let allocatable = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .into_iter()
            .flatten()
            .map(|(k, q)| (k.clone(), super::shape::amount(k, q)))
            .collect();
        Self {
            node,
            name: node.name_any(),
            allocatable,
            requested: BTreeMap::new(),
            pods: 0,
        }
    }

    /// What is left of `resource` (allocatable minus requested; may be negative).
    pub fn free(&self, resource: &str) -> i64 {
        if resource == PODS {
            return self.allocatable(PODS) - self.pods;
        }
        self.allocatable(resource) - self.requested.get(resource).copied().unwrap_or(0)
    }

    pub fn allocatable(&self, resource: &str) -> i64 {
        self.allocatable.get(resource).copied().unwrap_or(0)
    }

    /// Adds a pod's requests to the node.
    pub fn take(&mut self, requests: &BTreeMap<String, i64>) {
        for (k, v) in requests {
            let slot = self.requested.entry(k.clone()).or_default();
            *slot = slot.saturating_add(*v);
        }
        self.pods += 1;
    }
}

/// What NodeAffinity's PreFilter decided: every node goes on to the filters, only the named
/// ones do, or none (conflicting `metadata.name` terms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PreFilter {
    AllNodes,
    Only(BTreeSet<String>),
    Conflict,
}

/// NodeAffinity's PreFilter: when every required term pins `metadata.name` with `In`, only
/// those nodes are examined.
pub(super) fn prefilter(shape: &PodShape) -> PreFilter {
    let Some(terms) = shape
        .required_affinity
        .as_ref()
        .map(|a| &a.node_selector_terms)
        .filter(|t| !t.is_empty())
    else {
        return PreFilter::AllNodes;
    };
    let mut names: BTreeSet<String> = BTreeSet::new();
    for term in terms {
        let mut term_names: Option<BTreeSet<String>> = None;
        for r in term.match_fields.iter().flatten() {
            if r.key == "metadata.name" && r.operator == "In" {
                let values: BTreeSet<String> = r.values.iter().flatten().cloned().collect();
                term_names = Some(match term_names {
                    None => values,
                    Some(prev) => prev.intersection(&values).cloned().collect(),
                });
            }
        }
        match term_names {
            // A term without a name requirement lets every node through (terms are ORed).
            None => return PreFilter::AllNodes,
            Some(n) => names.extend(n),
        }
    }
    if names.is_empty() {
        PreFilter::Conflict
    } else {
        PreFilter::Only(names)
    }
}

/// One filter that failed on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Failure {
    /// The scheduler's messages (NodeResourcesFit gives one per short resource).
    pub reasons: Vec<String>,
    /// The untolerated taints, for people (`key=value:Effect`).
    pub taints: Vec<String>,
    /// Whether a node with more free capacity of the same size could take the pod (only
    /// resource shortages are).
    pub resource: bool,
}

/// Every filter that fails for `shape` on `node`, in the scheduler's order. The scheduler
/// itself stops at the first, so it reports only the first one's reasons.
pub(super) fn failures(shape: &PodShape, node: &NodeState<'_>) -> Vec<Failure> {
    let mut out = Vec::new();
    let spec = node.node.spec.as_ref();
    if spec.and_then(|s| s.unschedulable).unwrap_or(false) {
        let cordon = Taint {
            key: UNSCHEDULABLE_TAINT.into(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        if !shape.tolerations.iter().any(|t| tolerates(t, &cordon)) {
            out.push(Failure::plain(REASON_UNSCHEDULABLE));
        }
    }
    let untolerated: Vec<String> = spec
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !shape.tolerations.iter().any(|tol| tolerates(tol, t)))
        .map(describe_taint)
        .collect();
    if !untolerated.is_empty() {
        out.push(Failure {
            reasons: vec![REASON_TAINT.into()],
            taints: untolerated,
            resource: false,
        });
    }
    if !matches_affinity(shape, node.node) {
        out.push(Failure::plain(REASON_AFFINITY));
    }
    let short = insufficient(shape, node);
    if !short.is_empty() {
        out.push(Failure {
            reasons: short,
            taints: Vec::new(),
            resource: true,
        });
    }
    out
}

impl Failure {
    fn plain(reason: &str) -> Self {
        Self {
            reasons: vec![reason.into()],
            taints: Vec::new(),
            resource: false,
        }
    }
}

/// NodeResourcesFit: the pod slot, then CPU, memory, ephemeral storage, then every other
/// requested resource (sorted) that the node has less of free than one replica requests.
pub(super) fn insufficient(shape: &PodShape, node: &NodeState<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if node.free(PODS) < 1 {
        out.push(REASON_TOO_MANY_PODS.to_string());
    }
    for key in [CPU, MEMORY, EPHEMERAL_STORAGE] {
        let want = shape.request(key);
        if want > 0 && want > node.free(key) {
            out.push(format!("Insufficient {key}"));
        }
    }
    for (key, want) in &shape.requests {
        if [CPU, MEMORY, EPHEMERAL_STORAGE, PODS].contains(&key.as_str()) {
            continue;
        }
        if *want > 0 && *want > node.free(key) {
            out.push(format!("Insufficient {key}"));
        }
    }
    out
}

/// How many more replicas of `shape` the node's free resources hold (ignoring the other
/// filters).
pub(super) fn copies(shape: &PodShape, node: &NodeState<'_>) -> i64 {
    let mut n = node.free(PODS).max(0);
    for (key, want) in &shape.requests {
        if *want > 0 && key != PODS {
            n = n.min((node.free(key) / want).max(0));
        }
    }
    n
}

/// `key=value:Effect`, or `key:Effect` without a value.
pub(super) fn describe_taint(t: &Taint) -> String {
    match t.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => format!("{}={v}:{}", t.key, t.effect),
        None => format!("{}:{}", t.key, t.effect),
    }
}

/// `Toleration.ToleratesTaint`: the effect (if set) and key (if set) must match; `Exists`
/// matches any value, `Equal` (or no operator) the same value.
pub(super) fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty())
        && effect != taint.effect
    {
        return false;
    }
    if let Some(key) = t.key.as_deref().filter(|k| !k.is_empty())
        && key != taint.key
    {
        return false;
    }
    match t.operator.as_deref() {
        None | Some("" | "Equal") => {
            t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        Some("Exists") => true,
        Some(_) => false,
    }
}

/// NodeAffinity's filter: the node selector's labels, then the required node affinity terms
/// (ORed; an empty term matches nothing, a malformed one is skipped).
pub(super) fn matches_affinity(shape: &PodShape, node: &Node) -> bool {
    let labels = node.labels();
    if !shape
        .node_selector
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
    {
        return false;
    }
    match &shape.required_affinity {
        None => true,
        Some(selector) => matches_selector(selector, node),
    }
}

fn matches_selector(selector: &NodeSelector, node: &Node) -> bool {
    let labels = node.labels();
    let name = node.name_any();
    selector.node_selector_terms.iter().any(|term| {
        let expressions = term.match_expressions.as_deref().unwrap_or_default();
        let fields = term.match_fields.as_deref().unwrap_or_default();
        if expressions.is_empty() && fields.is_empty() {
            return false;
        }
        expressions
            .iter()
            .all(|r| label_requirement(r, labels) == Some(true))
            && fields
                .iter()
                .all(|r| field_requirement(r, &name) == Some(true))
    })
}

/// One `matchExpressions` requirement; `None` when it is malformed (the scheduler then treats
/// its term as not matching).
fn label_requirement(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let values = r.values.as_deref().unwrap_or_default();
    let value = labels.get(&r.key);
    Some(match r.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => return None,
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" | "DoesNotExist" if !values.is_empty() => return None,
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let [bound] = values else { return None };
            let bound: i64 = bound.parse().ok()?;
            let Some(actual) = value.and_then(|v| v.parse::<i64>().ok()) else {
                return Some(false);
            };
            if r.operator == "Gt" {
                actual > bound
            } else {
                actual < bound
            }
        }
        _ => return None,
    })
}

/// One `matchFields` requirement: only `In`/`NotIn` with one value; a node has only the
/// `metadata.name` field.
fn field_requirement(r: &NodeSelectorRequirement, node_name: &str) -> Option<bool> {
    let [value] = r.values.as_deref().unwrap_or_default() else {
        return None;
    };
    let actual = if r.key == "metadata.name" {
        node_name
    } else {
        ""
    };
    match r.operator.as_str() {
        "In" => Some(actual == value),
        "NotIn" => Some(actual != value),
        _ => None,
    }
}
