//! `POST /api/deployments` with `hfTokenSecret: "hf-token-secret"` copies the saved
//! HuggingFace token Secret into a namespace that lacks it (api.md §19.12), as the caller and
//! never as the server; a dry run writes nothing; when the copy is impossible the deployment is
//! still created and the answer says why in `warnings`.
//!
//! One test, in steps: this binary's control plane starts without any token saved, and the
//! steps depend on whether one is saved, so they must not run in parallel.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use kubeairunway_api::ModelDeployment;
use kubeairunway_server::Config;
use kubeairunway_testenv::hf_hub::{HubServer, OAUTH_CLIENT_ID, TOKEN_READ};
use kubeairunway_testenv::{User, shared};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server};

const SECRET: &str = "hf-token-secret";
/// The start of the warning a create answers when the copy is impossible.
const NOTICE: &str = "⚠️ HuggingFace token missing";

async fn admin() -> Client {
    shared().client(User::Admin).await.expect("admin client")
}

async fn namespace(prefix: &str) -> String {
    shared().namespace(prefix).await.expect("namespace").name
}

async fn secret_in(client: &Client, ns: &str) -> Option<Secret> {
    Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(SECRET)
        .await
        .expect("read secret")
}

async fn deployment_in(client: &Client, ns: &str, name: &str) -> Option<ModelDeployment> {
    Api::<ModelDeployment>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .expect("read deployment")
}

/// A create body referencing the managed token Secret.
fn body(name: &str, ns: &str) -> Value {
    json!({
        "name": name, "namespace": ns, "modelId": "meta-llama/Llama-3.1-8B-Instruct",
        "engine": "vllm", "resources": { "gpu": 1 }, "hfTokenSecret": SECRET,
    })
}

async fn create(s: &Server, user: Option<User>, path: &str, body: &Value) -> Reply {
    s.call(Method::POST, path, user, Some(body)).await
}

/// The token warnings of a create or dry-run answer.
fn notices(reply: &Reply) -> Vec<String> {
    reply.body["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .filter(|w| w.contains("HuggingFace token"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An auth-on server whose own identity is the cluster admin, so a copy made with the
/// server's identity instead of the caller's would succeed and be seen.
fn auth_server_acting_as_admin(hub: &HubServer) -> Server {
    let mut config = Config::local("127.0.0.1:0".parse().expect("addr"), support::build_info());
    config.auth_enabled = true;
    config.huggingface.endpoint = hub.url();
    config.huggingface.client_id = Some(OAUTH_CLIENT_ID.into());
    config.huggingface.timeout = Duration::from_secs(5);
    support::start(config, User::Admin)
}

/// Lets the viewers create ModelDeployments (nothing else) in `ns`.
async fn let_viewers_deploy_in(admin: &Client, ns: &str) {
    let rb: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": "viewers-deploy", "namespace": ns },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubeairunway-edit" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": User::Viewer.groups()[0] }],
    }))
    .expect("RoleBinding");
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &rb)
        .await
        .expect("create RoleBinding");
}

/// Lets the viewers read the saved token in the default namespace (and nothing else).
async fn let_viewers_read_the_token(admin: &Client) {
    let ns = "kubeairunway-system";
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "read-hf-token", "namespace": ns },
        "rules": [{ "apiGroups": [""], "resources": ["secrets"], "resourceNames": [SECRET], "verbs": ["get"] }],
    }))
    .expect("Role");
    Api::<Role>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create Role");
    let rb: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": "viewers-read-hf-token", "namespace": ns },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-hf-token" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": User::Viewer.groups()[0] }],
    }))
    .expect("RoleBinding");
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &rb)
        .await
        .expect("create RoleBinding");
}

