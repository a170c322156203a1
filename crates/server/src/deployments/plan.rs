//! The body of `POST /api/deployments` and its mapping onto a ModelDeployment.
//!
//! Every field the body accepts ends up in the ModelDeployment, or the request is rejected with a
//! 400 that says why (docs/contract/api.md §19.1): the reference validated `imageRef`,
//! `computeType`, `enforceEager` and others and then silently dropped them. Where the CRD has no
//! place for a value (or a combination makes a value meaningless), the request is refused rather
//! than the value dropped.

use std::collections::BTreeMap;

use kubeairunway_api::labels::{MANAGED_BY, MANAGED_BY_VALUE};
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineSpec, EngineType, GpuSpec, ModelDeployment,
    ModelDeploymentSpec, ModelSource, ModelSpec, ProviderSpec, ResourceSpec, ScalingSpec,
    SecretsSpec, ServingMode, ServingSpec,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::extract::{InvalidName, truncate, validate_deployment_name};
use crate::wire::Engine;

/// Names that would be shadowed by the static routes `/api/deployments/{events,preview}`.
const RESERVED_NAMES: [&str; 2] = ["events", "preview"];
/// Where AIKit publishes its premade images (`<registry>/<premadeModel>`, docs/contract/api.md
/// §16.2).
const AIKIT_IMAGES: &str = "ghcr.io/kaito-project/aikit";
/// Most engine arguments the CRD accepts.
const MAX_ENGINE_ARGS: usize = 64;

/// Serving mode.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every replica runs prefill and decode.
    #[default]
    Aggregated,
    /// Separate prefill and decode workers.
    Disaggregated,
}

/// Dynamo's request routing.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RouterMode {
    /// The provider's default.
    None,
    /// KV-cache-aware routing.
    Kv,
    /// Round robin.
    RoundRobin,
}

/// Where the model comes from (the reference UI's KAITO choices).
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelSourceKind {
    /// A premade AIKit image (`premadeModel`): the image carries the model.
    Premade,
    /// Downloaded from HuggingFace.
    Huggingface,
    /// A HuggingFace model served by vLLM.
    Vllm,
}

/// How a GGUF model runs.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum GgufRunMode {
    /// llama.cpp downloads `ggufFile` from the model repository at start.
    Direct,
    /// `imageRef` is an image built with the GGUF file inside.
    Build,
}

/// CPU or GPU serving.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ComputeType {
    /// No GPU (`resources.gpu.count: 0`).
    Cpu,
    /// At least one GPU.
    Gpu,
}

/// Compute per replica.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcesRequest {
    /// GPUs per replica (0 for CPU serving).
    pub gpu: i64,
    /// Memory per replica, a Kubernetes quantity such as `32Gi`.
    #[serde(default)]
    pub memory: Option<String>,
    /// CPU per replica, a Kubernetes quantity such as `4` or `500m` (aggregated mode).
    #[serde(default)]
    pub cpu: Option<String>,
}

