//! The embedded UI through the whole application router (layers included). These checks hold
//! for the placeholder page as for a built UI; the serving rules are tested file by file with
//! in-memory files in `src/ui.rs`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use kubeairunway_server::{AppState, BuildInfo, Config, router};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn state() -> AppState {
    AppState::new(
        Config::local(
            "127.0.0.1:3001".parse().expect("addr"),
            BuildInfo {
                version: "1".into(),
                build_time: "t".into(),
                git_commit: "c".into(),
            },
        ),
        None,
    )
}

async fn send(req: Request<Body>) -> Reply {
    let response = router(state()).oneshot(req).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 8 << 20)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `method path` addressed to `localhost` (the Host guard refuses other hosts without auth).
async fn call(method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost:3001");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req.body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn index_and_client_routes_serve_index_html_uncached() {
    let index = call(Method::GET, "/", &[]).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index.text().to_ascii_lowercase().contains("<html"),
        "{}",
        index.text()
    );
    assert_eq!(index.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(index.header("cache-control"), "no-cache");
    assert!(
        index
            .header("content-security-policy")
            .contains("default-src 'self'")
    );
    assert_eq!(index.header("x-content-type-options"), "nosniff");
    for path in [
        "/index.html",
        "/login",
        "/deployments",
        "/deployments/llama-3?namespace=team-a",
        "/deploy/Qwen%2FQwen3-0.6B",
        "/settings",
        "/installation",
        "/oauth/callback/huggingface?code=x&state=y",
    ] {
        let r = call(Method::GET, path, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.body, index.body, "{path}");
        assert_eq!(r.header("cache-control"), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn head_and_conditional_requests() {
    let index = call(Method::GET, "/", &[]).await;
    let head = call(Method::HEAD, "/deployments", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), index.body.len().to_string());
    let etag = index.header("etag").to_string();
    assert!(etag.starts_with('"'), "{etag:?}");
    let cached = call(Method::GET, "/login", &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
}

#[tokio::test]
async fn unknown_assets_are_404() {
    for path in [
        "/assets/index-DoesNot1.js",
        "/assets/missing.css",
        "/assets/",
        "/assets/sub/dir/x.png",
    ] {
        let r = call(Method::GET, path, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text().to_ascii_lowercase().contains("<html"), "{path}");
    }
}

#[tokio::test]
async fn non_read_methods_on_ui_paths_are_405() {
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        for path in ["/", "/deployments", "/assets/x-AbCd1234.js"] {
            let r = call(method.clone(), path, &[]).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(r.header("allow"), "GET, HEAD");
        }
    }
}

#[tokio::test]
async fn traversal_never_escapes_and_never_falls_back_to_index() {
    for path in [
        "/../Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e/%2e%2e/Cargo.toml",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/assets/../../build.rs",
        "/assets/%2e%2e/%2e%2e/src/lib.rs",
        "/..%5c..%5cCargo.toml",
        "/%5c%2e%2e%5cCargo.toml",
        "/./index.html",
        "/x%00.html",
        "/%zz",
        "/%c0%ae%c0%ae/Cargo.toml",
    ] {
        let r = call(Method::GET, path, &[]).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            r.status
        );
        let text = r.text();
        assert!(
            !text.contains("[package]") && !text.contains("root:"),
            "{path}"
        );
        assert!(!text.to_ascii_lowercase().contains("<html"), "{path}");
    }
}

#[tokio::test]
async fn api_paths_never_get_the_ui() {
    let r = call(Method::GET, "/api/nope", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), "application/json");
    let r = call(Method::POST, "/api/assets/x", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), "application/json");
}

#[tokio::test]
async fn foreign_hosts_get_no_ui_without_auth() {
    let req = Request::get("/")
        .header("host", "evil.example")
        .body(Body::empty())
        .expect("request");
    let r = send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.text().to_ascii_lowercase().contains("<html"));
}
