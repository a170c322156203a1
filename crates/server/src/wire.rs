//! API shapes that more than one route tree speaks. They live here, below the trees, so that
//! sharing a shape never makes one tree import another.

use kubeairunway_api::EngineType;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Inference engine.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// vLLM.
    Vllm,
    /// SGLang.
    Sglang,
    /// TensorRT-LLM.
    Trtllm,
    /// llama.cpp.
    Llamacpp,
}

impl From<Engine> for EngineType {
    fn from(e: Engine) -> Self {
        match e {
            Engine::Vllm => EngineType::Vllm,
            Engine::Sglang => EngineType::Sglang,
            Engine::Trtllm => EngineType::Trtllm,
            Engine::Llamacpp => EngineType::Llamacpp,
        }
    }
}

impl From<EngineType> for Engine {
    fn from(e: EngineType) -> Self {
        match e {
            EngineType::Vllm => Engine::Vllm,
            EngineType::Sglang => Engine::Sglang,
            EngineType::Trtllm => Engine::Trtllm,
            EngineType::Llamacpp => Engine::Llamacpp,
        }
    }
}