/// Body of `POST /api/deployments` and `POST /api/deployments/preview`. Unknown fields are
/// rejected.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDeploymentRequest {
    /// Deployment name: a DNS-1035 label (lower-case letters, digits, `-`; starts with a letter;
    /// at most 63 characters).
    pub name: String,
    /// HuggingFace model id (`org/name`) → `spec.model.id`.
    pub model_id: String,
    /// Engine → `spec.engine.type`; omitted: the controller selects one.
    #[serde(default)]
    pub engine: Option<Engine>,
    /// Namespace; the settings' default namespace when omitted.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `aggregated` (default) or `disaggregated` → `spec.serving.mode`.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Provider (InferenceProviderConfig name) → `spec.provider.name`; omitted or empty:
    /// selected by the controller.
    #[serde(default)]
    pub provider: Option<String>,
    /// Name the model is served as → `spec.model.servedName`.
    #[serde(default)]
    pub served_model_name: Option<String>,
    /// Dynamo routing → `spec.provider.overrides.routerMode` (`kv`, `round-robin`; needs
    /// `provider: dynamo`); `none` keeps the provider's default.
    #[serde(default)]
    pub router_mode: Option<RouterMode>,
    /// Replicas (aggregated mode), ≥ 0, default 1 → `spec.scaling.replicas`.
    #[serde(default)]
    pub replicas: Option<i64>,
    /// Secret with the HuggingFace token (`HF_TOKEN` key) → `spec.secrets.huggingFaceToken`.
    #[serde(default)]
    pub hf_token_secret: Option<String>,
    /// Context length in tokens → `spec.engine.contextLength`.
    #[serde(default)]
    pub context_length: Option<i64>,
    /// Run without CUDA graphs: `--enforce-eager` (vLLM) or `--disable-cuda-graph` (SGLang) in
    /// `spec.engine.args`. `false` keeps the engine's default.
    #[serde(default)]
    pub enforce_eager: Option<bool>,
    /// `--enable-prefix-caching` in `spec.engine.args` (vLLM). `false` keeps the engine's
    /// default.
    #[serde(default)]
    pub enable_prefix_caching: Option<bool>,
    /// → `spec.engine.trustRemoteCode`.
    #[serde(default)]
    pub trust_remote_code: Option<bool>,
    /// Compute per replica → `spec.resources` (aggregated) or the components' GPUs and memory
    /// (disaggregated).
    #[serde(default)]
    pub resources: Option<ResourcesRequest>,
    /// Extra engine flags (`--key value`), string values only → `spec.engine.args`.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, String>>)]
    pub engine_args: Option<Map<String, Value>>,
    /// Prefill workers (disaggregated), ≥ 0, default 1 → `spec.scaling.prefill.replicas`.
    #[serde(default)]
    pub prefill_replicas: Option<i64>,
    /// Decode workers (disaggregated), ≥ 0, default 1 → `spec.scaling.decode.replicas`.
    #[serde(default)]
    pub decode_replicas: Option<i64>,
    /// GPUs per prefill worker, default `resources.gpu` or 1 → `spec.scaling.prefill.gpu`.
    #[serde(default)]
    pub prefill_gpus: Option<i64>,
    /// GPUs per decode worker, default `resources.gpu` or 1 → `spec.scaling.decode.gpu`.
    #[serde(default)]
    pub decode_gpus: Option<i64>,
    /// `premade` (AIKit image, `spec.model.source: custom`), `huggingface`, or `vllm` (engine
    /// vLLM).
    #[serde(default)]
    pub model_source: Option<ModelSourceKind>,
    /// AIKit premade model id such as `llama3.2:1b` → `spec.image`
    /// `ghcr.io/kaito-project/aikit/<id>` (with `modelSource: premade`).
    #[serde(default)]
    pub premade_model: Option<String>,
    /// GGUF file of the repository to run directly → `spec.engine.args["hf-file"]` (llama.cpp).
    #[serde(default)]
    pub gguf_file: Option<String>,
    /// Container image → `spec.image`.
    #[serde(default)]
    pub image_ref: Option<String>,
    /// `direct` (needs `ggufFile`) or `build` (needs `imageRef`, the image carries the model).
    #[serde(default)]
    pub gguf_run_mode: Option<GgufRunMode>,
    /// `cpu` (no GPU) or `gpu` (at least one).
    #[serde(default)]
    pub compute_type: Option<ComputeType>,
    /// Same as `contextLength` (the reference's KAITO field); both must agree when both are given.
    #[serde(default)]
    pub max_model_len: Option<i64>,
}

/// Why a request cannot become a ModelDeployment, in words the user can act on: the message
/// names the field (or the combination of fields) and the rule. Handlers answer it as a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    /// The deployment name breaks the naming rules.
    #[error(transparent)]
    Name(#[from] InvalidName),
    /// A field, or a combination of fields, breaks a rule of the mapping.
    #[error("{0}")]
    Field(String),
}

impl InvalidRequest {
    fn field(message: impl Into<String>) -> Self {
        Self::Field(message.into())
    }
}

/// A validated request: the ModelDeployment to create and the GPUs it asks for.
#[derive(Debug)]
pub(crate) struct Plan {
    pub deployment: ModelDeployment,
    /// GPUs of the whole deployment.
    pub total_gpus: i64,
    /// Largest GPU count one pod needs (on one node).
    pub gpus_per_worker: i64,
    /// Explicitly requested provider.
    pub provider: Option<String>,
}

