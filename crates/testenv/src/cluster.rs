//! Starting, describing and stopping one local control plane.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::{Deserialize, Serialize};

use crate::bins::Binaries;
use crate::egress::{self, Dial, EgressProxy};
use crate::nodes::{KWOK_NODE_ANNOTATION, NodePools};
pub use crate::process::Lifetime;
use crate::process::{Component, LogMode, free_ports, terminate_pid};
use crate::users::{User, Users};
use crate::wait::wait_until;
use crate::{Error, Result, kubeconfig, pki};

const FIELD_MANAGER: &str = "kubeairunway-testenv";
/// Label that hands a pod to a scripted life in [`SCRIPTED_POD_STAGES`] instead of KWOK's
/// default one (ready at once): `slow-start`, `pull-backoff`, `crash-loop` or `oom`.
pub const SCRIPT_LABEL: &str = "kwok.kubeairunway.ai/script";
/// KWOK stages of the scripted pod lives (the progress timeline's tests).
const SCRIPTED_POD_STAGES: &str = include_str!("../stages/progress.yaml");
/// What the API server writes to the audit log (`logs/audit.log`): who changed KubeAIRunway
/// objects and the settings ConfigMap, and who read pod logs or proxied to a pod (`pods/proxy`,
/// e.g. a metrics scrape), so tests can prove that a request
/// ran as the person who made it; and every request of the service accounts of the namespace
/// `kubeairunway-system` (where the Helm chart installs KubeAIRunway), with the authorizer's
/// decision, so a test can compare what the chart's identities did with what the chart grants.
const AUDIT_POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts:kubeairunway-system"]
  - level: Metadata
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
    resources:
      - group: "kubeairunway.ai"
        resources: ["modeldeployments", "modeldeployments/scale"]
      - group: ""
        resources: ["configmaps"]
  - level: Metadata
    verbs: ["get"]
    resources:
      - group: ""
        resources: ["pods/log"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["pods/proxy"]
  - level: Metadata
    verbs: ["create", "update", "patch", "delete"]
    namespaces: ["kubeairunway-system"]
    resources:
      - group: "apps"
        resources: ["deployments"]
      - group: ""
        resources: ["services"]
  - level: None
"#;
/// Name of the egress proxy's socket in the state directory (see [`crate::egress`]).
const EGRESS_SOCKET: &str = "egress.sock";
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// What to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// Holds certificates, etcd data, logs, the kubeconfig and `cluster.json`.
    pub state_dir: PathBuf,
    /// Where the binaries are.
    pub binaries: Binaries,
    /// Simulated nodes.
    pub nodes: NodePools,
    /// Whether the processes outlive the caller.
    pub lifetime: Lifetime,
}

/// Everything a client needs to use a running control plane; saved as `cluster.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// API server URL (`https://127.0.0.1:<port>`).
    pub server: String,
    /// State directory.
    pub state_dir: PathBuf,
    /// Directory of the binaries (kubectl, helm, …).
    pub bin_dir: PathBuf,
    /// Bearer tokens of the test users.
    pub users: Users,
    /// Process ids by component, for `dev down`.
    pub pids: Vec<(String, u32)>,
}

