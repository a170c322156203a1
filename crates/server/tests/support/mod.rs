//! Shared helpers of the server's integration tests: a real `serve` (on an ephemeral loopback
//! port, its own thread and runtime) against the local control plane, and HTTP helpers that act
//! as one of the test users.

#![allow(dead_code)]

use std::fmt::Display;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt;

use kube::api::Api;
use kube::{Client, Resource};
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
    cell.get_or_init(|| start_in_mode(mode, |_| {}))
}

/// The configuration of a server with auth as `mode` says, on an ephemeral loopback port.
pub fn config(mode: AuthMode) -> Config {
    let mut config = Config::local("127.0.0.1:0".parse().expect("addr"), build_info());
    config.auth_enabled = mode == AuthMode::On;
    config
}

/// The cluster user a server in `mode` acts as: [`User::Backend`] with auth, else
/// [`User::Admin`].
pub fn backend(mode: AuthMode) -> User {
    match mode {
        AuthMode::On => User::Backend,
        AuthMode::Off => User::Admin,
    }
}

/// Starts a server for `mode` (see [`config`] and [`backend`]) with `adjust` applied to its
/// configuration.
pub fn start_in_mode(mode: AuthMode, adjust: impl FnOnce(&mut Config)) -> Server {
    let mut config = config(mode);
    adjust(&mut config);
    start(config, backend(mode))
}

/// Starts a server whose HuggingFace Hub is `hub_url` (a `kubeairunway_testenv::hf_hub`
/// server, sign-in configured with its client id), acting as `mode`'s backend user, with
/// `adjust` applied to the configuration.
pub fn start_with_hub(hub_url: String, mode: AuthMode, adjust: impl FnOnce(&mut Config)) -> Server {
    let mut config = hub_config(hub_url, mode);
    adjust(&mut config);
    start(config, backend(mode))
}

/// The configuration of a server whose HuggingFace Hub is `hub_url` (sign-in configured with
/// the local hub's client id, 5 s timeout), with auth as `mode` says.
pub fn hub_config(hub_url: String, mode: AuthMode) -> Config {
    let mut config = config(mode);
    config.huggingface.endpoint = hub_url;
    config.huggingface.client_id = Some(kubeairunway_testenv::hf_hub::OAUTH_CLIENT_ID.into());
    config.huggingface.timeout = Duration::from_secs(5);
    config
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

/// The shared server of `mode`, reached with an HTTP client of the calling test's own: pooled
/// connections must not outlive the Tokio runtime of the test that opened them.
pub fn own_server(mode: AuthMode) -> Server {
    server(mode).with_own_client()
}

/// A CLI installed by a `make` target under `~/.cache/kubeairunway/` (`rel`, e.g.
/// `schemathesis-4.32.5/bin/st`), or where the environment variable `env` points; panics
/// naming the target when it is missing.
pub fn cached_tool(env: &str, rel: &str, make_target: &str) -> std::path::PathBuf {
    let path = std::env::var_os(env)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache"))
                })
                .expect("HOME or XDG_CACHE_HOME");
            cache.join("kubeairunway").join(rel)
        });
    assert!(
        path.is_file(),
        "{} is not there — run `make {make_target}` (or set {env})",
        path.display()
    );
    path
}

/// A Kubernetes client acting as the cluster admin.
pub async fn admin_client() -> Client {
    shared().client(User::Admin).await.expect("admin client")
}

/// `prefix` and six hex digits from the clock: a name no earlier run has left behind.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{:06x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() & 0xff_ffff)
            .unwrap_or_default()
    )
}

/// A fresh namespace whose name starts with `prefix`.
pub async fn namespace(prefix: &str) -> String {
    shared().namespace(prefix).await.expect("namespace").name
}