impl Plan {
    /// Maps `req` onto a ModelDeployment in `namespace`, or says which field is wrong.
    pub fn from_request(
        req: &CreateDeploymentRequest,
        namespace: &str,
    ) -> Result<Self, InvalidRequest> {
        validate_deployment_name(&req.name)?;
        if RESERVED_NAMES.contains(&req.name.as_str()) {
            return Err(InvalidRequest::field(format!(
                "The name \"{}\" is reserved: /api/deployments/{} is another endpoint; choose another name",
                req.name, req.name
            )));
        }
        let model_id = text("modelId", &req.model_id, 256)?;
        let mode = req.mode.unwrap_or_default();
        let mut engine = req.engine;
        let mut source = ModelSource::Huggingface;
        let mut args = engine_args(req.engine_args.as_ref())?;

        // Image and model source.
        let mut image = req
            .image_ref
            .as_deref()
            .map(|i| image_ref("imageRef", i))
            .transpose()?;
        match req.model_source {
            None | Some(ModelSourceKind::Huggingface) => {}
            Some(ModelSourceKind::Vllm) => {
                require_engine(&mut engine, Engine::Vllm, "modelSource vllm")?
            }
            Some(ModelSourceKind::Premade) => {
                source = ModelSource::Custom;
                if let Some(premade) = &req.premade_model {
                    let premade_image = format!("{AIKIT_IMAGES}/{}", premade_id(premade)?);
                    if image.as_ref().is_some_and(|i| *i != premade_image) {
                        return Err(InvalidRequest::field(format!(
                            "imageRef and premadeModel name different images ({premade_image}); give one of them"
                        )));
                    }
                    image = Some(premade_image);
                }
                if image.is_none() {
                    return Err(InvalidRequest::field(
                        "modelSource premade needs premadeModel (an AIKit model id such as llama3.2:1b) or imageRef",
                    ));
                }
                require_engine(&mut engine, Engine::Llamacpp, "modelSource premade")?;
            }
        }
        if req.premade_model.is_some() && req.model_source != Some(ModelSourceKind::Premade) {
            return Err(InvalidRequest::field(
                "premadeModel needs modelSource premade",
            ));
        }
        let run_mode = req
            .gguf_run_mode
            .or_else(|| req.gguf_file.as_ref().map(|_| GgufRunMode::Direct));
        if run_mode.is_some() && req.model_source == Some(ModelSourceKind::Premade) {
            return Err(InvalidRequest::field(
                "ggufFile and ggufRunMode do not apply to modelSource premade (the image carries the model)",
            ));
        }
        match run_mode {
            None => {}
            Some(GgufRunMode::Direct) => {
                let file = req.gguf_file.as_deref().ok_or_else(|| {
                    InvalidRequest::field(
                        "ggufRunMode direct needs ggufFile (the .gguf file to run)",
                    )
                })?;
                require_engine(&mut engine, Engine::Llamacpp, "ggufFile")?;
                insert_arg(&mut args, "hf-file", &gguf_file(file)?, "ggufFile")?;
            }
            Some(GgufRunMode::Build) => {
                if req.gguf_file.is_some() {
                    return Err(InvalidRequest::field(
                        "ggufFile does not apply to ggufRunMode build: the built image (imageRef) carries the file",
                    ));
                }
                if req.image_ref.is_none() {
                    return Err(InvalidRequest::field(
                        "ggufRunMode build needs imageRef (the image built with the GGUF file)",
                    ));
                }
                require_engine(&mut engine, Engine::Llamacpp, "ggufRunMode build")?;
                source = ModelSource::Custom;
            }
        }

        // Engine settings.
        let context_length = match (
            positive_i32("contextLength", req.context_length)?,
            positive_i32("maxModelLen", req.max_model_len)?,
        ) {
            (Some(a), Some(b)) if a != b => {
                return Err(InvalidRequest::field(format!(
                    "contextLength ({a}) and maxModelLen ({b}) disagree; give one of them"
                )));
            }
            (a, b) => a.or(b),
        };
        if req.enforce_eager == Some(true) {
            let flag = match engine {
                Some(Engine::Vllm) => "enforce-eager",
                Some(Engine::Sglang) => "disable-cuda-graph",
                other => return Err(unsupported_flag("enforceEager", other, "vllm or sglang")),
            };
            insert_arg(&mut args, flag, "", "enforceEager")?;
        }
        if req.enable_prefix_caching == Some(true) {
            match engine {
                Some(Engine::Vllm) => {
                    insert_arg(
                        &mut args,
                        "enable-prefix-caching",
                        "",
                        "enablePrefixCaching",
                    )?;
                }
                Some(Engine::Sglang) => {
                    return Err(InvalidRequest::field(
                        "enablePrefixCaching: SGLang always caches prefixes (RadixAttention); leave it unset",
                    ));
                }
                other => return Err(unsupported_flag("enablePrefixCaching", other, "vllm")),
            }
        }

        // Provider, routing, secrets.
        let provider = req
            .provider
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| dns_subdomain("provider", p))
            .transpose()?;
        let overrides = match req.router_mode {
            None | Some(RouterMode::None) => None,
            Some(mode) => {
                if provider.as_deref() != Some("dynamo") {
                    return Err(InvalidRequest::field(
                        "routerMode kv or round-robin needs provider dynamo (the only provider with a router)",
                    ));
                }
                let value = if mode == RouterMode::Kv {
                    "kv"
                } else {
                    "round-robin"
                };
                Some(json!({ "routerMode": value }))
            }
        };
        let secret = req
            .hf_token_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| dns_subdomain("hfTokenSecret", s))
            .transpose()?;
        let served_name = req
            .served_model_name
            .as_deref()
            .map(|n| text("servedModelName", n, 256))
            .transpose()?;

        // Scaling and compute.
        let (scaling, resources, total_gpus, gpus_per_worker) = compute(req, mode)?;

        let spec = ModelDeploymentSpec {
            model: ModelSpec {
                id: Some(model_id),
                served_name,
                source,
            },
            provider: (provider.is_some() || overrides.is_some()).then(|| ProviderSpec {
                name: provider.clone(),
                overrides,
            }),
            engine: EngineSpec {
                type_: engine.map(EngineType::from),
                context_length,
                trust_remote_code: req.trust_remote_code.unwrap_or(false),
                args: (!args.is_empty()).then_some(args),
            },
            serving: ServingSpec {
                mode: match mode {
                    Mode::Aggregated => ServingMode::Aggregated,
                    Mode::Disaggregated => ServingMode::Disaggregated,
                },
            },
            scaling,
            resources,
            image,
            secrets: secret.map(|s| SecretsSpec {
                hugging_face_token: Some(s),
            }),
            ..Default::default()
        };
        let mut deployment = ModelDeployment::new(&req.name, spec);
        deployment.metadata.namespace = Some(namespace.to_string());
        deployment.metadata.labels = Some(BTreeMap::from([
            (
                "app.kubernetes.io/name".to_string(),
                MANAGED_BY_VALUE.to_string(),
            ),
            ("app.kubernetes.io/instance".to_string(), req.name.clone()),
            (MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        ]));
        Ok(Self {
            deployment,
            total_gpus,
            gpus_per_worker,
            provider,
        })
    }
}