impl ClusterInfo {
    /// Reads `cluster.json` from a state directory.
    pub fn load(state_dir: &Path) -> Result<Self> {
        let path = state_dir.join("cluster.json");
        let text = std::fs::read_to_string(&path).map_err(|_| {
            Error::State(format!(
                "no local cluster state at {}; start one with `kubeairunway dev up`",
                state_dir.display()
            ))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::State(format!("{} is corrupt: {e}", path.display())))
    }

    /// Writes `cluster.json` (after adding processes to `pids`).
    pub fn save(&self) -> Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::State(e.to_string()))?;
        write(&self.state_dir.join("cluster.json"), &json)
    }

    /// The kubeconfig with a context per test user (`admin` current).
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.state_dir.join("kubeconfig")
    }

    /// The API server's audit log (JSON lines, `audit.k8s.io/v1` events): writes of
    /// ModelDeployments and ConfigMaps, of Deployments and Services in `kubeairunway-system`
    /// (the AIKit build infrastructure), pod-log reads and pod-proxy requests, each with the
    /// user who made them.
    pub fn audit_log_path(&self) -> PathBuf {
        self.state_dir.join("logs/audit.log")
    }

    /// The Unix socket of the HTTP CONNECT proxy through which the API server reaches the
    /// cluster (kubelets, pods, services, webhooks): its egress selection `cluster`
    /// ([`crate::egress`]).
    pub fn egress_socket_path(&self) -> PathBuf {
        self.state_dir.join(EGRESS_SOCKET)
    }

    /// The CA that signed the API server's certificate.
    pub fn ca_path(&self) -> PathBuf {
        self.state_dir.join("pki/ca.crt")
    }

    /// A client acting as `user`.
    pub async fn client(&self, user: User) -> Result<Client> {
        let config = self.config(user).await?;
        Client::try_from(config).map_err(Error::kube(format!(
            "building a client for {}",
            user.name()
        )))
    }

    /// The client configuration of `user` (for code that builds its own clients).
    pub async fn config(&self, user: User) -> Result<Config> {
        let kubeconfig = Kubeconfig::read_from(self.kubeconfig_path())?;
        let options = KubeConfigOptions {
            context: Some(user.context().to_string()),
            ..Default::default()
        };
        Ok(Config::from_custom_kubeconfig(kubeconfig, &options).await?)
    }

    /// True when every recorded process is still running.
    pub fn is_running(&self) -> bool {
        !self.pids.is_empty()
            && self.pids.iter().all(|(name, pid)| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(name.as_str()))
            })
    }
}

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlane {
    info: ClusterInfo,
    components: Mutex<Vec<Component>>,
    lifetime: Lifetime,
    /// How the API server was started, to start it again after [`ControlPlane::stop_apiserver`]
    /// (and to start a second one, [`ControlPlane::start_second_apiserver`]).
    apiserver: Option<Launch>,
    /// How etcd was started, to start it again after [`ControlPlane::stop_etcd`].
    etcd: Option<Launch>,
    /// etcd's client URL (its `/health` tells when it serves again).
    etcd_url: String,
    /// The API server's egress proxy, when this process serves it ([`Lifetime::TiedToProcess`]).
    egress: Mutex<Option<EgressProxy>>,
    /// How long start-up took.
    pub startup: Duration,
}

/// The command line of one component.
#[derive(Clone, Debug)]
struct Launch {
    bin: PathBuf,
    args: Vec<String>,
}

/// Name of the API server component (its log file is `logs/kube-apiserver.log`).
const APISERVER: &str = "kube-apiserver";
/// Name of the second API server ([`ControlPlane::start_second_apiserver`]).
const SECOND_APISERVER: &str = "kube-apiserver-2";
/// Name of the etcd component.
const ETCD: &str = "etcd";

impl ControlPlane {
    /// Starts etcd, the API server, the controller-manager, the scheduler and KWOK, creates the
    /// test users' RBAC and the simulated nodes, and waits until the nodes are Ready and the
    /// controller-manager has created the default service account.
    ///
    /// The API server reaches the cluster through the egress proxy on
    /// [`ClusterInfo::egress_socket_path`] ([`crate::egress`]). With
    /// [`Lifetime::TiedToProcess`] this process serves it; a [`Lifetime::Detached`] cluster
    /// outlives this process, so its starter must serve it from a process that lives as long as
    /// the cluster ([`crate::egress::serve`]; `kubeairunway dev up` starts `dev egress`), or pod
    /// logs and the pod proxy fail.
    pub async fn start(options: Options) -> Result<Self> {
        let started = Instant::now();
        let Options {
            state_dir,
            binaries,
            nodes,
            lifetime,
        } = options;
        let mut cp = ControlPlane::prepare(&state_dir, &binaries, lifetime)?;
        let result = cp.boot(&binaries, &nodes, lifetime).await;
        if let Err(e) = result {
            cp.stop();
            return Err(e);
        }
        cp.startup = started.elapsed();
        let json =
            serde_json::to_string_pretty(&cp.info).map_err(|e| Error::State(e.to_string()))?;
        write(&state_dir.join("cluster.json"), &json)?;
        Ok(cp)
    }

