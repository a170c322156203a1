use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::detect::unknown;
use super::*;

/// The YAML of Cluster Autoscaler 1.30+ (`clusterstate/api` types), as written to the ConfigMap.
pub(crate) const YAML_STATUS: &str = r#"time: 2025-06-01 10:21:33.123456789 +0000 UTC
autoscalerStatus: Running
clusterWide:
  health:
    status: Healthy
    nodeCounts:
      registered:
        total: 3
        ready: 3
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T09:00:00Z"
  scaleUp:
    status: InProgress
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T10:20:00Z"
  scaleDown:
    status: NoCandidates
    candidates: 0
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T09:00:00Z"
nodeGroups:
- name: aks-gpu-12345678-vmss
  health:
    status: Healthy
    nodeCounts:
      registered:
        total: 1
        ready: 1
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
    cloudProviderTarget: 2
    minSize: 0
    maxSize: 5
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T09:00:00Z"
  scaleUp:
    status: InProgress
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T10:20:00Z"
  scaleDown:
    status: NoCandidates
    candidates: 0
    lastProbeTime: "2025-06-01T10:21:33.123456789Z"
    lastTransitionTime: "2025-06-01T09:00:00Z"
- name: aks-cpu-87654321-vmss
  health:
    status: Unhealthy
    nodeCounts:
      registered:
        total: 2
        ready: 1
    cloudProviderTarget: 2
    minSize: 1
    maxSize: 3
  scaleUp:
    status: Backoff
    backoffInfo:
      errorCode: QuotaExceeded
      errorMessage: "Operation could not be completed as it results in exceeding approved standardNCFamily Cores quota"
  scaleDown:
    status: NoCandidates
    candidates: 0
"#;

/// The plain text of earlier Cluster Autoscaler releases.
pub(crate) const TEXT_STATUS: &str = "Cluster-autoscaler status at 2023-03-15 10:21:33.123456789 +0000 UTC:
Cluster-wide:
  Health:      Healthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleUp:     NoActivity (ready=3 registered=3)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:05:00.000000000 +0000 UTC m=+300.1
  ScaleDown:   CandidatesPresent (candidates=1)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 10:00:00.000000000 +0000 UTC m=+3000.1

NodeGroups:
  Name:        eks-gpu-nodes
  Health:      Healthy (ready=2 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=2 longUnregistered=0 cloudProviderTarget=2 (minSize=1, maxSize=10))
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleUp:     NoActivity (ready=2 cloudProviderTarget=2)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleDown:   CandidatesPresent (candidates=1)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 10:00:00.000000000 +0000 UTC m=+3000.1

  Name:        eks-cpu-nodes
  Health:      Healthy (ready=1 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=1 longUnregistered=0 cloudProviderTarget=1 (minSize=1, maxSize=3))
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleUp:     NoActivity (ready=1 cloudProviderTarget=1)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
";

#[test]
fn the_yaml_format() {
    let s = parse_status(Some(YAML_STATUS)).expect("parses");
    assert_eq!(s.format, StatusFormat::Yaml);
    assert_eq!(s.health, "Healthy");
    assert_eq!(s.autoscaler_status.as_deref(), Some("Running"));
    assert_eq!(
        s.last_update_time.as_deref(),
        Some("2025-06-01T10:21:33.123456789Z")
    );
    assert!(s.scaling_up());
    assert_eq!(s.node_groups.len(), 2);
    let gpu = &s.node_groups[0];
    assert_eq!(
        (
            gpu.name.as_str(),
            gpu.min_size,
            gpu.max_size,
            gpu.current_size
        ),
        ("aks-gpu-12345678-vmss", 0, 5, 2)
    );
    assert_eq!((gpu.ready_nodes, gpu.registered_nodes), (Some(1), Some(1)));
    assert_eq!(
        gpu.scale_up.as_ref().map(|a| a.status.as_str()),
        Some("InProgress")
    );
    assert_eq!(
        gpu.scale_up
            .as_ref()
            .and_then(|a| a.last_transition_time.as_deref()),
        Some("2025-06-01T10:20:00Z")
    );
    let cpu = &s.node_groups[1];
    assert_eq!(cpu.health.as_deref(), Some("Unhealthy"));
    let backoff = cpu
        .scale_up
        .as_ref()
        .and_then(|a| a.backoff_message.as_deref());
    assert!(
        backoff.is_some_and(|m| m.starts_with("QuotaExceeded: ")),
        "{backoff:?}"
    );
    assert_eq!(s.scale_down.as_ref().and_then(|a| a.candidates), Some(0));
}

