//! Runtime installation with Helm (issue 7, docs/contract/api.md §8.1–8.2) on the local control
//! plane, with the real `helm` binary and a chart repository served on loopback by the test
//! ([`ChartRepo`]): charts that install resources (one ships a provider-like CRD), one whose
//! template fails, one whose pre-install hook never completes, and InferenceProviderConfigs whose
//! `installation` points at that repository.

mod support;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kubeairunway_api::{
    HelmChart, HelmRepo, InferenceProviderConfig, InferenceProviderConfigSpec, InstallationInfo,
};
use kubeairunway_testenv::{Binaries, ChartRepo, ChartSource, User, shared, wait_until};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server};

/// The CRD the `demo` chart ships in `crds/`, named like a provider's.
const DEMO_CRD: &str = "workspaces.itest.kaito.sh";

const PLAIN_CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | default "hello" | quote }}
"#;

/// A pre-delete hook that cannot be created (its namespace does not exist), when asked for.
const FAILING_PRE_DELETE: &str = r#"{{- if .Values.failUninstall }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-pre-delete
  namespace: kubeairunway-no-such-namespace
  annotations:
    "helm.sh/hook": pre-delete
data:
  reason: this hook fails on purpose
{{- end }}
"#;

const DEMO_CRD_YAML: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: workspaces.itest.kaito.sh
spec:
  group: itest.kaito.sh
  names:
    kind: Workspace
    listKind: WorkspaceList
    plural: workspaces
    singular: workspace
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"#;

/// A pre-install hook Job whose pod can never be scheduled: Helm waits for it forever.
const HANGING_HOOK: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-never
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector:
        kubeairunway.ai/no-such-node: "true"
      containers:
        - name: wait
          image: busybox
"#;

/// A pre-install hook Job created suspended: Helm waits until the test resumes it, so the install
/// takes as long as the test wants. Once resumed, its pod runs on a simulated node and KWOK
/// completes it.
const SLOW_HOOK: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-slow
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
spec:
  suspend: true
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      tolerations:
        - operator: Exists
      containers:
        - name: wait
          image: busybox
"#;

fn charts() -> Vec<ChartSource> {
    vec![
        ChartSource::new("plain", "0.1.0")
            .file("templates/configmap.yaml", PLAIN_CONFIGMAP)
            .file("templates/pre-delete.yaml", FAILING_PRE_DELETE),
        ChartSource::new("demo", "0.2.0")
            .file("templates/configmap.yaml", PLAIN_CONFIGMAP)
            .file("crds/workspace.yaml", DEMO_CRD_YAML),
        ChartSource::new("broken", "0.1.0").file(
            "templates/broken.yaml",
            "{{ fail \"this chart is broken on purpose\" }}\n",
        ),
        ChartSource::new("hang", "0.1.0")
            .file("templates/hook.yaml", HANGING_HOOK)
            .file("templates/configmap.yaml", PLAIN_CONFIGMAP),
        ChartSource::new("slow", "0.1.0")
            .file("templates/hook.yaml", SLOW_HOOK)
            .file("templates/configmap.yaml", PLAIN_CONFIGMAP),
    ]
}

/// The chart repository shared by the tests of this binary.
fn repo() -> &'static ChartRepo {
    static REPO: OnceLock<ChartRepo> = OnceLock::new();
    REPO.get_or_init(|| ChartRepo::start(&charts()).expect("chart repository"))
}

/// This binary's server for `mode`, running the built Helm (`HELM_PATH`).
fn server_with(mode: AuthMode) -> &'static Server {
    static ON: OnceLock<Server> = OnceLock::new();
    static OFF: OnceLock<Server> = OnceLock::new();
    let cell = match mode {
        AuthMode::On => &ON,
        AuthMode::Off => &OFF,
    };
    cell.get_or_init(|| support::start_in_mode(mode, |c| c.helm_path = helm_path()))
}

fn server() -> &'static Server {
    server_with(AuthMode::Off)
}

fn suffix() -> String {
    format!("{:06x}", rand::rng().random::<u32>() & 0xff_ffff)
}

/// A chart of an installation: `(release, chart, namespace, createNamespace)`.
type ChartSpec<'a> = (&'a str, &'a str, &'a str, bool);

