//! The Helm chart on a real cluster (the local control plane): `helm install` creates every
//! object and the pods are scheduled onto KWOK's nodes; then the binary runs **with exactly the
//! environment of those pods** — the container's args, its `env` and `envFrom` resolved from
//! the installed objects, the service-account token the kubelet would mount (a TokenRequest
//! bound to the pod), the cluster CA and namespace at
//! `/var/run/secrets/kubernetes.io/serviceaccount`, `KUBERNETES_SERVICE_HOST`/`PORT`, no
//! kubeconfig, and the pod's user 65532 without capabilities — and reconciles ModelDeployments
//! of every provider and serves the API with auth on.
//!
//! The API server's audit log then shows every request those two identities made. The test
//! requires that each one was allowed by the chart's own bindings, that every rule the chart
//! grants was used (or is listed in [`UNUSED_BY_DESIGN`] with the reason), and another test
//! that actions the identities do not need are refused.
//!
//! What differs from a pod, and why: KWOK runs no containers, so the process runs on this
//! machine; it reaches the API server at 127.0.0.1 (the cluster has no kube-proxy to route the
//! `kubernetes` Service's ClusterIP); kube-rs reads the in-cluster credentials only from the
//! fixed path `/var/run/secrets/kubernetes.io/serviceaccount`, so the process runs in a private
//! mount namespace (`unshare --mount`, a tmpfs over `/run`) where that path holds the files,
//! and `/tmp` is a tmpfs like the chart's emptyDir. The image (read-only root filesystem) is
//! tested in `image.rs`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_server::KubeAccess;
use kubeairunway_testenv::{User, install_upstream_crds, shared, wait_until};
use serde_json::{Value, json};
use support::{Helm, NAMESPACE, RELEASE};

/// The identities the chart creates.
const SERVER_SA: &str = "kubeairunway-server";
const CONTROLLER_SA: &str = "kubeairunway-controller";
/// `PATH` of the distroless runtime image (the only variable the image itself sets that the
/// binary could read).
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the kubelet mounts a pod's service-account token, CA and namespace.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The chart's pod user.
const POD_USER: &str = "65532";

/// Grants the scenario does not exercise, each with why the chart still needs it.
const UNUSED_BY_DESIGN: &[(&str, &str, &str, &str, &str)] = &[
    (
        CONTROLLER_SA,
        "events.k8s.io",
        "events",
        "patch",
        "kube's event Recorder patches an Event only when the same Event repeats within its \
         cache window (a series); the scenario's Events each happen once",
    ),
    (
        SERVER_SA,
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "get",
        "/api/cluster/status looks the ModelDeployment CRD up only while the deployment cache \
         has not loaded (the first moments after start-up, or just after the CRD was installed)",
    ),
];

/// The release, installed once per test binary.
struct Installed {
    /// `helm get manifest` of the release, parsed.
    objects: Vec<Value>,
    /// The server's port (a free one, so the test can listen on this machine).
    server_port: u16,
    /// The controller's metrics port.
    metrics_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `helm install` of the chart with its defaults (only the two ports chosen free), waiting for
/// the Deployments to become available.
fn installed() -> &'static Installed {
    static CELL: OnceLock<Installed> = OnceLock::new();
    CELL.get_or_init(|| {
        let cp = shared();
        let kubeconfig = cp.info().kubeconfig_path();
        let (server_port, metrics_port) = (free_port(), free_port());
        let helm = Helm::new();
        let chart = support::chart();
        let kc = format!("--kubeconfig={}", kubeconfig.display());
        let out = helm.run(&[
            "install",
            RELEASE,
            &chart.display().to_string(),
            "--namespace",
            NAMESPACE,
            "--create-namespace",
            &kc,
            "--wait",
            "--timeout=3m",
            "--set",
            &format!("server.port={server_port}"),
            "--set",
            &format!("controller.metricsPort={metrics_port}"),
        ]);
        assert!(out.ok, "helm install failed:\n{}{}", out.stdout, out.stderr);
        let manifest = helm.run(&["get", "manifest", RELEASE, "--namespace", NAMESPACE, &kc]);
        assert!(manifest.ok, "helm get manifest: {}", manifest.stderr);
        Installed {
            objects: support::parse_objects(&manifest.stdout),
            server_port,
            metrics_port,
        }
    })
}

