//! Security checks as tests (issue 19 "Security checks as tests"), driven by the OpenAPI
//! document so that a new route fails here until it is classified:
//!
//! 1. every operation is classified (public, read, computation, write), and the document and
//!    the server agree on which are public;
//! 2. with auth on, every non-public operation refuses no token, malformed tokens and a really
//!    expired service-account token (signed with the test cluster's own key) with a 401;
//! 3. the read-only viewer can write nothing, and the cluster is unchanged afterwards;
//! 4. the namespace-scoped user sees nothing outside its namespace;
//! 5. with auth off, a foreign Host (DNS rebinding) and a cross-site Origin (CSRF) are refused
//!    for every operation and change nothing;
//! 6. the saved HuggingFace token appears in no response, header, log line or error;
//! 7. no process the server spawns is a shell, and hostile values reach Helm as single
//!    arguments.
//!
//! The tests take turns ([`SERIAL`]): the cluster snapshots must not see another test's writes.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use kubeairunway_api::{
    HelmChart, HelmRepo, InferenceProviderConfig, InferenceProviderConfigSpec, InstallationInfo,
    ModelDeployment,
};
use kubeairunway_testenv::hf_hub::{HubServer, TOKEN_READ};
use kubeairunway_testenv::{Binaries, ChartRepo, ChartSource, User, shared, wait_until};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Server};

/// What an operation does, which decides what each check expects of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Answered without a token when auth is on.
    Public,
    /// Reads; needs a token.
    Read,
    /// Computes an answer and changes nothing (previews, estimates); needs a token.
    Compute,
    /// Changes the cluster or the server's state; needs a token.
    Write,
}

use Access::{Compute, Public, Read, Write};

/// Every operation of the OpenAPI document, classified. A route missing here (or listed here
/// but gone) fails [`every_operation_is_classified_and_the_document_agrees`].
const OPERATIONS: &[(&str, &str, Access)] = &[
    ("GET", "/api/activity", Read),
    ("POST", "/api/aiconfigurator/analyze", Compute),
    ("POST", "/api/aiconfigurator/normalize-gpu", Compute),
    ("GET", "/api/aiconfigurator/status", Read),
    ("POST", "/api/aikit/build", Write),
    ("POST", "/api/aikit/build/preview", Compute),
    ("POST", "/api/aikit/infrastructure/setup", Write),
    ("GET", "/api/aikit/infrastructure/status", Read),
    ("GET", "/api/aikit/models", Read),
    ("GET", "/api/aikit/models/{id}", Read),
    ("GET", "/api/auth/whoami", Read),
    ("GET", "/api/autoscaler/detection", Read),
    ("GET", "/api/autoscaler/status", Read),
    ("GET", "/api/cluster", Read),
    ("GET", "/api/cluster/nodes", Read),
    ("GET", "/api/cluster/status", Public),
    ("GET", "/api/cluster/version", Read),
    ("POST", "/api/costs/estimate", Compute),
    ("GET", "/api/costs/gpu-models", Read),
    ("GET", "/api/costs/instance-price", Read),
    ("GET", "/api/costs/node-pools", Read),
    ("GET", "/api/costs/normalize-gpu", Read),
    ("GET", "/api/deployments", Read),
    ("POST", "/api/deployments", Write),
    ("GET", "/api/deployments/events", Read),
    ("POST", "/api/deployments/preview", Compute),
    ("GET", "/api/deployments/{name}", Read),
    ("DELETE", "/api/deployments/{name}", Write),
    ("PATCH", "/api/deployments/{name}", Write),
    ("GET", "/api/deployments/{name}/logs", Read),
    ("GET", "/api/deployments/{name}/manifest", Read),
    ("GET", "/api/deployments/{name}/metrics", Read),
    ("GET", "/api/deployments/{name}/pending-reasons", Read),
    ("GET", "/api/deployments/{name}/pods", Read),
    ("GET", "/api/health", Public),
    ("GET", "/api/health/ready", Public),
    ("GET", "/api/health/status", Public),
    ("GET", "/api/health/version", Public),
    ("GET", "/api/installation/gpu-capacity", Read),
    ("GET", "/api/installation/gpu-capacity/detailed", Read),
    ("POST", "/api/installation/gpu-operator/install", Write),
    ("GET", "/api/installation/gpu-operator/status", Read),
    ("GET", "/api/installation/helm/status", Read),
    ("GET", "/api/installation/providers/{id}/commands", Read),
    ("POST", "/api/installation/providers/{id}/install", Write),
    ("GET", "/api/installation/providers/{id}/status", Read),
    ("POST", "/api/installation/providers/{id}/uninstall", Write),
    (
        "POST",
        "/api/installation/providers/{id}/uninstall-crds",
        Write,
    ),
    ("GET", "/api/installation/runtimes/status", Read),
    ("GET", "/api/jobs", Read),
    ("GET", "/api/jobs/{id}", Read),
    ("GET", "/api/jobs/{id}/events", Read),
    ("GET", "/api/models", Read),
    ("GET", "/api/models/search", Read),
    ("GET", "/api/models/{id}", Read),
    ("GET", "/api/models/{id}/gguf-files", Read),
    ("GET", "/api/models/{id}/plan", Read),
    // Sign-in with HuggingFace talks to the Hub only, never to the cluster; the browser needs
    // it before it holds a HuggingFace token (docs/contract/api.md §11).
    ("GET", "/api/oauth/huggingface/config", Public),
    ("POST", "/api/oauth/huggingface/start", Public),
    ("POST", "/api/oauth/huggingface/token", Public),
    ("GET", "/api/oauth/huggingface/verifier/{state}", Public),
    ("GET", "/api/runtimes/status", Read),
    ("POST", "/api/secrets/huggingface", Write),
    ("DELETE", "/api/secrets/huggingface", Write),
    ("GET", "/api/secrets/huggingface/status", Read),
    ("GET", "/api/settings", Public),
    ("PUT", "/api/settings", Write),
];

