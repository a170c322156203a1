//! `ModelDeployment`: the user-facing request to serve one model (docs/contract/controller.md §1).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EnvVar, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default extended-resource name for GPUs.
pub const DEFAULT_GPU_RESOURCE: &str = "nvidia.com/gpu";

/// Desired state of a served model.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kubeairunway.ai",
    version = "v1alpha1",
    kind = "ModelDeployment",
    namespaced,
    status = "ModelDeploymentStatus",
    shortname = "md",
    category = "kubeairunway",
    derive = "Default",
    derive = "PartialEq",
    doc = "A large language model served on the cluster by an inference provider.",
    scale(
        spec_replicas_path = ".spec.scaling.replicas",
        status_replicas_path = ".status.replicas.ready"
    ),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase", description = "Current phase"),
    printcolumn(name = "Provider", type_ = "string", json_path = ".status.provider.name", description = "Selected provider"),
    printcolumn(name = "Engine", type_ = "string", json_path = ".status.engine.type", description = "Inference engine"),
    printcolumn(name = "Progress", type_ = "string", json_path = ".status.progress.current", description = "First step on the way to serving that is not done"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.replicas.ready", description = "Ready replicas"),
    printcolumn(name = "Endpoint", type_ = "string", json_path = ".status.endpoint.service", description = "Service that serves the model"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63")
        .message("metadata.name must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters) because it names the Service that serves the model"),
)]
#[x_kube(
    validation = Rule::new("self.model.source == 'custom' || (has(self.model.id) && self.model.id != '')")
        .field_path(".model.id").reason(Reason::FieldValueRequired)
        .message("spec.model.id is required when spec.model.source is huggingface"),
    validation = Rule::new("!(has(self.engine.type) && self.engine.type in ['vllm', 'sglang', 'trtllm'] && self.serving.mode == 'aggregated' && has(self.resources) && (!has(self.resources.gpu) || self.resources.gpu.count < 1))")
        .field_path(".resources.gpu.count")
        .message("spec.resources.gpu.count must be at least 1: engines vllm, sglang and trtllm need a GPU (use engine llamacpp to serve on CPU)"),
    validation = Rule::new("self.serving.mode != 'disaggregated' || !has(self.resources) || !has(self.resources.gpu) || self.resources.gpu.count == 0")
        .field_path(".resources.gpu").reason(Reason::FieldValueForbidden)
        .message("spec.resources.gpu.count must be 0 or unset when spec.serving.mode is disaggregated: set GPUs per component in spec.scaling.prefill.gpu and spec.scaling.decode.gpu"),
    validation = Rule::new("self.serving.mode != 'disaggregated' || has(self.scaling.prefill)")
        .field_path(".scaling.prefill").reason(Reason::FieldValueRequired)
        .message("spec.scaling.prefill is required when spec.serving.mode is disaggregated"),
    validation = Rule::new("self.serving.mode != 'disaggregated' || has(self.scaling.decode)")
        .field_path(".scaling.decode").reason(Reason::FieldValueRequired)
        .message("spec.scaling.decode is required when spec.serving.mode is disaggregated"),
    validation = Rule::new("self.serving.mode != 'disaggregated' || !has(self.scaling.prefill) || (has(self.scaling.prefill.gpu) && self.scaling.prefill.gpu.count > 0)")
        .field_path(".scaling.prefill.gpu.count").reason(Reason::FieldValueRequired)
        .message("spec.scaling.prefill.gpu.count must be at least 1 when spec.serving.mode is disaggregated"),
    validation = Rule::new("self.serving.mode != 'disaggregated' || !has(self.scaling.decode) || (has(self.scaling.decode.gpu) && self.scaling.decode.gpu.count > 0)")
        .field_path(".scaling.decode.gpu.count").reason(Reason::FieldValueRequired)
        .message("spec.scaling.decode.gpu.count must be at least 1 when spec.serving.mode is disaggregated"),
)]
#[serde(rename_all = "camelCase")]
pub struct ModelDeploymentSpec {
    /// Which model to serve and where it comes from.
    pub model: ModelSpec,
    /// Explicit provider choice and provider-specific overrides; absent means auto-select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderSpec>,
    /// Inference engine settings; an empty type means auto-select.
    #[serde(default)]
    pub engine: EngineSpec,
    /// Aggregated (one server per replica) or disaggregated (prefill/decode split) serving.
    #[serde(default)]
    pub serving: ServingSpec,
    /// Replica counts; `replicas: 0` scales to zero.
    #[serde(default)]
    pub scaling: ScalingSpec,
    /// Compute per replica. When absent in aggregated mode, one GPU is assumed (as the
    /// reference's defaulting webhook did); give a block with `gpu.count: 0` for CPU serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceSpec>,
    /// Container image that replaces the provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra environment variables for the model server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,
    /// Labels and annotations for the provider's workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,
    /// References to Secrets in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretsSpec>,
    /// Node labels the model server's pods must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations for the model server's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Gateway API Inference Extension integration (the reference's `spec.gateway`, added in
    /// February 2026): manifests written for it must apply here. The controller reports in the
    /// `GatewayReady` condition whether the Gateway API and the Inference Extension are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewaySpec>,
}

