//! Bad input of every kind (issue 4 item 7: invalid names, wrong types, unknown engine, huge
//! bodies, path traversal on static paths, bad namespaces, bad pagination): each gets a 4xx with
//! the error envelope and a message that says what is wrong, and changes nothing in the cluster.
//!
//! The cases run one after another against a namespace that exists and holds a deployment, so
//! a server that let a bad request through would visibly create, change or delete something.

mod support;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{User, shared};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The deployment every per-deployment case targets.
const TARGET: &str = "target";

/// What a case sends as its body.
enum Body {
    None,
    Json(Value),
    /// Raw bytes with a content type (`None`: no Content-Type header).
    Raw(Option<&'static str>, String),
}

/// One bad request and what must come back.
struct Case {
    what: String,
    method: Method,
    path: String,
    body: Body,
    status: Expect,
    /// Must appear in the error message (case-insensitive); `a|b`: either.
    fragment: &'static str,
}

/// The status a case must get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Exactly(StatusCode),
    /// Any 4xx (where several answers are right, e.g. 400 or 404 for a traversal attempt).
    ClientError,
}

impl From<StatusCode> for Expect {
    fn from(status: StatusCode) -> Self {
        Expect::Exactly(status)
    }
}

impl Expect {
    fn accepts(self, status: StatusCode) -> bool {
        match self {
            Expect::Exactly(s) => s == status,
            Expect::ClientError => status.is_client_error(),
        }
    }
}

