//! The DynamoGraphDeployment the Dynamo provider applies.

use std::collections::BTreeMap;

use kube_core::ResourceExt;
use kubeairunway_api::labels::{DEPLOYMENT_NAMESPACE, MODEL_ID};
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineType, ModelDeployment, ServingMode,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::super::{TransformError, common};
use super::overrides::{FrontendSettings, split_overrides};
use super::{MAX_DYNAMO_NAMESPACE, UPSTREAM, model_id};

/// The DGD: a Frontend plus the worker services of the serving mode.
pub(super) fn desired(
    md: &ModelDeployment,
    engine: EngineType,
) -> Result<Vec<Value>, TransformError> {
    let prefix = match engine {
        EngineType::Vllm => "Vllm",
        EngineType::Sglang => "Sglang",
        EngineType::Trtllm => "Trtllm",
        EngineType::Llamacpp => {
            return Err(TransformError(
                "engine llamacpp is not supported by Dynamo (supported: vllm, sglang, trtllm)"
                    .into(),
            ));
        }
    };
    let namespace = md
        .namespace()
        .ok_or_else(|| TransformError("the ModelDeployment has no namespace".into()))?;
    let (frontend, rest) = split_overrides(md)?;
    let shared = Shared {
        dynamo_namespace: dynamo_namespace(&namespace, &md.name_any()),
        image: image(md, engine),
        hf_secret: hf_secret(md),
        scheduling: scheduling(md),
        pod_metadata: pod_metadata(md, engine, &namespace),
    };

    let mut services = Map::new();
    services.insert("Frontend".into(), shared.frontend(&frontend));
    let args = worker_args(md, engine)?;
    match md.spec.serving.mode {
        ServingMode::Aggregated => {
            let gpus = common::gpu_count(md);
            let mut resources = gpu_resources(gpus, &common::gpu_resource(md));
            let spec_resources = md.spec.resources.as_ref();
            if let Some(memory) = spec_resources.and_then(|r| r.memory.as_ref()) {
                resources.limits.insert("memory".into(), json!(memory));
            }
            if let Some(cpu) = spec_resources.and_then(|r| r.cpu.as_ref()) {
                resources.limits.insert("cpu".into(), json!(cpu));
            }
            let worker = shared.worker(
                md,
                engine,
                Role::Aggregated,
                common::replicas(md),
                resources,
                args,
            );
            services.insert(format!("{prefix}Worker"), worker);
        }
        ServingMode::Disaggregated => {
            let scaling = &md.spec.scaling;
            let missing = |what: &str| {
                TransformError(format!(
                    "spec.scaling.{what} is required when spec.serving.mode is disaggregated"
                ))
            };
            let prefill = scaling.prefill.as_ref().ok_or_else(|| missing("prefill"))?;
            let decode = scaling.decode.as_ref().ok_or_else(|| missing("decode"))?;
            for (role, component, key) in [
                (Role::Prefill, prefill, "PrefillWorker"),
                (Role::Decode, decode, "DecodeWorker"),
            ] {
                let worker = shared.worker(
                    md,
                    engine,
                    role,
                    component.replicas.max(0),
                    component_resources(component),
                    args.clone(),
                );
                services.insert(format!("{prefix}{key}"), worker);
            }
        }
    }

    let mut dgd = json!({
        "apiVersion": UPSTREAM.api_version(),
        "kind": UPSTREAM.kind,
        "metadata": metadata(md, engine, &namespace),
        "spec": {
            "backendFramework": engine.as_str(),
            "services": services,
        },
    });
    if let Some(rest) = rest {
        // The typed keys are taken out; everything else is the escape hatch (§5.8).
        let mut stripped = md.clone();
        if let Some(provider) = stripped.spec.provider.as_mut() {
            provider.overrides = Some(Value::Object(rest));
        }
        common::apply_overrides(&stripped, &mut dgd)?;
    }
    Ok(vec![dgd])
}

/// Which worker a service runs: the only one (aggregated), or one half of a split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Aggregated,
    Prefill,
    Decode,
}

/// What every service of one DGD shares.
struct Shared<'a> {
    dynamo_namespace: String,
    image: String,
    hf_secret: Option<&'a str>,
    /// `nodeSelector` / `tolerations` for `extraPodSpec`.
    scheduling: Map<String, Value>,
    /// `extraPodMetadata` of every service.
    pod_metadata: Value,
}

