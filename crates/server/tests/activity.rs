//! The activity trail (issue 20) on the real control plane: every change made through the API
//! is an `events.k8s.io/v1` Event on the object naming the caller (refusals too), listed back
//! by `GET /api/activity` with filters, paging and RBAC filtering; and because the change ran
//! with the caller's own token, the API server's audit log names the same person.

mod support;

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::ListParams;
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{User, shared, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server, unique};

/// The body the web UI's deploy form sends (web/src/lib/deployForm.ts `toRequest`).
fn ui_create_body(name: &str, namespace: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "modelId": "Qwen/Qwen3-0.6B",
        "servedModelName": "Qwen/Qwen3-0.6B",
        "engine": "vllm",
        "provider": "kubernetes",
        "replicas": 1,
        "resources": { "gpu": 1 },
    })
}

/// The activity Events about `name` in `namespace`, as the admin reads them with kubectl.
async fn events_about(namespace: &str, name: &str) -> Vec<Event> {
    let client = support::admin_client().await;
    let api: Api<Event> = Api::namespaced(client, namespace);
    let mut events: Vec<Event> = api
        .list(&ListParams::default().labels("kubeairunway.ai/activity=true"))
        .await
        .expect("list events")
        .items
        .into_iter()
        .filter(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.name.as_deref() == Some(name))
        })
        .collect();
    events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    events
}

fn note(e: &Event) -> &str {
    e.note.as_deref().unwrap_or_default()
}

async fn activity(s: &Server, query: &str, user: User) -> Reply {
    s.get(&format!("/api/activity{query}"), Some(user)).await
}

fn actions(reply: &Reply) -> Vec<(String, String, String)> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", reply.body))
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap_or_default().to_string(),
                i["user"].as_str().unwrap_or_default().to_string(),
                i["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn t(a: &str, u: &str, o: &str) -> (String, String, String) {
    (a.into(), u.into(), o.into())
}

