//! The deployment endpoints that need the provider's objects and pods: a real controller with the
//! built-in `kubernetes` provider runs in this binary, so the manifest shows the Deployment and
//! Service it owns and an unschedulable request yields real scheduler events.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Server};

/// The binary's shared server, with an HTTP client of this test's own: connections pooled by a
/// client shared across test runtimes die with the runtime that opened them.
fn server(mode: AuthMode) -> Server {
    support::own_server(mode)
}

async fn namespace(prefix: &str) -> String {
    support::namespace(prefix).await
}

fn request(name: &str, ns: &str, gpus: i64) -> Value {
    json!({
        "name": name, "namespace": ns, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm",
        "provider": "kubernetes", "resources": { "gpu": gpus },
    })
}

#[tokio::test]
async fn the_manifest_includes_the_objects_the_provider_owns() {
    support::kubernetes_controller();
    let server = &server(AuthMode::Off);
    let ns = namespace("dep-manifest").await;
    let reply = server
        .call(
            Method::POST,
            "/api/deployments",
            None,
            Some(&request("served", &ns, 1)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    let path = format!("/api/deployments/served/manifest?namespace={ns}");
    let manifest = server
        .get_eventually(&path, None, "Deployment and Service in the manifest", |b| {
            b["resources"].as_array().is_some_and(|r| r.len() == 3)
        })
        .await;
    assert_eq!(
        manifest["primaryResource"],
        json!({ "kind": "ModelDeployment", "apiVersion": "kubeairunway.ai/v1alpha1" })
    );
    let resources = manifest["resources"].as_array().expect("resources");
    let kinds: Vec<_> = resources
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().expect("kind"),
                r["apiVersion"].as_str().expect("v"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ModelDeployment", "kubeairunway.ai/v1alpha1"),
            ("Deployment", "apps/v1"),
            ("Service", "v1")
        ]
    );
    let uid = resources[0]["manifest"]["metadata"]["uid"]
        .as_str()
        .expect("uid");
    assert_eq!(
        resources[0]["manifest"]["status"]["provider"]["name"],
        "kubernetes"
    );
    for r in resources {
        assert_eq!(r["name"], "served");
        assert_eq!(r["manifest"]["metadata"].get("managedFields"), None, "{r}");
    }
    for r in &resources[1..] {
        assert_eq!(
            r["manifest"]["metadata"]["ownerReferences"][0]["uid"], uid,
            "{r}"
        );
    }
    assert_eq!(manifest.get("warnings"), None, "{manifest}");

    // Its pod runs: no pending reasons; the status names the provider and the pod.
    let got = server
        .get_eventually(
            &format!("/api/deployments/served?namespace={ns}"),
            None,
            "a running pod",
            |b| {
                b["pods"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["phase"] == "Running"))
            },
        )
        .await;
    assert_eq!(got["provider"], "kubernetes");
    assert_eq!(got["engine"], "vllm");
    let reasons = server
        .get(
            &format!("/api/deployments/served/pending-reasons?namespace={ns}"),
            None,
        )
        .await;
    assert_eq!(reasons.status, StatusCode::OK);
    assert_eq!(reasons.body, json!({ "reasons": [] }));
}