/// The operations that take a `namespace` query parameter: each is checked for the
/// namespace-scoped user (the create, whose namespace is in its body, is checked on its own).
const NAMESPACED: &[(&str, &str)] = &[
    ("GET", "/api/activity"),
    ("GET", "/api/deployments"),
    ("GET", "/api/deployments/events"),
    ("GET", "/api/deployments/{name}"),
    ("DELETE", "/api/deployments/{name}"),
    ("PATCH", "/api/deployments/{name}"),
    ("GET", "/api/deployments/{name}/logs"),
    ("GET", "/api/deployments/{name}/manifest"),
    ("GET", "/api/deployments/{name}/metrics"),
    ("GET", "/api/deployments/{name}/pending-reasons"),
    ("GET", "/api/deployments/{name}/pods"),
];

/// One operation of the document.
#[derive(Clone, Debug)]
struct Operation {
    method: Method,
    path: String,
    access: Access,
    /// Its query parameters' names.
    query: BTreeSet<String>,
}

/// The document's operations, with the class [`OPERATIONS`] gives them (panics on one it does
/// not list; the classification test says which).
fn operations() -> Vec<Operation> {
    let doc = document();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let access = OPERATIONS
                .iter()
                .find(|(m, p, _)| *m == method.as_str() && p == path)
                .map(|(_, _, a)| *a)
                .unwrap_or_else(|| panic!("{method} {path} is not classified in OPERATIONS"));
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            out.push(Operation {
                method: method.clone(),
                path: path.clone(),
                access,
                query,
            });
        }
    }
    out
}

fn document() -> Value {
    serde_json::to_value(kubeairunway_server::openapi_document()).expect("document as JSON")
}

/// The tests take turns: snapshots of the cluster must see only their own test's requests.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The servers, the Hub, the recording Helm and the captured log.

/// Everything the server logged (tracing, every level from debug), for the token check.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,hyper=info,hyper_util=info,h2=info,rustls=info,tower=info",
            ))
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        buffer
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = self.0.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start().expect("local HuggingFace Hub"))
}

/// The real `helm`, behind a wrapper that first records how it was started: its parent
/// process (pid and executable) and its arguments, NUL-separated, one file per call; then it
/// `exec`s Helm with the same arguments, so the installs are real ones.
fn recording_helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        let real = Binaries::from_env().tool("helm").expect("helm built");
        let dir = std::env::temp_dir().join(format!("kair-security-helm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("calls")).expect("recording helm dir");
        let path = dir.join("helm");
        let script = format!(
            r#"#!/bin/sh
out="$(dirname "$0")/calls/$$"
{{ printf '%s\0' "$PPID" "$(readlink /proc/$PPID/exe)"; for a in "$@"; do printf '%s\0' "$a"; done; }} > "$out"
exec '{}' "$@"
"#,
            real.display()
        );
        std::fs::write(&path, script).expect("write recording helm");
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    })
}

/// The chart repository of [`PROVIDER`]: one chart whose ConfigMap holds the values it was
/// given, so a hostile value can be seen arriving as data.
fn chart_repo() -> &'static ChartRepo {
    static REPO: OnceLock<ChartRepo> = OnceLock::new();
    REPO.get_or_init(|| {
        ChartRepo::start(&[ChartSource::new("operator", "0.1.0").file(
            "templates/values.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-values\ndata:\n  values.json: {{ toJson .Values | quote }}\n",
        )])
        .expect("chart repository")
    })
}

/// One recorded call of Helm.
#[derive(Debug)]
struct HelmCall {
    parent_pid: u32,
    parent_exe: PathBuf,
    args: Vec<String>,
}

fn helm_calls() -> Vec<HelmCall> {
    let dir = recording_helm().parent().expect("dir").join("calls");
    let mut calls = Vec::new();
    for entry in std::fs::read_dir(dir).expect("calls dir").flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let mut fields = bytes
            .split(|b| *b == 0)
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let parent_pid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let parent_exe = PathBuf::from(fields.next().unwrap_or_default());
        let mut args: Vec<String> = fields.collect();
        if args.last().is_some_and(String::is_empty) {
            args.pop();
        }
        calls.push(HelmCall {
            parent_pid,
            parent_exe,
            args,
        });
    }
    calls
}

/// How many Helm calls so far named the provider's release.
fn releases_touched() -> usize {
    helm_calls()
        .iter()
        .filter(|c| c.args.iter().any(|a| a.contains("security-release")))
        .count()
}

fn server(mode: AuthMode) -> Server {
    static ON: OnceLock<Server> = OnceLock::new();
    static OFF: OnceLock<Server> = OnceLock::new();
    logs();
    let cell = match mode {
        AuthMode::On => &ON,
        AuthMode::Off => &OFF,
    };
    cell.get_or_init(|| {
        support::start_with_hub(hub().url(), mode, |c| {
            c.helm_path = recording_helm().to_path_buf();
        })
    })
    .with_own_client()
}

