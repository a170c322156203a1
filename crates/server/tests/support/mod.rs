//! Shared helpers of the server's integration tests: a real `serve` (on an ephemeral loopback
//! port, its own thread and runtime) against the local control plane, and HTTP helpers that act
//! as one of the test users.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use kubeairunway_server::{BuildInfo, Config, KubeAccess};
use kubeairunway_testenv::{User, shared, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client (no proxy, short timeouts).
    pub http: reqwest::Client,
}

/// Whether the server requires tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// `AUTH_ENABLED=true`; the backend runs as [`User::Backend`].
    On,
    /// Auth off; the backend runs as [`User::Admin`] (like a developer's kubeconfig).
    Off,
}

/// The build info tests see.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: "1.2.3".into(),
        build_time: "then".into(),
        git_commit: "abc".into(),
    }
}

/// The shared server of this test binary for `mode` (started on first use, CRDs installed).
pub fn server(mode: AuthMode) -> &'static Server {
    static ON: OnceLock<Server> = OnceLock::new();
    static OFF: OnceLock<Server> = OnceLock::new();
    let cell = match mode {
        AuthMode::On => &ON,
        AuthMode::Off => &OFF,
    };
    cell.get_or_init(|| {
        let mut config = Config::local("127.0.0.1:0".parse().expect("addr"), build_info());
        config.auth_enabled = mode == AuthMode::On;
        let backend = match mode {
            AuthMode::On => User::Backend,
            AuthMode::Off => User::Admin,
        };
        start(config, backend)
    })
}

/// Starts a server whose HuggingFace Hub is `hub_url` (a `kubeairunway_testenv::hf_hub`
/// server, sign-in configured with its client id), acting as `mode`'s backend user, with
/// `adjust` applied to the configuration.
pub fn start_with_hub(hub_url: String, mode: AuthMode, adjust: impl FnOnce(&mut Config)) -> Server {
    let mut config = Config::local("127.0.0.1:0".parse().expect("addr"), build_info());
    config.auth_enabled = mode == AuthMode::On;
    config.huggingface.endpoint = hub_url;
    config.huggingface.client_id = Some(kubeairunway_testenv::hf_hub::OAUTH_CLIENT_ID.into());
    config.huggingface.timeout = Duration::from_secs(5);
    adjust(&mut config);
    let backend = match mode {
        AuthMode::On => User::Backend,
        AuthMode::Off => User::Admin,
    };
    start(config, backend)
}

/// Starts a server with `config`, acting as `backend` towards the cluster, on its own thread.
/// The CRDs are installed first.
pub fn start(config: Config, backend: User) -> Server {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let cp = shared();
            let admin = cp.client(User::Admin).await.expect("admin client");
            kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
                .await
                .expect("CRDs install");
            let kube =
                KubeAccess::new(cp.config(backend).await.expect("config"), backend.context())
                    .expect("access");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let mut config = config;
            config.addr = addr;
            tx.send(format!("http://{addr}")).expect("report address");
            kubeairunway_server::serve_on(listener, config, Some(kube), std::future::pending())
                .await
                .expect("serve");
        });
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("server started");
    Server {
        base,
        // No idle connections: each test has its own runtime, and a pooled connection opened
        // by a finished test's runtime cannot be reused by the next.
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
    }
}

/// The bearer token of `user`.
pub fn token(user: User) -> String {
    let users = &shared().info().users;
    match user {
        User::Admin => users.admin.clone(),
        User::Viewer => users.viewer.clone(),
        User::TeamA => users.team_a.clone(),
        User::Backend => users.backend.clone(),
    }
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Parsed body.
    pub body: Value,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The error message of an error envelope (panics with the body if there is none).
    pub fn message(&self) -> &str {
        self.body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error envelope in {} {}", self.status, self.body))
    }
}

impl Server {
    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request builder for `method path`, with `as_user`'s token when given.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        as_user: Option<User>,
    ) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, self.url(path));
        if let Some(user) = as_user {
            req = req.bearer_auth(token(user));
        }
        req
    }

    /// Sends `method path` with an optional JSON body as `as_user`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        as_user: Option<User>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.request(method, path, as_user);
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// `GET path` as `as_user`.
    pub async fn get(&self, path: &str, as_user: Option<User>) -> Reply {
        self.call(Method::GET, path, as_user, None).await
    }

    /// Waits until `GET path` (as `as_user`) answers 200 and returns its body; for data that
    /// reaches the caches asynchronously.
    pub async fn get_eventually(
        &self,
        path: &str,
        as_user: Option<User>,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_until(what, Duration::from_secs(30), || async {
            let reply = self.get(path, as_user).await;
            let ok = reply.status == StatusCode::OK && accept(&reply.body);
            Ok((
                ok.then(|| reply.body.clone()),
                format!("{} {}", reply.status, reply.body),
            ))
        })
        .await
        .expect("condition reached")
    }
}
