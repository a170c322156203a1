use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use serde_json::{Value, json};

use super::*;
use crate::autoscaler::{AutoscalerType, Detection, unknown};

fn node(name: &str, gpus: u32, extra: Value) -> Arc<Node> {
    let mut n = json!({
        "metadata": { "name": name, "labels": { "kubernetes.io/hostname": name } },
        "spec": {},
        "status": { "allocatable": { "cpu": "16", "memory": "64Gi", "pods": "110" } },
    });
    if gpus > 0 {
        n["status"]["allocatable"]["nvidia.com/gpu"] = gpus.to_string().into();
        n["metadata"]["labels"]["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3".into();
    }
    merge(&mut n, &extra);
    Arc::new(serde_json::from_value(n).expect("node"))
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn bound(name: &str, node: &str, requests: Value, phase: &str) -> Arc<Pod> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": "x" },
            "spec": { "nodeName": node, "containers": [{ "name": "c", "resources": { "requests": requests } }] },
            "status": { "phase": phase },
        }))
        .expect("pod"),
    )
}

fn spec(value: Value) -> PodSpec {
    serde_json::from_value(value).expect("pod spec")
}

/// A template with one container requesting (and limited to) `resources`, plus `extra`.
fn template(resources: Value, extra: Value) -> PodShape {
    let mut s = json!({ "containers": [{ "name": "server", "resources": { "requests": resources.clone(), "limits": resources } }] });
    merge(&mut s, &extra);
    PodShape::from_template(&spec(s))
}

fn group(replicas: i32, pod: PodShape) -> ReplicaGroup {
    ReplicaGroup {
        role: "server".into(),
        replicas,
        pod,
    }
}

fn run(groups: &[ReplicaGroup], nodes: &[Arc<Node>], pods: &[Arc<Pod>]) -> ScheduleAnswer {
    evaluate(groups, nodes, pods, &Options::default())
}

fn verdict<'a>(answer: &'a ScheduleAnswer, node: &str) -> &'a NodeFit {
    answer.groups[0]
        .nodes
        .iter()
        .find(|n| n.node == node)
        .expect("node in the answer")
}

#[test]
fn gpus_fit_until_the_free_ones_are_used() {
    let nodes = [node("a", 8, json!({}))];
    let pods = [
        bound("holder", "a", json!({ "nvidia.com/gpu": "6" }), "Running"),
        bound("done", "a", json!({ "nvidia.com/gpu": "8" }), "Succeeded"),
    ];
    let fits = run(
        &[group(
            1,
            template(json!({ "nvidia.com/gpu": "2" }), json!({})),
        )],
        &nodes,
        &pods,
    );
    assert!(fits.schedulable);
    assert_eq!(
        verdict(&fits, "a").fit_count,
        1,
        "6 of 8 held; the finished pod counts for nothing"
    );
    assert_eq!(verdict(&fits, "a").free_gpus, 2);
    let short = run(
        &[group(
            1,
            template(json!({ "nvidia.com/gpu": "3" }), json!({})),
        )],
        &nodes,
        &pods,
    );
    assert!(!short.schedulable);
    assert_eq!(
        verdict(&short, "a").reasons,
        vec!["Insufficient nvidia.com/gpu"]
    );
    assert_eq!(
        short.groups[0].unschedulable_message.as_deref(),
        Some("0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")
    );
}

#[test]
fn unbound_and_other_nodes_pods_do_not_count() {
    let nodes = [node("a", 2, json!({}))];
    let mut pending = (*bound("p", "a", json!({ "nvidia.com/gpu": "2" }), "Pending")).clone();
    pending.spec.as_mut().expect("spec").node_name = None;
    let pods = [
        Arc::new(pending),
        bound(
            "elsewhere",
            "gone",
            json!({ "nvidia.com/gpu": "2" }),
            "Running",
        ),
    ];
    let answer = run(
        &[group(
            1,
            template(json!({ "nvidia.com/gpu": "2" }), json!({})),
        )],
        &nodes,
        &pods,
    );
    assert!(answer.schedulable);
}