// ---------------------------------------------------------------------------------------------
// Concrete requests for each operation.

/// The objects the requests name.
struct Targets {
    /// Namespace of the requests' deployments.
    namespace: String,
    /// A deployment in it.
    deployment: String,
    /// A registered provider.
    provider: String,
}

const PROVIDER: &str = "security-provider";

impl Targets {
    /// `GET`-able URL of `op` with path parameters filled and the namespace given when taken.
    fn url(&self, op: &Operation) -> String {
        let mut path = op
            .path
            .replace("{name}", &self.deployment)
            .replace("{state}", "state-0");
        path = if path.starts_with("/api/aikit/models/") {
            path.replace("{id}", "llama3.2:1b")
        } else if path.starts_with("/api/installation/providers/") {
            path.replace("{id}", &self.provider)
        } else if path.starts_with("/api/jobs/") {
            path.replace("{id}", "no-such-job")
        } else {
            path.replace("{id}", "meta-llama/Llama-3.1-8B-Instruct")
        };
        if op.query.contains("namespace") {
            path.push_str(&format!("?namespace={}", self.namespace));
        }
        path
    }

    /// A body the operation accepts (valid, so a refusal is about who asks, not what).
    fn body(&self, op: &Operation) -> Option<Value> {
        let create = json!({
            "name": "security-created", "namespace": self.namespace,
            "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm", "resources": { "gpu": 1 },
        });
        // A real build (a premade model builds nothing).
        let build = json!({
            "modelSource": "huggingface",
            "modelId": "bartowski/Llama-3.2-1B-Instruct-GGUF",
            "ggufFile": "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        });
        Some(match (op.method.as_str(), op.path.as_str()) {
            ("POST", "/api/deployments") | ("POST", "/api/deployments/preview") => create,
            ("PATCH", _) => json!({ "replicas": 3 }),
            ("PUT", "/api/settings") => json!({ "defaultNamespace": "security-moved" }),
            ("POST", "/api/secrets/huggingface") => json!({ "accessToken": TOKEN_READ }),
            ("POST", "/api/aikit/build") | ("POST", "/api/aikit/build/preview") => build,
            ("POST", "/api/aiconfigurator/analyze") => {
                json!({ "modelId": "Qwen/Qwen3-0.6B", "gpuType": "H100", "gpuCount": 1 })
            }
            ("POST", "/api/aiconfigurator/normalize-gpu") => {
                json!({ "gpuProduct": "NVIDIA-H100-80GB-HBM3" })
            }
            ("POST", "/api/costs/estimate") => {
                json!({ "gpuType": "H100", "gpuCount": 1, "replicas": 1 })
            }
            ("POST", "/api/oauth/huggingface/start") => {
                json!({ "redirectUri": "http://localhost/oauth/callback" })
            }
            ("POST", "/api/oauth/huggingface/token") => json!({
                "code": "c", "codeVerifier": "v", "redirectUri": "http://localhost/oauth/callback",
            }),
            ("POST", p) if p.starts_with("/api/installation/") && p.ends_with("/install") => {
                json!({ "values": {} })
            }
            _ => return None,
        })
    }
}

/// How a request authenticates.
#[derive(Clone, Debug)]
enum Credential {
    None,
    User(User),
    /// `Authorization` set to exactly this.
    Header(String),
}

/// Sends `op` with `credential` and `extra` headers; the body is read for at most `budget`
/// (live streams never end).
async fn send(
    s: &Server,
    t: &Targets,
    op: &Operation,
    credential: &Credential,
    extra: &[(header::HeaderName, String)],
) -> Answer {
    let url = t.url(op);
    let mut req = s.http.request(op.method.clone(), s.url(&url));
    match credential {
        Credential::None => {}
        Credential::User(user) => req = req.bearer_auth(support::token(*user)),
        Credential::Header(value) => req = req.header(header::AUTHORIZATION, value),
    }
    for (name, value) in extra {
        req = req.header(name, value);
    }
    if let Some(body) = t.body(op) {
        req = req.json(&body);
    }
    let response = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} {url}: {e}", op.method));
    Answer::read(response, format!("{} {url}", op.method)).await
}

/// A response whose body was read for a bounded time.
struct Answer {
    what: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    async fn read(mut response: reqwest::Response, what: String) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let deadline = Instant::now() + Duration::from_millis(1500);
        let mut body = Vec::new();
        while let Ok(Ok(Some(chunk))) =
            tokio::time::timeout_at(deadline.into(), response.chunk()).await
        {
            body.extend_from_slice(&chunk);
        }
        Answer {
            what,
            status,
            headers,
            body,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the error envelope with `status`, returning the message.
    #[track_caller]
    fn envelope(&self, status: StatusCode) -> String {
        let body = self.json();
        assert_eq!(self.status, status, "{}: {}", self.what, self.text());
        assert_eq!(
            body["error"]["statusCode"],
            status.as_u16(),
            "{}: {}",
            self.what,
            self.text()
        );
        assert!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")),
            "{}: {:?}",
            self.what,
            self.headers
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{}: {}", self.what, self.text());
        message.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster snapshots.

/// `kind namespace/name resourceVersion` of every object of the kinds the API can change.
async fn snapshot() -> BTreeSet<String> {
    let admin = support::admin_client().await;
    let mut all = BTreeSet::new();
    all.extend(versions::<ModelDeployment>(&admin).await);
    all.extend(versions::<InferenceProviderConfig>(&admin).await);
    all.extend(versions::<Secret>(&admin).await);
    all.extend(versions::<ConfigMap>(&admin).await);
    all.extend(versions::<Deployment>(&admin).await);
    all.extend(versions::<Service>(&admin).await);
    all.extend(versions::<Job>(&admin).await);
    all.extend(versions::<Namespace>(&admin).await);
    all.extend(versions::<ServiceAccount>(&admin).await);
    all.extend(versions::<Role>(&admin).await);
    all.extend(versions::<RoleBinding>(&admin).await);
    all
}

async fn versions<K>(client: &Client) -> Vec<String>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&Default::default()).into_owned();
    Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("list {kind}: {e}"))
        .items
        .into_iter()
        .map(|o| {
            format!(
                "{kind} {}/{} {}",
                o.namespace().unwrap_or_default(),
                o.name_any(),
                o.resource_version().unwrap_or_default()
            )
        })
        .collect()
}

/// A snapshot once the cluster is quiet (two in a row, a second apart, are equal): the
/// controllers finish what earlier tests started before the comparison begins.
async fn quiet_snapshot() -> BTreeSet<String> {
    wait_until(
        "the cluster to be quiet",
        Duration::from_secs(30),
        || async {
            let first = snapshot().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let second = snapshot().await;
            let changed = first.symmetric_difference(&second).count();
            Ok((
                (first == second).then_some(second),
                format!("{changed} changed"),
            ))
        },
    )
    .await
    .expect("quiet cluster")
}

#[track_caller]
fn assert_unchanged(before: &BTreeSet<String>, after: &BTreeSet<String>, what: &str) {
    let gone: Vec<_> = before.difference(after).collect();
    let new: Vec<_> = after.difference(before).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "{what} changed the cluster: before only {gone:?}, after only {new:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fixtures in the cluster.

/// Creates the ModelDeployment `name` in `namespace` as the admin (not through the API).
async fn seed(namespace: &str, name: &str) {
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name, "namespace": namespace },
        "spec": {
            "model": { "id": "Qwen/Qwen3-0.6B" },
            "engine": { "type": "vllm" },
            "resources": { "gpu": { "count": 1 } },
        },
    }))
    .expect("shape");
    let api = Api::<ModelDeployment>::namespaced(support::admin_client().await, namespace);
    if api.get_opt(name).await.expect("read").is_none() {
        api.create(&PostParams::default(), &md)
            .await
            .expect("seed ModelDeployment");
    }
}

