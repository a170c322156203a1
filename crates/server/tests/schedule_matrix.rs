//! "Will it schedule?" against the real kube-scheduler: for a matrix of cases the preview's
//! `scheduling` answer is taken, then the pods of the rendered Deployment's template are created
//! for real, and where (or whether) the scheduler binds them must agree with the answer — the
//! placed count, the nodes (each bound pod on a node the answer calls feasible) and, for the
//! pods left Pending, the scheduler's own `0/N nodes are available: …` message.
//!
//! Every case has KWOK nodes of its own (labelled `sched-matrix-case=<case>`), and every pod
//! selects its case's label, so the capacity of each case is under the test's control; the
//! other nodes of the cluster show up in both answers as not matching the selector.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use kubeairunway_testenv::{GpuSpec, NodePool, NodePools, User, shared};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::AuthMode;

const CASE_LABEL: &str = "sched-matrix-case";
const TAINT_KEY: &str = "sched-matrix/dedicated";

/// One node of a case.
#[derive(Clone)]
struct NodeDef {
    gpus: u32,
    product: &'static str,
    cpu: &'static str,
    memory: &'static str,
    taint: Option<&'static str>,
    cordoned: bool,
    /// GPUs held by a pod bound to the node before the case runs.
    held_gpus: u32,
}

const H100: &str = "NVIDIA-H100-80GB-HBM3";
const A100: &str = "NVIDIA-A100-SXM4-40GB";

fn gpu_node(gpus: u32, product: &'static str) -> NodeDef {
    NodeDef {
        gpus,
        product,
        cpu: "16",
        memory: "64Gi",
        taint: None,
        cordoned: false,
        held_gpus: 0,
    }
}

/// One row of the matrix.
struct Case {
    name: &'static str,
    nodes: Vec<NodeDef>,
    /// Body fields beyond name, namespace, model, engine and provider.
    body: Value,
    /// Replicas the answer must place (checked against a hand count too).
    placed: i32,
    replicas: i32,
    /// A reason the answer's message for the unplaced replicas must name.
    reason: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    let tainted = |effect: &'static str| NodeDef {
        taint: Some(effect),
        ..gpu_node(8, H100)
    };
    vec![
        Case {
            name: "gpu-fits",
            nodes: vec![gpu_node(8, H100)],
            body: json!({ "resources": { "gpu": 4 } }),
            placed: 1,
            replicas: 1,
            reason: None,
        },
        Case {
            name: "gpu-too-many",
            nodes: vec![gpu_node(4, A100)],
            body: json!({ "resources": { "gpu": 8 } }),
            placed: 0,
            replicas: 1,
            reason: Some("Insufficient nvidia.com/gpu"),
        },
        Case {
            name: "gpu-type",
            nodes: vec![gpu_node(8, H100), gpu_node(4, A100)],
            body: json!({ "resources": { "gpu": 4 }, "replicas": 2,
                "nodeSelector": { "nvidia.com/gpu.product": A100 } }),
            placed: 1,
            replicas: 2,
            reason: Some("Insufficient nvidia.com/gpu"),
        },
        Case {
            name: "memory-too-big",
            nodes: vec![gpu_node(8, H100)],
            body: json!({ "resources": { "gpu": 1, "memory": "100Gi" } }),
            placed: 0,
            replicas: 1,
            reason: Some("Insufficient memory"),
        },
        Case {
            name: "cpu-too-big",
            nodes: vec![gpu_node(8, H100)],
            body: json!({ "resources": { "gpu": 1, "cpu": "64" } }),
            placed: 0,
            replicas: 1,
            reason: Some("Insufficient cpu"),
        },
        Case {
            name: "taint-untolerated",
            nodes: vec![tainted("NoSchedule")],
            body: json!({ "resources": { "gpu": 1 } }),
            placed: 0,
            replicas: 1,
            reason: Some("node(s) had untolerated taint(s)"),
        },
        Case {
            name: "taint-noexecute",
            nodes: vec![tainted("NoExecute")],
            body: json!({ "resources": { "gpu": 1 } }),
            placed: 0,
            replicas: 1,
            reason: Some("node(s) had untolerated taint(s)"),
        },
        Case {
            name: "taint-tolerated",
            nodes: vec![tainted("NoSchedule")],
            body: json!({ "resources": { "gpu": 1 },
                "tolerations": [{ "key": TAINT_KEY, "operator": "Exists", "effect": "NoSchedule" }] }),
            placed: 1,
            replicas: 1,
            reason: None,
        },
        Case {
            name: "taint-prefer",
            nodes: vec![tainted("PreferNoSchedule")],
            body: json!({ "resources": { "gpu": 1 } }),
            placed: 1,
            replicas: 1,
            reason: None,
        },
        Case {
            name: "selector-mismatch",
            nodes: vec![gpu_node(8, H100)],
            body: json!({ "resources": { "gpu": 1 }, "nodeSelector": { "pool": "missing" } }),
            placed: 0,
            replicas: 1,
            reason: Some("node(s) didn't match Pod's node affinity/selector"),
        },
        Case {
            name: "cordoned",
            nodes: vec![NodeDef {
                cordoned: true,
                ..gpu_node(8, H100)
            }],
            body: json!({ "resources": { "gpu": 1 } }),
            placed: 0,
            replicas: 1,
            reason: Some("node(s) were unschedulable"),
        },
        Case {
            name: "held-short",
            nodes: vec![NodeDef {
                held_gpus: 6,
                ..gpu_node(8, H100)
            }],
            body: json!({ "resources": { "gpu": 4 } }),
            placed: 0,
            replicas: 1,
            reason: Some("Insufficient nvidia.com/gpu"),
        },
        Case {
            name: "held-fits",
            nodes: vec![NodeDef {
                held_gpus: 6,
                ..gpu_node(8, H100)
            }],
            body: json!({ "resources": { "gpu": 2 } }),
            placed: 1,
            replicas: 1,
            reason: None,
        },
        Case {
            name: "partial",
            nodes: vec![gpu_node(8, H100), gpu_node(8, H100)],
            body: json!({ "resources": { "gpu": 6 }, "replicas": 3 }),
            placed: 2,
            replicas: 3,
            reason: Some("Insufficient nvidia.com/gpu"),
        },
        Case {
            name: "several-per-node",
            nodes: vec![
                gpu_node(8, H100),
                NodeDef {
                    held_gpus: 4,
                    ..gpu_node(8, H100)
                },
            ],
            body: json!({ "resources": { "gpu": 2 }, "replicas": 7 }),
            placed: 6,
            replicas: 7,
            reason: Some("Insufficient nvidia.com/gpu"),
        },
    ]
}