#[test]
fn cpu_and_memory_are_each_named() {
    let nodes = [node("a", 0, json!({}))];
    let pods = [bound(
        "h",
        "a",
        json!({ "cpu": "15500m", "memory": "1Gi" }),
        "Running",
    )];
    let answer = run(
        &[group(
            1,
            template(json!({ "cpu": "1", "memory": "64Gi" }), json!({})),
        )],
        &nodes,
        &pods,
    );
    assert_eq!(
        verdict(&answer, "a").reasons,
        vec!["Insufficient cpu", "Insufficient memory"]
    );
    assert_eq!(
        verdict(&answer, "a").scheduler_reasons,
        vec!["Insufficient cpu", "Insufficient memory"],
        "NodeResourcesFit reports every short resource"
    );
    assert_eq!(verdict(&answer, "a").free_cpu, "500m");
    assert_eq!(verdict(&answer, "a").free_memory, "63Gi");
    assert_eq!(
        answer.groups[0].unschedulable_message.as_deref(),
        Some("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.")
    );
}

#[test]
fn a_gpu_request_on_a_node_without_gpus_is_insufficient() {
    let nodes = [node("cpu", 0, json!({}))];
    let answer = run(
        &[group(
            1,
            template(json!({ "nvidia.com/gpu": "1" }), json!({})),
        )],
        &nodes,
        &[],
    );
    assert_eq!(
        verdict(&answer, "cpu").reasons,
        vec!["Insufficient nvidia.com/gpu"]
    );
}

#[test]
fn pod_slots_run_out() {
    let nodes = [node(
        "a",
        0,
        json!({ "status": { "allocatable": { "pods": "2" } } }),
    )];
    let pods = [
        bound("1", "a", json!({}), "Running"),
        bound("2", "a", json!({}), "Pending"),
    ];
    let answer = run(&[group(1, template(json!({}), json!({})))], &nodes, &pods);
    assert_eq!(verdict(&answer, "a").reasons, vec![REASON_TOO_MANY_PODS]);
}

#[test]
fn taints_filter_unless_tolerated_and_prefer_no_schedule_does_not() {
    let tainted = |effect: &str| {
        node(
            "t",
            1,
            json!({ "spec": { "taints": [{ "key": "gpu", "value": "h100", "effect": effect }] } }),
        )
    };
    let plain = template(json!({ "nvidia.com/gpu": "1" }), json!({}));
    for effect in ["NoSchedule", "NoExecute"] {
        let answer = run(&[group(1, plain.clone())], &[tainted(effect)], &[]);
        let v = verdict(&answer, "t");
        assert_eq!(v.reasons, vec![REASON_TAINT], "{effect}");
        assert_eq!(v.untolerated_taints, vec![format!("gpu=h100:{effect}")]);
    }
    assert!(
        run(
            &[group(1, plain.clone())],
            &[tainted("PreferNoSchedule")],
            &[]
        )
        .schedulable
    );
    for toleration in [
        json!({ "key": "gpu", "operator": "Equal", "value": "h100" }),
        json!({ "key": "gpu", "operator": "Exists", "effect": "NoSchedule" }),
        json!({ "key": "gpu", "value": "h100", "effect": "NoSchedule" }),
        json!({ "operator": "Exists" }),
    ] {
        let shape = template(
            json!({ "nvidia.com/gpu": "1" }),
            json!({ "tolerations": [toleration.clone()] }),
        );
        assert!(
            run(&[group(1, shape)], &[tainted("NoSchedule")], &[]).schedulable,
            "{toleration}"
        );
    }
    for toleration in [
        json!({ "key": "gpu", "operator": "Equal", "value": "a100" }),
        json!({ "key": "gpu", "operator": "Exists", "effect": "NoExecute" }),
        json!({ "key": "other", "operator": "Exists" }),
    ] {
        let shape = template(
            json!({ "nvidia.com/gpu": "1" }),
            json!({ "tolerations": [toleration.clone()] }),
        );
        assert!(
            !run(&[group(1, shape)], &[tainted("NoSchedule")], &[]).schedulable,
            "{toleration}"
        );
    }
}

