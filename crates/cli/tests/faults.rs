//! Faults of the real `kubeairunway controller` process, each on a control plane of its own
//! (issue 19): killed with SIGKILL in the middle of reconciling 200 ModelDeployments and started
//! again (no duplicate, no orphan, every deployment converges, also those changed or deleted
//! while it was dead), provider objects deleted by hand (recreated), and two replicas with
//! leader election (exactly one writes, the other takes over when the leader dies).
//!
//! `FAULT_ROUNDS` (default 1; `make stress-faults` raises it) repeats the kill-and-restart, each
//! round with 200 new deployments in a namespace of its own, all deleted at its end.
//! Each figure is printed as a `figure:` line; docs/reliability.md quotes them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::{ControlPlane, Error, User, private_control_plane, wait_until};
use serde_json::{Value, json};

/// Label the providers put on every object they make, naming the ModelDeployment.
const OWNER_LABEL: &str = "kubeairunway.ai/deployment";
/// Namespace of the controller's identities (the audit policy logs its service accounts).
const SYSTEM_NS: &str = "kubeairunway-system";

/// A small CPU-only deployment on the plain Kubernetes provider, so 200 of them fit the
/// simulated nodes and reach Running.
fn cpu_spec(replicas: i64) -> Value {
    json!({
        "model": { "id": "a/b-GGUF" },
        "provider": { "name": "kubernetes" },
        "engine": { "type": "llamacpp" },
        "scaling": { "replicas": replicas },
        "resources": { "gpu": { "count": 0 }, "cpu": "100m", "memory": "128Mi" },
    })
}

fn md_object(name: &str, spec: Value) -> ModelDeployment {
    serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name }, "spec": spec,
    }))
    .expect("a ModelDeployment")
}

/// A `kubeairunway controller` process; SIGKILLed when dropped.
struct ControllerProcess {
    child: Child,
    log: PathBuf,
}

impl ControllerProcess {
    /// Starts the binary with `kubeconfig` and `args` (after `controller`).
    fn start(kubeconfig: &Path, log: PathBuf, args: &[&str]) -> Self {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("controller log");
        let err = out.try_clone().expect("controller log");
        let child = Command::new(env!("CARGO_BIN_EXE_kubeairunway"))
            .arg("controller")
            .args(["--metrics-bind-address", "off"])
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "info")
            .env_remove("POD_NAMESPACE")
            .env_remove("POD_NAME")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start kubeairunway controller");
        Self { child, log }
    }

    /// SIGKILL, as the kernel's OOM killer or a node failure would; no shutdown code runs.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Fails with the end of the log when the process has exited.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the controller exited with {status}:\n{}", self.tail());
        }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A control plane of the test's own, with the CRDs installed.
async fn cluster() -> (&'static ControlPlane, Client, tempfile::TempDir) {
    let cp: &'static ControlPlane = Box::leak(Box::new(private_control_plane()));
    let admin = cp.client(User::Admin).await.expect("admin client");
    kubeairunway_api::crds::install(&admin, Duration::from_secs(60))
        .await
        .expect("CRDs");
    (cp, admin, tempfile::tempdir().expect("temp dir"))
}

/// Per ModelDeployment name: how many Deployments and Services carry its label.
async fn provider_objects(
    client: &Client,
    ns: &str,
) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    (
        counts(&per_owner(Api::<Deployment>::namespaced(client.clone(), ns)).await),
        counts(&per_owner(Api::<Service>::namespaced(client.clone(), ns)).await),
    )
}

/// How many objects each owner has.
fn counts<K>(owned: &BTreeMap<String, Vec<K>>) -> BTreeMap<String, usize> {
    owned
        .iter()
        .map(|(owner, objects)| (owner.clone(), objects.len()))
        .collect()
}

/// Per ModelDeployment name: the live (not deleting) objects of `api` that carry its label.
async fn per_owner<K>(api: Api<K>) -> BTreeMap<String, Vec<K>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut owned: BTreeMap<String, Vec<K>> = BTreeMap::new();
    let items = api
        .list(&ListParams::default().labels(OWNER_LABEL))
        .await
        .expect("list provider objects")
        .items;
    for object in items
        .into_iter()
        .filter(|o| o.meta().deletion_timestamp.is_none())
    {
        if let Some(owner) = object.labels().get(OWNER_LABEL).cloned() {
            owned.entry(owner).or_default().push(object);
        }
    }
    owned
}

