//! The `/api/deployments` endpoints against the real local control plane (no controller runs in
//! this binary; `deployments_controller.rs` covers what needs one): create, list, get, scale,
//! delete, dry run and preview, pods, logs errors, and the live event stream.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{User, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server, SseReader};

fn body(name: &str, namespace: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": name, "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm",
        "resources": { "gpu": 1 },
    });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    body
}

async fn post(server: &Server, user: Option<User>, body: &Value) -> Reply {
    server.post_json("/api/deployments", user, body).await
}

/// This test's server of `mode`, an admin client and a fresh namespace `prefix-…`.
async fn setup(mode: AuthMode, prefix: &str) -> (Server, Client, String) {
    (
        support::own_server(mode),
        support::admin_client().await,
        support::namespace(prefix).await,
    )
}

/// `POST /api/deployments` as `user`, asserting it answers 201.
async fn post_created(server: &Server, user: Option<User>, body: &Value) -> Reply {
    let reply = post(server, user, body).await;
    reply.expect_status(StatusCode::CREATED, "POST /api/deployments");
    reply
}

/// Creates a ModelDeployment directly (as the admin) from a spec.
async fn create_md(client: &Client, ns: &str, name: &str, spec: Value) -> ModelDeployment {
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name, "namespace": ns }, "spec": spec,
    }))
    .expect("ModelDeployment");
    Api::<ModelDeployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &md)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"))
}

/// Creates a ModelDeployment directly (as the admin) with nothing but a model id.
async fn create_minimal_md(client: &Client, ns: &str, name: &str) -> ModelDeployment {
    create_md(client, ns, name, json!({ "model": { "id": "a/b" } })).await
}

async fn get_md(client: &Client, ns: &str, name: &str) -> Option<ModelDeployment> {
    support::get_or_none(
        &Api::<ModelDeployment>::namespaced(client.clone(), ns),
        name,
    )
    .await
}

/// `GET /api/deployments/{name}` once the server's cache has the deployment.
async fn cached(server: &Server, ns: &str, name: &str) -> Value {
    server
        .get_eventually(
            &format!("/api/deployments/{name}?namespace={ns}"),
            None,
            &format!("{name} in the cache"),
            |_| true,
        )
        .await
}

/// The spec of the existing ModelDeployment `name`, as JSON.
async fn spec_of(client: &Client, ns: &str, name: &str) -> Value {
    let md = get_md(client, ns, name)
        .await
        .unwrap_or_else(|| panic!("{name} exists"));
    serde_json::to_value(md.spec).expect("spec")
}