/// Registers an InferenceProviderConfig `name` whose installation adds `repo_url` as `itest`
/// and installs `charts`.
async fn register(name: &str, repo_url: &str, charts: &[ChartSpec<'_>]) {
    let client = support::admin_client().await;
    let ipc = InferenceProviderConfig::new(
        name,
        InferenceProviderConfigSpec {
            installation: Some(InstallationInfo {
                description: Some("A provider of the installation tests".into()),
                default_namespace: charts.first().map(|c| c.2.to_string()),
                helm_repos: Some(vec![HelmRepo {
                    name: "itest".into(),
                    url: repo_url.into(),
                }]),
                helm_charts: Some(
                    charts
                        .iter()
                        .map(|(release, chart, namespace, create)| HelmChart {
                            name: release.to_string(),
                            chart: chart.to_string(),
                            version: None,
                            namespace: namespace.to_string(),
                            create_namespace: Some(*create),
                        })
                        .collect(),
                ),
                steps: Some(vec![kubeairunway_api::InstallationStep {
                    title: "Install".into(),
                    command: Some("helm install …".into()),
                    description: "Installs the operator".into(),
                }]),
            }),
            ..Default::default()
        },
    );
    Api::<InferenceProviderConfig>::all(client)
        .create(&PostParams::default(), &ipc)
        .await
        .expect("register the provider");
}

/// A fresh namespace `prefix-…` and a provider `prefix-…` registered with [`repo`], whose
/// installation installs `charts` (`(release, chart)`) into that existing namespace.
async fn provider_in_new_namespace(prefix: &str, charts: &[(&str, &str)]) -> (String, String) {
    let id = format!("{prefix}-{}", suffix());
    let ns = support::namespace(prefix).await;
    let specs: Vec<ChartSpec<'_>> = charts
        .iter()
        .map(|&(release, chart)| (release, chart, ns.as_str(), false))
        .collect();
    register(&id, &repo().url(), &specs).await;
    (id, ns)
}

async fn unregister(name: &str) {
    let client = support::admin_client().await;
    let _ = Api::<InferenceProviderConfig>::all(client)
        .delete(name, &DeleteParams::default())
        .await;
}

/// `helm <args>` as the admin, from a Helm home of the test's own, not started yet.
fn helm_command<I, S>(args: I) -> std::process::Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    // One fixed directory (not per run): these commands store nothing worth keeping.
    let home = std::env::temp_dir().join("kubeairunway-itest-helm");
    let mut command = std::process::Command::new(helm_path());
    command
        .args(args)
        .env("KUBECONFIG", shared().info().kubeconfig_path())
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    command
}

/// Runs `helm <args>` (see [`helm_command`]): (success, stdout, stderr).
fn helm_cli(args: &[&str]) -> (bool, String, String) {
    let output = helm_command(args).output().expect("helm runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn helm_path() -> PathBuf {
    Binaries::from_env().tool("helm").expect("helm built")
}

/// `helm list <filter> --namespace <namespace> -o json`.
fn helm_list(filter: &str, namespace: &str) -> Vec<Value> {
    let (ok, out, err) = helm_cli(&["list", filter, "--namespace", namespace, "-o", "json"]);
    assert!(ok, "helm list {filter}: {err}");
    serde_json::from_str(&out).expect("helm list JSON")
}

/// Releases of `namespace` in every state (`helm list --all -o json`).
fn releases(namespace: &str) -> Vec<Value> {
    helm_list("--all", namespace)
}

/// Releases of `namespace` in a pending state (`helm list --pending -o json`).
fn pending(namespace: &str) -> Vec<Value> {
    helm_list("--pending", namespace)
}

fn step_names(results: &Value) -> Vec<String> {
    results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["step"].as_str().expect("step").to_string())
        .collect()
}

fn result_of<'a>(body: &'a Value, step: &str) -> &'a Value {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["step"] == step)
        .unwrap_or_else(|| panic!("no result for {step} in {body}"))
}

/// `POST /api/installation/providers/{id}/{action}` (`action` may end in a query) as
/// `as_user`, with an optional JSON body.
async fn provider_post_as(
    s: &Server,
    id: &str,
    action: &str,
    as_user: Option<User>,
    body: Option<&Value>,
) -> Reply {
    let path = format!("/api/installation/providers/{id}/{action}");
    s.call(Method::POST, &path, as_user, body).await
}

/// `POST /api/installation/providers/{id}/{action}` anonymously and without a body.
async fn provider_post(s: &Server, id: &str, action: &str) -> Reply {
    provider_post_as(s, id, action, None, None).await
}

/// `POST /api/installation/gpu-operator/install` anonymously.
async fn install_gpu_operator(s: &Server) -> Reply {
    s.call(
        Method::POST,
        "/api/installation/gpu-operator/install",
        None,
        None,
    )
    .await
}

/// `GET /api/installation/providers/{id}/status` once the provider is in the server's cache.
async fn provider_status(s: &Server, id: &str) -> Value {
    s.get_eventually(
        &format!("/api/installation/providers/{id}/status"),
        None,
        "the provider in the cache",
        |_| true,
    )
    .await
}

/// Starts `action` (e.g. `install?async=true`) as an asynchronous job: asserts 202 and returns
/// the reply and the job id.
async fn start_job(s: &Server, id: &str, action: &str) -> (Reply, String) {
    let reply = provider_post(s, id, action).await;
    reply.expect_status(StatusCode::ACCEPTED, action);
    let job_id = reply.body["jobId"].as_str().expect("jobId").to_string();
    (reply, job_id)
}