/// What is wrong with the namespace's state, from the controller's point of view; empty once
/// every ModelDeployment has exactly one Deployment and one Service, scaled as its spec says,
/// reports Running for its current generation, carries one finalizer, and nothing is left of
/// the deleted ones.
async fn divergence(client: &Client, ns: &str) -> Vec<String> {
    let mds = Api::<ModelDeployment>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .expect("list ModelDeployments")
        .items;
    let deployments = per_owner(Api::<Deployment>::namespaced(client.clone(), ns)).await;
    let svcs = counts(&per_owner(Api::<Service>::namespaced(client.clone(), ns)).await);
    let deps = counts(&deployments);
    let replicas: BTreeMap<&String, i32> = deployments
        .iter()
        .filter_map(|(owner, objects)| Some((owner, objects.first()?.spec.as_ref()?.replicas?)))
        .collect();
    let names: BTreeSet<String> = mds.iter().map(ResourceExt::name_any).collect();
    let mut wrong = Vec::new();
    for md in &mds {
        let name = md.name_any();
        if md.metadata.deletion_timestamp.is_some() {
            wrong.push(format!("{name}: still being deleted"));
            continue;
        }
        for (kind, found) in [("Deployment", &deps), ("Service", &svcs)] {
            let n = found.get(&name).copied().unwrap_or(0);
            if n != 1 {
                wrong.push(format!("{name}: {n} {kind}s"));
            }
        }
        let want = Some(md.spec.scaling.replicas);
        let have = replicas.get(&name).copied();
        if want != have {
            wrong.push(format!("{name}: {have:?} replicas, spec says {want:?}"));
        }
        let status = md.status.as_ref();
        let phase = status.and_then(|s| s.phase);
        if phase != Some(kubeairunway_api::DeploymentPhase::Running) {
            wrong.push(format!("{name}: phase {phase:?}"));
        }
        let observed = status.and_then(|s| s.observed_generation);
        if observed != md.metadata.generation {
            wrong.push(format!(
                "{name}: status of generation {observed:?}, object at {:?}",
                md.metadata.generation
            ));
        }
        if md.finalizers().len() != 1 {
            wrong.push(format!("{name}: finalizers {:?}", md.finalizers()));
        }
    }
    for (kind, found) in [("Deployment", &deps), ("Service", &svcs)] {
        for (owner, n) in found {
            if !names.contains(owner) {
                wrong.push(format!("{n} orphaned {kind}(s) of {owner}"));
            }
        }
    }
    wrong
}

