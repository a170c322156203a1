//! The protections in front of every route when auth is off (docs/contract/api.md §19 security 2
//! and 5, issue 4 "Hardening"): Host and Origin checks against DNS rebinding and cross-site
//! requests, CORS only for configured origins, security headers, the body limit, and the error
//! envelope for unknown routes.

mod support;

use kube::Api;
use kube::api::ListParams;
use kubeairunway_api::ModelDeployment;
use kubeairunway_server::Config;
use kubeairunway_testenv::{User, shared};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{AuthMode, Reply, Server};

/// A configured cross-site origin for the CORS server.
const DASHBOARD: &str = "https://dash.example.com";

fn server() -> &'static Server {
    support::server(AuthMode::Off)
}

/// The port the shared server listens on.
fn port(server: &Server) -> u16 {
    server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in base URL")
}

async fn send(req: reqwest::RequestBuilder) -> Reply {
    Reply::read(req.send().await.expect("request sent")).await
}

/// Asserts the error envelope `{"error":{"message","statusCode"}}` with `status`.
fn assert_envelope(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{} {:?}", reply.body, reply.headers);
    assert_eq!(
        reply.body["error"]["statusCode"],
        status.as_u16(),
        "{}",
        reply.body
    );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.body
    );
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
}

async fn deployments_in(namespace: &str) -> usize {
    let client = shared().client(User::Admin).await.expect("client");
    Api::<ModelDeployment>::namespaced(client, namespace)
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .len()
}

#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let s = server();
    let port = port(s);
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::HOST, &host),
        )
        .await;
        assert_envelope(&reply, StatusCode::FORBIDDEN);
        assert!(
            reply.message().contains("Host"),
            "{host}: {}",
            reply.message()
        );
        // The UI is protected too: a rebinding page must not read it either.
        let ui = send(
            s.request(Method::GET, "/", None)
                .header(header::HOST, &host),
        )
        .await;
        assert_eq!(ui.status, StatusCode::FORBIDDEN, "UI with Host {host}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("LOCALHOST:{port}"),
    ] {
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::HOST, &host),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "Host {host}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_cross_site_origin_is_refused_and_changes_nothing() {
    let s = server();
    let ns = shared().namespace("guard").await.expect("namespace").name;
    let reply = send(
        s.request(Method::GET, "/api/health", None)
            .header(header::ORIGIN, "https://evil.example"),
    )
    .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert!(
        reply.message().contains("evil.example"),
        "{}",
        reply.message()
    );

    // A cross-site form post or fetch must not create anything.
    let body = json!({ "name": "cross-site", "namespace": ns, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm" });
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost.evil.example",
    ] {
        let reply = send(
            s.request(Method::POST, "/api/deployments", None)
                .header(header::ORIGIN, origin)
                .json(&body),
        )
        .await;
        assert_envelope(&reply, StatusCode::FORBIDDEN);
    }
    let reply = send(
        s.request(Method::POST, "/api/deployments", None)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(body.to_string()),
    )
    .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
    assert_eq!(deployments_in(&ns).await, 0, "nothing was created");

    // Another port of localhost is another origin.
    let other_port = port(s).wrapping_add(1);
    let reply = send(
        s.request(Method::GET, "/api/health", None)
            .header(header::ORIGIN, format!("http://127.0.0.1:{other_port}")),
    )
    .await;
    assert_envelope(&reply, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_servers_own_origin_is_allowed() {
    let s = server();
    let port = port(s);
    for (host, origin) in [
        (
            format!("127.0.0.1:{port}"),
            format!("http://127.0.0.1:{port}"),
        ),
        (
            format!("localhost:{port}"),
            format!("http://localhost:{port}"),
        ),
    ] {
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::HOST, &host)
                .header(header::ORIGIN, &origin),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.body);
        assert_eq!(reply.body["status"], "healthy");
    }
}

fn allow_origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|v| v.to_str().ok())
}

async fn preflight(s: &Server, origin: &str) -> Reply {
    send(
        s.request(Method::OPTIONS, "/api/deployments", None)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"),
    )
    .await
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let s = server();
    for origin in ["https://evil.example", DASHBOARD, "*"] {
        let reply = preflight(s, origin).await;
        assert_eq!(
            allow_origin(&reply.headers),
            None,
            "preflight from {origin}: {:?}",
            reply.headers
        );
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::ORIGIN, origin),
        )
        .await;
        assert_eq!(allow_origin(&reply.headers), None, "GET from {origin}");
    }
}

#[tokio::test]
async fn cors_allows_exactly_the_configured_origin() {
    let mut config = Config::local("127.0.0.1:0".parse().expect("addr"), support::build_info());
    config.cors_origins = vec![DASHBOARD.to_string()];
    let s = support::start(config, User::Admin);

    let reply = preflight(&s, DASHBOARD).await;
    assert!(reply.status.is_success(), "preflight: {}", reply.status);
    assert_eq!(allow_origin(&reply.headers), Some(DASHBOARD));
    let methods = reply
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_METHODS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "allowed methods: {methods}");

    let reply = send(
        s.request(Method::GET, "/api/health", None)
            .header(header::ORIGIN, DASHBOARD),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(allow_origin(&reply.headers), Some(DASHBOARD));

    for other in [
        "https://evil.example",
        "https://dash.example.com.evil.example",
        "http://dash.example.com",
    ] {
        let reply = preflight(&s, other).await;
        assert_eq!(allow_origin(&reply.headers), None, "preflight from {other}");
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::ORIGIN, other),
        )
        .await;
        assert_eq!(allow_origin(&reply.headers), None, "GET from {other}");
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "GET from {other}");
    }
}

