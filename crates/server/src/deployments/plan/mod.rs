//! The body of `POST /api/deployments` and its mapping onto a ModelDeployment.
//!
//! The body is the reference's `DeploymentConfig`, and the reference's clients send all of it
//! whatever the choices: the deploy form sends `prefillReplicas` and friends in aggregated mode,
//! `enforceEager: true` for every engine, numbers in `engineArgs`. So the rule is:
//!
//! - a field that means nothing for the chosen mode, engine or provider is **accepted, not
//!   applied, and named** in the plan's warnings (the answer's `warnings`, and the log);
//! - a field whose value is invalid (wrong type, out of range, unknown enum value, two fields
//!   that contradict each other) is a 400 that names it, and so is a field name the reference's
//!   `DeploymentConfig` does not have;
//! - everything else lands in the ModelDeployment. Nothing accepted is dropped without a
//!   warning (docs/contract/api.md §19.1: the reference validated `imageRef`, `computeType`,
//!   `enforceEager` and others and then silently dropped them).

use std::collections::BTreeMap;

use kubeairunway_api::labels::{MANAGED_BY, MANAGED_BY_VALUE};
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineSpec, EngineType, GpuSpec, ModelDeployment,
    ModelDeploymentSpec, ModelSource, ModelSpec, ProviderSpec, ResourceSpec, ScalingSpec,
    SecretsSpec, ServingMode, ServingSpec,
};
use serde_json::{Map, Value};

use crate::extract::{InvalidName, truncate, validate_deployment_name};
use crate::wire::Engine;

/// Names that would be shadowed by the static routes `/api/deployments/{events,preview}`.
const RESERVED_NAMES: [&str; 2] = ["events", "preview"];
/// Where AIKit publishes its premade images (`<registry>/<premadeModel>`, docs/contract/api.md
/// §16.2).
const AIKIT_IMAGES: &str = "ghcr.io/kaito-project/aikit";
/// Most engine arguments the CRD accepts.
const MAX_ENGINE_ARGS: usize = 64;
/// Top-level fields of a provider's object that `spec.provider.overrides` may not set (the
/// providers refuse them too).
const PROTECTED_OVERRIDES: [&str; 4] = ["apiVersion", "kind", "metadata", "status"];
/// The override key of the KAITO kind (`kubeairunway_core::providers::kaito`).
const KAITO_RESOURCE_TYPE: &str = kubeairunway_core::providers::kaito::RESOURCE_TYPE_KEY;

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

/// Fields that were accepted but are not applied, each with the reason, in the order found.
#[derive(Debug, Default)]
struct NotApplied(Vec<String>);

impl NotApplied {
    fn add(&mut self, what: impl std::fmt::Display) {
        self.0.push(format!("⚠️ Not applied: {what}"));
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
    /// Accepted fields that are not applied, and why (never blocking).
    pub warnings: Vec<String>,
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
        let mut skipped = NotApplied::default();
        let model_id = text("modelId", &req.model_id, 256)?;
        let mode = req.mode.unwrap_or_default();
        let provider = req
            .provider
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| dns_subdomain("provider", p))
            .transpose()?;
        let kaito = provider.as_deref() == Some("kaito");
        storage(req.storage.as_ref())?;
        let mut source = ModelSource::Huggingface;
        let mut args = engine_args(req.engine_args.as_ref())?;