/// Waits until [`divergence`] is empty; returns how long it took.
async fn converge(client: &Client, ns: &str, timeout: Duration, what: &str) -> Duration {
    let started = Instant::now();
    wait_until(what, timeout, || async {
        let wrong = divergence(client, ns).await;
        let seen = format!(
            "{} problems, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
        Ok((wrong.is_empty().then_some(()), seen))
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    started.elapsed()
}

/// How many deployments of `ns` have a Deployment.
async fn with_deployment(client: &Client, ns: &str) -> usize {
    per_owner(Api::<Deployment>::namespaced(client.clone(), ns))
        .await
        .len()
}

#[tokio::test]
async fn a_controller_killed_mid_reconcile_leaves_no_duplicate_or_orphan_and_everything_converges()
{
    const TOTAL: usize = 200;
    let rounds: usize = std::env::var("FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let (cp, admin, dir) = cluster().await;
    let kubeconfig = cp.info().kubeconfig_path();
    let log = dir.path().join("controller.log");
    let mut created = 0usize;
    let mut deleted = 0usize;
    let mut changed = 0usize;

    // Each round has a namespace of its own with 200 new deployments, deleted at its end.
    for round in 0..rounds {
        let ns = cp
            .namespace(&format!("faults-kill-{round}"))
            .await
            .expect("namespace")
            .name;
        let mds: Api<ModelDeployment> = Api::namespaced(admin.clone(), &ns);
        let mut alive: Vec<String> = Vec::new();
        for i in 0..TOTAL {
            let name = format!("md-{i:03}");
            mds.create(&PostParams::default(), &md_object(&name, cpu_spec(1)))
                .await
                .expect("create");
            alive.push(name);
        }
        created += TOTAL;
        let mut controller = ControllerProcess::start(
            &kubeconfig,
            log.clone(),
            &["--providers", "kubernetes", "--resync-seconds", "5"],
        );
        let started = Instant::now();
        // Kill it once a fifth of the work is done, well before the end.
        let done = wait_until(
            "the controller to get going",
            Duration::from_secs(60),
            || {
                let admin = admin.clone();
                let ns = ns.clone();
                async move {
                    let n = with_deployment(&admin, &ns).await;
                    Ok(((n >= TOTAL / 5).then_some(n), format!("{n} Deployments")))
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.tail()));
        controller.check_alive();
        controller.kill();
        let killed_after = started.elapsed();
        let at_kill = provider_objects(&admin, &ns).await;
        assert!(
            at_kill.0.len() < TOTAL,
            "round {round}: the kill came too late to be mid-reconcile ({} of {TOTAL} done)",
            at_kill.0.len()
        );

        // While it is dead: delete ten (some reconciled, some not) and change ten.
        let reconciled: Vec<String> = alive
            .iter()
            .filter(|n| at_kill.0.contains_key(*n))
            .cloned()
            .collect();
        let untouched: Vec<String> = alive
            .iter()
            .filter(|n| !at_kill.0.contains_key(*n))
            .cloned()
            .collect();
        let doomed: Vec<String> = reconciled
            .iter()
            .take(5)
            .chain(untouched.iter().take(5))
            .cloned()
            .collect();
        for name in &doomed {
            mds.delete(name, &DeleteParams::default())
                .await
                .expect("delete while the controller is dead");
        }
        alive.retain(|n| !doomed.contains(n));
        deleted += doomed.len();
        for name in reconciled
            .iter()
            .skip(5)
            .take(5)
            .chain(untouched.iter().skip(5).take(5))
        {
            mds.patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "scaling": { "replicas": 2 } } })),
            )
            .await
            .expect("scale while the controller is dead");
            changed += 1;
        }

        let mut controller = ControllerProcess::start(
            &kubeconfig,
            log.clone(),
            &["--providers", "kubernetes", "--resync-seconds", "5"],
        );
        let took = converge(
            &admin,
            &ns,
            Duration::from_secs(240),
            "every deployment to converge after the restart",
        )
        .await;
        controller.check_alive();
        let (deps, svcs) = provider_objects(&admin, &ns).await;
        assert_eq!(deps.len(), alive.len(), "{deps:?}");
        assert_eq!(svcs.len(), alive.len(), "{svcs:?}");
        for name in &doomed {
            assert!(
                mds.get_opt(name).await.expect("read").is_none(),
                "{name} was deleted"
            );
        }
        eprintln!(
            "figure: round {round}: killed after {killed_after:?} with {done} of {TOTAL} \
             Deployments made; after the restart all {} converged in {took:?} (0 duplicates, \
             0 orphans; {} deleted and 10 scaled while it was dead)",
            alive.len(),
            doomed.len()
        );

        // A provider object deleted by hand comes back.
        if round == 0 {
            let victim = alive[0].clone();
            let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
            let services: Api<Service> = Api::namespaced(admin.clone(), &ns);
            let old = deployments
                .get(&victim)
                .await
                .expect("the Deployment")
                .uid();
            deployments
                .delete(&victim, &DeleteParams::foreground())
                .await
                .expect("delete the Deployment by hand");
            services
                .delete(&alive[1], &DeleteParams::default())
                .await
                .expect("delete the Service by hand");
            // Well within the periodic resync (50 s at --resync-seconds 5): the deletion itself
            // must set off the reconcile.
            let started = Instant::now();
            let dep_again = wait_until(
                "the Deployment to be recreated",
                Duration::from_secs(15),
                || {
                    let deployments = deployments.clone();
                    let victim = victim.clone();
                    let old = old.clone();
                    async move {
                        let d = deployments
                            .get_opt(&victim)
                            .await
                            .map_err(|e| Error::State(e.to_string()))?;
                        let fresh =
                            d.filter(|d| d.uid() != old && d.metadata.deletion_timestamp.is_none());
                        Ok((fresh.map(|_| started.elapsed()), String::new()))
                    }
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", controller.tail()));
            let svc_again = wait_until(
                "the Service to be recreated",
                Duration::from_secs(15),
                || {
                    let services = services.clone();
                    let name = alive[1].clone();
                    async move {
                        let s = services
                            .get_opt(&name)
                            .await
                            .map_err(|e| Error::State(e.to_string()))?;
                        Ok((s.map(|_| started.elapsed()), String::new()))
                    }
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", controller.tail()));
            converge(
                &admin,
                &ns,
                Duration::from_secs(60),
                "everything Running again",
            )
            .await;
            eprintln!(
                "figure: a Deployment deleted by hand was recreated in {dep_again:?}, a Service \
                 in {svc_again:?}"
            );
        }
        // Everything deleted at once: each deletion completes (finalizer) and nothing is left.
        let started = Instant::now();
        mds.delete_collection(&DeleteParams::default(), &ListParams::default())
            .await
            .expect("delete every deployment");
        wait_until(
            "every deployment and its objects to be gone",
            Duration::from_secs(180),
            || {
                let (admin, ns, mds) = (admin.clone(), ns.clone(), mds.clone());
                async move {
                    let left = mds
                        .list(&ListParams::default())
                        .await
                        .map_err(|e| Error::State(e.to_string()))?
                        .items
                        .len();
                    let (deps, svcs) = provider_objects(&admin, &ns).await;
                    let done = left == 0 && deps.is_empty() && svcs.is_empty();
                    Ok((
                        done.then_some(()),
                        format!(
                            "{left} deployments, {} Deployments, {} Services",
                            deps.len(),
                            svcs.len()
                        ),
                    ))
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.tail()));
        controller.check_alive();
        eprintln!(
            "figure: round {round}: all {} deleted at once were gone with their objects in {:?}",
            alive.len(),
            started.elapsed()
        );
        controller.kill();
    }
    eprintln!(
        "figure: {rounds} round(s): {created} ModelDeployments created, {deleted} deleted and \
         {changed} scaled while the controller was dead; 0 duplicates, 0 orphans"
    );
}

/// A kubeconfig for the service account `sa` of [`SYSTEM_NS`] (bound to cluster-admin), so the
/// audit log names which replica made each request.
async fn identity(cp: &ControlPlane, admin: &Client, sa: &str, dir: &Path) -> PathBuf {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), SYSTEM_NS);
    let account: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": sa } })).expect("shape");
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("service account");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": { "name": format!("faults-{sa}") },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin" },
        "subjects": [{ "kind": "ServiceAccount", "name": sa, "namespace": SYSTEM_NS }],
    }))
    .expect("shape");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("binding");
    let request: TokenRequest =
        serde_json::from_value(json!({ "spec": { "audiences": [], "expirationSeconds": 3600 } }))
            .expect("shape");
    let token = accounts
        .create_token_request(sa, &PostParams::default(), &request)
        .await
        .expect("TokenRequest")
        .status
        .expect("token status")
        .token;
    let path = dir.join(format!("{sa}.kubeconfig"));
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    \
         certificate-authority: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    \
         user: u\nusers:\n- name: u\n  user:\n    token: {token}\ncurrent-context: c\n",
        cp.info().server,
        cp.info().ca_path().display()
    );
    std::fs::write(&path, config).expect("kubeconfig");
    path
}

