//! The simulated upstream operators against the real local control plane: upstream objects
//! shaped as the product's providers write them get pods that the real scheduler places on the
//! simulated GPU nodes (or refuses, with its message), and statuses the providers can map.
//!
//! One simulator runs for the whole test binary on its own runtime thread (a second one per test
//! would race the first). Tests take `EXCLUSIVE` for reading; the test that deletes the CRDs
//! takes it for writing so it never pulls the CRDs from under another test.

use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubeairunway_testenv::simulators::{self, GPU_RESOURCE, LABEL_DEPLOYMENT, LABEL_OWNER};
use kubeairunway_testenv::{
    Error, UPSTREAM_CRD_NAMES, Upstream, User, install_upstream_crds, shared,
    uninstall_upstream_crd, wait_until,
};
use serde_json::{Value, json};
use tokio::sync::RwLock;

const TIMEOUT: Duration = Duration::from_secs(90);

static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

/// The simulator of this test binary, started on first use on a runtime of its own. The thread
/// ends only if `simulators::run` returns or panics.
fn simulator() -> &'static std::thread::JoinHandle<()> {
    static CELL: OnceLock<std::thread::JoinHandle<()>> = OnceLock::new();
    CELL.get_or_init(|| {
        // `RUST_LOG=kubeairunway_testenv=debug` shows what the simulations do.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let cp = shared();
        std::thread::Builder::new()
            .name("upstream-simulator".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("simulator runtime");
                runtime.block_on(async {
                    let client = cp.client(User::Admin).await.expect("admin client");
                    match tokio::spawn(simulators::run(client)).await {
                        Ok(Ok(())) => eprintln!("simulators::run returned"),
                        Ok(Err(e)) => eprintln!("simulators::run failed: {e}"),
                        Err(e) => eprintln!("simulators::run panicked: {e}"),
                    }
                });
            })
            .expect("spawn the simulator thread")
    })
}

fn assert_simulator_alive() {
    assert!(
        !simulator().is_finished(),
        "the simulator must keep running"
    );
}

/// Admin client and a fresh namespace, with the upstream CRDs installed and the simulator up.
async fn setup(prefix: &str) -> (Client, String) {
    let cp = shared();
    let client = cp.client(User::Admin).await.expect("client");
    install_upstream_crds(&client)
        .await
        .expect("install the upstream CRDs");
    assert_simulator_alive();
    let ns = cp.namespace(prefix).await.expect("namespace").name;
    (client, ns)
}

fn api(client: &Client, ns: &str, upstream: Upstream) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &upstream.api_resource())
}

async fn create(api: &Api<DynamicObject>, body: Value) -> DynamicObject {
    let obj: DynamicObject = serde_json::from_value(body).expect("object shape");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create the upstream object")
}

fn state(e: kube::Error) -> Error {
    Error::State(e.to_string())
}

