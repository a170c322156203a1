//! Wire compatibility of `POST /api/deployments` (and `/preview`) with the clients written for
//! the reference implementation: its React deploy form, its `@kubeairunway/shared` client and
//! its Headlamp plugin. The fixtures are the exact JSON bodies those clients send (the form
//! always sends `prefillReplicas`, `decodeReplicas`, `prefillGpus`, `decodeGpus`, `replicas`,
//! `enforceEager: true` and `routerMode: "none"`, whatever the mode and engine; KAITO adds
//! `kaitoResourceType`; the AI Configurator puts numbers into `engineArgs`). Each must create
//! the ModelDeployment it means and name, in `warnings`, every field it sent that is not
//! applied. Only the namespace differs from what the form sends (each test has its own).

mod support;

use kube::Client;
use kube::api::Api;
use kubeairunway_api::ModelDeployment;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, Server};

/// This test's server, an admin client and a fresh namespace.
async fn setup(prefix: &str) -> (Server, Client, String) {
    (
        support::own_server(AuthMode::Off),
        support::admin_client().await,
        support::namespace(prefix).await,
    )
}

/// A fixture with the namespace of this test.
fn in_namespace(mut body: Value, namespace: &str) -> Value {
    body["namespace"] = json!(namespace);
    body
}

/// The stored spec of `name`.
async fn spec_of(client: &Client, ns: &str, name: &str) -> Value {
    let md = Api::<ModelDeployment>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("{name} exists: {e}"));
    serde_json::to_value(md.spec).expect("spec")
}

