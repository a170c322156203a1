//! The CRDs on a real API server: installation, defaults, schema validation (enums, minimums,
//! CEL rules), immutability, the scale subresource and RBAC aggregation.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::{Client, CustomResourceExt};
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment, crds};
use kubeairunway_testenv::{ControlPlane, User, shared};
use serde_json::{Value, json};

async fn setup(prefix: &str) -> (&'static ControlPlane, Client, String) {
    let cp = shared();
    let client = cp.client(User::Admin).await.expect("admin client");
    crds::install(&client, Duration::from_secs(60))
        .await
        .expect("CRDs install and become Established");
    let ns = cp.namespace(prefix).await.expect("test namespace").name;
    (cp, client, ns)
}

fn dynamic(client: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        ns,
        &ApiResource::erase::<ModelDeployment>(&()),
    )
}

fn md(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": name }, "spec": spec,
    }))
    .expect("valid object shape")
}

fn rejection(result: Result<DynamicObject, kube::Error>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.message.clone()),
        Err(other) => panic!("expected an API rejection, got {other}"),
        Ok(obj) => panic!(
            "expected a rejection, but {:?} was stored",
            obj.metadata.name
        ),
    }
}

fn example(file: &str) -> ModelDeployment {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a ModelDeployment: {e}", path.display()))
}