    fn prepare(state_dir: &Path, binaries: &Binaries, lifetime: Lifetime) -> Result<Self> {
        for tool in Binaries::TOOLS {
            binaries.tool(tool)?;
        }
        for dir in ["pki", "logs", "etcd", crate::pod_logs::DIR] {
            std::fs::create_dir_all(state_dir.join(dir))
                .map_err(Error::io(format!("creating {}", state_dir.display())))?;
        }
        let state_dir =
            std::fs::canonicalize(state_dir).map_err(Error::io("resolving the state directory"))?;
        let pki = pki::generate()?;
        for (file, pem) in [
            ("ca.crt", &pki.ca_cert),
            ("ca.key", &pki.ca_key),
            ("serving.crt", &pki.serving_cert),
            ("serving.key", &pki.serving_key),
            ("kubelet.crt", &pki.kubelet_cert),
            ("kubelet.key", &pki.kubelet_key),
            ("kubelet-client.crt", &pki.kubelet_client_cert),
            ("kubelet-client.key", &pki.kubelet_client_key),
            ("sa.key", &pki.sa_key),
            ("sa.pub", &pki.sa_pub),
        ] {
            write(&state_dir.join("pki").join(file), pem)?;
        }
        let users = Users::generate();
        write(&state_dir.join("tokens.csv"), &users.token_file())?;
        write(&state_dir.join("audit-policy.yaml"), AUDIT_POLICY)?;
        write(
            &state_dir.join("egress-selector.yaml"),
            &egress_selector_config(&state_dir.join(EGRESS_SOCKET)),
        )?;
        let info = ClusterInfo {
            server: String::new(),
            state_dir,
            bin_dir: binaries.dir().to_path_buf(),
            users,
            pids: Vec::new(),
        };
        Ok(Self {
            info,
            components: Mutex::new(Vec::new()),
            lifetime,
            apiserver: None,
            etcd: None,
            etcd_url: String::new(),
            egress: Mutex::new(None),
            startup: Duration::ZERO,
        })
    }

