//! Which HuggingFace models KubeAIRunway can serve, and with which engines (docs/contract/api.md
//! §6.1).
//!
//! The Hub tells us a model's pipeline tag, library, `config.architectures`, gated flag and
//! safetensors parameter counts — when it tells us anything: gated or metadata-less repositories
//! often arrive with little more than an id, so the architecture and the size are then guessed
//! from the id. The lists and the wording of the reasons are part of the contract.

use std::sync::LazyLock;

use kubeairunway_api::EngineType;
use regex::Regex;

use super::Safetensors;

/// Architecture guessed from the model id, first match wins (case-insensitive, ASCII word
/// boundaries as in the reference's JavaScript regexes).
static ARCH_FROM_ID: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"llama[-_]?3", "LlamaForCausalLM"),
        (r"llama[-_]?2", "LlamaForCausalLM"),
        (r"llama", "LlamaForCausalLM"),
        (r"\bmixtral", "MixtralForCausalLM"),
        (r"\bmistral", "MistralForCausalLM"),
        (r"\bqwen[-_]?3", "Qwen3ForCausalLM"),
        (r"\bqwen", "Qwen2ForCausalLM"),
        (r"\bgemma[-_]?2(?:-|$)", "Gemma2ForCausalLM"),
        (r"\bgemma2\b", "Gemma2ForCausalLM"),
        (r"\bgemma\b", "GemmaForCausalLM"),
        (r"\bphi[-_]?3", "Phi3ForCausalLM"),
        (r"\bphi", "PhiForCausalLM"),
        (r"\bfalcon", "FalconForCausalLM"),
        (r"\bdeepseek", "DeepseekV2ForCausalLM"),
        (r"\bgranite", "GraniteForCausalLM"),
        (r"\bolmo[-_]?2", "Olmo2ForCausalLM"),
        (r"\bolmo", "OlmoForCausalLM"),
    ]
    .into_iter()
    .map(|(pattern, arch)| (ascii_regex(pattern), arch))
    .collect()
});

/// A size in billions in the id (`-0.6B`, `_70b`, `.8B-`, `7billion`).
static BILLIONS: LazyLock<Regex> =
    LazyLock::new(|| ascii_regex(r"(?:^|[-_./])(\d+(?:\.\d+)?)\s*[Bb](?:$|[-_./]|illion)?"));
/// A size in millions in the id (`-135M`).
static MILLIONS: LazyLock<Regex> =
    LazyLock::new(|| ascii_regex(r"(?:^|[-_./])(\d+(?:\.\d+)?)\s*[Mm](?:$|[-_./]|illion)?"));

/// Compiles one of the fixed patterns above, case-insensitive and ASCII-only (`\b`, `\d` and
/// case folding as JavaScript has them).
fn ascii_regex(pattern: &str) -> Regex {
    match Regex::new(&format!("(?i-u){pattern}")) {
        Ok(re) => re,
        // The patterns are literals of this file, checked by the tests.
        Err(e) => panic!("invalid built-in regex {pattern}: {e}"),
    }
}

const VLLM: [&str; 41] = [
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "MixtralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen2MoeForCausalLM",
    "Qwen3ForCausalLM",
    "GPT2LMHeadModel",
    "GPTNeoForCausalLM",
    "GPTNeoXForCausalLM",
    "GPTJForCausalLM",
    "GPTBigCodeForCausalLM",
    "FalconForCausalLM",
    "PhiForCausalLM",
    "Phi3ForCausalLM",
    "GemmaForCausalLM",
    "Gemma2ForCausalLM",
    "StableLmForCausalLM",
    "StarCoder2ForCausalLM",
    "OPTForCausalLM",
    "BloomForCausalLM",
    "MPTForCausalLM",
    "BaichuanForCausalLM",
    "InternLMForCausalLM",
    "InternLM2ForCausalLM",
    "ChatGLMModel",
    "CohereForCausalLM",
    "DbrxForCausalLM",
    "DeciLMForCausalLM",
    "DeepseekV2ForCausalLM",
    "ExaoneForCausalLM",
    "ArcticForCausalLM",
    "GraniteForCausalLM",
    "GraniteMoeForCausalLM",
    "JambaForCausalLM",
    "MiniCPMForCausalLM",
    "OlmoForCausalLM",
    "Olmo2ForCausalLM",
    "PersimmonForCausalLM",
    "SolarForCausalLM",
    "TeleChat2ForCausalLM",
    "XverseForCausalLM",
];