fn names(list: &Value) -> Vec<String> {
    list["deployments"]
        .as_array()
        .expect("deployments array")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn created_deployments_appear_in_list_and_get_as_admin() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-create").await;

    let reply = post_created(
        server,
        None,
        &body(
            "qwen",
            ns,
            json!({ "replicas": 2, "servedModelName": "qwen", "contextLength": 4096,
                     "enforceEager": true, "engineArgs": { "max-num-seqs": "8" },
                     "resources": { "gpu": 1, "memory": "16Gi" }, "imageRef": "vllm/vllm-openai:v0.11.0",
                     "hfTokenSecret": "hf-token-secret" }),
        ),
    )
    .await;
    assert_eq!(reply.body["message"], "Deployment created successfully");
    assert_eq!(reply.body["name"], "qwen");
    assert_eq!(reply.body["namespace"], ns.as_str());

    // Every accepted field reached the object in the cluster.
    let md = get_md(client, ns, "qwen").await.expect("created");
    let spec = serde_json::to_value(&md.spec).expect("spec");
    assert_eq!(spec["image"], "vllm/vllm-openai:v0.11.0");
    assert_eq!(spec["scaling"]["replicas"], 2);
    assert_eq!(spec["resources"]["memory"], "16Gi");
    assert_eq!(spec["resources"]["gpu"]["count"], 1);
    assert_eq!(spec["engine"]["contextLength"], 4096);
    assert_eq!(
        spec["engine"]["args"],
        json!({ "enforce-eager": "", "max-num-seqs": "8" })
    );
    assert_eq!(spec["model"]["servedName"], "qwen");
    assert_eq!(spec["secrets"]["huggingFaceToken"], "hf-token-secret");
    let labels = md.labels();
    assert_eq!(labels["app.kubernetes.io/instance"], "qwen");
    assert_eq!(labels["app.kubernetes.io/name"], "kubeairunway");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "kubeairunway");

    let got = cached(server, ns, "qwen").await;
    assert_eq!(got["name"], "qwen");
    assert_eq!(got["namespace"], ns.as_str());
    assert_eq!(got["modelId"], "Qwen/Qwen3-0.6B");
    assert_eq!(got["servedModelName"], "qwen");
    assert_eq!(got["engine"], "vllm");
    assert_eq!(got["mode"], "aggregated");
    assert_eq!(got["phase"], "Pending");
    assert_eq!(got["provider"], "unknown");
    assert_eq!(got["frontendService"], "qwen");
    assert_eq!(got["pods"], json!([]));
    assert!(
        got["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{got}"
    );

    let one_ns = server
        .get(&format!("/api/deployments?namespace={ns}"), None)
        .await;
    assert_eq!(one_ns.status, StatusCode::OK);
    assert_eq!(names(&one_ns.body), ["qwen"]);
    assert_eq!(
        one_ns.body["pagination"],
        json!({ "total": 1, "limit": 1, "offset": 0, "hasMore": false })
    );
    let everywhere = server.get("/api/deployments", None).await;
    assert_eq!(everywhere.status, StatusCode::OK);
    assert!(
        everywhere.body["deployments"]
            .as_array()
            .expect("array")
            .iter()
            .any(|d| d["name"] == "qwen" && d["namespace"] == ns.as_str()),
        "{}",
        everywhere.body
    );

    // The same name again: the API server's 409 passes through.
    let again = post(server, None, &body("qwen", ns, json!({}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.message().starts_with("Failed to create deployment:")
            && again.message().contains("already exists"),
        "{}",
        again.message()
    );
}

#[tokio::test]
async fn the_crd_and_the_namespace_decide_what_the_api_server_rejects() {
    let server = &support::own_server(AuthMode::Off);
    let ns = support::namespace("dep-reject").await;
    // vLLM on CPU: the CRD's CEL rule answers 422 with its message.
    let reply = post(
        server,
        None,
        &body("cpu-vllm", &ns, json!({ "resources": { "gpu": 0 } })),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply
            .message()
            .contains("spec.resources.gpu.count must be at least 1"),
        "{}",
        reply.message()
    );
    // A namespace that does not exist.
    let reply = post(
        server,
        None,
        &body("x", "no-such-namespace-here", json!({})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert!(
        reply.message().contains("no-such-namespace-here"),
        "{}",
        reply.message()
    );
    // Invalid values never reach the API server. (Fields that mean nothing for the chosen mode,
    // engine or provider are accepted with a warning instead: tests/compat_deployments.rs.)
    for (extra, fragment) in [
        (
            json!({ "engineArgs": { "max-num-seqs": null } }),
            "engineArgs.max-num-seqs must be a string, a number or a boolean",
        ),
        (
            json!({ "kaitoResourceType": "pool" }),
            "unknown variant `pool`",
        ),
        (json!({ "notAField": true }), "unknown field `notAField`"),
        (json!({ "name": "events" }), "reserved"),
        (json!({ "name": "a.b" }), "Invalid deployment name"),
    ] {
        let name = extra["name"].as_str().unwrap_or("rejected").to_string();
        let reply = post(server, None, &body(&name, &ns, extra.clone())).await;
        reply.assert_error(StatusCode::BAD_REQUEST, fragment, &extra);
    }
    let list = server
        .get(&format!("/api/deployments?namespace={ns}"), None)
        .await;
    assert_eq!(list.body["pagination"]["total"], 0, "{}", list.body);
}

#[tokio::test]
async fn cpu_disaggregated_and_premade_requests_keep_every_field() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-fields").await;
    post_created(
        server,
        None,
        &json!({ "name": "cpu", "namespace": ns, "modelId": "ggml-org/gemma-3-1b-it-GGUF",
                 "engine": "llamacpp", "computeType": "cpu", "ggufFile": "gemma-3-1b-it-Q4_K_M.gguf",
                 "resources": { "gpu": 0, "memory": "8Gi", "cpu": "4" } }),
    )
    .await;
    let spec = spec_of(client, ns, "cpu").await;
    assert_eq!(spec["resources"]["gpu"]["count"], 0);
    assert_eq!(spec["resources"]["memory"], "8Gi");
    assert_eq!(spec["resources"]["cpu"], "4");
    assert_eq!(
        spec["engine"]["args"]["hf-file"],
        "gemma-3-1b-it-Q4_K_M.gguf"
    );

    post_created(
        server,
        None,
        &json!({ "name": "pd", "namespace": ns, "modelId": "Qwen/Qwen3-8B", "engine": "sglang",
                 "mode": "disaggregated", "provider": "dynamo", "routerMode": "kv",
                 "prefillReplicas": 0, "decodeReplicas": 2, "prefillGpus": 1, "decodeGpus": 2 }),
    )
    .await;
    let spec = spec_of(client, ns, "pd").await;
    assert_eq!(
        spec["scaling"]["prefill"]["replicas"], 0,
        "prefillReplicas 0 stays 0"
    );
    assert_eq!(spec["scaling"]["decode"]["replicas"], 2);
    assert_eq!(spec["scaling"]["decode"]["gpu"]["count"], 2);
    assert_eq!(
        spec["provider"],
        json!({ "name": "dynamo", "overrides": { "routerMode": "kv" } })
    );
    let got = cached(server, ns, "pd").await;
    assert_eq!(got["mode"], "disaggregated");
    assert_eq!(got["prefillReplicas"], json!({ "desired": 0, "ready": 0 }));
    assert_eq!(got["decodeReplicas"], json!({ "desired": 2, "ready": 0 }));

    post_created(
        server,
        None,
        &json!({ "name": "premade", "namespace": ns, "modelId": "llama-3.2-1b-instruct",
                 "modelSource": "premade", "premadeModel": "llama3.2:1b", "computeType": "cpu" }),
    )
    .await;
    let spec = spec_of(client, ns, "premade").await;
    assert_eq!(spec["image"], "ghcr.io/kaito-project/aikit/llama3.2:1b");
    assert_eq!(spec["model"]["source"], "custom");
    assert_eq!(spec["engine"]["type"], "llamacpp");
}

#[tokio::test]
async fn team_a_creates_in_its_namespace_and_sees_only_it() {
    let server = &support::own_server(AuthMode::On);
    let client = support::admin_client().await;
    let team = User::TEAM_NAMESPACE;
    let other = support::namespace("dep-other").await;
    create_minimal_md(&client, &other, "hidden").await;

    post_created(
        server,
        Some(User::TeamA),
        &body("alice-model", team, json!({})),
    )
    .await;
    assert!(get_md(&client, team, "alice-model").await.is_some());

    let list = server
        .get_eventually("/api/deployments", Some(User::TeamA), "alice's list", |b| {
            names(b).contains(&"alice-model".to_string())
        })
        .await;
    for d in list["deployments"].as_array().expect("array") {
        assert_eq!(d["namespace"], team, "TeamA sees only team-a: {list}");
    }
    let got = server
        .get(
            &format!("/api/deployments/alice-model?namespace={team}"),
            Some(User::TeamA),
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["name"], "alice-model");

    // Another namespace: 403 for TeamA, both for the list and the object.
    let list = server
        .get(
            &format!("/api/deployments?namespace={other}"),
            Some(User::TeamA),
        )
        .await;
    assert_eq!(list.status, StatusCode::FORBIDDEN, "{}", list.body);
    let got = server
        .get(
            &format!("/api/deployments/hidden?namespace={other}"),
            Some(User::TeamA),
        )
        .await;
    assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    let post_other = post(server, Some(User::TeamA), &body("nope", &other, json!({}))).await;
    assert_eq!(
        post_other.status,
        StatusCode::FORBIDDEN,
        "{}",
        post_other.body
    );
    // The admin sees both.
    let all = server
        .get_eventually("/api/deployments", Some(User::Admin), "admin's list", |b| {
            let n = names(b);
            n.contains(&"hidden".to_string()) && n.contains(&"alice-model".to_string())
        })
        .await;
    assert!(all["pagination"]["total"].as_u64().unwrap_or(0) >= 2);

    // TeamA scales and deletes its own deployment through the API.
    let scaled = server
        .call(
            Method::PATCH,
            &format!("/api/deployments/alice-model?namespace={team}"),
            Some(User::TeamA),
            Some(&json!({ "replicas": 0 })),
        )
        .await;
    assert_eq!(scaled.status, StatusCode::OK, "{}", scaled.body);
    let deleted = server
        .call(
            Method::DELETE,
            &format!("/api/deployments/alice-model?namespace={team}"),
            Some(User::TeamA),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}

#[tokio::test]
async fn list_is_newest_first_and_paginated() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-page").await;
    // Creation timestamps have one-second resolution: space the first three apart, then two
    // in the same second, which are ordered by name.
    for (i, name) in ["m-oldest", "b-middle", "z-newer"].iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        create_minimal_md(client, ns, name).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create_minimal_md(client, ns, "y-newest").await;
    create_minimal_md(client, ns, "x-newest").await;
    let ordered = ["x-newest", "y-newest", "z-newer", "b-middle", "m-oldest"];

    let path = format!("/api/deployments?namespace={ns}");
    let all = server
        .get_eventually(&path, None, "five deployments", |b| {
            b["pagination"]["total"] == 5
        })
        .await;
    // Two created in the same second sort by name; check the timestamps say so.
    let x = &all["deployments"][0]["createdAt"];
    let y = &all["deployments"][1]["createdAt"];
    if x == y {
        assert_eq!(names(&all), ordered);
    } else {
        assert_eq!(names(&all)[2..], ordered[2..]);
    }
    let reference = names(&all);

    let page = server.get(&format!("{path}&limit=2"), None).await;
    assert_eq!(names(&page.body), reference[..2]);
    assert_eq!(
        page.body["pagination"],
        json!({ "total": 5, "limit": 2, "offset": 0, "hasMore": true })
    );
    let page = server.get(&format!("{path}&limit=2&offset=2"), None).await;
    assert_eq!(names(&page.body), reference[2..4]);
    assert_eq!(page.body["pagination"]["hasMore"], true);
    let page = server.get(&format!("{path}&limit=2&offset=4"), None).await;
    assert_eq!(names(&page.body), reference[4..]);
    assert_eq!(
        page.body["pagination"],
        json!({ "total": 5, "limit": 2, "offset": 4, "hasMore": false })
    );
    let page = server.get(&format!("{path}&offset=3"), None).await;
    assert_eq!(names(&page.body), reference[3..]);
    assert_eq!(
        page.body["pagination"],
        json!({ "total": 5, "limit": 5, "offset": 3, "hasMore": false })
    );
    let page = server
        .get(&format!("{path}&offset=50&limit=10"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(names(&page.body), Vec::<String>::new());
    assert_eq!(page.body["pagination"]["hasMore"], false);

    for (query, fragment) in [
        (
            "limit=0",
            "Invalid limit \"0\": must be an integer from 1 to 100",
        ),
        ("limit=101", "from 1 to 100"),
        ("limit=ten", "from 1 to 100"),
        ("offset=-1", "Invalid offset \"-1\""),
        ("limit=1&limit=2", "Invalid query parameters"),
        ("namespace=Not_Valid", "Invalid namespace"),
    ] {
        let reply = server.get(&format!("/api/deployments?{query}"), None).await;
        reply.assert_error(StatusCode::BAD_REQUEST, fragment, query);
    }
}

#[tokio::test]
async fn dry_run_and_preview_return_the_manifest_and_create_nothing() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-dry").await;
    let request = body("dry", ns, json!({ "provider": "no-such-provider" }));

    let dry = server
        .post_json("/api/deployments?dryRun=true", None, &request)
        .await;
    let preview = server
        .post_json("/api/deployments/preview", None, &request)
        .await;
    for reply in [&dry, &preview] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body["primaryResource"],
            json!({ "kind": "ModelDeployment", "apiVersion": "kubeairunway.ai/v1alpha1" })
        );
        let resource = &reply.body["resources"][0];
        assert_eq!(resource["kind"], "ModelDeployment");
        assert_eq!(resource["name"], "dry");
        let manifest = &resource["manifest"];
        assert_eq!(manifest["metadata"]["namespace"], ns.as_str());
        assert_eq!(manifest["spec"]["model"]["id"], "Qwen/Qwen3-0.6B");
        assert_eq!(manifest["spec"]["provider"]["name"], "no-such-provider");
        // Filled in by the API server: the dry run went through it.
        assert!(manifest["metadata"]["uid"].is_string(), "{manifest}");
        assert_eq!(manifest["metadata"].get("managedFields"), None);
        let warnings = reply.body["warnings"].as_array().expect("warnings");
        assert!(
            warnings
                .iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains("no-such-provider"))),
            "{warnings:?}"
        );
    }
    assert!(
        get_md(client, ns, "dry").await.is_none(),
        "a dry run created the object"
    );

    let reply = server
        .post_json("/api/deployments?dryRun=maybe", None, &request)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.message().contains("dryRun"), "{}", reply.message());
    // Validation of the CRD applies to the preview as well.
    let reply = server
        .post_json(
            "/api/deployments/preview",
            None,
            &body("cpu-vllm", ns, json!({ "resources": { "gpu": 0 } })),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(get_md(client, ns, "cpu-vllm").await.is_none());
}

