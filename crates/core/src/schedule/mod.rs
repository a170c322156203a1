//! "Will it schedule?": for the pods a deployment's replicas need, which nodes could take one,
//! and if not why, in the kube-scheduler's own words; where the replicas would go; and when not
//! all of them fit, what would fix it.
//!
//! The rules are the filters of the scheduler's default profile that can reject a model
//! server's pod ([`filters`]): cordoned nodes (NodeUnschedulable), `NoSchedule`/`NoExecute`
//! taints (TaintToleration; `PreferNoSchedule` only scores), node selector and required node
//! affinity (NodeAffinity, with its `metadata.name` PreFilter), and free allocatable CPU,
//! memory, extended resources and pod slots after the requests of every non-terminal pod bound
//! to the node (NodeResourcesFit). Scoring, preemption, topology spread, inter-pod affinity,
//! host ports and volumes are not modelled: they choose among feasible nodes or do not apply to
//! the pods the providers render.
//!
//! Replicas of one group are identical, so how many fit does not depend on the order they are
//! placed in: each node holds a whole number of copies and nodes do not interact. Which node a
//! replica lands on is the scheduler's scoring; the answer spreads them over the nodes with the
//! most room, one plausible placement.

mod filters;
pub mod quantity;
mod shape;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube_core::ResourceExt;
use serde::Serialize;

pub use filters::{
    REASON_AFFINITY, REASON_AFFINITY_CONFLICT, REASON_PREFILTER_NAMES, REASON_TAINT,
    REASON_TOO_MANY_PODS, REASON_UNSCHEDULABLE,
};
pub use shape::{CPU, MEMORY, PODS, PodShape, amount, display, pod_requests};

use crate::autoscaler::{AutoscalerType, Detection};
use crate::gpu::{GPU_PRODUCT_LABEL, GPU_RESOURCE, occupies_node};
use filters::{NodeState, PreFilter};

/// Replicas listed one by one in an answer; a larger group is summed up in its counts.
pub const MAX_LISTED_REPLICAS: usize = 100;

/// Identical replicas of one role (the aggregated server, or prefill or decode workers).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaGroup {
    /// `server`, `prefill`, `decode`, …
    pub role: String,
    /// How many replicas.
    pub replicas: i32,
    /// What each replica's pod asks for.
    pub pod: PodShape,
}

/// What the answer may suggest beyond the pods themselves.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The extended resource the GPUs are (`nvidia.com/gpu` when empty).
    pub gpu_resource: String,
    /// The cluster's autoscaler, when it could be asked.
    pub autoscaler: Option<Detection>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleAnswer {
    /// Whether every replica of every group would be placed on the cluster as it is now.
    pub schedulable: bool,
    /// Nodes in the cluster (the `N` of the scheduler's "0/N nodes are available").
    pub node_count: usize,
    /// One per role, in placement order (earlier groups take capacity first).
    pub groups: Vec<ScheduleGroup>,
    /// What would let the unplaced replicas schedule (empty when all fit).
    pub fixes: Vec<ScheduleFix>,
}

/// One role's replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleGroup {
    /// `server`, `prefill` or `decode`.
    pub role: String,
    /// Replicas wanted.
    pub replicas: i32,
    /// Replicas that would be placed.
    pub placed: i32,
    /// What one replica requests (`cpu`, `memory`, `nvidia.com/gpu`, …) for people.
    pub requests: BTreeMap<String, String>,
    /// Every node: could it take one replica now (before this group's replicas are placed),
    /// and if not why.
    pub nodes: Vec<NodeFit>,
    /// Each replica (at most 100 listed): the node it would land on, or none.
    pub placements: Vec<ReplicaPlacement>,
    /// The scheduler's message for the replicas left unplaced, once the others took their
    /// room: `0/N nodes are available: …` (without the preemption part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unschedulable_message: Option<String>,
}