#[test]
fn templates_get_the_admission_defaults() {
    let shape = template(json!({ "memory": "1Gi" }), json!({}));
    assert_eq!(
        shape.request("memory"),
        1 << 30,
        "requests default to limits"
    );
    let keys: Vec<_> = shape
        .tolerations
        .iter()
        .filter_map(|t| t.key.clone())
        .collect();
    assert_eq!(
        keys,
        [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable"
        ]
    );
    // A not-ready node's NoExecute taint is tolerated, its NoSchedule one is not.
    let not_ready = node(
        "n",
        0,
        json!({ "spec": { "taints": [
            { "key": "node.kubernetes.io/not-ready", "effect": "NoExecute" },
            { "key": "node.kubernetes.io/not-ready", "effect": "NoSchedule" },
        ] } }),
    );
    let answer = run(&[group(1, shape)], &[not_ready], &[]);
    assert_eq!(
        verdict(&answer, "n").untolerated_taints,
        vec!["node.kubernetes.io/not-ready:NoSchedule"]
    );
}

#[test]
fn requests_sum_like_the_scheduler() {
    let s = spec(json!({
        "initContainers": [
            { "name": "big-init", "resources": { "requests": { "cpu": "4" } } },
            { "name": "sidecar", "restartPolicy": "Always", "resources": { "requests": { "cpu": "1", "memory": "1Gi" } } },
            { "name": "late-init", "resources": { "requests": { "cpu": "2" } } },
        ],
        "containers": [
            { "name": "a", "resources": { "requests": { "cpu": "500m", "memory": "2Gi" } } },
            { "name": "b", "resources": { "limits": { "nvidia.com/gpu": "2" } } },
        ],
        "overhead": { "cpu": "100m" },
    }));
    let r = pod_requests(&s, true);
    // apps 0.5 + sidecar 1 = 1.5 < big-init 4 (the sidecar starts after it); late-init 2 + 1 = 3.
    assert_eq!(r.get("cpu"), Some(&4100));
    assert_eq!(r.get("memory"), Some(&(3 << 30)));
    assert_eq!(r.get("nvidia.com/gpu"), Some(&2));
    assert_eq!(
        pod_requests(&s, false).get("nvidia.com/gpu"),
        None,
        "stored pods are already defaulted"
    );
}

#[test]
fn cordoned_nodes_are_unschedulable_first() {
    let cordoned = node(
        "c",
        8,
        json!({ "spec": { "unschedulable": true, "taints": [{ "key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule" }] } }),
    );
    let shape = template(json!({ "nvidia.com/gpu": "16" }), json!({}));
    let answer = run(&[group(1, shape)], std::slice::from_ref(&cordoned), &[]);
    let v = verdict(&answer, "c");
    assert_eq!(
        v.reasons,
        vec![
            REASON_UNSCHEDULABLE,
            REASON_TAINT,
            "Insufficient nvidia.com/gpu"
        ]
    );
    assert_eq!(
        v.scheduler_reasons,
        vec![REASON_UNSCHEDULABLE],
        "the scheduler stops at the first filter"
    );
    assert_eq!(
        answer.groups[0].unschedulable_message.as_deref(),
        Some("0/1 nodes are available: 1 node(s) were unschedulable.")
    );
    let tolerant = template(
        json!({ "nvidia.com/gpu": "1" }),
        json!({ "tolerations": [{ "key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule" }] }),
    );
    assert!(run(&[group(1, tolerant)], &[cordoned], &[]).schedulable);
}

#[test]
fn node_selector_must_match_every_label() {
    let nodes = [node(
        "h",
        8,
        json!({ "metadata": { "labels": { "pool": "h100" } } }),
    )];
    let want = |sel: Value| template(json!({}), json!({ "nodeSelector": sel }));
    assert!(run(&[group(1, want(json!({ "pool": "h100" })))], &nodes, &[]).schedulable);
    let answer = run(
        &[group(1, want(json!({ "pool": "h100", "zone": "a" })))],
        &nodes,
        &[],
    );
    assert_eq!(verdict(&answer, "h").reasons, vec![REASON_AFFINITY]);
}

fn affinity(terms: Value) -> PodShape {
    template(
        json!({}),
        json!({ "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": terms } } } }),
    )
}