/// Registers [`PROVIDER`], whose installation installs one chart into `namespace`.
async fn register_provider(namespace: &str) {
    let api = Api::<InferenceProviderConfig>::all(support::admin_client().await);
    if api.get_opt(PROVIDER).await.expect("read").is_some() {
        return;
    }
    let ipc = InferenceProviderConfig::new(
        PROVIDER,
        InferenceProviderConfigSpec {
            installation: Some(InstallationInfo {
                description: Some("The security tests' provider".into()),
                default_namespace: Some(namespace.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "security".into(),
                    url: chart_repo().url(),
                }]),
                helm_charts: Some(vec![HelmChart {
                    name: "security-release".into(),
                    chart: "security/operator".into(),
                    version: None,
                    namespace: namespace.into(),
                    create_namespace: Some(false),
                }]),
                steps: None,
            }),
            ..Default::default()
        },
    );
    api.create(&PostParams::default(), &ipc)
        .await
        .expect("register the provider");
}

/// The fixtures every test uses: a namespace with a deployment, and the provider.
async fn targets() -> Targets {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    let namespace = match NAMESPACE.get() {
        Some(ns) => ns.clone(),
        None => {
            let ns = support::namespace("security").await;
            NAMESPACE.get_or_init(|| ns).clone()
        }
    };
    seed(&namespace, "security-target").await;
    register_provider(&namespace).await;
    Targets {
        namespace,
        deployment: "security-target".into(),
        provider: PROVIDER.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Classification.

#[tokio::test]
async fn every_operation_is_classified_and_the_document_agrees() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            documented.insert((method.to_string(), path.clone()));
            let Some((_, _, access)) = OPERATIONS
                .iter()
                .find(|(m, p, _)| *m == method.as_str() && p == path)
            else {
                continue;
            };
            // `security: [{}]` is how the document says "no token needed".
            let public_in_doc = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            assert_eq!(
                public_in_doc,
                *access == Public,
                "{method} {path}: the document and OPERATIONS disagree on whether it is public"
            );
        }
    }
    let classified: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p, _)| ((*m).to_string(), (*p).to_string()))
        .collect();
    let unclassified: Vec<_> = documented.difference(&classified).collect();
    let stale: Vec<_> = classified.difference(&documented).collect();
    assert!(
        unclassified.is_empty(),
        "classify these operations in OPERATIONS: {unclassified:?}"
    );
    assert!(stale.is_empty(), "no longer in the document: {stale:?}");
    assert_eq!(classified.len(), OPERATIONS.len(), "listed twice");

    let namespaced: BTreeSet<(String, String)> = operations()
        .into_iter()
        .filter(|op| op.query.contains("namespace"))
        .map(|op| (op.method.to_string(), op.path))
        .collect();
    let expected: BTreeSet<(String, String)> = NAMESPACED
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    assert_eq!(
        namespaced, expected,
        "operations taking a namespace changed: check them for the namespace-scoped user"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Tokens.

/// The test cluster's service-account issuer and audience.
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// A service-account JWT for `namespace/name` (uid `uid`) that expires at `exp`, signed (ES256)
/// with the cluster's own service-account key, as the API server's token controller would.
fn service_account_jwt(namespace: &str, name: &str, uid: &str, exp: u64) -> String {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

    let pem = std::fs::read_to_string(shared().info().state_dir.join("pki").join("sa.key"))
        .expect("the cluster's service-account key");
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = STANDARD.decode(b64).expect("PEM body");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .expect("an ECDSA P-256 PKCS#8 key");
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "ES256", "typ": "JWT" }).to_string());
    let issued = exp.saturating_sub(3600);
    let claims = json!({
        "iss": ISSUER,
        "aud": [ISSUER],
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "iat": issued, "nbf": issued, "exp": exp,
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": { "name": name, "uid": uid },
        },
    });
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("sign");
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
}

