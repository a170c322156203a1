//! The GPU-fit planner: how many GPUs of each type a model needs at a context length and
//! concurrency, and how much context fits on the GPUs chosen. It replaces the reference's
//! "parameters × 2 bytes × 1.2", which ignored the KV cache (the part that grows with context and
//! concurrency) and mis-sized every quantized model.
//!
//! Rules, with why (vLLM is the engine whose memory behaviour they model):
//! - **Weights** are sized per safetensors dtype as served: float weights at 2 bytes (vLLM's
//!   `dtype=auto` serves F32 checkpoints at 16 bit), 8-bit types at 1, integer types at their
//!   storage size (GPTQ/AWQ pack int4 into I32, so storage is the real size). Without safetensors
//!   metadata: parameter count × the config's `torch_dtype` size (2 unless 8-bit).
//! - **KV cache** per token = 2 (K and V) × layers × KV heads × head dim × 2 bytes (16-bit
//!   cache); for MLA models (DeepSeek V2/V3, `kv_lora_rank`) layers × (kv_lora_rank +
//!   qk_rope_head_dim) × 2 bytes, the compressed latent being all that is cached. The cache is
//!   sized for the requested context (default 8192, never beyond the model's maximum) × the
//!   concurrent requests (default 1).
//! - **Per GPU**, 1.5 GiB of runtime (CUDA context, CUDA graphs, activation workspace) and only
//!   90 % of the memory usable (vLLM's default `gpu_memory_utilization`).
//! - **Tensor parallelism** over n ∈ {1, 2, 4, …, 64} GPUs, where n divides the attention heads
//!   (vLLM requires it); n GPUs need weights + KV cache + n × runtime and offer n × 90 % of
//!   their memory. The smallest such n is the answer; it fits only when one node has that many
//!   GPUs (single-node tensor parallelism; multi-node serving is not planned).
//! - **Fit**: `exceeds` when it does not fit, `tight` above 80 % of the usable memory (the UI's
//!   warning threshold), else `fits`.
//! - Without `config.json` (a gated repository and no token) the KV cache is unknown: only
//!   weights and runtime are counted and the plan says so.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Safetensors;
use super::gpus::GpuType;

/// Share of GPU memory vLLM uses by default (`--gpu-memory-utilization`).
pub const GPU_MEMORY_UTILIZATION: f64 = 0.90;
/// `GPU_MEMORY_UTILIZATION` in percent, for exact integer arithmetic.
const UTILIZATION_PERCENT: u64 = 90;
/// Memory per GPU that is neither weights nor KV cache: CUDA context, CUDA graphs, activation
/// workspace (1.5 GiB).
pub const RUNTIME_OVERHEAD_PER_GPU: u64 = 1_610_612_736;
/// Context planned for when the caller names none (capped at the model's maximum).
pub const DEFAULT_CONTEXT: u64 = 8192;
/// Concurrent full-context requests planned for when the caller names none.
pub const DEFAULT_CONCURRENCY: u32 = 1;
/// Tensor-parallel sizes considered.
const TP_SIZES: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];
/// Above this share of usable memory a fit is `tight`, in percent.
const TIGHT_PERCENT: u64 = 80;
/// Bytes per KV-cache element (16-bit cache).
const KV_ELEMENT_BYTES: u64 = 2;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Bytes per parameter as served, by safetensors dtype.
fn served_bytes(dtype: &str) -> u64 {
    match dtype {
        "F64" | "F32" | "F16" | "BF16" => 2,
        "I8" | "U8" | "BOOL" => 1,
        d if d.starts_with("F8") => 1,
        "I16" | "U16" => 2,
        "I32" | "U32" => 4,
        "I64" | "U64" => 8,
        _ => 2,
    }
}

/// The model's weights as they will sit in GPU memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Bytes the weights take when served.
    pub bytes: u64,
    /// Parameter count (for quantized models: stored elements, as the Hub counts them).
    pub parameter_count: u64,
    /// The dtype holding most parameters (`BF16`, `F8_E4M3`, `I32`, …).
    pub dtype: String,
}

/// Weights from the Hub's safetensors metadata; `None` when it lists no parameters.
pub fn weights_from_safetensors(st: &Safetensors) -> Option<Weights> {
    let mut bytes = 0u64;
    let mut count = 0u64;
    for (dtype, n) in &st.parameters {
        bytes = bytes.saturating_add(n.saturating_mul(served_bytes(dtype)));
        count = count.saturating_add(*n);
    }
    // Most parameters wins; on a tie the first dtype by name, so the answer is stable.
    let dominant = st
        .parameters
        .iter()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    Some(Weights {
        bytes,
        parameter_count: count,
        dtype: dominant.0.clone(),
    })
}

