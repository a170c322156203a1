//! The wire shapes of the body of `POST /api/deployments` and `/preview`, with their OpenAPI
//! descriptions: what a client may send, and where each field lands in the ModelDeployment.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::wire::Engine;

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
    /// The provider's default (later reference clients send `default`).
    #[serde(alias = "default")]
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

/// Which KAITO object serves the deployment (the reference UI's "KAITO Resource Type").
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KaitoResourceType {
    /// One `kaito.sh/v1beta1` Workspace (the default).
    Workspace,
    /// A `kaito.sh/v1alpha1` InferenceSet of Workspaces.
    Inferenceset,
}

/// `operator` of a toleration.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema, PartialEq, Eq)]
pub enum TolerationOperator {
    /// The taint's value must equal `value` (the default).
    #[default]
    Equal,
    /// Any value (give no `value`).
    Exists,
}

/// `effect` of a toleration.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
pub enum TaintEffect {
    /// New pods are not scheduled on the node.
    NoSchedule,
    /// The scheduler avoids the node when it can.
    PreferNoSchedule,
    /// New pods are not scheduled and running ones are evicted.
    NoExecute,
}

/// One toleration of the model server's pods (Kubernetes' `Toleration`).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TolerationRequest {
    /// Taint key; empty with `Exists` tolerates every taint.
    #[serde(default)]
    pub key: Option<String>,
    /// `Equal` (default) or `Exists`.
    #[serde(default)]
    pub operator: Option<TolerationOperator>,
    /// Taint value (`Equal` only).
    #[serde(default)]
    pub value: Option<String>,
    /// Effect to tolerate; absent: every effect.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
    /// How long a `NoExecute` taint is tolerated before eviction, in seconds.
    #[serde(default)]
    pub toleration_seconds: Option<i64>,
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

/// Body of `POST /api/deployments` and `POST /api/deployments/preview`: the reference's
/// `DeploymentConfig`. A field that means nothing for the chosen mode, engine or provider is
/// accepted, not applied, and named in the answer's `warnings`; an invalid value, and a field
/// name the reference's `DeploymentConfig` does not have, is a 400.
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
    /// Extra engine flags (`--key value`) → `spec.engine.args`. Numbers and booleans are
    /// written in their string form (`8192`, `0.9`, `true`); an empty string is a flag without
    /// a value.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, serde_json::Value>>)]
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
    /// `workspace` (default) or `inferenceset`, with `provider: kaito` →
    /// `spec.provider.overrides.resourceType`.
    #[serde(default)]
    pub kaito_resource_type: Option<KaitoResourceType>,
    /// Provider-specific fields → `spec.provider.overrides` (deep-merged into the provider's
    /// object; `apiVersion`, `kind`, `metadata` and `status` may not be set).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub provider_overrides: Option<Map<String, Value>>,
    /// Persistent volumes for model data (the reference's `storage`): not supported here, so
    /// only an empty `{volumes: []}` is accepted.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub storage: Option<Value>,
    /// Node labels the model server's pods must match → `spec.nodeSelector`, e.g.
    /// `{"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}` to pick a GPU type (an addition
    /// to the reference's body).
    #[serde(default)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations of the model server's pods → `spec.tolerations`, for tainted GPU nodes (an
    /// addition to the reference's body).
    #[serde(default)]
    pub tolerations: Option<Vec<TolerationRequest>>,
}