const SGLANG: [&str; 20] = [
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "MixtralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen2MoeForCausalLM",
    "Qwen3ForCausalLM",
    "GPT2LMHeadModel",
    "GPTNeoXForCausalLM",
    "GPTBigCodeForCausalLM",
    "GemmaForCausalLM",
    "Gemma2ForCausalLM",
    "PhiForCausalLM",
    "Phi3ForCausalLM",
    "StableLmForCausalLM",
    "InternLM2ForCausalLM",
    "DeepseekV2ForCausalLM",
    "OlmoForCausalLM",
    "Olmo2ForCausalLM",
    "ExaoneForCausalLM",
    "MiniCPMForCausalLM",
];

const TRTLLM: [&str; 13] = [
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "MixtralForCausalLM",
    "Qwen2ForCausalLM",
    "GPT2LMHeadModel",
    "GPTNeoXForCausalLM",
    "FalconForCausalLM",
    "PhiForCausalLM",
    "GemmaForCausalLM",
    "BloomForCausalLM",
    "MPTForCausalLM",
    "BaichuanForCausalLM",
    "ChatGLMModel",
];

/// llama.cpp's list. Only GGUF repositories are offered llama.cpp (a safetensors repository
/// would first need converting), so this list decides nothing today; it is kept so the rule
/// stays visible next to the others.
const LLAMACPP: [&str; 24] = [
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "MixtralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen2MoeForCausalLM",
    "Qwen3ForCausalLM",
    "GPT2LMHeadModel",
    "GPTNeoForCausalLM",
    "GPTNeoXForCausalLM",
    "PhiForCausalLM",
    "Phi3ForCausalLM",
    "GemmaForCausalLM",
    "Gemma2ForCausalLM",
    "FalconForCausalLM",
    "StableLmForCausalLM",
    "StarCoder2ForCausalLM",
    "BloomForCausalLM",
    "MPTForCausalLM",
    "InternLMForCausalLM",
    "InternLM2ForCausalLM",
    "DeepseekV2ForCausalLM",
    "OlmoForCausalLM",
    "Olmo2ForCausalLM",
    "MiniCPMForCausalLM",
];

/// The architectures an engine serves.
fn allowlist(engine: EngineType) -> &'static [&'static str] {
    match engine {
        EngineType::Vllm => &VLLM,
        EngineType::Sglang => &SGLANG,
        EngineType::Trtllm => &TRTLLM,
        EngineType::Llamacpp => &LLAMACPP,
    }
}

/// Pipeline tags of text generation models.
const TEXT_PIPELINES: [&str; 3] = ["text-generation", "text2text-generation", "conversational"];
/// Libraries whose repositories the engines load (`""` = the Hub names none).
const SERVABLE_LIBRARIES: [&str; 4] = ["transformers", "vllm", "gguf", ""];

/// The architecture guessed from a model id, for models whose `config.json` the Hub did not
/// return; empty when no rule matches.
pub fn infer_architectures(id: &str) -> Vec<String> {
    ARCH_FROM_ID
        .iter()
        .find(|(re, _)| re.is_match(id))
        .map(|(_, arch)| vec![(*arch).to_string()])
        .unwrap_or_default()
}

/// Whether the repository holds GGUF files (served by llama.cpp only).
pub fn is_gguf(id: &str, library_name: Option<&str>) -> bool {
    library_name == Some("gguf") || id.to_ascii_lowercase().contains("gguf")
}

/// Whether the Hub's `gated` field marks the repository as gated (`true`, `"auto"`,
/// `"manual"`); `false` and anything else is open.
pub fn is_gated(gated: Option<&serde_json::Value>) -> bool {
    match gated {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "auto" || s == "manual",
        _ => false,
    }
}

/// The engines that can serve a model, in preference order: llama.cpp alone for GGUF,
/// otherwise every other engine whose list names one of the architectures.
pub fn supported_engines(architectures: &[String], gguf: bool) -> Vec<EngineType> {
    if gguf {
        return vec![EngineType::Llamacpp];
    }
    EngineType::ALL
        .into_iter()
        .filter(|e| *e != EngineType::Llamacpp)
        .filter(|e| {
            let list = allowlist(*e);
            architectures.iter().any(|a| list.contains(&a.as_str()))
        })
        .collect()
}

