//! The curated model catalog (docs/contract/api.md §16.1): data in
//! `crates/server/data/models.json`, parsed once. A unit test holds the file to its schema, so a
//! bad edit fails the build's tests rather than a user's request.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::wire::Engine;

const CATALOG_JSON: &str = include_str!("../../data/models.json");

/// What a model is for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Task {
    /// Plain completion.
    TextGeneration,
    /// Instruction-tuned chat.
    Chat,
    /// Masked-token models (not served as chat).
    FillMask,
}

/// A curated model (docs/contract/api.md §16.1 `Model`).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Model {
    /// HuggingFace id (or a `kaito/…` preset id for GGUF presets).
    pub id: String,
    /// Display name.
    pub name: String,
    /// One or two sentences for the catalog card.
    pub description: String,
    /// Parameter size as written by the model's authors (`0.6B`, `8x7B`).
    pub size: String,
    /// What the model does.
    pub task: Task,
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Engines that can serve it, in preference order.
    pub supported_engines: Vec<Engine>,
    /// Smallest GPU memory that serves it (`16GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gpu_memory: Option<String>,
    /// GPUs per replica at minimum (0 for CPU models).
    pub min_gpus: u32,
    /// The HuggingFace repository needs accepted terms and a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gated: Option<bool>,
    /// License name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// The catalog file's shape; also the body of `GET /api/models`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    /// Every curated model, in display order.
    pub models: Vec<Model>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    // The file is compiled in and checked by `catalog_file_matches_its_schema`.
    serde_json::from_str(CATALOG_JSON).unwrap_or(Catalog { models: Vec::new() })
});

/// The catalog.
pub(crate) fn catalog() -> &'static Catalog {
    &CATALOG
}

/// The curated model with exactly this id.
pub(crate) fn find(id: &str) -> Option<&'static Model> {
    CATALOG.models.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_file_matches_its_schema() {
        let parsed: Catalog = serde_json::from_str(CATALOG_JSON).expect("models.json parses");
        let models = &parsed.models;
        assert_eq!(
            models.len(),
            18,
            "docs/contract/api.md §16.1 lists 18 curated models"
        );
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "Qwen/Qwen3-0.6B",
                "Qwen/Qwen2.5-1.5B-Instruct",
                "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
                "meta-llama/Llama-3.2-1B-Instruct",
                "meta-llama/Llama-3.2-3B-Instruct",
                "mistralai/Mistral-7B-Instruct-v0.3",
                "microsoft/Phi-3-mini-4k-instruct",
                "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                "kaito/llama3.2-1b",
                "kaito/llama3.2-3b",
                "kaito/llama3.1-8b",
                "kaito/llama3.3-70b",
                "kaito/mixtral-8x7b",
                "kaito/phi4-14b",
                "kaito/gemma2-2b",
                "kaito/qwq-32b",
                "kaito/codestral-22b",
                "kaito/gpt-oss-20b",
            ]
        );
        for m in models {
            let gguf = m.id.starts_with("kaito/");
            assert!(!m.name.is_empty() && !m.description.is_empty(), "{}", m.id);
            assert!(
                m.size.ends_with('B')
                    && m.size[..m.size.len() - 1]
                        .split('x')
                        .all(|p| p.parse::<f64>().is_ok()),
                "{}: size {}",
                m.id,
                m.size
            );
            assert!(!m.supported_engines.is_empty(), "{}", m.id);
            if gguf {
                assert_eq!(m.supported_engines, [Engine::Llamacpp], "{}", m.id);
                assert_eq!(m.min_gpus, 0, "{}", m.id);
                assert!(
                    m.license.is_some(),
                    "{}: GGUF presets carry a license",
                    m.id
                );
                assert!(
                    m.min_gpu_memory.is_none() && m.context_length.is_none(),
                    "{}",
                    m.id
                );
            } else {
                assert!(!m.supported_engines.contains(&Engine::Llamacpp), "{}", m.id);
                assert_eq!(m.min_gpus, 1, "{}", m.id);
                let mem = m
                    .min_gpu_memory
                    .as_deref()
                    .expect("GPU models state their memory");
                assert!(
                    mem.strip_suffix("GB")
                        .is_some_and(|n| n.parse::<u32>().is_ok()),
                    "{}",
                    m.id
                );
                assert!(m.context_length.is_some_and(|c| c >= 2048), "{}", m.id);
            }
        }
        let gated: Vec<&str> = models
            .iter()
            .filter(|m| m.gated == Some(true))
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(
            gated,
            [
                "meta-llama/Llama-3.2-1B-Instruct",
                "meta-llama/Llama-3.2-3B-Instruct",
                "mistralai/Mistral-7B-Instruct-v0.3"
            ]
        );
        let text_generation = models
            .iter()
            .filter(|m| m.task == Task::TextGeneration)
            .count();
        assert_eq!(text_generation, 2);
    }

    #[test]
    fn the_served_catalog_is_the_file() {
        assert_eq!(catalog().models.len(), 18);
        assert_eq!(
            find("Qwen/Qwen3-0.6B").map(|m| m.size.as_str()),
            Some("0.6B")
        );
        assert!(find("qwen/qwen3-0.6b").is_none(), "ids match exactly");
    }
}
