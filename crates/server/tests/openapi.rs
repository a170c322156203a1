//! The OpenAPI document is generated from the handlers; this snapshot makes every change to the
//! API surface visible in review, and other clients (the TypeScript client) are generated from
//! the committed file. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p kubeairunway-server --test openapi`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kubeairunway_server::{AppState, BuildInfo, Config, openapi_document, router};
use tower::ServiceExt;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

fn rendered() -> String {
    serde_json::to_string_pretty(&openapi_document()).expect("document serializes") + "\n"
}

/// A server's state without a cluster: enough for what answers before the cluster is asked.
fn no_cluster() -> AppState {
    AppState::new(
        Config::local(
            "127.0.0.1:0".parse().expect("addr"),
            BuildInfo {
                version: "1".into(),
                build_time: "t".into(),
                git_commit: "c".into(),
            },
        ),
        None,
    )
}

#[test]
fn the_document_matches_the_committed_snapshot() {
    let current = rendered();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &current).expect("write snapshot");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == current,
        "crates/server/openapi.json is stale; regenerate it with \
         `UPDATE_SNAPSHOTS=1 cargo test -p kubeairunway-server --test openapi` and review the diff"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_names_the_error_envelope() {
    let doc: serde_json::Value = serde_json::from_str(&rendered()).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for path in ["/api/health", "/api/cluster/status", "/api/auth/whoami"] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
}

#[test]
fn operation_ids_are_unique_so_generated_clients_can_name_them() {
    let doc: serde_json::Value = serde_json::from_str(&rendered()).expect("JSON");
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("operationId").to_string();
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id} is used by {other} and {method} {path}");
            }
        }
    }
    assert!(seen.contains_key("search_models") && seen.contains_key("plan_model"));
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    let response = router(no_cluster())
        .oneshot(
            Request::get("/api/openapi.json")
                .header("host", "localhost")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    let served: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let generated: serde_json::Value = serde_json::from_str(&rendered()).expect("JSON");
    assert_eq!(served, generated);
}

/// Every status the router gives a route's malformed bodies (wrong content type, broken JSON, a
/// body over the limit) is one its operation documents. schemathesis found the 415 missing
/// from every JSON route; this keeps it, and the rest of what `openapi::complete` adds, true.
#[tokio::test]
async fn malformed_bodies_get_documented_answers_on_every_json_route() {
    let doc: serde_json::Value = serde_json::from_str(&rendered()).expect("JSON");
    let app = router(no_cluster());
    let oversized = "[".repeat(kubeairunway_server::BODY_LIMIT + 1);
    let mut checked = 0;
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if op.get("requestBody").is_none() {
                continue;
            }
            let documented = op["responses"].as_object().expect("responses");
            for code in ["400", "401", "413", "415"] {
                let public = op["security"] == serde_json::json!([{}]);
                if code == "401" && public {
                    continue;
                }
                assert!(
                    documented.contains_key(code),
                    "{method} {path} does not document {code}"
                );
            }
            let uri = path.replace("{name}", "x").replace("{id}", "x");
            for (content_type, body, expected) in [
                (
                    "text/plain",
                    "{}".to_string(),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ),
                ("application/json", "{".to_string(), StatusCode::BAD_REQUEST),
                (
                    "application/json",
                    oversized.clone(),
                    StatusCode::PAYLOAD_TOO_LARGE,
                ),
            ] {
                let response = app
                    .clone()
                    .oneshot(
                        Request::builder()
                            .method(method.to_uppercase().as_str())
                            .uri(&uri)
                            .header("host", "localhost")
                            .header("content-type", content_type)
                            .body(Body::from(body))
                            .expect("request"),
                    )
                    .await
                    .expect("answer");
                let status = response.status();
                if !documented.contains_key(status.as_str()) {
                    problems.push(format!(
                        "{method} {path} answered {status} to a {content_type} body ({expected} \
                         expected), which it does not document"
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked >= 3 * 14,
        "only {checked} requests: were the JSON routes found?"
    );
}

/// Server-Sent Event streams are described as events (`data` is the JSON text of the payload),
/// which is how clients, schemathesis among them, check them.
#[test]
fn event_streams_are_described_as_events() {
    let doc: serde_json::Value = serde_json::from_str(&rendered()).expect("JSON");
    let mut streams = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for (code, response) in op["responses"].as_object().expect("responses") {
                let Some(schema) = response.pointer("/content/text~1event-stream/schema") else {
                    continue;
                };
                streams += 1;
                assert_eq!(
                    schema["required"],
                    serde_json::json!(["data"]),
                    "{method} {path} {code}"
                );
                assert_eq!(schema["properties"]["data"]["type"], "string");
            }
        }
    }
    let live = &doc["paths"]["/api/deployments/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"]["properties"]["data"];
    assert_eq!(live["contentMediaType"], "application/json");
    assert_eq!(
        live["contentSchema"]["$ref"],
        "#/components/schemas/LiveEvent"
    );
    assert_eq!(
        streams, 3,
        "deployment events, job events and followed logs"
    );
}