    async fn boot(&mut self, bins: &Binaries, nodes: &NodePools, lifetime: Lifetime) -> Result<()> {
        let dir = self.info.state_dir.clone();
        let logs = dir.join("logs");
        let pki = dir.join("pki");
        let p = |f: &str| pki.join(f).display().to_string();
        let ports = free_ports(6)?;
        let (etcd_port, peer_port, api_port, sched_port, kcm_port, kwok_port) =
            (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]);
        self.info.server = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = self.info.kubeconfig_path();
        write(
            &kubeconfig,
            &kubeconfig::render(&self.info.server, &self.info.ca_path(), &self.info.users),
        )?;
        let kc = kubeconfig.display().to_string();

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd = Launch {
            bin: bins.tool(ETCD)?,
            args: vec![
                "--name=kubeairunway".into(),
                format!("--data-dir={}", dir.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=kubeairunway={peer_url}"),
                "--unsafe-no-fsync=true".into(),
                "--log-level=warn".into(),
            ],
        };
        self.spawn(ETCD, &etcd.bin, &logs, lifetime, etcd.args.clone())?;
        self.etcd = Some(etcd);
        self.etcd_url = etcd_url.clone();
        let http = http_client()?;
        self.wait_http(&http, "etcd health", &format!("{etcd_url}/health"))
            .await?;

        let apiserver = Launch {
            bin: bins.tool(APISERVER)?,
            args: vec![
                format!("--etcd-servers={etcd_url}"),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={api_port}"),
                "--advertise-address=127.0.0.1".into(),
                "--endpoint-reconciler-type=none".into(),
                format!("--cert-dir={}", pki.display()),
                format!("--tls-cert-file={}", p("serving.crt")),
                format!("--tls-private-key-file={}", p("serving.key")),
                format!("--client-ca-file={}", p("ca.crt")),
                format!("--token-auth-file={}", dir.join("tokens.csv").display()),
                "--authorization-mode=RBAC".into(),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                format!("--service-account-key-file={}", p("sa.pub")),
                format!("--service-account-signing-key-file={}", p("sa.key")),
                "--service-cluster-ip-range=10.96.0.0/16".into(),
                "--allow-privileged=true".into(),
                "--profiling=false".into(),
                // Pod logs: the API server fetches them from KWOK's simulated kubelets at the
                // node's InternalIP (127.0.0.1) over TLS, verifying KWOK's certificate.
                format!("--kubelet-certificate-authority={}", p("ca.crt")),
                format!("--kubelet-client-certificate={}", p("kubelet-client.crt")),
                format!("--kubelet-client-key={}", p("kubelet-client.key")),
                "--kubelet-preferred-address-types=InternalIP".into(),
                format!(
                    "--audit-policy-file={}",
                    dir.join("audit-policy.yaml").display()
                ),
                format!("--audit-log-path={}", self.info.audit_log_path().display()),
                "--audit-log-format=json".into(),
                // Everything the API server opens to the cluster (kubelets, pods, services,
                // webhooks) goes through the egress proxy on a Unix socket (crate::egress).
                format!(
                    "--egress-selector-config-file={}",
                    dir.join("egress-selector.yaml").display()
                ),
            ],
        };
        if lifetime == Lifetime::TiedToProcess {
            let proxy = EgressProxy::start(&self.info.egress_socket_path())?;
            if let Ok(mut egress) = self.egress.lock() {
                *egress = Some(proxy);
            }
        }
        self.spawn(
            APISERVER,
            &apiserver.bin,
            &logs,
            lifetime,
            apiserver.args.clone(),
        )?;
        self.apiserver = Some(apiserver);
        let admin = self.info.client(User::Admin).await?;
        self.wait_apiserver_ready(&http, &self.info.server, START_TIMEOUT)
            .await?;
        bootstrap_rbac(&admin).await?;
        crate::pod_logs::apply_crd(&admin).await?;

        let auth_args = |port: u16| -> Vec<String> {
            vec![
                format!("--kubeconfig={kc}"),
                format!("--authentication-kubeconfig={kc}"),
                format!("--authorization-kubeconfig={kc}"),
                "--leader-elect=false".into(),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={port}"),
                format!("--cert-dir={}", dir.join("pki").display()),
            ]
        };
        let mut kcm = auth_args(kcm_port);
        kcm.extend([
            format!("--root-ca-file={}", p("ca.crt")),
            format!("--service-account-private-key-file={}", p("sa.key")),
            "--use-service-account-credentials=false".into(),
            "--controllers=*".into(),
            "--kube-api-qps=1000".into(),
            "--kube-api-burst=1000".into(),
        ]);
        self.spawn(
            "kube-controller-manager",
            &bins.tool("kube-controller-manager")?,
            &logs,
            lifetime,
            kcm,
        )?;
        let mut sched = auth_args(sched_port);
        sched.extend(["--kube-api-qps=1000".into(), "--kube-api-burst=1000".into()]);
        self.spawn(
            "kube-scheduler",
            &bins.tool("kube-scheduler")?,
            &logs,
            lifetime,
            sched,
        )?;

        let stages = bins
            .kwok_stages()?
            .iter()
            .map(|f| {
                std::fs::read_to_string(f).map_err(Error::io(format!("reading {}", f.display())))
            })
            .collect::<Result<Vec<_>>>()?
            .iter()
            .map(|stage| leave_scripted_pods(stage))
            .chain(std::iter::once(SCRIPTED_POD_STAGES.to_string()))
            .collect::<Vec<_>>()
            .join("\n---\n");
        let stages_file = dir.join("kwok-stages.yaml");
        write(&stages_file, &stages)?;
        crate::pod_logs::wait_crd(&admin).await?;
        self.spawn(
            "kwok",
            &bins.tool("kwok")?,
            &logs,
            lifetime,
            vec![
                format!("--kubeconfig={kc}"),
                format!("--config={}", stages_file.display()),
                "--manage-all-nodes=false".into(),
                format!("--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake"),
                "--cidr=127.100.0.0/16".into(),
                "--node-ip=127.0.0.1".into(),
                "--node-lease-duration-seconds=40".into(),
                format!("--server-address=127.0.0.1:{kwok_port}"),
                // The simulated kubelets' endpoint (nodes advertise it; the API server calls it
                // for logs), served with a certificate of the cluster CA.
                format!("--node-port={kwok_port}"),
                format!("--tls-cert-file={}", p("kubelet.crt")),
                format!("--tls-private-key-file={}", p("kubelet.key")),
                "--enable-crds=ClusterLogs".into(),
            ],
        )?;

        self.wait_http(
            &http,
            "kube-scheduler /healthz",
            &format!("https://127.0.0.1:{sched_port}/healthz"),
        )
        .await?;
        self.wait_http(
            &http,
            "kube-controller-manager /healthz",
            &format!("https://127.0.0.1:{kcm_port}/healthz"),
        )
        .await?;
        create_nodes(&admin, nodes).await?;
        let expected = nodes.nodes()?.len();
        let node_api: Api<Node> = Api::all(admin.clone());
        wait_until("simulated nodes to become Ready", START_TIMEOUT, || {
            let api = node_api.clone();
            let alive = self.check_alive();
            async move {
                alive?;
                let list = api
                    .list(&Default::default())
                    .await
                    .map_err(Error::kube("listing nodes"))?;
                let ready = list.items.iter().filter(|n| is_node_ready(n)).count();
                let seen = format!("{ready}/{expected} Ready");
                Ok(((ready >= expected).then_some(()), seen))
            }
        })
        .await?;
        let sa: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
        wait_until(
            "the controller-manager to create the default service account",
            START_TIMEOUT,
            || {
                let sa = sa.clone();
                let alive = self.check_alive();
                async move {
                    alive?;
                    let found = sa
                        .get_opt("default")
                        .await
                        .map_err(Error::kube("reading service accounts"))?;
                    Ok((found.map(|_| ()), String::new()))
                }
            },
        )
        .await?;
        let pids = self
            .components
            .lock()
            .map(|c| c.iter().map(|c| (c.name.to_string(), c.pid())).collect())
            .unwrap_or_default();
        self.info.pids = pids;
        Ok(())
    }