/// How a deployment is exposed through an inference gateway (the reference's shape: `enabled`,
/// `modelName`, `httpRouteRef`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    /// `false` opts this deployment out; unset or `true` means "when a gateway is present".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Model name clients put in requests to the gateway; defaults to `spec.model.servedName`,
    /// else `spec.model.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub model_name: Option<String>,
    /// Name of an existing HTTPRoute in this namespace to use instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub http_route_ref: Option<String>,
}

/// Where the model comes from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(
    validation = Rule::new("has(self.id) == has(oldSelf.id) && (!has(self.id) || self.id == oldSelf.id)")
        .field_path(".id")
        .message("spec.model.id is immutable: delete and recreate the ModelDeployment to serve another model"),
    validation = Rule::new("self.source == oldSelf.source")
        .field_path(".source")
        .message("spec.model.source is immutable: delete and recreate the ModelDeployment to change it"),
)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpec {
    /// HuggingFace repository id (`org/name`); required when `source` is `huggingface`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub id: Option<String>,
    /// Model name exposed by the OpenAI-compatible API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub served_name: Option<String>,
    /// `huggingface` (download `id`) or `custom` (the image carries the model).
    #[serde(default)]
    pub source: ModelSource,
}

/// Origin of the model weights.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Downloaded from the HuggingFace Hub by id.
    #[default]
    Huggingface,
    /// Baked into a custom image.
    Custom,
}

/// Explicit provider selection.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.name) || !has(oldSelf.name) || self.name == oldSelf.name")
    .field_path(".name")
    .message("spec.provider.name cannot change from one provider to another: delete and recreate the ModelDeployment"))]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// Name of an InferenceProviderConfig (`kaito`, `dynamo`, `kuberay`, `kubernetes`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub name: Option<String>,
    /// Provider-specific fields deep-merged into the provider's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::model_deployment::free_form_object")]
    pub overrides: Option<serde_json::Value>,
}

/// Inference engine settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.type) || !has(oldSelf.type) || self.type == oldSelf.type")
    .field_path(".type")
    .message("spec.engine.type cannot change from one engine to another: delete and recreate the ModelDeployment"))]
#[serde(rename_all = "camelCase")]
pub struct EngineSpec {
    /// Engine to run; absent means chosen from the provider's capabilities.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<EngineType>,
    /// Maximum context length in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub context_length: Option<i32>,
    /// Allow the model repository to run its own code (a security risk).
    #[serde(default)]
    pub trust_remote_code: bool,
    /// Extra engine flags: each entry becomes `--key value` (`--key` when the value is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 64))]
    #[x_kube(validation = Rule::new("self.all(k, size(k) <= 128 && k.matches('^[A-Za-z0-9][A-Za-z0-9_.-]*$'))")
        .message("spec.engine.args keys must be flag names without leading dashes or spaces (for example max-num-seqs)"))]
    pub args: Option<BTreeMap<String, String>>,
}