/// Waits until job `id` finished and returns it.
async fn finished_job(s: &Server, id: &str, as_user: Option<User>) -> Value {
    wait_until("the job to finish", Duration::from_secs(60), || async {
        let reply = s.get(&format!("/api/jobs/{id}"), as_user).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let done = matches!(reply.body["state"].as_str(), Some("succeeded" | "failed"));
        Ok((
            done.then(|| reply.body.clone()),
            reply.body["state"].to_string(),
        ))
    })
    .await
    .expect("job finished")
}

async fn configmap_exists(namespace: &str, name: &str) -> bool {
    let configmaps = Api::<ConfigMap>::namespaced(support::admin_client().await, namespace);
    support::get_or_none(&configmaps, name).await.is_some()
}

async fn crd_exists(name: &str) -> bool {
    let crds = Api::<CustomResourceDefinition>::all(support::admin_client().await);
    support::get_or_none(&crds, name).await.is_some()
}

async fn delete_namespace(name: &str) {
    let client = support::admin_client().await;
    let _ = Api::<Namespace>::all(client)
        .delete(name, &DeleteParams::default())
        .await;
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    data: Value,
}

/// Reads the job's event stream until `end` (or 60 s).
async fn read_events(s: &Server, id: &str) -> Vec<Sse> {
    let response = s
        .http
        .get(s.url(&format!("/api/jobs/{id}/events")))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("events request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event.is_empty() {
                continue; // keep-alive comment
            }
            let done = event == "end";
            events.push(Sse {
                event,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            });
            if done {
                return events;
            }
        }
    }
    panic!("the event stream ended without an end event: {events:?}");
}

#[tokio::test]
async fn install_creates_the_release_and_its_resources_then_uninstall_and_crd_removal_clean_up() {
    let s = server();
    let id = format!("itest-demo-{}", suffix());
    // A namespace that does not exist yet: the install creates it.
    let ns = format!("itest-demo-{}", suffix());
    register(
        &id,
        &repo().url(),
        &[("demo-operator", "itest/demo", &ns, true)],
    )
    .await;

    let started = Instant::now();
    let reply = provider_post_as(
        s,
        &id,
        "install",
        None,
        Some(&json!({ "values": { "demo-operator": { "greeting": "bonjour" } } })),
    )
    .await;
    eprintln!("install took {:?}", started.elapsed());
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(body["success"], true);
    let name = format!("{}{}", id[..1].to_uppercase(), &id[1..]);
    assert_eq!(body["message"], format!("{name} installed successfully"));
    assert_eq!(
        step_names(&body["results"]),
        ["repo-add-itest", "repo-update", "install-demo-operator"]
    );
    assert!(
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["success"] == true)
    );
    let install = result_of(body, "install-demo-operator");
    assert!(
        install["output"]
            .as_str()
            .expect("output")
            .contains("STATUS: deployed"),
        "{install}"
    );

    // The release and its resources are in the cluster.
    let list = releases(&ns);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["name"], "demo-operator");
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["chart"], "demo-0.2.0");
    let client = support::admin_client().await;
    let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .get("demo-operator-config")
        .await
        .expect("the chart's ConfigMap");
    assert_eq!(
        cm.data.expect("data")["greeting"],
        "bonjour",
        "the value reached the release through --set-json"
    );
    assert!(crd_exists(DEMO_CRD).await, "the chart's CRD is installed");

    // The job keeps every step with its output.
    let job_id = body["jobId"].as_str().expect("jobId");
    let job = s.get(&format!("/api/jobs/{job_id}"), None).await;
    assert_eq!(job.status, StatusCode::OK);
    assert_eq!(job.body["state"], "succeeded");
    assert_eq!(job.body["kind"], "install-provider");
    assert_eq!(job.body["target"], id.as_str());
    assert!(job.body["pending"].as_array().expect("pending").is_empty());
    for step in job.body["steps"].as_array().expect("steps") {
        assert_eq!(step["state"], "succeeded", "{step}");
        assert!(
            step["command"]
                .as_str()
                .expect("command")
                .starts_with("helm "),
            "{step}"
        );
        assert_eq!(step["exitCode"], 0);
    }

    // The status endpoint shows the release (the provider itself never reported ready here).
    let status = provider_status(s, &id).await;
    assert_eq!(status["providerId"], id.as_str());
    assert_eq!(status["installed"], false);
    assert_eq!(
        status["message"],
        format!("{name} is registered but not ready")
    );
    assert_eq!(status["charts"][0]["release"]["status"], "deployed");
    assert_eq!(status["charts"][0]["release"]["revision"], 1);
    assert_eq!(
        status["helmCommands"][0],
        format!("helm repo add itest {}", repo().url())
    );
    assert_eq!(
        status["helmCommands"][2],
        format!("helm install demo-operator itest/demo --namespace {ns} --create-namespace")
    );
    assert!(status.get("activeJob").is_none());
    let commands = s
        .get(&format!("/api/installation/providers/{id}/commands"), None)
        .await;
    assert_eq!(commands.status, StatusCode::OK);
    assert_eq!(commands.body["commands"], status["helmCommands"]);
    assert_eq!(commands.body["steps"][0]["title"], "Install");

    // Installing again upgrades the release (revision 2).
    let again = provider_post(s, &id, "install").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(releases(&ns)[0]["revision"], "2");

    // Uninstall removes the release and its resources, but Helm keeps the CRD.
    let reply = provider_post(s, &id, "uninstall").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["success"], true);
    assert_eq!(
        reply.body["message"],
        format!("{name} uninstalled successfully")
    );
    assert_eq!(
        step_names(&reply.body["results"]),
        ["uninstall-demo-operator"]
    );
    assert!(releases(&ns).is_empty());
    assert!(!configmap_exists(&ns, "demo-operator-config").await);
    assert!(crd_exists(DEMO_CRD).await, "helm uninstall leaves CRDs");

    // Uninstalling what is not installed succeeds and says so.
    let reply = provider_post(s, &id, "uninstall").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        result_of(&reply.body, "uninstall-demo-operator")["output"]
            .as_str()
            .expect("output")
            .contains("nothing to uninstall")
    );

    // uninstall-crds removes the chart's CRD and then the provider config.
    let reply = provider_post(s, &id, "uninstall-crds").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["success"], true);
    assert_eq!(reply.body["removedCrds"], json!([DEMO_CRD]));
    assert_eq!(
        step_names(&reply.body["results"]),
        [
            "repo-add-itest".to_string(),
            "repo-update".into(),
            "list-crds-demo-operator".into(),
            format!("delete-crd-{DEMO_CRD}"),
            "delete-provider-config".into()
        ]
    );
    assert!(!crd_exists(DEMO_CRD).await, "the CRD is gone");
    let configs = Api::<InferenceProviderConfig>::all(support::admin_client().await);
    assert!(
        support::get_or_none(&configs, &id).await.is_none(),
        "the provider config is gone"
    );
    let gone = provider_post(s, &id, "install").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.message(), format!("Provider not found: {id}"));
    delete_namespace(&ns).await;
}