    fn spawn(
        &self,
        name: &'static str,
        bin: &Path,
        logs: &Path,
        lifetime: Lifetime,
        args: Vec<String>,
    ) -> Result<()> {
        let component = Component::spawn(name, bin, &args, logs, lifetime, LogMode::Truncate)?;
        if let Ok(mut c) = self.components.lock() {
            c.push(component);
        }
        Ok(())
    }

    /// An error naming the first component that has died.
    fn check_alive(&self) -> Result<()> {
        let Ok(mut components) = self.components.lock() else {
            return Ok(());
        };
        components.iter_mut().try_for_each(Component::check_alive)
    }

    async fn wait_http(&self, http: &reqwest::Client, what: &str, url: &str) -> Result<()> {
        wait_until(what, START_TIMEOUT, || {
            let req = http.get(url);
            let alive = self.check_alive();
            async move {
                alive?;
                match req.send().await {
                    Ok(r) if r.status().is_success() => Ok((Some(()), String::new())),
                    Ok(r) => Ok((None, format!("HTTP {}", r.status()))),
                    Err(e) => Ok((None, e.to_string())),
                }
            }
        })
        .await
    }

    async fn wait_apiserver_ready(
        &self,
        http: &reqwest::Client,
        server: &str,
        timeout: Duration,
    ) -> Result<()> {
        let readyz = format!("{server}/readyz");
        let token = self.info.users.admin.clone();
        wait_until("kube-apiserver /readyz", timeout, || {
            let req = http.get(&readyz).bearer_auth(&token);
            let alive = self.check_alive();
            async move {
                alive?;
                match req.send().await {
                    Ok(r) if r.status().is_success() => Ok((Some(()), String::new())),
                    Ok(r) => Ok((None, format!("HTTP {}", r.status()))),
                    Err(e) => Ok((None, e.to_string())),
                }
            }
        })
        .await
    }

    /// Kills the API server alone (SIGKILL, like a crash; a graceful stop waits seconds for its
    /// watches), leaving etcd, the controller-manager, the scheduler and KWOK running, to test
    /// how clients behave during an API-server outage. [`ControlPlane::start_apiserver`] brings
    /// it back.
    ///
    /// Only for a control plane of one's own ([`crate::private_control_plane`]): every user of
    /// [`crate::shared`] would see the outage. The pid recorded in [`ClusterInfo::pids`] is not
    /// updated by a restart.
    pub fn stop_apiserver(&self) -> Result<()> {
        self.kill_component(APISERVER)
    }