/// Weights from a bare parameter count and the config's `torch_dtype`: 1 byte for 8-bit types,
/// else 2 (float32 checkpoints are served at 16 bit).
pub fn weights_from_parameter_count(count: u64, torch_dtype: Option<&str>) -> Weights {
    let (dtype, per_param) = match torch_dtype {
        Some("float32") => ("F32", 2),
        Some("float16") => ("F16", 2),
        Some("bfloat16") => ("BF16", 2),
        Some("int8") => ("I8", 1),
        Some(d) if d.starts_with("float8") => ("F8", 1),
        Some(_) | None => ("unknown", 2),
    };
    Weights {
        bytes: count.saturating_mul(per_param),
        parameter_count: count,
        dtype: dtype.to_string(),
    }
}

/// Why a `config.json` gives no model shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A field the KV-cache size depends on is absent.
    #[error("config.json has no {0}")]
    Missing(&'static str),
    /// A field is there but not a positive integer.
    #[error("config.json field {0} is not a positive integer")]
    Invalid(&'static str),
}

/// The parts of a model's architecture that size its KV cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelShape {
    /// Transformer layers (`num_hidden_layers`).
    pub layers: u64,
    /// Query heads (`num_attention_heads`); tensor parallelism must divide them.
    pub attention_heads: u64,
    /// Key/value heads (`num_key_value_heads`, = attention heads without GQA).
    pub kv_heads: u64,
    /// Dimension of one head (`head_dim`, else `hidden_size / num_attention_heads`).
    pub head_dim: u64,
    /// Longest context the model supports (`max_position_embeddings`).
    pub max_context: Option<u64>,
    /// Multi-head latent attention: (`kv_lora_rank`, `qk_rope_head_dim`).
    pub mla: Option<(u64, u64)>,
}

impl ModelShape {
    /// Reads the shape from a `config.json`. Multimodal models keep their language model's
    /// fields in `text_config` (Llava, Mistral 3, Gemma 3) or `llm_config` (InternVL).
    pub fn from_config(config: &Value) -> Result<ModelShape, ShapeError> {
        let section = language_section(config).ok_or(ShapeError::Missing("num_hidden_layers"))?;
        let layers =
            field(section, "num_hidden_layers")?.ok_or(ShapeError::Missing("num_hidden_layers"))?;
        let attention_heads = field(section, "num_attention_heads")?
            .ok_or(ShapeError::Missing("num_attention_heads"))?;
        let kv_heads = field(section, "num_key_value_heads")?.unwrap_or(attention_heads);
        let head_dim = match field(section, "head_dim")? {
            Some(d) => d,
            None => {
                let hidden = field(section, "hidden_size")?
                    .ok_or(ShapeError::Missing("head_dim or hidden_size"))?;
                Some(hidden / attention_heads)
                    .filter(|d| *d > 0)
                    .ok_or(ShapeError::Invalid("hidden_size"))?
            }
        };
        let max_context = field(section, "max_position_embeddings")?;
        let mla = match field(section, "kv_lora_rank")? {
            Some(rank) => {
                let rope = field(section, "qk_rope_head_dim")?
                    .ok_or(ShapeError::Missing("qk_rope_head_dim"))?;
                Some((rank, rope))
            }
            None => None,
        };
        Ok(ModelShape {
            layers,
            attention_heads,
            kv_heads,
            head_dim,
            max_context,
            mla,
        })
    }

    /// KV-cache bytes one token takes across all layers (16-bit cache).
    pub fn kv_bytes_per_token(&self) -> u64 {
        match self.mla {
            Some((rank, rope)) => self
                .layers
                .saturating_mul(rank.saturating_add(rope))
                .saturating_mul(KV_ELEMENT_BYTES),
            None => 2u64
                .saturating_mul(self.layers)
                .saturating_mul(self.kv_heads)
                .saturating_mul(self.head_dim)
                .saturating_mul(KV_ELEMENT_BYTES),
        }
    }

    /// How many copies of the KV cache `n` tensor-parallel GPUs hold together: MLA's latent
    /// cache is not split across GPUs (each holds all of it), and beyond one KV head per GPU
    /// vLLM replicates heads.
    pub fn kv_copies(&self, n: u32) -> u64 {
        let n = u64::from(n).max(1);
        if self.mla.is_some() {
            n
        } else {
            n.div_ceil(self.kv_heads.max(1)).max(1)
        }
    }
}

