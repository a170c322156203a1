//! The metric names of each model server, by what they measure, so one summary reads vLLM,
//! SGLang, llama.cpp's server and Dynamo's frontend alike.
//!
//! Names are from each project's documentation of its `/metrics` endpoint. Where a server renamed
//! a metric, both names are listed (the first one present wins): vLLM's V1 engine calls the KV
//! cache gauge `vllm:kv_cache_usage_perc` (V0: `vllm:gpu_cache_usage_perc`) and the inter-token
//! histogram `vllm:inter_token_latency_seconds` (V0: `vllm:time_per_output_token_seconds`).
//! llama.cpp's server (started with `--metrics`) has no request counter and no latency
//! histograms; Dynamo's frontend counts tokens in the `_sum` of its sequence-length histograms.

/// The model server a scrape came from, told by the prefix of its metric names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// vLLM (`vllm:`).
    Vllm,
    /// SGLang (`sglang:`).
    Sglang,
    /// llama.cpp's HTTP server (`llamacpp:`).
    Llamacpp,
    /// NVIDIA Dynamo's HTTP frontend (`dynamo_frontend_`).
    Dynamo,
}

impl Family {
    /// Every family, in the order detection tries them.
    pub const ALL: [Family; 4] = [Self::Dynamo, Self::Vllm, Self::Sglang, Self::Llamacpp];

    /// The prefix every metric of the family starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Vllm => "vllm:",
            Self::Sglang => "sglang:",
            Self::Llamacpp => "llamacpp:",
            Self::Dynamo => "dynamo_frontend_",
        }
    }

    /// Where each figure is read from for this family.
    pub fn names(self) -> &'static Names {
        match self {
            Self::Vllm => &VLLM,
            Self::Sglang => &SGLANG,
            Self::Llamacpp => &LLAMACPP,
            Self::Dynamo => &DYNAMO,
        }
    }
}

/// Where a token or request count comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// A counter sample (`…_total`).
    Counter(&'static str),
    /// The `_sum` of a histogram (the sum of observed lengths is a token count).
    HistogramSum(&'static str),
    /// The `_count` of a histogram (one observation per request).
    HistogramCount(&'static str),
}

/// The metric names of one family, by figure; each list is tried in order.
#[derive(Debug)]
pub struct Names {
    /// Requests being processed (gauge).
    pub running: &'static [&'static str],
    /// Requests queued (gauge).
    pub waiting: &'static [&'static str],
    /// KV-cache usage as a ratio 0–1 (gauge).
    pub kv_cache_usage: &'static [&'static str],
    /// Prompt (prefill) tokens processed.
    pub prompt_tokens: &'static [Count],
    /// Generated tokens.
    pub generation_tokens: &'static [Count],
    /// Requests finished.
    pub requests: &'static [Count],
    /// Time to first token (histogram base name, seconds).
    pub time_to_first_token: &'static [&'static str],
    /// Time between generated tokens (histogram base name, seconds).
    pub inter_token_latency: &'static [&'static str],
    /// End-to-end request latency (histogram base name, seconds).
    pub e2e_latency: &'static [&'static str],
}

const VLLM: Names = Names {
    running: &["vllm:num_requests_running"],
    waiting: &["vllm:num_requests_waiting"],
    kv_cache_usage: &["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
    prompt_tokens: &[Count::Counter("vllm:prompt_tokens_total")],
    generation_tokens: &[Count::Counter("vllm:generation_tokens_total")],
    requests: &[Count::Counter("vllm:request_success_total")],
    time_to_first_token: &["vllm:time_to_first_token_seconds"],
    inter_token_latency: &[
        "vllm:inter_token_latency_seconds",
        "vllm:time_per_output_token_seconds",
    ],
    e2e_latency: &["vllm:e2e_request_latency_seconds"],
};

const SGLANG: Names = Names {
    running: &["sglang:num_running_reqs"],
    waiting: &["sglang:num_queue_reqs"],
    kv_cache_usage: &["sglang:token_usage"],
    prompt_tokens: &[Count::Counter("sglang:prompt_tokens_total")],
    generation_tokens: &[Count::Counter("sglang:generation_tokens_total")],
    requests: &[Count::Counter("sglang:num_requests_total")],
    time_to_first_token: &["sglang:time_to_first_token_seconds"],
    inter_token_latency: &[
        "sglang:inter_token_latency_seconds",
        "sglang:time_per_output_token_seconds",
    ],
    e2e_latency: &["sglang:e2e_request_latency_seconds"],
};

const LLAMACPP: Names = Names {
    running: &["llamacpp:requests_processing"],
    waiting: &["llamacpp:requests_deferred"],
    kv_cache_usage: &["llamacpp:kv_cache_usage_ratio"],
    prompt_tokens: &[Count::Counter("llamacpp:prompt_tokens_total")],
    generation_tokens: &[Count::Counter("llamacpp:tokens_predicted_total")],
    requests: &[],
    time_to_first_token: &[],
    inter_token_latency: &[],
    e2e_latency: &[],
};

const DYNAMO: Names = Names {
    running: &["dynamo_frontend_inflight_requests"],
    waiting: &["dynamo_frontend_queued_requests"],
    kv_cache_usage: &[],
    prompt_tokens: &[Count::HistogramSum("dynamo_frontend_input_sequence_tokens")],
    generation_tokens: &[Count::HistogramSum(
        "dynamo_frontend_output_sequence_tokens",
    )],
    requests: &[
        Count::Counter("dynamo_frontend_requests_total"),
        Count::HistogramCount("dynamo_frontend_request_duration_seconds"),
    ],
    time_to_first_token: &["dynamo_frontend_time_to_first_token_seconds"],
    inter_token_latency: &["dynamo_frontend_inter_token_latency_seconds"],
    e2e_latency: &["dynamo_frontend_request_duration_seconds"],
};