#[tokio::test]
async fn patch_scales_and_delete_removes() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-scale").await;
    post_created(
        server,
        None,
        &body("scale-me", ns, json!({ "replicas": 3 })),
    )
    .await;
    let path = format!("/api/deployments/scale-me?namespace={ns}");
    cached(server, ns, "scale-me").await;

    let scaled = server
        .call(Method::PATCH, &path, None, Some(&json!({ "replicas": 0 })))
        .await;
    assert_eq!(scaled.status, StatusCode::OK, "{}", scaled.body);
    assert_eq!(scaled.body["name"], "scale-me");
    let md = get_md(client, ns, "scale-me").await.expect("exists");
    assert_eq!(md.spec.scaling.replicas, 0);

    for (patch, fragment) in [
        (json!({}), "Give replicas"),
        (
            json!({ "replicas": -1 }),
            "replicas must be an integer from 0",
        ),
        (json!({ "replicas": "2" }), "Invalid request body"),
        (json!({ "prefillReplicas": 1 }), "is aggregated"),
        (json!({ "replicas": 1, "image": "x" }), "unknown field"),
    ] {
        let reply = server.call(Method::PATCH, &path, None, Some(&patch)).await;
        reply.assert_error(StatusCode::BAD_REQUEST, fragment, &patch);
    }
    assert_eq!(
        get_md(client, ns, "scale-me")
            .await
            .expect("exists")
            .spec
            .scaling
            .replicas,
        0
    );
    let missing = server
        .call(
            Method::PATCH,
            &format!("/api/deployments/nobody?namespace={ns}"),
            None,
            Some(&json!({ "replicas": 1 })),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.message(),
        format!("Deployment 'nobody' not found in namespace '{ns}'")
    );

    let deleted = server.call(Method::DELETE, &path, None, None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(
        deleted.body,
        json!({ "message": "Deployment deleted successfully" })
    );
    assert!(get_md(client, ns, "scale-me").await.is_none());
    let again = server.call(Method::DELETE, &path, None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.message(),
        format!("Deployment 'scale-me' not found in namespace '{ns}'")
    );
    wait_until("GET answers 404", Duration::from_secs(10), || async {
        let reply = server.get(&path, None).await;
        let gone = reply.status == StatusCode::NOT_FOUND
            && reply.body["error"]["message"] == "Deployment not found";
        Ok((gone.then_some(()), reply.body.to_string()))
    })
    .await
    .expect("gone from the cache");
}