/// Writes (verb → count) per user of [`SYSTEM_NS`]'s service accounts in the audit log,
/// leases left out (both replicas read it; only a holder writes it).
fn audited_writes(cp: &ControlPlane) -> BTreeMap<String, BTreeMap<String, usize>> {
    let file = std::fs::File::open(cp.info().audit_log_path()).expect("audit log");
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(event) = serde_json::from_str::<Value>(&line.unwrap_or_default()) else {
            continue;
        };
        let user = event["user"]["username"].as_str().unwrap_or_default();
        if !user.starts_with(&format!("system:serviceaccount:{SYSTEM_NS}:")) {
            continue;
        }
        if event["stage"] != "ResponseComplete" {
            continue;
        }
        let verb = event["verb"].as_str().unwrap_or_default();
        if !matches!(
            verb,
            "create" | "update" | "patch" | "delete" | "deletecollection"
        ) {
            continue;
        }
        let resource = event["objectRef"]["resource"].as_str().unwrap_or_default();
        if resource == "leases" {
            continue;
        }
        let key = format!("{verb} {resource}");
        *out.entry(user.to_string())
            .or_default()
            .entry(key)
            .or_insert(0) += 1;
    }
    out
}

/// The holder of the controller's Lease.
async fn holder(admin: &Client) -> Option<String> {
    Api::<Lease>::namespaced(admin.clone(), SYSTEM_NS)
        .get_opt(kubeairunway_controller::LEASE_NAME)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec?.holder_identity)
}