fn case(
    what: impl Into<String>,
    method: Method,
    path: impl Into<String>,
    body: Body,
    status: impl Into<Expect>,
    fragment: &'static str,
) -> Case {
    Case {
        what: what.into(),
        method,
        path: path.into(),
        body,
        status: status.into(),
        fragment,
    }
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// A valid create body for `ns`, with `change` merged in (`null` removes a field).
fn create(ns: &str, change: Value) -> Body {
    let mut body = json!({
        "name": "would-be-created",
        "namespace": ns,
        "modelId": "Qwen/Qwen3-0.6B",
        "engine": "vllm",
        "replicas": 1,
        "resources": { "gpu": 1 },
    });
    if let (Some(base), Some(change)) = (body.as_object_mut(), change.as_object()) {
        for (k, v) in change {
            if v.is_null() {
                base.remove(k);
            } else {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    Body::Json(body)
}

/// The cases sent with an HTTP client.
fn cases(ns: &str) -> Vec<Case> {
    use Method as M;
    let post = |what: &str, change: Value, fragment: &'static str| {
        case(
            format!("POST {what}"),
            M::POST,
            "/api/deployments",
            create(ns, change),
            BAD,
            fragment,
        )
    };
    let one = format!("/api/deployments/{TARGET}?namespace={ns}");
    let long = "a".repeat(64);
    let mut cases = vec![
        // Names (DNS-1035 labels, ≤ 63).
        post("name with upper case", json!({ "name": "Llama" }), "name"),
        post("name with a dot", json!({ "name": "llama.3" }), "name"),
        post(
            "name with a leading digit",
            json!({ "name": "3llama" }),
            "name",
        ),
        post("name of 64 characters", json!({ "name": long }), "name"),
        post("empty name", json!({ "name": "" }), "name"),
        post("name ending in '-'", json!({ "name": "llama-" }), "name"),
        post("name with '_'", json!({ "name": "llama_3" }), "name"),
        post("name with a space", json!({ "name": "llama 3" }), "name"),
        post(
            "name with a non-ASCII letter",
            json!({ "name": "llamá" }),
            "name",
        ),
        post("name with a slash", json!({ "name": "a/b" }), "name"),
        post("name as a number", json!({ "name": 42 }), "name"),
        post(
            "name shadowing a route",
            json!({ "name": "events" }),
            "events",
        ),
        // Missing required fields.
        post("without name", json!({ "name": null }), "name"),
        post("without modelId", json!({ "modelId": null }), "modelId"),
        post("empty modelId", json!({ "modelId": "" }), "modelId"),
        // Wrong types and ranges.
        post(
            "replicas as a string",
            json!({ "replicas": "two" }),
            "replicas",
        ),
        post("negative replicas", json!({ "replicas": -1 }), "replicas"),
        post(
            "fractional replicas",
            json!({ "replicas": 1.5 }),
            "replicas",
        ),
        post(
            "gpu as a string",
            json!({ "resources": { "gpu": "one" } }),
            "gpu",
        ),
        post("negative gpu", json!({ "resources": { "gpu": -1 } }), "gpu"),
        post(
            "resources without gpu",
            json!({ "resources": { "memory": "16Gi" } }),
            "gpu",
        ),
        post(
            "engineArgs with null",
            json!({ "engineArgs": { "max-num-seqs": null } }),
            "engineArgs",
        ),
        post(
            "engineArgs with an object",
            json!({ "engineArgs": { "x": { "nested": true } } }),
            "engineArgs",
        ),
        post(
            "engineArgs as a list",
            json!({ "engineArgs": ["--enforce-eager"] }),
            "engineArgs",
        ),
        post(
            "contextLength 0",
            json!({ "contextLength": 0 }),
            "contextLength",
        ),
        post(
            "negative contextLength",
            json!({ "contextLength": -5 }),
            "contextLength",
        ),
        post(
            "maxModelLen as a string",
            json!({ "maxModelLen": "long" }),
            "maxModelLen",
        ),
        post(
            "trustRemoteCode as a string",
            json!({ "trustRemoteCode": "yes" }),
            "trustRemoteCode",
        ),
        post(
            "negative prefillReplicas",
            json!({ "mode": "disaggregated", "prefillReplicas": -1 }),
            "prefillReplicas",
        ),
        post(
            "decodeGpus as a string",
            json!({ "mode": "disaggregated", "decodeGpus": "x" }),
            "decodeGpus",
        ),
        // Unknown values and fields.
        post(
            "unknown engine",
            json!({ "engine": "tensorflow" }),
            "engine",
        ),
        post("engine as a number", json!({ "engine": 7 }), "engine"),
        post("unknown mode", json!({ "mode": "hybrid" }), "mode"),
        post(
            "unknown routerMode",
            json!({ "routerMode": "random" }),
            "routerMode",
        ),
        post(
            "unknown computeType",
            json!({ "computeType": "tpu" }),
            "computeType",
        ),
        post(
            "unknown field (typo of replicas)",
            json!({ "replica": 2 }),
            "replica",
        ),
        post("unknown field", json!({ "imageUrl": "x" }), "imageUrl"),
        // Namespaces.
        post(
            "namespace with upper case and '_'",
            json!({ "namespace": "Bad_NS" }),
            "namespace",
        ),
        post(
            "namespace with '..'",
            json!({ "namespace": "../kube-system" }),
            "namespace",
        ),
        post(
            "namespace of 64 characters",
            json!({ "namespace": long }),
            "namespace",
        ),
        post("empty namespace", json!({ "namespace": "" }), "namespace"),
        post(
            "namespace as a list",
            json!({ "namespace": [ns] }),
            "namespace",
        ),
        // Bodies that are not the object.
        case(
            "POST a JSON array",
            M::POST,
            "/api/deployments",
            Body::Json(json!([])),
            BAD,
            "invalid",
        ),
        case(
            "POST a JSON string",
            M::POST,
            "/api/deployments",
            Body::Json(json!("hello")),
            BAD,
            "invalid",
        ),
        case(
            "POST JSON null",
            M::POST,
            "/api/deployments",
            Body::Json(Value::Null),
            BAD,
            "invalid",
        ),
        case(
            "POST malformed JSON",
            M::POST,
            "/api/deployments",
            Body::Raw(
                Some("application/json"),
                format!("{{\"name\": \"x\", \"namespace\": \"{ns}\", "),
            ),
            BAD,
            "JSON",
        ),
        case(
            "POST JSON with trailing garbage",
            M::POST,
            "/api/deployments",
            Body::Raw(
                Some("application/json"),
                format!(
                    "{{\"name\":\"x\",\"namespace\":\"{ns}\",\"modelId\":\"a/b\",\"engine\":\"vllm\"}} x"
                ),
            ),
            BAD,
            "JSON",
        ),
        case(
            "POST an empty JSON body",
            M::POST,
            "/api/deployments",
            Body::Raw(Some("application/json"), String::new()),
            BAD,
            "JSON",
        ),
        case(
            "POST JSON as text/plain",
            M::POST,
            "/api/deployments",
            Body::Raw(
                Some("text/plain"),
                serde_json::to_string(
                    &json!({"name":"x","namespace":ns,"modelId":"a/b","engine":"vllm"}),
                )
                .unwrap_or_default(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        case(
            "POST a form",
            M::POST,
            "/api/deployments",
            Body::Raw(
                Some("application/x-www-form-urlencoded"),
                format!("name=x&namespace={ns}&modelId=a%2Fb&engine=vllm"),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        case(
            "POST without Content-Type",
            M::POST,
            "/api/deployments",
            Body::Raw(
                None,
                serde_json::to_string(
                    &json!({"name":"x","namespace":ns,"modelId":"a/b","engine":"vllm"}),
                )
                .unwrap_or_default(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        case(
            "POST a 2 MiB body",
            M::POST,
            "/api/deployments",
            create(ns, json!({ "servedModelName": "x".repeat(2 << 20) })),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large|limit",
        ),
        case(
            "POST ?dryRun=maybe",
            M::POST,
            "/api/deployments?dryRun=maybe",
            create(ns, json!({})),
            BAD,
            "dryRun",
        ),
        case(
            "POST preview with a bad name",
            M::POST,
            "/api/deployments/preview",
            create(ns, json!({ "name": "Bad.Name" })),
            BAD,
            "name",
        ),
        // Pagination and namespaces of the list.
        case(
            "list limit=0",
            M::GET,
            "/api/deployments?limit=0",
            Body::None,
            BAD,
            "limit",
        ),
        case(
            "list limit=101",
            M::GET,
            "/api/deployments?limit=101",
            Body::None,
            BAD,
            "limit",
        ),
        case(
            "list limit=-1",
            M::GET,
            "/api/deployments?limit=-1",
            Body::None,
            BAD,
            "limit",
        ),
        case(
            "list limit=abc",
            M::GET,
            "/api/deployments?limit=abc",
            Body::None,
            BAD,
            "limit",
        ),
        case(
            "list limit given twice",
            M::GET,
            "/api/deployments?limit=1&limit=2",
            Body::None,
            BAD,
            "limit",
        ),
        case(
            "list offset=-1",
            M::GET,
            "/api/deployments?offset=-1",
            Body::None,
            BAD,
            "offset",
        ),
        case(
            "list offset=abc",
            M::GET,
            "/api/deployments?offset=abc",
            Body::None,
            BAD,
            "offset",
        ),
        case(
            "list namespace=Bad_NS",
            M::GET,
            "/api/deployments?namespace=Bad_NS",
            Body::None,
            BAD,
            "namespace",
        ),
        case(
            "list namespace=a..b",
            M::GET,
            "/api/deployments?namespace=a..b",
            Body::None,
            BAD,
            "namespace",
        ),
        case(
            "list namespace of 64 characters",
            M::GET,
            format!("/api/deployments?namespace={long}"),
            Body::None,
            BAD,
            "namespace",
        ),
        // One deployment.
        case(
            "GET a name with upper case",
            M::GET,
            format!("/api/deployments/Target?namespace={ns}"),
            Body::None,
            BAD,
            "name",
        ),
        case(
            "GET a name with a dot",
            M::GET,
            format!("/api/deployments/tar.get?namespace={ns}"),
            Body::None,
            BAD,
            "name",
        ),
        case(
            "GET ..%2F..%2Fetc%2Fpasswd",
            M::GET,
            "/api/deployments/..%2F..%2Fetc%2Fpasswd",
            Body::None,
            BAD,
            "name",
        ),
        case(
            "GET with namespace=BAD",
            M::GET,
            format!("/api/deployments/{TARGET}?namespace=BAD"),
            Body::None,
            BAD,
            "namespace",
        ),
        case(
            "manifest with namespace=a_b",
            M::GET,
            format!("/api/deployments/{TARGET}/manifest?namespace=a_b"),
            Body::None,
            BAD,
            "namespace",
        ),
        case(
            "pods of a name of 64 characters",
            M::GET,
            format!("/api/deployments/{long}/pods?namespace={ns}"),
            Body::None,
            BAD,
            "name",
        ),
        // Logs.
        case(
            "logs tailLines=0",
            M::GET,
            format!("/api/deployments/{TARGET}/logs?namespace={ns}&tailLines=0"),
            Body::None,
            BAD,
            "tailLines",
        ),
        case(
            "logs tailLines=10001",
            M::GET,
            format!("/api/deployments/{TARGET}/logs?namespace={ns}&tailLines=10001"),
            Body::None,
            BAD,
            "tailLines",
        ),
        case(
            "logs tailLines=-5",
            M::GET,
            format!("/api/deployments/{TARGET}/logs?namespace={ns}&tailLines=-5"),
            Body::None,
            BAD,
            "tailLines",
        ),
        case(
            "logs tailLines=abc",
            M::GET,
            format!("/api/deployments/{TARGET}/logs?namespace={ns}&tailLines=abc"),
            Body::None,
            BAD,
            "tailLines",
        ),
        case(
            "logs follow=perhaps",
            M::GET,
            format!("/api/deployments/{TARGET}/logs?namespace={ns}&follow=perhaps"),
            Body::None,
            BAD,
            "follow",
        ),
        // Scaling.
        case(
            "PATCH negative replicas",
            M::PATCH,
            one.clone(),
            Body::Json(json!({ "replicas": -1 })),
            BAD,
            "replicas",
        ),
        case(
            "PATCH replicas as a string",
            M::PATCH,
            one.clone(),
            Body::Json(json!({ "replicas": "3" })),
            BAD,
            "replicas",
        ),
        case(
            "PATCH fractional replicas",
            M::PATCH,
            one.clone(),
            Body::Json(json!({ "replicas": 1.5 })),
            BAD,
            "replicas",
        ),
        case(
            "PATCH without a count",
            M::PATCH,
            one.clone(),
            Body::Json(json!({})),
            BAD,
            "replicas",
        ),
        case(
            "PATCH with an unknown field",
            M::PATCH,
            one.clone(),
            Body::Json(json!({ "replicas": 2, "image": "x" })),
            BAD,
            "image",
        ),
        case(
            "PATCH prefill counts on an aggregated deployment",
            M::PATCH,
            one.clone(),
            Body::Json(json!({ "prefillReplicas": 2 })),
            BAD,
            "aggregated",
        ),
        case(
            "PATCH malformed JSON",
            M::PATCH,
            one.clone(),
            Body::Raw(Some("application/json"), "{\"replicas\": ".into()),
            BAD,
            "JSON",
        ),
        case(
            "PATCH a bad name",
            M::PATCH,
            format!("/api/deployments/Target?namespace={ns}"),
            Body::Json(json!({ "replicas": 2 })),
            BAD,
            "name",
        ),
        // Deleting.
        case(
            "DELETE a name with '_'",
            M::DELETE,
            format!("/api/deployments/tar_get?namespace={ns}"),
            Body::None,
            BAD,
            "name",
        ),
        case(
            "DELETE with namespace=Bad",
            M::DELETE,
            format!("/api/deployments/{TARGET}?namespace=Bad"),
            Body::None,
            BAD,
            "namespace",
        ),
        // Settings.
        case(
            "PUT settings defaultNamespace=Bad_NS",
            M::PUT,
            "/api/settings",
            Body::Json(json!({ "defaultNamespace": "Bad_NS" })),
            BAD,
            "namespace",
        ),
        case(
            "PUT settings empty defaultNamespace",
            M::PUT,
            "/api/settings",
            Body::Json(json!({ "defaultNamespace": "" })),
            BAD,
            "namespace",
        ),
        case(
            "PUT settings defaultNamespace of 64 characters",
            M::PUT,
            "/api/settings",
            Body::Json(json!({ "defaultNamespace": long })),
            BAD,
            "namespace",
        ),
        case(
            "PUT settings defaultNamespace as a number",
            M::PUT,
            "/api/settings",
            Body::Json(json!({ "defaultNamespace": 5 })),
            BAD,
            "defaultNamespace",
        ),
        case(
            "PUT settings malformed JSON",
            M::PUT,
            "/api/settings",
            Body::Raw(Some("application/json"), "{\"defaultNamespace\":".into()),
            BAD,
            "JSON",
        ),
        case(
            "PUT settings as a list",
            M::PUT,
            "/api/settings",
            Body::Json(json!(["team-a"])),
            BAD,
            "invalid",
        ),
    ];
    // Static files: an unknown asset is 404; encoded traversal attempts are refused (400 or 404).
    cases.push(case(
        "static unknown asset",
        M::GET,
        "/assets/missing-0123abcd.js",
        Body::None,
        StatusCode::NOT_FOUND,
        "",
    ));
    for path in [
        "/assets/..%2f..%2fetc%2fpasswd",
        "/assets/..%5c..%5cetc%5cpasswd",
        "/assets/%00.js",
        "/assets/..%2F..%2FCargo.toml",
    ] {
        cases.push(case(
            format!("static {path}"),
            M::GET,
            path,
            Body::None,
            Expect::ClientError,
            "",
        ));
    }
    cases
}

/// Paths an HTTP client would normalise (`..`, `%2e%2e`), sent verbatim over a socket; each
/// must get a 4xx without any file content.
const RAW_PATHS: [&str; 7] = [
    "/assets/../../etc/passwd",
    "/assets/../../../../../../etc/passwd",
    "/assets/%2e%2e/%2e%2e/etc/passwd",
    "/assets/%2E%2E/%2E%2E/Cargo.toml",
    "/assets/./../Cargo.toml",
    "/api/../assets/../../etc/passwd",
    "/api/deployments/%2e%2e",
];

/// Everything a bad request could have changed: ModelDeployments and ConfigMaps (outside the
/// system namespaces) with their resource versions.
async fn snapshot() -> BTreeSet<(String, String, String, String)> {
    let client = shared().client(User::Admin).await.expect("client");
    let mds: Api<DynamicObject> =
        Api::all_with(client.clone(), &ApiResource::erase::<ModelDeployment>(&()));
    let mut all = BTreeSet::new();
    for md in mds.list(&ListParams::default()).await.expect("list").items {
        all.insert((
            "ModelDeployment".to_string(),
            md.metadata.namespace.unwrap_or_default(),
            md.metadata.name.unwrap_or_default(),
            md.metadata.resource_version.unwrap_or_default(),
        ));
    }
    let maps: Api<ConfigMap> = Api::all(client);
    for cm in maps.list(&ListParams::default()).await.expect("list").items {
        let ns = cm.metadata.namespace.unwrap_or_default();
        if ns.starts_with("kube-") {
            continue;
        }
        all.insert((
            "ConfigMap".to_string(),
            ns,
            cm.metadata.name.unwrap_or_default(),
            cm.metadata.resource_version.unwrap_or_default(),
        ));
    }
    all
}

async fn send(s: &Server, c: &Case) -> Reply {
    let mut req = s.request(c.method.clone(), &c.path, None);
    match &c.body {
        Body::None => {}
        Body::Json(v) => req = req.json(v),
        Body::Raw(content_type, text) => {
            if let Some(ct) = content_type {
                req = req.header(CONTENT_TYPE, *ct);
            }
            req = req.body(text.clone());
        }
    }
    Reply::read(req.send().await.expect("request sent")).await
}

/// Sends `GET <path>` exactly as written; returns the status and the body.
async fn raw_get(s: &Server, path: &str) -> (u16, String) {
    let authority = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let s = support::server(AuthMode::Off);
    let cp = shared();
    let ns = cp.namespace("bad-input").await.expect("namespace").name;
    let target: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": TARGET },
        "spec": { "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" }, "scaling": { "replicas": 1 }, "resources": { "gpu": { "count": 1 } } },
    }))
    .expect("shape");
    Api::<DynamicObject>::namespaced_with(
        cp.client(User::Admin).await.expect("client"),
        &ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
    .create(&PostParams::default(), &target)
    .await
    .expect("target deployment");
    // The target is served (so a case that slipped through would act on it, not 404).
    s.get_eventually(
        &format!("/api/deployments/{TARGET}?namespace={ns}"),
        None,
        "the target deployment in the cache",
        |_| true,
    )
    .await;

    let cases = cases(&ns);
    let distinct: BTreeSet<&str> = cases.iter().map(|c| c.what.as_str()).collect();
    assert_eq!(distinct.len(), cases.len(), "case names are distinct");
    assert!(cases.len() + RAW_PATHS.len() >= 50, "{} cases", cases.len());

    let mut failures = Vec::new();
    for c in &cases {
        let before = snapshot().await;
        let reply = send(s, c).await;
        let after = snapshot().await;
        let mut problems = Vec::new();
        if !c.status.accepts(reply.status) {
            problems.push(format!("status {} (expected {:?})", reply.status, c.status));
        }
        let message = reply.body["error"]["message"].as_str();
        if c.path.starts_with("/api/") {
            match message {
                None => problems.push(format!("no error envelope: {}", reply.body)),
                Some(m) => {
                    if reply.body["error"]["statusCode"] != reply.status.as_u16() {
                        problems.push(format!("statusCode differs: {}", reply.body));
                    }
                    let m_lower = m.to_lowercase();
                    if !c
                        .fragment
                        .split('|')
                        .any(|f| m_lower.contains(&f.to_lowercase()))
                    {
                        problems.push(format!("message {m:?} does not mention {:?}", c.fragment));
                    }
                }
            }
        }
        if before != after {
            let added: Vec<_> = after.difference(&before).collect();
            let removed: Vec<_> = before.difference(&after).collect();
            problems.push(format!("the cluster changed: +{added:?} -{removed:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({} {}): {}",
                c.what,
                c.method,
                truncate(&c.path),
                problems.join("; ")
            ));
        }
    }
    for path in RAW_PATHS {
        let (status, text) = raw_get(s, path).await;
        if !(400..500).contains(&status) || text.contains("root:") || text.contains("[workspace]") {
            failures.push(format!(
                "raw GET {path}: status {status}, body {}",
                truncate(&text)
            ));
        }
    }
    let settings = s.get("/api/settings", None).await;
    assert_ne!(
        settings.body["config"]["defaultNamespace"].as_str(),
        Some("Bad_NS"),
        "{}",
        settings.body
    );
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were mishandled:\n{}",
        failures.len(),
        cases.len() + RAW_PATHS.len(),
        failures.join("\n")
    );
}

fn truncate(s: &str) -> String {
    if s.len() > 160 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(160).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s.to_string()
    }
}