/// Inference engines KubeAIRunway knows.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineType {
    /// vLLM.
    Vllm,
    /// SGLang.
    Sglang,
    /// TensorRT-LLM.
    Trtllm,
    /// llama.cpp (GGUF; runs on CPU).
    Llamacpp,
}

impl EngineType {
    /// Every engine, in the reference's preference order.
    pub const ALL: [EngineType; 4] = [Self::Vllm, Self::Sglang, Self::Trtllm, Self::Llamacpp];

    /// The wire name (`vllm`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vllm => "vllm",
            Self::Sglang => "sglang",
            Self::Trtllm => "trtllm",
            Self::Llamacpp => "llamacpp",
        }
    }
}

impl std::fmt::Display for EngineType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How requests are served.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("self.mode == oldSelf.mode")
    .field_path(".mode")
    .message("spec.serving.mode is immutable: delete and recreate the ModelDeployment to change it"))]
#[serde(rename_all = "camelCase")]
pub struct ServingSpec {
    /// `aggregated` or `disaggregated`.
    #[serde(default)]
    pub mode: ServingMode,
}

/// Serving topology.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ServingMode {
    /// Every replica runs prefill and decode.
    #[default]
    Aggregated,
    /// Separate prefill and decode workers.
    Disaggregated,
}

impl ServingMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aggregated => "aggregated",
            Self::Disaggregated => "disaggregated",
        }
    }
}

/// Replica counts.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingSpec {
    /// Replicas in aggregated mode; 0 scales to zero.
    #[serde(default = "one")]
    #[schemars(range(min = 0))]
    pub replicas: i32,
    /// Prefill workers (disaggregated mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<ComponentScalingSpec>,
    /// Decode workers (disaggregated mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<ComponentScalingSpec>,
}

impl Default for ScalingSpec {
    fn default() -> Self {
        Self {
            replicas: 1,
            prefill: None,
            decode: None,
        }
    }
}

/// Replicas and compute of one disaggregated component.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentScalingSpec {
    /// Worker count; 0 is allowed.
    #[serde(default = "one")]
    #[schemars(range(min = 0))]
    pub replicas: i32,
    /// GPUs per worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSpec>,
    /// Memory per worker, as a Kubernetes quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("isQuantity(self)").message("memory must be a Kubernetes quantity such as 32Gi"))]
    pub memory: Option<String>,
}

/// GPU request.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GpuSpec {
    /// GPUs per replica.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub count: i32,
    /// Extended-resource name of the GPU.
    #[serde(default = "default_gpu_type", rename = "type")]
    #[schemars(length(min = 1, max = 253))]
    pub type_: String,
}

impl Default for GpuSpec {
    fn default() -> Self {
        Self {
            count: 0,
            type_: default_gpu_type(),
        }
    }
}

/// Compute per replica.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpec {
    /// GPUs per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSpec>,
    /// Memory per replica, as a Kubernetes quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("isQuantity(self)").message("spec.resources.memory must be a Kubernetes quantity such as 32Gi"))]
    pub memory: Option<String>,
    /// CPU per replica, as a Kubernetes quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("isQuantity(self)").message("spec.resources.cpu must be a Kubernetes quantity such as 4 or 500m"))]
    pub cpu: Option<String>,
}

/// Metadata for the provider's workload.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    /// Labels and annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PodTemplateMetadata>,
}

/// Labels and annotations.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateMetadata {
    /// Extra labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Extra annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Secret references.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretsSpec {
    /// Secret (in this namespace) whose `HF_TOKEN` key holds a HuggingFace token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub hugging_face_token: Option<String>,
}

