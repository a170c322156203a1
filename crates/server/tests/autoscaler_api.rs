//! `/api/autoscaler/*` with real-format `cluster-autoscaler-status` ConfigMaps (the YAML of
//! Cluster Autoscaler 1.30+ and the older text) and an autoscaler Deployment put on the local
//! cluster. One test, in order: they all use `kube-system`.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use kubeairunway_testenv::User;
use reqwest::StatusCode;
use serde_json::json;
use support::{AuthMode, admin_client, own_server};

fn now_go() -> String {
    // Go's time.String() layout, which the Cluster Autoscaler writes.
    let now = k8s_openapi::jiff::Timestamp::now();
    now.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC").to_string()
}

fn yaml_status(time: &str) -> String {
    format!(
        "time: {time}\nautoscalerStatus: Running\nclusterWide:\n  health:\n    status: Healthy\n    nodeCounts:\n      registered:\n        total: 7\n        ready: 7\n  scaleUp:\n    status: InProgress\n    lastTransitionTime: \"2025-06-01T10:20:00Z\"\n  scaleDown:\n    status: NoCandidates\n    candidates: 0\nnodeGroups:\n- name: h100\n  health:\n    status: Healthy\n    nodeCounts:\n      registered:\n        total: 2\n        ready: 2\n    cloudProviderTarget: 3\n    minSize: 1\n    maxSize: 4\n  scaleUp:\n    status: InProgress\n  scaleDown:\n    status: NoCandidates\n    candidates: 0\n"
    )
}

const TEXT_STATUS: &str = "Cluster-autoscaler status at 2023-03-15 10:21:33.123456789 +0000 UTC:
Cluster-wide:
  Health:      Healthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleUp:     NoActivity (ready=3 registered=3)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:05:00.000000000 +0000 UTC m=+300.1
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 10:00:00.000000000 +0000 UTC m=+3000.1

NodeGroups:
  Name:        t4
  Health:      Healthy (ready=2 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=2 longUnregistered=0 cloudProviderTarget=2 (minSize=0, maxSize=6))
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleUp:     NoActivity (ready=2 cloudProviderTarget=2)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2023-03-15 10:21:33.123456789 +0000 UTC m=+3600.1
               LastTransitionTime: 2023-03-15 09:00:00.000000000 +0000 UTC m=+0.1
";

async fn put_status(api: &Api<ConfigMap>, text: Option<&str>) {
    let _ = api
        .delete("cluster-autoscaler-status", &DeleteParams::default())
        .await;
    let mut data = serde_json::Map::new();
    if let Some(t) = text {
        data.insert("status".into(), json!(t));
    }
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "cluster-autoscaler-status", "namespace": "kube-system" },
        "data": data,
    }))
    .expect("configmap");
    api.create(&PostParams::default(), &cm)
        .await
        .expect("create status");
}

