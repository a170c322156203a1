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
mod tests {
    use super::*;
    use serde_json::json;

    const GIB_BYTES: u64 = 1024 * 1024 * 1024;

    // Usable bytes per GPU = floor(memory × 0.90):
    // A100-40GB: 40 GiB = 42_949_672_960 → 38_654_705_664
    // H100-80GB: 80 GiB = 85_899_345_920 → 77_309_411_328
    // T4:        16 GiB = 17_179_869_184 → 15_461_882_265 (…265.6 floored)
    // L4:        24 GiB = 25_769_803_776 → 23_192_823_398 (…398.4 floored)
    // H200:     141 GiB = 151_397_597_184 → 136_257_837_465 (…465.6 floored)
    fn gpu(name: &str, gb: u64, per_node: u32) -> GpuType {
        GpuType {
            name: name.into(),
            memory_bytes: Some(gb * GIB_BYTES),
            gpus_per_node: per_node,
            nodes: 1,
        }
    }
    fn a100() -> GpuType {
        gpu("NVIDIA-A100-SXM4-40GB", 40, 4)
    }
    fn h100() -> GpuType {
        gpu("NVIDIA-H100-80GB-HBM3", 80, 8)
    }
    fn t4() -> GpuType {
        gpu("Tesla-T4", 16, 4)
    }
    fn l4() -> GpuType {
        gpu("NVIDIA-L4", 24, 8)
    }

    /// A real model: its config.json (the fields the planner reads, values as published on the
    /// Hub) and the Hub's `safetensors` parameter counts.
    struct Model {
        id: &'static str,
        config: Value,
        safetensors: Value,
    }

    fn qwen3_0_6b() -> Model {
        // huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json; safetensors from
        // huggingface.co/api/models/Qwen/Qwen3-0.6B (tied embeddings stored once).
        Model {
            id: "Qwen/Qwen3-0.6B",
            config: json!({
                "architectures": ["Qwen3ForCausalLM"], "head_dim": 128, "hidden_size": 1024,
                "intermediate_size": 3072, "max_position_embeddings": 40960,
                "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
                "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 151936
            }),
            safetensors: json!({ "parameters": { "BF16": 751_632_384u64 }, "total": 751_632_384u64 }),
        }
    }

    fn llama_3_1_8b() -> Model {
        // huggingface.co/meta-llama/Llama-3.1-8B-Instruct/blob/main/config.json (no head_dim:
        // 4096 / 32 = 128); safetensors from the Hub API.
        Model {
            id: "meta-llama/Llama-3.1-8B-Instruct",
            config: json!({
                "architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
                "intermediate_size": 14336, "max_position_embeddings": 131072,
                "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                "torch_dtype": "bfloat16", "vocab_size": 128256
            }),
            safetensors: json!({ "parameters": { "BF16": 8_030_261_248u64 }, "total": 8_030_261_248u64 }),
        }
    }

    fn mistral_7b_v0_3() -> Model {
        // huggingface.co/mistralai/Mistral-7B-Instruct-v0.3/blob/main/config.json.
        Model {
            id: "mistralai/Mistral-7B-Instruct-v0.3",
            config: json!({
                "architectures": ["MistralForCausalLM"], "hidden_size": 4096,
                "intermediate_size": 14336, "max_position_embeddings": 32768,
                "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                "sliding_window": null, "torch_dtype": "bfloat16", "vocab_size": 32768
            }),
            safetensors: json!({ "parameters": { "BF16": 7_248_023_552u64 }, "total": 7_248_023_552u64 }),
        }
    }

    fn mixtral_8x7b() -> Model {
        // huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1/blob/main/config.json: every
        // expert is resident, so all 46.7 B parameters count.
        Model {
            id: "mistralai/Mixtral-8x7B-Instruct-v0.1",
            config: json!({
                "architectures": ["MixtralForCausalLM"], "hidden_size": 4096,
                "intermediate_size": 14336, "max_position_embeddings": 32768,
                "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
                "num_key_value_heads": 8, "num_local_experts": 8, "torch_dtype": "bfloat16",
                "vocab_size": 32000
            }),
            safetensors: json!({ "parameters": { "BF16": 46_702_792_704u64 }, "total": 46_702_792_704u64 }),
        }
    }

