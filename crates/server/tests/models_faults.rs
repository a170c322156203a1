//! Every way the HuggingFace Hub can fail ends in a clear error with the right status: the Hub
//! down, slower than the timeout, answering 500, 401, or malformed JSON. Also: pending OAuth
//! sign-ins expire. One test, run in order, because faults apply to the whole local Hub.

mod support;

use std::time::{Duration, Instant};

use kubeairunway_testenv::hf_hub::{Fault, HubServer, TOKEN_READ};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Reply, Server};

fn server_for(hub_url: String, state_ttl: Duration) -> Server {
    support::start_with_hub(hub_url, support::AuthMode::Off, |c| {
        c.huggingface.timeout = Duration::from_secs(1);
        c.huggingface.oauth_state_ttl = state_ttl;
    })
}

/// The routes that call the Hub, each with a fresh cache key.
async fn hub_routes(s: &Server, tag: &str) -> Vec<(String, Reply)> {
    let mut replies = Vec::new();
    for path in [
        format!("/api/models/search?q=qwen-{tag}"),
        format!("/api/models/Qwen/Qwen3-8B/gguf-files?{tag}"),
        "/api/models/Qwen/Qwen3-8B/plan?gpuType=H100".to_string(),
    ] {
        let reply = s.get(&path, None).await;
        replies.push((path, reply));
    }
    let save = s
        .call(
            Method::POST,
            "/api/secrets/huggingface",
            None,
            Some(&json!({ "accessToken": TOKEN_READ })),
        )
        .await;
    replies.push(("POST /api/secrets/huggingface".into(), save));
    replies
}

fn assert_all(replies: &[(String, Reply)], status: StatusCode, needle: &str) {
    for (what, reply) in replies {
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        let message = reply.message();
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{what}: {message:?} should mention {needle:?}"
        );
    }
}

#[tokio::test]
async fn hub_failures_end_in_clear_errors() {
    let hub = HubServer::start().expect("hub");
    let s = server_for(hub.url(), Duration::from_secs(600));

    hub.set_fault(Fault::Status(500));
    assert_all(
        &hub_routes(&s, "500").await,
        StatusCode::BAD_GATEWAY,
        "answered 500",
    );

    hub.set_fault(Fault::MalformedJson);
    assert_all(
        &hub_routes(&s, "malformed").await,
        StatusCode::BAD_GATEWAY,
        "unreadable answer",
    );

    hub.set_fault(Fault::Slow(Duration::from_secs(3)));
    let started = Instant::now();
    let slow = hub_routes(&s, "slow").await;
    assert_all(
        &slow,
        StatusCode::GATEWAY_TIMEOUT,
        "did not answer within 1 s",
    );
    // Four calls, each cut at the 1 s deadline (not the Hub's 3 s).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    hub.set_fault(Fault::None);
    // A token the Hub rejects: search passes the Hub's 401 on; saving it is a 400.
    let mut req = s.request(Method::GET, "/api/models/search?q=qwen-badtoken", None);
    req = req.header("X-HF-Token", "hf_not_a_real_token");
    let rejected = req.send().await.expect("search");
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = rejected.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("HuggingFace"),
        "{body}"
    );
    let bad_header = s
        .request(Method::GET, "/api/models/search?q=qwen", None)
        .header("X-HF-Token", "two words")
        .send()
        .await
        .expect("search");
    assert_eq!(bad_header.status(), StatusCode::BAD_REQUEST);

    // The Hub goes away entirely.
    let url = hub.url();
    hub.stop();
    let down = hub_routes(&s, "down").await;
    assert_all(&down, StatusCode::BAD_GATEWAY, "cannot be reached");
    assert!(down[0].1.message().contains(&url), "names the endpoint");

    // The catalog does not need the Hub.
    assert_eq!(s.get("/api/models", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn oauth_sign_ins_expire() {
    let hub = HubServer::start().expect("hub");
    let s = server_for(hub.url(), Duration::from_secs(1));
    let started = s
        .call(
            Method::POST,
            "/api/oauth/huggingface/start",
            None,
            Some(&json!({ "redirectUri": format!("{}/oauth/callback/huggingface", s.base) })),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["expiresIn"], 1);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let state = started.body["state"].as_str().expect("state");
    let expired = s
        .request(
            Method::GET,
            &format!("/api/oauth/huggingface/verifier/{state}"),
            None,
        )
        .header(
            "X-OAuth-Session-Key",
            started.body["sessionKey"].as_str().expect("key"),
        )
        .send()
        .await
        .expect("verifier");
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);
}