#[tokio::test]
async fn per_deployment_errors_are_clear() {
    let server = &support::own_server(AuthMode::Off);
    let ns = support::namespace("dep-errors").await;
    for (path, status, fragment) in [
        (
            format!("/api/deployments/nobody?namespace={ns}"),
            404,
            "Deployment not found",
        ),
        (
            "/api/deployments/Bad_Name".to_string(),
            400,
            "Invalid deployment name",
        ),
        (
            "/api/deployments/ok?namespace=..%2Fetc".to_string(),
            400,
            "Invalid namespace",
        ),
        (
            format!("/api/deployments/nobody/manifest?namespace={ns}"),
            404,
            "Deployment manifest not found",
        ),
        (
            format!("/api/deployments/nobody/pending-reasons?namespace={ns}"),
            404,
            "Deployment not found",
        ),
    ] {
        let reply = server.get(&path, None).await;
        assert_eq!(reply.status.as_u16(), status, "{path}: {}", reply.body);
        assert!(
            reply.message().contains(fragment),
            "{path}: {}",
            reply.message()
        );
    }
    let pods = server
        .get(
            &format!("/api/deployments/nobody/pods?namespace={ns}"),
            None,
        )
        .await;
    assert_eq!(pods.status, StatusCode::OK);
    assert_eq!(pods.body, json!({ "pods": [] }));
}