/// Observed state, written by the core controller and the selected provider.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModelDeploymentStatus {
    /// Summary phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<DeploymentPhase>,
    /// Human-readable detail of the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Selected provider and the object it created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderStatus>,
    /// Resolved engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineStatus>,
    /// Replica counts reported by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<ReplicaStatus>,
    /// Prefill workers requested and ready (disaggregated mode), reported by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_replicas: Option<ComponentReplicaStatus>,
    /// Decode workers requested and ready (disaggregated mode), reported by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_replicas: Option<ComponentReplicaStatus>,
    /// Where the model is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointStatus>,
    /// What the gateway integration found (the reference's `status.gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayStatus>,
    /// Standard conditions (`Validated`, `EngineSelected`, `ProviderSelected`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<Condition>>,
    /// Where the deployment's pods are on their way to serving (scheduled, image pulled, model
    /// downloaded, loaded, ready), with timestamps and why a phase is stuck; written by the
    /// provider controller from the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressStatus>,
    /// Generation last processed by the core controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// The deployment's way from created to serving, aggregated over its pods: a phase is done
/// when every desired pod has passed it, and stalled when one pod is stuck in it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProgressStatus {
    /// The first phase that is not done (absent once every phase is done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<ProgressPhaseName>,
    /// Why the current phase is stuck (`ImagePullBackOff`, `ErrImagePull`, `CrashLoopBackOff`,
    /// `OOMKilled`, `InsufficientGPU`, `Unschedulable`, `Slow`…); absent while it moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalled_reason: Option<String>,
    /// Pods the deployment wants, and how many are ready.
    #[serde(default)]
    pub pods_desired: i32,
    /// Pods ready to serve.
    #[serde(default)]
    pub pods_ready: i32,
    /// Every phase in order, from `Scheduled` to `Ready`.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub phases: Vec<ProgressPhase>,
}

/// One step on the way to serving.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProgressPhase {
    /// Which step.
    pub name: ProgressPhaseName,
    /// Where it is.
    pub state: ProgressState,
    /// When the first pod entered it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the last desired pod left it (RFC 3339); set once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// How long it took, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// The stall reason (see [`ProgressStatus::stalled_reason`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The latest word on it from the pod furthest behind (scheduler, kubelet or container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The steps a model server goes through, in order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum ProgressPhaseName {
    /// Pods bound to nodes.
    Scheduled,
    /// Container images pulled (done: `ImagePulled`).
    ImagePulling,
    /// Model weights downloaded by an init container (`Skipped` when the engine downloads
    /// them itself while `Loading`).
    Downloading,
    /// Model server started, not yet ready.
    Loading,
    /// Every desired pod ready.
    Ready,
}

/// Where a phase is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgressState {
    /// Not reached yet.
    Waiting,
    /// Under way.
    Active,
    /// Finished.
    Done,
    /// Not a step of this deployment's pods.
    Skipped,
    /// Stuck: see the reason.
    Stalled,
}

/// Lifecycle phase.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeploymentPhase {
    /// Waiting for engine or provider selection.
    Pending,
    /// The provider's object exists; pods are not ready yet.
    Deploying,
    /// Serving.
    Running,
    /// Cannot proceed; see the message and conditions.
    Failed,
    /// Being deleted.
    Terminating,
}

/// Provider decision and its object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// Selected provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name of the provider's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Kind of the provider's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_kind: Option<String>,
    /// Why this provider was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_reason: Option<String>,
}

/// Engine decision.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    /// Resolved engine.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<EngineType>,
    /// Why this engine was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_reason: Option<String>,
}

/// Replica counts.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    /// Requested replicas.
    #[serde(default)]
    pub desired: i32,
    /// Replicas ready to serve.
    #[serde(default)]
    pub ready: i32,
    /// Replicas available.
    #[serde(default)]
    pub available: i32,
}

/// Workers of one disaggregated component.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentReplicaStatus {
    /// Requested workers.
    #[serde(default)]
    pub desired: i32,
    /// Workers ready to serve.
    #[serde(default)]
    pub ready: i32,
}

/// The gateway a deployment is reachable through.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatus {
    /// Address of the gateway clients call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Model name to put in requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
}

/// Service that serves the model.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatus {
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

fn one() -> i32 {
    1
}

fn default_gpu_type() -> String {
    DEFAULT_GPU_RESOURCE.to_string()
}

/// Schema for a free-form JSON object whose unknown fields the API server keeps.
pub(crate) fn free_form_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}