#[tokio::test]
async fn the_token_secret_follows_new_deployments_as_the_caller() {
    let hub = HubServer::start().expect("local HuggingFace Hub");
    let off = support::start_with_hub(hub.url(), AuthMode::Off, |_| {});
    let on = auth_server_acting_as_admin(&hub);
    let admin = admin().await;
    let managed = ListParams::default().labels("kubeairunway.ai/secret-type=huggingface-token");

    // 1. No token saved anywhere: the deployment is created, and the answer says the Secret is
    //    missing and why; a dry run says the same.
    let none_saved = Api::<Secret>::all(admin.clone())
        .list(&managed)
        .await
        .expect("list secrets");
    assert!(none_saved.items.is_empty(), "a fresh cluster has no token");
    let ns_unsaved = namespace("hf-unsaved").await;
    let dry = create(
        &off,
        None,
        "/api/deployments?dryRun=true",
        &body("gated", &ns_unsaved),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    let dry_notices = notices(&dry);
    assert_eq!(dry_notices.len(), 1, "{}", dry.body);
    assert!(
        dry_notices[0].contains("no HuggingFace token is saved"),
        "{dry_notices:?}"
    );
    let created = create(&off, None, "/api/deployments", &body("gated", &ns_unsaved)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let unsaved_notices = notices(&created);
    assert_eq!(unsaved_notices.len(), 1, "{}", created.body);
    let notice = &unsaved_notices[0];
    assert!(notice.starts_with(NOTICE), "{notice}");
    assert!(
        notice.contains(&format!("\"{ns_unsaved}\"")) && notice.contains(SECRET),
        "names the namespace and the Secret: {notice}"
    );
    assert!(notice.contains("no HuggingFace token is saved"), "{notice}");
    assert!(deployment_in(&admin, &ns_unsaved, "gated").await.is_some());
    assert!(secret_in(&admin, &ns_unsaved).await.is_none());

    // 2. Save the token (the default namespace and the namespaces with deployments).
    let saved = off
        .call(
            Method::POST,
            "/api/secrets/huggingface",
            None,
            Some(&json!({ "accessToken": TOKEN_READ })),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(secret_in(&admin, "kubeairunway-system").await.is_some());

    // 3. A dry run and a preview in a brand-new namespace write nothing, and warn of nothing
    //    (the create would copy the Secret).
    let ns_new = namespace("hf-new").await;
    let dry = create(
        &off,
        None,
        "/api/deployments?dryRun=true",
        &body("gated", &ns_new),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(notices(&dry).is_empty(), "{}", dry.body);
    let preview = create(
        &off,
        None,
        "/api/deployments/preview",
        &body("gated", &ns_new),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        secret_in(&admin, &ns_new).await.is_none(),
        "a dry run wrote the Secret"
    );
    assert!(deployment_in(&admin, &ns_new, "gated").await.is_none());

    // 4. The namespace's first deployment brings the Secret along: same token, labels, user.
    let created = create(&off, None, "/api/deployments", &body("gated", &ns_new)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(notices(&created).is_empty(), "{}", created.body);
    let copied = secret_in(&admin, &ns_new)
        .await
        .expect("the Secret was copied into the new namespace");
    assert_eq!(
        copied.data.as_ref().expect("data")["HF_TOKEN"].0,
        TOKEN_READ.as_bytes()
    );
    assert_eq!(copied.type_.as_deref(), Some("Opaque"));
    let labels = copied.metadata.labels.clone().expect("labels");
    assert_eq!(labels["kubeairunway.ai/secret-type"], "huggingface-token");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "kubeairunway");
    let user: Value = serde_json::from_str(
        &copied.metadata.annotations.clone().expect("annotations")["kubeairunway.ai/hf-user"],
    )
    .expect("user annotation");
    assert_eq!(user["name"], "test-user");
    let status = off.get("/api/secrets/huggingface/status", None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(
        status.body["namespaces"]
            .as_array()
            .expect("namespaces")
            .iter()
            .any(|n| n["name"] == ns_new.as_str() && n["exists"] == true),
        "{}",
        status.body
    );

    // 5. Only the managed name is copied, and an existing Secret of that name is never
    //    overwritten.
    let ns_other = namespace("hf-other").await;
    let mut other = body("other", &ns_other);
    other["hfTokenSecret"] = json!("my-own-token");
    let reply = create(&off, None, "/api/deployments", &other).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(secret_in(&admin, &ns_other).await.is_none());
    let own: Secret = serde_json::from_value(json!({
        "metadata": { "name": SECRET, "namespace": ns_other },
        "stringData": { "HF_TOKEN": "hf_users_own" },
    }))
    .expect("secret");
    Api::<Secret>::namespaced(admin.clone(), &ns_other)
        .create(&PostParams::default(), &own)
        .await
        .expect("create own secret");
    let reply = create(&off, None, "/api/deployments", &body("gated", &ns_other)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(notices(&reply).is_empty(), "{}", reply.body);
    let kept = secret_in(&admin, &ns_other).await.expect("still there");
    assert_eq!(kept.data.expect("data")["HF_TOKEN"].0, b"hf_users_own");

    // 6. Bad input is still a 4xx and copies nothing.
    let mut bad = body("gated", &namespace("hf-bad").await);
    bad["hfTokenSecret"] = json!("Bad_Secret");
    let reply = create(&off, None, "/api/deployments", &bad).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = create(
        &off,
        None,
        "/api/deployments?dryRun=maybe",
        &body("x", "default"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    // 7. A caller who may create deployments but not read or create Secrets gets the
    //    deployment and the notice; the server (cluster admin here) does not copy for them.
    let ns_viewer = namespace("hf-viewer").await;
    let_viewers_deploy_in(&admin, &ns_viewer).await;
    let dry = create(
        &on,
        Some(User::Viewer),
        "/api/deployments?dryRun=true",
        &body("gated", &ns_viewer),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(notices(&dry).len(), 1, "{}", dry.body);
    let reply = create(
        &on,
        Some(User::Viewer),
        "/api/deployments",
        &body("gated", &ns_viewer),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let viewer_notices = notices(&reply);
    assert_eq!(viewer_notices.len(), 1, "{}", reply.body);
    assert!(viewer_notices[0].starts_with(NOTICE), "{viewer_notices:?}");
    assert!(
        viewer_notices[0].contains("you may not read Secrets in")
            && viewer_notices[0].contains("\"kubeairunway-system\""),
        "{viewer_notices:?}"
    );
    assert!(deployment_in(&admin, &ns_viewer, "gated").await.is_some());
    assert!(
        secret_in(&admin, &ns_viewer).await.is_none(),
        "the Secret was written with the server's identity"
    );

    // 7b. Allowed to read the saved token but not to create Secrets there: the API server's
    //     refusal is the notice, and still nothing is written for them.
    let_viewers_read_the_token(&admin).await;
    let reply = create(
        &on,
        Some(User::Viewer),
        "/api/deployments",
        &body("gated-again", &ns_viewer),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let write_notices = notices(&reply);
    assert_eq!(write_notices.len(), 1, "{}", reply.body);
    assert!(
        write_notices[0].contains(&format!("creating it in \"{ns_viewer}\" failed"))
            && write_notices[0].contains("forbidden"),
        "{write_notices:?}"
    );
    assert!(secret_in(&admin, &ns_viewer).await.is_none());

    // 8. With auth on, a caller who may write Secrets gets the copy.
    let ns_admin = namespace("hf-admin").await;
    let reply = create(
        &on,
        Some(User::Admin),
        "/api/deployments",
        &body("gated", &ns_admin),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(notices(&reply).is_empty(), "{}", reply.body);
    let copied = secret_in(&admin, &ns_admin).await.expect("copied as admin");
    assert_eq!(
        copied.data.expect("data")["HF_TOKEN"].0,
        TOKEN_READ.as_bytes()
    );
}