#[tokio::test]
async fn detection_and_status_in_both_formats() {
    let admin = admin_client().await;
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "kube-system");
    let _ = cms
        .delete("cluster-autoscaler-status", &DeleteParams::default())
        .await;
    let server = own_server(AuthMode::Off);

    // Nothing yet.
    let d = server.get("/api/autoscaler/detection", None).await;
    d.expect_status(StatusCode::OK, "detection");
    assert_eq!(
        (d.body["type"].clone(), d.body["detected"].clone()),
        (json!("none"), json!(false)),
        "{}",
        d.body
    );
    assert!(
        d.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Install Kubernetes Cluster Autoscaler")
    );
    server
        .get("/api/autoscaler/status", None)
        .await
        .assert_error(
            StatusCode::NOT_FOUND,
            "Autoscaler status not available",
            "no ConfigMap",
        );

    // The YAML format, fresh.
    put_status(&cms, Some(&yaml_status(&now_go()))).await;
    let s = server.get("/api/autoscaler/status", None).await;
    s.expect_status(StatusCode::OK, "yaml status");
    assert_eq!(s.body["format"], "yaml");
    assert_eq!(s.body["health"], "Healthy");
    assert_eq!(
        s.body["nodeGroups"][0],
        json!({
            "name": "h100", "minSize": 1, "maxSize": 4, "currentSize": 3, "health": "Healthy",
            "readyNodes": 2, "registeredNodes": 2,
            "scaleUp": { "status": "InProgress" },
            "scaleDown": { "status": "NoCandidates", "candidates": 0 },
        })
    );
    let d = server.get("/api/autoscaler/detection", None).await;
    assert_eq!(d.body["type"], "cluster-autoscaler", "{}", d.body);
    assert_eq!(
        (d.body["healthy"].clone(), d.body["scalingUp"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        d.body["message"],
        "Cluster Autoscaler running on 1 node group(s)"
    );

    // The older text format, written long ago: stale.
    put_status(&cms, Some(TEXT_STATUS)).await;
    let s = server.get("/api/autoscaler/status", None).await;
    s.expect_status(StatusCode::OK, "text status");
    assert_eq!(s.body["format"], "text");
    assert_eq!(s.body["lastUpdateTime"], "2023-03-15T10:21:33.123456789Z");
    assert_eq!(s.body["nodeGroups"][0]["name"], "t4");
    assert_eq!(s.body["nodeGroups"][0]["maxSize"], 6);
    let d = server.get("/api/autoscaler/detection", None).await;
    assert_eq!(
        (d.body["type"].clone(), d.body["healthy"].clone()),
        (json!("cluster-autoscaler"), json!(false))
    );
    assert_eq!(
        d.body["message"],
        "Cluster Autoscaler detected but status is stale or unhealthy"
    );

    // No `status` key: an empty status, not an error; garbage: 404 with the reason.
    put_status(&cms, None).await;
    let s = server.get("/api/autoscaler/status", None).await;
    assert_eq!(
        (s.body["health"].clone(), s.body["nodeGroups"].clone()),
        (json!("unknown"), json!([]))
    );
    put_status(&cms, Some("nodeGroups: 7")).await;
    server
        .get("/api/autoscaler/status", None)
        .await
        .assert_error(
            StatusCode::NOT_FOUND,
            "not the Cluster Autoscaler's YAML",
            "garbage",
        );

    // Without a status: a Deployment labelled app=cluster-autoscaler.
    let _ = cms
        .delete("cluster-autoscaler-status", &DeleteParams::default())
        .await;
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), "kube-system");
    let _ = deployments
        .delete("cluster-autoscaler", &DeleteParams::default())
        .await;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "cluster-autoscaler", "labels": { "app": "cluster-autoscaler" } },
        "spec": {
            "replicas": 0,
            "selector": { "matchLabels": { "app": "cluster-autoscaler" } },
            "template": {
                "metadata": { "labels": { "app": "cluster-autoscaler" } },
                "spec": { "containers": [{ "name": "ca", "image": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.0" }] }
            }
        }
    }))
    .expect("deployment");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("create deployment");
    let d = server.get("/api/autoscaler/detection", None).await;
    assert_eq!(d.body["type"], "cluster-autoscaler", "{}", d.body);
    assert_eq!(d.body["healthy"], false, "0 replicas is not running");
    deployments
        .delete("cluster-autoscaler", &DeleteParams::default())
        .await
        .expect("delete");

    // A caller who may not read kube-system learns that (auth on, alice edits only team-a).
    let on = own_server(AuthMode::On);
    let s = on.get("/api/autoscaler/status", Some(User::TeamA)).await;
    s.assert_error(
        StatusCode::FORBIDDEN,
        "Autoscaler status not available",
        "alice",
    );
    let d = on.get("/api/autoscaler/detection", Some(User::TeamA)).await;
    assert_eq!(d.body["type"], "unknown", "{}", d.body);
}