/// The object `name` of `api`, or `None` when there is none (any other error panics).
pub async fn get_or_none<K>(api: &Api<K>, name: &str) -> Option<K>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    api.get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("read {} {name}: {e}", K::kind(&Default::default())))
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
    /// Reads a response's status, headers and body.
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// Asserts the status is `status` (else panics with `context` and the body) and returns the
    /// reply, for further checks.
    #[track_caller]
    pub fn expect_status(&self, status: StatusCode, context: impl Display) -> &Self {
        assert_eq!(self.status, status, "{context}: {}", self.body);
        self
    }

    /// Asserts the status is `status` and the error message contains `fragment`; a failure names
    /// `context` and shows the body or the message that came back.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, fragment: &str, context: impl Display) {
        assert_eq!(self.status, status, "{context}: {}", self.body);
        assert!(
            self.message().contains(fragment),
            "{context}: expected a message containing {fragment:?}, got {:?}",
            self.message()
        );
    }

    /// The error message of an error envelope (panics with the body if there is none).
    pub fn message(&self) -> &str {
        self.body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error envelope in {} {}", self.status, self.body))
    }
}

impl Server {
    /// The same server, reached with a new HTTP client (no proxy, 30 s timeout).
    pub fn with_own_client(&self) -> Server {
        Server {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

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
        Reply::read(req.send().await.expect("request sent")).await
    }

    /// `POST path` with the JSON `body` as `as_user`.
    pub async fn post_json(&self, path: &str, as_user: Option<User>, body: &Value) -> Reply {
        self.call(Method::POST, path, as_user, Some(body)).await
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
        self.eventually(Method::GET, path, None, as_user, what, accept)
            .await
    }

    /// POSTs `body` to `path` (as the admin) until it answers 200 with a body `accept`s.
    pub async fn post_eventually(
        &self,
        path: &str,
        body: &Value,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        self.eventually(Method::POST, path, Some(body), None, what, accept)
            .await
    }

    async fn eventually(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        as_user: Option<User>,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_until(what, Duration::from_secs(30), || async {
            let reply = self.call(method.clone(), path, as_user, body).await;
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

/// One Server-Sent Event.
#[derive(Debug)]
pub struct Sse {
    /// The event name (`message` when the event names none).
    pub event: String,
    /// The event's data, parsed as JSON.
    pub data: Value,
}

/// Reads Server-Sent Events from a response body.
pub struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl SseReader {
    /// Opens the stream at `path` as `user`; it must answer 200 with an uncompressed
    /// `text/event-stream`.
    pub async fn open(server: &Server, path: &str, user: Option<User>) -> Self {
        let response = server
            .request(Method::GET, path, user)
            // Browsers ask for gzip; the stream must still arrive uncompressed and unbuffered.
            .header("accept-encoding", "gzip")
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .expect("stream opened");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream")),
            "{:?}",
            response.headers()
        );
        assert_eq!(response.headers().get("content-encoding"), None);
        Self {
            body: response
                .bytes_stream()
                .map(|r| r.map(|b| b.to_vec()))
                .boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data.join("\n")).expect("JSON data");
                return Some(Sse { event, data });
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk.expect("stream chunk")));
        }
    }

    /// The first event named `name` whose data satisfies `pred`, within `timeout`.
    pub async fn wait_for(
        &mut self,
        name: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Sse> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let event = self.next(left).await?;
            if event.event == name && pred(&event.data) {
                return Some(event);
            }
        }
    }
}

/// Starts one controller for this test binary (provider `kubernetes` only, on its own thread
/// and runtime), for tests that need the Deployment and pods it creates.
pub fn kubernetes_controller() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let client = admin_client().await;
                kubeairunway_api::crds::install(&client, Duration::from_secs(60))
                    .await
                    .expect("CRDs");
                let options = kubeairunway_controller::Options::in_process(
                    &["kubernetes"],
                    format!("server-test-{}", std::process::id()),
                );
                let _ = ready_tx.send(());
                if let Err(e) =
                    kubeairunway_controller::run(client, options, std::future::pending()).await
                {
                    eprintln!("controller stopped with an error: {e}");
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("controller started");
    });
}