/// Waits until the object's status satisfies `done`; returns the object.
async fn wait_status(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> DynamicObject {
    let done = &done;
    wait_until(what, TIMEOUT, || {
        let api = api.clone();
        let name = name.to_string();
        async move {
            let obj = api.get(&name).await.map_err(state)?;
            let status = obj.data.get("status").cloned().unwrap_or(Value::Null);
            let seen = status.to_string();
            Ok((done(&status).then_some(obj), seen))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The status of condition `type_` in `status.conditions`.
fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a str> {
    status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))?
        .get("status")?
        .as_str()
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// Waits until the pods of upstream object `owner` whose names start with `prefix` are exactly
/// `count`, all Running and Ready (none terminating); returns them sorted by name.
async fn wait_ready_pods(
    client: &Client,
    ns: &str,
    owner: &str,
    prefix: &str,
    count: usize,
) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let selector = format!("{LABEL_OWNER}={owner}");
    wait_until(
        &format!("{count} ready pods {prefix}* of {owner}"),
        TIMEOUT,
        || {
            let pods = pods.clone();
            let selector = selector.clone();
            async move {
                let mut list: Vec<Pod> = pods
                    .list(&ListParams::default().labels(&selector))
                    .await
                    .map_err(state)?
                    .items
                    .into_iter()
                    .filter(|p| p.name_any().starts_with(prefix))
                    .collect();
                list.sort_by_key(ResourceExt::name_any);
                let seen = list
                    .iter()
                    .map(|p| {
                        let phase = p.status.as_ref().and_then(|s| s.phase.clone());
                        format!("{} {phase:?}", p.name_any())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let done = list.len() == count
                    && list
                        .iter()
                        .all(|p| is_ready(p) && p.metadata.deletion_timestamp.is_none());
                Ok((done.then_some(list), seen))
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until upstream object `owner` has no pods left (garbage collection).
async fn wait_no_pods(client: &Client, ns: &str, owner: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let selector = format!("{LABEL_OWNER}={owner}");
    wait_until(&format!("the pods of {owner} to be gone"), TIMEOUT, || {
        let pods = pods.clone();
        let selector = selector.clone();
        async move {
            let list = pods
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(state)?;
            let n = list.items.len();
            Ok(((n == 0).then_some(()), format!("{n} pods")))
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

fn node_name(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("a running pod is bound to a node")
}

async fn node_gpus(client: &Client, node: &str) -> u32 {
    let node = Api::<Node>::all(client.clone())
        .get(node)
        .await
        .expect("node");
    node.status
        .and_then(|s| s.allocatable)
        .and_then(|a| a.get(GPU_RESOURCE).map(|q| q.0.clone()))
        .map(|q| q.parse().expect("GPU count"))
        .unwrap_or(0)
}

/// The container `nvidia.com/gpu` limit of a pod, if any.
fn gpu_limit(pod: &Pod) -> Option<String> {
    pod.spec.as_ref()?.containers[0]
        .resources
        .as_ref()?
        .limits
        .as_ref()?
        .get(GPU_RESOURCE)
        .map(|q| q.0.clone())
}

fn provider_labels(deployment: &str, engine: &str) -> Value {
    json!({
        "kubeairunway.ai/managed-by": "kubeairunway",
        "kubeairunway.ai/deployment": deployment,
        "kubeairunway.ai/model-source": "huggingface",
        "kubeairunway.ai/engine-type": engine,
    })
}

/// A DynamoGraphDeployment as the Dynamo provider writes it for an aggregated vLLM model
/// (named after the ModelDeployment, in its namespace).
fn dgd(name: &str, ns: &str, gpus: &str, replicas: u32) -> Value {
    let image = "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1";
    let mut labels = provider_labels(name, "vllm");
    labels["kubeairunway.ai/deployment-namespace"] = ns.into();
    labels["kubeairunway.ai/model-id"] = "Qwen-Qwen2.5-0.5B-Instruct".into();
    json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "metadata": { "name": name, "labels": labels },
        "spec": {
            "backendFramework": "vllm",
            "services": {
                "Frontend": {
                    "componentType": "frontend",
                    "dynamoNamespace": name,
                    "replicas": 1,
                    "router-mode": "round-robin",
                    "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
                    "extraPodSpec": { "mainContainer": { "image": image } },
                },
                "VllmWorker": {
                    "componentType": "worker",
                    "dynamoNamespace": name,
                    "replicas": replicas,
                    "resources": { "limits": { "gpu": gpus }, "requests": { "gpu": gpus } },
                    "extraPodSpec": { "mainContainer": {
                        "image": image,
                        "command": ["python3", "-m", "dynamo.vllm"],
                        "args": ["--model", "Qwen/Qwen2.5-0.5B-Instruct"],
                    } },
                },
            },
        },
    })
}

#[tokio::test]
async fn a_vllm_preset_workspace_runs_on_a_gpu_node_and_succeeds() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-kaito").await;
    let workspaces = api(&client, &ns, Upstream::Workspace);
    let ws = create(
        &workspaces,
        json!({
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": { "name": "phi", "labels": provider_labels("phi", "vllm") },
            "resource": {
                "count": 1,
                "labelSelector": { "matchLabels": { "kubernetes.io/os": "linux" } },
            },
            "inference": { "preset": { "name": "microsoft/Phi-4-mini-instruct" } },
        }),
    )
    .await;

    let pods = wait_ready_pods(&client, &ns, "phi", "phi-", 1).await;
    let pod = &pods[0];
    assert_eq!(pod.name_any(), "phi-0");
    assert_eq!(gpu_limit(pod).as_deref(), Some("1"));
    let node = node_name(pod);
    assert!(
        node_gpus(&client, &node).await >= 1,
        "placed on {node}, which has no GPU"
    );
    assert_eq!(
        pod.labels().get(LABEL_DEPLOYMENT).map(String::as_str),
        Some("phi")
    );
    let owner = &pod.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("Workspace", "phi", Some(true))
    );
    assert_eq!(Some(&owner.uid), ws.metadata.uid.as_ref());
    let selector = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.clone())
        .expect("node selector");
    assert_eq!(
        selector.get("kubernetes.io/os").map(String::as_str),
        Some("linux")
    );

    let ws = wait_status(&workspaces, "phi", "WorkspaceSucceeded=True", |s| {
        condition(s, "WorkspaceSucceeded") == Some("True")
    })
    .await;
    let status = &ws.data["status"];
    assert_eq!(condition(status, "ResourceReady"), Some("True"));
    assert_eq!(condition(status, "InferenceReady"), Some("True"));
    assert_eq!(status["workerNodes"], json!([node]));

    // Deleting the Workspace takes its pods with it (garbage collection by owner reference).
    workspaces
        .delete("phi", &Default::default())
        .await
        .expect("delete");
    wait_no_pods(&client, &ns, "phi").await;
}

#[tokio::test]
async fn a_llamacpp_template_workspace_runs_cpu_pods_with_the_template_resources() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-kaito-cpu").await;
    let workspaces = api(&client, &ns, Upstream::Workspace);
    create(
        &workspaces,
        json!({
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": { "name": "tiny", "labels": provider_labels("tiny", "llamacpp") },
            "resource": {
                "count": 2,
                "labelSelector": { "matchLabels": { "kubernetes.io/os": "linux", "agentpool": "cpu" } },
            },
            "inference": { "template": {
                "metadata": { "labels": { "kubeairunway.ai/deployment": "tiny", "team": "a" } },
                "spec": { "containers": [{
                "name": "model",
                "image": "ghcr.io/ggml-org/llama.cpp:server",
                "args": ["huggingface://Qwen/Qwen2.5-0.5B-Instruct-GGUF", "--address=:5000"],
                "ports": [{ "containerPort": 5000 }],
                "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
            }] } } },
        }),
    )
    .await;

    let pods = wait_ready_pods(&client, &ns, "tiny", "tiny-", 2).await;
    for pod in &pods {
        assert_eq!(pod.labels().get("team").map(String::as_str), Some("a"));
        assert_eq!(gpu_limit(pod), None);
        let container = &pod.spec.as_ref().expect("spec").containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("ghcr.io/ggml-org/llama.cpp:server")
        );
        let requests = container
            .resources
            .as_ref()
            .and_then(|r| r.requests.clone())
            .expect("requests");
        assert_eq!(requests["cpu"].0, "2");
        assert_eq!(requests["memory"].0, "4Gi");
        let node = node_name(pod);
        assert!(node.starts_with("kwok-cpu-"), "agentpool=cpu, got {node}");
    }
    wait_status(&workspaces, "tiny", "WorkspaceSucceeded=True", |s| {
        condition(s, "WorkspaceSucceeded") == Some("True")
    })
    .await;
}

#[tokio::test]
async fn an_aggregated_dgd_runs_worker_and_frontend_and_becomes_successful() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-dynamo").await;
    let dgds = api(&client, &ns, Upstream::DynamoGraphDeployment);
    create(&dgds, dgd("qwen", &ns, "1", 1)).await;

    let workers = wait_ready_pods(&client, &ns, "qwen", "qwen-vllmworker-", 1).await;
    assert_eq!(workers[0].name_any(), "qwen-vllmworker-0");
    assert_eq!(gpu_limit(&workers[0]).as_deref(), Some("1"));
    let node = node_name(&workers[0]);
    assert!(
        node_gpus(&client, &node).await >= 1,
        "worker placed on {node}, which has no GPU"
    );
    let frontends = wait_ready_pods(&client, &ns, "qwen", "qwen-frontend-", 1).await;
    assert_eq!(gpu_limit(&frontends[0]), None);
    assert_eq!(
        frontends[0]
            .labels()
            .get(LABEL_DEPLOYMENT)
            .map(String::as_str),
        Some("qwen")
    );

    let obj = wait_status(&dgds, "qwen", "state successful", |s| {
        s["state"] == "successful"
    })
    .await;
    let status = &obj.data["status"];
    for service in ["VllmWorker", "Frontend"] {
        assert_eq!(
            status["services"][service],
            json!({ "replicas": 1, "readyReplicas": 1, "availableReplicas": 1 }),
            "{status}"
        );
    }
    assert_eq!(condition(status, "Ready"), Some("True"));

    // Nothing changes any more, so the simulation writes nothing more.
    let version = obj.resource_version();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = dgds.get("qwen").await.expect("get");
    assert_eq!(
        again.resource_version(),
        version,
        "status rewritten without a change"
    );
}

#[tokio::test]
async fn a_dgd_worker_asking_for_16_gpus_fails_with_the_schedulers_message() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-dynamo-big").await;
    let dgds = api(&client, &ns, Upstream::DynamoGraphDeployment);
    create(&dgds, dgd("huge", &ns, "16", 1)).await;

    let obj = wait_status(&dgds, "huge", "state failed", |s| s["state"] == "failed").await;
    let status = &obj.data["status"];
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Insufficient nvidia.com/gpu"),
        "status message: {message}"
    );
    assert!(
        message.contains("huge-vllmworker-0"),
        "status message: {message}"
    );
    assert_eq!(
        status["services"]["VllmWorker"],
        json!({ "replicas": 1, "readyReplicas": 0, "availableReplicas": 0 })
    );
    assert_eq!(condition(status, "Ready"), Some("False"));

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let worker = pods.get("huge-vllmworker-0").await.expect("worker pod");
    assert_eq!(gpu_limit(&worker).as_deref(), Some("16"));
    assert!(worker.spec.and_then(|s| s.node_name).is_none());
    // The frontend fits and runs.
    wait_ready_pods(&client, &ns, "huge", "huge-frontend-", 1).await;
}

#[tokio::test]
async fn scaling_a_dgd_worker_adds_and_removes_pods() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-dynamo-scale").await;
    let dgds = api(&client, &ns, Upstream::DynamoGraphDeployment);
    create(&dgds, dgd("scale", &ns, "1", 1)).await;
    wait_ready_pods(&client, &ns, "scale", "scale-vllmworker-", 1).await;
    wait_status(&dgds, "scale", "state successful", |s| {
        s["state"] == "successful"
    })
    .await;

    let scale = |replicas: u32| json!({ "spec": { "services": { "VllmWorker": { "replicas": replicas } } } });
    dgds.patch("scale", &PatchParams::default(), &Patch::Merge(scale(2)))
        .await
        .expect("scale to 2");
    let workers = wait_ready_pods(&client, &ns, "scale", "scale-vllmworker-", 2).await;
    let names: Vec<String> = workers.iter().map(ResourceExt::name_any).collect();
    assert_eq!(names, ["scale-vllmworker-0", "scale-vllmworker-1"]);
    for w in &workers {
        assert!(node_gpus(&client, &node_name(w)).await >= 1);
    }
    wait_status(&dgds, "scale", "2 ready workers", |s| {
        s["state"] == "successful" && s["services"]["VllmWorker"]["readyReplicas"] == 2
    })
    .await;

    dgds.patch("scale", &PatchParams::default(), &Patch::Merge(scale(1)))
        .await
        .expect("scale to 1");
    let workers = wait_ready_pods(&client, &ns, "scale", "scale-vllmworker-", 1).await;
    assert_eq!(workers[0].name_any(), "scale-vllmworker-0");
    wait_status(&dgds, "scale", "1 desired worker", |s| {
        s["state"] == "successful" && s["services"]["VllmWorker"]["replicas"] == 1
    })
    .await;
}

#[tokio::test]
async fn a_ray_service_runs_head_and_gpu_worker_and_its_app_runs() {
    let _shared = EXCLUSIVE.read().await;
    let (client, ns) = setup("sim-ray").await;
    let services = api(&client, &ns, Upstream::RayService);
    let image = "rayproject/ray-ml:2.44.0-py311-gpu";
    let serve_config = "applications:\n- name: llm\n  route_prefix: /\n  import_path: vllm_serve:deployment\n  deployments:\n  - name: VLLMDeployment\n    num_replicas: 1\n";
    create(
        &services,
        json!({
            "apiVersion": "ray.io/v1",
            "kind": "RayService",
            "metadata": { "name": "mistral", "labels": provider_labels("mistral", "vllm") },
            "spec": {
                "serveConfigV2": serve_config,
                "rayClusterConfig": {
                    "headGroupSpec": {
                        "rayStartParams": { "dashboard-host": "0.0.0.0" },
                        "template": { "spec": { "containers": [{
                            "name": "ray-head",
                            "image": image,
                            "resources": { "limits": { "cpu": "4", "memory": "16Gi" } },
                            "env": [{ "name": "MODEL_ID", "value": "mistralai/Mistral-7B-Instruct-v0.3" }],
                        }] } },
                    },
                    "workerGroupSpecs": [{
                        "groupName": "gpu-workers",
                        "replicas": 1, "minReplicas": 1, "maxReplicas": 1,
                        "rayStartParams": {},
                        "template": { "spec": { "containers": [{
                            "name": "ray-worker",
                            "image": image,
                            "resources": { "limits": { "memory": "32Gi", "nvidia.com/gpu": "1" } },
                        }] } },
                    }],
                },
            },
        }),
    )
    .await;

    let head = wait_ready_pods(&client, &ns, "mistral", "mistral-head", 1).await;
    assert_eq!(gpu_limit(&head[0]), None);
    let workers = wait_ready_pods(&client, &ns, "mistral", "mistral-gpu-workers-", 1).await;
    assert_eq!(gpu_limit(&workers[0]).as_deref(), Some("1"));
    let node = node_name(&workers[0]);
    assert!(
        node_gpus(&client, &node).await >= 1,
        "worker placed on {node}, which has no GPU"
    );

    let obj = wait_status(&services, "mistral", "RayServiceReady=True", |s| {
        condition(s, "RayServiceReady") == Some("True")
    })
    .await;
    let app = &obj.data["status"]["activeServiceStatus"]["applicationStatuses"]["llm"];
    assert_eq!(app["status"], "RUNNING", "{app}");
}

#[tokio::test]
async fn deleting_the_upstream_crds_while_the_simulator_runs_does_not_stop_it() {
    let _exclusive = EXCLUSIVE.write().await;
    let (client, ns) = setup("sim-crd-gone").await;
    let dgds = api(&client, &ns, Upstream::DynamoGraphDeployment);
    create(&dgds, dgd("before", &ns, "1", 1)).await;
    wait_status(&dgds, "before", "state successful", |s| {
        s["state"] == "successful"
    })
    .await;

    for name in UPSTREAM_CRD_NAMES {
        uninstall_upstream_crd(&client, name)
            .await
            .expect("uninstall CRD");
    }
    // The API server deleted the DGD with its CRD; the garbage collector takes its pods.
    wait_no_pods(&client, &ns, "before").await;
    // Let the watches of the missing kinds fail and retry a few times.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_simulator_alive();

    install_upstream_crds(&client)
        .await
        .expect("reinstall the CRDs");
    let dgds = api(&client, &ns, Upstream::DynamoGraphDeployment);
    create(&dgds, dgd("after", &ns, "1", 1)).await;
    wait_status(
        &dgds,
        "after",
        "state successful after the CRD came back",
        |s| s["state"] == "successful",
    )
    .await;
    assert_simulator_alive();
}