#[test]
fn affinity_operators() {
    let n = [node(
        "n",
        0,
        json!({ "metadata": { "labels": { "tier": "gpu", "gen": "9" } } }),
    )];
    let fits = |expr: Value| {
        run(
            &[group(1, affinity(json!([{ "matchExpressions": [expr] }])))],
            &n,
            &[],
        )
        .schedulable
    };
    assert!(fits(
        json!({ "key": "tier", "operator": "In", "values": ["cpu", "gpu"] })
    ));
    assert!(!fits(
        json!({ "key": "tier", "operator": "In", "values": ["cpu"] })
    ));
    assert!(!fits(
        json!({ "key": "missing", "operator": "In", "values": ["x"] })
    ));
    assert!(fits(
        json!({ "key": "tier", "operator": "NotIn", "values": ["cpu"] })
    ));
    assert!(fits(
        json!({ "key": "missing", "operator": "NotIn", "values": ["x"] })
    ));
    assert!(!fits(
        json!({ "key": "tier", "operator": "NotIn", "values": ["gpu"] })
    ));
    assert!(fits(json!({ "key": "tier", "operator": "Exists" })));
    assert!(!fits(json!({ "key": "missing", "operator": "Exists" })));
    assert!(fits(
        json!({ "key": "missing", "operator": "DoesNotExist" })
    ));
    assert!(!fits(json!({ "key": "tier", "operator": "DoesNotExist" })));
    assert!(fits(
        json!({ "key": "gen", "operator": "Gt", "values": ["8"] })
    ));
    assert!(!fits(
        json!({ "key": "gen", "operator": "Gt", "values": ["9"] })
    ));
    assert!(fits(
        json!({ "key": "gen", "operator": "Lt", "values": ["10"] })
    ));
    assert!(
        !fits(json!({ "key": "tier", "operator": "Lt", "values": ["10"] })),
        "not a number"
    );
    assert!(
        !fits(json!({ "key": "gen", "operator": "Gt", "values": ["1", "2"] })),
        "malformed"
    );
    // Terms are ORed; requirements within a term ANDed; an empty term matches nothing.
    let answer = |terms: Value| run(&[group(1, affinity(terms))], &n, &[]).schedulable;
    assert!(answer(json!([
        { "matchExpressions": [{ "key": "tier", "operator": "In", "values": ["cpu"] }] },
        { "matchExpressions": [{ "key": "gen", "operator": "Exists" }] },
    ])));
    assert!(!answer(json!([{ "matchExpressions": [
        { "key": "tier", "operator": "In", "values": ["gpu"] },
        { "key": "gen", "operator": "DoesNotExist" },
    ] }])));
    assert!(!answer(json!([{}])));
}

#[test]
fn match_fields_on_the_node_name_prefilter_the_nodes() {
    let nodes = [
        node("a", 0, json!({})),
        node("b", 0, json!({})),
        node("c", 0, json!({})),
    ];
    let by_name = affinity(
        json!([{ "matchFields": [{ "key": "metadata.name", "operator": "In", "values": ["b"] }] }]),
    );
    let answer = run(&[group(2, by_name)], &nodes, &[]);
    assert_eq!(answer.groups[0].placed, 2);
    assert!(verdict(&answer, "b").fits);
    assert_eq!(
        verdict(&answer, "a").scheduler_reasons,
        vec![REASON_PREFILTER_NAMES]
    );
    let not_b = affinity(
        json!([{ "matchFields": [{ "key": "metadata.name", "operator": "NotIn", "values": ["b"] }] }]),
    );
    let answer = run(&[group(1, not_b)], &nodes, &[]);
    assert!(!verdict(&answer, "b").fits);
    assert_eq!(
        verdict(&answer, "b").reasons,
        vec![REASON_AFFINITY],
        "NotIn does not prefilter"
    );
    // Only names, all excluded by the other filters: the absent nodes carry the PreFilter reason.
    let tainted = [
        node(
            "a",
            0,
            json!({ "spec": { "taints": [{ "key": "k", "effect": "NoSchedule" }] } }),
        ),
        node("b", 0, json!({})),
    ];
    let pin_a = affinity(
        json!([{ "matchFields": [{ "key": "metadata.name", "operator": "In", "values": ["a"] }] }]),
    );
    let answer = run(&[group(1, pin_a)], &tainted, &[]);
    assert_eq!(
        answer.groups[0].unschedulable_message.as_deref(),
        Some(
            "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) had untolerated taint(s)."
        )
    );
    let conflict = affinity(json!([{ "matchFields": [
        { "key": "metadata.name", "operator": "In", "values": ["a"] },
        { "key": "metadata.name", "operator": "In", "values": ["b"] },
    ] }]));
    let answer = run(&[group(1, conflict)], &tainted, &[]);
    assert_eq!(
        answer.groups[0].unschedulable_message.as_deref(),
        Some("0/2 nodes are available: pod affinity terms conflict.")
    );
}