async fn admin() -> Client {
    shared().client(User::Admin).await.expect("admin client")
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_install_creates_every_object_and_the_pods_run_on_kwok_nodes() {
    let release = installed();
    let client = admin().await;
    let discovery = kube::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    for object in &release.objects {
        let api_version = object["apiVersion"].as_str().expect("apiVersion");
        let kind = object["kind"].as_str().expect("kind");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = discovery
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("the cluster does not serve {api_version} {kind}"));
        let name = object["metadata"]["name"].as_str().expect("name");
        let api: Api<DynamicObject> = match caps.scope {
            kube::discovery::Scope::Namespaced => {
                Api::namespaced_with(client.clone(), NAMESPACE, &ar)
            }
            kube::discovery::Scope::Cluster => Api::all_with(client.clone(), &ar),
        };
        let live = api.get_opt(name).await.expect("get");
        let live = live.unwrap_or_else(|| panic!("{kind} {name} was not created"));
        assert_eq!(
            live.labels()
                .get("app.kubernetes.io/managed-by")
                .map(String::as_str),
            Some("Helm"),
            "{kind} {name}"
        );
    }
    // The CRDs of the chart's crds/ directory (Helm installs them before the templates).
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in kubeairunway_api::crds::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        assert!(
            crds.get_opt(&name).await.expect("get crd").is_some(),
            "CRD {name}"
        );
    }

    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let nodes: Api<Node> = Api::all(client.clone());
    for (component, replicas, sa) in [("server", 1, SERVER_SA), ("controller", 2, CONTROLLER_SA)] {
        let selector =
            format!("app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}");
        let list = pods
            .list(&ListParams::default().labels(&selector))
            .await
            .expect("list pods");
        let running: Vec<&Pod> = list
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        assert_eq!(
            running.len(),
            replicas,
            "{component} pods: {:?}",
            names_of(&list.items)
        );
        for pod in running {
            let spec = pod.spec.as_ref().expect("spec");
            assert_eq!(spec.service_account_name.as_deref(), Some(sa));
            let status = pod.status.as_ref().expect("status");
            assert_eq!(
                status.phase.as_deref(),
                Some("Running"),
                "{}",
                pod.name_any()
            );
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            assert!(ready, "{} is not Ready", pod.name_any());
            let node_name = spec.node_name.as_deref().expect("scheduled");
            let node = nodes.get(node_name).await.expect("node");
            assert_eq!(
                node.annotations()
                    .get("kwok.x-k8s.io/node")
                    .map(String::as_str),
                Some("fake"),
                "{} runs on {node_name}, which is not a KWOK node",
                pod.name_any()
            );
        }
    }
}

fn names_of(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(ResourceExt::name_any).collect()
}

/// The running pod of a component.
async fn pod_of(client: &Client, component: &str) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let selector =
        format!("app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}");
    let mut list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .expect("list pods")
        .items;
    list.retain(|p| p.metadata.deletion_timestamp.is_none());
    list.sort_by_key(ResourceExt::name_any);
    list.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {component} pod"))
}

/// The container environment the kubelet gives `pod`: `envFrom` ConfigMaps first, then `env`
/// (values and the pod's own fields), then the `kubernetes` Service variables, `HOSTNAME`, and
/// the image's `PATH`. Anything the chart might use that this does not resolve fails the test.
async fn pod_env(client: &Client, pod: &Pod) -> BTreeMap<String, String> {
    let container = &pod.spec.as_ref().expect("spec").containers[0];
    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), IMAGE_PATH.to_string());
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    for source in container.env_from.iter().flatten() {
        let name = &source
            .config_map_ref
            .as_ref()
            .unwrap_or_else(|| panic!("envFrom other than a ConfigMap: {source:?}"))
            .name;
        let cm = config_maps.get(name).await.expect("envFrom ConfigMap");
        env.extend(cm.data.unwrap_or_default());
    }
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), None) => v.clone(),
            (None, Some(from)) => {
                let field = from
                    .field_ref
                    .as_ref()
                    .unwrap_or_else(|| panic!("valueFrom other than a field: {var:?}"));
                match field.field_path.as_str() {
                    "metadata.name" => pod.name_any(),
                    "metadata.namespace" => pod.namespace().unwrap_or_default(),
                    other => panic!("unresolved field {other}"),
                }
            }
            _ => String::new(),
        };
        env.insert(var.name.clone(), value);
    }
    let port = shared()
        .info()
        .server
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .expect("the API server URL has a port");
    env.insert("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into());
    env.insert("KUBERNETES_SERVICE_PORT".into(), port.clone());
    env.insert("KUBERNETES_SERVICE_PORT_HTTPS".into(), port);
    env.insert("HOSTNAME".into(), pod.name_any());
    env
}

