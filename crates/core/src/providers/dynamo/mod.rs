//! The `dynamo` provider: serves a ModelDeployment through an NVIDIA Dynamo
//! `nvidia.com/v1alpha1 DynamoGraphDeployment` (controller.md §7): a Frontend plus one worker
//! service (aggregated) or a prefill and a decode worker service (disaggregated). Unlike the
//! reference, the object lives in the ModelDeployment's namespace with an owner reference;
//! every deviation is listed in `docs/providers.md`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::labels::{DEPLOYMENT_NAMESPACE, MODEL_ID};
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EndpointStatus, EngineType, HelmChart, HelmRepo,
    InferenceProviderConfigSpec, InstallationInfo, InstallationStep, ModelDeployment,
    ProviderCapabilities, ReplicaStatus, SelectionRule, ServingMode,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::common;
use super::common::unschedulable_message;
use super::{Incompatible, Observed, ObservedPhase, Provider, TransformError, UpstreamKind};

/// The Dynamo provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct Dynamo;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "nvidia.com",
    version: "v1alpha1",
    kind: "DynamoGraphDeployment",
    plural: "dynamographdeployments",
};

/// Port of the `<name>-frontend` Service Dynamo creates.
const FRONTEND_PORT: i32 = 8000;
const CHART_BASE: &str = "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts";
const CRDS_CHART: &str = "dynamo-crds-0.7.1.tgz";
const PLATFORM_CHART: &str = "dynamo-platform-0.7.1.tgz";
const PLATFORM_NAMESPACE: &str = "dynamo-system";
/// Longest Dynamo namespace: it ends up in label values.
const MAX_DYNAMO_NAMESPACE: usize = 63;

/// Frontend settings read from the typed keys of `spec.provider.overrides`.
#[derive(Debug, PartialEq)]
struct FrontendSettings {
    replicas: i32,
    router_mode: String,
    cpu: String,
    memory: String,
}

impl Default for FrontendSettings {
    fn default() -> Self {
        Self {
            replicas: 1,
            router_mode: "round-robin".into(),
            cpu: "2".into(),
            memory: "4Gi".into(),
        }
    }
}

/// Which worker a service runs: the only one (aggregated), or one half of a split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Aggregated,
    Prefill,
    Decode,
}

impl Provider for Dynamo {
    fn name(&self) -> &'static str {
        "dynamo"
    }

    fn version(&self) -> &'static str {
        "dynamo-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![
                    EngineType::Vllm,
                    EngineType::Sglang,
                    EngineType::Trtllm,
                ]),
                serving_modes: Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated]),
                cpu_support: Some(false),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![
                rule("spec.engine.type == 'trtllm'", 100),
                rule("spec.engine.type == 'sglang'", 100),
                rule(
                    "has(spec.serving) && spec.serving.mode == 'disaggregated'",
                    90,
                ),
                rule(
                    "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && \
                     spec.engine.type == 'vllm'",
                    50,
                ),
            ]),
            installation: Some(InstallationInfo {
                description: Some("NVIDIA Dynamo for high-performance GPU inference".into()),
                default_namespace: Some(PLATFORM_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "nvidia-ai-dynamo".into(),
                    url: "https://helm.ngc.nvidia.com/nvidia/ai-dynamo".into(),
                }]),
                helm_charts: Some(vec![
                    HelmChart {
                        name: "dynamo-crds".into(),
                        chart: format!("{CHART_BASE}/{CRDS_CHART}"),
                        version: None,
                        namespace: "default".into(),
                        create_namespace: Some(false),
                    },
                    HelmChart {
                        name: "dynamo-platform".into(),
                        chart: format!("{CHART_BASE}/{PLATFORM_CHART}"),
                        version: None,
                        namespace: PLATFORM_NAMESPACE.into(),
                        create_namespace: Some(true),
                    },
                ]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Install Dynamo CRDs".into(),
                        command: Some(format!(
                            "helm fetch {CHART_BASE}/{CRDS_CHART} && helm install dynamo-crds \
                             {CRDS_CHART} --namespace default"
                        )),
                        description: "Install the DynamoGraphDeployment and related CRDs.".into(),
                    },
                    InstallationStep {
                        title: "Install Dynamo Platform".into(),
                        command: Some(format!(
                            "helm fetch {CHART_BASE}/{PLATFORM_CHART} && helm install \
                             dynamo-platform {PLATFORM_CHART} --namespace {PLATFORM_NAMESPACE} \
                             --create-namespace"
                        )),
                        description: "Install the Dynamo operator, etcd and NATS. The operator \
                                      must watch every namespace that holds ModelDeployments \
                                      (cluster-wide mode: leave namespaceRestriction off)."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/dynamo.md"
                    .into(),
            ),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        Some(UPSTREAM)
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        if engine == EngineType::Llamacpp {
            return Err(
                "Dynamo does not support engine llamacpp: use vllm, sglang or trtllm, \
                 or choose the kaito or kubernetes provider for llama.cpp"
                    .into(),
            );
        }
        if !common::has_serving_gpu(md) {
            return Err(match md.spec.serving.mode {
                ServingMode::Aggregated => "Dynamo needs a GPU: set spec.resources.gpu.count to \
                                            at least 1, or choose a provider with CPU support"
                    .into(),
                ServingMode::Disaggregated => "Dynamo needs a GPU: set \
                                               spec.scaling.prefill.gpu.count to at least 1"
                    .into(),
            });
        }
        if model_id(md).is_none() {
            return Err(
                "Dynamo needs spec.model.id (the model the workers load, also when the \
                 image carries it): set spec.model.id"
                    .into(),
            );
        }
        Ok(())
    }

    fn desired(
        &self,
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

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        let spec_desired = primary
            .and_then(|dgd| dgd.pointer("/spec/services"))
            .and_then(Value::as_object)
            .and_then(|services| sum_field(services, "replicas"))
            .unwrap_or_else(|| desired_from_spec(md));
        let mut endpoint = EndpointStatus {
            service: Some(format!("{}-frontend", md.name_any())),
            port: Some(FRONTEND_PORT),
        };
        let waiting = |phase: ObservedPhase, message: Option<String>| match phase {
            ObservedPhase::Pending | ObservedPhase::Deploying => {
                unschedulable_message(pods).or(message)
            }
            ObservedPhase::Running | ObservedPhase::Failed => message,
        };

        let Some(status) = primary
            .and_then(|dgd| dgd.get("status"))
            .and_then(Value::as_object)
        else {
            return Observed {
                phase: ObservedPhase::Pending,
                message: waiting(ObservedPhase::Pending, None),
                replicas: Some(ReplicaStatus {
                    desired: spec_desired,
                    ready: 0,
                    available: 0,
                }),
                endpoint: Some(endpoint),
            };
        };

        let phase = match status.get("state").and_then(Value::as_str) {
            Some("successful") => ObservedPhase::Running,
            Some("deploying") => ObservedPhase::Deploying,
            Some("failed") => ObservedPhase::Failed,
            _ => ObservedPhase::Pending,
        };
        let text = |key: &str| {
            status
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let message = if phase == ObservedPhase::Failed {
            let false_condition = primary
                .map(common::conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|(_, s, m)| s == "False" && !m.is_empty())
                .map(|(_, _, m)| m);
            text("message")
                .or_else(|| text("error"))
                .or(false_condition)
        } else {
            text("message")
        };

        let services = status.get("services").and_then(Value::as_object);
        let from_services = |field: &str| services.and_then(|s| sum_field(s, field));
        let top_level = |field: &str| {
            status
                .get(field)
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
        };
        let desired = top_level("desiredReplicas")
            .or_else(|| from_services("replicas"))
            .unwrap_or(spec_desired);
        let ready = top_level("readyReplicas").or_else(|| from_services("readyReplicas"));
        let available =
            top_level("availableReplicas").or_else(|| from_services("availableReplicas"));

        if let Some(service) = status
            .get("endpoint")
            .and_then(|e| e.get("service"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            endpoint.service = Some(service.to_string());
        }
        if let Some(port) = status
            .get("endpoint")
            .and_then(|e| e.get("port"))
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok())
        {
            endpoint.port = Some(port);
        }

        Observed {
            phase,
            message: waiting(phase, message),
            replicas: Some(ReplicaStatus {
                desired,
                ready: ready.unwrap_or(0),
                available: available.unwrap_or(0),
            }),
            endpoint: Some(endpoint),
        }
    }
}