impl Shared<'_> {
    fn service(&self, component_type: &str, replicas: i32) -> Map<String, Value> {
        let mut service = Map::new();
        service.insert("componentType".into(), json!(component_type));
        service.insert("dynamoNamespace".into(), json!(self.dynamo_namespace));
        service.insert("replicas".into(), json!(replicas));
        if let Some(secret) = self.hf_secret {
            service.insert("envFromSecret".into(), json!(secret));
        }
        service.insert("extraPodMetadata".into(), self.pod_metadata.clone());
        service
    }

    fn extra_pod_spec(&self, main_container: Value) -> Value {
        let mut spec = self.scheduling.clone();
        spec.insert("mainContainer".into(), main_container);
        Value::Object(spec)
    }

    fn frontend(&self, settings: &FrontendSettings) -> Value {
        let mut service = self.service("frontend", settings.replicas);
        service.insert("router-mode".into(), json!(settings.router_mode));
        service.insert(
            "resources".into(),
            json!({ "requests": { "cpu": settings.cpu, "memory": settings.memory } }),
        );
        service.insert(
            "extraPodSpec".into(),
            self.extra_pod_spec(json!({ "image": self.image })),
        );
        Value::Object(service)
    }

    fn worker(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
        role: Role,
        replicas: i32,
        resources: Resources,
        mut args: Vec<String>,
    ) -> Value {
        let mut service = self.service("worker", replicas);
        match role {
            Role::Aggregated => {}
            Role::Prefill => {
                service.insert("subComponentType".into(), json!("prefill"));
            }
            Role::Decode => {
                service.insert("subComponentType".into(), json!("decode"));
            }
        }
        args.extend(role_flags(engine, role).iter().map(|s| s.to_string()));
        service.insert(
            "resources".into(),
            json!({ "limits": resources.limits, "requests": resources.requests }),
        );
        let mut container = json!({
            "image": self.image,
            "command": ["python3", "-m", format!("dynamo.{}", engine.as_str())],
            "args": args,
        });
        let env = common::env(md);
        if !env.is_empty() {
            container["env"] = json!(env);
        }
        service.insert("extraPodSpec".into(), self.extra_pod_spec(container));
        Value::Object(service)
    }
}

/// Flags that make a worker one half of a prefill/decode split, per engine.
fn role_flags(engine: EngineType, role: Role) -> &'static [&'static str] {
    match (engine, role) {
        (_, Role::Aggregated) => &[],
        (EngineType::Vllm, Role::Prefill) => &["--is-prefill-worker"],
        (EngineType::Vllm, Role::Decode) => &[],
        (_, Role::Prefill) => &["--disaggregation-mode", "prefill"],
        (_, Role::Decode) => &["--disaggregation-mode", "decode"],
    }
}

/// Dynamo `resources.limits` / `resources.requests` of a worker.
struct Resources {
    limits: Map<String, Value>,
    requests: Map<String, Value>,
}

/// GPU count as a decimal string in limits and requests (when above zero); `gpuType` only for a
/// non-default GPU resource, so the default shape stays the reference's.
fn gpu_resources(count: i32, gpu_type: &str) -> Resources {
    let mut gpu = Map::new();
    if count > 0 {
        gpu.insert("gpu".into(), json!(count.to_string()));
        if gpu_type != DEFAULT_GPU_RESOURCE {
            gpu.insert("gpuType".into(), json!(gpu_type));
        }
    }
    Resources {
        limits: gpu.clone(),
        requests: gpu,
    }
}

fn component_resources(component: &ComponentScalingSpec) -> Resources {
    let (count, gpu_type) = component
        .gpu
        .as_ref()
        .map_or((0, DEFAULT_GPU_RESOURCE), |g| (g.count, g.type_.as_str()));
    let mut resources = gpu_resources(count, gpu_type);
    if let Some(memory) = &component.memory {
        resources.limits.insert("memory".into(), json!(memory));
    }
    resources
}