/// A service-account token the way the kubelet gets one: a TokenRequest bound to the pod.
async fn pod_token(client: &Client, pod: &Pod) -> String {
    let sa = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .expect("service account");
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod.name_any()),
                uid: pod.uid(),
            }),
        },
        ..Default::default()
    };
    api.create_token_request(&sa, &PostParams::default(), &request)
        .await
        .expect("TokenRequest")
        .status
        .expect("token status")
        .token
}

/// A process started like the container of a pod; stopped with SIGTERM when dropped.
struct PodProcess {
    name: &'static str,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl PodProcess {
    /// Starts the binary with `args` and exactly `env`, the token, CA and namespace at the
    /// service-account path of a private mount namespace, a tmpfs `/tmp`, as user 65532 (when
    /// this test runs as root; else as the mapped root of a user namespace) with no
    /// capabilities and `no_new_privs`.
    fn start(
        name: &'static str,
        args: &[String],
        env: &BTreeMap<String, String>,
        token: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let sa = dir.path().join("serviceaccount");
        std::fs::create_dir(&sa).expect("mkdir");
        std::fs::write(sa.join("token"), token).expect("token");
        std::fs::copy(shared().info().ca_path(), sa.join("ca.crt")).expect("ca");
        std::fs::write(sa.join("namespace"), NAMESPACE).expect("namespace");
        let home = dir.path().join("home");
        std::fs::create_dir(&home).expect("home");
        let log = dir.path().join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log");
        let err = out.try_clone().expect("log");
        let root = effective_uid() == Some(0);
        // Mount a tmpfs over /run (so /var/run/secrets/… can exist without touching this
        // machine), copy the files there, bind the binary's folder at /run/bin (a checkout
        // under /tmp would vanish under the next mount), give /tmp a tmpfs, then drop to the
        // pod's user.
        let script = format!(
            "set -e; mount -t tmpfs -o mode=0755 tmpfs /run; mkdir -p {SA_DIR}; \
             cp \"$0\"/* {SA_DIR}/; chmod 0644 {SA_DIR}/*; \
             mkdir /run/bin; mount --bind \"$1\" /run/bin; shift; \
             mount -t tmpfs -o mode=1777 tmpfs /tmp; exec \"$@\""
        );
        let binary = Path::new(env!("CARGO_BIN_EXE_kubeairunway"));
        let (bin_dir, bin_name) = (
            binary.parent().expect("the binary's folder"),
            binary.file_name().expect("the binary's name"),
        );
        let mut cmd = Command::new("unshare");
        if !root {
            cmd.args(["--user", "--map-root-user"]);
        }
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .arg(&sa)
        .arg(bin_dir)
        .arg("setpriv");
        if root {
            cmd.args([
                format!("--reuid={POD_USER}"),
                format!("--regid={POD_USER}"),
                "--clear-groups".into(),
            ]);
        }
        cmd.args([
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--pdeathsig=KILL",
            "--",
        ])
        .arg(Path::new("/run/bin").join(bin_name))
        .args(args)
        .env_clear()
        .envs(env)
        .env("HOME", &home)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("starting {name} with unshare and setpriv (util-linux): {e}")
        });
        let this = Self {
            name,
            child,
            log,
            _dir: dir,
        };
        if root {
            // Give the directory to the pod's user so it may read HOME like its own.
            let _ = Command::new("chown").arg(POD_USER).arg(&home).status();
        }
        this
    }

    /// The end of the process's log.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Fails with the log when the process has exited.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited with {status}:\n{}", self.name, self.tail());
        }
    }

    /// SIGTERM, then waits up to 15 s (SIGKILL after).
    fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        for _ in 0..150 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PodProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// This process's effective user id (from `/proc/self/status`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The container args of a pod.
fn args_of(pod: &Pod) -> Vec<String> {
    let c = &pod.spec.as_ref().expect("spec").containers[0];
    assert!(
        c.command.is_none(),
        "the chart relies on the image's entrypoint"
    );
    c.args.clone().unwrap_or_default()
}