/// Scaling, resources, total GPUs and GPUs per worker for the serving mode.
fn compute(
    req: &CreateDeploymentRequest,
    mode: Mode,
) -> Result<(ScalingSpec, Option<ResourceSpec>, i64, i64), InvalidRequest> {
    let resources = req.resources.as_ref();
    let gpu = resources
        .map(|r| non_negative_i32("resources.gpu", Some(r.gpu)))
        .transpose()?
        .flatten();
    let memory = resources
        .and_then(|r| r.memory.as_deref())
        .map(|m| quantity("resources.memory", m))
        .transpose()?;
    match mode {
        Mode::Aggregated => {
            for (field, value) in [
                ("prefillReplicas", req.prefill_replicas),
                ("decodeReplicas", req.decode_replicas),
                ("prefillGpus", req.prefill_gpus),
                ("decodeGpus", req.decode_gpus),
            ] {
                if value.is_some() {
                    return Err(InvalidRequest::field(format!(
                        "{field} applies to mode disaggregated only; this deployment is aggregated (use replicas and resources.gpu)"
                    )));
                }
            }
            let replicas = non_negative_i32("replicas", req.replicas)?.unwrap_or(1);
            let gpu = match (req.compute_type, gpu) {
                (Some(ComputeType::Cpu), Some(n)) if n > 0 => {
                    return Err(InvalidRequest::field(format!(
                        "computeType cpu conflicts with resources.gpu {n}; use 0 GPUs or computeType gpu"
                    )));
                }
                (Some(ComputeType::Cpu), _) => Some(0),
                (Some(ComputeType::Gpu), Some(0)) => {
                    return Err(InvalidRequest::field(
                        "computeType gpu needs resources.gpu of at least 1",
                    ));
                }
                (Some(ComputeType::Gpu), None) => Some(1),
                (_, gpu) => gpu,
            };
            let cpu = resources
                .and_then(|r| r.cpu.as_deref())
                .map(|c| quantity("resources.cpu", c))
                .transpose()?;
            // Without a resources block the CRD assumes one GPU per replica.
            let per_worker = i64::from(gpu.unwrap_or(1));
            let spec = (gpu.is_some() || memory.is_some() || cpu.is_some()).then(|| ResourceSpec {
                gpu: gpu.map(gpu_spec),
                memory,
                cpu,
            });
            Ok((
                ScalingSpec {
                    replicas,
                    prefill: None,
                    decode: None,
                },
                spec,
                i64::from(replicas) * per_worker,
                per_worker,
            ))
        }
        Mode::Disaggregated => {
            if req.replicas.is_some() {
                return Err(InvalidRequest::field(
                    "replicas applies to mode aggregated only; set prefillReplicas and decodeReplicas for disaggregated mode",
                ));
            }
            if req.compute_type == Some(ComputeType::Cpu) {
                return Err(InvalidRequest::field(
                    "computeType cpu is not possible in mode disaggregated: prefill and decode workers need GPUs",
                ));
            }
            if resources.and_then(|r| r.cpu.as_ref()).is_some() {
                return Err(InvalidRequest::field(
                    "resources.cpu applies to mode aggregated only (disaggregated workers take GPUs and memory)",
                ));
            }
            let default_gpus = gpu.filter(|g| *g > 0).unwrap_or(1);
            let prefill_gpus = non_negative_i32("prefillGpus", req.prefill_gpus)?;
            let decode_gpus = non_negative_i32("decodeGpus", req.decode_gpus)?;
            if let (Some(g), Some(p), Some(d)) = (gpu, prefill_gpus, decode_gpus)
                && g > 0
                && (g != p || g != d)
            {
                return Err(InvalidRequest::field(format!(
                    "resources.gpu ({g}) would have no effect: in mode disaggregated it is only the default of prefillGpus ({p}) and decodeGpus ({d}); leave it out"
                )));
            }
            let component = |replicas: i32, gpus: i32| ComponentScalingSpec {
                replicas,
                gpu: Some(gpu_spec(gpus)),
                memory: memory.clone(),
            };
            let prefill_replicas =
                non_negative_i32("prefillReplicas", req.prefill_replicas)?.unwrap_or(1);
            let decode_replicas =
                non_negative_i32("decodeReplicas", req.decode_replicas)?.unwrap_or(1);
            let prefill_gpus = prefill_gpus.unwrap_or(default_gpus);
            let decode_gpus = decode_gpus.unwrap_or(default_gpus);
            let total = i64::from(prefill_replicas) * i64::from(prefill_gpus)
                + i64::from(decode_replicas) * i64::from(decode_gpus);
            Ok((
                ScalingSpec {
                    replicas: 1,
                    prefill: Some(component(prefill_replicas, prefill_gpus)),
                    decode: Some(component(decode_replicas, decode_gpus)),
                },
                None,
                total,
                i64::from(prefill_gpus.max(decode_gpus)),
            ))
        }
    }
}