/// A pod that names the deployment in its labels (no controller runs here).
async fn labelled_pod(client: &Client, ns: &str, name: &str, deployment: &str) {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": ns,
                      "labels": { "kubeairunway.ai/deployment": deployment } },
        "spec": { "containers": [
            { "name": "server", "image": "example.invalid/server:1" },
            { "name": "sidecar", "image": "example.invalid/sidecar:1" },
        ] },
    }))
    .expect("pod");
    Api::<Pod>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
}

#[tokio::test]
async fn pods_and_log_errors_come_from_the_cache() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-logs").await;
    create_minimal_md(client, ns, "llama").await;
    create_minimal_md(client, ns, "llama-2").await;
    labelled_pod(client, ns, "llama-pod-b", "llama").await;
    labelled_pod(client, ns, "llama-pod-a", "llama").await;
    labelled_pod(client, ns, "llama-2-pod", "llama-2").await;

    let pods = server
        .get_eventually(
            &format!("/api/deployments/llama/pods?namespace={ns}"),
            None,
            "two pods",
            |b| b["pods"].as_array().is_some_and(|p| p.len() == 2),
        )
        .await;
    let pod_names: Vec<_> = pods["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        pod_names,
        ["llama-pod-a", "llama-pod-b"],
        "sorted, and llama-2's pod not among them"
    );
    let got = server
        .get_eventually(
            &format!("/api/deployments/llama?namespace={ns}"),
            None,
            "with pods",
            |b| b["pods"].as_array().is_some_and(|p| p.len() == 2),
        )
        .await;
    assert_eq!(got["pods"][0]["name"], "llama-pod-a");
    let list = server
        .get(&format!("/api/deployments?namespace={ns}"), None)
        .await;
    for d in list.body["deployments"].as_array().expect("array") {
        let expected = if d["name"] == "llama" { 2 } else { 1 };
        assert_eq!(d["pods"].as_array().map(Vec::len), Some(expected), "{d}");
    }

    let logs = |query: String| {
        let ns = ns.clone();
        async move {
            server
                .get(
                    &format!("/api/deployments/llama/logs?namespace={ns}{query}"),
                    None,
                )
                .await
        }
    };
    for (query, fragment) in [
        (
            "&podName=llama-2-pod",
            "Pod 'llama-2-pod' is not part of deployment 'llama'",
        ),
        (
            "&podName=ghost",
            "Pod 'ghost' is not part of deployment 'llama'",
        ),
        (
            "&tailLines=0",
            "Invalid tailLines \"0\": must be an integer from 1 to 10000",
        ),
        ("&tailLines=10001", "from 1 to 10000"),
        ("&tailLines=abc", "from 1 to 10000"),
        (
            "&container=nope",
            "Container 'nope' is not in pod 'llama-pod-a' (containers: server, sidecar)",
        ),
        ("&follow=maybe", "Invalid follow"),
        ("&previous=1", "Invalid previous"),
    ] {
        let reply = logs(query.to_string()).await;
        reply.assert_error(StatusCode::BAD_REQUEST, fragment, query);
    }
    let missing = server
        .get(
            &format!("/api/deployments/nothing-here/logs?namespace={ns}"),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.message(), "Deployment not found");
    create_minimal_md(client, ns, "no-pods").await;
    let none = server
        .get_eventually(
            &format!("/api/deployments/no-pods/logs?namespace={ns}"),
            None,
            "the deployment in the cache",
            |_| true,
        )
        .await;
    assert_eq!(
        none,
        json!({ "logs": "", "podName": "", "message": "No pods found for this deployment" })
    );
}