/// `jwt` with the first character of its signature changed (every bit of it counts, unlike the
/// last one's padding bits, which decoders ignore).
fn tamper(jwt: &str) -> String {
    let (signed, signature) = jwt.rsplit_once('.').expect("a JWT");
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    format!("{signed}.{first}{}", &signature[1..])
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_non_public_operation_refuses_missing_malformed_and_expired_tokens() {
    let _turn = SERIAL.lock().await;
    let s = server(AuthMode::On);
    let t = targets().await;

    // A real service account, and two tokens for it that differ only in `exp`.
    let admin = support::admin_client().await;
    let accounts = Api::<ServiceAccount>::namespaced(admin, &t.namespace);
    let sa = match accounts.get_opt("expired").await.expect("read") {
        Some(sa) => sa,
        None => {
            let sa: ServiceAccount =
                serde_json::from_value(json!({ "metadata": { "name": "expired" } }))
                    .expect("shape");
            accounts
                .create(&PostParams::default(), &sa)
                .await
                .expect("create the service account")
        }
    };
    let uid = sa.metadata.uid.clone().expect("uid");
    let live = service_account_jwt(&t.namespace, "expired", &uid, now() + 3600);
    let expired = service_account_jwt(&t.namespace, "expired", &uid, now() - 600);
    let before = quiet_snapshot().await;

    // The control: the live token is the API server's, so the expired one is refused for its
    // expiry alone.
    let whoami = Operation {
        method: Method::GET,
        path: "/api/auth/whoami".into(),
        access: Read,
        query: BTreeSet::new(),
    };
    let reply = send(
        &s,
        &t,
        &whoami,
        &Credential::Header(format!("Bearer {live}")),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json()["username"],
        format!("system:serviceaccount:{}:expired", t.namespace)
    );

    let credentials = [
        ("no token", Credential::None),
        ("not a JWT", Credential::Header("Bearer not-a-token".into())),
        (
            "a JWT of nothing",
            Credential::Header("Bearer eyJhbGciOiJub25lIn0.e30.".into()),
        ),
        (
            "a tampered JWT",
            Credential::Header(format!("Bearer {}", tamper(&live))),
        ),
        (
            "an expired token",
            Credential::Header(format!("Bearer {expired}")),
        ),
    ];
    let mut requests = 0;
    let mut non_public = 0;
    for op in operations() {
        if op.access == Public {
            // Public operations answer without a token.
            let reply = send(&s, &t, &op, &Credential::None, &[]).await;
            requests += 1;
            assert_ne!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} is public: {}",
                reply.what,
                reply.text()
            );
            continue;
        }
        non_public += 1;
        for (what, credential) in &credentials {
            let mut reply = send(&s, &t, &op, credential, &[]).await;
            reply.what = format!("{} with {what}", reply.what);
            requests += 1;
            let message = reply.envelope(StatusCode::UNAUTHORIZED);
            if let Credential::Header(value) = credential {
                let token = value.trim_start_matches("Bearer ");
                assert!(
                    !message.contains(token),
                    "{} with {what}: the token is echoed: {message}",
                    reply.what
                );
            }
            assert!(
                reply.headers.get(header::WWW_AUTHENTICATE).is_none()
                    || reply.status == StatusCode::UNAUTHORIZED
            );
        }
    }
    eprintln!("tokens: {non_public} non-public operations, {requests} requests");
    assert_eq!(
        non_public,
        OPERATIONS.iter().filter(|o| o.2 != Public).count()
    );
    assert_unchanged(&before, &snapshot().await, "requests without a valid token");
}

// ---------------------------------------------------------------------------------------------
// 3. The viewer writes nothing.

#[tokio::test]
async fn the_viewer_can_write_nothing() {
    let _turn = SERIAL.lock().await;
    let s = server(AuthMode::On);
    let t = targets().await;
    let before = quiet_snapshot().await;
    let helm_before = releases_touched();
    let mut writes = 0;
    for op in operations().into_iter().filter(|op| op.access == Write) {
        let reply = send(&s, &t, &op, &Credential::User(User::Viewer), &[]).await;
        writes += 1;
        let message = reply.envelope(StatusCode::FORBIDDEN);
        assert!(
            message.contains("viewer")
                || message.contains("forbidden")
                || message.contains("permission"),
            "{}: {message}",
            reply.what
        );
    }
    eprintln!("viewer: {writes} writes refused");
    // Jobs would run after the answer: give them time to do harm.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_unchanged(&before, &snapshot().await, "the viewer's writes");
    assert_eq!(
        releases_touched(),
        helm_before,
        "Helm ran for the viewer: {:?}",
        helm_calls()
    );
}

