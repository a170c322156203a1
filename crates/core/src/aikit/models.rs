//! The premade AIKit images (docs/contract/api.md §16.2).

use serde::Serialize;

/// Where a premade model runs. (Its own schema name: the deployments' `ComputeType` is
/// another type.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AikitComputeType))]
#[serde(rename_all = "lowercase")]
pub enum ComputeType {
    /// CPU only.
    Cpu,
    /// GPU.
    Gpu,
}

/// A pre-built AIKit image of a GGUF model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PremadeModel {
    /// Id, e.g. `llama3.2:1b`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Parameter count, e.g. `1B`.
    pub size: &'static str,
    /// The image reference a deployment runs.
    pub image: &'static str,
    /// Name the model is served under.
    pub model_name: &'static str,
    /// License.
    pub license: &'static str,
    /// One line about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    /// Where it runs.
    pub compute_type: ComputeType,
}

const fn model(
    id: &'static str,
    name: &'static str,
    size: &'static str,
    image: &'static str,
    model_name: &'static str,
    license: &'static str,
    description: &'static str,
) -> PremadeModel {
    PremadeModel {
        id,
        name,
        size,
        image,
        model_name,
        license,
        description: Some(description),
        compute_type: ComputeType::Cpu,
    }
}

/// The ten premade models, in the reference's order.
pub const PREMADE_MODELS: [PremadeModel; 10] = [
    model(
        "llama3.2:1b",
        "Llama 3.2",
        "1B",
        "ghcr.io/kaito-project/aikit/llama3.2:1b",
        "llama-3.2-1b-instruct",
        "Llama",
        "Meta's Llama 3.2 1B Instruct - compact model for edge and CPU deployments",
    ),
    model(
        "llama3.2:3b",
        "Llama 3.2",
        "3B",
        "ghcr.io/kaito-project/aikit/llama3.2:3b",
        "llama-3.2-3b-instruct",
        "Llama",
        "Meta's Llama 3.2 3B Instruct - balanced size and quality",
    ),
    model(
        "llama3.1:8b",
        "Llama 3.1",
        "8B",
        "ghcr.io/kaito-project/aikit/llama3.1:8b",
        "llama-3.1-8b-instruct",
        "Llama",
        "Meta's Llama 3.1 8B Instruct - strong general-purpose model",
    ),
    model(
        "llama3.3:70b",
        "Llama 3.3",
        "70B",
        "ghcr.io/kaito-project/aikit/llama3.3:70b",
        "llama-3.3-70b-instruct",
        "Llama",
        "Meta's Llama 3.3 70B Instruct - large, high-quality model",
    ),
    model(
        "mixtral:8x7b",
        "Mixtral",
        "8x7B",
        "ghcr.io/kaito-project/aikit/mixtral:8x7b",
        "mixtral-8x7b-instruct",
        "Apache",
        "Mistral AI's Mixtral 8x7B Instruct - mixture of experts",
    ),
    model(
        "phi4:14b",
        "Phi 4",
        "14B",
        "ghcr.io/kaito-project/aikit/phi4:14b",
        "phi-4-14b-instruct",
        "MIT",
        "Microsoft's Phi 4 14B - strong reasoning for its size",
    ),
    model(
        "gemma2:2b",
        "Gemma 2",
        "2B",
        "ghcr.io/kaito-project/aikit/gemma2:2b",
        "gemma-2-2b-instruct",
        "Gemma",
        "Google's Gemma 2 2B Instruct - small and efficient",
    ),
    model(
        "qwq:32b",
        "QwQ",
        "32B",
        "ghcr.io/kaito-project/aikit/qwq:32b",
        "qwq-32b",
        "Apache 2.0",
        "Qwen's QwQ 32B - reasoning model",
    ),
    model(
        "codestral:22b",
        "Codestral",
        "22B",
        "ghcr.io/kaito-project/aikit/codestral:22b",
        "codestral-22b",
        "MNLP",
        "Mistral AI's Codestral 22B - code generation",
    ),
    model(
        "gpt-oss:20b",
        "GPT-OSS",
        "20B",
        "ghcr.io/kaito-project/aikit/gpt-oss:20b",
        "gpt-oss-20b",
        "Apache 2.0",
        "OpenAI's GPT-OSS 20B - open-weight model",
    ),
];

/// The premade model `id`, if there is one.
pub fn premade_model(id: &str) -> Option<&'static PremadeModel> {
    PREMADE_MODELS.iter().find(|m| m.id == id)
}