fn gpu_spec(count: i32) -> GpuSpec {
    GpuSpec {
        count,
        type_: DEFAULT_GPU_RESOURCE.to_string(),
    }
}

/// Sets the engine a field needs, or rejects a conflicting explicit engine.
fn require_engine(
    engine: &mut Option<Engine>,
    needed: Engine,
    why: &str,
) -> Result<(), InvalidRequest> {
    match engine {
        Some(e) if *e != needed => Err(InvalidRequest::field(format!(
            "{why} needs engine {}, not {}",
            EngineType::from(needed),
            EngineType::from(*e)
        ))),
        _ => {
            *engine = Some(needed);
            Ok(())
        }
    }
}

fn unsupported_flag(field: &str, engine: Option<Engine>, supported: &str) -> InvalidRequest {
    match engine {
        Some(e) => InvalidRequest::field(format!(
            "{field} is not supported by engine {} (supported: {supported}); pass engine flags in engineArgs instead",
            EngineType::from(e)
        )),
        None => InvalidRequest::field(format!(
            "{field} needs an explicit engine ({supported}): the flag differs per engine"
        )),
    }
}

/// `engineArgs`: flag names as the CRD allows them, string values only (docs/contract/api.md
/// §19.2).
fn engine_args(
    args: Option<&Map<String, Value>>,
) -> Result<BTreeMap<String, String>, InvalidRequest> {
    let Some(args) = args else {
        return Ok(BTreeMap::new());
    };
    if args.len() > MAX_ENGINE_ARGS {
        return Err(InvalidRequest::field(format!(
            "engineArgs has {} entries; at most {MAX_ENGINE_ARGS} are allowed",
            args.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (key, value) in args {
        let valid = key.len() <= 128
            && key.starts_with(|c: char| c.is_ascii_alphanumeric())
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(InvalidRequest::field(format!(
                "engineArgs key \"{}\" is not a flag name: use letters, digits, '-', '_' or '.', without leading dashes (for example max-num-seqs)",
                truncate(key)
            )));
        }
        let Value::String(text) = value else {
            return Err(InvalidRequest::field(format!(
                "engineArgs.{key} must be a string (got {}); write numbers and booleans as strings, for example \"8192\", and an empty string for a flag without a value",
                json_type(value)
            )));
        };
        out.insert(key.clone(), text.clone());
    }
    Ok(out)
}

/// Adds a flag derived from another field, unless `engineArgs` already sets it differently.
fn insert_arg(
    args: &mut BTreeMap<String, String>,
    key: &str,
    value: &str,
    field: &str,
) -> Result<(), InvalidRequest> {
    match args.get(key) {
        Some(existing) if existing != value => Err(InvalidRequest::field(format!(
            "engineArgs.{key} (\"{}\") conflicts with {field}; give one of them",
            truncate(existing)
        ))),
        _ => {
            args.insert(key.to_string(), value.to_string());
            Ok(())
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required, non-blank string of at most `max` characters without control characters.
fn text(field: &str, value: &str, max: usize) -> Result<String, InvalidRequest> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidRequest::field(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(InvalidRequest::field(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidRequest::field(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// A Kubernetes object name (DNS-1123 subdomain).
fn dns_subdomain(field: &str, value: &str) -> Result<String, InvalidRequest> {
    let valid = value.len() <= 253
        && value.split('.').all(|part| {
            let b = part.as_bytes();
            let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
            !b.is_empty()
                && b.first().is_some_and(alnum)
                && b.last().is_some_and(alnum)
                && b.iter().all(|c| alnum(c) || *c == b'-')
        });
    if valid {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253 characters)",
            truncate(value)
        )))
    }
}

/// A container image reference: non-blank, no whitespace, at most 512 characters.
fn image_ref(field: &str, value: &str) -> Result<String, InvalidRequest> {
    if value.is_empty()
        || value.len() > 512
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a container image reference such as ghcr.io/org/image:tag",
            truncate(value)
        )));
    }
    Ok(value.to_string())
}

/// An AIKit premade id such as `llama3.2:1b`.
fn premade_id(value: &str) -> Result<&str, InvalidRequest> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            })
    };
    match value.split_once(':') {
        Some((model, tag)) if value.len() <= 128 && ok_part(model) && ok_part(tag) => Ok(value),
        _ => Err(InvalidRequest::field(format!(
            "Invalid premadeModel \"{}\": must be an AIKit model id such as llama3.2:1b",
            truncate(value)
        ))),
    }
}