/// Every audit event the API server has written so far.
fn audit_events() -> Vec<Value> {
    std::fs::read_to_string(shared().info().audit_log_path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn changes_are_events_naming_the_user_listed_back_filtered_paged_and_by_rbac() {
    let s = support::server(AuthMode::On);
    let team = User::TEAM_NAMESPACE;
    let name = unique("act");

    // alice creates with the UI's request, scales; the viewer's delete is refused; alice
    // deletes.
    s.post_json(
        "/api/deployments",
        Some(User::TeamA),
        &ui_create_body(&name, team),
    )
    .await
    .expect_status(StatusCode::CREATED, "alice creates");
    let mds: Api<ModelDeployment> = Api::namespaced(support::admin_client().await, team);
    let uid = mds.get(&name).await.expect("created").metadata.uid;
    let path = format!("/api/deployments/{name}?namespace={team}");
    s.call(
        Method::PATCH,
        &path,
        Some(User::TeamA),
        Some(&json!({ "replicas": 3 })),
    )
    .await
    .expect_status(StatusCode::OK, "alice scales");
    s.call(Method::DELETE, &path, Some(User::Viewer), None)
        .await
        .expect_status(StatusCode::FORBIDDEN, "a viewer may not delete");
    s.call(Method::DELETE, &path, Some(User::TeamA), None)
        .await
        .expect_status(StatusCode::OK, "alice deletes");

    // The Events on the ModelDeployment, as kubectl shows them.
    let events = events_about(team, &name).await;
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.action.clone(), e.type_.clone(), e.reason.clone()))
        .collect();
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        summary,
        vec![
            (some("Create"), some("Normal"), some("Created")),
            (some("Scale"), some("Normal"), some("Scaled")),
            (some("Delete"), some("Warning"), some("Forbidden")),
            (some("Delete"), some("Normal"), some("Deleted")),
        ],
        "{events:#?}"
    );
    for e in &events {
        assert_eq!(e.reporting_controller.as_deref(), Some("kubeairunway"));
        assert!(
            !e.reporting_instance
                .as_deref()
                .unwrap_or_default()
                .is_empty()
        );
        let regarding = e.regarding.as_ref().expect("regarding");
        assert_eq!(regarding.kind.as_deref(), Some("ModelDeployment"));
        assert_eq!(regarding.namespace.as_deref(), Some(team));
        assert_eq!(regarding.uid, uid, "kubectl describe finds it by UID");
    }
    let alice = "alice (groups: team-a, system:authenticated)";
    assert_eq!(
        note(&events[0]),
        format!("{alice} created deployment {name} in {team} (model Qwen/Qwen3-0.6B)")
    );
    assert_eq!(
        note(&events[1]),
        format!("{alice} scaled deployment {name} in {team} to 3 replicas")
    );
    assert!(
        note(&events[2]).starts_with(&format!(
            "viewer (groups: kubeairunway:viewers, system:authenticated) tried to delete deployment {name} in {team} and was refused (403): "
        )),
        "{}",
        note(&events[2])
    );
    assert_eq!(
        note(&events[3]),
        format!("{alice} deleted deployment {name} in {team}")
    );
    let annotations = events[1].metadata.annotations.clone().expect("annotations");
    assert_eq!(annotations["kubeairunway.ai/activity-user"], "alice");
    assert_eq!(
        annotations["kubeairunway.ai/activity-groups"],
        r#"["team-a","system:authenticated"]"#
    );

    // The list: newest first, filtered, paged.
    let q = format!("?namespace={team}&deployment={name}");
    let all = activity(s, &q, User::Admin).await;
    all.expect_status(StatusCode::OK, "admin lists");
    assert_eq!(
        actions(&all),
        vec![
            t("Delete", "alice", "succeeded"),
            t("Delete", "viewer", "refused"),
            t("Scale", "alice", "succeeded"),
            t("Create", "alice", "succeeded"),
        ]
    );
    assert_eq!(all.body["total"], 4);
    let scale = &all.body["items"][2];
    assert_eq!(scale["groups"], json!(["team-a", "system:authenticated"]));
    assert_eq!(scale["type"], "Normal");
    assert_eq!(scale["statusCode"], 200);
    assert_eq!(scale["deployment"], name.as_str());
    assert_eq!(
        scale["object"],
        json!({ "kind": "ModelDeployment", "apiVersion": "kubeairunway.ai/v1alpha1", "namespace": team, "name": name })
    );
    assert_eq!(all.body["items"][3]["statusCode"], 201);
    assert_eq!(all.body["items"][1]["statusCode"], 403);
    assert_eq!(all.body["items"][1]["type"], "Warning");

    let by_user = activity(s, &format!("{q}&user=viewer"), User::Admin).await;
    assert_eq!(actions(&by_user), vec![t("Delete", "viewer", "refused")]);
    let by_action = activity(s, &format!("{q}&action=Scale"), User::Admin).await;
    assert_eq!(actions(&by_action), vec![t("Scale", "alice", "succeeded")]);
    let page = activity(s, &format!("{q}&limit=2&offset=1"), User::Admin).await;
    assert_eq!(
        actions(&page),
        vec![
            t("Delete", "viewer", "refused"),
            t("Scale", "alice", "succeeded")
        ]
    );
    assert_eq!(
        (
            &page.body["total"],
            &page.body["limit"],
            &page.body["offset"]
        ),
        (&json!(4), &json!(2), &json!(1))
    );
    let past_the_end = activity(s, &format!("{q}&offset=10"), User::Admin).await;
    assert_eq!(past_the_end.body["items"], json!([]));
    assert_eq!(past_the_end.body["total"], 4);
    // Without the namespace filter, the deployment filter alone finds the same entries.
    let by_name = activity(s, &format!("?deployment={name}"), User::Admin).await;
    assert_eq!(by_name.body["total"], 4);

    // The audit log: the create made through the API ran with alice's own token.
    let audited = wait_until(
        "the create in the audit log",
        Duration::from_secs(10),
        || {
            let found = audit_events().into_iter().find(|e| {
                e["verb"] == "create"
                    && e["objectRef"]["resource"] == "modeldeployments"
                    && e["objectRef"]["namespace"] == team
                    && e["objectRef"]["name"] == name.as_str()
                    && e["stage"] == "ResponseComplete"
            });
            async move { Ok((found, String::new())) }
        },
    )
    .await
    .expect("audited");
    assert_eq!(audited["user"]["username"], "alice", "{audited}");
    assert_eq!(audited["responseStatus"]["code"], 201, "{audited}");
}

