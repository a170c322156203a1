//! Authentication and per-user RBAC with `AUTH_ENABLED` (issue 4 "Auth", docs/contract/README.md
//! decision 5): tokens are checked, every Kubernetes call made for a request runs with the caller's
//! own token (the API server's audit log names the person), the API server's 403s are passed
//! through, and cache-served lists show only what the caller may see.

mod support;

use std::time::Duration;

use kube::Api;
use kube::api::{DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{User, shared, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server, unique};

fn server() -> &'static Server {
    support::server(AuthMode::On)
}

async fn admin_mds(namespace: &str) -> Api<DynamicObject> {
    let client = shared().client(User::Admin).await.expect("admin client");
    Api::namespaced_with(
        client,
        namespace,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
}

/// Creates a ModelDeployment directly (not through the API under test), as the admin.
async fn seed(namespace: &str, name: &str) {
    let md: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name },
        "spec": {
            "model": { "id": "Qwen/Qwen3-0.6B" },
            "engine": { "type": "vllm" },
            "scaling": { "replicas": 1 },
            "resources": { "gpu": { "count": 1 } },
        },
    }))
    .expect("shape");
    admin_mds(namespace)
        .await
        .create(&PostParams::default(), &md)
        .await
        .expect("seed ModelDeployment");
}

async fn names_in(namespace: &str) -> Vec<String> {
    admin_mds(namespace)
        .await
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect()
}

async fn replicas_of(namespace: &str, name: &str) -> Option<i64> {
    let md = admin_mds(namespace).await.get(name).await.expect("get");
    md.data["spec"]["scaling"]["replicas"].as_i64()
}

fn create_body(name: &str, namespace: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "modelId": "Qwen/Qwen3-0.6B",
        "engine": "vllm",
        "replicas": 1,
        "resources": { "gpu": 1 },
    })
}

fn assert_envelope(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.body["error"]["statusCode"],
        status.as_u16(),
        "{}",
        reply.body
    );
    assert!(!reply.message().is_empty());
}