#[tokio::test]
async fn of_two_replicas_with_leader_election_exactly_one_writes_and_the_other_takes_over() {
    let (cp, admin, dir) = cluster().await;
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    if namespaces.get_opt(SYSTEM_NS).await.expect("read").is_none() {
        let ns: Namespace =
            serde_json::from_value(json!({ "metadata": { "name": SYSTEM_NS } })).expect("shape");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("system namespace");
    }
    let ns = cp.namespace("faults-leader").await.expect("namespace").name;
    let mds: Api<ModelDeployment> = Api::namespaced(admin.clone(), &ns);
    let mut replicas = BTreeMap::new();
    for who in ["replica-a", "replica-b"] {
        let kubeconfig = identity(cp, &admin, who, dir.path()).await;
        let process = ControllerProcess::start(
            &kubeconfig,
            dir.path().join(format!("{who}.log")),
            &[
                "--providers",
                "kubernetes",
                "--leader-elect",
                "--leader-election-namespace",
                SYSTEM_NS,
                "--identity",
                who,
            ],
        );
        replicas.insert(who.to_string(), process);
    }
    for i in 0..10 {
        mds.create(
            &PostParams::default(),
            &md_object(&format!("led-{i}"), cpu_spec(1)),
        )
        .await
        .expect("create");
    }
    converge(
        &admin,
        &ns,
        Duration::from_secs(120),
        "the leader to reconcile ten",
    )
    .await;
    let leader = holder(&admin).await.expect("a Lease holder");
    let follower = if leader == "replica-a" {
        "replica-b"
    } else {
        "replica-a"
    };
    // A little longer, for the follower to do anything it should not.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let writes = audited_writes(cp);
    let user = |who: &str| format!("system:serviceaccount:{SYSTEM_NS}:{who}");
    assert!(
        writes.get(&user(&leader)).is_some_and(|w| !w.is_empty()),
        "the leader {leader} wrote: {writes:?}"
    );
    assert_eq!(
        writes.get(&user(follower)),
        None,
        "the follower {follower} wrote while the other led: {writes:?}"
    );
    let leader_writes: usize = writes[&user(&leader)].values().sum();

    // The leader dies without releasing the Lease: the follower takes over once it expires.
    if let Some(p) = replicas.get_mut(&leader) {
        p.kill();
    }
    let killed = Instant::now();
    mds.create(
        &PostParams::default(),
        &md_object("after-takeover", cpu_spec(1)),
    )
    .await
    .expect("create");
    let takeover = wait_until(
        "the follower to take the Lease",
        Duration::from_secs(60),
        || {
            let admin = admin.clone();
            async move {
                let h = holder(&admin).await;
                Ok((
                    (h.as_deref() == Some(follower)).then(|| killed.elapsed()),
                    format!("{h:?}"),
                ))
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let converged = converge(
        &admin,
        &ns,
        Duration::from_secs(120),
        "the new leader to reconcile",
    )
    .await;
    if let Some(p) = replicas.get_mut(follower) {
        p.check_alive();
    }
    let writes = audited_writes(cp);
    assert!(
        writes.get(&user(follower)).is_some_and(|w| !w.is_empty()),
        "the new leader wrote: {writes:?}"
    );
    let old: usize = writes[&user(&leader)].values().sum();
    assert_eq!(
        old, leader_writes,
        "the dead leader wrote nothing more: {writes:?}"
    );
    eprintln!(
        "figure: leader {leader} made {leader_writes} writes, follower 0; after SIGKILL of the \
         leader the follower held the Lease in {takeover:?} and had reconciled a new deployment \
         {:?} after the kill",
        takeover + converged
    );
}