#[tokio::test]
async fn entries_are_shown_only_where_the_caller_may_read() {
    let s = support::server(AuthMode::On);
    let team = User::TEAM_NAMESPACE;
    let other = support::namespace("activity-other").await;
    let mine = unique("act-mine");
    let theirs = unique("act-theirs");
    s.post_json(
        "/api/deployments",
        Some(User::TeamA),
        &ui_create_body(&mine, team),
    )
    .await
    .expect_status(StatusCode::CREATED, "alice creates in team-a");
    s.post_json(
        "/api/deployments",
        Some(User::Admin),
        &ui_create_body(&theirs, &other),
    )
    .await
    .expect_status(StatusCode::CREATED, "the admin creates elsewhere");
    // Settings: the admin saves them unchanged; alice may not.
    let current = s.get("/api/settings", None).await;
    let default_ns = current.body["config"]["defaultNamespace"].clone();
    let update = json!({ "defaultNamespace": default_ns });
    s.call(
        Method::PUT,
        "/api/settings",
        Some(User::Admin),
        Some(&update),
    )
    .await
    .expect_status(StatusCode::OK, "admin saves the settings");
    s.call(
        Method::PUT,
        "/api/settings",
        Some(User::TeamA),
        Some(&update),
    )
    .await
    .expect_status(StatusCode::FORBIDDEN, "alice may not");

    // The settings ConfigMap carries both as Events.
    let settings = events_about("kubeairunway-system", "kubeairunway-config").await;
    assert!(
        settings
            .iter()
            .any(|e| e.action.as_deref() == Some("UpdateSettings")
                && e.type_.as_deref() == Some("Normal")
                && note(e).starts_with(
                    "admin (groups: system:masters, system:authenticated) updated the settings"
                )),
        "{settings:#?}"
    );
    assert!(
        settings
            .iter()
            .any(|e| e.type_.as_deref() == Some("Warning")
                && note(e).starts_with(
                    "alice (groups: team-a, system:authenticated) tried to update the settings"
                )
                && note(e).contains("was refused (403)")),
        "{settings:#?}"
    );

    // alice (edit in team-a only) sees team-a's entries and nothing else.
    let seen = activity(s, "?limit=200", User::TeamA).await;
    seen.expect_status(StatusCode::OK, "alice lists");
    let items = seen.body["items"].as_array().expect("items").clone();
    assert!(
        items.iter().any(|i| i["deployment"] == mine.as_str()),
        "{items:#?}"
    );
    for i in &items {
        assert_eq!(
            i["object"]["namespace"], team,
            "alice sees only team-a: {i}"
        );
    }
    // Naming a namespace she may not list in is refused, as the deployments list is.
    let elsewhere = activity(s, &format!("?namespace={other}"), User::TeamA).await;
    elsewhere.expect_status(
        StatusCode::FORBIDDEN,
        "filtering by a namespace alice cannot read",
    );
    let settings_for_alice = activity(s, "?action=UpdateSettings", User::TeamA).await;
    assert_eq!(
        settings_for_alice.body["total"], 0,
        "{}",
        settings_for_alice.body
    );

    // The admin sees all of it, settings included.
    let admin = activity(s, &format!("?namespace={other}"), User::Admin).await;
    assert_eq!(
        actions(&admin),
        vec![t("Create", "admin", "succeeded")],
        "{}",
        admin.body
    );
    let settings_for_admin = activity(s, "?action=UpdateSettings&limit=200", User::Admin).await;
    let who: Vec<_> = actions(&settings_for_admin);
    assert!(
        who.contains(&t("UpdateSettings", "admin", "succeeded")),
        "{who:?}"
    );
    assert!(
        who.contains(&t("UpdateSettings", "alice", "refused")),
        "{who:?}"
    );
    // A refused token deletion is a Warning on the token Secret, visible to whoever may read
    // Secrets there (the admin), not to alice.
    s.call(
        Method::DELETE,
        "/api/secrets/huggingface",
        Some(User::Viewer),
        None,
    )
    .await
    .expect_status(StatusCode::FORBIDDEN, "a viewer may not delete the token");
    let token = activity(s, "?action=DeleteToken&user=viewer", User::Admin).await;
    let first = &token.body["items"][0];
    assert_eq!(first["outcome"], "refused", "{}", token.body);
    assert_eq!(first["object"]["kind"], "Secret", "{}", token.body);
    assert_eq!(first["object"]["name"], "hf-token-secret", "{}", token.body);
    let for_alice = activity(s, "?action=DeleteToken", User::TeamA).await;
    assert_eq!(for_alice.body["total"], 0, "{}", for_alice.body);

    // The viewer may list deployments everywhere, so it sees both namespaces' entries.
    let viewer = activity(s, &format!("?deployment={mine}"), User::Viewer).await;
    assert_eq!(viewer.body["total"], 1, "{}", viewer.body);
}

#[tokio::test]
async fn bad_filters_are_400_and_no_token_is_401() {
    let s = support::server(AuthMode::On);
    for query in [
        "?namespace=Team_A",
        "?deployment=-x",
        "?deployment=a.b",
        "?action=create",
        "?action=Explode",
        "?limit=0",
        "?limit=201",
        "?limit=ten",
        "?offset=-1",
        &format!("?user={}", "u".repeat(300)),
    ] {
        let reply = activity(s, query, User::Admin).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"]["statusCode"], 400, "{query}");
    }
    let reply = s.get("/api/activity", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_auth_the_trail_says_nobody_was_identified() {
    let s = support::server(AuthMode::Off);
    let ns = support::namespace("activity-anon").await;
    let name = unique("act-anon");
    s.post_json("/api/deployments", None, &ui_create_body(&name, &ns))
        .await
        .expect_status(StatusCode::CREATED, "create without auth");
    let events = events_about(&ns, &name).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        note(&events[0]),
        format!("anonymous (auth off) created deployment {name} in {ns} (model Qwen/Qwen3-0.6B)")
    );
    let listed = s.get(&format!("/api/activity?namespace={ns}"), None).await;
    assert_eq!(
        actions(&listed),
        vec![t("Create", "anonymous (auth off)", "succeeded")]
    );
    assert_eq!(listed.body["items"][0]["groups"], json!([]));
}