/// The object holding the language model's fields: the top level, else `text_config`, else
/// `llm_config` — the first that has `num_hidden_layers`.
fn language_section(config: &Value) -> Option<&Map<String, Value>> {
    let has_layers =
        |m: &&Map<String, Value>| m.get("num_hidden_layers").is_some_and(|v| !v.is_null());
    let top = config.as_object()?;
    Some(top)
        .filter(has_layers)
        .or_else(|| {
            top.get("text_config")
                .and_then(Value::as_object)
                .filter(has_layers)
        })
        .or_else(|| {
            top.get("llm_config")
                .and_then(Value::as_object)
                .filter(has_layers)
        })
}

/// A positive integer field; `None` when absent or null.
fn field(section: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, ShapeError> {
    match section.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or(ShapeError::Invalid(name)),
    }
}

/// What the caller wants to serve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanRequest {
    /// Context length in tokens (default 8192, capped at the model's maximum).
    pub context_length: Option<u64>,
    /// Concurrent requests at that context (default 1).
    pub concurrency: Option<u32>,
}

/// GPU needs of a model (`GET /api/models/:id/plan`, and `plan` in search results).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModelPlan {
    /// HuggingFace model id.
    pub model_id: String,
    /// `config`: sized from the model's config.json (KV cache included); `parameters`: from the
    /// weights alone, KV cache not counted.
    pub basis: String,
    /// Parameter count.
    pub parameter_count: u64,
    /// Bytes of the weights as served.
    pub weight_bytes: u64,
    /// The dtype holding most weights (`BF16`, `F8_E4M3`, `I32` for GPTQ/AWQ, …).
    pub weight_dtype: String,
    /// KV-cache bytes per token (absent without config.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_bytes_per_token: Option<u64>,
    /// KV-cache bytes for `contextLength` × `concurrency` tokens (absent without config.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_bytes: Option<u64>,
    /// Memory each GPU needs besides weights and KV cache (CUDA context, graphs, activations).
    pub runtime_overhead_bytes_per_gpu: u64,
    /// Share of each GPU's memory the engine may use (vLLM's default).
    pub gpu_memory_utilization: f64,
    /// Context length planned for, in tokens.
    pub context_length: u64,
    /// Concurrent requests planned for.
    pub concurrency: u32,
    /// The model's maximum context (`max_position_embeddings`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_max_context_length: Option<u64>,
    /// Assumptions and adjustments the caller should know about.
    pub notes: Vec<String>,
    /// The plan per GPU type.
    pub gpus: Vec<GpuPlan>,
}

/// How a model fits one GPU type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GpuPlan {
    /// GPU product name.
    pub gpu_type: String,
    /// Memory of one GPU in bytes, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Memory of one GPU in GiB, one decimal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    /// Most GPUs of this type on one node.
    pub gpus_per_node: u32,
    /// Nodes with this GPU type (0: a type named by the caller, not in the cluster).
    pub nodes: u32,
    /// Fewest GPUs (tensor-parallel size) that hold the model; absent when even 64 do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_needed: Option<u32>,
    /// Whether `gpusNeeded` GPUs exist on one node of this type.
    pub fits: bool,
    /// `fits`, `tight` (over 80 % of usable memory), `exceeds`, or `unknown` (GPU memory unknown).
    pub fit: String,
    /// Bytes needed on `gpusNeeded` GPUs (else on the most GPUs one node has).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_bytes: Option<u64>,
    /// Usable bytes on those GPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_bytes: Option<u64>,
    /// Longest context that fits at the requested concurrency on `gpusNeeded` GPUs when the
    /// model fits, else on the most GPUs one node has; absent without config.json.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_context_length: Option<u64>,
    /// The plan in a sentence, with the figures.
    pub reason: String,
}