/// Every audit event the API server has written so far.
fn audit_events() -> Vec<Value> {
    std::fs::read_to_string(shared().info().audit_log_path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until the audit log holds an event matching `pred` (the log is written as requests
/// complete) and returns it.
async fn audited(what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    wait_until(what, Duration::from_secs(10), || {
        let found = audit_events().into_iter().find(|e| pred(e));
        async move { Ok((found, String::new())) }
    })
    .await
    .unwrap_or_else(|e| panic!("audit log: {e}"))
}

fn is_md_event(e: &Value, verb: &str, namespace: &str) -> bool {
    e["verb"] == verb
        && e["objectRef"]["resource"] == "modeldeployments"
        && e["objectRef"]["namespace"] == namespace
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let s = server();
    let required = json!({ "error": { "message": "Authentication required", "statusCode": 401 } });
    for path in [
        "/api/deployments",
        "/api/cluster/nodes",
        "/api/cluster",
        "/api/cluster/version",
        "/api/installation/gpu-capacity",
        "/api/installation/gpu-capacity/detailed",
        "/api/runtimes/status",
        "/api/auth/whoami",
        "/api/health/nodes",
    ] {
        let reply = s.get(path, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "GET {path}");
        assert_eq!(reply.body, required, "GET {path}");
    }

    let ns = shared()
        .namespace("auth-401")
        .await
        .expect("namespace")
        .name;
    let reply = s
        .call(
            Method::POST,
            "/api/deployments",
            None,
            Some(&create_body("anonymous", &ns)),
        )
        .await;
    assert_eq!(reply.body, required);
    let reply = s
        .call(
            Method::PUT,
            "/api/settings",
            None,
            Some(&json!({ "defaultNamespace": "anonymous" })),
        )
        .await;
    assert_eq!(reply.body, required);

    // A token the API server does not know, and other schemes.
    let bogus = "not-a-real-token-0123456789";
    let reply = Reply::of(
        s.request(Method::GET, "/api/deployments", None)
            .bearer_auth(bogus)
            .send()
            .await,
    )
    .await;
    assert_envelope(&reply, StatusCode::UNAUTHORIZED);
    assert!(
        !reply.message().contains(bogus),
        "the token is not echoed: {}",
        reply.message()
    );
    let reply = Reply::of(
        s.request(Method::POST, "/api/deployments", None)
            .bearer_auth(bogus)
            .json(&create_body("bogus", &ns))
            .send()
            .await,
    )
    .await;
    assert_envelope(&reply, StatusCode::UNAUTHORIZED);
    for value in [
        "Basic YWRtaW46YWRtaW4=".to_string(),
        format!("Token {}", support::token(User::Admin)),
        "Bearer ".to_string(),
    ] {
        let reply = Reply::of(
            s.request(Method::GET, "/api/deployments", None)
                .header(reqwest::header::AUTHORIZATION, &value)
                .send()
                .await,
        )
        .await;
        assert_eq!(reply.body, required, "Authorization: {value}");
    }
    assert!(names_in(&ns).await.is_empty(), "nothing was created");
}

#[tokio::test]
async fn whoami_names_each_user_and_their_groups() {
    let s = server();
    for (user, name, group) in [
        (User::Admin, "admin", "system:masters"),
        (User::Viewer, "viewer", "kubeairunway:viewers"),
        (User::TeamA, "alice", "team-a"),
    ] {
        let reply = s.get("/api/auth/whoami", Some(user)).await;
        assert_eq!(reply.status, StatusCode::OK, "{user:?}: {}", reply.body);
        assert_eq!(reply.body["authEnabled"], true, "{}", reply.body);
        assert_eq!(reply.body["authenticated"], true, "{}", reply.body);
        assert_eq!(reply.body["username"], name, "{}", reply.body);
        let groups: Vec<&str> = reply.body["groups"]
            .as_array()
            .expect("groups array")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(groups.contains(&group), "{user:?}: {groups:?}");
        assert!(
            groups.contains(&"system:authenticated"),
            "{user:?}: {groups:?}"
        );
    }
}

#[tokio::test]
async fn public_routes_answer_without_a_token_and_the_leaking_alias_is_gone() {
    let s = server();
    let health = s.get("/api/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "healthy");
    let version = s.get("/api/health/version", None).await;
    assert_eq!(version.status, StatusCode::OK);
    assert_eq!(version.body["version"], "1.2.3");
    for path in ["/api/cluster/status", "/api/health/status"] {
        let status = s.get(path, None).await;
        assert_eq!(status.status, StatusCode::OK, "{path}: {}", status.body);
        assert_eq!(status.body["connected"], true, "{path}: {}", status.body);
    }
    let settings = s.get("/api/settings", None).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert_eq!(settings.body["auth"]["enabled"], true, "{}", settings.body);
    assert!(settings.body["config"].is_object(), "{}", settings.body);
    let openapi = s.get("/api/openapi.json", None).await;
    assert_eq!(openapi.status, StatusCode::OK);
    assert!(
        openapi.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );

    // docs/contract/api.md §19 security 3: node names and GPU counts are not public under another
    // name.
    let anonymous = s.get("/api/health/nodes", None).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    assert!(anonymous.body.get("nodes").is_none());
    let with_token = s.get("/api/health/nodes", Some(User::Admin)).await;
    assert_envelope(&with_token, StatusCode::NOT_FOUND);
    let nodes = s.get("/api/cluster/nodes", Some(User::Admin)).await;
    assert_eq!(nodes.status, StatusCode::OK, "{}", nodes.body);
    assert_eq!(nodes.body["nodes"].as_array().map(Vec::len), Some(7));
    // The built-in `view` role does not cover nodes: the cached list is filtered per user.
    let nodes = s.get("/api/cluster/nodes", Some(User::Viewer)).await;
    assert_envelope(&nodes, StatusCode::FORBIDDEN);
    assert!(nodes.message().contains("viewer"), "{}", nodes.message());
}

#[tokio::test]
async fn the_viewers_writes_get_the_api_servers_403_and_change_nothing() {
    let s = server();
    let ns = shared()
        .namespace("auth-viewer")
        .await
        .expect("namespace")
        .name;
    seed(&ns, "seeded").await;
    let path = format!("/api/deployments?namespace={ns}");
    s.get_eventually(
        &path,
        Some(User::Viewer),
        "the viewer sees the seeded deployment",
        |b| {
            b["deployments"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["name"] == "seeded"))
        },
    )
    .await;

    let reply = s
        .call(
            Method::POST,
            "/api/deployments",
            Some(User::Viewer),
            Some(&create_body("by-viewer", &ns)),
        )
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert!(reply.message().contains("viewer"), "{}", reply.message());
    let event = audited("the viewer's create reached the API server", |e| {
        is_md_event(e, "create", &ns) && e["user"]["username"] == "viewer"
    })
    .await;
    assert_eq!(event["responseStatus"]["code"], 403, "{event}");

    let one = format!("/api/deployments/seeded?namespace={ns}");
    let reply = s.call(Method::DELETE, &one, Some(User::Viewer), None).await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert!(reply.message().contains("viewer"), "{}", reply.message());
    let event = audited("the viewer's delete reached the API server", |e| {
        is_md_event(e, "delete", &ns) && e["user"]["username"] == "viewer"
    })
    .await;
    assert_eq!(event["responseStatus"]["code"], 403, "{event}");

    let reply = s
        .call(
            Method::PATCH,
            &one,
            Some(User::Viewer),
            Some(&json!({ "replicas": 3 })),
        )
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert!(reply.message().contains("viewer"), "{}", reply.message());

    assert_eq!(names_in(&ns).await, vec!["seeded".to_string()]);
    assert_eq!(replicas_of(&ns, "seeded").await, Some(1));
    let reply = s.get(&one, Some(User::Viewer)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the viewer may read: {}",
        reply.body
    );
}

#[tokio::test]
async fn team_a_writes_and_sees_only_its_namespace() {
    let s = server();
    let team = User::TEAM_NAMESPACE;
    let other = shared()
        .namespace("auth-other")
        .await
        .expect("namespace")
        .name;
    seed(&other, "elsewhere").await;
    let mine = unique("alices");

    // Create in team-a: allowed, and made with alice's token.
    let reply = s
        .call(
            Method::POST,
            "/api/deployments",
            Some(User::TeamA),
            Some(&create_body(&mine, team)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["name"], mine.as_str());
    assert_eq!(reply.body["namespace"], team);
    assert!(names_in(team).await.contains(&mine));
    let event = audited("alice's create in the audit log", |e| {
        is_md_event(e, "create", team)
            && e["responseStatus"]["code"] == 201
            && e["objectRef"]["name"] == mine.as_str()
    })
    .await;
    assert_eq!(event["user"]["username"], "alice", "{event}");
    assert!(
        !audit_events().iter().any(
            |e| is_md_event(e, "create", team) && e["user"]["username"] == User::Backend.name()
        ),
        "no write runs as the backend"
    );

    // Elsewhere: the API server's 403, naming alice, and nothing changes.
    let reply = s
        .call(
            Method::POST,
            "/api/deployments",
            Some(User::TeamA),
            Some(&create_body("by-alice", &other)),
        )
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert!(reply.message().contains("alice"), "{}", reply.message());
    let elsewhere = format!("/api/deployments/elsewhere?namespace={other}");
    let reply = s
        .call(Method::DELETE, &elsewhere, Some(User::TeamA), None)
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    let reply = s
        .call(
            Method::PATCH,
            &elsewhere,
            Some(User::TeamA),
            Some(&json!({ "replicas": 4 })),
        )
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert_eq!(names_in(&other).await, vec!["elsewhere".to_string()]);
    assert_eq!(replicas_of(&other, "elsewhere").await, Some(1));

    // Reads of another namespace are refused, not answered from the cache.
    let reply = s.get(&elsewhere, Some(User::TeamA)).await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    let reply = s
        .get(
            &format!("/api/deployments?namespace={other}"),
            Some(User::TeamA),
        )
        .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    for sub in ["manifest", "pods", "pending-reasons", "logs"] {
        let reply = s
            .get(
                &format!("/api/deployments/elsewhere/{sub}?namespace={other}"),
                Some(User::TeamA),
            )
            .await;
        assert_envelope(&reply, StatusCode::FORBIDDEN);
    }

    // The cross-namespace list holds team-a only for alice, everything for the admin.
    let listed = s
        .get_eventually("/api/deployments", Some(User::TeamA), "alice's list", |b| {
            b["deployments"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["name"] == mine.as_str()))
        })
        .await;
    let items = listed["deployments"].as_array().expect("array");
    assert!(
        items.iter().all(|d| d["namespace"] == team),
        "alice sees only team-a: {items:?}"
    );
    assert_eq!(
        listed["pagination"]["total"].as_u64(),
        Some(items.len() as u64),
        "the total counts only what alice may see"
    );
    s.get_eventually(
        "/api/deployments",
        Some(User::Admin),
        "the admin's list",
        |b| {
            let names: Vec<(&str, &str)> = b["deployments"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|d| Some((d["namespace"].as_str()?, d["name"].as_str()?)))
                        .collect()
                })
                .unwrap_or_default();
            names.contains(&(team, mine.as_str())) && names.contains(&(other.as_str(), "elsewhere"))
        },
    )
    .await;

    // Scale and delete her own, as herself.
    let own = format!("/api/deployments/{mine}?namespace={team}");
    let reply = s
        .call(
            Method::PATCH,
            &own,
            Some(User::TeamA),
            Some(&json!({ "replicas": 2 })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(replicas_of(team, &mine).await, Some(2));
    audited("alice's scale in the audit log", |e| {
        e["verb"] == "patch"
            && e["objectRef"]["name"] == mine.as_str()
            && e["user"]["username"] == "alice"
    })
    .await;
    let reply = s.call(Method::DELETE, &own, Some(User::TeamA), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    audited("alice's delete in the audit log", |e| {
        is_md_event(e, "delete", team)
            && e["objectRef"]["name"] == mine.as_str()
            && e["user"]["username"] == "alice"
            && e["responseStatus"]["code"] == 200
    })
    .await;
    assert!(!names_in(team).await.contains(&mine));
}

impl Reply {
    async fn of(response: reqwest::Result<reqwest::Response>) -> Reply {
        Reply::read(response.expect("request sent")).await
    }
}

/// The list keeps encoded pages per cache generation: callers with different views, pages and
/// encodings asking in turn (with no change in between, so from one generation) must each get
/// their own answer, and the gzip form must be the same JSON.
#[tokio::test]
async fn encoded_list_pages_are_kept_per_caller_page_and_encoding() {
    use std::io::Read;

    let s = server();
    let team = User::TEAM_NAMESPACE;
    let other = shared()
        .namespace("auth-pages")
        .await
        .expect("namespace")
        .name;
    seed(&other, "outside-team").await;
    seed(team, &unique("inside-team")).await;
    // Both seeds in the admin's list: the caches have them.
    s.get_eventually("/api/deployments", Some(User::Admin), "both seeds", |b| {
        let names = |ns: &str| {
            b["deployments"]
                .as_array()
                .is_some_and(|a| a.iter().any(|d| d["namespace"] == ns))
        };
        names(&other) && names(team)
    })
    .await;

    let list = |user: User, path: &'static str, gzip: bool| async move {
        let mut req = s.request(Method::GET, path, Some(user));
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        let reply = req.send().await.expect("request sent");
        assert_eq!(reply.status(), StatusCode::OK);
        let zipped = reply
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "gzip");
        assert_eq!(zipped, gzip, "gzip exactly when asked for");
        let bytes = reply.bytes().await.expect("body");
        let json = if zipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_ref())
                .read_to_end(&mut out)
                .expect("a valid gzip body");
            out
        } else {
            bytes.to_vec()
        };
        serde_json::from_slice::<Value>(&json).expect("JSON")
    };
    let namespaces = |body: &Value| -> std::collections::BTreeSet<String> {
        body["deployments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["namespace"].as_str().map(str::to_string))
            .collect()
    };
    for _ in 0..3 {
        let admin = list(User::Admin, "/api/deployments", false).await;
        let alice = list(User::TeamA, "/api/deployments", true).await;
        let admin_zipped = list(User::Admin, "/api/deployments", true).await;
        let alice_plain = list(User::TeamA, "/api/deployments", false).await;
        let admin_page = list(User::Admin, "/api/deployments?limit=1", true).await;
        // Other tests change the cluster meanwhile, so each answer is checked on its own.
        for body in [&admin, &admin_zipped] {
            assert!(namespaces(body).contains(&other), "{body}");
            assert!(namespaces(body).contains(team), "{body}");
        }
        for body in [&alice, &alice_plain] {
            assert_eq!(
                namespaces(body),
                [team.to_string()].into(),
                "alice sees only her namespace: {body}"
            );
        }
        assert_eq!(admin_page["deployments"].as_array().map(Vec::len), Some(1));
        assert_eq!(admin_page["pagination"]["hasMore"], true);
        assert_eq!(admin_page["pagination"]["limit"], 1);
    }
}