#[tokio::test]
async fn sixteen_gpus_stay_pending_with_reasons_an_autoscaler_can_fix() {
    support::kubernetes_controller();
    let server = &server(AuthMode::Off);
    let ns = namespace("dep-pending").await;
    let reply = server
        .call(
            Method::POST,
            "/api/deployments",
            None,
            Some(&request("huge", &ns, 16)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    // No node has 16 GPUs (the largest has 8): the create answer warns, but creates.
    let warnings = reply.body["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.starts_with("⚠️ Scheduling constraint"))),
        "{warnings:?}"
    );

    // The timeline says where it is stuck: the scheduler's refusal, in the scheduler's words.
    let detail = server
        .get_eventually(
            &format!("/api/deployments/huge?namespace={ns}"),
            None,
            "a stalled Scheduled phase",
            |b| b["progress"]["stalledReason"] == "InsufficientGPU",
        )
        .await;
    assert_eq!(detail["progress"]["current"], "Scheduled", "{detail}");
    assert_eq!(
        detail["progress"]["phases"][0]["state"], "Stalled",
        "{detail}"
    );
    assert!(
        detail["progress"]["phases"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Insufficient nvidia.com/gpu")),
        "{detail}"
    );

    let pods = server
        .get_eventually(
            &format!("/api/deployments/huge/pods?namespace={ns}"),
            None,
            "a pending pod",
            |b| b["pods"].as_array().is_some_and(|p| !p.is_empty()),
        )
        .await;
    assert_eq!(pods["pods"][0]["phase"], "Pending", "{pods}");
    assert_eq!(pods["pods"][0]["ready"], false);

    let reasons = server
        .get_eventually(
            &format!("/api/deployments/huge/pending-reasons?namespace={ns}"),
            None,
            "a scheduling reason",
            |b| b["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        )
        .await;
    let reasons = reasons["reasons"].as_array().expect("reasons");
    let gpu = reasons
        .iter()
        .find(|r| r["reason"] == "FailedScheduling")
        .unwrap_or_else(|| panic!("no FailedScheduling in {reasons:?}"));
    assert!(
        gpu["message"]
            .as_str()
            .is_some_and(|m| m.contains("Insufficient nvidia.com/gpu")),
        "{gpu}"
    );
    assert_eq!(gpu["isResourceConstraint"], true);
    assert_eq!(gpu["resourceType"], "gpu");
    assert_eq!(gpu["canAutoscalerHelp"], true);
    // Deduplicated: each (reason, message) once.
    let mut keys: Vec<_> = reasons
        .iter()
        .map(|r| (r["reason"].to_string(), r["message"].to_string()))
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before, "{reasons:?}");
}

/// The preview names the provider and engine the controller then selects, and shows the
/// objects it then creates, field for field (both come from the same core functions).
#[tokio::test]
async fn the_preview_tells_what_the_controller_then_does() {
    support::kubernetes_controller();
    let server = &server(AuthMode::Off);
    let ns = namespace("dep-preview").await;
    // No provider named and no engine: the controller chooses both.
    let body = json!({ "name": "chosen", "namespace": ns, "modelId": "Qwen/Qwen3-0.6B", "resources": { "gpu": 1 } });
    let preview = server
        .post_eventually("/api/deployments/preview", &body, "a selection", |b| {
            b["selection"]["provider"].is_string()
        })
        .await;
    let selection = &preview["selection"];
    assert_eq!(selection["provider"], "kubernetes", "{preview}");
    assert_eq!(selection["engine"], "vllm", "{preview}");
    assert_eq!(selection["phase"], "Pending");
    let previewed = preview["resources"].as_array().expect("resources");
    let kinds: Vec<_> = previewed.iter().map(|r| r["kind"].clone()).collect();
    assert_eq!(
        kinds,
        [
            json!("ModelDeployment"),
            json!("Deployment"),
            json!("Service")
        ]
    );

    let reply = server
        .call(Method::POST, "/api/deployments", None, Some(&body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body.get("warnings"), None, "{}", reply.body);
    let manifest = server
        .get_eventually(
            &format!("/api/deployments/chosen/manifest?namespace={ns}"),
            None,
            "Deployment and Service in the manifest",
            |b| b["resources"].as_array().is_some_and(|r| r.len() == 3),
        )
        .await;
    let created = manifest["resources"].as_array().expect("resources");
    assert_eq!(
        created[0]["manifest"]["status"]["provider"]["name"],
        selection["provider"]
    );
    assert_eq!(
        created[0]["manifest"]["status"]["engine"]["type"],
        selection["engine"]
    );
    // The container the controller applied is the one the preview rendered.
    let container = |r: &Value| r["manifest"]["spec"]["template"]["spec"]["containers"][0].clone();
    let (want, got) = (container(&previewed[1]), container(&created[1]));
    for field in ["image", "args", "ports", "resources"] {
        assert_eq!(
            got[field], want[field],
            "{field}: preview {want} vs created {got}"
        );
    }

    // A spec no provider serves: the preview says so before anything is created.
    let sglang = json!({ "name": "unserved", "namespace": ns, "modelId": "a/b", "engine": "sglang", "resources": { "gpu": 1 } });
    let reply = server
        .call(
            Method::POST,
            "/api/deployments/preview",
            None,
            Some(&sglang),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["selection"].get("provider"),
        None,
        "{}",
        reply.body
    );
    let warnings = reply.body["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w.as_str().is_some_and(|w| w.starts_with(
            "⚠️ No provider will take this deployment yet: Provider selection failed: no ready provider supports engine sglang"
        ))),
        "{warnings:?}"
    );
}

/// The event stream carries the timeline as it moves: a deployment KWOK makes ready at once
/// arrives with every phase done (the download skipped: the engine downloads while loading).
#[tokio::test]
async fn the_event_stream_carries_the_progress_timeline() {
    support::kubernetes_controller();
    let server = &server(AuthMode::Off);
    let ns = namespace("dep-progress").await;
    let mut stream = support::SseReader::open(
        server,
        &format!("/api/deployments/events?namespace={ns}"),
        None,
    )
    .await;
    let reply = server
        .call(
            Method::POST,
            "/api/deployments",
            None,
            Some(&request("timeline", &ns, 1)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let ready = stream
        .wait_for("upsert", Duration::from_secs(60), |d| {
            d["deployment"]["name"] == "timeline"
                && d["deployment"]["progress"]["podsReady"] == 1
                && d["deployment"]["progress"]["current"].is_null()
        })
        .await
        .expect("an upsert with the whole timeline done");
    let phases = ready.data["deployment"]["progress"]["phases"]
        .as_array()
        .expect("phases")
        .clone();
    let names: Vec<_> = phases.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(
        names,
        [
            "Scheduled",
            "ImagePulling",
            "Downloading",
            "Loading",
            "Ready"
        ],
        "{phases:?}"
    );
    for phase in &phases {
        let want = if phase["name"] == "Downloading" {
            "Skipped"
        } else {
            "Done"
        };
        assert_eq!(phase["state"], want, "{phase}");
        if want == "Done" {
            assert!(phase["finishedAt"].is_string(), "{phase}");
            assert!(
                phase["durationSeconds"].as_i64().is_some_and(|d| d >= 0),
                "{phase}"
            );
        }
    }
}