#[tokio::test]
async fn the_event_stream_sends_a_snapshot_then_changes_within_a_second() {
    let (server, client, ns) = &setup(AuthMode::Off, "dep-live").await;
    create_minimal_md(client, ns, "first").await;
    cached(server, ns, "first").await;

    let mut stream = SseReader::open(
        server,
        &format!("/api/deployments/events?namespace={ns}"),
        None,
    )
    .await;
    let snapshot = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(names(&snapshot.data), ["first"]);

    // A new deployment reaches the client within a second.
    let started = Instant::now();
    create_minimal_md(client, ns, "second").await;
    let upsert = stream
        .wait_for("upsert", Duration::from_secs(1), |d| {
            d["deployment"]["name"] == "second"
        })
        .await
        .unwrap_or_else(|| panic!("no upsert within 1 s (waited {:?})", started.elapsed()));
    assert_eq!(upsert.data["deployment"]["namespace"], ns.as_str());
    assert_eq!(upsert.data["deployment"]["phase"], "Pending");

    // A change of the spec, then a deletion.
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), ns);
    api.patch(
        "first",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "model": { "servedName": "renamed" } } })),
    )
    .await
    .expect("patch");
    let changed = stream
        .wait_for("upsert", Duration::from_secs(1), |d| {
            d["deployment"]["name"] == "first" && d["deployment"]["servedModelName"] == "renamed"
        })
        .await;
    assert!(
        changed.is_some(),
        "no upsert for the patched deployment within 1 s"
    );
    api.delete("second", &DeleteParams::default())
        .await
        .expect("delete");
    let deleted = stream
        .wait_for("delete", Duration::from_secs(1), |d| d["name"] == "second")
        .await
        .expect("delete event within 1 s");
    assert_eq!(deleted.data, json!({ "namespace": ns, "name": "second" }));

    // Other namespaces stay out of a namespaced stream.
    let elsewhere = support::namespace("dep-live-other").await;
    create_minimal_md(client, &elsewhere, "foreign").await;
    let leaked = stream
        .wait_for("upsert", Duration::from_millis(700), |d| {
            d["deployment"]["name"] == "foreign"
        })
        .await;
    assert!(leaked.is_none(), "{leaked:?}");

    // Without a namespace, every visible namespace is covered.
    let mut all = SseReader::open(server, "/api/deployments/events", None).await;
    let snapshot = all.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.event, "snapshot");
    assert!(
        names(&snapshot.data).contains(&"foreign".to_string()),
        "{}",
        snapshot.data
    );
}