#[tokio::test]
async fn a_failing_chart_names_the_failing_step_with_its_stderr() {
    let s = server();
    let (id, ns) = provider_in_new_namespace("itest-broken", &[("broken", "itest/broken")]).await;

    // As the reference: the synchronous answer of a failed install is 200 with success: false.
    let reply = provider_post(s, &id, "install").await;
    reply.expect_status(StatusCode::OK, "install");
    let message = reply.body["message"].as_str().expect("message");
    assert!(
        message.starts_with("Installation failed at step \"install-broken\": "),
        "{message}"
    );
    assert!(
        message.contains("this chart is broken on purpose"),
        "{message}"
    );
    assert!(reply.body.get("error").is_none(), "{}", reply.body);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.body["failedStep"], "install-broken");
    let failed = result_of(&reply.body, "install-broken");
    assert_eq!(failed["success"], false);
    assert!(
        failed["error"]
            .as_str()
            .expect("stderr")
            .contains("broken on purpose"),
        "{failed}"
    );
    assert_eq!(result_of(&reply.body, "repo-add-itest")["success"], true);
    assert!(releases(&ns).is_empty(), "nothing was released");
    unregister(&id).await;
}

/// The reference's clients POST without `?async=true` and wait for `{success, message, results}`.
/// An install that takes longer than the 30 s request timeout is answered 200 at its end: the
/// headers at once, spaces while Helm runs, then the JSON.
#[tokio::test]
async fn a_synchronous_install_longer_than_the_request_timeout_answers_200_at_its_end() {
    let s = server();
    let (id, ns) = provider_in_new_namespace("itest-slow", &[("slow", "itest/slow")]).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(180))
        .build()
        .expect("client");
    let started = Instant::now();
    let request = async {
        let response = client
            .post(s.url(&format!("/api/installation/providers/{id}/install")))
            .header("accept-encoding", "gzip")
            .send()
            .await;
        (response, started.elapsed())
    };
    // Resume the hook Job once the request has been waiting longer than the request timeout.
    let resume = async {
        let jobs: Api<k8s_openapi::api::batch::v1::Job> =
            Api::namespaced(support::admin_client().await, &ns);
        wait_until("the hook Job", Duration::from_secs(30), || async {
            let job = jobs.get_opt("slow-slow").await.map_err(|source| {
                kubeairunway_testenv::Error::Kube {
                    what: "reading the hook Job".into(),
                    source,
                }
            })?;
            Ok((job.map(|_| ()), "absent".to_string()))
        })
        .await
        .expect("hook Job created");
        tokio::time::sleep(Duration::from_secs(35).saturating_sub(started.elapsed())).await;
        jobs.patch(
            "slow-slow",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({ "spec": { "suspend": false } })),
        )
        .await
        .expect("resume the hook Job");
    };
    let ((response, headers_after), ()) = tokio::join!(request, resume);
    let response = response.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{:?}",
        response.headers()
    );
    assert!(
        response.headers().get("content-encoding").is_none(),
        "keep-alive bytes must not wait for a compressor"
    );
    let bytes = response.bytes().await.expect("body");
    let took = started.elapsed();
    eprintln!("synchronous install: headers after {headers_after:?}, answer after {took:?}");
    assert!(
        headers_after < Duration::from_secs(30),
        "the status line goes out before the request timeout: {headers_after:?}"
    );
    assert!(took > Duration::from_secs(30), "{took:?}");
    assert!(bytes.starts_with(b" "), "keep-alive whitespace first");
    let body: Value = serde_json::from_slice(&bytes).expect("JSON after whitespace");
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(
        body["message"],
        format!("{} installed successfully", {
            let mut c = id.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
    );
    assert_eq!(
        step_names(&body["results"]),
        ["repo-add-itest", "repo-update", "install-slow"]
    );
    for result in body["results"].as_array().expect("results") {
        assert_eq!(result["success"], true, "{result}");
        assert!(result.get("output").is_some() && result.get("error").is_some());
    }
    assert!(configmap_exists(&ns, "slow-config").await);

    // `Prefer: respond-async` is the header form of `?async=true`.
    let reply = Reply::read(
        s.request(
            Method::POST,
            &format!("/api/installation/providers/{id}/uninstall"),
            None,
        )
        .header("prefer", "respond-async, wait=5")
        .send()
        .await
        .expect("sent"),
    )
    .await;
    reply.expect_status(StatusCode::ACCEPTED, "Prefer: respond-async");
    let job = finished_job(s, reply.body["jobId"].as_str().expect("jobId"), None).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    unregister(&id).await;
    delete_namespace(&ns).await;
}

#[tokio::test]
async fn a_hanging_install_is_killed_at_the_timeout_and_leaves_no_pending_release() {
    let s = server();
    let (id, ns) = provider_in_new_namespace("itest-hang", &[("hang", "itest/hang")]).await;

    let started = Instant::now();
    let reply = provider_post(s, &id, "install?timeoutSeconds=4").await;
    let took = started.elapsed();
    eprintln!("hanging install answered after {took:?}");
    reply.expect_status(StatusCode::OK, "hanging install");
    assert_eq!(reply.body["success"], false);
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(20),
        "{took:?}"
    );
    assert_eq!(reply.body["failedStep"], "install-hang");
    let install = result_of(&reply.body, "install-hang");
    assert!(
        install["error"]
            .as_str()
            .expect("stderr")
            .contains("Command timed out after 4 seconds"),
        "{install}"
    );
    // The release the killed Helm left in pending-install was cleaned up.
    let cleanup = result_of(&reply.body, "cleanup-hang");
    assert_eq!(cleanup["success"], true, "{cleanup}");
    assert!(
        cleanup["output"]
            .as_str()
            .expect("output")
            .contains("stuck in pending-install")
    );
    let job = s
        .get(
            &format!("/api/jobs/{}", reply.body["jobId"].as_str().expect("jobId")),
            None,
        )
        .await;
    let steps = job.body["steps"].as_array().expect("steps");
    let hung = steps
        .iter()
        .find(|st| st["step"] == "install-hang")
        .expect("step");
    assert_eq!(hung["timedOut"], true);
    assert!(hung.get("exitCode").is_none());
    assert!(pending(&ns).is_empty(), "no release left pending");
    assert!(releases(&ns).is_empty(), "no release left at all");
    unregister(&id).await;
}