fn rule(condition: &str, priority: i32) -> SelectionRule {
    SelectionRule {
        condition: condition.into(),
        priority,
    }
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
            container["env"] = Value::Array(env);
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

/// Splits `spec.provider.overrides` into the typed Frontend settings and the rest, which is
/// deep-merged into the object. The typed keys are not merged as well.
fn split_overrides(
    md: &ModelDeployment,
) -> Result<(FrontendSettings, Option<Map<String, Value>>), TransformError> {
    let mut settings = FrontendSettings::default();
    let Some(overrides) = md.spec.provider.as_ref().and_then(|p| p.overrides.as_ref()) else {
        return Ok((settings, None));
    };
    let Value::Object(map) = overrides else {
        return Err(TransformError(
            "spec.provider.overrides must be a JSON object".into(),
        ));
    };
    let mut rest = map.clone();
    if let Some(mode) = rest.remove("routerMode") {
        settings.router_mode = mode
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                TransformError(
                    "spec.provider.overrides.routerMode must be a non-empty string such as \
                     round-robin, random or kv"
                        .into(),
                )
            })?
            .to_string();
    }
    if let Some(frontend) = rest.remove("frontend") {
        read_frontend(&frontend, &mut settings)?;
    }
    Ok((settings, (!rest.is_empty()).then_some(rest)))
}

fn read_frontend(frontend: &Value, settings: &mut FrontendSettings) -> Result<(), TransformError> {
    const FIELD: &str = "spec.provider.overrides.frontend";
    let Value::Object(map) = frontend else {
        return Err(TransformError(format!("{FIELD} must be an object")));
    };
    for (key, value) in map {
        match key.as_str() {
            "replicas" => {
                settings.replicas = whole_number(value)
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| {
                        TransformError(format!("{FIELD}.replicas must be a whole number >= 0"))
                    })?;
            }
            "resources" => {
                let Value::Object(resources) = value else {
                    return Err(TransformError(format!(
                        "{FIELD}.resources must be an object"
                    )));
                };
                for (name, quantity) in resources {
                    let target = match name.as_str() {
                        "cpu" => &mut settings.cpu,
                        "memory" => &mut settings.memory,
                        other => {
                            return Err(TransformError(format!(
                                "{FIELD}.resources.{other} is not supported (supported: cpu, \
                                 memory)"
                            )));
                        }
                    };
                    *target = quantity_string(quantity).ok_or_else(|| {
                        TransformError(format!(
                            "{FIELD}.resources.{name} must be a quantity such as \"2\" or \"4Gi\""
                        ))
                    })?;
                }
            }
            other => {
                return Err(TransformError(format!(
                    "{FIELD}.{other} is not supported (supported: replicas, resources.cpu, \
                     resources.memory); set other Frontend fields through \
                     spec.provider.overrides.spec.services.Frontend"
                )));
            }
        }
    }
    Ok(())
}