/// Plans `weights` (+ the KV cache of `shape`, when known) on each of `gpus`.
pub fn plan(
    model_id: &str,
    weights: &Weights,
    shape: Option<&ModelShape>,
    gpus: &[GpuType],
    req: &PlanRequest,
) -> ModelPlan {
    let concurrency = req.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
    let model_max = shape.and_then(|s| s.max_context);
    let requested = req.context_length.filter(|c| *c > 0);
    let mut context = requested.unwrap_or(DEFAULT_CONTEXT);
    let mut notes = Vec::new();
    if let Some(max) = model_max
        && context > max
    {
        notes.push(if requested.is_some() {
            format!(
                "The requested context of {context} tokens exceeds the model's maximum of {max}; planned for {max}."
            )
        } else {
            format!(
                "The model's maximum context of {max} tokens is below the default of {DEFAULT_CONTEXT}; planned for {max}."
            )
        });
        context = max;
    }
    if shape.is_none() {
        notes.push(
            "The KV cache is not counted: the model's config.json (layers, attention heads) was not \
             available, for example because the repository is gated and no HuggingFace token was \
             given. Only weights and runtime overhead are planned, so the real need is higher."
                .to_string(),
        );
    }
    if matches!(weights.dtype.as_str(), "F32" | "F64") {
        notes.push(format!(
            "The weights are stored as {}; vLLM serves them at 16 bit (dtype auto), so they are \
             counted at 2 bytes per parameter.",
            weights.dtype
        ));
    }
    let kv_per_token = shape.map(ModelShape::kv_bytes_per_token);
    let kv_bytes = kv_per_token.map(|k| {
        k.saturating_mul(context)
            .saturating_mul(u64::from(concurrency))
    });
    let inputs = Inputs {
        weights: weights.bytes,
        shape,
        kv_per_token,
        kv_bytes: kv_bytes.unwrap_or(0),
        context,
        concurrency,
        model_max,
    };
    ModelPlan {
        model_id: model_id.to_string(),
        basis: if shape.is_some() {
            "config"
        } else {
            "parameters"
        }
        .to_string(),
        parameter_count: weights.parameter_count,
        weight_bytes: weights.bytes,
        weight_dtype: weights.dtype.clone(),
        kv_cache_bytes_per_token: kv_per_token,
        kv_cache_bytes: kv_bytes,
        runtime_overhead_bytes_per_gpu: RUNTIME_OVERHEAD_PER_GPU,
        gpu_memory_utilization: GPU_MEMORY_UTILIZATION,
        context_length: context,
        concurrency,
        model_max_context_length: model_max,
        notes,
        gpus: gpus.iter().map(|g| inputs.plan_gpu(g)).collect(),
    }
}

/// The model-side figures every GPU type is planned with.
struct Inputs<'a> {
    weights: u64,
    shape: Option<&'a ModelShape>,
    kv_per_token: Option<u64>,
    /// 0 when the shape is unknown.
    kv_bytes: u64,
    context: u64,
    concurrency: u32,
    model_max: Option<u64>,
}

