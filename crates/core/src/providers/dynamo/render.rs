//! The DynamoGraphDeployment the Dynamo provider applies. The envelope is typed after Dynamo's
//! `nvidia.com/v1alpha1` DGD, with Kubernetes types for environment, tolerations and metadata.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EnvVar, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_core::ResourceExt;
use kubeairunway_api::labels::{DEPLOYMENT_NAMESPACE, MODEL_ID};
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineType, ModelDeployment, ServingMode,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::super::{TransformError, common};
use super::overrides::{FrontendSettings, split_overrides};
use super::{MAX_DYNAMO_NAMESPACE, UPSTREAM, model_id};

/// The fields of a DynamoGraphDeployment this provider sets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DynamoGraphDeployment {
    api_version: String,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: DgdSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DgdSpec {
    backend_framework: &'static str,
    /// Keyed by the service names Dynamo's operator recognises (`Frontend`, `VllmWorker`, …).
    services: BTreeMap<String, Service>,
}

/// One DGD service: the Frontend or a worker.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    component_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_component_type: Option<&'static str>,
    dynamo_namespace: String,
    replicas: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    env_from_secret: Option<String>,
    /// Dynamo spells this key with a dash.
    #[serde(rename = "router-mode", skip_serializing_if = "Option::is_none")]
    router_mode: Option<String>,
    resources: Resources,
    extra_pod_spec: ExtraPodSpec,
    extra_pod_metadata: ExtraPodMetadata,
}

/// Dynamo's resources: quantities by name, with the GPU as a count and its resource name apart.
#[derive(Serialize)]
struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<ResourceItem>,
    requests: ResourceItem,
}

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_type: Option<String>,
}

/// Pod spec fields Dynamo copies onto the service's pods.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtraPodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    node_selector: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tolerations: Option<Vec<Toleration>>,
    main_container: MainContainer,
}

/// The fields of the main container this provider sets. Not a k8s-openapi `Container`: that
/// type always writes `name`, and Dynamo names the container itself.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct MainContainer {
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
}

/// Labels and annotations Dynamo puts on the service's pods.
#[derive(Clone, Serialize)]
struct ExtraPodMetadata {
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

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
    let labels = labels(md, engine, &namespace);
    let annotations = common::annotations_if_any(md);
    let shared = Shared {
        dynamo_namespace: dynamo_namespace(&namespace, &md.name_any()),
        image: image(md, engine),
        env_from_secret: hf_secret(md).map(str::to_string),
        node_selector: common::node_selector(md),
        tolerations: common::tolerations(md),
        pod_metadata: ExtraPodMetadata {
            labels: labels.clone(),
            annotations: annotations.clone(),
        },
    };

    let mut services = BTreeMap::new();
    services.insert("Frontend".to_string(), shared.frontend(&frontend));
    let args = worker_args(md, engine)?;
    match md.spec.serving.mode {
        ServingMode::Aggregated => {
            let mut resources = gpu_resources(common::gpu_count(md), &common::gpu_resource(md));
            let spec_resources = md.spec.resources.as_ref();
            resources.limits.memory = spec_resources.and_then(|r| r.memory.clone());
            resources.limits.cpu = spec_resources.and_then(|r| r.cpu.clone());
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

    let dgd = DynamoGraphDeployment {
        api_version: UPSTREAM.api_version(),
        kind: UPSTREAM.kind,
        metadata: common::object_meta(md, md.name_any(), namespace, labels, annotations),
        spec: DgdSpec {
            backend_framework: engine.as_str(),
            services,
        },
    };
    let mut dgd = common::to_json(&dgd)?;
    if let Some(rest) = rest {
        // The typed keys are taken out; everything else is the escape hatch
        // (docs/contract/controller.md §5.8).
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
struct Shared {
    dynamo_namespace: String,
    image: String,
    env_from_secret: Option<String>,
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Toleration>>,
    /// `extraPodMetadata` of every service: the DGD's labels, so the pods can be found by
    /// `kubeairunway.ai/deployment`, and the `podTemplate` annotations.
    pod_metadata: ExtraPodMetadata,
}

impl Shared {
    fn service(
        &self,
        component_type: &'static str,
        replicas: i32,
        resources: Resources,
        main_container: MainContainer,
    ) -> Service {
        Service {
            component_type,
            sub_component_type: None,
            dynamo_namespace: self.dynamo_namespace.clone(),
            replicas,
            env_from_secret: self.env_from_secret.clone(),
            router_mode: None,
            resources,
            extra_pod_spec: ExtraPodSpec {
                node_selector: self.node_selector.clone(),
                tolerations: self.tolerations.clone(),
                main_container,
            },
            extra_pod_metadata: self.pod_metadata.clone(),
        }
    }

    fn frontend(&self, settings: &FrontendSettings) -> Service {
        let resources = Resources {
            limits: None,
            requests: ResourceItem {
                cpu: Some(settings.cpu.clone()),
                memory: Some(settings.memory.clone()),
                ..ResourceItem::default()
            },
        };
        let container = MainContainer {
            image: self.image.clone(),
            command: None,
            args: None,
            env: Vec::new(),
        };
        Service {
            router_mode: Some(settings.router_mode.clone()),
            ..self.service("frontend", settings.replicas, resources, container)
        }
    }

    fn worker(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
        role: Role,
        replicas: i32,
        resources: WorkerResources,
        mut args: Vec<String>,
    ) -> Service {
        args.extend(role_flags(engine, role).iter().map(|s| s.to_string()));
        let container = MainContainer {
            image: self.image.clone(),
            command: Some(vec![
                "python3".into(),
                "-m".into(),
                format!("dynamo.{}", engine.as_str()),
            ]),
            args: Some(args),
            env: common::env(md),
        };
        let resources = Resources {
            limits: Some(resources.limits),
            requests: resources.requests,
        };
        Service {
            sub_component_type: match role {
                Role::Aggregated => None,
                Role::Prefill => Some("prefill"),
                Role::Decode => Some("decode"),
            },
            ..self.service("worker", replicas, resources, container)
        }
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

/// `resources.limits` / `resources.requests` of a worker: it always writes both.
struct WorkerResources {
    limits: ResourceItem,
    requests: ResourceItem,
}

/// GPU count as a decimal string in limits and requests (when above zero); `gpuType` only for a
/// non-default GPU resource, so the default shape stays the reference's.
fn gpu_resources(count: i32, gpu_type: &str) -> WorkerResources {
    let mut gpu = ResourceItem::default();
    if count > 0 {
        gpu.gpu = Some(count.to_string());
        if gpu_type != DEFAULT_GPU_RESOURCE {
            gpu.gpu_type = Some(gpu_type.to_string());
        }
    }
    WorkerResources {
        limits: gpu.clone(),
        requests: gpu,
    }
}

/// A disaggregated worker's GPUs, and its memory as a limit.
fn component_resources(component: &ComponentScalingSpec) -> WorkerResources {
    let (count, gpu_type) = component
        .gpu
        .as_ref()
        .map_or((0, DEFAULT_GPU_RESOURCE), |g| (g.count, g.type_.as_str()));
    let mut resources = gpu_resources(count, gpu_type);
    resources.limits.memory = component.memory.clone();
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

/// `<namespace>-<name>`, label-safe; names too long for a label keep a hash of the full value so
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

/// `spec.image`, else Dynamo's runtime image for the engine; the Frontend runs the worker image
/// (docs/contract/controller.md §7.3).
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

/// The token Secret every service loads through `envFromSecret` (docs/contract/controller.md §7.3).
fn hf_secret(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref())
        .filter(|s| !s.is_empty())
}
