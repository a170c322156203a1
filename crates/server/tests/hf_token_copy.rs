//! `POST /api/deployments` with `hfTokenSecret: "hf-token-secret"` copies the saved HuggingFace
//! token Secret into a namespace that lacks it (docs/contract/api.md §19.12), as the caller and
//! never as the server; a dry run writes nothing; when the copy is impossible the deployment is
//! still created and the answer says why in `warnings`.
//!
//! One test, in steps: this binary's control plane starts without any token saved, and the
//! steps depend on whether one is saved, so they must not run in parallel.

mod support;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, Resource};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::User;
use kubeairunway_testenv::hf_hub::{HubServer, TOKEN_READ};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server};

const SECRET: &str = "hf-token-secret";
/// The start of the warning a create answers when the copy is impossible.
const NOTICE: &str = "⚠️ HuggingFace token missing";

async fn secret_in(client: &Client, ns: &str) -> Option<Secret> {
    support::get_or_none(&Api::<Secret>::namespaced(client.clone(), ns), SECRET).await
}

async fn deployment_in(client: &Client, ns: &str, name: &str) -> Option<ModelDeployment> {
    support::get_or_none(
        &Api::<ModelDeployment>::namespaced(client.clone(), ns),
        name,
    )
    .await
}

/// Creates the namespaced object `manifest` (JSON of a `K`) in `ns` as `admin`.
async fn create_in<K>(admin: &Client, ns: &str, manifest: Value)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
    K::DynamicType: Default,
{
    let kind = K::kind(&Default::default()).into_owned();
    let object: K = serde_json::from_value(manifest).unwrap_or_else(|e| panic!("{kind}: {e}"));
    Api::<K>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("create {kind}: {e}"));
}

/// A create body referencing the managed token Secret.
fn body(name: &str, ns: &str) -> Value {
    json!({
        "name": name, "namespace": ns, "modelId": "meta-llama/Llama-3.1-8B-Instruct",
        "engine": "vllm", "resources": { "gpu": 1 }, "hfTokenSecret": SECRET,
    })
}

/// `POST path` with `body` as `user`, asserting the answer's status is `status`.
async fn post_expecting(
    s: &Server,
    user: Option<User>,
    path: &str,
    body: &Value,
    status: StatusCode,
) -> Reply {
    let reply = s.post_json(path, user, body).await;
    reply.expect_status(status, format_args!("POST {path}"));
    reply
}

/// `POST /api/deployments` as `user`, asserting 201.
async fn deploy(s: &Server, user: Option<User>, body: &Value) -> Reply {
    post_expecting(s, user, "/api/deployments", body, StatusCode::CREATED).await
}

/// `POST /api/deployments?dryRun=true` as `user`, asserting 200.
async fn dry_run(s: &Server, user: Option<User>, body: &Value) -> Reply {
    post_expecting(
        s,
        user,
        "/api/deployments?dryRun=true",
        body,
        StatusCode::OK,
    )
    .await
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

/// The one token warning of a create or dry-run answer (panics with the body if there is not
/// exactly one).
#[track_caller]
fn only_notice(reply: &Reply) -> String {
    let mut notices = notices(reply);
    assert_eq!(notices.len(), 1, "{}", reply.body);
    notices.remove(0)
}

/// Asserts a create or dry-run answer carries no token warning.
#[track_caller]
fn assert_no_notice(reply: &Reply) {
    assert!(notices(reply).is_empty(), "{}", reply.body);
}

/// An auth-on server whose own identity is the cluster admin, so a copy made with the
/// server's identity instead of the caller's would succeed and be seen.
fn auth_server_acting_as_admin(hub: &HubServer) -> Server {
    support::start(support::hub_config(hub.url(), AuthMode::On), User::Admin)
}

/// Lets the viewers create ModelDeployments (nothing else) in `ns`.
async fn let_viewers_deploy_in(admin: &Client, ns: &str) {
    create_in::<RoleBinding>(admin, ns, json!({
        "metadata": { "name": "viewers-deploy", "namespace": ns },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubeairunway-edit" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": User::Viewer.groups()[0] }],
    }))
    .await;
}

/// Lets the viewers read the saved token in the default namespace (and nothing else).
async fn let_viewers_read_the_token(admin: &Client) {
    let ns = "kubeairunway-system";
    create_in::<Role>(admin, ns, json!({
        "metadata": { "name": "read-hf-token", "namespace": ns },
        "rules": [{ "apiGroups": [""], "resources": ["secrets"], "resourceNames": [SECRET], "verbs": ["get"] }],
    }))
    .await;
    create_in::<RoleBinding>(admin, ns, json!({
        "metadata": { "name": "viewers-read-hf-token", "namespace": ns },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-hf-token" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": User::Viewer.groups()[0] }],
    }))
    .await;
}