fn assert_security_headers(path: &str, headers: &HeaderMap) {
    let get = |name: header::HeaderName| {
        headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no {name} header in {headers:?}"))
            .to_string()
    };
    let csp = get(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: CSP {csp}");
    assert!(csp.contains("default-src 'self'"), "{path}: CSP {csp}");
    assert!(
        !csp.contains("'unsafe-eval'"),
        "{path}: CSP allows eval: {csp}"
    );
    assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
    assert_eq!(
        get(header::X_FRAME_OPTIONS).to_ascii_uppercase(),
        "DENY",
        "{path}"
    );
    let referrer = get(header::REFERRER_POLICY);
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "{path}: Referrer-Policy {referrer}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let s = server();
    for path in [
        "/api/health",
        "/api/nope",
        "/api/deployments?limit=0",
        "/",
        "/deployments",
    ] {
        let reply = send(s.request(Method::GET, path, None)).await;
        assert_security_headers(path, &reply.headers);
    }
    let reply = send(
        s.request(Method::GET, "/api/health", None)
            .header(header::HOST, "evil.example"),
    )
    .await;
    assert_security_headers("refused request", &reply.headers);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let s = server();
    let ns = shared()
        .namespace("guard-big")
        .await
        .expect("namespace")
        .name;
    let filler = "x".repeat((1 << 20) + 1024);
    let body = json!({ "name": "huge", "namespace": ns, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm", "servedModelName": filler });
    let reply = s
        .call(Method::POST, "/api/deployments", None, Some(&body))
        .await;
    assert_envelope(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    let message = reply.message().to_ascii_lowercase();
    assert!(
        message.contains("too large") || message.contains("limit"),
        "the message says the body is too large: {message}"
    );

    // Without Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .to_string()
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let reply = send(
        s.request(Method::POST, "/api/deployments", None)
            .header(header::CONTENT_TYPE, "application/json")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
    )
    .await;
    assert_envelope(&reply, StatusCode::PAYLOAD_TOO_LARGE);

    let reply = send(
        s.request(Method::PUT, "/api/settings", None)
            .header(header::CONTENT_TYPE, "application/json")
            .body(format!("{{\"defaultNamespace\":\"{filler}\"}}")),
    )
    .await;
    assert_envelope(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(deployments_in(&ns).await, 0, "nothing was created");
}

#[tokio::test]
async fn unknown_api_routes_get_a_404_envelope() {
    let s = server();
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/unknown/thing"),
        (Method::GET, "/api/deployments/x/unknown-subresource"),
        (Method::DELETE, "/api/v2/deployments"),
        (Method::GET, "/api/"),
    ] {
        let reply = s.call(method.clone(), path, None, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_envelope(&reply, StatusCode::NOT_FOUND);
        assert_eq!(
            reply.message(),
            format!("Route not found: {method} {path}"),
            "{method} {path}"
        );
    }
}

/// `CORS_ORIGIN=*`, the reference's default for cross-origin frontends such as Headlamp, is
/// honoured with authentication: any origin may call, without credentials (the token travels in
/// `Authorization`), and every protected route still needs the token.
#[tokio::test]
async fn cors_any_origin_is_honoured_with_auth_and_never_with_credentials() {
    let mut config = support::config(AuthMode::On);
    config.cors_origins = vec!["*".to_string()];
    let s = support::start(config, support::backend(AuthMode::On));
    let headlamp = "http://localhost:4466";

    let reply = preflight(&s, headlamp).await;
    assert!(reply.status.is_success(), "preflight: {}", reply.status);
    assert_eq!(allow_origin(&reply.headers), Some("*"));
    assert!(
        reply
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none(),
        "{:?}",
        reply.headers
    );
    let allowed = reply
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("content-type"), "{allowed}");

    let anonymous = send(
        s.request(Method::GET, "/api/deployments", None)
            .header(header::ORIGIN, headlamp),
    )
    .await;
    assert_envelope(&anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(allow_origin(&anonymous.headers), Some("*"));
    let signed_in = send(
        s.request(Method::GET, "/api/deployments", Some(User::Admin))
            .header(header::ORIGIN, headlamp),
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(allow_origin(&signed_in.headers), Some("*"));
}

/// Without authentication `*` would let any page drive the server as the backend: refused.
#[tokio::test]
async fn cors_any_origin_without_auth_is_refused_at_start() {
    let mut config = support::config(AuthMode::Off);
    config.cors_origins = vec!["https://dash.example.com".to_string(), "*".to_string()];
    let err = config.validate().expect_err("refused");
    assert!(err.to_string().contains("AUTH_ENABLED=true"), "{err}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let served =
        kubeairunway_server::serve_on(listener, config, None, std::future::ready(())).await;
    let err = served.expect_err("serve refuses the configuration");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("CORS_ORIGIN=*"), "{err}");
}

/// `--allowed-host` lets the in-cluster Service name through the Host guard (auth off), and
/// nothing else.
#[tokio::test]
async fn an_allowed_host_such_as_the_service_name_is_served() {
    let mut config = support::config(AuthMode::Off);
    config.allowed_hosts = vec!["kubeairunway.kubeairunway-system.svc".to_string()];
    let s = support::start(config, User::Admin);
    for host in [
        "kubeairunway.kubeairunway-system.svc:3001",
        "kubeairunway.kubeairunway-system.svc",
        "KubeAIRunway.kubeairunway-system.svc:80",
    ] {
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::HOST, host),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "Host {host}: {}", reply.body);
    }
    for host in [
        "kubeairunway.other-namespace.svc:3001",
        "kubeairunway.kubeairunway-system.svc.evil.example",
    ] {
        let reply = send(
            s.request(Method::GET, "/api/health", None)
                .header(header::HOST, host),
        )
        .await;
        assert_envelope(&reply, StatusCode::FORBIDDEN);
    }
}