/// A `.gguf` file path inside the model repository.
fn gguf_file(value: &str) -> Result<String, InvalidRequest> {
    let safe = value.len() <= 512
        && value.ends_with(".gguf")
        && !value.starts_with('/')
        && !value
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if safe {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid ggufFile \"{}\": must be a relative path to a .gguf file in the model repository",
            truncate(value)
        )))
    }
}

/// A Kubernetes quantity such as `32Gi`, `500m` or `4` (the CRD checks it as well; this gives a
/// clearer message first).
fn quantity(field: &str, value: &str) -> Result<String, InvalidRequest> {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(number_end);
    let number_ok =
        !number.is_empty() && number.chars().filter(|c| *c == '.').count() <= 1 && number != ".";
    let exponent = |s: &str| {
        s.strip_prefix(['e', 'E'])
            .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    };
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || exponent(suffix);
    if number_ok && suffix_ok && value.len() <= 64 {
        Ok(value.to_string())
    } else {
        Err(InvalidRequest::field(format!(
            "Invalid {field} \"{}\": must be a Kubernetes quantity such as 32Gi or 500m",
            truncate(value)
        )))
    }
}

fn non_negative_i32(field: &str, value: Option<i64>) -> Result<Option<i32>, InvalidRequest> {
    value
        .map(|v| {
            i32::try_from(v).ok().filter(|v| *v >= 0).ok_or_else(|| {
                InvalidRequest::field(format!("{field} must be an integer from 0 to {}", i32::MAX))
            })
        })
        .transpose()
}