/// The case's Node objects: KWOK nodes named `kwok-sm-<case>-<i>`.
fn case_nodes(case: &Case) -> Vec<(Node, NodeDef)> {
    case.nodes
        .iter()
        .enumerate()
        .map(|(i, def)| {
            let pool = NodePool {
                name: format!("sm-{}-{i}", case.name),
                count: 1,
                cpu: def.cpu.into(),
                memory: def.memory.into(),
                instance_type: "Standard_ND96isr_H100_v5".into(),
                region: "eastus".into(),
                gpu: Some(GpuSpec {
                    product: def.product.into(),
                    count: def.gpus,
                    memory_mib: 40960,
                    family: "test".into(),
                }),
            };
            let mut node = NodePools { pools: vec![pool] }
                .nodes()
                .expect("node")
                .remove(0);
            node.metadata
                .labels
                .get_or_insert_default()
                .insert(CASE_LABEL.into(), case.name.into());
            let spec = node.spec.get_or_insert_default();
            if let Some(effect) = def.taint {
                spec.taints = Some(vec![
                    serde_json::from_value(
                        json!({ "key": TAINT_KEY, "value": case.name, "effect": effect }),
                    )
                    .expect("taint"),
                ]);
            }
            if def.cordoned {
                spec.unschedulable = Some(true);
            }
            (node, def.clone())
        })
        .collect()
}

fn node_name(node: &Node) -> String {
    node.metadata.name.clone().unwrap_or_default()
}

/// Whether the node is Ready and carries no taint but the case's own.
fn settled(node: &Node) -> bool {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let foreign_taint = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|t| {
            t.iter().any(|t| {
                t.key != TAINT_KEY
                    && !(t.key == "node.kubernetes.io/unschedulable"
                        && node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true))
            })
        });
    ready && !foreign_taint
}

fn request(case: &Case, ns: &str) -> Value {
    let mut body = json!({
        "name": format!("sm-{}", case.name), "namespace": ns, "modelId": "Qwen/Qwen3-0.6B",
        "engine": "vllm", "provider": "kubernetes",
    });
    for (k, v) in case.body.as_object().expect("object") {
        body[k] = v.clone();
    }
    // Every pod stays on its case's nodes.
    body["nodeSelector"][CASE_LABEL] = case.name.into();
    body
}