#[tokio::test]
async fn team_a_streams_only_its_namespace() {
    let server = &support::own_server(AuthMode::On);
    let client = support::admin_client().await;
    let other = support::namespace("dep-live-hidden").await;
    let mut stream = SseReader::open(server, "/api/deployments/events", Some(User::TeamA)).await;
    let snapshot = stream.next(Duration::from_secs(5)).await.expect("snapshot");
    assert_eq!(snapshot.event, "snapshot");
    for d in snapshot.data["deployments"].as_array().expect("array") {
        assert_eq!(d["namespace"], User::TEAM_NAMESPACE);
    }
    create_minimal_md(&client, &other, "secret").await;
    create_minimal_md(&client, User::TEAM_NAMESPACE, "team-live").await;
    let mut seen = Vec::new();
    while let Some(event) = stream.next(Duration::from_secs(2)).await {
        seen.push(
            event.data["deployment"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        if seen.contains(&"team-live".to_string()) {
            break;
        }
    }
    assert!(seen.contains(&"team-live".to_string()), "{seen:?}");
    assert!(!seen.contains(&"secret".to_string()), "{seen:?}");
    let forbidden = server
        .get(
            &format!("/api/deployments/events?namespace={other}"),
            Some(User::TeamA),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

#[test]
fn the_openapi_document_describes_every_deployment_route() {
    let doc = serde_json::to_value(kubeairunway_server::openapi_document()).expect("document");
    for (path, methods) in [
        ("/api/deployments", &["get", "post"][..]),
        ("/api/deployments/preview", &["post"]),
        ("/api/deployments/events", &["get"]),
        ("/api/deployments/{name}", &["get", "patch", "delete"]),
        ("/api/deployments/{name}/manifest", &["get"]),
        ("/api/deployments/{name}/pods", &["get"]),
        ("/api/deployments/{name}/pending-reasons", &["get"]),
        ("/api/deployments/{name}/logs", &["get"]),
    ] {
        for method in methods {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "DeploymentStatus",
        "DeploymentList",
        "CreateDeploymentRequest",
        "CreateResponse",
        "ManifestResponse",
        "ScaleRequest",
        "PendingReasons",
        "PodFailureReason",
        "LogsResponse",
        "PodStatus",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    let create = &schemas["CreateDeploymentRequest"];
    assert_eq!(create["additionalProperties"], false, "{create}");
    let params: Vec<_> = doc["paths"]["/api/deployments"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(params, ["namespace", "limit", "offset"]);
    let param_names = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| p["name"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(param_names("/api/deployments", "post"), ["dryRun"]);
    assert_eq!(
        param_names("/api/deployments/{name}/logs", "get"),
        [
            "name",
            "namespace",
            "podName",
            "container",
            "tailLines",
            "timestamps",
            "previous",
            "follow"
        ]
    );
    let request_props = create["properties"].as_object().expect("properties");
    for field in [
        "modelId",
        "imageRef",
        "computeType",
        "engineArgs",
        "prefillReplicas",
        "enforceEager",
    ] {
        assert!(
            request_props.contains_key(field),
            "{field} missing from CreateDeploymentRequest"
        );
    }
}