fn positive_i32(field: &str, value: Option<i64>) -> Result<Option<i32>, InvalidRequest> {
    value
        .map(|v| {
            i32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| {
                InvalidRequest::field(format!("{field} must be an integer from 1 to {}", i32::MAX))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: Value) -> CreateDeploymentRequest {
        let mut body = json!({ "name": "llama", "modelId": "meta/llama", "engine": "vllm" });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        serde_json::from_value(body).expect("request")
    }

    fn spec(extra: Value) -> Value {
        let plan = Plan::from_request(&request(extra), "ns").expect("plan");
        serde_json::to_value(&plan.deployment).expect("json")["spec"].clone()
    }

    fn rejected(extra: Value) -> String {
        let err = Plan::from_request(&request(extra), "ns").expect_err("rejected");
        let err = crate::error::ApiError::from(err);
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
        err.message
    }

    #[test]
    fn the_basic_request_becomes_the_contract_manifest() {
        let plan = Plan::from_request(
            &request(
                json!({ "servedModelName": "llama", "hfTokenSecret": "hf-token-secret",
                             "replicas": 2, "resources": { "gpu": 1, "memory": "32Gi" },
                             "contextLength": 8192, "trustRemoteCode": true }),
            ),
            "team-a",
        )
        .expect("plan");
        let md = serde_json::to_value(&plan.deployment).expect("json");
        assert_eq!(md["metadata"]["namespace"], "team-a");
        assert_eq!(
            md["metadata"]["labels"],
            json!({ "app.kubernetes.io/name": "kubeairunway", "app.kubernetes.io/instance": "llama",
                    "app.kubernetes.io/managed-by": "kubeairunway" })
        );
        let spec = &md["spec"];
        assert_eq!(
            spec["model"],
            json!({ "id": "meta/llama", "servedName": "llama", "source": "huggingface" })
        );
        assert_eq!(
            spec["engine"],
            json!({ "type": "vllm", "contextLength": 8192, "trustRemoteCode": true })
        );
        assert_eq!(spec["scaling"], json!({ "replicas": 2 }));
        assert_eq!(
            spec["resources"],
            json!({ "gpu": { "count": 1, "type": "nvidia.com/gpu" }, "memory": "32Gi" })
        );
        assert_eq!(
            spec["secrets"],
            json!({ "huggingFaceToken": "hf-token-secret" })
        );
        assert_eq!(plan.total_gpus, 2);
        assert_eq!(plan.gpus_per_worker, 1);
    }

    #[test]
    fn nothing_accepted_is_dropped() {
        // docs/contract/api.md §19.1, item by item.
        assert_eq!(
            spec(json!({ "imageRef": "ghcr.io/x/y:1" }))["image"],
            "ghcr.io/x/y:1"
        );
        let cpu = spec(
            json!({ "engine": "llamacpp", "computeType": "cpu", "resources": { "gpu": 0, "memory": "8Gi", "cpu": "4" } }),
        );
        assert_eq!(
            cpu["resources"],
            json!({ "gpu": { "count": 0, "type": "nvidia.com/gpu" }, "memory": "8Gi", "cpu": "4" })
        );
        assert_eq!(
            spec(json!({ "engine": "llamacpp", "computeType": "cpu" }))["resources"]["gpu"]["count"],
            0
        );
        let pd = spec(
            json!({ "mode": "disaggregated", "prefillReplicas": 0, "decodeReplicas": 2,
                              "prefillGpus": 2, "decodeGpus": 4, "resources": { "gpu": 0, "memory": "64Gi" } }),
        );
        assert_eq!(
            pd["scaling"]["prefill"],
            json!({ "replicas": 0, "gpu": { "count": 2, "type": "nvidia.com/gpu" }, "memory": "64Gi" })
        );
        assert_eq!(pd["scaling"]["decode"]["replicas"], 2);
        assert_eq!(pd["scaling"]["decode"]["gpu"]["count"], 4);
        assert_eq!(pd["resources"], Value::Null);
        assert_eq!(
            spec(json!({ "enforceEager": true, "enablePrefixCaching": true }))["engine"]["args"],
            json!({ "enforce-eager": "", "enable-prefix-caching": "" })
        );
        assert_eq!(
            spec(json!({ "engine": "sglang", "enforceEager": true }))["engine"]["args"],
            json!({ "disable-cuda-graph": "" })
        );
        assert_eq!(
            spec(json!({ "enforceEager": false }))["engine"].get("args"),
            None
        );
        assert_eq!(
            spec(json!({ "provider": "dynamo", "routerMode": "kv" }))["provider"],
            json!({ "name": "dynamo", "overrides": { "routerMode": "kv" } })
        );
        assert_eq!(
            spec(json!({ "maxModelLen": 4096 }))["engine"]["contextLength"],
            4096
        );
        let premade = spec(
            json!({ "engine": null, "modelSource": "premade", "premadeModel": "llama3.2:1b", "computeType": "cpu" }),
        );
        assert_eq!(premade["image"], "ghcr.io/kaito-project/aikit/llama3.2:1b");
        assert_eq!(premade["model"]["source"], "custom");
        assert_eq!(premade["engine"]["type"], "llamacpp");
        let direct = spec(
            json!({ "engine": "llamacpp", "modelSource": "huggingface", "ggufFile": "q4/model.Q4_K_M.gguf", "ggufRunMode": "direct" }),
        );
        assert_eq!(
            direct["engine"]["args"],
            json!({ "hf-file": "q4/model.Q4_K_M.gguf" })
        );
        let built = spec(
            json!({ "engine": "llamacpp", "ggufRunMode": "build", "imageRef": "localhost:30500/aikit-x:Q4_K_M" }),
        );
        assert_eq!(built["image"], "localhost:30500/aikit-x:Q4_K_M");
        assert_eq!(built["model"]["source"], "custom");
        assert_eq!(
            spec(json!({ "modelSource": "vllm" }))["engine"]["type"],
            "vllm"
        );
        assert_eq!(
            spec(
                json!({ "engineArgs": { "max-num-seqs": "8", "enforce-eager": "" }, "enforceEager": true })
            )["engine"]["args"],
            json!({ "max-num-seqs": "8", "enforce-eager": "" })
        );
    }

    #[test]
    fn what_has_no_place_is_rejected() {
        let cases = [
            (
                json!({ "engineArgs": { "max-num-seqs": 8 } }),
                "must be a string",
            ),
            (
                json!({ "engineArgs": { "--port": "1" } }),
                "not a flag name",
            ),
            (
                json!({ "engine": "trtllm", "enforceEager": true }),
                "not supported by engine trtllm",
            ),
            (
                json!({ "engine": null, "enforceEager": true }),
                "explicit engine",
            ),
            (
                json!({ "engine": "sglang", "enablePrefixCaching": true }),
                "SGLang",
            ),
            (json!({ "routerMode": "kv" }), "provider dynamo"),
            (json!({ "prefillReplicas": 1 }), "disaggregated only"),
            (
                json!({ "mode": "disaggregated", "replicas": 2 }),
                "aggregated only",
            ),
            (
                json!({ "mode": "disaggregated", "resources": { "gpu": 2 }, "prefillGpus": 1, "decodeGpus": 1 }),
                "no effect",
            ),
            (
                json!({ "mode": "disaggregated", "resources": { "gpu": 1, "cpu": "2" } }),
                "resources.cpu",
            ),
            (
                json!({ "computeType": "cpu", "resources": { "gpu": 2 } }),
                "conflicts",
            ),
            (
                json!({ "computeType": "gpu", "resources": { "gpu": 0 } }),
                "at least 1",
            ),
            (
                json!({ "premadeModel": "llama3.2:1b" }),
                "needs modelSource premade",
            ),
            (json!({ "modelSource": "premade" }), "needs premadeModel"),
            (
                json!({ "modelSource": "premade", "premadeModel": "../etc" }),
                "Invalid premadeModel",
            ),
            (
                json!({ "ggufFile": "../x.gguf", "engine": "llamacpp" }),
                "Invalid ggufFile",
            ),
            (json!({ "ggufFile": "x.gguf" }), "needs engine llamacpp"),
            (
                json!({ "ggufRunMode": "build", "engine": "llamacpp" }),
                "needs imageRef",
            ),
            (json!({ "contextLength": 1, "maxModelLen": 2 }), "disagree"),
            (json!({ "contextLength": 0 }), "contextLength"),
            (json!({ "replicas": -1 }), "replicas"),
            (json!({ "replicas": 3_000_000_000i64 }), "replicas"),
            (
                json!({ "resources": { "gpu": 1, "memory": "lots" } }),
                "quantity",
            ),
            (json!({ "hfTokenSecret": "Bad_Secret" }), "hfTokenSecret"),
            (json!({ "provider": "Dynamo!" }), "provider"),
            (json!({ "modelId": " " }), "modelId"),
            (json!({ "name": "events" }), "reserved"),
            (json!({ "name": "my.model" }), "Invalid deployment name"),
            (json!({ "imageRef": "has space" }), "imageRef"),
            (
                json!({ "engineArgs": { "enforce-eager": "x" }, "enforceEager": true }),
                "conflicts",
            ),
        ];
        for (extra, fragment) in cases {
            let message = rejected(extra.clone());
            assert!(message.contains(fragment), "{extra}: {message}");
        }
    }

    #[test]
    fn unknown_fields_and_values_fail_to_parse() {
        for body in [
            json!({ "name": "a", "modelId": "m", "kaitoResourceType": "workspace" }),
            json!({ "name": "a", "modelId": "m", "engine": "tgi" }),
            json!({ "name": "a", "modelId": "m", "resources": { "gpu": 1, "gpuType": "x" } }),
            json!({ "name": "a", "modelId": "m", "replicas": 1.5 }),
            json!({ "name": "a" }),
        ] {
            assert!(
                serde_json::from_value::<CreateDeploymentRequest>(body.clone()).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn quantities() {
        for ok in ["32Gi", "500m", "4", "1.5Gi", "100M", "1e3", "2E+6"] {
            assert!(quantity("x", ok).is_ok(), "{ok}");
        }
        for bad in ["", "Gi", "1..5", "4 cores", "1GB", "."] {
            assert!(quantity("x", bad).is_err(), "{bad}");
        }
    }
}