/// Worker argv after `python3 -m dynamo.<engine>`: model, served name, context length,
/// trust-remote-code, then the sorted engine arguments.
fn worker_args(md: &ModelDeployment, engine: EngineType) -> Result<Vec<String>, TransformError> {
    // dynamo.trtllm names the model with --model-path; vllm and sglang accept --model.
    let model_flag = if engine == EngineType::Trtllm {
        "--model-path"
    } else {
        "--model"
    };
    let mut args = vec![
        model_flag.to_string(),
        model_id(md).unwrap_or_default().to_string(),
    ];
    if let Some(served) = md
        .spec
        .model
        .served_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        args.extend(["--served-model-name".to_string(), served.to_string()]);
    }
    if let Some(n) = md.spec.engine.context_length {
        match engine {
            EngineType::Vllm => args.extend(["--max-model-len".to_string(), n.to_string()]),
            EngineType::Sglang => args.extend(["--context-length".to_string(), n.to_string()]),
            EngineType::Trtllm | EngineType::Llamacpp => {}
        }
    }
    if md.spec.engine.trust_remote_code && matches!(engine, EngineType::Vllm | EngineType::Sglang) {
        args.push("--trust-remote-code".into());
    }
    args.extend(common::engine_args(md)?);
    Ok(args)
}

/// two deployments never share a Dynamo namespace.
pub(super) fn dynamo_namespace(namespace: &str, name: &str) -> String {
    let full = format!("{namespace}-{name}");
    if full.len() <= MAX_DYNAMO_NAMESPACE {
        return common::sanitize_label(&full);
    }
    let digest = Sha256::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let prefix: String = full.chars().take(MAX_DYNAMO_NAMESPACE - 9).collect();
    let prefix = prefix.trim_end_matches(['-', '_', '.']);
    common::sanitize_label(&format!("{prefix}-{hash}"))
}

/// Labels of the DGD and its pods: `podTemplate` labels, then the shared labels plus the
/// namespace and model id, which win so ownership and selection labels cannot be overwritten.
fn labels(md: &ModelDeployment, engine: EngineType, namespace: &str) -> BTreeMap<String, String> {
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, engine));
    labels.insert(DEPLOYMENT_NAMESPACE.into(), namespace.to_string());
    labels.insert(
        MODEL_ID.into(),
        common::sanitize_label(model_id(md).unwrap_or_default()),
    );
    labels
}

fn metadata(md: &ModelDeployment, engine: EngineType, namespace: &str) -> Value {
    let mut meta = json!({
        "name": md.name_any(),
        "namespace": namespace,
        "labels": common::string_map(&labels(md, engine, namespace)),
        "ownerReferences": [common::owner_reference(md)],
    });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    meta
}

/// `extraPodMetadata` of every service: the DGD's labels (so the pods can be found by
/// `kubeairunway.ai/deployment`) and the `podTemplate` annotations.
fn pod_metadata(md: &ModelDeployment, engine: EngineType, namespace: &str) -> Value {
    let mut meta = json!({ "labels": common::string_map(&labels(md, engine, namespace)) });
    let annotations = common::template_annotations(md);
    if !annotations.is_empty() {
        meta["annotations"] = common::string_map(&annotations);
    }
    meta
}

fn scheduling(md: &ModelDeployment) -> Map<String, Value> {
    let mut spec = Map::new();
    if let Some(selector) = md.spec.node_selector.as_ref().filter(|s| !s.is_empty()) {
        spec.insert("nodeSelector".into(), common::string_map(selector));
    }
    let tolerations: Vec<Value> = md
        .spec
        .tolerations
        .iter()
        .flatten()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    if !tolerations.is_empty() {
        spec.insert("tolerations".into(), Value::Array(tolerations));
    }
    spec
}

fn image(md: &ModelDeployment, engine: EngineType) -> String {
    match md
        .spec
        .image
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(image) => image.to_string(),
        None => match engine {
            EngineType::Sglang => "nvcr.io/nvidia/ai-dynamo/sglang-runtime:0.7.1",
            EngineType::Trtllm => "nvcr.io/nvidia/ai-dynamo/trtllm-runtime:0.7.1",
            EngineType::Vllm | EngineType::Llamacpp => {
                "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1"
            }
        }
        .to_string(),
    }
}

fn hf_secret(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref())
        .filter(|s| !s.is_empty())
}