    fn llama_3_3_70b() -> Model {
        // huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json.
        Model {
            id: "meta-llama/Llama-3.3-70B-Instruct",
            config: json!({
                "architectures": ["LlamaForCausalLM"], "hidden_size": 8192,
                "intermediate_size": 28672, "max_position_embeddings": 131072,
                "num_attention_heads": 64, "num_hidden_layers": 80, "num_key_value_heads": 8,
                "torch_dtype": "bfloat16", "vocab_size": 128256
            }),
            safetensors: json!({ "parameters": { "BF16": 70_553_706_496u64 }, "total": 70_553_706_496u64 }),
        }
    }

    impl Model {
        fn shape(&self) -> ModelShape {
            ModelShape::from_config(&self.config).unwrap()
        }
        fn weights(&self) -> Weights {
            let st: Safetensors = serde_json::from_value(self.safetensors.clone()).unwrap();
            weights_from_safetensors(&st).unwrap()
        }
        fn plan(
            &self,
            gpus: &[GpuType],
            context: Option<u64>,
            concurrency: Option<u32>,
        ) -> ModelPlan {
            let req = PlanRequest {
                context_length: context,
                concurrency,
            };
            plan(self.id, &self.weights(), Some(&self.shape()), gpus, &req)
        }
    }

    #[test]
    fn real_configs_give_shapes_kv_sizes_and_weights() {
        for (model, shape, kv_per_token, weight_bytes) in [
            (
                qwen3_0_6b(),
                (28, 16, 8, 128, 40960),
                // 2 × 28 layers × 8 kv heads × 128 dim × 2 bytes
                114_688,
                // 751_632_384 BF16 × 2
                1_503_264_768,
            ),
            (
                llama_3_1_8b(),
                (32, 32, 8, 128, 131_072),
                // 2 × 32 × 8 × 128 × 2
                131_072,
                // 8_030_261_248 × 2
                16_060_522_496,
            ),
            (
                mistral_7b_v0_3(),
                (32, 32, 8, 128, 32768),
                // 2 × 32 × 8 × 128 × 2
                131_072,
                // 7_248_023_552 × 2
                14_496_047_104,
            ),
            (
                mixtral_8x7b(),
                (32, 32, 8, 128, 32768),
                // 2 × 32 × 8 × 128 × 2
                131_072,
                // 46_702_792_704 × 2
                93_405_585_408,
            ),
            (
                llama_3_3_70b(),
                (80, 64, 8, 128, 131_072),
                // 2 × 80 × 8 × 128 × 2
                327_680,
                // 70_553_706_496 × 2
                141_107_412_992,
            ),
        ] {
            let s = model.shape();
            assert_eq!(
                (
                    s.layers,
                    s.attention_heads,
                    s.kv_heads,
                    s.head_dim,
                    s.max_context
                ),
                (shape.0, shape.1, shape.2, shape.3, Some(shape.4)),
                "{}",
                model.id
            );
            assert_eq!(s.mla, None);
            assert_eq!(s.kv_bytes_per_token(), kv_per_token, "{}", model.id);
            let w = model.weights();
            assert_eq!(w.bytes, weight_bytes, "{}", model.id);
            assert_eq!(w.dtype, "BF16");
            assert_eq!(w.parameter_count * 2, weight_bytes);
        }
    }