/// One node's verdict for one replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NodeFit {
    /// Node name.
    pub node: String,
    /// Whether one replica fits.
    pub fits: bool,
    /// How many replicas of this group fit on it at once.
    pub fit_count: i64,
    /// Every rule the node fails, in the scheduler's words and order (empty when it fits).
    pub reasons: Vec<String>,
    /// The reasons the scheduler reports for this node: those of the first failing filter
    /// (it stops there).
    pub scheduler_reasons: Vec<String>,
    /// The `NoSchedule`/`NoExecute` taints the replica does not tolerate (`key=value:Effect`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untolerated_taints: Vec<String>,
    /// The node's `nvidia.com/gpu.product` label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_product: Option<String>,
    /// Free GPUs (allocatable minus the requests of the pods bound to it).
    pub free_gpus: i64,
    /// Free CPU (`4`, `500m`).
    pub free_cpu: String,
    /// Free memory (`32Gi`).
    pub free_memory: String,
}

/// Where one replica would go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplicaPlacement {
    /// 0-based replica index within its group.
    pub replica: i32,
    /// The node, or absent when the replica stays Pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// A change that would let every replica schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleFix {
    /// What kind of change.
    pub kind: ScheduleFixKind,
    /// The change, for people.
    pub message: String,
    /// `fewerGpus`: the GPUs per replica that would fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_per_replica: Option<i64>,
    /// `otherGpuType`: the GPU product (node label `nvidia.com/gpu.product`) with room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_product: Option<String>,
}

/// Kinds of [`ScheduleFix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ScheduleFixKind {
    /// Fewer GPUs per replica (the largest count that fits everywhere it must).
    FewerGpus,
    /// Another GPU product pinned by the node selector.
    OtherGpuType,
    /// The detected cluster autoscaler can add a node.
    AutoscalerScaleUp,
    /// No autoscaler is detected: nothing adds nodes by itself.
    NoAutoscaler,
}

/// The answer for `groups` on `nodes`, with the requests of the non-terminal `pods` bound to
/// them counted against their allocatable.
pub fn evaluate(
    groups: &[ReplicaGroup],
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    options: &Options,
) -> ScheduleAnswer {
    let mut states = snapshot(nodes, pods);
    let gpu = gpu_resource(options);
    let mut answers = Vec::with_capacity(groups.len());
    for group in groups {
        answers.push(place(group, &mut states, gpu));
    }
    let schedulable = answers.iter().all(|g| g.placed == g.replicas.max(0));
    let fixes = if schedulable {
        Vec::new()
    } else {
        fixes(groups, nodes, pods, options, &answers)
    };
    ScheduleAnswer {
        schedulable,
        node_count: nodes.len(),
        groups: answers,
        fixes,
    }
}

fn gpu_resource(options: &Options) -> &str {
    if options.gpu_resource.is_empty() {
        GPU_RESOURCE
    } else {
        &options.gpu_resource
    }
}

/// The nodes by name with their bound pods' requests.
fn snapshot<'a>(nodes: &'a [Arc<Node>], pods: &[Arc<Pod>]) -> Vec<NodeState<'a>> {
    let mut states: Vec<NodeState<'a>> = nodes.iter().map(|n| NodeState::new(n)).collect();
    states.sort_by(|a, b| a.name.cmp(&b.name));
    let index: BTreeMap<String, usize> = states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    for pod in pods {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
            continue;
        };
        if !occupies_node(pod) {
            continue;
        }
        if let (Some(i), Some(spec)) = (index.get(node), pod.spec.as_ref()) {
            states[*i].take(&pod_requests(spec, false));
        }
    }
    states
}