/// An integer, also when it arrives as a whole JSON double (`2.0`).
fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

fn quantity_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `<namespace>-<name>`, label-safe; names too long for a label keep a hash of the full value so
/// two deployments never share a Dynamo namespace.
fn dynamo_namespace(namespace: &str, name: &str) -> String {
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

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

fn hf_secret(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref())
        .filter(|s| !s.is_empty())
}

/// Replicas the DGD asks for, counted like its status counts them: Frontend plus workers.
fn desired_from_spec(md: &ModelDeployment) -> i32 {
    let frontend = split_overrides(md).map_or(1, |(settings, _)| settings.replicas);
    let workers = match md.spec.serving.mode {
        ServingMode::Aggregated => common::replicas(md),
        ServingMode::Disaggregated => [&md.spec.scaling.prefill, &md.spec.scaling.decode]
            .into_iter()
            .flatten()
            .map(|c| c.replicas.max(0))
            .sum(),
    };
    frontend.saturating_add(workers)
}

/// Sum of an integer field over the services map; `None` when no service has it.
fn sum_field(services: &Map<String, Value>, field: &str) -> Option<i32> {
    services
        .values()
        .filter_map(|s| s.get(field)?.as_i64())
        .filter_map(|n| i32::try_from(n).ok())
        .reduce(i32::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::fixtures::{
        CompatibilityCase, assert_compatibility, md, unschedulable_pod,
    };

    fn aggregated(extra: Value) -> ModelDeployment {
        let mut spec = json!({
            "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" },
            "resources": { "gpu": { "count": 1 } },
        });
        common::deep_merge(&mut spec, &extra);
        md(spec)
    }

    fn disaggregated(extra: Value) -> ModelDeployment {
        let mut spec = json!({
            "model": { "id": "org/model" },
            "serving": { "mode": "disaggregated" },
            "scaling": {
                "prefill": { "replicas": 2, "gpu": { "count": 1 }, "memory": "40Gi" },
                "decode": { "replicas": 3, "gpu": { "count": 2 } },
            },
        });
        common::deep_merge(&mut spec, &extra);
        md(spec)
    }

    fn desired_one(md: &ModelDeployment, engine: EngineType) -> Value {
        let mut objects = Dynamo.desired(md, engine).expect("desired");
        assert_eq!(objects.len(), 1);
        objects.remove(0)
    }

    fn service_keys(dgd: &Value) -> Vec<String> {
        dgd["spec"]["services"]
            .as_object()
            .expect("services")
            .keys()
            .cloned()
            .collect()
    }

    fn main_container<'a>(dgd: &'a Value, service: &str) -> &'a Value {
        &dgd["spec"]["services"][service]["extraPodSpec"]["mainContainer"]
    }

    fn args_of(dgd: &Value, service: &str) -> Vec<String> {
        serde_json::from_value(main_container(dgd, service)["args"].clone()).expect("args")
    }

    #[test]
    fn identity_and_upstream_kind() {
        assert_eq!(Dynamo.name(), "dynamo");
        assert_eq!(Dynamo.version(), "dynamo-provider:v0.1.0");
        let up = Dynamo.upstream().expect("upstream");
        assert_eq!(up.api_version(), "nvidia.com/v1alpha1");
        assert_eq!(up.kind, "DynamoGraphDeployment");
        assert_eq!(up.crd_name(), "dynamographdeployments.nvidia.com");
    }

    #[test]
    fn registration_matches_the_reference() {
        let reg = Dynamo.registration();
        let caps = reg.capabilities.expect("capabilities");
        assert_eq!(
            caps.engines,
            Some(vec![
                EngineType::Vllm,
                EngineType::Sglang,
                EngineType::Trtllm
            ])
        );
        assert_eq!(
            caps.serving_modes,
            Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated])
        );
        assert_eq!(
            (caps.cpu_support, caps.gpu_support),
            (Some(false), Some(true))
        );
        let rules: Vec<(String, i32)> = reg
            .selection_rules
            .expect("rules")
            .into_iter()
            .map(|r| (r.condition, r.priority))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("spec.engine.type == 'trtllm'".to_string(), 100),
                ("spec.engine.type == 'sglang'".to_string(), 100),
                ("has(spec.serving) && spec.serving.mode == 'disaggregated'".to_string(), 90),
                (
                    "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && spec.engine.type == 'vllm'"
                        .to_string(),
                    50
                ),
            ]
        );
        let inst = reg.installation.expect("installation");
        assert_eq!(
            inst.description.as_deref(),
            Some("NVIDIA Dynamo for high-performance GPU inference")
        );
        assert_eq!(inst.default_namespace.as_deref(), Some("dynamo-system"));
        let repos = inst.helm_repos.expect("repos");
        assert_eq!(repos.len(), 1);
        assert_eq!(repos[0].name, "nvidia-ai-dynamo");
        assert_eq!(repos[0].url, "https://helm.ngc.nvidia.com/nvidia/ai-dynamo");
        let charts = inst.helm_charts.expect("charts");
        assert_eq!(
            charts,
            vec![
                HelmChart {
                    name: "dynamo-crds".into(),
                    chart: "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-crds-0.7.1.tgz".into(),
                    version: None,
                    namespace: "default".into(),
                    create_namespace: Some(false),
                },
                HelmChart {
                    name: "dynamo-platform".into(),
                    chart: "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-0.7.1.tgz".into(),
                    version: None,
                    namespace: "dynamo-system".into(),
                    create_namespace: Some(true),
                },
            ]
        );
        let steps = inst.steps.expect("steps");
        assert_eq!(steps[0].title, "Install Dynamo CRDs");
        assert_eq!(
            steps[0].command.as_deref(),
            Some(
                "helm fetch https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-crds-0.7.1.tgz && helm install dynamo-crds dynamo-crds-0.7.1.tgz --namespace default"
            )
        );
        assert_eq!(steps[1].title, "Install Dynamo Platform");
        assert_eq!(
            steps[1].command.as_deref(),
            Some(
                "helm fetch https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-0.7.1.tgz && helm install dynamo-platform dynamo-platform-0.7.1.tgz --namespace dynamo-system --create-namespace"
            )
        );
        assert_eq!(
            reg.documentation.as_deref(),
            Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/dynamo.md"
            )
        );
    }

    #[test]
    fn compatibility_table() {
        let cases: Vec<CompatibilityCase> = vec![
            (
                "vllm with gpu",
                aggregated(json!({})),
                EngineType::Vllm,
                None,
            ),
            (
                "sglang with gpu",
                aggregated(json!({})),
                EngineType::Sglang,
                None,
            ),
            (
                "trtllm with gpu",
                aggregated(json!({})),
                EngineType::Trtllm,
                None,
            ),
            (
                "resources omitted means one gpu",
                md(json!({ "model": { "id": "a/b" } })),
                EngineType::Vllm,
                None,
            ),
            (
                "llamacpp",
                aggregated(json!({})),
                EngineType::Llamacpp,
                Some("does not support engine llamacpp"),
            ),
            (
                "no gpu",
                aggregated(json!({ "resources": { "gpu": { "count": 0 } } })),
                EngineType::Vllm,
                Some("spec.resources.gpu.count"),
            ),
            (
                "disaggregated with prefill gpu",
                disaggregated(json!({})),
                EngineType::Vllm,
                None,
            ),
            (
                "disaggregated without prefill gpu",
                disaggregated(json!({ "scaling": { "prefill": { "gpu": { "count": 0 } } } })),
                EngineType::Vllm,
                Some("spec.scaling.prefill.gpu.count"),
            ),
            (
                "custom source without id",
                aggregated(json!({ "model": { "source": "custom", "id": null } })),
                EngineType::Vllm,
                Some("spec.model.id"),
            ),
        ];
        assert_compatibility(&Dynamo, cases);
    }

    #[test]
    fn aggregated_vllm_shape() {
        let dgd = desired_one(&aggregated(json!({})), EngineType::Vllm);
        let labels = json!({
            "app.kubernetes.io/managed-by": "kubeairunway",
            "kubeairunway.ai/managed-by": "kubeairunway",
            "kubeairunway.ai/deployment": "llama",
            "kubeairunway.ai/deployment-namespace": "team-a",
            "kubeairunway.ai/model-id": "meta-llama-Llama-3.1-8B-Instruct",
            "kubeairunway.ai/model-source": "huggingface",
            "kubeairunway.ai/engine-type": "vllm",
        });
        assert_eq!(
            dgd,
            json!({
                "apiVersion": "nvidia.com/v1alpha1",
                "kind": "DynamoGraphDeployment",
                "metadata": {
                    "name": "llama",
                    "namespace": "team-a",
                    "labels": labels,
                    "ownerReferences": [{
                        "apiVersion": "kubeairunway.ai/v1alpha1",
                        "kind": "ModelDeployment",
                        "name": "llama",
                        "uid": "uid-1",
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "spec": {
                    "backendFramework": "vllm",
                    "services": {
                        "Frontend": {
                            "componentType": "frontend",
                            "dynamoNamespace": "team-a-llama",
                            "replicas": 1,
                            "router-mode": "round-robin",
                            "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
                            "extraPodSpec": { "mainContainer": { "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1" } },
                            "extraPodMetadata": { "labels": labels },
                        },
                        "VllmWorker": {
                            "componentType": "worker",
                            "dynamoNamespace": "team-a-llama",
                            "replicas": 1,
                            "resources": { "limits": { "gpu": "1" }, "requests": { "gpu": "1" } },
                            "extraPodSpec": { "mainContainer": {
                                "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1",
                                "command": ["python3", "-m", "dynamo.vllm"],
                                "args": ["--model", "meta-llama/Llama-3.1-8B-Instruct"],
                            } },
                            "extraPodMetadata": { "labels": labels },
                        },
                    },
                },
            })
        );
    }

    #[test]
    fn service_keys_images_and_commands_per_engine() {
        let cases = [
            (
                EngineType::Vllm,
                "VllmWorker",
                "vllm-runtime",
                "dynamo.vllm",
            ),
            (
                EngineType::Sglang,
                "SglangWorker",
                "sglang-runtime",
                "dynamo.sglang",
            ),
            (
                EngineType::Trtllm,
                "TrtllmWorker",
                "trtllm-runtime",
                "dynamo.trtllm",
            ),
        ];
        for (engine, key, image, module) in cases {
            let dgd = desired_one(&aggregated(json!({})), engine);
            assert_eq!(dgd["spec"]["backendFramework"], json!(engine.as_str()));
            assert_eq!(
                service_keys(&dgd),
                vec!["Frontend".to_string(), key.to_string()]
            );
            let image = format!("nvcr.io/nvidia/ai-dynamo/{image}:0.7.1");
            assert_eq!(main_container(&dgd, key)["image"], json!(image));
            assert_eq!(main_container(&dgd, "Frontend")["image"], json!(image));
            assert_eq!(
                main_container(&dgd, key)["command"],
                json!(["python3", "-m", module])
            );
        }
        let custom = aggregated(json!({ "image": "registry.example/dynamo:dev" }));
        let dgd = desired_one(&custom, EngineType::Sglang);
        assert_eq!(
            main_container(&dgd, "SglangWorker")["image"],
            json!("registry.example/dynamo:dev")
        );
        assert_eq!(
            main_container(&dgd, "Frontend")["image"],
            json!("registry.example/dynamo:dev")
        );
        assert!(Dynamo.desired(&custom, EngineType::Llamacpp).is_err());
    }

    #[test]
    fn worker_args_order_per_engine() {
        let md = aggregated(json!({
            "model": { "servedName": "llama" },
            "engine": { "contextLength": 8192, "trustRemoteCode": true, "args": { "tp": "2", "enforce-eager": "" } },
        }));
        let tail = ["--enforce-eager", "--tp", "2"];
        let cases: [(EngineType, &str, Vec<&str>); 3] = [
            (
                EngineType::Vllm,
                "VllmWorker",
                vec![
                    "--model",
                    "meta-llama/Llama-3.1-8B-Instruct",
                    "--served-model-name",
                    "llama",
                    "--max-model-len",
                    "8192",
                    "--trust-remote-code",
                ],
            ),
            (
                EngineType::Sglang,
                "SglangWorker",
                vec![
                    "--model",
                    "meta-llama/Llama-3.1-8B-Instruct",
                    "--served-model-name",
                    "llama",
                    "--context-length",
                    "8192",
                    "--trust-remote-code",
                ],
            ),
            (
                EngineType::Trtllm,
                "TrtllmWorker",
                vec![
                    "--model-path",
                    "meta-llama/Llama-3.1-8B-Instruct",
                    "--served-model-name",
                    "llama",
                ],
            ),
        ];
        for (engine, key, mut want) in cases {
            want.extend(tail);
            assert_eq!(args_of(&desired_one(&md, engine), key), want, "{engine}");
        }
    }

    #[test]
    fn invalid_engine_arg_keys_are_rejected() {
        for key in ["--tp", "a b", "x=y", ""] {
            let md = aggregated(json!({ "engine": { "args": { key: "1" } } }));
            let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(key);
            assert!(
                err.0.contains("invalid engine argument key"),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn disaggregated_shapes_per_engine() {
        let cases = [
            (
                EngineType::Vllm,
                "Vllm",
                vec!["--is-prefill-worker"],
                Vec::<&str>::new(),
            ),
            (
                EngineType::Sglang,
                "Sglang",
                vec!["--disaggregation-mode", "prefill"],
                vec!["--disaggregation-mode", "decode"],
            ),
            (
                EngineType::Trtllm,
                "Trtllm",
                vec!["--disaggregation-mode", "prefill"],
                vec!["--disaggregation-mode", "decode"],
            ),
        ];
        for (engine, prefix, prefill_flags, decode_flags) in cases {
            let dgd = desired_one(&disaggregated(json!({})), engine);
            let prefill_key = format!("{prefix}PrefillWorker");
            let decode_key = format!("{prefix}DecodeWorker");
            let mut keys = service_keys(&dgd);
            keys.sort();
            let mut want = vec![
                "Frontend".to_string(),
                prefill_key.clone(),
                decode_key.clone(),
            ];
            want.sort();
            assert_eq!(keys, want, "{engine}");

            let services = &dgd["spec"]["services"];
            assert_eq!(services[&prefill_key]["subComponentType"], json!("prefill"));
            assert_eq!(services[&decode_key]["subComponentType"], json!("decode"));
            assert_eq!(services[&prefill_key]["replicas"], json!(2));
            assert_eq!(services[&decode_key]["replicas"], json!(3));
            assert_eq!(
                services[&prefill_key]["resources"],
                json!({ "limits": { "gpu": "1", "memory": "40Gi" }, "requests": { "gpu": "1" } })
            );
            assert_eq!(
                services[&decode_key]["resources"],
                json!({ "limits": { "gpu": "2" }, "requests": { "gpu": "2" } })
            );
            let model_flag = if engine == EngineType::Trtllm {
                "--model-path"
            } else {
                "--model"
            };
            let mut want_prefill = vec![model_flag, "org/model"];
            want_prefill.extend(&prefill_flags);
            let mut want_decode = vec![model_flag, "org/model"];
            want_decode.extend(&decode_flags);
            assert_eq!(args_of(&dgd, &prefill_key), want_prefill, "{engine}");
            assert_eq!(args_of(&dgd, &decode_key), want_decode, "{engine}");
            assert_eq!(services["Frontend"]["componentType"], json!("frontend"));
        }
    }

    #[test]
    fn disaggregated_without_components_is_a_transform_error() {
        for missing in ["prefill", "decode"] {
            let mut md = disaggregated(json!({}));
            match missing {
                "prefill" => md.spec.scaling.prefill = None,
                _ => md.spec.scaling.decode = None,
            }
            let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(missing);
            assert!(err.0.contains(&format!("spec.scaling.{missing}")), "{err}");
        }
    }

    #[test]
    fn replicas_pass_zero_through() {
        let dgd = desired_one(
            &aggregated(json!({ "scaling": { "replicas": 0 } })),
            EngineType::Vllm,
        );
        assert_eq!(dgd["spec"]["services"]["VllmWorker"]["replicas"], json!(0));
        let dgd = desired_one(
            &aggregated(json!({ "scaling": { "replicas": 4 } })),
            EngineType::Vllm,
        );
        assert_eq!(dgd["spec"]["services"]["VllmWorker"]["replicas"], json!(4));
        let md = disaggregated(
            json!({ "scaling": { "prefill": { "replicas": 0 }, "decode": { "replicas": 0 } } }),
        );
        let dgd = desired_one(&md, EngineType::Vllm);
        assert_eq!(
            dgd["spec"]["services"]["VllmPrefillWorker"]["replicas"],
            json!(0)
        );
        assert_eq!(
            dgd["spec"]["services"]["VllmDecodeWorker"]["replicas"],
            json!(0)
        );
    }

    #[test]
    fn worker_resources() {
        let cases = [
            (
                json!({ "resources": { "gpu": { "count": 0 } } }),
                json!({ "limits": {}, "requests": {} }),
            ),
            (
                json!({ "resources": { "gpu": { "count": 2 }, "memory": "64Gi", "cpu": "8" } }),
                json!({ "limits": { "gpu": "2", "memory": "64Gi", "cpu": "8" }, "requests": { "gpu": "2" } }),
            ),
            (
                json!({ "resources": { "gpu": { "count": 1, "type": "amd.com/gpu" } } }),
                json!({ "limits": { "gpu": "1", "gpuType": "amd.com/gpu" }, "requests": { "gpu": "1", "gpuType": "amd.com/gpu" } }),
            ),
        ];
        for (extra, want) in cases {
            let dgd = desired_one(&aggregated(extra.clone()), EngineType::Vllm);
            assert_eq!(
                dgd["spec"]["services"]["VllmWorker"]["resources"], want,
                "{extra}"
            );
        }
        let no_resources = md(json!({ "model": { "id": "a/b" } }));
        let dgd = desired_one(&no_resources, EngineType::Vllm);
        assert_eq!(
            dgd["spec"]["services"]["VllmWorker"]["resources"],
            json!({ "limits": { "gpu": "1" }, "requests": { "gpu": "1" } })
        );
    }

    #[test]
    fn env_secret_and_scheduling() {
        let md = aggregated(json!({
            "env": [{ "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" }],
            "secrets": { "huggingFaceToken": "hf-token-secret" },
            "nodeSelector": { "pool": "h100" },
            "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
        }));
        let dgd = desired_one(&md, EngineType::Vllm);
        let services = &dgd["spec"]["services"];
        assert_eq!(
            main_container(&dgd, "VllmWorker")["env"],
            json!([
                { "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" },
                { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf-token-secret", "key": "HF_TOKEN" } } },
            ])
        );
        assert_eq!(main_container(&dgd, "Frontend").get("env"), None);
        for service in ["Frontend", "VllmWorker"] {
            assert_eq!(
                services[service]["envFromSecret"],
                json!("hf-token-secret"),
                "{service}"
            );
            assert_eq!(
                services[service]["extraPodSpec"]["nodeSelector"],
                json!({ "pool": "h100" }),
                "{service}"
            );
            assert_eq!(
                services[service]["extraPodSpec"]["tolerations"],
                json!([{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }]),
                "{service}"
            );
        }
        let plain = desired_one(&aggregated(json!({})), EngineType::Vllm);
        assert_eq!(
            plain["spec"]["services"]["VllmWorker"].get("envFromSecret"),
            None
        );
        assert_eq!(main_container(&plain, "VllmWorker").get("env"), None);
        assert_eq!(
            plain["spec"]["services"]["VllmWorker"]["extraPodSpec"].get("nodeSelector"),
            None
        );

        let disagg = desired_one(
            &disaggregated(json!({ "env": [{ "name": "A", "value": "1" }] })),
            EngineType::Vllm,
        );
        for service in ["VllmPrefillWorker", "VllmDecodeWorker"] {
            assert_eq!(
                main_container(&disagg, service)["env"],
                json!([{ "name": "A", "value": "1" }])
            );
        }
    }

    #[test]
    fn typed_overrides_are_read_not_merged() {
        let md = aggregated(json!({ "provider": { "overrides": {
            "routerMode": "kv",
            "frontend": { "replicas": 2.0, "resources": { "cpu": 4, "memory": "8Gi" } },
        } } }));
        let dgd = desired_one(&md, EngineType::Vllm);
        let frontend = &dgd["spec"]["services"]["Frontend"];
        assert_eq!(frontend["router-mode"], json!("kv"));
        assert_eq!(frontend["replicas"], json!(2));
        assert_eq!(
            frontend["resources"],
            json!({ "requests": { "cpu": "4", "memory": "8Gi" } })
        );
        assert_eq!(dgd.get("routerMode"), None);
        assert_eq!(dgd.get("frontend"), None);
    }

    #[test]
    fn other_overrides_are_deep_merged() {
        let md = aggregated(json!({ "provider": { "overrides": {
            "routerMode": "random",
            "spec": { "services": { "VllmWorker": { "replicas": 5, "sharedMemory": { "size": "16Gi" } } } },
            "extra": true,
        } } }));
        let dgd = desired_one(&md, EngineType::Vllm);
        let worker = &dgd["spec"]["services"]["VllmWorker"];
        assert_eq!(worker["replicas"], json!(5));
        assert_eq!(worker["sharedMemory"], json!({ "size": "16Gi" }));
        assert_eq!(worker["componentType"], json!("worker"));
        assert_eq!(dgd["extra"], json!(true));
        assert_eq!(
            dgd["spec"]["services"]["Frontend"]["router-mode"],
            json!("random")
        );
        assert_eq!(dgd.get("routerMode"), None);
    }

    #[test]
    fn invalid_overrides_are_rejected() {
        let cases = [
            (json!([1]), "must be a JSON object"),
            (json!({ "routerMode": 3 }), "routerMode"),
            (json!({ "routerMode": "" }), "routerMode"),
            (json!({ "frontend": 1 }), "frontend must be an object"),
            (
                json!({ "frontend": { "replicas": -1 } }),
                "frontend.replicas",
            ),
            (
                json!({ "frontend": { "replicas": 1.5 } }),
                "frontend.replicas",
            ),
            (
                json!({ "frontend": { "image": "x" } }),
                "frontend.image is not supported",
            ),
            (
                json!({ "frontend": { "resources": { "gpu": "1" } } }),
                "resources.gpu is not supported",
            ),
            (
                json!({ "frontend": { "resources": { "cpu": true } } }),
                "resources.cpu",
            ),
            (json!({ "metadata": { "name": "x" } }), "metadata"),
            (json!({ "apiVersion": "v2" }), "apiVersion"),
            (json!({ "kind": "X" }), "kind"),
            (json!({ "status": {} }), "status"),
        ];
        for (overrides, fragment) in cases {
            let md = aggregated(json!({ "provider": { "overrides": overrides.clone() } }));
            let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(fragment);
            assert!(err.0.contains(fragment), "{overrides}: {err}");
        }
    }

    #[test]
    fn dynamo_namespace_is_unique_and_label_safe() {
        assert_eq!(dynamo_namespace("team-a", "llama"), "team-a-llama");
        let long_ns = "n".repeat(63);
        let a = dynamo_namespace(&long_ns, &format!("{}-a", "m".repeat(40)));
        let b = dynamo_namespace(&long_ns, &format!("{}-b", "m".repeat(40)));
        assert_ne!(a, b);
        for value in [&a, &b] {
            assert_eq!(value.len(), 63);
            assert_eq!(&common::sanitize_label(value), value);
            assert!(value.starts_with(&"n".repeat(54)));
        }
        // `a-b`/`c` and `a`/`b-c` share the joined name, but live in different namespaces, so
        // their DGDs (named after the ModelDeployment) cannot collide either.
        assert_eq!(dynamo_namespace("a-b", "c"), "a-b-c");
    }

    #[test]
    fn labels_annotations_and_pod_metadata() {
        let md = aggregated(json!({
            "model": { "id": "Org/Model:v1@x" },
            "podTemplate": { "metadata": {
                "labels": { "team": "a", "kubeairunway.ai/deployment-namespace": "other" },
                "annotations": { "note": "n" },
            } },
        }));
        let dgd = desired_one(&md, EngineType::Vllm);
        let labels = &dgd["metadata"]["labels"];
        assert_eq!(labels["kubeairunway.ai/deployment"], json!("llama"));
        assert_eq!(labels["team"], json!("a"));
        assert_eq!(
            labels["kubeairunway.ai/deployment-namespace"],
            json!("team-a")
        );
        assert_eq!(labels["kubeairunway.ai/model-id"], json!("Org-Model-v1-x"));
        assert_eq!(dgd["metadata"]["annotations"], json!({ "note": "n" }));
        for service in ["Frontend", "VllmWorker"] {
            assert_eq!(
                dgd["spec"]["services"][service]["extraPodMetadata"],
                json!({ "labels": labels.clone(), "annotations": { "note": "n" } }),
                "{service}"
            );
        }
        let plain = desired_one(&aggregated(json!({})), EngineType::Vllm);
        assert_eq!(plain["metadata"].get("annotations"), None);
        assert_eq!(
            plain["spec"]["services"]["VllmWorker"]["extraPodMetadata"],
            json!({ "labels": plain["metadata"]["labels"].clone() })
        );
    }

    fn dgd_with_status(status: Value) -> Value {
        json!({
            "spec": { "services": { "Frontend": { "replicas": 1 }, "VllmWorker": { "replicas": 2 } } },
            "status": status,
        })
    }

    #[test]
    fn no_object_or_no_status_keeps_desired_replicas_and_endpoint() {
        let md = aggregated(json!({ "scaling": { "replicas": 3 } }));
        let want = |desired| Observed {
            phase: ObservedPhase::Pending,
            message: None,
            replicas: Some(ReplicaStatus {
                desired,
                ready: 0,
                available: 0,
            }),
            endpoint: Some(EndpointStatus {
                service: Some("llama-frontend".into()),
                port: Some(8000),
            }),
        };
        // Frontend (1) + workers (3), as the DGD status would count them.
        assert_eq!(Dynamo.observe(&md, None, &[]), want(4));
        let no_status = json!({ "spec": { "services": { "Frontend": { "replicas": 1 }, "VllmWorker": { "replicas": 2 } } } });
        assert_eq!(Dynamo.observe(&md, Some(&no_status), &[]), want(3));
        let malformed = json!({ "status": "weird" });
        assert_eq!(Dynamo.observe(&md, Some(&malformed), &[]), want(4));
        let disagg = disaggregated(
            json!({ "provider": { "overrides": { "frontend": { "replicas": 2 } } } }),
        );
        assert_eq!(
            Dynamo
                .observe(&disagg, None, &[])
                .replicas
                .map(|r| r.desired),
            Some(7)
        );
    }

    #[test]
    fn state_mapping_table() {
        let cases = [
            (json!("successful"), ObservedPhase::Running),
            (json!("deploying"), ObservedPhase::Deploying),
            (json!("failed"), ObservedPhase::Failed),
            (json!("pending"), ObservedPhase::Pending),
            (json!("Unknown"), ObservedPhase::Pending),
            (json!(null), ObservedPhase::Pending),
            (json!(5), ObservedPhase::Pending),
        ];
        for (state, phase) in cases {
            let dgd = dgd_with_status(json!({ "state": state, "message": "m" }));
            let got = Dynamo.observe(&aggregated(json!({})), Some(&dgd), &[]);
            assert_eq!(got.phase, phase, "{state}");
            assert_eq!(got.message.as_deref(), Some("m"), "{state}");
        }
        let dgd = dgd_with_status(json!({ "state": "deploying" }));
        assert_eq!(
            Dynamo
                .observe(&aggregated(json!({})), Some(&dgd), &[])
                .message,
            None
        );
    }

    #[test]
    fn failure_message_falls_back_to_error_then_conditions() {
        let cases = [
            (
                json!({ "state": "failed", "message": "m", "error": "e" }),
                Some("m"),
            ),
            (json!({ "state": "failed", "error": "e" }), Some("e")),
            (
                json!({ "state": "failed", "conditions": [
                    { "type": "Ready", "status": "True", "message": "fine" },
                    { "type": "Ready2", "status": "False", "message": "worker crashed" },
                ] }),
                Some("worker crashed"),
            ),
            (json!({ "state": "failed" }), None),
        ];
        for (status, want) in cases {
            let got = Dynamo.observe(
                &aggregated(json!({})),
                Some(&dgd_with_status(status.clone())),
                &[],
            );
            assert_eq!(got.phase, ObservedPhase::Failed);
            assert_eq!(got.message.as_deref(), want, "{status}");
        }
    }

    #[test]
    fn replicas_are_summed_over_services_and_top_level_wins() {
        let md = aggregated(json!({}));
        let summed = dgd_with_status(json!({ "state": "deploying", "services": {
            "Frontend": { "replicas": 1, "readyReplicas": 1, "availableReplicas": 1 },
            "VllmWorker": { "replicas": 2, "readyReplicas": 1, "availableReplicas": "2" },
            "Broken": 7,
            "Float": { "replicas": 1.5 },
        } }));
        assert_eq!(
            Dynamo.observe(&md, Some(&summed), &[]).replicas,
            Some(ReplicaStatus {
                desired: 3,
                ready: 2,
                available: 1
            })
        );
        let top = dgd_with_status(json!({ "state": "successful",
            "services": { "VllmWorker": { "replicas": 2, "readyReplicas": 2, "availableReplicas": 2 } },
            "desiredReplicas": 5, "readyReplicas": 4, "availableReplicas": 3,
        }));
        assert_eq!(
            Dynamo.observe(&md, Some(&top), &[]).replicas,
            Some(ReplicaStatus {
                desired: 5,
                ready: 4,
                available: 3
            })
        );
        let state_only = dgd_with_status(json!({ "state": "deploying" }));
        assert_eq!(
            Dynamo.observe(&md, Some(&state_only), &[]).replicas,
            Some(ReplicaStatus {
                desired: 3,
                ready: 0,
                available: 0
            })
        );
    }

    #[test]
    fn endpoint_from_status_or_default() {
        let md = aggregated(json!({}));
        let explicit = dgd_with_status(
            json!({ "state": "successful", "endpoint": { "service": "svc", "port": 9000 } }),
        );
        assert_eq!(
            Dynamo.observe(&md, Some(&explicit), &[]).endpoint,
            Some(EndpointStatus {
                service: Some("svc".into()),
                port: Some(9000)
            })
        );
        let partial = dgd_with_status(
            json!({ "state": "successful", "endpoint": { "port": "x", "service": "" } }),
        );
        assert_eq!(
            Dynamo.observe(&md, Some(&partial), &[]).endpoint,
            Some(EndpointStatus {
                service: Some("llama-frontend".into()),
                port: Some(8000)
            })
        );
    }

    #[test]
    fn unschedulable_pods_explain_a_waiting_deployment() {
        let md = aggregated(json!({}));
        let pods = [unschedulable_pod(
            "llama-vllmworker-0",
            "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.",
        )];
        let deploying = dgd_with_status(json!({ "state": "deploying", "message": "waiting" }));
        assert_eq!(
            Dynamo
                .observe(&md, Some(&deploying), &pods)
                .message
                .as_deref(),
            Some(
                "Pod llama-vllmworker-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
            )
        );
        assert_eq!(
            Dynamo.observe(&md, None, &pods).message.as_deref(),
            Some(
                "Pod llama-vllmworker-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
            )
        );
        let failed = dgd_with_status(json!({ "state": "failed", "message": "boom" }));
        assert_eq!(
            Dynamo.observe(&md, Some(&failed), &pods).message.as_deref(),
            Some("boom")
        );
    }
}