#[test]
fn the_summary_sorts_count_reason_strings() {
    // 10 nodes short of GPUs and 2 with a taint: "10 …" sorts before "2 …" as strings.
    let mut nodes: Vec<_> = (0..10)
        .map(|i| node(&format!("n{i:02}"), 1, json!({})))
        .collect();
    for i in 0..2 {
        nodes.push(node(
            &format!("t{i}"),
            8,
            json!({ "spec": { "taints": [{ "key": "k", "value": "v", "effect": "NoSchedule" }] } }),
        ));
    }
    let answer = run(
        &[group(
            1,
            template(json!({ "nvidia.com/gpu": "2" }), json!({})),
        )],
        &nodes,
        &[],
    );
    assert_eq!(
        answer.groups[0].unschedulable_message.as_deref(),
        Some(
            "0/12 nodes are available: 10 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint(s)."
        )
    );
}

#[test]
fn replicas_partially_fit_and_the_rest_see_the_used_room() {
    let nodes = [
        node("a", 8, json!({})),
        node("b", 4, json!({})),
        node("c", 2, json!({})),
    ];
    let answer = run(
        &[group(
            5,
            template(json!({ "nvidia.com/gpu": "4" }), json!({})),
        )],
        &nodes,
        &[],
    );
    let g = &answer.groups[0];
    assert_eq!(g.placed, 3, "two on a, one on b, none on c");
    assert!(!answer.schedulable);
    let on = |n: &str| {
        g.placements
            .iter()
            .filter(|p| p.node.as_deref() == Some(n))
            .count()
    };
    assert_eq!((on("a"), on("b"), on("c")), (2, 1, 0));
    assert_eq!(g.placements.iter().filter(|p| p.node.is_none()).count(), 2);
    assert_eq!(
        g.unschedulable_message.as_deref(),
        Some("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
    );
    assert_eq!(verdict(&answer, "a").fit_count, 2);
    assert!(!verdict(&answer, "c").fits);
}

#[test]
fn the_placed_count_does_not_depend_on_node_order() {
    let mut nodes = vec![
        node("a", 3, json!({})),
        node("b", 5, json!({})),
        node("c", 8, json!({})),
        node("d", 1, json!({})),
    ];
    let shape = template(json!({ "nvidia.com/gpu": "2", "cpu": "5" }), json!({}));
    let first = run(&[group(10, shape.clone())], &nodes, &[]).groups[0].placed;
    nodes.reverse();
    let second = run(&[group(10, shape)], &nodes, &[]).groups[0].placed;
    // GPUs allow 1 + 2 + 4 + 0 = 7, CPU (16 each) 3 per node: 1 + 2 + 3 = 6.
    assert_eq!((first, second), (6, 6));
}

#[test]
fn later_groups_see_what_earlier_ones_took() {
    let nodes = [node("a", 8, json!({}))];
    let prefill = ReplicaGroup {
        role: "prefill".into(),
        replicas: 1,
        pod: template(json!({ "nvidia.com/gpu": "6" }), json!({})),
    };
    let decode = ReplicaGroup {
        role: "decode".into(),
        replicas: 1,
        pod: template(json!({ "nvidia.com/gpu": "4" }), json!({})),
    };
    let answer = run(&[prefill, decode], &nodes, &[]);
    assert_eq!(answer.groups[0].placed, 1);
    assert_eq!(answer.groups[1].placed, 0);
    assert_eq!(
        answer.groups[1].nodes[0].free_gpus, 2,
        "the decode view follows the prefill placement"
    );
}

#[test]
fn fixes_name_fewer_gpus_another_type_and_the_autoscaler() {
    let a100: Arc<Node> = node(
        "a100",
        4,
        json!({ "metadata": { "labels": { "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB" } } }),
    );
    let nodes = [node("h100", 8, json!({})), a100];
    let pods = [bound(
        "holder",
        "h100",
        json!({ "nvidia.com/gpu": "5" }),
        "Running",
    )];
    let pinned = template(
        json!({ "nvidia.com/gpu": "4" }),
        json!({ "nodeSelector": { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" } }),
    );
    let detected = Detection {
        kind: AutoscalerType::ClusterAutoscaler,
        detected: true,
        healthy: true,
        message: "Cluster Autoscaler detected.".into(),
        node_group_count: Some(1),
        scaling_up: false,
        last_activity: None,
    };
    let options = Options {
        gpu_resource: String::new(),
        autoscaler: Some(detected),
    };
    let answer = evaluate(&[group(1, pinned.clone())], &nodes, &pods, &options);
    let kinds: Vec<_> = answer.fixes.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            ScheduleFixKind::FewerGpus,
            ScheduleFixKind::OtherGpuType,
            ScheduleFixKind::AutoscalerScaleUp
        ]
    );
    assert_eq!(answer.fixes[0].gpus_per_replica, Some(3));
    assert_eq!(
        answer.fixes[1].gpu_product.as_deref(),
        Some("NVIDIA-A100-SXM4-40GB")
    );
    assert!(
        answer.fixes[2]
            .message
            .starts_with("Cluster Autoscaler detected — it adds a node for the 1 Pending"),
        "{}",
        answer.fixes[2].message
    );

    let none = Options {
        gpu_resource: String::new(),
        autoscaler: Some(Detection {
            kind: AutoscalerType::None,
            detected: false,
            healthy: false,
            message: "No autoscaler".into(),
            node_group_count: None,
            scaling_up: false,
            last_activity: None,
        }),
    };
    let answer = evaluate(&[group(1, pinned.clone())], &nodes, &pods, &none);
    assert_eq!(
        answer.fixes.last().map(|f| f.kind),
        Some(ScheduleFixKind::NoAutoscaler)
    );
    assert!(
        answer
            .fixes
            .last()
            .is_some_and(|f| f.message.starts_with("No cluster autoscaler is detected"))
    );
    let unknown_one = Options {
        gpu_resource: String::new(),
        autoscaler: Some(unknown("forbidden")),
    };
    let answer = evaluate(&[group(1, pinned)], &nodes, &pods, &unknown_one);
    assert!(answer.fixes.last().is_some_and(|f| {
        f.message
            .starts_with("Whether a cluster autoscaler runs is unknown")
    }));

    // A replica that fits needs no fix; one that no GPU count fits gets no FewerGpus.
    assert!(
        evaluate(
            &[group(
                1,
                template(json!({ "nvidia.com/gpu": "3" }), json!({}))
            )],
            &nodes,
            &pods,
            &none
        )
        .fixes
        .is_empty()
    );
    let no_room = template(json!({ "nvidia.com/gpu": "2", "cpu": "100" }), json!({}));
    let answer = evaluate(&[group(1, no_room)], &nodes, &pods, &none);
    assert_eq!(
        answer.fixes.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [ScheduleFixKind::NoAutoscaler]
    );
}

#[test]
fn the_answer_is_camel_case_json() {
    let answer = run(
        &[group(
            2,
            template(json!({ "nvidia.com/gpu": "1" }), json!({})),
        )],
        &[node("a", 1, json!({}))],
        &[],
    );
    let v = serde_json::to_value(&answer).expect("json");
    assert_eq!(v["nodeCount"], 1);
    assert_eq!(v["groups"][0]["placed"], 1);
    assert_eq!(v["groups"][0]["nodes"][0]["fitCount"], 1);
    assert_eq!(v["groups"][0]["requests"]["nvidia.com/gpu"], "1");
    assert_eq!(v["groups"][0]["placements"][1], json!({ "replica": 1 }));
}