#[tokio::test]
async fn the_token_secret_follows_new_deployments_as_the_caller() {
    let hub = HubServer::start().expect("local HuggingFace Hub");
    let off = support::start_with_hub(hub.url(), AuthMode::Off, |_| {});
    let on = auth_server_acting_as_admin(&hub);
    let admin = support::admin_client().await;
    let managed = ListParams::default().labels("kubeairunway.ai/secret-type=huggingface-token");

    // 1. No token saved anywhere: the deployment is created, and the answer says the Secret is
    //    missing and why; a dry run says the same.
    let none_saved = Api::<Secret>::all(admin.clone())
        .list(&managed)
        .await
        .expect("list secrets");
    assert!(none_saved.items.is_empty(), "a fresh cluster has no token");
    let ns_unsaved = support::namespace("hf-unsaved").await;
    let dry = dry_run(&off, None, &body("gated", &ns_unsaved)).await;
    let dry_notice = only_notice(&dry);
    assert!(
        dry_notice.contains("no HuggingFace token is saved"),
        "{dry_notice:?}"
    );
    let created = deploy(&off, None, &body("gated", &ns_unsaved)).await;
    let notice = &only_notice(&created);
    assert!(notice.starts_with(NOTICE), "{notice}");
    assert!(
        notice.contains(&format!("\"{ns_unsaved}\"")) && notice.contains(SECRET),
        "names the namespace and the Secret: {notice}"
    );
    assert!(notice.contains("no HuggingFace token is saved"), "{notice}");
    assert!(deployment_in(&admin, &ns_unsaved, "gated").await.is_some());
    assert!(secret_in(&admin, &ns_unsaved).await.is_none());

    // 2. Save the token (the default namespace and the namespaces with deployments).
    post_expecting(
        &off,
        None,
        "/api/secrets/huggingface",
        &json!({ "accessToken": TOKEN_READ }),
        StatusCode::OK,
    )
    .await;
    assert!(secret_in(&admin, "kubeairunway-system").await.is_some());

    // 3. A dry run and a preview in a brand-new namespace write nothing, and warn of nothing
    //    (the create would copy the Secret).
    let ns_new = support::namespace("hf-new").await;
    let dry = dry_run(&off, None, &body("gated", &ns_new)).await;
    assert_no_notice(&dry);
    post_expecting(
        &off,
        None,
        "/api/deployments/preview",
        &body("gated", &ns_new),
        StatusCode::OK,
    )
    .await;
    assert!(
        secret_in(&admin, &ns_new).await.is_none(),
        "a dry run wrote the Secret"
    );
    assert!(deployment_in(&admin, &ns_new, "gated").await.is_none());

    // 4. The namespace's first deployment brings the Secret along: same token, labels, user.
    let created = deploy(&off, None, &body("gated", &ns_new)).await;
    assert_no_notice(&created);
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
    let ns_other = support::namespace("hf-other").await;
    let mut other = body("other", &ns_other);
    other["hfTokenSecret"] = json!("my-own-token");
    deploy(&off, None, &other).await;
    assert!(secret_in(&admin, &ns_other).await.is_none());
    create_in::<Secret>(
        &admin,
        &ns_other,
        json!({
            "metadata": { "name": SECRET, "namespace": ns_other },
            "stringData": { "HF_TOKEN": "hf_users_own" },
        }),
    )
    .await;
    let reply = deploy(&off, None, &body("gated", &ns_other)).await;
    assert_no_notice(&reply);
    let kept = secret_in(&admin, &ns_other).await.expect("still there");
    assert_eq!(kept.data.expect("data")["HF_TOKEN"].0, b"hf_users_own");

    // 6. Bad input is still a 4xx and copies nothing.
    let mut bad = body("gated", &support::namespace("hf-bad").await);
    bad["hfTokenSecret"] = json!("Bad_Secret");
    post_expecting(
        &off,
        None,
        "/api/deployments",
        &bad,
        StatusCode::BAD_REQUEST,
    )
    .await;
    post_expecting(
        &off,
        None,
        "/api/deployments?dryRun=maybe",
        &body("x", "default"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // 7. A caller who may create deployments but not read or create Secrets gets the
    //    deployment and the notice; the server (cluster admin here) does not copy for them.
    let ns_viewer = support::namespace("hf-viewer").await;
    let_viewers_deploy_in(&admin, &ns_viewer).await;
    let dry = dry_run(&on, Some(User::Viewer), &body("gated", &ns_viewer)).await;
    only_notice(&dry);
    let reply = deploy(&on, Some(User::Viewer), &body("gated", &ns_viewer)).await;
    let viewer_notice = only_notice(&reply);
    assert!(viewer_notice.starts_with(NOTICE), "{viewer_notice:?}");
    assert!(
        viewer_notice.contains("you may not read Secrets in")
            && viewer_notice.contains("\"kubeairunway-system\""),
        "{viewer_notice:?}"
    );
    assert!(deployment_in(&admin, &ns_viewer, "gated").await.is_some());
    assert!(
        secret_in(&admin, &ns_viewer).await.is_none(),
        "the Secret was written with the server's identity"
    );

    // 7b. Allowed to read the saved token but not to create Secrets there: the API server's
    //     refusal is the notice, and still nothing is written for them.
    let_viewers_read_the_token(&admin).await;
    let reply = deploy(&on, Some(User::Viewer), &body("gated-again", &ns_viewer)).await;
    let write_notice = only_notice(&reply);
    assert!(
        write_notice.contains(&format!("creating it in \"{ns_viewer}\" failed"))
            && write_notice.contains("forbidden"),
        "{write_notice:?}"
    );
    assert!(secret_in(&admin, &ns_viewer).await.is_none());

    // 8. With auth on, a caller who may write Secrets gets the copy.
    let ns_admin = support::namespace("hf-admin").await;
    let reply = deploy(&on, Some(User::Admin), &body("gated", &ns_admin)).await;
    assert_no_notice(&reply);
    let copied = secret_in(&admin, &ns_admin).await.expect("copied as admin");
    assert_eq!(
        copied.data.expect("data")["HF_TOKEN"].0,
        TOKEN_READ.as_bytes()
    );
}