/// Why a model cannot be served, or `None` when it can: a text-generation model of a known
/// library with an engine (a), any model whose architecture an engine serves — which covers
/// gated repositories the Hub describes poorly (b) — or a GGUF repository (c).
pub fn incompatibility(
    pipeline_tag: Option<&str>,
    library: Option<&str>,
    architectures: &[String],
    engines: &[EngineType],
    gguf: bool,
) -> Option<String> {
    let tag = pipeline_tag.unwrap_or_default();
    let library = library.unwrap_or_default();
    let has_engine = !engines.is_empty();
    let by_tag =
        TEXT_PIPELINES.contains(&tag) && has_engine && SERVABLE_LIBRARIES.contains(&library);
    let by_architecture = !architectures.is_empty() && has_engine;
    let by_gguf = gguf && has_engine;
    if by_tag || by_architecture || by_gguf {
        return None;
    }
    let reason = if tag.is_empty() {
        "Model has no pipeline tag".to_string()
    } else if !TEXT_PIPELINES.contains(&tag) {
        format!("Pipeline tag \"{tag}\" is not supported for inference")
    } else if !library.is_empty() && library != "transformers" && library != "vllm" {
        format!("Library \"{library}\" is not supported")
    } else if let Some(first) = architectures.first() {
        format!("Architecture \"{first}\" is not supported by any engine")
    } else {
        "Model architecture is unknown".to_string()
    };
    Some(reason)
}

/// Parameter count: the Hub's safetensors total, else the sum over dtypes, else a size written
/// in the id (`-8B`, `-135M`).
pub fn parameter_count(safetensors: Option<&Safetensors>, id: &str) -> Option<u64> {
    if let Some(st) = safetensors {
        if let Some(total) = st.total.filter(|t| *t > 0) {
            return Some(total);
        }
        let sum = st
            .parameters
            .values()
            .fold(0u64, |acc, n| acc.saturating_add(*n));
        if sum > 0 {
            return Some(sum);
        }
    }
    size_in_id(&BILLIONS, id, 1e9).or_else(|| size_in_id(&MILLIONS, id, 1e6))
}

/// The first size `re` finds in the id, times `unit`, when it is plausible (0 < n < 10000).
fn size_in_id(re: &Regex, id: &str, unit: f64) -> Option<u64> {
    let n: f64 = re.captures(id)?.get(1)?.as_str().parse().ok()?;
    if n > 0.0 && n < 10_000.0 {
        // At most 1e13: exact enough in f64 and far below u64::MAX.
        Some((n * unit).round() as u64)
    } else {
        None
    }
}

/// The reference's GPU memory estimate kept for `estimatedGpuMemoryGb`: FP16 weights plus
/// 20 %, in GiB rounded up. The planner (`planner.rs`) replaces it for real decisions.
pub fn legacy_gpu_memory_gb(parameter_count: u64) -> u64 {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    // Same evaluation order as the reference (`params * 2 * 1.2`); a parameter count is far
    // below 2^53, and the result far below u64::MAX.
    (parameter_count as f64 * 2.0 * 1.2 / GIB).ceil() as u64
}