#[tokio::test]
async fn crds_are_established_with_short_names() {
    let (cp, _client, ns) = setup("crd-names").await;
    let out = cp
        .kubectl(User::Admin)
        .args(["api-resources", "--api-group=kubeairunway.ai", "-o", "wide"])
        .output()
        .expect("kubectl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl api-resources failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md_line = text
        .lines()
        .find(|l| l.starts_with("modeldeployments"))
        .expect("modeldeployments listed");
    assert!(
        md_line.split_whitespace().any(|w| w == "md"),
        "short name md missing: {md_line}"
    );
    let ipc_line = text
        .lines()
        .find(|l| l.starts_with("inferenceproviderconfigs"))
        .expect("ipc listed");
    assert!(
        ipc_line.split_whitespace().any(|w| w == "ipc"),
        "short name ipc missing: {ipc_line}"
    );
    assert!(
        ipc_line.contains("false"),
        "InferenceProviderConfig must be cluster-scoped: {ipc_line}"
    );
    // kubectl resolves the short name against the real discovery document.
    let out = cp
        .kubectl(User::Admin)
        .args(["get", "md", "-n", &ns])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl get md failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn every_example_round_trips_with_defaults_applied() {
    let (_cp, client, ns) = setup("crd-examples").await;
    let api: Api<ModelDeployment> = Api::namespaced(client, &ns);
    for file in [
        "vllm-gpu.yaml",
        "llamacpp-cpu.yaml",
        "disaggregated.yaml",
        "explicit-provider.yaml",
    ] {
        let sent = example(file);
        let name = sent.metadata.name.clone().expect("examples are named");
        let created = api
            .create(&PostParams::default(), &sent)
            .await
            .unwrap_or_else(|e| panic!("{file} rejected: {e}"));
        let stored = api.get(&name).await.expect("stored object readable");
        assert_eq!(
            stored.spec, sent.spec,
            "{file}: the stored spec differs from what was sent"
        );
        assert_eq!(created.spec, stored.spec);
    }
    // Defaults the schema fills in for fields the manifest left out.
    let raw = dynamic(&api.clone().into_client(), &ns)
        .create(
            &PostParams::default(),
            &md("minimal", json!({ "model": { "id": "Qwen/Qwen3-0.6B" } })),
        )
        .await
        .expect("a minimal manifest is valid");
    let spec = &raw.data["spec"];
    assert_eq!(spec["model"]["source"], "huggingface");
    assert_eq!(spec["serving"]["mode"], "aggregated");
    assert_eq!(spec["scaling"]["replicas"], 1);
    assert_eq!(spec["engine"]["trustRemoteCode"], false);
    let gpu = dynamic(&api.into_client(), &ns)
        .create(
            &PostParams::default(),
            &md(
                "gpu-type",
                json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": 2 } } }),
            ),
        )
        .await
        .expect("valid");
    assert_eq!(
        gpu.data["spec"]["resources"]["gpu"]["type"],
        "nvidia.com/gpu"
    );
}

#[tokio::test]
async fn invalid_manifests_are_rejected_with_a_message_naming_the_field() {
    let (_cp, client, ns) = setup("crd-invalid").await;
    let api = dynamic(&client, &ns);
    let disagg = |scaling: Value| json!({ "model": { "id": "a/b" }, "serving": { "mode": "disaggregated" }, "scaling": scaling });
    let one_gpu = json!({ "gpu": { "count": 1 } });
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "bad engine enum",
            "e1".into(),
            json!({ "model": { "id": "a/b" }, "engine": { "type": "tgi" } }),
            "spec.engine.type: Unsupported value: \"tgi\"",
        ),
        (
            "bad source enum",
            "e2".into(),
            json!({ "model": { "id": "a/b", "source": "s3" } }),
            "spec.model.source: Unsupported value",
        ),
        (
            "bad serving mode",
            "e3".into(),
            json!({ "model": { "id": "a/b" }, "serving": { "mode": "split" } }),
            "spec.serving.mode: Unsupported value",
        ),
        (
            "negative replicas",
            "e4".into(),
            json!({ "model": { "id": "a/b" }, "scaling": { "replicas": -1 } }),
            "spec.scaling.replicas",
        ),
        (
            "negative gpu count",
            "e5".into(),
            json!({ "model": { "id": "a/b" }, "resources": { "gpu": { "count": -2 } } }),
            "spec.resources.gpu.count",
        ),
        (
            "zero context length",
            "e6".into(),
            json!({ "model": { "id": "a/b" }, "engine": { "contextLength": 0 } }),
            "spec.engine.contextLength",
        ),
        (
            "missing model",
            "e7".into(),
            json!({ "engine": { "type": "vllm" } }),
            "spec.model: Required value",
        ),
        (
            "empty id with source huggingface",
            "e8".into(),
            json!({ "model": { "id": "", "source": "huggingface" } }),
            "spec.model.id: Required value",
        ),
        (
            "no id at all",
            "e9".into(),
            json!({ "model": {} }),
            "spec.model.id: Required value",
        ),
        (
            "disaggregated without prefill and decode",
            "e10".into(),
            disagg(json!({})),
            "spec.scaling.prefill: Required value",
        ),
        (
            "disaggregated without decode",
            "e11".into(),
            disagg(json!({ "prefill": one_gpu })),
            "spec.scaling.decode: Required value",
        ),
        (
            "disaggregated prefill without GPUs",
            "e12".into(),
            disagg(json!({ "prefill": { "replicas": 1 }, "decode": one_gpu })),
            "spec.scaling.prefill.gpu.count: Required value",
        ),
        (
            "disaggregated decode with 0 GPUs",
            "e13".into(),
            disagg(json!({ "prefill": one_gpu, "decode": { "gpu": { "count": 0 } } })),
            "spec.scaling.decode.gpu.count: Required value",
        ),
        (
            "GPU count with disaggregated",
            "e14".into(),
            json!({ "model": { "id": "a/b" }, "serving": { "mode": "disaggregated" }, "resources": one_gpu, "scaling": { "prefill": one_gpu, "decode": one_gpu } }),
            "spec.resources.gpu: Forbidden",
        ),
        (
            "vLLM without a GPU",
            "e15".into(),
            json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "cpu": "4" } }),
            "spec.resources.gpu.count",
        ),
        (
            "memory that is no quantity",
            "e16".into(),
            json!({ "model": { "id": "a/b" }, "resources": { "memory": "lots" } }),
            "spec.resources.memory",
        ),
        (
            "cpu that is no quantity",
            "e17".into(),
            json!({ "model": { "id": "a/b" }, "resources": { "cpu": "four" } }),
            "spec.resources.cpu",
        ),
        (
            "engine arg key with dashes and spaces",
            "e18".into(),
            json!({ "model": { "id": "a/b" }, "engine": { "args": { "--port 1; rm": "x" } } }),
            "spec.engine.args",
        ),
        (
            "engine arg value not a string",
            "e19".into(),
            json!({ "model": { "id": "a/b" }, "engine": { "args": { "max-num-seqs": 5 } } }),
            "spec.engine.args.max-num-seqs",
        ),
        (
            "replicas not an integer",
            "e20".into(),
            json!({ "model": { "id": "a/b" }, "scaling": { "replicas": "two" } }),
            "spec.scaling.replicas",
        ),
        (
            "name that cannot name a Service",
            "1-starts-with-digit".into(),
            json!({ "model": { "id": "a/b" } }),
            "metadata.name must be a DNS-1035 label",
        ),
        (
            "name longer than 63",
            format!("m{}", "x".repeat(63)),
            json!({ "model": { "id": "a/b" } }),
            "metadata.name must be a DNS-1035 label",
        ),
    ];
    assert!(cases.len() >= 12);
    for (what, name, spec, expected) in cases {
        let (code, message) = rejection(api.create(&PostParams::default(), &md(&name, spec)).await);
        assert_eq!(
            code, 422,
            "{what}: expected 422 Unprocessable Entity, got {code}: {message}"
        );
        assert!(
            message.contains(expected),
            "{what}: message should contain {expected:?}, got: {message}"
        );
    }
    let left = api.list(&Default::default()).await.expect("list");
    assert!(
        left.items.is_empty(),
        "rejected manifests must change nothing, found {:?}",
        left.items
            .iter()
            .map(|o| o.metadata.name.clone())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn identity_fields_are_immutable_on_update() {
    let (_cp, client, ns) = setup("crd-immutable").await;
    let api = dynamic(&client, &ns);
    let spec = json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "provider": { "name": "kaito" }, "resources": { "gpu": { "count": 1 } } });
    api.create(&PostParams::default(), &md("target", spec))
        .await
        .expect("valid");
    let merge = |patch: Value| {
        let api = api.clone();
        async move {
            api.patch(
                "target",
                &PatchParams::default(),
                &Patch::Merge(&json!({ "spec": patch })),
            )
            .await
        }
    };
    let cases = [
        (
            "model id",
            json!({ "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" } }),
            "spec.model.id is immutable",
        ),
        (
            "model source",
            json!({ "model": { "source": "custom" } }),
            "spec.model.source is immutable",
        ),
        (
            "serving mode",
            json!({ "serving": { "mode": "disaggregated" }, "resources": null, "scaling": { "prefill": { "gpu": { "count": 1 } }, "decode": { "gpu": { "count": 1 } } } }),
            "spec.serving.mode is immutable",
        ),
        (
            "provider",
            json!({ "provider": { "name": "dynamo" } }),
            "spec.provider.name cannot change",
        ),
    ];
    for (what, patch, expected) in cases {
        let (code, message) = rejection(merge(patch).await);
        assert_eq!(code, 422, "{what}: {message}");
        assert!(
            message.contains(expected),
            "{what}: expected {expected:?} in {message}"
        );
    }
    // Setting an engine that was empty is allowed; switching it afterwards is not.
    merge(json!({ "engine": { "type": "vllm" } }))
        .await
        .expect("setting an empty engine type is allowed");
    let (code, message) = rejection(merge(json!({ "engine": { "type": "sglang" } })).await);
    assert_eq!(code, 422);
    assert!(
        message.contains("spec.engine.type cannot change"),
        "{message}"
    );
    // Fields that are not identity fields stay editable.
    let scaled = merge(json!({ "scaling": { "replicas": 4 } }))
        .await
        .expect("replicas editable");
    assert_eq!(scaled.data["spec"]["scaling"]["replicas"], 4);
    assert_eq!(scaled.data["spec"]["model"]["id"], "Qwen/Qwen3-0.6B");
}