    /// GPUs needed, fit, max context.
    type Expected = (Option<u32>, &'static str, Option<u64>);

    /// GPUs needed at the default 8192 tokens × 1 request, the fit, and the longest context on
    /// the GPUs chosen (n GPUs need weights + KV + n × 1_610_612_736 and offer n × usable).
    #[test]
    fn gpus_needed_and_max_context_at_the_default_context() {
        let gpus = [a100(), h100(), t4(), l4()];
        let cases: [(Model, [Expected; 4]); 5] = [
            (
                // 1_503_264_768 + 114_688 × 8192 (939_524_096) + 1_610_612_736 = 4_053_401_600
                // on 1 GPU: fits everywhere, well under 80 %. Max context on 1 GPU, e.g. T4:
                // (15_461_882_265 − 1_503_264_768 − 1_610_612_736) / 114_688 = 107_666 → capped at
                // the model's 40960.
                qwen3_0_6b(),
                [
                    (Some(1), "fits", Some(40960)),
                    (Some(1), "fits", Some(40960)),
                    (Some(1), "fits", Some(40960)),
                    (Some(1), "fits", Some(40960)),
                ],
            ),
            (
                // 16_060_522_496 + 1_073_741_824 + 1_610_612_736 = 18_744_877_056 on 1 GPU.
                // A100: ≤ 38_654_705_664; max (38_654_705_664 − 16_060_522_496 − 1_610_612_736)
                //   / 131_072 = 160_091 → 131072.
                // T4: 1 GPU no (> 15_461_882_265); 2 GPUs: 16_060_522_496 + 1_073_741_824 +
                //   3_221_225_472 = 20_355_489_792 ≤ 30_923_764_530; max (30_923_764_530 −
                //   16_060_522_496 − 3_221_225_472) / 131_072 = 88_821.
                // L4: 18_744_877_056 ≤ 23_192_823_398 but > 80 % (18_554_258_718): tight; max
                //   (23_192_823_398 − 16_060_522_496 − 1_610_612_736) / 131_072 = 42_127.
                llama_3_1_8b(),
                [
                    (Some(1), "fits", Some(131_072)),
                    (Some(1), "fits", Some(131_072)),
                    (Some(2), "fits", Some(88_821)),
                    (Some(1), "tight", Some(42_127)),
                ],
            ),
            (
                // 14_496_047_104 + 1_073_741_824 + 1_610_612_736 = 17_180_401_664 on 1 GPU.
                // T4: 2 GPUs, 18_791_014_400 ≤ 30_923_764_530. L4: 17_180_401_664 < 80 %
                // (18_554_258_718): fits; max (23_192_823_398 − 14_496_047_104 − 1_610_612_736)
                // / 131_072 = 54_063 → 32768.
                mistral_7b_v0_3(),
                [
                    (Some(1), "fits", Some(32768)),
                    (Some(1), "fits", Some(32768)),
                    (Some(2), "fits", Some(32768)),
                    (Some(1), "fits", Some(32768)),
                ],
            ),
            (
                // 93_405_585_408 weights + 1_073_741_824 KV.
                // A100: 2 GPUs 97_700_552_704 > 77_309_411_328; 4 GPUs 93_405_585_408 +
                //   1_073_741_824 + 6_442_450_944 = 100_921_778_176 ≤ 154_618_822_656.
                // H100: 2 GPUs 97_700_552_704 ≤ 154_618_822_656.
                // T4: 8 GPUs 107_364_229_120 ≤ 123_695_058_120, but a T4 node has 4: exceeds;
                //   on 4 T4s (61_847_529_060) the weights alone do not fit → max context 0.
                // L4: 8 GPUs 107_364_229_120 ≤ 185_542_587_184 (58 %).
                mixtral_8x7b(),
                [
                    (Some(4), "fits", Some(32768)),
                    (Some(2), "fits", Some(32768)),
                    (Some(8), "exceeds", Some(0)),
                    (Some(8), "fits", Some(32768)),
                ],
            ),
            (
                // 141_107_412_992 weights + 327_680 × 8192 = 2_684_354_560 KV.
                // A100: 4 GPUs 150_234_218_496 ≤ 154_618_822_656 (97 %: tight); max
                //   (154_618_822_656 − 141_107_412_992 − 6_442_450_944) / 327_680 = 21_572.
                // H100: 1 GPU 145_402_380_288 > 77_309_411_328; 2 GPUs 147_012_993_024 ≤
                //   154_618_822_656 (95 %: tight); max (154_618_822_656 − 141_107_412_992 −
                //   3_221_225_472) / 327_680 = 31_403.
                // T4: 8 GPUs 156_676_669_440 > 123_695_058_120; 16 GPUs 169_561_571_328 ≤
                //   247_390_116_240, more than a node has: exceeds, max context on 4 T4s 0.
                // L4: 8 GPUs 156_676_669_440 ≤ 185_542_587_184 (84 %: tight); max
                //   (185_542_587_184 − 141_107_412_992 − 12_884_901_888) / 327_680 = 96_283.
                llama_3_3_70b(),
                [
                    (Some(4), "tight", Some(21_572)),
                    (Some(2), "tight", Some(31_403)),
                    (Some(16), "exceeds", Some(0)),
                    (Some(8), "tight", Some(96_283)),
                ],
            ),
        ];
        for (model, want) in cases {
            let p = model.plan(&gpus, None, None);
            assert_eq!(p.basis, "config");
            assert_eq!((p.context_length, p.concurrency), (8192, 1));
            assert!(p.notes.is_empty(), "{:?}", p.notes);
            for (g, (needed, fit, max_context)) in p.gpus.iter().zip(want) {
                let label = format!("{} on {}", model.id, g.gpu_type);
                assert_eq!(g.gpus_needed, needed, "{label}");
                assert_eq!(g.fit, fit, "{label}: {}", g.reason);
                assert_eq!(g.fits, fit != "exceeds", "{label}");
                assert_eq!(g.max_context_length, max_context, "{label}");
            }
        }
    }

    #[test]
    fn the_70b_needs_more_than_one_gpu_and_says_why() {
        let p = llama_3_3_70b().plan(&[h100()], None, None);
        let g = &p.gpus[0];
        assert_eq!(g.gpus_needed, Some(2));
        // 141_107_412_992 + 2_684_354_560 + 2 × 1_610_612_736
        assert_eq!(g.required_bytes, Some(147_012_993_024));
        // 2 × 77_309_411_328
        assert_eq!(g.available_bytes, Some(154_618_822_656));
        assert_eq!(p.kv_cache_bytes_per_token, Some(327_680));
        assert_eq!(p.kv_cache_bytes, Some(2_684_354_560));
        assert_eq!(g.memory_gb, Some(80.0));
        assert_eq!(
            g.reason,
            "Tight fit on 2 × NVIDIA-H100-80GB-HBM3 (tensor parallel 2): 131.4 GiB weights + \
             2.5 GiB KV cache (8192 tokens × 1) + 1.5 GiB runtime per GPU = 136.9 GiB needed of \
             144.0 GiB usable (90% of 80.0 GiB per GPU); little room is left for longer contexts \
             or more concurrent requests. Up to 31403 tokens of context fit on 2 GPUs at 1 \
             concurrent request."
        );
    }

    #[test]
    fn context_and_concurrency_change_the_answer() {
        // Llama 3.1 8B on A100-40GB at 32768 tokens × 8 requests:
        // KV 131_072 × 32_768 × 8 = 34_359_738_368 (32 GiB).
        // 1 GPU: 16_060_522_496 + 34_359_738_368 + 1_610_612_736 = 52_030_873_600 > 38_654_705_664.
        // 2 GPUs: 16_060_522_496 + 34_359_738_368 + 3_221_225_472 = 53_641_486_336 ≤ 77_309_411_328
        // (69 %: fits). Max context on 2 at 8 requests: (77_309_411_328 − 16_060_522_496 −
        // 3_221_225_472) / (131_072 × 8) = 55_339.
        let p = llama_3_1_8b().plan(&[a100()], Some(32768), Some(8));
        assert_eq!(p.kv_cache_bytes, Some(34_359_738_368));
        let g = &p.gpus[0];
        assert_eq!((g.gpus_needed, g.fit.as_str()), (Some(2), "fits"));
        assert_eq!(g.required_bytes, Some(53_641_486_336));
        assert_eq!(g.max_context_length, Some(55_339));
        assert!(
            g.reason.starts_with(
                "Fits on 2 × NVIDIA-A100-SXM4-40GB (tensor parallel 2): 15.0 GiB weights + 32.0 GiB \
                 KV cache (32768 tokens × 8) + 1.5 GiB runtime per GPU"
            ),
            "{}",
            g.reason
        );

        // Qwen3-0.6B on T4 at 32768 tokens × 16 requests: KV 114_688 × 32_768 × 16 =
        // 60_129_542_144. 4 GPUs: 1_503_264_768 + 60_129_542_144 + 6_442_450_944 =
        // 68_075_257_856 > 61_847_529_060; 8 GPUs: 74_517_708_800 ≤ 123_695_058_120, but a T4
        // node has 4 → exceeds. On 4 T4s: (61_847_529_060 − 1_503_264_768 − 6_442_450_944) /
        // (114_688 × 16) = 29_374 tokens would fit.
        let p = qwen3_0_6b().plan(&[t4()], Some(32768), Some(16));
        let g = &p.gpus[0];
        assert_eq!(
            (g.gpus_needed, g.fits, g.fit.as_str()),
            (Some(8), false, "exceeds")
        );
        assert_eq!(g.max_context_length, Some(29_374));
        assert!(
            g.reason
                .starts_with("Needs 8 × Tesla-T4 (tensor parallel 8)"),
            "{}",
            g.reason
        );
        assert!(
            g.reason
                .contains("at most 4 GPUs and only tensor parallelism within one node")
        );
        assert!(
            g.reason.ends_with(
                "Up to 29374 tokens of context fit on 4 GPUs at 16 concurrent requests."
            )
        );
    }

    #[test]
    fn context_is_capped_at_the_model_maximum() {
        let p = mistral_7b_v0_3().plan(&[h100()], Some(100_000), None);
        assert_eq!(p.context_length, 32768);
        assert_eq!(p.model_max_context_length, Some(32768));
        assert_eq!(
            p.notes,
            [
                "The requested context of 100000 tokens exceeds the model's maximum of 32768; planned for 32768."
            ]
        );
        let mut small = qwen3_0_6b();
        small.config["max_position_embeddings"] = json!(4096);
        let p = small.plan(&[h100()], None, Some(0));
        assert_eq!((p.context_length, p.concurrency), (4096, 1));
        assert!(p.notes[0].contains("below the default of 8192"));
    }

    #[test]
    fn a_single_gpu_node_cannot_host_tensor_parallelism() {
        // Llama 3.1 8B on the KWOK T4 nodes (1 GPU each): 2 GPUs needed, none on one node.
        let single = gpu("Tesla-T4", 16, 1);
        let p = llama_3_1_8b().plan(&[single], None, None);
        let g = &p.gpus[0];
        assert_eq!(
            (g.gpus_needed, g.fits, g.fit.as_str()),
            (Some(2), false, "exceeds")
        );
        // On 1 T4 the weights leave nothing: (15_461_882_265 − 16_060_522_496 − …) → 0.
        assert_eq!(g.max_context_length, Some(0));
        assert!(g.reason.contains("at most 1 GPU and"), "{}", g.reason);
        assert!(g.reason.ends_with("is planned."), "{}", g.reason);
    }

    #[test]
    fn tensor_parallelism_must_divide_the_attention_heads() {
        // Qwen2.5-7B-Instruct's shape (28 attention heads, 4 KV heads, head dim 128): 8 does not
        // divide 28, so only 1, 2 and 4 GPUs are candidates. With ~15 GB of weights at 32768 ×
        // 32 (KV 57_344 × 32_768 × 32 = 60_129_542_144), 4 T4s hold 61_847_529_060 < 15_000_000_000
        // + 60_129_542_144 + 6_442_450_944 = 81_571_993_088 → no size works.
        let shape = ModelShape::from_config(&json!({
            "hidden_size": 3584, "max_position_embeddings": 32768, "num_attention_heads": 28,
            "num_hidden_layers": 28, "num_key_value_heads": 4
        }))
        .unwrap();
        assert_eq!(shape.kv_bytes_per_token(), 57_344);
        let weights = Weights {
            bytes: 15_000_000_000,
            parameter_count: 7_500_000_000,
            dtype: "BF16".into(),
        };
        let req = PlanRequest {
            context_length: Some(32768),
            concurrency: Some(32),
        };
        let p = plan(
            "Qwen/Qwen2.5-7B-Instruct",
            &weights,
            Some(&shape),
            &[gpu("Tesla-T4", 16, 8)],
            &req,
        );
        let g = &p.gpus[0];
        assert_eq!(
            (g.gpus_needed, g.fits, g.fit.as_str()),
            (None, false, "exceeds")
        );
        assert_eq!(g.required_bytes, Some(81_571_993_088));
        assert_eq!(g.available_bytes, Some(61_847_529_060));
        assert!(
            g.reason
                .starts_with("Does not fit on up to 4 GPUs of this type; on 4 × Tesla-T4"),
            "{}",
            g.reason
        );
    }

    #[test]
    fn kv_heads_are_replicated_beyond_one_per_gpu() {
        // Llama-3.3-70B: 8 KV heads. Up to 8 GPUs split them; 16 GPUs hold each head twice.
        let shape = ModelShape::from_config(&json!({
            "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
            "hidden_size": 8192, "max_position_embeddings": 131072
        }))
        .unwrap();
        assert_eq!(
            [1, 2, 8, 16, 64].map(|n| shape.kv_copies(n)),
            [1, 1, 1, 2, 8]
        );
    }

    #[test]
    fn mla_models_cache_the_compressed_latent() {
        // deepseek-ai/DeepSeek-V3 config.json (num_hidden_layers 61, kv_lora_rank 512,
        // qk_rope_head_dim 64, 128 heads, max 163840) and its Hub safetensors counts.
        let config = json!({
            "architectures": ["DeepseekV3ForCausalLM"], "hidden_size": 7168, "kv_lora_rank": 512,
            "max_position_embeddings": 163840, "num_attention_heads": 128,
            "num_hidden_layers": 61, "num_key_value_heads": 128, "qk_nope_head_dim": 128,
            "qk_rope_head_dim": 64, "v_head_dim": 128
        });
        let shape = ModelShape::from_config(&config).unwrap();
        assert_eq!(shape.mla, Some((512, 64)));
        // 61 layers × (512 + 64) × 2 bytes
        assert_eq!(shape.kv_bytes_per_token(), 70_272);
        // Every tensor-parallel GPU holds the whole latent cache.
        assert_eq!(shape.kv_copies(1), 1);
        assert_eq!(shape.kv_copies(8), 8);
        let st: Safetensors = serde_json::from_value(json!({
            "parameters": { "BF16": 3_918_786_560u64, "F8_E4M3": 680_571_043_840u64, "F32": 41_555_600u64 },
            "total": 684_531_386_000u64
        }))
        .unwrap();
        let w = weights_from_safetensors(&st).unwrap();
        // 3_918_786_560 × 2 + 680_571_043_840 × 1 + 41_555_600 × 2 (F32 served at 16 bit)
        assert_eq!(w.bytes, 688_491_728_160);
        assert_eq!(w.parameter_count, 684_531_386_000);
        assert_eq!(w.dtype, "F8_E4M3");
        let req = PlanRequest::default();
        let p = plan(
            "deepseek-ai/DeepSeek-V3",
            &w,
            Some(&shape),
            &[h100(), gpu("H200", 141, 8)],
            &req,
        );
        // KV 70_272 × 8192 = 575_668_224.
        // H100 × 8: 688_491_728_160 + 575_668_224 + 12_884_901_888 = 701_952_298_272 >
        // 618_475_290_624; × 16: 714_837_200_160 ≤ 1_236_950_581_248, more than a node: exceeds.
        assert_eq!(
            (p.gpus[0].gpus_needed, p.gpus[0].fit.as_str()),
            (Some(16), "exceeds")
        );
        // H200 × 8: 701_952_298_272 ≤ 8 × 136_257_837_465 = 1_090_062_699_720 (64 %).
        assert_eq!(
            (p.gpus[1].gpus_needed, p.gpus[1].fit.as_str()),
            (Some(8), "fits")
        );
        assert_eq!(p.gpus[1].max_context_length, Some(163_840));
    }

    #[test]
    fn multimodal_configs_are_read_from_text_or_llm_config() {
        // mistralai/Mistral-Small-3.1-24B-Instruct-2503: the language model in `text_config`.
        let config = json!({
            "architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
            "text_config": {
                "head_dim": 128, "hidden_size": 5120, "max_position_embeddings": 131072,
                "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8
            },
            "vision_config": { "head_dim": 64, "hidden_size": 1024, "num_attention_heads": 16 }
        });
        let shape = ModelShape::from_config(&config).unwrap();
        assert_eq!(
            shape,
            ModelShape {
                layers: 40,
                attention_heads: 32,
                kv_heads: 8,
                head_dim: 128,
                max_context: Some(131_072),
                mla: None
            }
        );
        // 2 × 40 × 8 × 128 × 2
        assert_eq!(shape.kv_bytes_per_token(), 163_840);
        // InternVL-style `llm_config`, with a null head_dim and no KV heads (plain MHA).
        let config = json!({
            "llm_config": { "head_dim": null, "hidden_size": 2048, "num_attention_heads": 16,
                            "num_hidden_layers": 24 }
        });
        let shape = ModelShape::from_config(&config).unwrap();
        assert_eq!(
            (shape.kv_heads, shape.head_dim, shape.max_context),
            (16, 128, None)
        );
    }

    #[test]
    fn missing_or_bad_fields_are_named() {
        for (config, err) in [
            (json!({}), ShapeError::Missing("num_hidden_layers")),
            (json!([1, 2]), ShapeError::Missing("num_hidden_layers")),
            (
                json!({ "text_config": {} }),
                ShapeError::Missing("num_hidden_layers"),
            ),
            (
                json!({ "num_hidden_layers": 4 }),
                ShapeError::Missing("num_attention_heads"),
            ),
            (
                json!({ "num_hidden_layers": 4, "num_attention_heads": 8 }),
                ShapeError::Missing("head_dim or hidden_size"),
            ),
            (
                json!({ "num_hidden_layers": 4, "num_attention_heads": 8, "hidden_size": 4,
                        "kv_lora_rank": 512 }),
                ShapeError::Invalid("hidden_size"),
            ),
            (
                json!({ "num_hidden_layers": 4, "num_attention_heads": 8, "head_dim": 64,
                        "kv_lora_rank": 512 }),
                ShapeError::Missing("qk_rope_head_dim"),
            ),
            (
                json!({ "num_hidden_layers": "32", "num_attention_heads": 8 }),
                ShapeError::Invalid("num_hidden_layers"),
            ),
            (
                json!({ "num_hidden_layers": 32, "num_attention_heads": 0 }),
                ShapeError::Invalid("num_attention_heads"),
            ),
        ] {
            assert_eq!(
                ModelShape::from_config(&config),
                Err(err.clone()),
                "{config}"
            );
        }
        assert_eq!(
            ShapeError::Missing("num_attention_heads").to_string(),
            "config.json has no num_attention_heads"
        );
    }

    #[test]
    fn without_a_config_only_weights_and_runtime_count() {
        // A gated Llama 3.3 70B without a token: parameters from the Hub, no config.json.
        let w = weights_from_parameter_count(70_553_706_496, Some("bfloat16"));
        assert_eq!((w.bytes, w.dtype.as_str()), (141_107_412_992, "BF16"));
        let p = plan(
            "meta-llama/Llama-3.3-70B-Instruct",
            &w,
            None,
            &[h100()],
            &PlanRequest::default(),
        );
        assert_eq!(p.basis, "parameters");
        assert_eq!(
            (
                p.kv_cache_bytes_per_token,
                p.kv_cache_bytes,
                p.model_max_context_length
            ),
            (None, None, None)
        );
        assert_eq!(p.notes.len(), 1);
        assert!(
            p.notes[0].starts_with("The KV cache is not counted"),
            "{:?}",
            p.notes
        );
        let g = &p.gpus[0];
        // 1 GPU: 141_107_412_992 + 1_610_612_736 = 142_718_025_728 > 77_309_411_328;
        // 2 GPUs: 141_107_412_992 + 3_221_225_472 = 144_328_638_464 ≤ 154_618_822_656.
        assert_eq!((g.gpus_needed, g.fit.as_str()), (Some(2), "tight"));
        assert_eq!(g.required_bytes, Some(144_328_638_464));
        assert_eq!(g.max_context_length, None);
        assert!(
            g.reason
                .contains("1.5 GiB runtime per GPU (KV cache not counted)"),
            "{}",
            g.reason
        );
    }

    #[test]
    fn unknown_gpu_memory_gives_no_plan() {
        let unknown = GpuType {
            name: "Unknown GPU".into(),
            memory_bytes: None,
            gpus_per_node: 2,
            nodes: 1,
        };
        let p = qwen3_0_6b().plan(&[unknown], None, None);
        let g = &p.gpus[0];
        assert_eq!(
            (g.fits, g.fit.as_str(), g.gpus_needed, g.memory_gb),
            (false, "unknown", None, None)
        );
        assert_eq!(
            g.reason,
            "The memory of one Unknown GPU is unknown (no nvidia.com/gpu.memory node label and an \
             unrecognised product name), so no plan can be made for it."
        );
    }

    #[test]
    fn dtypes_are_sized_as_served() {
        for (dtype, bytes) in [
            ("F64", 2),
            ("F32", 2),
            ("F16", 2),
            ("BF16", 2),
            ("F8_E4M3", 1),
            ("F8_E5M2", 1),
            ("I8", 1),
            ("U8", 1),
            ("BOOL", 1),
            ("I16", 2),
            ("U16", 2),
            ("I32", 4),
            ("U32", 4),
            ("I64", 8),
            ("U64", 8),
            ("F4", 2),
            ("", 2),
        ] {
            assert_eq!(served_bytes(dtype), bytes, "{dtype}");
        }
        // A GPTQ int4 model: packed I32 storage plus F16 scales and embeddings.
        let st = Safetensors {
            parameters: [("I32".to_string(), 1_000), ("F16".to_string(), 500)].into(),
            total: Some(1_500),
        };
        let w = weights_from_safetensors(&st).unwrap();
        assert_eq!(
            (w.bytes, w.parameter_count, w.dtype.as_str()),
            (5_000, 1_500, "I32")
        );
        assert_eq!(weights_from_safetensors(&Safetensors::default()), None);
        // A tie goes to the first dtype by name.
        let tie = Safetensors {
            parameters: [("F16".to_string(), 5), ("BF16".to_string(), 5)].into(),
            total: None,
        };
        assert_eq!(weights_from_safetensors(&tie).unwrap().dtype, "BF16");
        for (torch, bytes, dtype) in [
            (Some("float32"), 2, "F32"),
            (Some("float16"), 2, "F16"),
            (Some("bfloat16"), 2, "BF16"),
            (Some("int8"), 1, "I8"),
            (Some("float8_e4m3fn"), 1, "F8"),
            (Some("weird"), 2, "unknown"),
            (None, 2, "unknown"),
        ] {
            let w = weights_from_parameter_count(1_000, torch);
            assert_eq!(
                (w.bytes, w.dtype.as_str()),
                (bytes * 1_000, dtype),
                "{torch:?}"
            );
        }
        // F32 checkpoints get a note.
        let w = weights_from_parameter_count(1_000, Some("float32"));
        let p = plan(
            "x/y",
            &w,
            Some(&qwen3_0_6b().shape()),
            &[],
            &PlanRequest::default(),
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("vLLM serves them at 16 bit")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn plans_serialise_with_camel_case_names() {
        let p = qwen3_0_6b().plan(&[gpu("Tesla-T4", 15, 1)], None, None);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["modelId"], "Qwen/Qwen3-0.6B");
        assert_eq!(v["weightBytes"], 1_503_264_768u64);
        assert_eq!(v["kvCacheBytesPerToken"], 114_688);
        assert_eq!(v["runtimeOverheadBytesPerGpu"], 1_610_612_736u64);
        assert_eq!(v["gpuMemoryUtilization"], 0.9);
        assert_eq!(v["modelMaxContextLength"], 40960);
        let g = &v["gpus"][0];
        for key in [
            "gpuType",
            "memoryBytes",
            "memoryGb",
            "gpusPerNode",
            "nodes",
            "gpusNeeded",
            "fits",
            "fit",
            "requiredBytes",
            "availableBytes",
            "maxContextLength",
            "reason",
        ] {
            assert!(g.get(key).is_some(), "{key} in {g}");
        }
        assert_eq!(g["memoryGb"], 15.0);
        assert!((GPU_MEMORY_UTILIZATION * 100.0 - UTILIZATION_PERCENT as f64).abs() < 1e-9);
    }
}