/// The `⚠️ Not applied: …` warnings of an answer, in order.
fn not_applied(body: &Value) -> Vec<String> {
    body["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .filter(|w| w.starts_with("⚠️ Not applied: "))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts each warning in `got` contains the matching fragment of `want`, and that there are
/// as many.
#[track_caller]
fn assert_warnings(got: &[String], want: &[&str]) {
    assert_eq!(got.len(), want.len(), "warnings: {got:#?}");
    for (w, fragment) in got.iter().zip(want) {
        assert!(w.contains(fragment), "{w:?} should contain {fragment:?}");
    }
}

/// Posts a fixture, asserts 201, and returns the answer.
async fn create(server: &Server, body: &Value) -> Value {
    let reply = server.post_json("/api/deployments", None, body).await;
    reply.expect_status(StatusCode::CREATED, format!("POST {body}"));
    assert_eq!(reply.body["message"], "Deployment created successfully");
    reply.body
}

/// The fields of the reference form's `DeploymentConfig` every deployment carries.
const PREFILL_DECODE_IN_AGGREGATED: &str = "prefillReplicas (1), decodeReplicas (1), prefillGpus (1), decodeGpus (1): they apply to mode disaggregated only";

/// The reference form's body for a vLLM model on Dynamo with every default left alone.
fn vllm_aggregated_default() -> Value {
    json!({
        "name": "qwen3-0-6b-k3f9",
        "namespace": "dynamo-system",
        "modelId": "Qwen/Qwen3-0.6B",
        "servedModelName": "Qwen/Qwen3-0.6B",
        "engine": "vllm",
        "mode": "aggregated",
        "provider": "dynamo",
        "routerMode": "none",
        "replicas": 1,
        "hfTokenSecret": "hf-token-secret",
        "enforceEager": true,
        "enablePrefixCaching": false,
        "trustRemoteCode": false,
        "prefillReplicas": 1,
        "decodeReplicas": 1,
        "prefillGpus": 1,
        "decodeGpus": 1,
        "resources": { "gpu": 1 }
    })
}

#[tokio::test]
async fn the_reference_forms_vllm_default_creates_the_intended_deployment() {
    let (server, client, ns) = &setup("compat-vllm").await;
    let body = in_namespace(vllm_aggregated_default(), ns);

    // The preview answers 200 with the same warnings and creates nothing.
    let preview = server
        .post_json("/api/deployments/preview", None, &body)
        .await;
    preview.expect_status(StatusCode::OK, "preview");
    assert_warnings(&not_applied(&preview.body), &[PREFILL_DECODE_IN_AGGREGATED]);
    assert_eq!(preview.body["resources"][0]["kind"], "ModelDeployment");

    let created = create(server, &body).await;
    assert_eq!(created["name"], "qwen3-0-6b-k3f9");
    assert_eq!(created["namespace"], json!(ns));
    assert_warnings(&not_applied(&created), &[PREFILL_DECODE_IN_AGGREGATED]);
    assert_eq!(
        spec_of(client, ns, "qwen3-0-6b-k3f9").await,
        json!({
            "model": { "id": "Qwen/Qwen3-0.6B", "servedName": "Qwen/Qwen3-0.6B", "source": "huggingface" },
            "provider": { "name": "dynamo" },
            "engine": { "type": "vllm", "trustRemoteCode": false, "args": { "enforce-eager": "" } },
            "serving": { "mode": "aggregated" },
            "scaling": { "replicas": 1 },
            "resources": { "gpu": { "count": 1, "type": "nvidia.com/gpu" } },
            "secrets": { "huggingFaceToken": "hf-token-secret" },
        })
    );
}

#[tokio::test]
async fn sglang_gets_its_own_eager_flag() {
    let (server, client, ns) = &setup("compat-sglang").await;
    let mut body = in_namespace(vllm_aggregated_default(), ns);
    body["name"] = json!("qwen3-sglang-a1b2");
    body["engine"] = json!("sglang");
    let created = create(server, &body).await;
    assert_warnings(&not_applied(&created), &[PREFILL_DECODE_IN_AGGREGATED]);
    let spec = spec_of(client, ns, "qwen3-sglang-a1b2").await;
    assert_eq!(
        spec["engine"],
        json!({ "type": "sglang", "trustRemoteCode": false, "args": { "disable-cuda-graph": "" } })
    );
    assert_eq!(spec["scaling"], json!({ "replicas": 1 }));
}

#[tokio::test]
async fn trtllm_with_enforce_eager_is_created_without_the_flag() {
    let (server, client, ns) = &setup("compat-trtllm").await;
    let mut body = in_namespace(vllm_aggregated_default(), ns);
    body["name"] = json!("qwen3-trtllm-c3d4");
    body["engine"] = json!("trtllm");
    let created = create(server, &body).await;
    assert_warnings(
        &not_applied(&created),
        &[
            "enforceEager: engine trtllm has no such setting",
            PREFILL_DECODE_IN_AGGREGATED,
        ],
    );
    let spec = spec_of(client, ns, "qwen3-trtllm-c3d4").await;
    assert_eq!(
        spec["engine"],
        json!({ "type": "trtllm", "trustRemoteCode": false })
    );
}

#[tokio::test]
async fn llama_cpp_on_kaito_with_a_resource_type() {
    let (server, client, ns) = &setup("compat-kaito").await;
    // A curated KAITO model: the form matched the premade model, kept its fallback engine
    // (`vllm`: KAITO lists no GPU engine), the GPU recommendation, and added the KAITO fields.
    let body = in_namespace(
        json!({
            "name": "llama3-2-1b-x9z8",
            "namespace": "kaito-workspace",
            "modelId": "llama3.2:1b",
            "servedModelName": "llama-3.2-1b-instruct",
            "engine": "vllm",
            "mode": "aggregated",
            "provider": "kaito",
            "routerMode": "none",
            "replicas": 1,
            "hfTokenSecret": "hf-token-secret",
            "enforceEager": true,
            "enablePrefixCaching": false,
            "trustRemoteCode": false,
            "prefillReplicas": 1,
            "decodeReplicas": 1,
            "prefillGpus": 1,
            "decodeGpus": 1,
            "resources": { "gpu": 1 },
            "kaitoResourceType": "inferenceset",
            "modelSource": "premade",
            "computeType": "cpu",
            "premadeModel": "llama3.2:1b"
        }),
        ns,
    );
    let created = create(server, &body).await;
    assert_warnings(
        &not_applied(&created),
        &[
            "engine vllm: modelSource premade runs engine llamacpp",
            "enforceEager: engine llamacpp has no such setting",
            PREFILL_DECODE_IN_AGGREGATED,
            "resources.gpu (1): computeType cpu serves without GPUs",
        ],
    );
    assert_eq!(
        spec_of(client, ns, "llama3-2-1b-x9z8").await,
        json!({
            "model": { "id": "llama3.2:1b", "servedName": "llama-3.2-1b-instruct", "source": "custom" },
            "provider": { "name": "kaito", "overrides": { "resourceType": "inferenceset" } },
            "engine": { "type": "llamacpp", "trustRemoteCode": false },
            "serving": { "mode": "aggregated" },
            "scaling": { "replicas": 1 },
            "resources": { "gpu": { "count": 0, "type": "nvidia.com/gpu" } },
            "image": "ghcr.io/kaito-project/aikit/llama3.2:1b",
            "secrets": { "huggingFaceToken": "hf-token-secret" },
        })
    );

    // `workspace` is KAITO's default kind: nothing to write, nothing to warn about.
    let mut workspace = body.clone();
    workspace["name"] = json!("llama3-2-1b-w1");
    workspace["kaitoResourceType"] = json!("workspace");
    create(server, &workspace).await;
    assert_eq!(
        spec_of(client, ns, "llama3-2-1b-w1").await["provider"],
        json!({ "name": "kaito" })
    );
}

#[tokio::test]
async fn dynamo_disaggregated_with_replicas_present() {
    let (server, client, ns) = &setup("compat-pd").await;
    let body = in_namespace(
        json!({
            "name": "qwen3-8b-pd-e5f6",
            "namespace": "dynamo-system",
            "modelId": "Qwen/Qwen3-8B",
            "servedModelName": "Qwen/Qwen3-8B",
            "engine": "vllm",
            "mode": "disaggregated",
            "provider": "dynamo",
            "routerMode": "kv",
            "replicas": 1,
            "hfTokenSecret": "hf-token-secret",
            "enforceEager": true,
            "enablePrefixCaching": false,
            "trustRemoteCode": false,
            "prefillReplicas": 1,
            "decodeReplicas": 2,
            "prefillGpus": 1,
            "decodeGpus": 2,
            "resources": { "gpu": 1 }
        }),
        ns,
    );
    let created = create(server, &body).await;
    assert_warnings(
        &not_applied(&created),
        &[
            "replicas (1): it applies to mode aggregated only",
            "resources.gpu (1): in mode disaggregated it is only the default of prefillGpus (1) and decodeGpus (2)",
        ],
    );
    assert_eq!(
        spec_of(client, ns, "qwen3-8b-pd-e5f6").await,
        json!({
            "model": { "id": "Qwen/Qwen3-8B", "servedName": "Qwen/Qwen3-8B", "source": "huggingface" },
            "provider": { "name": "dynamo", "overrides": { "routerMode": "kv" } },
            "engine": { "type": "vllm", "trustRemoteCode": false, "args": { "enforce-eager": "" } },
            "serving": { "mode": "disaggregated" },
            "scaling": {
                "replicas": 1,
                "prefill": { "replicas": 1, "gpu": { "count": 1, "type": "nvidia.com/gpu" } },
                "decode": { "replicas": 2, "gpu": { "count": 2, "type": "nvidia.com/gpu" } },
            },
            "secrets": { "huggingFaceToken": "hf-token-secret" },
        })
    );
    // The list shows both counts of each component, as the reference UI prints them
    // (`P: ready/desired`).
    let list = server
        .get_eventually(
            &format!("/api/deployments?namespace={ns}"),
            None,
            "the deployment in the list",
            |b| b["pagination"]["total"] == 1,
        )
        .await;
    let item = &list["deployments"][0];
    assert_eq!(item["prefillReplicas"], json!({ "desired": 1, "ready": 0 }));
    assert_eq!(item["decodeReplicas"], json!({ "desired": 2, "ready": 0 }));
    assert_eq!(item["engine"], "vllm");
}

#[tokio::test]
async fn numeric_engine_args_become_strings() {
    let (server, client, ns) = &setup("compat-args").await;
    // After "Apply" in the AI Configurator panel: numbers in engineArgs, the context length set.
    let mut body = in_namespace(vllm_aggregated_default(), ns);
    body["name"] = json!("qwen3-tuned-g7h8");
    body["contextLength"] = json!(4096);
    body["engineArgs"] = json!({
        "max-num-batched-tokens": 8192,
        "gpu-memory-utilization": 0.9,
        "max-num-seqs": 256
    });
    let created = create(server, &body).await;
    assert_warnings(&not_applied(&created), &[PREFILL_DECODE_IN_AGGREGATED]);
    let spec = spec_of(client, ns, "qwen3-tuned-g7h8").await;
    assert_eq!(
        spec["engine"],
        json!({
            "type": "vllm", "contextLength": 4096, "trustRemoteCode": false,
            "args": {
                "enforce-eager": "", "gpu-memory-utilization": "0.9",
                "max-num-batched-tokens": "8192", "max-num-seqs": "256",
            },
        })
    );
}

#[tokio::test]
async fn invalid_values_are_still_refused() {
    let (server, _client, ns) = &setup("compat-bad").await;
    for (change, fragment) in [
        (json!({ "replicas": -1 }), "replicas"),
        (
            json!({ "kaitoResourceType": "pool" }),
            "unknown variant `pool`",
        ),
        (
            json!({ "routerMode": "random" }),
            "unknown variant `random`",
        ),
        (json!({ "prefillGpus": "one" }), "prefillGpus"),
        (
            json!({ "engineArgs": { "max-num-seqs": [8] } }),
            "engineArgs.max-num-seqs",
        ),
        (
            json!({ "notInDeploymentConfig": 1 }),
            "unknown field `notInDeploymentConfig`",
        ),
    ] {
        let mut body = in_namespace(vllm_aggregated_default(), ns);
        if let (Some(b), Value::Object(c)) = (body.as_object_mut(), change.clone()) {
            b.extend(c);
        }
        let reply = server.post_json("/api/deployments", None, &body).await;
        reply.assert_error(StatusCode::BAD_REQUEST, fragment, &change);
    }
    let list = server
        .get(&format!("/api/deployments?namespace={ns}"), None)
        .await;
    assert_eq!(list.body["pagination"]["total"], 0, "{}", list.body);
}