/// Places one group's replicas on `states` (updating them) and describes the outcome.
fn place(group: &ReplicaGroup, states: &mut [NodeState<'_>], gpu: &str) -> ScheduleGroup {
    let shape = &group.pod;
    let pre = filters::prefilter(shape);
    let nodes: Vec<NodeFit> = states
        .iter()
        .map(|s| node_fit(shape, s, &pre, gpu))
        .collect();
    let mut room: Vec<i64> = nodes.iter().map(|n| n.fit_count).collect();
    let wanted = group.replicas.max(0);
    let mut placements = Vec::new();
    let mut placed = 0;
    while placed < wanted {
        // The node with the most room left, the first by name on ties.
        let best = room
            .iter()
            .enumerate()
            .filter(|(_, r)| **r > 0)
            .max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))
            .map(|(i, _)| i);
        let Some(i) = best else { break };
        room[i] -= 1;
        states[i].take(&shape.requests);
        if placements.len() < MAX_LISTED_REPLICAS {
            placements.push(ReplicaPlacement {
                replica: placed,
                node: Some(states[i].name.clone()),
            });
        }
        placed += 1;
    }
    for replica in placed..wanted {
        if placements.len() >= MAX_LISTED_REPLICAS {
            break;
        }
        placements.push(ReplicaPlacement {
            replica,
            node: None,
        });
    }
    let unschedulable_message = (placed < wanted).then(|| summary(shape, states, &pre));
    ScheduleGroup {
        role: group.role.clone(),
        replicas: wanted,
        placed,
        requests: shape
            .requests
            .iter()
            .map(|(k, v)| (k.clone(), display(k, *v)))
            .collect(),
        nodes,
        placements,
        unschedulable_message,
    }
}

fn node_fit(shape: &PodShape, state: &NodeState<'_>, pre: &PreFilter, gpu: &str) -> NodeFit {
    let mut failures = Vec::new();
    let skipped = match pre {
        PreFilter::AllNodes => None,
        PreFilter::Only(names) if names.contains(&state.name) => None,
        PreFilter::Only(_) => Some(REASON_PREFILTER_NAMES),
        PreFilter::Conflict => Some(REASON_AFFINITY_CONFLICT),
    };
    let mut scheduler_reasons = Vec::new();
    if let Some(reason) = skipped {
        scheduler_reasons.push(reason.to_string());
    }
    failures.extend(filters::failures(shape, state));
    if scheduler_reasons.is_empty()
        && let Some(first) = failures.first()
    {
        scheduler_reasons.clone_from(&first.reasons);
    }
    let mut reasons: Vec<String> = skipped.map(str::to_string).into_iter().collect();
    reasons.extend(failures.iter().flat_map(|f| f.reasons.iter().cloned()));
    let fits = reasons.is_empty();
    NodeFit {
        node: state.name.clone(),
        fits,
        fit_count: if fits {
            filters::copies(shape, state)
        } else {
            0
        },
        reasons,
        scheduler_reasons,
        untolerated_taints: failures
            .iter()
            .flat_map(|f| f.taints.iter().cloned())
            .collect(),
        gpu_product: state.node.labels().get(GPU_PRODUCT_LABEL).cloned(),
        free_gpus: state.free(gpu).max(0),
        free_cpu: display(CPU, state.free(CPU).max(0)),
        free_memory: display(MEMORY, state.free(MEMORY).max(0)),
    }
}