#[tokio::test]
async fn a_release_left_pending_by_an_interrupted_helm_is_recovered_before_installing() {
    let s = server();
    let id = format!("itest-recover-{}", suffix());
    let ns = support::namespace("itest-recover").await;
    // Someone's Helm died during an install: the release is stuck in pending-install.
    let chart_url = format!("{}/hang-0.1.0.tgz", repo().url());
    let mut child = helm_command([
        "upgrade",
        "--install",
        "--namespace",
        &ns,
        "stuck",
        &chart_url,
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("helm starts");
    wait_until("a pending release", Duration::from_secs(30), || {
        let ns = ns.clone();
        async move { Ok(((!pending(&ns).is_empty()).then_some(()), String::new())) }
    })
    .await
    .expect("the release is pending");
    child.kill().expect("kill helm");
    let _ = child.wait();
    assert_eq!(pending(&ns)[0]["status"], "pending-install");

    register(&id, &repo().url(), &[("stuck", "itest/plain", &ns, false)]).await;
    let started = std::time::Instant::now();
    let reply = provider_post(s, &id, "install").await;
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    eprintln!(
        "figure: a release left pending-install by a SIGKILLed helm was recovered and the next \
         install deployed in {took:?} (one request, 0 releases lost or duplicated)"
    );
    assert_eq!(
        step_names(&reply.body["results"]),
        [
            "repo-add-itest",
            "repo-update",
            "recover-stuck",
            "install-stuck"
        ]
    );
    assert!(
        result_of(&reply.body, "recover-stuck")["output"]
            .as_str()
            .expect("output")
            .contains("stuck in pending-install; uninstalling it")
    );
    let list = releases(&ns);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["chart"], "plain-0.1.0");
    unregister(&id).await;
}

#[tokio::test]
async fn uninstall_runs_every_step_and_fails_when_one_fails() {
    let s = server();
    let (id, ns) = provider_in_new_namespace(
        "itest-uninst",
        &[("first", "itest/plain"), ("second", "itest/plain")],
    )
    .await;
    // The second release gets a pre-delete hook that cannot be created.
    let reply = provider_post_as(
        s,
        &id,
        "install",
        None,
        Some(&json!({ "values": { "second": { "failUninstall": true } } })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(releases(&ns).len(), 2);

    let reply = provider_post(s, &id, "uninstall").await;
    reply.expect_status(StatusCode::OK, "uninstall");
    assert_eq!(reply.body["success"], false);
    // Reverse order, and the failure of the first step does not stop the second.
    assert_eq!(
        step_names(&reply.body["results"]),
        ["uninstall-second", "uninstall-first"]
    );
    let failed = result_of(&reply.body, "uninstall-second");
    assert_eq!(failed["success"], false);
    assert!(
        failed["error"]
            .as_str()
            .expect("stderr")
            .contains("kubeairunway-no-such-namespace"),
        "{failed}"
    );
    assert_eq!(result_of(&reply.body, "uninstall-first")["success"], true);
    assert_eq!(reply.body["failedStep"], "uninstall-second");
    let message = reply.body["message"].as_str().expect("message");
    assert!(
        message.contains("uninstall completed with errors"),
        "{message}"
    );
    assert!(message.contains("uninstall-second"), "{message}");
    assert!(!configmap_exists(&ns, "first-config").await);
    let left = releases(&ns);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["name"], "second");

    let (ok, _, err) = helm_cli(&["uninstall", "--no-hooks", "--namespace", &ns, "second"]);
    assert!(ok, "{err}");
    unregister(&id).await;
}

#[tokio::test]
async fn a_second_job_for_the_same_provider_is_refused_with_the_running_job() {
    let s = server();
    let (id, ns) = provider_in_new_namespace("itest-busy", &[("busy", "itest/hang")]).await;

    let (first, job_id) = start_job(s, &id, "install?async=true&timeoutSeconds=5").await;
    assert_eq!(
        first.headers[reqwest::header::LOCATION],
        format!("/api/jobs/{job_id}").as_str()
    );
    assert_eq!(first.body["statusUrl"], format!("/api/jobs/{job_id}"));
    assert_eq!(
        first.body["eventsUrl"],
        format!("/api/jobs/{job_id}/events")
    );

    let (second, uninstall) = tokio::join!(
        provider_post(s, &id, "install"),
        provider_post(s, &id, "uninstall"),
    );
    for reply in [&second, &uninstall] {
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
        assert_eq!(reply.body["error"]["jobId"], job_id.as_str());
        assert!(reply.message().contains(&job_id), "{}", reply.message());
    }
    let status = provider_status(s, &id).await;
    assert_eq!(status["activeJob"]["jobId"], job_id.as_str());
    let listed = s.get(&format!("/api/jobs?target={id}"), None).await;
    assert_eq!(listed.body["jobs"][0]["jobId"], job_id.as_str());

    let job = finished_job(s, &job_id, None).await;
    assert_eq!(job["state"], "failed");
    // Once it finished, the provider is free again.
    let reply = provider_post(s, &id, "uninstall").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(pending(&ns).is_empty());
    unregister(&id).await;
}

#[tokio::test]
async fn async_jobs_stream_each_step_with_its_output_over_sse() {
    let s = server();
    let (id, ns) = provider_in_new_namespace("itest-sse", &[("streamed", "itest/plain")]).await;

    let (_, job_id) = start_job(s, &id, "install?async=true").await;
    let events = read_events(s, &job_id).await;
    assert_eq!(events[0].event, "snapshot", "{events:?}");
    let end = events.last().expect("end");
    assert_eq!(end.event, "end");
    assert_eq!(end.data["state"], "succeeded");
    // Every step's start, output and end is in the snapshot or came live.
    let snapshot_steps: Vec<&str> = events[0].data["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|st| st["step"].as_str())
        .collect();
    for step in ["repo-add-itest", "repo-update", "install-streamed"] {
        let live_start = events
            .iter()
            .any(|e| e.event == "step-start" && e.data["step"] == step);
        assert!(
            live_start || snapshot_steps.contains(&step),
            "{step}: {events:?}"
        );
    }
    let end_steps = end.data["steps"].as_array().expect("steps");
    assert!(
        end_steps.iter().all(|st| st["state"] == "succeeded"),
        "{end_steps:?}"
    );
    let install_output = end_steps
        .iter()
        .find(|st| st["step"] == "install-streamed")
        .and_then(|st| st["output"].as_str())
        .expect("install output");
    assert!(install_output.contains("STATUS: deployed"));

    // A job that takes a while: its steps arrive live, line by line.
    let id2 = format!("itest-sse-hang-{}", suffix());
    register(&id2, &repo().url(), &[("slow", "itest/hang", &ns, false)]).await;
    let (_, job_id) = start_job(s, &id2, "install?async=true&timeoutSeconds=4").await;
    let events = read_events(s, &job_id).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"snapshot"));
    let live_end = events
        .iter()
        .find(|e| e.event == "step-end" && e.data["step"] == "install-slow")
        .unwrap_or_else(|| panic!("no live end of the install step: {names:?}"));
    assert_eq!(live_end.data["timedOut"], true);
    assert_eq!(live_end.data["success"], false);
    assert!(
        events.iter().any(|e| e.event == "output"
            && e.data["step"] == "install-slow"
            && e.data["stream"] == "stderr"
            && e.data["line"] == "Command timed out after 4 seconds"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.event == "step-start" && e.data["step"] == "cleanup-slow")
    );
    assert!(
        events
            .iter()
            .any(|e| e.event == "output" && e.data["step"] == "cleanup-slow")
    );
    let end = events.last().expect("end");
    assert_eq!(end.data["state"], "failed");
    assert_eq!(end.data["failedStep"], "install-slow");
    // A finished job's stream is its snapshot and end at once.
    let replay = read_events(s, &job_id).await;
    assert_eq!(
        replay.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
        ["snapshot", "end"]
    );
    unregister(&id).await;
    unregister(&id2).await;
}

#[tokio::test]
async fn values_that_could_inject_options_are_refused_before_anything_runs() {
    let s = server();
    // A repository of its own, to prove that nothing fetched from it.
    let own_repo = ChartRepo::start(&charts()).expect("chart repository");
    let ns = support::namespace("itest-inject").await;
    let cases: [(&str, ChartSpec<'_>, &str); 3] = [
        (
            "chart",
            ("ok", "--post-renderer=x", ns.as_str(), false),
            "chart \"--post-renderer=x\"",
        ),
        ("ns", ("ok", "itest/plain", "-n", false), "namespace \"-n\""),
        (
            "release",
            ("--kubeconfig=/etc/x", "itest/plain", ns.as_str(), false),
            "release name",
        ),
    ];
    let mut ids = Vec::new();
    for (what, chart, expected) in cases {
        let id = format!("itest-inject-{what}-{}", suffix());
        register(&id, &own_repo.url(), &[chart]).await;
        let reply = provider_post(s, &id, "install").await;
        reply.assert_error(StatusCode::BAD_REQUEST, expected, what);
        ids.push(id);
    }
    // Values: a key that looks like an option, and a release that does not exist.
    let id = format!("itest-inject-values-{}", suffix());
    register(&id, &own_repo.url(), &[("ok", "itest/plain", &ns, false)]).await;
    for body in [
        json!({ "values": { "ok": { "--post-renderer": "x" } } }),
        json!({ "values": { "other": { "a": 1 } } }),
        json!({ "unknown": true }),
    ] {
        let reply = provider_post_as(s, &id, "install", None, Some(&body)).await;
        reply.expect_status(StatusCode::BAD_REQUEST, &body);
    }
    for query in ["timeoutSeconds=0", "timeoutSeconds=-1", "async=maybe"] {
        let reply = provider_post(s, &id, &format!("install?{query}")).await;
        reply.expect_status(StatusCode::BAD_REQUEST, query);
    }
    ids.push(id);
    // Nothing ran: no job, no repository request, no release.
    for id in &ids {
        let jobs = s.get(&format!("/api/jobs?target={id}"), None).await;
        assert_eq!(jobs.body["jobs"], json!([]), "{id}");
        unregister(id).await;
    }
    assert!(own_repo.requests().is_empty(), "{:?}", own_repo.requests());
    assert!(releases(&ns).is_empty());
}

#[tokio::test]
async fn without_helm_the_status_says_so_and_installs_answer_400() {
    let mut config = support::config(AuthMode::Off);
    config.helm_path = "/nonexistent/kubeairunway-test/helm".into();
    let s = support::start(config, User::Admin);
    let status = s.get("/api/installation/helm/status", None).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["available"], false);
    let error = status.body["error"].as_str().expect("error");
    assert!(error.contains("Failed to execute helm"), "{error}");

    let id = format!("itest-nohelm-{}", suffix());
    register(
        &id,
        &repo().url(),
        &[("x", "itest/plain", "default", false)],
    )
    .await;
    for action in ["install", "uninstall"] {
        let reply = provider_post(&s, &id, action).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        let message = reply.message();
        assert!(
            message.starts_with("Helm CLI not available: Failed to execute helm"),
            "{message}"
        );
        assert!(message.ends_with("Please install Helm or use the manual installation commands."));
    }
    let reply = install_gpu_operator(&s).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    // The real Helm is found and reports its version.
    let ok = server().get("/api/installation/helm/status", None).await;
    assert_eq!(ok.body["available"], true, "{}", ok.body);
    assert!(
        ok.body["version"]
            .as_str()
            .expect("version")
            .starts_with("v3.")
    );
    unregister(&id).await;
}

#[tokio::test]
async fn with_auth_a_read_only_user_cannot_install_and_helm_acts_as_the_caller() {
    let s = server_with(AuthMode::On);
    let (id, ns) = provider_in_new_namespace("itest-auth", &[("mine", "itest/plain")]).await;

    let anonymous = provider_post(s, &id, "install").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let viewer = provider_post_as(s, &id, "install", Some(User::Viewer), None).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "{}", viewer.body);
    assert!(viewer.message().contains("secrets"), "{}", viewer.message());
    assert!(releases(&ns).is_empty());

    let admin = provider_post_as(s, &id, "install", Some(User::Admin), None).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
    // The API server's audit log names the person, not the backend.
    let event = wait_until("the audit event", Duration::from_secs(10), || {
        let ns = ns.clone();
        async move {
            let found = std::fs::read_to_string(shared().info().audit_log_path())
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|e| {
                    e["verb"] == "create"
                        && e["objectRef"]["resource"] == "configmaps"
                        && e["objectRef"]["namespace"] == ns.as_str()
                        && e["objectRef"]["name"] == "mine-config"
                });
            Ok((found, String::new()))
        }
    })
    .await
    .expect("audited");
    assert_eq!(event["user"]["username"], "admin", "{event}");

    // The viewer may not read the admin's job either.
    let job_id = admin.body["jobId"].as_str().expect("jobId");
    let read = s
        .get(&format!("/api/jobs/{job_id}"), Some(User::Viewer))
        .await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    let read = s
        .get(&format!("/api/jobs/{job_id}"), Some(User::Admin))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let uninstall = provider_post_as(s, &id, "uninstall", Some(User::Viewer), None).await;
    assert_eq!(uninstall.status, StatusCode::FORBIDDEN);
    let uninstall = provider_post_as(s, &id, "uninstall", Some(User::Admin), None).await;
    assert_eq!(uninstall.status, StatusCode::OK, "{}", uninstall.body);
    unregister(&id).await;
}