    /// Starts the API server again with the same etcd, port, certificates and tokens, and waits
    /// until it is ready (`/readyz`). Its output is appended to the same log file.
    pub async fn start_apiserver(&self) -> Result<()> {
        let launch = self
            .apiserver
            .clone()
            .ok_or_else(|| Error::State("the API server was never started".into()))?;
        self.respawn(APISERVER, &launch)?;
        self.wait_apiserver_ready(&http_client()?, &self.info.server, START_TIMEOUT)
            .await
    }

    /// Kills etcd (SIGKILL), leaving the API server and the rest running: an etcd crash as the
    /// API server and its clients see it. [`ControlPlane::start_etcd`] brings it back with its
    /// data. Only for a control plane of one's own, like [`ControlPlane::stop_apiserver`].
    pub fn stop_etcd(&self) -> Result<()> {
        self.kill_component(ETCD)
    }

    /// Starts etcd again on the same data directory and ports, and waits until it is healthy.
    pub async fn start_etcd(&self) -> Result<()> {
        let launch = self
            .etcd
            .clone()
            .ok_or_else(|| Error::State("etcd was never started".into()))?;
        self.respawn(ETCD, &launch)?;
        self.wait_http(
            &http_client()?,
            "etcd health",
            &format!("{}/health", self.etcd_url),
        )
        .await
    }

    /// Starts a second API server on the same etcd (another port, its own audit log
    /// `logs/audit-2.log`), as in a control plane of several replicas, and returns its URL once
    /// it is ready: clients of it can change the cluster while the first one is down. It lives
    /// until [`ControlPlane::stop_second_apiserver`] or the end of the process.
    pub async fn start_second_apiserver(&self) -> Result<String> {
        let mut launch = self
            .apiserver
            .clone()
            .ok_or_else(|| Error::State("the API server was never started".into()))?;
        let port = free_ports(1)?[0];
        let audit = self.info.state_dir.join("logs").join("audit-2.log");
        for arg in &mut launch.args {
            if arg.starts_with("--secure-port=") {
                *arg = format!("--secure-port={port}");
            } else if arg.starts_with("--audit-log-path=") {
                *arg = format!("--audit-log-path={}", audit.display());
            }
        }
        self.respawn(SECOND_APISERVER, &launch)?;
        let server = format!("https://127.0.0.1:{port}");
        self.wait_apiserver_ready(&http_client()?, &server, START_TIMEOUT)
            .await?;
        Ok(server)
    }

    /// Kills the API server started by [`ControlPlane::start_second_apiserver`].
    pub fn stop_second_apiserver(&self) -> Result<()> {
        self.kill_component(SECOND_APISERVER)
    }

    /// A client of `server` (another API server of this cluster) authenticated as `user`.
    pub async fn client_of(&self, server: &str, user: User) -> Result<Client> {
        let mut config = self.config(user).await?;
        config.cluster_url = server
            .parse()
            .map_err(|e| Error::State(format!("{server} is not a URL: {e}")))?;
        Client::try_from(config).map_err(Error::kube("building a client"))
    }