/// The scheduler's `FitError` message: `0/N nodes are available: ` and the histogram of the
/// reasons each node reported, as `count reason`, sorted as strings.
fn summary(shape: &PodShape, states: &[NodeState<'_>], pre: &PreFilter) -> String {
    let head = format!("0/{} nodes are available:", states.len());
    if *pre == PreFilter::Conflict {
        return format!("{head} {REASON_AFFINITY_CONFLICT}.");
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for state in states {
        let reasons = match pre {
            PreFilter::Only(names) if !names.contains(&state.name) => {
                vec![REASON_PREFILTER_NAMES.to_string()]
            }
            _ => filters::failures(shape, state)
                .into_iter()
                .next()
                .map(|f| f.reasons)
                .unwrap_or_default(),
        };
        for r in reasons {
            *counts.entry(r).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    if parts.is_empty() {
        head
    } else {
        format!("{head} {}.", parts.join(", "))
    }
}

/// Whether every replica of `groups` is placed on a fresh snapshot.
fn all_fit(groups: &[ReplicaGroup], nodes: &[Arc<Node>], pods: &[Arc<Pod>], gpu: &str) -> bool {
    let mut states = snapshot(nodes, pods);
    groups
        .iter()
        .all(|g| place(g, &mut states, gpu).placed == g.replicas.max(0))
}

fn fixes(
    groups: &[ReplicaGroup],
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    options: &Options,
    answers: &[ScheduleGroup],
) -> Vec<ScheduleFix> {
    let gpu = gpu_resource(options);
    let mut out = Vec::new();
    // Fewer GPUs per replica: the largest count below the current one with which every
    // replica of every group fits, lowering the short groups alike.
    let short: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(i, a)| a.placed < a.replicas && groups[*i].pod.request(gpu) > 1)
        .map(|(i, _)| i)
        .collect();
    if let Some(current) = short.iter().map(|i| groups[*i].pod.request(gpu)).max() {
        let fewer = (1..current).rev().find(|k| {
            let mut trial = groups.to_vec();
            for i in &short {
                let req = trial[*i].pod.requests.entry(gpu.to_string()).or_default();
                *req = (*req).min(*k);
            }
            all_fit(&trial, nodes, pods, gpu)
        });
        if let Some(k) = fewer {
            out.push(ScheduleFix {
                kind: ScheduleFixKind::FewerGpus,
                message: format!(
                    "Request {k} GPU(s) per replica instead of {current}: every replica fits then (the model must fit in {k} GPU(s); the tensor-parallel size follows the GPU count)"
                ),
                gpus_per_replica: Some(k),
                gpu_product: None,
            });
        }
    }
    // Another GPU type: groups pinned to a product by their node selector, moved to another
    // product the nodes carry.
    let pinned: Vec<(usize, String)> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| a.placed < a.replicas)
        .filter_map(|(i, _)| {
            groups[i]
                .pod
                .node_selector
                .get(GPU_PRODUCT_LABEL)
                .map(|p| (i, p.clone()))
        })
        .collect();
    if !pinned.is_empty() {
        let products: BTreeSet<String> = nodes
            .iter()
            .filter_map(|n| n.labels().get(GPU_PRODUCT_LABEL).cloned())
            .collect();
        for product in products {
            if pinned.iter().all(|(_, p)| *p == product) {
                continue;
            }
            let mut trial = groups.to_vec();
            for (i, _) in &pinned {
                trial[*i]
                    .pod
                    .node_selector
                    .insert(GPU_PRODUCT_LABEL.into(), product.clone());
            }
            if all_fit(&trial, nodes, pods, gpu) {
                out.push(ScheduleFix {
                    kind: ScheduleFixKind::OtherGpuType,
                    message: format!(
                        "Select GPU type {product} (node selector {GPU_PRODUCT_LABEL}={product}): its nodes have room for every replica"
                    ),
                    gpus_per_replica: None,
                    gpu_product: Some(product),
                });
            }
        }
    }
    let unplaced: i32 = answers.iter().map(|a| a.replicas - a.placed).sum();
    match &options.autoscaler {
        Some(d) if d.detected => out.push(ScheduleFix {
            kind: ScheduleFixKind::AutoscalerScaleUp,
            message: format!(
                "{} — it adds a node for the {unplaced} Pending replica(s) if one of its node groups has nodes that satisfy the replica's requests, selector and tolerations; they wait until that node is ready",
                d.message.trim_end_matches('.')
            ),
            gpus_per_replica: None,
            gpu_product: None,
        }),
        Some(d) if d.kind == AutoscalerType::Unknown => out.push(ScheduleFix {
            kind: ScheduleFixKind::NoAutoscaler,
            message: format!(
                "Whether a cluster autoscaler runs is unknown ({}): without one, no node is added for the {unplaced} Pending replica(s)",
                d.message.trim_end_matches('.')
            ),
            gpus_per_replica: None,
            gpu_product: None,
        }),
        Some(_) => out.push(ScheduleFix {
            kind: ScheduleFixKind::NoAutoscaler,
            message: format!(
                "No cluster autoscaler is detected, so no node is added for the {unplaced} Pending replica(s): free capacity, add a node that satisfies the replica, or lower its request"
            ),
            gpus_per_replica: None,
            gpu_product: None,
        }),
        None => {}
    }
    out
}