#[test]
fn the_text_format() {
    let s = parse_status(Some(TEXT_STATUS)).expect("parses");
    assert_eq!(s.format, StatusFormat::Text);
    assert_eq!(s.health, "Healthy");
    assert_eq!(
        s.last_update_time.as_deref(),
        Some("2023-03-15T10:21:33.123456789Z")
    );
    assert!(!s.scaling_up());
    assert_eq!(
        s.scale_down.as_ref().map(|a| a.status.as_str()),
        Some("CandidatesPresent")
    );
    assert_eq!(s.scale_down.as_ref().and_then(|a| a.candidates), Some(1));
    assert_eq!(
        s.scale_up
            .as_ref()
            .and_then(|a| a.last_transition_time.as_deref()),
        Some("2023-03-15T09:05:00Z")
    );
    let names: Vec<(&str, i64, i64, i64)> = s
        .node_groups
        .iter()
        .map(|g| (g.name.as_str(), g.min_size, g.max_size, g.current_size))
        .collect();
    assert_eq!(
        names,
        [("eks-gpu-nodes", 1, 10, 2), ("eks-cpu-nodes", 1, 3, 1)]
    );
    assert_eq!(s.node_groups[0].ready_nodes, Some(2));
    assert_eq!(
        s.node_groups[1]
            .scale_down
            .as_ref()
            .map(|a| a.status.as_str()),
        Some("NoCandidates")
    );
}

#[test]
fn empty_and_broken_statuses() {
    for empty in [None, Some(""), Some("{}"), Some("  \n")] {
        let s = parse_status(empty).expect("empty is fine");
        assert_eq!(
            (s.health.as_str(), s.format),
            ("unknown", StatusFormat::Empty)
        );
        assert!(s.node_groups.is_empty());
    }
    assert!(matches!(
        parse_status(Some("nodeGroups: 7")),
        Err(StatusError::Yaml(_))
    ));
    assert!(parse_status(Some("[unclosed")).is_err());
}

fn node(v: serde_json::Value) -> Arc<Node> {
    Arc::new(serde_json::from_value(v).expect("node"))
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("time")
}

#[test]
fn detection() {
    let plain = vec![node(json!({ "metadata": { "name": "n1" } }))];
    let aks = vec![
        node(json!({ "metadata": { "name": "a1", "labels": {
            "kubernetes.azure.com/cluster": "rg", "agentpool": "gpu",
            "cluster-autoscaler.kubernetes.io/enabled": "true" } } })),
        node(json!({ "metadata": { "name": "a2", "labels": {
            "kubernetes.azure.com/agentpool": "cpu",
            "cluster-autoscaler.kubernetes.io/enabled": "true" } },
            "spec": { "providerID": "azure:///subscriptions/x" } })),
    ];
    let status = parse_status(Some(YAML_STATUS)).expect("status");
    let soon = at("2025-06-01T10:24:00Z");
    let late = at("2025-06-01T10:40:00Z");

    let d = detect(&aks, None, &[], soon);
    assert_eq!(
        (d.kind, d.detected, d.healthy),
        (AutoscalerType::AksManaged, true, true)
    );
    assert_eq!(
        d.message,
        "AKS managed autoscaler detected on 2 node pool(s)"
    );
    assert_eq!(d.node_group_count, Some(2));

    let d = detect(&plain, Some(&status), &[], soon);
    assert_eq!(
        (d.kind, d.healthy, d.scaling_up),
        (AutoscalerType::ClusterAutoscaler, true, true)
    );
    assert_eq!(d.message, "Cluster Autoscaler running on 2 node group(s)");
    let stale = detect(&plain, Some(&status), &[], late);
    assert!(!stale.healthy);
    assert_eq!(
        stale.message,
        "Cluster Autoscaler detected but status is stale or unhealthy"
    );

    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "ca", "namespace": "kube-system", "labels": { "app": "cluster-autoscaler" } },
        "spec": { "replicas": 1, "selector": {}, "template": {} },
        "status": { "readyReplicas": 1 }
    }))
    .expect("deployment");
    let d = detect(&plain, None, std::slice::from_ref(&deployment), soon);
    assert_eq!(
        (d.kind, d.healthy, d.node_group_count),
        (AutoscalerType::ClusterAutoscaler, true, Some(0))
    );
    assert_eq!(d.message, "Cluster Autoscaler running");

    let none = detect(&plain, None, &[], soon);
    assert_eq!((none.kind, none.detected), (AutoscalerType::None, false));
    assert!(
        none.message
            .contains("Install Kubernetes Cluster Autoscaler")
    );
    let aks_only = vec![node(
        json!({ "metadata": { "name": "a", "labels": { "kubernetes.azure.com/cluster": "rg" } } }),
    )];
    assert!(
        detect(&aks_only, None, &[], soon)
            .message
            .contains("Enable AKS node pool autoscaling")
    );
    let aks_status = detect(&aks_only, Some(&status), &[], soon);
    assert_eq!(aks_status.kind, AutoscalerType::AksManaged);

    let u = unknown("forbidden");
    assert_eq!((u.kind, u.detected), (AutoscalerType::Unknown, false));
    let json = serde_json::to_value(&u).expect("json");
    assert_eq!(json["type"], "unknown");
}
