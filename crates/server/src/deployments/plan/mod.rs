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
use serde_json::{Map, Value, json};

use crate::extract::{InvalidName, truncate, validate_deployment_name};
use crate::wire::Engine;

/// Names that would be shadowed by the static routes `/api/deployments/{events,preview}`.
const RESERVED_NAMES: [&str; 2] = ["events", "preview"];
/// Where AIKit publishes its premade images (`<registry>/<premadeModel>`, docs/contract/api.md
/// §16.2).
const AIKIT_IMAGES: &str = "ghcr.io/kaito-project/aikit";
/// Most engine arguments the CRD accepts.
const MAX_ENGINE_ARGS: usize = 64;

mod checks;
mod request;

use checks::*;
pub use request::*;

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

#[cfg(test)]
mod tests;