#[tokio::test]
async fn gpu_operator_status_counts_gpus_and_an_installed_operator_is_not_reinstalled() {
    let s = server();
    let status = s.get("/api/installation/gpu-operator/status", None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let body = &status.body;
    assert_eq!(body["crdFound"], false);
    assert_eq!(body["installed"], false);
    assert_eq!(
        body["gpusAvailable"], true,
        "the simulated GPU nodes advertise GPUs"
    );
    let total = body["totalGPUs"].as_i64().expect("totalGPUs");
    let nodes = body["gpuNodes"].as_array().expect("gpuNodes").len();
    assert!(total > 0 && nodes > 0);
    assert_eq!(
        body["message"],
        format!("GPUs enabled: {total} GPU(s) on {nodes} node(s)")
    );
    assert_eq!(
        body["helmCommands"][2],
        "helm install gpu-operator nvidia/gpu-operator --namespace gpu-operator --create-namespace"
    );

    // An operator that runs: its CRD and a running pod in gpu-operator.
    let client = support::admin_client().await;
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": { "name": "clusterpolicies.nvidia.com" },
        "spec": { "group": "nvidia.com", "scope": "Cluster",
            "names": { "kind": "ClusterPolicy", "plural": "clusterpolicies", "singular": "clusterpolicy", "listKind": "ClusterPolicyList" },
            "versions": [{ "name": "v1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } } }] },
    }))
    .expect("crd");
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("CRD");
    let namespaces = Api::<Namespace>::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(json!({ "metadata": { "name": "gpu-operator" } })).expect("ns");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "gpu-operator-0", "labels": { "app": "gpu-operator" } },
        "spec": { "nodeSelector": { "agentpool": "cpu" },
            "containers": [{ "name": "operator", "image": "nvcr.io/nvidia/gpu-operator:v25.3.0" }] },
    }))
    .expect("pod");
    wait_until(
        "the default service account",
        Duration::from_secs(30),
        || {
            let client = client.clone();
            async move {
                let found = Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(
                    client,
                    "gpu-operator",
                )
                .get_opt("default")
                .await
                .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                Ok((found.map(|_| ()), String::new()))
            }
        },
    )
    .await
    .expect("service account");
    Api::<Pod>::namespaced(client.clone(), "gpu-operator")
        .create(&PostParams::default(), &pod)
        .await
        .expect("pod");
    let installed = s
        .get_eventually(
            "/api/installation/gpu-operator/status",
            None,
            "the operator to be seen running",
            |b| b["installed"] == true,
        )
        .await;
    assert_eq!(installed["crdFound"], true);
    assert_eq!(installed["operatorRunning"], true);

    let reply = install_gpu_operator(s).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["alreadyInstalled"], true);
    assert_eq!(
        reply.body["message"],
        "NVIDIA GPU Operator is already installed"
    );
    assert_eq!(reply.body["status"]["installed"], true);

    let _ = namespaces
        .delete("gpu-operator", &DeleteParams::default())
        .await;
    let _ = crds
        .delete("clusterpolicies.nvidia.com", &DeleteParams::default())
        .await;
}
