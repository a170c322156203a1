//! `GET/PUT /api/settings` against the real control plane: ConfigMap storage, edits made with
//! kubectl visible without a restart, validation, and RBAC passed through from the API server.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kubeairunway_testenv::{User, shared};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Server};

/// The shared server of `mode`, reached with an HTTP client of this test's own: pooled
/// connections must not outlive the Tokio runtime of the test that opened them.
fn server(mode: AuthMode) -> Server {
    support::own_server(mode)
}

const NAMESPACE: &str = "kubeairunway-system";
const NAME: &str = "kubeairunway-config";

async fn stored() -> Option<ConfigMap> {
    let api: Api<ConfigMap> = Api::namespaced(
        shared().client(User::Admin).await.expect("client"),
        NAMESPACE,
    );
    api.get_opt(NAME).await.expect("read the ConfigMap")
}

async fn stored_config() -> Value {
    let cm = stored().await.expect("the ConfigMap exists");
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get("config.json"))
        .expect("config.json")
        .clone();
    serde_json::from_str(&text).expect("config.json is JSON")
}

fn labels_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Value {
    json!(meta.labels.clone().unwrap_or_default())
}

#[tokio::test]
async fn get_is_public_and_reports_the_auth_mode() {
    for (mode, enabled) in [(AuthMode::On, true), (AuthMode::Off, false)] {
        let reply = server(mode).get("/api/settings", None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["auth"], json!({ "enabled": enabled }));
        assert!(
            reply.body["config"]["defaultNamespace"]
                .as_str()
                .is_some_and(|ns| !ns.is_empty()),
            "{}",
            reply.body
        );
    }
}