#[tokio::test]
async fn kubectl_scale_works_through_the_scale_subresource_and_zero_is_stored() {
    let (cp, client, ns) = setup("crd-scale").await;
    let api: Api<ModelDeployment> = Api::namespaced(client, &ns);
    api.create(&PostParams::default(), &example("vllm-gpu.yaml"))
        .await
        .expect("valid example");
    for replicas in ["3", "0"] {
        let out = cp
            .kubectl(User::Admin)
            .args([
                "scale",
                "md/qwen3-0-6b",
                "-n",
                &ns,
                &format!("--replicas={replicas}"),
            ])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl scale failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stored = api.get("qwen3-0-6b").await.expect("readable");
        assert_eq!(stored.spec.scaling.replicas.to_string(), replicas);
    }
    let out = cp
        .kubectl(User::Admin)
        .args(["scale", "md/qwen3-0-6b", "-n", &ns, "--replicas=-1"])
        .output()
        .expect("kubectl runs");
    assert!(!out.status.success(), "negative replicas must be refused");
    assert_eq!(
        api.get("qwen3-0-6b")
            .await
            .expect("readable")
            .spec
            .scaling
            .replicas,
        0
    );
}

#[tokio::test]
async fn rbac_follows_the_aggregated_roles() {
    let (cp, _admin, ns) = setup("crd-rbac").await;
    let manifest = example("llamacpp-cpu.yaml");
    let viewer: Api<ModelDeployment> =
        Api::namespaced(cp.client(User::Viewer).await.expect("client"), &ns);
    // Aggregation is done by the controller-manager, so allow it a moment to take effect.
    let mut listed = viewer.list(&Default::default()).await;
    for _ in 0..50 {
        if listed.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        listed = viewer.list(&Default::default()).await;
    }
    listed.expect("the read-only user can list ModelDeployments (aggregated into view)");
    match viewer.create(&PostParams::default(), &manifest).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "read-only create: {}", s.message),
        other => panic!("the read-only user must not create a ModelDeployment: {other:?}"),
    }
    let team = cp.client(User::TeamA).await.expect("client");
    let in_other_ns: Api<ModelDeployment> = Api::namespaced(team.clone(), &ns);
    match in_other_ns.create(&PostParams::default(), &manifest).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "{}", s.message),
        other => panic!("the team-a user must not create outside team-a: {other:?}"),
    }
    let own: Api<ModelDeployment> = Api::namespaced(team, User::TEAM_NAMESPACE);
    let mut m = manifest.clone();
    m.metadata.name = Some(format!("team-{}", &ns[ns.len() - 6..]));
    own.create(&PostParams::default(), &m)
        .await
        .expect("the team-a user can create in team-a (aggregated into edit)");
}