/// `author` and `name` of a Hub id: the parts before and after the first `/`; an id without a
/// `/` is both, and an empty id has the author `unknown`.
pub fn split_id(id: &str) -> (String, String) {
    match id.split_once('/') {
        Some((author, name)) => (author.to_string(), name.to_string()),
        None if id.is_empty() => ("unknown".to_string(), String::new()),
        None => (id.to_string(), id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn archs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn architectures_are_inferred_from_the_id_first_match_wins() {
        for (id, arch) in [
            (
                "meta-llama/Meta-Llama-3-8B-Instruct",
                Some("LlamaForCausalLM"),
            ),
            ("meta-llama/Llama-2-7b-chat-hf", Some("LlamaForCausalLM")),
            (
                "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                Some("LlamaForCausalLM"),
            ),
            (
                "mistralai/Mixtral-8x7B-Instruct-v0.1",
                Some("MixtralForCausalLM"),
            ),
            (
                "mistralai/Mistral-7B-Instruct-v0.3",
                Some("MistralForCausalLM"),
            ),
            ("Qwen/Qwen3-0.6B", Some("Qwen3ForCausalLM")),
            ("Qwen/qwen_3-4b", Some("Qwen3ForCausalLM")),
            ("Qwen/Qwen2.5-7B-Instruct", Some("Qwen2ForCausalLM")),
            ("google/gemma-2-9b-it", Some("Gemma2ForCausalLM")),
            ("google/gemma-2", Some("Gemma2ForCausalLM")),
            ("someone/gemma2", Some("Gemma2ForCausalLM")),
            // `gemma-2b` is Gemma 1 at 2B: `-2` is followed by `b`, not `-` or the end.
            ("google/gemma-2b", Some("GemmaForCausalLM")),
            ("google/gemma-7b-it", Some("GemmaForCausalLM")),
            ("microsoft/Phi-3-mini-4k-instruct", Some("Phi3ForCausalLM")),
            ("microsoft/phi_3", Some("Phi3ForCausalLM")),
            ("microsoft/phi-2", Some("PhiForCausalLM")),
            ("tiiuae/falcon-7b", Some("FalconForCausalLM")),
            (
                "deepseek-ai/DeepSeek-V2-Lite",
                Some("DeepseekV2ForCausalLM"),
            ),
            (
                "ibm-granite/granite-3.0-8b-instruct",
                Some("GraniteForCausalLM"),
            ),
            ("allenai/OLMo-2-1124-7B", Some("Olmo2ForCausalLM")),
            ("allenai/OLMo-7B", Some("OlmoForCausalLM")),
            // Word boundaries: `_` is a word character, so `my_qwen` is no Qwen.
            ("someone/my_qwen", None),
            ("openai-community/gpt2", None),
            ("", None),
        ] {
            let want: Vec<String> = arch.map(|a| vec![a.to_string()]).unwrap_or_default();
            assert_eq!(infer_architectures(id), want, "{id}");
        }
    }

    #[test]
    fn gguf_and_gated_flags() {
        assert!(is_gguf("bartowski/Qwen_Qwen3-0.6B-GGUF", None));
        assert!(is_gguf("someone/model", Some("gguf")));
        assert!(!is_gguf("Qwen/Qwen3-0.6B", Some("transformers")));
        assert!(is_gated(Some(&json!(true))));
        assert!(is_gated(Some(&json!("auto"))));
        assert!(is_gated(Some(&json!("manual"))));
        assert!(!is_gated(Some(&json!(false))));
        assert!(!is_gated(Some(&json!("other"))));
        assert!(!is_gated(Some(&json!(null))));
        assert!(!is_gated(None));
    }

    #[test]
    fn allowlists_have_the_contract_sizes_and_no_duplicates() {
        for engine in EngineType::ALL {
            let list = allowlist(engine);
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "{engine}");
        }
        assert_eq!(
            EngineType::ALL.map(|e| allowlist(e).len()),
            [41, 20, 13, 24]
        );
    }

    #[test]
    fn engines_follow_the_allowlists_in_order() {
        use EngineType::*;
        for (architectures, gguf, want) in [
            (vec!["LlamaForCausalLM"], false, vec![Vllm, Sglang, Trtllm]),
            (vec!["Qwen3ForCausalLM"], false, vec![Vllm, Sglang]),
            (vec!["GPTJForCausalLM"], false, vec![Vllm]),
            (vec!["BloomForCausalLM"], false, vec![Vllm, Trtllm]),
            (vec!["Foo", "ChatGLMModel"], false, vec![Vllm, Trtllm]),
            (vec!["BertForMaskedLM"], false, vec![]),
            (vec![], false, vec![]),
            // GGUF: llama.cpp only, whatever the architecture (even none).
            (vec!["LlamaForCausalLM"], true, vec![Llamacpp]),
            (vec![], true, vec![Llamacpp]),
        ] {
            assert_eq!(
                supported_engines(&archs(&architectures), gguf),
                want,
                "{architectures:?} gguf={gguf}"
            );
        }
    }

    #[test]
    fn compatibility_rules_and_reasons() {
        use EngineType::*;
        let llama = archs(&["LlamaForCausalLM"]);
        let bert = archs(&["BertForMaskedLM"]);
        let none: Vec<String> = vec![];
        let vllm = [Vllm];
        for (tag, library, architectures, engines, gguf, want) in [
            // (a) text generation, known library, an engine.
            (
                Some("text-generation"),
                Some("transformers"),
                &none,
                &vllm[..],
                false,
                None,
            ),
            (
                Some("conversational"),
                Some("vllm"),
                &none,
                &vllm[..],
                false,
                None,
            ),
            (
                Some("text2text-generation"),
                None,
                &none,
                &vllm[..],
                false,
                None,
            ),
            // (b) a served architecture, whatever the tag and library (gated repos).
            (None, None, &llama, &vllm[..], false, None),
            (
                Some("feature-extraction"),
                Some("peft"),
                &llama,
                &vllm[..],
                false,
                None,
            ),
            // (c) GGUF with llama.cpp.
            (None, Some("gguf"), &none, &[Llamacpp][..], true, None),
            // Reasons, first applicable.
            (
                None,
                None,
                &none,
                &[][..],
                false,
                Some("Model has no pipeline tag"),
            ),
            (
                Some(""),
                None,
                &bert,
                &[][..],
                false,
                Some("Model has no pipeline tag"),
            ),
            (
                Some("image-classification"),
                Some("transformers"),
                &none,
                &[][..],
                false,
                Some("Pipeline tag \"image-classification\" is not supported for inference"),
            ),
            (
                Some("text-generation"),
                Some("mlx"),
                &none,
                &vllm[..],
                false,
                Some("Library \"mlx\" is not supported"),
            ),
            (
                Some("text-generation"),
                Some("transformers"),
                &none,
                &[][..],
                false,
                Some("Model architecture is unknown"),
            ),
            (
                Some("text-generation"),
                None,
                &bert,
                &[][..],
                false,
                Some("Architecture \"BertForMaskedLM\" is not supported by any engine"),
            ),
        ] {
            assert_eq!(
                incompatibility(tag, library, architectures, engines, gguf).as_deref(),
                want,
                "{tag:?} {library:?} {architectures:?} {engines:?} {gguf}"
            );
        }
    }

    #[test]
    fn parameter_count_prefers_total_then_sum_then_the_id() {
        let st = |total: Option<u64>, params: &[(&str, u64)]| Safetensors {
            parameters: params.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
            total,
        };
        let total = st(Some(751_632_384), &[("BF16", 1)]);
        assert_eq!(parameter_count(Some(&total), "x/y-8B"), Some(751_632_384));
        let summed = st(None, &[("BF16", 1_000), ("F32", 24)]);
        assert_eq!(parameter_count(Some(&summed), "x/y-8B"), Some(1_024));
        let zero = st(Some(0), &[]);
        assert_eq!(parameter_count(Some(&zero), "x/y-8B"), Some(8_000_000_000));
        for (id, want) in [
            ("Qwen/Qwen3-0.6B", Some(600_000_000)),
            ("meta-llama/Llama-3.1-8B-Instruct", Some(8_000_000_000)),
            ("meta-llama/Llama-3.3-70B-Instruct", Some(70_000_000_000)),
            ("someone/model_1.5b", Some(1_500_000_000)),
            ("someone/model.7billion", Some(7_000_000_000)),
            ("someone/7B", Some(7_000_000_000)),
            ("HuggingFaceTB/SmolLM-135M-Instruct", Some(135_000_000)),
            ("someone/model-0B", None),
            ("someone/model-10000B", None),
            // `8x7B`: `x` is not a separator, so Mixtral's id names no size.
            ("mistralai/Mixtral-8x7B-Instruct-v0.1", None),
            ("openai-community/gpt2", None),
        ] {
            assert_eq!(parameter_count(None, id), want, "{id}");
        }
    }

    #[test]
    fn legacy_estimate_matches_the_reference_examples() {
        for (params, gb) in [
            (600_000_000, 2),
            (1_500_000_000, 4),
            (8_000_000_000, 18),
            (70_000_000_000, 157),
            (0, 0),
        ] {
            assert_eq!(legacy_gpu_memory_gb(params), gb, "{params}");
        }
    }

    #[test]
    fn ids_split_into_author_and_name() {
        for (id, author, name) in [
            ("Qwen/Qwen3-0.6B", "Qwen", "Qwen3-0.6B"),
            ("a/b/c", "a", "b/c"),
            ("gpt2", "gpt2", "gpt2"),
            ("", "unknown", ""),
        ] {
            assert_eq!(split_id(id), (author.to_string(), name.to_string()), "{id}");
        }
    }
}