    /// Removes the component `name` from the list and kills it (SIGKILL), waiting for it to exit.
    fn kill_component(&self, name: &str) -> Result<()> {
        let mut component = {
            let mut components = self
                .components
                .lock()
                .map_err(|_| Error::State("the component list is poisoned".into()))?;
            let index = components
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| Error::State(format!("{name} is not running")))?;
            components.remove(index)
        };
        // terminate_pid checks the program's command line, which names the binary.
        let program = if name == SECOND_APISERVER {
            APISERVER
        } else {
            name
        };
        terminate_pid(component.pid(), program, Duration::ZERO);
        let _ = component.child.wait();
        Ok(())
    }

    /// Starts `name` again from `launch`, appending to its log, unless it is running.
    fn respawn(&self, name: &'static str, launch: &Launch) -> Result<()> {
        let running = self
            .components
            .lock()
            .map(|c| c.iter().any(|c| c.name == name))
            .unwrap_or(false);
        if running {
            return Err(Error::State(format!("{name} is already running")));
        }
        let component = Component::spawn_from_keeper(
            name,
            &launch.bin,
            &launch.args,
            &self.info.state_dir.join("logs"),
            self.lifetime,
            LogMode::Append,
        )?;
        if let Ok(mut c) = self.components.lock() {
            c.push(component);
        }
        Ok(())
    }

    /// Connection details and tokens.
    pub fn info(&self) -> &ClusterInfo {
        &self.info
    }

    /// A client acting as `user`.
    pub async fn client(&self, user: User) -> Result<Client> {
        self.info.client(user).await
    }

    /// The client configuration of `user`.
    pub async fn config(&self, user: User) -> Result<Config> {
        self.info.config(user).await
    }

    /// The CONNECTs the API server made through the egress proxy so far (oldest first; empty
    /// for a [`Lifetime::Detached`] cluster, whose proxy runs in another process).
    pub fn egress_dials(&self) -> Vec<Dial> {
        self.egress
            .lock()
            .ok()
            .and_then(|e| e.as_ref().map(EgressProxy::dials))
            .unwrap_or_default()
    }

    /// Gives the Running pod `namespace/name` the routable twin (`10.100.a.b`) of the IP KWOK
    /// gave it (`127.100.a.b`), the way a network plugin reports a pod's address: a status
    /// write of `podIP`/`podIPs`, which KWOK leaves alone once the pod runs. The API server then
    /// proxies to the pod (it refuses loopback pod IPs) and the egress proxy delivers the
    /// connection at the loopback IP, where the test serves ([`crate::MetricsServer`]). Waits
    /// for the pod to run; calling it again returns the same addresses.
    pub async fn route_pod(&self, namespace: &str, name: &str) -> Result<RoutedPod> {
        let admin = self.client(User::Admin).await?;
        let pods: Api<Pod> = Api::namespaced(admin, namespace);
        let ip = wait_until(
            &format!("pod {namespace}/{name} to run with an IP"),
            START_TIMEOUT,
            || {
                let pods = pods.clone();
                async move {
                    let pod = pods
                        .get_opt(name)
                        .await
                        .map_err(Error::kube(format!("reading pod {namespace}/{name}")))?;
                    let status = pod.and_then(|p| p.status).unwrap_or_default();
                    let seen = format!(
                        "phase {:?}, IP {:?}",
                        status.phase.as_deref().unwrap_or("-"),
                        status.pod_ip.as_deref().unwrap_or("-")
                    );
                    let ip = status
                        .pod_ip
                        .filter(|_| status.phase.as_deref() == Some("Running"))
                        .and_then(|ip| ip.parse::<IpAddr>().ok());
                    Ok((ip, seen))
                }
            },
        )
        .await?;
        if let Some(local) = routable_to_local(ip) {
            return Ok(RoutedPod {
                routable: ip,
                local,
            });
        }
        let routable = egress::routable_ip(ip).ok_or_else(|| {
            Error::State(format!(
                "pod {namespace}/{name} has IP {ip}, not one of KWOK's 127.100.0.0/16"
            ))
        })?;
        let patch = serde_json::json!({
            "status": { "podIP": routable.to_string(), "podIPs": [{ "ip": routable.to_string() }] }
        });
        pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(Error::kube(format!("routing pod {namespace}/{name}")))?;
        Ok(RoutedPod {
            routable,
            local: ip,
        })
    }

    /// Stops every component (newest first), then the egress proxy.
    pub fn stop(&self) {
        if let Ok(mut components) = self.components.lock() {
            while let Some(mut c) = components.pop() {
                terminate_pid(c.pid(), c.name, Duration::from_secs(5));
                let _ = c.child.wait();
            }
        }
        if let Ok(mut egress) = self.egress.lock() {
            egress.take();
        }
    }
}

/// The two addresses of a pod given by [`ControlPlane::route_pod`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutedPod {
    /// Its `status.podIP` now (`10.100.a.b`), which the API server proxies to.
    pub routable: IpAddr,
    /// Where the egress proxy delivers it (`127.100.a.b`): serve the pod's ports here.
    pub local: IpAddr,
}

/// The loopback IP a routed pod IP is delivered to, if `ip` is one.
fn routable_to_local(ip: IpAddr) -> Option<IpAddr> {
    let delivered = egress::delivered_to(std::net::SocketAddr::new(ip, 0)).ip();
    (delivered != ip).then_some(delivered)
}