// ---------------------------------------------------------------------------------------------
// 4. The namespace-scoped user.

#[tokio::test]
async fn the_team_user_sees_nothing_outside_its_namespace() {
    let _turn = SERIAL.lock().await;
    let s = server(AuthMode::On);
    let t = targets().await;
    let team = User::TEAM_NAMESPACE;
    let visible = "security-visible";
    seed(team, visible).await;
    // Wait for the caches to hold both.
    s.get_eventually(
        "/api/deployments",
        Some(User::Admin),
        "both seeds cached",
        |b| {
            let names: Vec<&str> = b["deployments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["name"].as_str())
                .collect();
            names.contains(&visible) && names.contains(&t.deployment.as_str())
        },
    )
    .await;
    let before = quiet_snapshot().await;

    let hidden = [t.deployment.as_str(), t.namespace.as_str()];
    let mut requests = 0;
    // Every operation that takes a namespace, pointed at the other one: refused, and refused
    // alike whether the deployment exists or not (existence is not revealed either).
    let absent = Targets {
        namespace: t.namespace.clone(),
        deployment: "security-absent".into(),
        provider: t.provider.clone(),
    };
    for op in operations()
        .into_iter()
        .filter(|op| op.query.contains("namespace") && op.access != Public)
    {
        let existing = send(&s, &t, &op, &Credential::User(User::TeamA), &[]).await;
        let missing = send(&s, &absent, &op, &Credential::User(User::TeamA), &[]).await;
        requests += 2;
        let message = existing.envelope(StatusCode::FORBIDDEN);
        let other = missing.envelope(StatusCode::FORBIDDEN);
        assert_eq!(
            message,
            other.replace("security-absent", &t.deployment),
            "{}: an existing and a missing deployment are told apart",
            existing.what
        );
        if !op.path.contains("{name}") {
            assert!(
                !existing.text().contains(&t.deployment),
                "{} shows the deployment: {}",
                existing.what,
                existing.text()
            );
        }
    }
    // The create with the namespace in the body.
    let create = operations()
        .into_iter()
        .find(|op| op.method == Method::POST && op.path == "/api/deployments")
        .expect("create operation");
    let reply = send(&s, &t, &create, &Credential::User(User::TeamA), &[]).await;
    requests += 1;
    reply.envelope(StatusCode::FORBIDDEN);

    // Every read without a namespace (lists, streams, capacity, jobs, …): nothing of the other
    // namespace, and (the control) the list and the stream do show alice's own deployment.
    let everywhere = Targets {
        namespace: String::new(),
        deployment: visible.into(),
        provider: t.provider.clone(),
    };
    let mut shown_own = BTreeSet::new();
    for op in operations()
        .into_iter()
        .filter(|op| op.method == Method::GET && op.access != Public)
    {
        let mut op = op;
        op.query.remove("namespace");
        let reply = send(&s, &everywhere, &op, &Credential::User(User::TeamA), &[]).await;
        requests += 1;
        let text = reply.text();
        for secret in hidden {
            assert!(
                !text.contains(secret),
                "{} shows {secret:?} of another namespace: {text}",
                reply.what
            );
        }
        if text.contains(visible) {
            shown_own.insert(op.path.clone());
        }
    }
    for path in ["/api/deployments", "/api/deployments/events"] {
        assert!(
            shown_own.contains(path),
            "{path} must show alice her own deployment (the control): {shown_own:?}"
        );
    }
    eprintln!("team user: {requests} requests");
    assert_unchanged(&before, &snapshot().await, "the team user's requests");

    // Deleting the token Secrets tries every namespace the caches know of: the ones that refuse
    // alice are counted, not named.
    let reply = s
        .call(
            Method::DELETE,
            "/api/secrets/huggingface",
            Some(User::TeamA),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        !reply.body.to_string().contains(&t.namespace),
        "the answer names a namespace alice may not see: {}",
        reply.body
    );
    assert!(
        reply.body.to_string().contains(team),
        "her own namespace is reported (the control): {}",
        reply.body
    );
}

// ---------------------------------------------------------------------------------------------
// 5. DNS rebinding and CSRF without auth.

#[tokio::test]
async fn foreign_hosts_and_cross_site_origins_are_refused_for_every_operation() {
    let _turn = SERIAL.lock().await;
    let s = server(AuthMode::Off);
    let t = targets().await;
    let port = s.base.rsplit(':').next().expect("port").to_string();
    let before = quiet_snapshot().await;
    let mut requests = 0;
    let ops = operations();
    let other_origin = format!(
        "http://localhost:{}",
        port.parse::<u16>().expect("port").wrapping_add(1)
    );
    for op in &ops {
        let probes = [
            (header::HOST, format!("evil.example:{port}"), "Host"),
            (header::HOST, "127.0.0.1.nip.io".into(), "Host"),
            (
                header::ORIGIN,
                "https://evil.example".into(),
                "Cross-origin",
            ),
            (header::ORIGIN, "null".into(), "Cross-origin"),
            (header::ORIGIN, other_origin.clone(), "Cross-origin"),
        ];
        for (name, value, refusal) in probes {
            let reply = send(
                &s,
                &t,
                op,
                &Credential::None,
                &[(name.clone(), value.clone())],
            )
            .await;
            requests += 1;
            let message = reply.envelope(StatusCode::FORBIDDEN);
            assert!(
                message.contains(refusal),
                "{} {name} {value}: {message}",
                reply.what
            );
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_unchanged(
        &before,
        &snapshot().await,
        "foreign Host and Origin requests",
    );
    eprintln!(
        "rebinding/CSRF: {} operations, {requests} requests",
        ops.len()
    );

    // The control: the same write from the server's own origin does change the cluster, so the
    // snapshot would have seen it.
    let settings = ops
        .iter()
        .find(|op| op.method == Method::PUT && op.path == "/api/settings")
        .expect("settings operation");
    let reply = send(
        &s,
        &t,
        settings,
        &Credential::None,
        &[(header::ORIGIN, s.base.clone())],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_ne!(before, snapshot().await, "the same-origin write is seen");
    let restore = s
        .call(
            Method::PUT,
            "/api/settings",
            None,
            Some(&json!({ "defaultNamespace": "default" })),
        )
        .await;
    assert_eq!(restore.status, StatusCode::OK, "{}", restore.body);
}

// ---------------------------------------------------------------------------------------------
// 6. The HuggingFace token stays secret.

#[tokio::test]
async fn the_huggingface_token_never_leaves_the_cluster() {
    let _turn = SERIAL.lock().await;
    let t = targets().await;
    let on = server(AuthMode::On);
    let off = server(AuthMode::Off);
    // Saved through the API, as the admin.
    let save = on
        .post_json(
            "/api/secrets/huggingface",
            Some(User::Admin),
            &json!({ "accessToken": TOKEN_READ }),
        )
        .await;
    assert_eq!(save.status, StatusCode::OK, "{}", save.body);
    let forms = [
        TOKEN_READ.to_string(),
        STANDARD.encode(TOKEN_READ),
        URL_SAFE_NO_PAD.encode(TOKEN_READ),
    ];
    let leaks = |text: &str| forms.iter().find(|f| text.contains(f.as_str())).cloned();
    let check = |answer: &Answer| {
        if let Some(form) = leaks(&answer.text()) {
            panic!(
                "{} shows the token ({form}): {}",
                answer.what,
                answer.text()
            );
        }
        for (name, value) in &answer.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(
                leaks(&value).is_none(),
                "{}: header {name}: {value}",
                answer.what
            );
        }
    };
    // The saved token is really in the cluster (the control: a response carrying the Secret
    // would be caught).
    let admin = support::admin_client().await;
    let stored = Api::<Secret>::all(admin)
        .list(&ListParams::default())
        .await
        .expect("list Secrets")
        .items
        .into_iter()
        .any(|s| {
            s.data
                .unwrap_or_default()
                .values()
                .any(|v| v.0 == TOKEN_READ.as_bytes())
        });
    assert!(stored, "the token was saved in a Secret");

    let mut requests = 0;
    let invalid = "hf_SecurityProbeInvalidToken0000000001";
    for op in operations()
        .into_iter()
        .filter(|op| op.method == Method::GET)
    {
        for (s, credential) in [
            (&on, Credential::User(User::Admin)),
            (&on, Credential::User(User::Viewer)),
            (&off, Credential::None),
        ] {
            let answer = send(s, &t, &op, &credential, &[]).await;
            requests += 1;
            check(&answer);
            // An invalid token of the caller's own gets errors that do not repeat it either.
            let answer = send(
                s,
                &t,
                &op,
                &credential,
                &[(
                    header::HeaderName::from_static("x-hf-token"),
                    invalid.into(),
                )],
            )
            .await;
            requests += 1;
            check(&answer);
            assert!(
                !answer.text().contains(invalid),
                "{} echoes the caller's token: {}",
                answer.what,
                answer.text()
            );
        }
    }
    // Saving a token the Hub refuses: the error does not repeat it.
    let refused = on
        .post_json(
            "/api/secrets/huggingface",
            Some(User::Admin),
            &json!({ "accessToken": invalid }),
        )
        .await;
    requests += 1;
    assert!(
        refused.status.is_client_error() || refused.status.is_server_error(),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.to_string().contains(invalid),
        "{}",
        refused.body
    );

    let logged = String::from_utf8_lossy(&logs().lock().expect("logs")).into_owned();
    assert!(
        logged.contains("/api/secrets/huggingface"),
        "the server's log was captured (the control)"
    );
    for form in forms.iter().chain([&invalid.to_string()]) {
        if let Some(line) = logged.lines().find(|l| l.contains(form.as_str())) {
            panic!("the server logged the token: {line}");
        }
    }
    eprintln!(
        "token: {requests} requests, {} log lines checked",
        logged.lines().count()
    );
    let _ = off
        .call(Method::DELETE, "/api/secrets/huggingface", None, None)
        .await;
}

// ---------------------------------------------------------------------------------------------
// 7. No shell.

/// Every place the shipped crates start a process, with what it starts. A new spawn site fails
/// [`no_spawned_process_is_a_shell`] until it is added here (and is not a shell).
const SPAWN_SITES: &[(&str, &str)] = &[
    // AIConfigurator: `AICONFIGURATOR_PATH`, arguments validated by the handler.
    (
        "crates/server/src/aiconfigurator/runner.rs",
        "Command::new(&config.path)",
    ),
    // buildctl: `BUILDCTL_PATH`, arguments from `core::aikit`'s allow-lists.
    ("crates/server/src/aikit/buildctl.rs", "Command::new(path)"),
    // Helm: `HELM_PATH`, arguments from `install::args`.
    ("crates/install/src/helm.rs", "Command::new(&self.path)"),
    // `kubeairunway dev`: the binary itself, detached.
    ("crates/cli/src/dev.rs", "Command::new(exe)"),
    // `kubeairunway login`: the kubeconfig's exec plugin, which the user configured
    // (client-go's contract); never a value from a request.
    (
        "crates/cli/src/login/kubeconfig.rs",
        "Command::new(command)",
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn no_spawned_process_is_a_shell() {
    let _turn = SERIAL.lock().await;
    // The sources: every spawn site is known, and none names a shell.
    let root = workspace_root();
    let mut found = BTreeMap::new();
    for krate in ["api", "core", "controller", "server", "install", "cli"] {
        let mut files = Vec::new();
        rust_sources(&root.join("crates").join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            let rel = file
                .strip_prefix(&root)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            for (i, line) in text.lines().enumerate() {
                for shell in [
                    "\"sh\"",
                    "\"bash\"",
                    "\"/bin/sh\"",
                    "\"/bin/bash\"",
                    "\"-c\"",
                ] {
                    assert!(
                        !line.contains(shell),
                        "{rel}:{}: names a shell: {line}",
                        i + 1
                    );
                }
                if let Some(at) = line.find("Command::new(") {
                    let call = &line[at..];
                    let call = &call[..call.find(')').map_or(call.len(), |e| e + 1)];
                    *found.entry((rel.clone(), call.to_string())).or_insert(0) += 1;
                }
            }
        }
    }
    let expected: BTreeMap<(String, String), i32> = SPAWN_SITES
        .iter()
        .map(|(f, c)| (((*f).to_string(), (*c).to_string()), 1))
        .collect();
    assert_eq!(
        found, expected,
        "spawn sites changed: review them and SPAWN_SITES"
    );

    // At run time: hostile values given to an install reach Helm, started directly by the
    // server (its parent is this process, no shell between), each as one argument.
    let s = server(AuthMode::Off);
    let t = targets().await;
    let marker = std::env::temp_dir().join(format!("kair-security-pwned-{}", std::process::id()));
    let m = marker.display();
    let hostile = [
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x; touch {m}"),
        format!("x && touch {m} | cat\n--kubeconfig=/etc/passwd"),
        "' \" \\ $HOME *".to_string(),
    ];
    let values: serde_json::Map<String, Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("probe{i}"), json!(v)))
        .collect();
    let reply = s
        .post_json(
            &format!("/api/installation/providers/{PROVIDER}/install"),
            None,
            &json!({ "values": { "security-release": values } }),
        )
        .await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let install = wait_until(
        "Helm's upgrade --install",
        Duration::from_secs(30),
        || async {
            let calls = helm_calls();
            let summary = format!("{:?}", calls.iter().map(|c| &c.args).collect::<Vec<_>>());
            Ok((
                calls
                    .into_iter()
                    .find(|c| c.args.first().is_some_and(|a| a == "upgrade")),
                summary,
            ))
        },
    )
    .await
    .expect("Helm ran");
    let me = std::env::current_exe()
        .expect("exe")
        .canonicalize()
        .expect("exe");
    for call in helm_calls() {
        assert_eq!(call.parent_pid, std::process::id(), "{call:?}");
        assert_eq!(call.parent_exe, me, "Helm's parent is the server: {call:?}");
    }
    for (i, value) in hostile.iter().enumerate() {
        let arg = format!(
            "--set-json=probe{i}={}",
            serde_json::to_string(value).expect("JSON")
        );
        assert!(
            install.args.contains(&arg),
            "{arg:?} is one argument of {:?}",
            install.args
        );
    }
    // The real install finishes, and the chart was given the hostile values as plain data.
    let config_maps: Api<ConfigMap> = Api::namespaced(support::admin_client().await, &t.namespace);
    let rendered = wait_until(
        "the chart's ConfigMap of values",
        Duration::from_secs(90),
        || {
            let config_maps = config_maps.clone();
            async move {
                let cm = config_maps
                    .get_opt("security-release-values")
                    .await
                    .map_err(|source| kubeairunway_testenv::Error::Kube {
                        what: "reading the chart's ConfigMap".into(),
                        source,
                    })?;
                let values = cm
                    .and_then(|cm| cm.data)
                    .and_then(|d| d.get("values.json").cloned());
                Ok((values, "not installed yet".to_string()))
            }
        },
    )
    .await
    .expect("installed");
    let rendered: Value = serde_json::from_str(&rendered).expect("values JSON");
    assert_eq!(
        rendered,
        Value::Object(values.clone()),
        "the values as given"
    );
    assert!(
        !marker.exists(),
        "a hostile value ran: {}",
        marker.display()
    );

    // A hostile value path cannot be given to Helm safely: refused before anything runs.
    let calls = helm_calls().len();
    for key in [
        format!("a;touch {m}"),
        "--post-renderer".into(),
        "a=b,c=d".into(),
    ] {
        let reply = s
            .post_json(
                &format!("/api/installation/providers/{PROVIDER}/install"),
                None,
                &json!({ "values": { "security-release": { key.clone(): 1 } } }),
            )
            .await;
        reply.assert_error(
            StatusCode::BAD_REQUEST,
            "value",
            format_args!("key {key:?}"),
        );
    }
    assert_eq!(
        helm_calls().len(),
        calls,
        "Helm did not run for refused values"
    );
    eprintln!(
        "shell: {} spawn sites, {} Helm calls",
        found.len(),
        helm_calls().len()
    );
    let _ = std::io::stderr().flush();
}