        // Image and model source; they may decide the engine.
        let mut image = req
            .image_ref
            .as_deref()
            .map(|i| image_ref("imageRef", i))
            .transpose()?;
        let mut implied = ImpliedEngine::default();
        match req.model_source {
            None | Some(ModelSourceKind::Huggingface) => {}
            Some(ModelSourceKind::Vllm) => implied.require(Engine::Vllm, "modelSource vllm")?,
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
                implied.require(Engine::Llamacpp, "modelSource premade")?;
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
                implied.require(Engine::Llamacpp, "ggufFile")?;
                insert_arg(&mut args, "hf-file", &gguf_file(file)?, "ggufFile")?;
            }
            Some(GgufRunMode::Build) => {
                if req.image_ref.is_none() {
                    return Err(InvalidRequest::field(
                        "ggufRunMode build needs imageRef (the image built with the GGUF file)",
                    ));
                }
                if let Some(file) = &req.gguf_file {
                    gguf_file(file)?;
                    skipped.add(format!(
                        "ggufFile ({}): with ggufRunMode build the image (imageRef) carries the file",
                        truncate(file)
                    ));
                }
                implied.require(Engine::Llamacpp, "ggufRunMode build")?;
                source = ModelSource::Custom;
            }
        }
        let engine = match implied.0 {
            Some((needed, why)) => {
                if let Some(named) = req.engine.filter(|e| *e != needed) {
                    skipped.add(format!(
                        "engine {}: {why} runs engine {}",
                        EngineType::from(named),
                        EngineType::from(needed)
                    ));
                }
                Some(needed)
            }
            None => req.engine,
        };

        // Engine settings.
        let mut context_length = match (
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
            match engine {
                Some(Engine::Vllm) => insert_arg(&mut args, "enforce-eager", "", "enforceEager")?,
                Some(Engine::Sglang) => {
                    insert_arg(&mut args, "disable-cuda-graph", "", "enforceEager")?;
                }
                other => skipped.add(unsupported_flag("enforceEager", other, "vllm, sglang")),
            }
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
                Some(Engine::Sglang) => skipped
                    .add("enablePrefixCaching: SGLang always caches prefixes (RadixAttention)"),
                other => skipped.add(unsupported_flag("enablePrefixCaching", other, "vllm")),
            }
        }
        let mut trust_remote_code = req.trust_remote_code.unwrap_or(false);
        // KAITO serves vLLM from a preset that chooses its own image and flags.
        if kaito && engine == Some(Engine::Vllm) {
            if !args.is_empty() {
                let keys: Vec<&str> = args.keys().map(String::as_str).collect();
                skipped.add(format!(
                    "engine arguments {} (from engineArgs, enforceEager or enablePrefixCaching): KAITO's vLLM preset chooses its own flags",
                    keys.join(", ")
                ));
                args.clear();
            }
            if let Some(length) = context_length.take() {
                skipped.add(format!(
                    "contextLength/maxModelLen ({length}): KAITO's vLLM preset chooses the context length"
                ));
            }
            if trust_remote_code {
                skipped.add("trustRemoteCode: KAITO's vLLM preset decides it");
                trust_remote_code = false;
            }
            if let Some(i) = image.take() {
                skipped.add(format!(
                    "imageRef ({i}): KAITO's vLLM preset chooses its image"
                ));
            }
        }

        // Provider settings, secrets.
        let mut overrides = Map::new();
        if let Some(given) = &req.provider_overrides {
            if let Some(key) = PROTECTED_OVERRIDES.iter().find(|k| given.contains_key(**k)) {
                return Err(InvalidRequest::field(format!(
                    "providerOverrides may not set {key}: apiVersion, kind, metadata and status of the provider's object are the provider's"
                )));
            }
            if kaito
                && let Some(kind) = given.get(KAITO_RESOURCE_TYPE)
                && !matches!(kind.as_str(), Some("workspace" | "inferenceset"))
            {
                return Err(InvalidRequest::field(format!(
                    "providerOverrides.{KAITO_RESOURCE_TYPE} must be workspace or inferenceset"
                )));
            }
            overrides.extend(given.clone());
        }
        match req.router_mode {
            None | Some(RouterMode::None) => {}
            Some(router) => {
                let value = if router == RouterMode::Kv {
                    "kv"
                } else {
                    "round-robin"
                };
                if provider.as_deref() == Some("dynamo") {
                    set_override(&mut overrides, "routerMode", value, "routerMode")?;
                } else {
                    skipped.add(format!(
                        "routerMode {value}: only provider dynamo has a router{}",
                        provider
                            .as_deref()
                            .map(|p| format!(" (this deployment names provider {p})"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        match req.kaito_resource_type {
            None => {}
            // The default kind: nothing to write.
            Some(KaitoResourceType::Workspace) if kaito => {}
            Some(KaitoResourceType::Inferenceset) if kaito => {
                set_override(
                    &mut overrides,
                    KAITO_RESOURCE_TYPE,
                    "inferenceset",
                    "kaitoResourceType",
                )?;
            }
            Some(kind) => skipped.add(format!(
                "kaitoResourceType {}: it applies to provider kaito only",
                match kind {
                    KaitoResourceType::Workspace => "workspace",
                    KaitoResourceType::Inferenceset => "inferenceset",
                }
            )),
        }
        let secret = req
            .hf_token_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| dns_subdomain("hfTokenSecret", s))
            .transpose()?;
        let mut served_name = req
            .served_model_name
            .as_deref()
            .map(|n| text("servedModelName", n, 256))
            .transpose()?;

        // Scaling and compute.
        let (scaling, mut resources, total_gpus, gpus_per_worker) =
            compute(req, mode, &mut skipped)?;

        // What else KAITO's vLLM preset decides itself (its GPUs stay: they drive selection and
        // the capacity warnings).
        if kaito && engine == Some(Engine::Vllm) {
            if let Some(name) = served_name.take() {
                skipped.add(format!(
                    "servedModelName ({name}): KAITO's vLLM preset serves the model under its preset name"
                ));
            }
            if let Some(r) = resources.as_mut() {
                for (field, value) in [
                    ("resources.memory", r.memory.take()),
                    ("resources.cpu", r.cpu.take()),
                ] {
                    if let Some(v) = value {
                        skipped.add(format!(
                            "{field} ({v}): KAITO's vLLM preset sizes its own pods"
                        ));
                    }
                }
            }
            // An empty block would read as "no GPU" to the CRD; no block means one GPU.
            if resources.as_ref().is_some_and(|r| r.gpu.is_none()) {
                resources = None;
            }
        }

        // Checked again now that enforceEager, enablePrefixCaching and ggufFile added theirs: the
        // CRD holds at most MAX_ENGINE_ARGS.
        if args.len() > MAX_ENGINE_ARGS {
            return Err(InvalidRequest::field(format!(
                "engineArgs has {} entries with the flags of enforceEager, enablePrefixCaching and ggufFile; at most {MAX_ENGINE_ARGS} are allowed",
                args.len()
            )));
        }
        let overrides = (!overrides.is_empty()).then_some(Value::Object(overrides));
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
                trust_remote_code,
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
            node_selector: node_selector(req.node_selector.as_ref())?,
            tolerations: tolerations(req.tolerations.as_deref())?,
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
            warnings: skipped.0,
        })
    }
}

/// The engine that another field decides (`modelSource vllm`, a GGUF file, a premade image),
/// with the field that decided it.
#[derive(Debug, Default)]
struct ImpliedEngine(Option<(Engine, &'static str)>);

impl ImpliedEngine {
    /// Records that `why` needs engine `needed`; two fields needing different engines
    /// contradict each other.
    fn require(&mut self, needed: Engine, why: &'static str) -> Result<(), InvalidRequest> {
        match self.0 {
            Some((engine, first)) if engine != needed => Err(InvalidRequest::field(format!(
                "{why} needs engine {}, but {first} needs engine {}",
                EngineType::from(needed),
                EngineType::from(engine)
            ))),
            _ => {
                self.0 = Some((needed, why));
                Ok(())
            }
        }
    }
}

/// Sets an override derived from a typed field, unless `providerOverrides` sets it
/// differently.
fn set_override(
    overrides: &mut Map<String, Value>,
    key: &str,
    value: &str,
    field: &str,
) -> Result<(), InvalidRequest> {
    match overrides.get(key) {
        Some(existing) if existing.as_str() != Some(value) => Err(InvalidRequest::field(format!(
            "providerOverrides.{key} conflicts with {field} ({value}); give one of them"
        ))),
        _ => {
            overrides.insert(key.to_string(), Value::String(value.to_string()));
            Ok(())
        }
    }
}

/// `storage` (persistent volumes for model data): the CRD has no place for volumes, so only an
/// empty one is accepted.
fn storage(storage: Option<&Value>) -> Result<(), InvalidRequest> {
    let Some(storage) = storage else {
        return Ok(());
    };
    let Value::Object(map) = storage else {
        return Err(InvalidRequest::field(
            "storage must be an object such as {\"volumes\": []}",
        ));
    };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("volumes", Value::Array(v)) if v.is_empty() => {}
            ("volumes", Value::Null) => {}
            ("volumes", Value::Array(_)) => {
                return Err(InvalidRequest::field(
                    "storage.volumes is not supported by this server: ModelDeployments here have no persistent volumes; leave storage out",
                ));
            }
            ("volumes", _) => {
                return Err(InvalidRequest::field("storage.volumes must be an array"));
            }
            (other, _) => {
                return Err(InvalidRequest::field(format!(
                    "unknown field storage.{}",
                    truncate(other)
                )));
            }
        }
    }
    Ok(())
}

/// Scaling, resources, total GPUs and GPUs per worker for the serving mode; the fields of the
/// other mode are recorded in `skipped`.
fn compute(
    req: &CreateDeploymentRequest,
    mode: Mode,
    skipped: &mut NotApplied,
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
    let cpu = resources
        .and_then(|r| r.cpu.as_deref())
        .map(|c| quantity("resources.cpu", c))
        .transpose()?;
    let prefill_replicas = non_negative_i32("prefillReplicas", req.prefill_replicas)?;
    let decode_replicas = non_negative_i32("decodeReplicas", req.decode_replicas)?;
    let prefill_gpus = non_negative_i32("prefillGpus", req.prefill_gpus)?;
    let decode_gpus = non_negative_i32("decodeGpus", req.decode_gpus)?;
    let replicas = non_negative_i32("replicas", req.replicas)?;
    match mode {
        Mode::Aggregated => {
            let other_mode: Vec<String> = [
                ("prefillReplicas", prefill_replicas),
                ("decodeReplicas", decode_replicas),
                ("prefillGpus", prefill_gpus),
                ("decodeGpus", decode_gpus),
            ]
            .into_iter()
            .filter_map(|(field, value)| value.map(|v| format!("{field} ({v})")))
            .collect();
            if !other_mode.is_empty() {
                skipped.add(format!(
                    "{}: they apply to mode disaggregated only; this deployment is aggregated (replicas and resources.gpu apply)",
                    other_mode.join(", ")
                ));
            }
            let replicas = replicas.unwrap_or(1);
            let gpu = match (req.compute_type, gpu) {
                (Some(ComputeType::Cpu), Some(n)) if n > 0 => {
                    skipped.add(format!(
                        "resources.gpu ({n}): computeType cpu serves without GPUs"
                    ));
                    Some(0)
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
            if let Some(n) = replicas {
                skipped.add(format!(
                    "replicas ({n}): it applies to mode aggregated only; this deployment is disaggregated (prefillReplicas and decodeReplicas apply)"
                ));
            }
            if req.compute_type == Some(ComputeType::Cpu) {
                return Err(InvalidRequest::field(
                    "computeType cpu is not possible in mode disaggregated: prefill and decode workers need GPUs",
                ));
            }
            // The CRD requires a GPU per worker; say so in the words of the body.
            for (field, value) in [("prefillGpus", prefill_gpus), ("decodeGpus", decode_gpus)] {
                if value == Some(0) {
                    return Err(InvalidRequest::field(format!(
                        "{field} must be at least 1 in mode disaggregated: every prefill and decode worker needs a GPU"
                    )));
                }
            }
            if let Some(c) = &cpu {
                skipped.add(format!(
                    "resources.cpu ({c}): disaggregated workers take GPUs and memory only"
                ));
            }
            let default_gpus = gpu.filter(|g| *g > 0).unwrap_or(1);
            if let (Some(g), Some(p), Some(d)) = (gpu, prefill_gpus, decode_gpus)
                && g > 0
                && (g != p || g != d)
            {
                skipped.add(format!(
                    "resources.gpu ({g}): in mode disaggregated it is only the default of prefillGpus ({p}) and decodeGpus ({d}), which are both given"
                ));
            }
            let component = |replicas: i32, gpus: i32| ComponentScalingSpec {
                replicas,
                gpu: Some(gpu_spec(gpus)),
                memory: memory.clone(),
            };
            let prefill_replicas = prefill_replicas.unwrap_or(1);
            let decode_replicas = decode_replicas.unwrap_or(1);
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

/// Why an engine flag derived from a boolean field is not applied.
fn unsupported_flag(field: &str, engine: Option<Engine>, supported: &str) -> String {
    match engine {
        Some(e) => format!(
            "{field}: engine {} has no such setting (it applies to {supported}); pass engine flags in engineArgs",
            EngineType::from(e)
        ),
        None => format!(
            "{field}: no engine is named and the flag differs per engine ({supported}); name the engine or pass the flag in engineArgs"
        ),
    }
}

/// `engineArgs`: flag names as the CRD allows them; values are strings, and numbers and
/// booleans become their string form (the reference's clients send `8192`, `0.9`, `true`; the
/// CRD holds strings, docs/contract/api.md §19.2). `null`, arrays and objects have no string
/// form a flag could take and are refused.
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
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(InvalidRequest::field(format!(
                    "engineArgs.{key} must be a string, a number or a boolean (got {}); use an empty string for a flag without a value",
                    json_type(other)
                )));
            }
        };
        out.insert(key.clone(), text);
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