impl Inputs<'_> {
    /// KV-cache bytes on `n` GPUs, replicas included.
    fn kv_on(&self, n: u32) -> u64 {
        let copies = self.shape.map_or(1, |s| s.kv_copies(n));
        self.kv_bytes.saturating_mul(copies)
    }

    /// Bytes `n` GPUs need.
    fn required(&self, n: u32) -> u64 {
        self.weights
            .saturating_add(self.kv_on(n))
            .saturating_add(u64::from(n).saturating_mul(RUNTIME_OVERHEAD_PER_GPU))
    }

    /// Tensor-parallel sizes the model allows.
    fn candidates(&self) -> Vec<u32> {
        TP_SIZES
            .into_iter()
            .filter(|n| {
                self.shape
                    .is_none_or(|s| s.attention_heads % u64::from(*n) == 0)
            })
            .collect()
    }

    /// Longest context at the requested concurrency whose cache fits next to the weights on
    /// `n` GPUs offering `available` bytes.
    fn max_context(&self, n: u32, available: u64) -> Option<u64> {
        let per_token = self.kv_per_token?.max(1);
        let free = available.saturating_sub(
            self.weights
                .saturating_add(u64::from(n).saturating_mul(RUNTIME_OVERHEAD_PER_GPU)),
        );
        let copies = self.shape.map_or(1, |s| s.kv_copies(n));
        let tokens = free
            / per_token
                .saturating_mul(u64::from(self.concurrency))
                .saturating_mul(copies)
                .max(1);
        Some(self.model_max.map_or(tokens, |m| tokens.min(m)))
    }

    fn plan_gpu(&self, gpu: &GpuType) -> GpuPlan {
        let mut out = GpuPlan {
            gpu_type: gpu.name.clone(),
            memory_bytes: gpu.memory_bytes,
            memory_gb: gpu
                .memory_bytes
                .map(|b| (b as f64 / GIB * 10.0).round() / 10.0),
            gpus_per_node: gpu.gpus_per_node,
            nodes: gpu.nodes,
            gpus_needed: None,
            fits: false,
            fit: "unknown".to_string(),
            required_bytes: None,
            available_bytes: None,
            max_context_length: None,
            reason: String::new(),
        };
        let Some(memory) = gpu.memory_bytes.filter(|m| *m > 0) else {
            out.reason = format!(
                "The memory of one {} is unknown (no nvidia.com/gpu.memory node label and an \
                 unrecognised product name), so no plan can be made for it.",
                gpu.name
            );
            return out;
        };
        // 90 % of at most some TB: exact in u128, and never more than `memory`.
        let usable = u64::try_from(u128::from(memory) * u128::from(UTILIZATION_PERCENT) / 100)
            .unwrap_or(memory);
        let available = |n: u32| u64::from(n).saturating_mul(usable);
        let candidates = self.candidates();
        let needed = candidates
            .iter()
            .copied()
            .find(|n| self.required(*n) <= available(*n));
        let on_one_node = candidates
            .iter()
            .copied()
            .filter(|n| *n <= gpu.gpus_per_node)
            .max();
        let fits = needed.is_some_and(|n| n <= gpu.gpus_per_node);
        let shown = needed.or(on_one_node).unwrap_or(1);
        let context_n = if fits { needed } else { on_one_node };
        out.gpus_needed = needed;
        out.fits = fits;
        out.required_bytes = Some(self.required(shown));
        out.available_bytes = Some(available(shown));
        out.max_context_length = context_n.and_then(|n| self.max_context(n, available(n)));
        let tight = u128::from(self.required(shown)) * 100
            > u128::from(available(shown)) * u128::from(TIGHT_PERCENT);
        out.fit = match (fits, tight) {
            (false, _) => "exceeds",
            (true, true) => "tight",
            (true, false) => "fits",
        }
        .to_string();
        let breakdown = self.breakdown(gpu, shown, memory, available(shown));
        let context_hint = |n: u32| match out.max_context_length {
            Some(tokens) => format!(
                " Up to {tokens} tokens of context fit on {n} GPU{} at {} concurrent request{}.",
                plural(n),
                self.concurrency,
                plural(self.concurrency)
            ),
            None => String::new(),
        };
        out.reason = match (needed, fits) {
            (Some(n), true) if tight => format!(
                "Tight fit on {breakdown}; little room is left for longer contexts or more \
                 concurrent requests.{}",
                context_hint(n)
            ),
            (Some(n), true) => format!("Fits on {breakdown}.{}", context_hint(n)),
            (Some(_), false) => format!(
                "Needs {breakdown}, but nodes of this type have at most {} GPU{} and only \
                 tensor parallelism within one node is planned.{}",
                gpu.gpus_per_node,
                plural(gpu.gpus_per_node),
                on_one_node.map_or(String::new(), |k| match out.max_context_length {
                    Some(0) | None => String::new(),
                    Some(_) => context_hint(k),
                })
            ),
            (None, _) => format!(
                "Does not fit on up to {} GPUs of this type; on {breakdown}.",
                candidates.last().copied().unwrap_or(1)
            ),
        };
        out
    }

    /// `2 × A100 (tensor parallel 2): 15.0 GiB weights + … = … needed of … usable (…)`.
    fn breakdown(&self, gpu: &GpuType, n: u32, memory: u64, available: u64) -> String {
        let gpus = if n == 1 {
            format!("1 × {}", gpu.name)
        } else {
            format!("{n} × {} (tensor parallel {n})", gpu.name)
        };
        let kv = if self.kv_per_token.is_some() {
            let copies = self.shape.map_or(1, |s| s.kv_copies(n));
            let replicated = if copies > 1 {
                format!(", held {copies} times across the GPUs")
            } else {
                String::new()
            };
            format!(
                " + {} KV cache ({} tokens × {}{replicated})",
                gib(self.kv_on(n)),
                self.context,
                self.concurrency
            )
        } else {
            String::new()
        };
        let unknown_kv = if self.kv_per_token.is_none() {
            " (KV cache not counted)"
        } else {
            ""
        };
        format!(
            "{gpus}: {} weights{kv} + {} runtime per GPU{unknown_kv} = {} needed of {} usable \
             ({UTILIZATION_PERCENT}% of {} per GPU)",
            gib(self.weights),
            gib(RUNTIME_OVERHEAD_PER_GPU),
            gib(self.required(n)),
            gib(available),
            gib(memory)
        )
    }
}

/// `15.0 GiB`.
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / GIB)
}

/// `s` unless `n` is 1.
fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