#[tokio::test]
async fn inference_provider_configs_validate_and_default() {
    let (_cp, client, _ns) = setup("crd-ipc").await;
    let api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::erase::<InferenceProviderConfig>(&()),
    );
    let name = format!("test-provider-{}", std::process::id());
    let ipc = |rules: Value| -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
            "metadata": { "name": name },
            "spec": {
                "capabilities": { "engines": ["vllm", "llamacpp"], "servingModes": ["aggregated"], "cpuSupport": true, "gpuSupport": true },
                "selectionRules": rules,
                "installation": {
                    "description": "Test provider", "defaultNamespace": "test-system",
                    "helmRepos": [{ "name": "test", "url": "http://127.0.0.1:1/charts" }],
                    "helmCharts": [{ "name": "test", "chart": "test/test", "namespace": "test-system", "createNamespace": true }],
                    "steps": [{ "title": "Install", "command": "helm install test test/test", "description": "Installs the operator" }],
                },
                "documentation": "https://example.invalid/docs",
            },
        }))
        .expect("shape")
    };
    let (code, message) = rejection(
        api.create(
            &PostParams::default(),
            &ipc(json!([{ "condition": "true", "priority": -1 }])),
        )
        .await,
    );
    assert_eq!(code, 422);
    assert!(
        message.contains("spec.selectionRules[0].priority"),
        "{message}"
    );
    let (code, message) = rejection(
        api.create(&PostParams::default(), &ipc(json!([{ "priority": 1 }])))
            .await,
    );
    assert_eq!(code, 422);
    assert!(
        message.contains("spec.selectionRules[0].condition: Required value"),
        "{message}"
    );
    let created = api
        .create(
            &PostParams::default(),
            &ipc(json!([{ "condition": "spec.engine.type == 'llamacpp'" }])),
        )
        .await
        .expect("valid provider config");
    assert_eq!(
        created.data["spec"]["selectionRules"][0]["priority"], 0,
        "priority defaults to 0"
    );
    let typed: Api<InferenceProviderConfig> = Api::all(client);
    let back = typed.get(&name).await.expect("typed read");
    let caps = back.spec.capabilities.expect("capabilities kept");
    assert_eq!(caps.cpu_support, Some(true));
    typed
        .delete(&name, &Default::default())
        .await
        .expect("delete");
    assert!(
        InferenceProviderConfig::crd()
            .spec
            .names
            .short_names
            .is_some()
    );
}