/// The pod template of the preview's Deployment.
fn pod_template(preview: &Value) -> Value {
    preview["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["kind"] == "Deployment")
        .map(|r| r["manifest"]["spec"]["template"].clone())
        .unwrap_or_else(|| panic!("the preview renders a Deployment: {preview}"))
}

/// Where the scheduler put the pod (`Ok(node)`), or its Unschedulable message (`Err`); `None`
/// while it has not decided.
fn outcome(pod: &Pod) -> Option<Result<String, String>> {
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        return Some(Ok(node));
    }
    let condition = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    (condition.reason.as_deref() == Some("Unschedulable"))
        .then(|| Err(condition.message.clone().unwrap_or_default()))
}

/// The scheduler's message up to the end of its filter histogram: the PostFilter plugins
/// (DRA's claim deallocation, preemption) append sentences of their own after it.
fn filter_part(message: &str) -> String {
    match message.find(". ") {
        Some(end) => message[..=end].to_string(),
        None => message.trim().to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_agrees_with_the_kube_scheduler() {
    let started = Instant::now();
    support::kubernetes_controller();
    let server = support::own_server(AuthMode::Off);
    let cp = shared();
    let admin = cp.client(User::Admin).await.expect("admin");
    let ns = support::namespace("sched-matrix").await;
    let nodes_api: Api<Node> = Api::all(admin.clone());
    let pods_api: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let cases = cases();

    // Every case's nodes, then the pods holding GPUs, before any preview: the node count and
    // the free capacity stay the same for the whole matrix.
    let mut ours = BTreeSet::new();
    let mut holders = Vec::new();
    for case in &cases {
        for (node, def) in case_nodes(case) {
            let name = node_name(&node);
            nodes_api
                .create(&PostParams::default(), &node)
                .await
                .unwrap_or_else(|e| panic!("create node {name}: {e}"));
            if def.held_gpus > 0 {
                holders.push((name.clone(), def.held_gpus));
            }
            ours.insert(name);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = nodes_api
            .list(&Default::default())
            .await
            .expect("list nodes");
        let waiting: Vec<String> = list
            .items
            .iter()
            .filter(|n| ours.contains(&node_name(n)) && !settled(n))
            .map(node_name)
            .collect();
        if waiting.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nodes not Ready or still tainted: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for (i, (node, gpus)) in holders.iter().enumerate() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": { "name": format!("holder-{i}") },
            "spec": { "nodeName": node, "containers": [{ "name": "hold", "image": "holder",
                "resources": { "requests": { "nvidia.com/gpu": gpus.to_string() }, "limits": { "nvidia.com/gpu": gpus.to_string() } } }] },
        }))
        .expect("holder");
        pods_api
            .create(&PostParams::default(), &pod)
            .await
            .expect("holder pod");
    }
    let total_nodes = nodes_api
        .list(&Default::default())
        .await
        .expect("nodes")
        .items
        .len();

    // The server's caches have every node and the holders.
    let held_case = cases.iter().find(|c| c.name == "held-short").expect("case");
    server
        .post_eventually(
            "/api/deployments/preview",
            &request(held_case, &ns),
            "the caches to see the matrix",
            |b| {
                b["scheduling"]["nodeCount"].as_u64() == Some(total_nodes as u64)
                    && b["scheduling"]["groups"][0]["nodes"]
                        .as_array()
                        .is_some_and(|nodes| {
                            nodes.iter().any(|n| {
                                n["node"] == "kwok-sm-held-short-0-0" && n["freeGpus"] == 2
                            })
                        })
                    && b["resources"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["kind"] == "Deployment"))
            },
        )
        .await;

    for case in &cases {
        let reply = server
            .post_json("/api/deployments/preview", None, &request(case, &ns))
            .await;
        reply.expect_status(StatusCode::OK, case.name);
        let preview = reply.body.clone();
        let answer = &preview["scheduling"];
        let group = &answer["groups"][0];
        let context = format!(
            "case {}: {}",
            case.name,
            serde_json::to_string_pretty(answer).unwrap_or_default()
        );
        assert_eq!(answer["nodeCount"], total_nodes, "{context}");
        assert_eq!(group["replicas"], case.replicas, "{context}");
        assert_eq!(group["placed"], case.placed, "hand count; {context}");
        assert_eq!(
            answer["schedulable"],
            case.placed == case.replicas,
            "{context}"
        );
        let feasible: BTreeSet<String> = group["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|n| n["fits"] == true)
            .map(|n| n["node"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(
            feasible
                .iter()
                .all(|n| n.starts_with(&format!("kwok-sm-{}-", case.name))),
            "{context}"
        );
        let message = group["unschedulableMessage"].as_str().map(str::to_string);
        match case.reason {
            Some(reason) => assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.contains(&format!(" {reason}"))),
                "{context}"
            ),
            None => assert!(message.is_none(), "{context}"),
        }
        if case.placed < case.replicas {
            assert!(
                !answer["fixes"].as_array().expect("fixes").is_empty(),
                "a fix is offered: {context}"
            );
        }

        // The same pods, for real.
        let template = pod_template(&preview);
        for i in 0..case.replicas {
            let mut pod = json!({ "metadata": template["metadata"].clone(), "spec": template["spec"].clone() });
            pod["metadata"]["name"] = format!("{}-{i}", case.name).into();
            let pod: Pod = serde_json::from_value(pod).expect("pod from the template");
            pods_api
                .create(&PostParams::default(), &pod)
                .await
                .unwrap_or_else(|e| panic!("{}: create pod: {e}", case.name));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let outcomes: BTreeMap<String, Result<String, String>> = loop {
            let mut got = BTreeMap::new();
            for i in 0..case.replicas {
                let name = format!("{}-{i}", case.name);
                let pod = pods_api.get(&name).await.expect("pod");
                if let Some(o) = outcome(&pod) {
                    got.insert(name, o);
                }
            }
            let decided = got.len() == usize::try_from(case.replicas).unwrap_or(0);
            // A Pending pod's message is rewritten on every attempt: wait until it states the
            // final room (the other replicas bound).
            let settled_messages = got.values().all(|o| match (o, &message) {
                (Err(m), Some(expected)) => filter_part(m) == *expected,
                _ => true,
            });
            if decided && settled_messages || Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let bound: Vec<&String> = outcomes.values().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(
            outcomes.len(),
            usize::try_from(case.replicas).unwrap_or(0),
            "{}: the scheduler decided every pod: {outcomes:?}",
            case.name
        );
        assert_eq!(
            bound.len(),
            usize::try_from(case.placed).unwrap_or(0),
            "{}: scheduler {outcomes:?}; {context}",
            case.name
        );
        for node in &bound {
            assert!(
                feasible.contains(*node),
                "{}: bound to {node}, which the answer calls infeasible; {context}",
                case.name
            );
        }
        for o in outcomes.values() {
            if let Err(m) = o {
                assert_eq!(
                    Some(filter_part(m)),
                    message,
                    "{}: the scheduler's message; {context}",
                    case.name
                );
            }
        }
        eprintln!(
            "case {}: {} of {} placed, agreed ({:.1}s)",
            case.name,
            case.placed,
            case.replicas,
            started.elapsed().as_secs_f64()
        );
    }

    // The nodes are the matrix's: remove them so other test binaries' clusters are unaffected
    // (this control plane belongs to this binary anyway).
    for name in &ours {
        let _ = nodes_api.delete(name, &Default::default()).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the matrix took {:?}",
        started.elapsed()
    );
}

/// The answer describes every node: a caller who may not list nodes gets the preview without
/// it, and the reason; one who may gets it.
#[tokio::test]
async fn the_answer_needs_the_right_to_list_nodes() {
    support::kubernetes_controller();
    let server = support::own_server(AuthMode::On);
    let body = json!({
        "name": "sm-rbac", "namespace": User::TEAM_NAMESPACE, "modelId": "Qwen/Qwen3-0.6B",
        "engine": "vllm", "provider": "kubernetes", "resources": { "gpu": 1 },
    });
    let reply = server
        .post_json("/api/deployments/preview", Some(User::TeamA), &body)
        .await;
    reply.expect_status(StatusCode::OK, "alice previews in her namespace");
    assert!(reply.body.get("scheduling").is_none(), "{}", reply.body);
    assert!(
        reply.body["schedulingUnavailable"]
            .as_str()
            .is_some_and(|m| m.contains("may not list nodes")),
        "{}",
        reply.body
    );
    let reply = server
        .post_json("/api/deployments/preview", Some(User::Admin), &body)
        .await;
    reply.expect_status(StatusCode::OK, "the admin previews");
    assert!(
        reply.body["scheduling"]["nodeCount"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{}",
        reply.body
    );
    assert!(
        reply.body.get("schedulingUnavailable").is_none(),
        "{}",
        reply.body
    );
}