async fn http_get(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// Waits until `url` answers 200.
async fn wait_ok(http: &reqwest::Client, url: &str, process: &mut PodProcess) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        process.check_alive();
        let (code, body) = http_get(http, url, None).await;
        if code == 200 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} answered {code} {body} for 60 s:\n{}",
            process.tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One request an identity made, as the audit log tells it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Request {
    user: String,
    /// The pod the token is bound to (the processes of the scenario use pod-bound tokens, as
    /// the kubelet mounts them; other tests' tokens are bound to nothing).
    pod: String,
    verb: String,
    group: String,
    /// `resource` or `resource/subresource`; the request URI for non-resource requests.
    resource: String,
    namespace: String,
    name: String,
    code: i64,
    reason: String,
}

/// Every request of the chart's identities with a token bound to one of the release's pods
/// (what the processes started as those pods did) in the audit log.
fn audited_requests() -> Vec<Request> {
    let path = shared().info().audit_log_path();
    let file = std::fs::File::open(&path).expect("audit log");
    let users = [sa_user(SERVER_SA), sa_user(CONTROLLER_SA)];
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { continue };
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let user = event["user"]["username"].as_str().unwrap_or_default();
        let pod = event["user"]["extra"]["authentication.kubernetes.io/pod-name"][0]
            .as_str()
            .unwrap_or_default();
        if !users.iter().any(|u| u == user) || pod.is_empty() {
            continue;
        }
        let obj = &event["objectRef"];
        let resource = match (obj["resource"].as_str(), obj["subresource"].as_str()) {
            (Some(r), Some(s)) => format!("{r}/{s}"),
            (Some(r), None) => r.to_string(),
            _ => event["requestURI"].as_str().unwrap_or_default().to_string(),
        };
        out.push(Request {
            user: user.to_string(),
            pod: pod.to_string(),
            verb: event["verb"].as_str().unwrap_or_default().to_string(),
            group: obj["apiGroup"].as_str().unwrap_or_default().to_string(),
            resource,
            namespace: obj["namespace"].as_str().unwrap_or_default().to_string(),
            name: obj["name"].as_str().unwrap_or_default().to_string(),
            code: event["responseStatus"]["code"].as_i64().unwrap_or(0),
            reason: event["annotations"]["authorization.k8s.io/reason"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    out
}

fn sa_user(sa: &str) -> String {
    format!("system:serviceaccount:{NAMESPACE}:{sa}")
}

/// The rules of a ServiceAccount's bindings in the installed release: cluster-wide, and per
/// namespace (Roles).
struct Granted {
    cluster: Vec<PolicyRule>,
    namespaced: Vec<(String, Vec<PolicyRule>)>,
    /// Names of the chart's bindings of this identity (the authorizer names one in each
    /// allowed request's audit annotation).
    bindings: Vec<String>,
}

async fn granted(client: &Client, release: &Installed, sa: &str) -> Granted {
    let mut g = Granted {
        cluster: Vec::new(),
        namespaced: Vec::new(),
        bindings: Vec::new(),
    };
    let binds_sa = |o: &Value| {
        o["subjects"].as_array().into_iter().flatten().any(|s| {
            s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == NAMESPACE
        })
    };
    for binding in release.objects.iter().filter(|o| binds_sa(o)) {
        let role = binding["roleRef"]["name"].as_str().expect("roleRef");
        let kind = binding["kind"].as_str().expect("kind");
        let name = binding["metadata"]["name"].as_str().unwrap_or_default();
        // As the authorizer names them: `ClusterRoleBinding "name"`, `RoleBinding "name/ns"`.
        g.bindings.push(match kind {
            "RoleBinding" => format!("{kind} \"{name}/{NAMESPACE}\""),
            _ => format!("{kind} \"{name}\""),
        });
        // The rules as the cluster stores them (what the authorizer uses).
        if binding["roleRef"]["kind"] == "ClusterRole" {
            let cr: Api<ClusterRole> = Api::all(client.clone());
            let rules = cr
                .get(role)
                .await
                .expect("ClusterRole")
                .rules
                .unwrap_or_default();
            if kind == "ClusterRoleBinding" {
                g.cluster.extend(rules);
            } else {
                g.namespaced.push((NAMESPACE.into(), rules));
            }
        } else {
            let r: Api<Role> = Api::namespaced(client.clone(), NAMESPACE);
            let rules = r.get(role).await.expect("Role").rules.unwrap_or_default();
            g.namespaced.push((NAMESPACE.into(), rules));
        }
    }
    g
}

fn rule_allows(rule: &PolicyRule, r: &Request) -> bool {
    let any =
        |list: &Option<Vec<String>>, v: &str| list.iter().flatten().any(|x| x == "*" || x == v);
    any(&rule.api_groups, &r.group)
        && any(&rule.resources, &r.resource)
        && rule.verbs.iter().any(|v| v == "*" || *v == r.verb)
        && match &rule.resource_names {
            Some(names) if !names.is_empty() => names.contains(&r.name),
            _ => true,
        }
}

impl Granted {
    fn allows(&self, r: &Request) -> bool {
        self.cluster.iter().any(|rule| rule_allows(rule, r))
            || self.namespaced.iter().any(|(ns, rules)| {
                *ns == r.namespace && rules.iter().any(|rule| rule_allows(rule, r))
            })
    }

    /// Every (group, resource, name, verb) granted.
    fn grants(&self) -> BTreeSet<support::Grant> {
        let mut all = support::grants(&self.cluster);
        for (_, rules) in &self.namespaced {
            all.extend(support::grants(rules));
        }
        all
    }
}

/// Whether a request used `grant`. A server-side apply that creates its object is audited as a
/// `patch` answered 201; the API server checks `create` for it as well (and refuses it
/// without), so such a request uses the `create` grant too.
fn grant_used(grant: &support::Grant, requests: &[Request]) -> bool {
    let (group, resource, name, verb) = grant;
    requests.iter().any(|r| {
        let verb_used = r.verb == *verb || (verb == "create" && r.verb == "patch" && r.code == 201);
        r.group == *group
            && r.resource == *resource
            && verb_used
            && (name == "*" || r.name == *name)
            && r.code < 400
    })
}

/// A ModelDeployment from `docs/examples/demo/<file>` in `namespace`.
fn demo(file: &str, namespace: &str) -> ModelDeployment {
    let path = support::root().join("docs/examples/demo").join(file);
    let mut md: ModelDeployment =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("example")).expect("parses");
    md.metadata.namespace = Some(namespace.to_string());
    md
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binaries_with_the_pods_environment_reconcile_and_serve_with_auth_and_use_only_what_the_chart_grants()
 {
    let release = installed();
    let cp = shared();
    let client = admin().await;
    install_upstream_crds(&client).await.expect("upstream CRDs");

    // The controller, as the first controller pod.
    let pod = pod_of(&client, "controller").await;
    let env = pod_env(&client, &pod).await;
    assert_eq!(
        env.get("POD_NAMESPACE").map(String::as_str),
        Some(NAMESPACE)
    );
    assert!(!env.contains_key("KUBECONFIG"));
    let token = pod_token(&client, &pod).await;
    let mut controller = PodProcess::start("controller", &args_of(&pod), &env, &token);

    // The server, as the server pod.
    let pod = pod_of(&client, "server").await;
    let env = pod_env(&client, &pod).await;
    assert_eq!(env.get("AUTH_ENABLED").map(String::as_str), Some("true"));
    assert_eq!(env.get("HOST").map(String::as_str), Some("0.0.0.0"));
    let token = pod_token(&client, &pod).await;
    let mut server = PodProcess::start("server", &args_of(&pod), &env, &token);

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("http client");
    let base = format!("http://127.0.0.1:{}", release.server_port);
    let metrics = format!("http://127.0.0.1:{}", release.metrics_port);
    wait_ok(&http, &format!("{base}/api/health/ready"), &mut server).await;
    wait_ok(&http, &format!("{metrics}/readyz"), &mut controller).await;
    let (_, body) = http_get(&http, &format!("{metrics}/readyz"), None).await;
    assert_eq!(body, "ok", "the only controller replica leads");

    // The API with auth on: no token, no answer; a viewer reads; alice creates in team-a.
    let users = &cp.info().users;
    let (code, _) = http_get(&http, &format!("{base}/api/deployments"), None).await;
    assert_eq!(code, 401);
    let (code, body) = http_get(
        &http,
        &format!("{base}/api/auth/whoami"),
        Some(&users.team_a),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"alice\""), "{body}");
    let create = json!({
        "name": "chart-qwen", "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm",
        "namespace": User::TEAM_NAMESPACE, "provider": "kubernetes", "resources": { "gpu": 1 },
    });
    let post = |token: &str| {
        http.post(format!("{base}/api/deployments"))
            .bearer_auth(token)
            .json(&create)
            .send()
    };
    let refused = post(&users.viewer).await.expect("POST");
    assert_eq!(refused.status().as_u16(), 403, "a viewer may not create");
    let created = post(&users.team_a).await.expect("POST");
    assert_eq!(
        created.status().as_u16(),
        201,
        "{}",
        created.text().await.unwrap_or_default()
    );
    let detail = format!(
        "{base}/api/deployments/chart-qwen?namespace={}",
        User::TEAM_NAMESPACE
    );
    let running = wait_until("chart-qwen to run", Duration::from_secs(90), || {
        let (http, url, token) = (http.clone(), detail.clone(), users.team_a.clone());
        async move {
            let (code, body) = http_get(&http, &url, Some(&token)).await;
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            Ok((
                (code == 200 && v["phase"] == "Running").then_some(v),
                format!("{code} {body}"),
            ))
        }
    })
    .await;
    if let Err(e) = running {
        panic!(
            "{e}\ncontroller:\n{}\nserver:\n{}",
            controller.tail(),
            server.tail()
        );
    }
    let (code, body) = http_get(
        &http,
        &format!("{base}/api/deployments"),
        Some(&users.viewer),
    )
    .await;
    assert!(code == 200 && body.contains("chart-qwen"), "{code} {body}");
    // The create was recorded (an Event the server's identity wrote) and is listed back (a
    // labelled list under that identity) naming alice.
    let (code, body) = http_get(
        &http,
        &format!(
            "{base}/api/activity?namespace={}&deployment=chart-qwen&action=Create",
            User::TEAM_NAMESPACE
        ),
        Some(&users.team_a),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert!(
        code == 200
            && v["items"].as_array().is_some_and(|items| items
                .iter()
                .any(|i| i["user"] == "alice" && i["outcome"] == "succeeded")),
        "{code} {body}"
    );

    // One deployment per upstream provider (their CRDs are installed; no operator runs, so
    // they stay Deploying): the controller applies, lists and, on deletion, removes their
    // objects.
    let ns = cp
        .namespace("chart-providers")
        .await
        .expect("namespace")
        .name;
    let mds: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    // KAITO twice: as a Workspace and, with `resourceType: inferenceset`, as an InferenceSet.
    let upstream = [
        (
            "kaito.yaml",
            None,
            "kaito.sh",
            "v1beta1",
            "Workspace",
            "workspaces",
        ),
        (
            "kaito.yaml",
            Some("inferenceset"),
            "kaito.sh",
            "v1alpha1",
            "InferenceSet",
            "inferencesets",
        ),
        (
            "dynamo.yaml",
            None,
            "nvidia.com",
            "v1alpha1",
            "DynamoGraphDeployment",
            "dynamographdeployments",
        ),
        (
            "kuberay.yaml",
            None,
            "ray.io",
            "v1",
            "RayService",
            "rayservices",
        ),
    ];
    for (file, resource_type, group, version, kind, plural) in upstream {
        let mut md = demo(file, &ns);
        if let Some(resource_type) = resource_type {
            md.metadata.name = Some(format!("{}-{resource_type}", md.name_any()));
            if let Some(provider) = md.spec.provider.as_mut() {
                provider.overrides = Some(json!({ "resourceType": resource_type }));
            }
        }
        let name = md.name_any();
        mds.create(&PostParams::default(), &md)
            .await
            .expect("create");
        let ar =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let objects: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
        let label = format!("{}={name}", kubeairunway_api::labels::DEPLOYMENT);
        let applied = wait_until(
            &format!("{kind} of {name}"),
            Duration::from_secs(60),
            || {
                let objects = objects.clone();
                let lp = ListParams::default().labels(&label);
                async move {
                    Ok(match objects.list(&lp).await {
                        Ok(list) if !list.items.is_empty() => (Some(()), String::new()),
                        Ok(_) => (None, "none yet".to_string()),
                        Err(e) => (None, e.to_string()),
                    })
                }
            },
        )
        .await;
        if let Err(e) = applied {
            panic!("{e}\ncontroller:\n{}", controller.tail());
        }
    }
    // Deleting runs every provider's clean-up (delete its objects, then the finalizer).
    mds.delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("delete");
    let response = http
        .delete(&detail)
        .bearer_auth(&users.team_a)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status().as_u16(), 200);
    let team: Api<ModelDeployment> = Api::namespaced(client.clone(), User::TEAM_NAMESPACE);
    let gone = wait_until(
        "every deployment to be cleaned up",
        Duration::from_secs(60),
        || {
            let (mds, team) = (mds.clone(), team.clone());
            async move {
                let here = mds
                    .list(&ListParams::default())
                    .await
                    .map(|l| l.items.len());
                let there = team
                    .get_opt("chart-qwen")
                    .await
                    .map(|o| usize::from(o.is_some()));
                Ok(match (here, there) {
                    (Ok(0), Ok(0)) => (Some(()), String::new()),
                    (Ok(a), Ok(b)) => (None, format!("{} left", a + b)),
                    (Err(e), _) | (_, Err(e)) => (None, e.to_string()),
                })
            }
        },
    )
    .await;
    if let Err(e) = gone {
        panic!("{e}\ncontroller:\n{}", controller.tail());
    }

    // The Lease was renewed at least once (every 5 s) before the controller stops.
    let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    let renewed = wait_until(
        "the leader Lease to be renewed",
        Duration::from_secs(20),
        || async {
            let used = audited_requests().iter().any(|r| {
                r.user == sa_user(CONTROLLER_SA) && r.resource == "leases" && r.verb == "update"
            });
            Ok((used.then_some(()), String::new()))
        },
    )
    .await;
    renewed.expect("lease renewal");
    controller.check_alive();
    server.check_alive();
    controller.stop();
    server.stop();
    let lease = leases.get("kubeairunway-controller").await.expect("lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity),
        None,
        "the controller gives the Lease up when it stops"
    );

    // What the identities did, against what the chart grants.
    let requests = audited_requests();
    let mut problems = Vec::new();
    for sa in [SERVER_SA, CONTROLLER_SA] {
        let user = sa_user(sa);
        let mine: Vec<Request> = requests
            .iter()
            .filter(|r| r.user == user)
            .cloned()
            .collect();
        assert!(
            !mine.is_empty(),
            "{sa} made no requests: is the audit policy in testenv current?"
        );
        let granted = granted(&client, release, sa).await;
        let resource_requests: Vec<&Request> = mine
            .iter()
            .filter(|r| !r.resource.starts_with('/'))
            .collect();
        for r in &mine {
            if r.code == 403 {
                problems.push(format!("{sa} was refused: {r:?}"));
            }
        }
        for r in &resource_requests {
            if r.code != 403 && !granted.allows(r) {
                problems.push(format!(
                    "{sa} did something the chart does not grant (allowed by {}): {r:?}",
                    r.reason
                ));
            }
            if r.code != 403
                && !granted
                    .bindings
                    .iter()
                    .any(|b| r.reason.contains(b.as_str()))
            {
                problems.push(format!(
                    "{sa}'s request was allowed by something else than the chart ({}): {r:?}",
                    r.reason
                ));
            }
        }
        for grant in granted.grants() {
            let excused = UNUSED_BY_DESIGN.iter().any(|(who, g, res, verb, _)| {
                *who == sa && *g == grant.0 && *res == grant.1 && *verb == grant.3
            });
            if !grant_used(&grant, &mine) && !excused {
                problems.push(format!("{sa} is granted {grant:?} but never used it"));
            }
            if grant_used(&grant, &mine) && excused {
                problems.push(format!(
                    "{sa} used {grant:?}, listed in UNUSED_BY_DESIGN: remove it there"
                ));
            }
        }
        let distinct: BTreeSet<(String, String, String)> = resource_requests
            .iter()
            .map(|r| (r.verb.clone(), r.group.clone(), r.resource.clone()))
            .collect();
        eprintln!(
            "{sa} used {} distinct (verb, group, resource): {distinct:?}",
            distinct.len()
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A client acting with the token of a fresh TokenRequest for `sa`.
async fn sa_client(client: &Client, sa: &str) -> Client {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let token = api
        .create_token_request(sa, &PostParams::default(), &TokenRequest::default())
        .await
        .expect("TokenRequest")
        .status
        .expect("status")
        .token;
    let access =
        KubeAccess::new(shared().config(User::Admin).await.expect("config"), "sa").expect("access");
    access.client_for_token(&token).expect("client")
}

fn allowed<T>(what: &str, result: Result<T, kube::Error>) -> Option<String> {
    result
        .err()
        .map(|e| format!("{what}: expected success, got {e:?}"))
}

/// `call` again while the API server answers 429 (a resource's storage (re)initializing, as it
/// does for a while after a CRD is created or changed); it asks clients to come back later, and
/// what is checked here is authorization, not that moment.
async fn unless_busy<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match call().await {
            Err(kube::Error::Api(s)) if s.code == 429 && std::time::Instant::now() < deadline => {
                let secs = s.details.map_or(1, |d| d.retry_after_seconds.max(1));
                tokio::time::sleep(Duration::from_secs(u64::from(secs))).await;
            }
            other => return other,
        }
    }
}

fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) -> Option<String> {
    match result {
        Err(kube::Error::Api(s)) if s.code == 403 => None,
        other => Some(format!("{what}: expected 403, got {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chart_identities_are_refused_what_they_do_not_need() {
    let _ = installed();
    let client = admin().await;
    let dry = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    let mut problems = Vec::new();
    let md = demo("kubernetes.yaml", User::TEAM_NAMESPACE);
    let post_dry = PostParams {
        dry_run: true,
        ..Default::default()
    };

    let controller = sa_client(&client, CONTROLLER_SA).await;
    let namespaces: Api<Namespace> = Api::all(controller.clone());
    problems.extend(forbidden(
        "controller deletes a namespace",
        namespaces.delete(User::TEAM_NAMESPACE, &dry).await,
    ));
    let secrets: Api<Secret> = Api::namespaced(controller.clone(), NAMESPACE);
    problems.extend(forbidden(
        "controller lists Secrets",
        secrets.list(&ListParams::default()).await,
    ));
    let all_secrets: Api<Secret> = Api::all(controller.clone());
    problems.extend(forbidden(
        "controller lists Secrets cluster-wide",
        all_secrets.list(&ListParams::default()).await,
    ));
    let mds: Api<ModelDeployment> = Api::namespaced(controller.clone(), User::TEAM_NAMESPACE);
    problems.extend(forbidden(
        "controller creates a ModelDeployment",
        mds.create(&post_dry, &md).await,
    ));
    let crbs: Api<ClusterRoleBinding> = Api::all(controller.clone());
    problems.extend(forbidden(
        "controller lists ClusterRoleBindings",
        crbs.list(&ListParams::default()).await,
    ));
    let leases: Api<Lease> = Api::namespaced(controller.clone(), NAMESPACE);
    problems.extend(forbidden(
        "controller reads another Lease",
        leases.get("someone-else").await,
    ));
    let other_leases: Api<Lease> = Api::namespaced(controller.clone(), "default");
    problems.extend(forbidden(
        "controller reads Leases elsewhere",
        other_leases.get("kubeairunway-controller").await,
    ));
    // What it does need works with the same client.
    problems.extend(allowed(
        "controller lists ModelDeployments",
        unless_busy(|| async {
            Api::<ModelDeployment>::all(controller.clone())
                .list(&ListParams::default())
                .await
        })
        .await,
    ));

    let server = sa_client(&client, SERVER_SA).await;
    let mds: Api<ModelDeployment> = Api::namespaced(server.clone(), User::TEAM_NAMESPACE);
    problems.extend(forbidden(
        "server creates a ModelDeployment as itself",
        mds.create(&post_dry, &md).await,
    ));
    problems.extend(forbidden(
        "server reads one ModelDeployment",
        mds.get("anything").await,
    ));
    let secrets: Api<Secret> = Api::all(server.clone());
    problems.extend(forbidden(
        "server lists Secrets",
        secrets.list(&ListParams::default()).await,
    ));
    let pods: Api<Pod> = Api::namespaced(server.clone(), NAMESPACE);
    problems.extend(forbidden(
        "server deletes a pod",
        pods.delete("anything", &dry).await,
    ));
    problems.extend(forbidden(
        "server reads pod logs",
        pods.logs("anything", &Default::default()).await,
    ));
    let config_maps: Api<ConfigMap> = Api::namespaced(server.clone(), NAMESPACE);
    problems.extend(forbidden(
        "server reads another ConfigMap",
        config_maps.get("kube-root-ca.crt").await,
    ));
    problems.extend(forbidden(
        "server lists every ConfigMap",
        config_maps.list(&ListParams::default()).await,
    ));
    problems.extend(allowed(
        "server lists Nodes",
        unless_busy(|| async {
            Api::<Node>::all(server.clone())
                .list(&ListParams::default())
                .await
        })
        .await,
    ));

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