/// Every write to the one settings ConfigMap happens in this test, in order.
#[tokio::test]
async fn settings_round_trip_through_the_config_map() {
    let on = server(AuthMode::On);
    let off = server(AuthMode::Off);
    let before = stored().await;
    assert!(before.is_none(), "a fresh cluster has no settings yet");
    let reply = on.get("/api/settings", None).await;
    assert_eq!(
        reply.body["config"],
        json!({ "defaultNamespace": "kubeairunway-system" }),
        "defaults when nothing is stored"
    );

    // The first PUT creates the namespace and the ConfigMap, labelled; GET shows it at once.
    let reply = on
        .call(
            Method::PUT,
            "/api/settings",
            Some(User::Admin),
            Some(&json!({ "defaultNamespace": "alpha" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({ "message": "Settings updated successfully", "config": { "defaultNamespace": "alpha" } })
    );
    let got = on.get("/api/settings", None).await;
    assert_eq!(
        got.body["config"]["defaultNamespace"], "alpha",
        "read-your-writes"
    );
    let labels = json!({ "app.kubernetes.io/name": "kubeairunway", "app.kubernetes.io/managed-by": "kubeairunway" });
    let cm = stored().await.expect("created");
    assert_eq!(labels_of(&cm.metadata), labels);
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get("config.json"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        text, "{\n  \"defaultNamespace\": \"alpha\"\n}",
        "pretty JSON"
    );
    let ns: Api<Namespace> = Api::all(shared().client(User::Admin).await.expect("client"));
    let ns = ns.get(NAMESPACE).await.expect("namespace created");
    let ns_labels = labels_of(&ns.metadata);
    for (k, v) in labels.as_object().into_iter().flatten() {
        assert_eq!(&ns_labels[k], v, "{ns_labels}");
    }
    off.get_eventually("/api/settings", None, "the other server sees alpha", |b| {
        b["config"]["defaultNamespace"] == "alpha"
    })
    .await;

    // An edit made with kubectl shows up in both servers within seconds, unknown keys included.
    let edited = json!({ "defaultNamespace": "beta", "activeProviderId": "kaito" }).to_string();
    let patch = json!({ "data": { "config.json": edited } }).to_string();
    let out = shared()
        .kubectl(User::Admin)
        .args([
            "-n",
            NAMESPACE,
            "patch",
            "configmap",
            NAME,
            "--type=merge",
            "-p",
            &patch,
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for srv in [&on, &off] {
        let started = std::time::Instant::now();
        let body = srv
            .get_eventually("/api/settings", None, "the kubectl edit", |b| {
                b["config"]["defaultNamespace"] == "beta"
            })
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            body["config"],
            json!({ "defaultNamespace": "beta", "activeProviderId": "kaito" })
        );
    }

    // A PUT merges into what is stored and keeps keys it does not know.
    let reply = off
        .call(
            Method::PUT,
            "/api/settings",
            None,
            Some(&json!({ "defaultNamespace": "gamma" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["config"],
        json!({ "defaultNamespace": "gamma", "activeProviderId": "kaito" })
    );
    assert_eq!(
        stored_config().await,
        json!({ "defaultNamespace": "gamma", "activeProviderId": "kaito" })
    );
    let empty = off
        .call(Method::PUT, "/api/settings", None, Some(&json!({})))
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["config"]["defaultNamespace"], "gamma");

    // The read-only and the namespace user are refused by the API server itself; no token: 401.
    for user in [User::Viewer, User::TeamA] {
        let reply = on
            .call(
                Method::PUT,
                "/api/settings",
                Some(user),
                Some(&json!({ "defaultNamespace": "delta" })),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{user:?}: {}",
            reply.body
        );
        assert!(
            reply.message().starts_with("Failed to save configuration:")
                && reply.message().contains("forbidden")
                && reply.message().contains(user.name()),
            "{}",
            reply.message()
        );
    }
    let anonymous = on
        .call(
            Method::PUT,
            "/api/settings",
            None,
            Some(&json!({ "defaultNamespace": "delta" })),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Invalid bodies change nothing.
    for body in [
        json!({ "defaultNamespace": "Bad_NS" }),
        json!({ "defaultNamespace": "" }),
        json!({ "namespace": "delta" }),
    ] {
        let reply = on
            .call(Method::PUT, "/api/settings", Some(User::Admin), Some(&body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
    }
    assert_eq!(
        stored_config().await,
        json!({ "defaultNamespace": "gamma", "activeProviderId": "kaito" })
    );
    assert_eq!(
        on.get("/api/settings", None).await.body["config"]["defaultNamespace"],
        "gamma"
    );
}

#[tokio::test]
async fn invalid_updates_are_rejected_with_400() {
    let long = "a".repeat(64);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "defaultNamespace": "Bad_NS" }), "Invalid namespace"),
        (
            json!({ "defaultNamespace": "-leading" }),
            "Invalid namespace",
        ),
        (
            json!({ "defaultNamespace": "trailing-" }),
            "Invalid namespace",
        ),
        (json!({ "defaultNamespace": "" }), "Invalid namespace"),
        (json!({ "defaultNamespace": long }), "Invalid namespace"),
        (json!({ "defaultNamespace": "../etc" }), "Invalid namespace"),
        (json!({ "defaultNamespace": "a.b" }), "Invalid namespace"),
        (json!({ "defaultNamespace": 42 }), "Invalid request body"),
        (json!({ "defaultNamespace": ["a"] }), "Invalid request body"),
        (
            json!({ "defaultNamespace": "ok", "extra": 1 }),
            "unknown field",
        ),
        (json!(["alpha"]), "expected a JSON object"),
        (json!("alpha"), "expected a JSON object"),
        (json!(null), "expected a JSON object"),
    ];
    for (mode, user) in [(AuthMode::On, Some(User::Admin)), (AuthMode::Off, None)] {
        for (body, expected) in &cases {
            let reply = server(mode)
                .call(Method::PUT, "/api/settings", user, Some(body))
                .await;
            reply.assert_error(StatusCode::BAD_REQUEST, expected, body);
        }
        let malformed = server(mode)
            .request(Method::PUT, "/api/settings", user)
            .header("content-type", "application/json")
            .body("{\"defaultNamespace\":")
            .send()
            .await
            .expect("sent");
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        let not_json = server(mode)
            .request(Method::PUT, "/api/settings", user)
            .body("defaultNamespace=x")
            .send()
            .await
            .expect("sent");
        assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