/// The API server's `EgressSelectorConfiguration`: the `cluster` selection (kubelets, pod,
/// service and node proxies, webhooks, aggregated APIs) through the HTTP CONNECT proxy on
/// `socket`; `controlplane` and `etcd` stay direct.
fn egress_selector_config(socket: &Path) -> String {
    format!(
        r#"apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
  - name: cluster
    connection:
      proxyProtocol: HTTPConnect
      transport:
        uds:
          udsName: {}
"#,
        serde_json::Value::String(socket.display().to_string())
    )
}

/// Stops a detached cluster started in `state_dir` and removes its state. Returns false when
/// no cluster state was there.
pub fn stop_detached(state_dir: &Path) -> Result<bool> {
    let info = match ClusterInfo::load(state_dir) {
        Ok(info) => Some(info),
        Err(_) if !state_dir.exists() => return Ok(false),
        Err(_) => None,
    };
    if let Some(info) = &info {
        for (name, pid) in info.pids.iter().rev() {
            terminate_pid(*pid, name, Duration::from_secs(10));
        }
    }
    std::fs::remove_dir_all(state_dir)
        .map_err(Error::io(format!("removing {}", state_dir.display())))?;
    Ok(true)
}

fn is_node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn create_nodes(client: &Client, pools: &NodePools) -> Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    for node in pools.nodes()? {
        let name = node.metadata.name.clone().unwrap_or_default();
        match api.create(&PostParams::default(), &node).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(Error::kube(format!("creating node {name}"))(e)),
        }
    }
    Ok(())
}

/// Bindings for the test users: the viewer group may read everything (`view`), the team-a group
/// may edit its namespace (`edit`), and the backend may run TokenReview and SubjectAccessReview.
async fn bootstrap_rbac(client: &Client) -> Result<()> {
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    let ns: Api<Namespace> = Api::all(client.clone());
    let team_ns = serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": User::TEAM_NAMESPACE }
    });
    ns.patch(User::TEAM_NAMESPACE, &apply, &Patch::Apply(&team_ns))
        .await
        .map_err(Error::kube("creating namespace team-a"))?;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    roles
        .patch(
            kubeairunway_api::rbac::BACKEND_ROLE,
            &apply,
            &Patch::Apply(&kubeairunway_api::rbac::backend_role()),
        )
        .await
        .map_err(Error::kube("creating the backend ClusterRole"))?;
    let crb: Api<ClusterRoleBinding> = Api::all(client.clone());
    for (name, role, kind, subject) in [
        (
            "kubeairunway-testenv-viewers",
            "view",
            "Group",
            User::Viewer.groups()[0],
        ),
        (
            "kubeairunway-testenv-backend-auth-delegator",
            "system:auth-delegator",
            "User",
            User::Backend.name(),
        ),
        (
            "kubeairunway-testenv-backend",
            kubeairunway_api::rbac::BACKEND_ROLE,
            "User",
            User::Backend.name(),
        ),
    ] {
        let obj = serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject }],
        });
        crb.patch(name, &apply, &Patch::Apply(&obj))
            .await
            .map_err(Error::kube(format!("creating ClusterRoleBinding {name}")))?;
    }
    let rb: Api<RoleBinding> = Api::namespaced(client.clone(), User::TEAM_NAMESPACE);
    let obj = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": { "name": "team-a-editors", "namespace": User::TEAM_NAMESPACE },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": User::TeamA.groups()[0] }],
    });
    rb.patch("team-a-editors", &apply, &Patch::Apply(&obj))
        .await
        .map_err(Error::kube("creating RoleBinding team-a-editors"))?;
    Ok(())
}

fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).map_err(Error::io(format!("writing {}", path.display())))
}

/// The HTTP client of the readiness probes (the components' certificates are the test CA's).
fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| Error::State(format!("building an HTTP client: {e}")))
}

/// KWOK's default `pod-ready` stage, made to leave pods with a [`SCRIPT_LABEL`] to their script;
/// other stages unchanged.
fn leave_scripted_pods(stage: &str) -> String {
    let selector = "  selector:\n    matchExpressions:\n";
    if !stage.contains("name: pod-ready\n") || !stage.contains(selector) {
        return stage.to_string();
    }
    stage.replacen(
        selector,
        &format!(
            "{selector}    - key: '.metadata.labels[\"{SCRIPT_LABEL}\"]'\n      operator: 'DoesNotExist'\n"
        ),
        1,
    )
}
