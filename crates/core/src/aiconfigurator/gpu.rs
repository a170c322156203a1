//! GPUs as AI Configurator knows them: its *systems* (`h100_sxm`, `gb200`, …) with the backends
//! its performance database covers, the mapping of a Kubernetes GPU product label or a GPU
//! model name onto one, and the display normalisation of `POST /api/aiconfigurator/normalize-gpu`.
//!
//! Fixed against the reference (docs/contract/api.md §19.7): the label is split into words, so
//! `gb200` is never mistaken for `b200`, and GPUs AI Configurator has no data for (L4, A10, T4,
//! PCIe cards, …) are reported as unsupported instead of silently becoming `h100_sxm`.

use serde::{Deserialize, Serialize};

/// An inference backend AI Configurator models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorBackend))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// vLLM (KubeAIRunway's default engine).
    Vllm,
    /// SGLang.
    Sglang,
    /// TensorRT-LLM.
    Trtllm,
}

impl Backend {
    /// Every backend, in order of preference (vLLM first: every runtime can run it).
    pub const ALL: [Backend; 3] = [Backend::Vllm, Backend::Sglang, Backend::Trtllm];

    /// The name on AI Configurator's command line and in KubeAIRunway's `engine` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Vllm => "vllm",
            Backend::Sglang => "sglang",
            Backend::Trtllm => "trtllm",
        }
    }

    /// The backend called `name` (`vllm`, `sglang`, `trtllm`; case-insensitive).
    pub fn parse(name: &str) -> Option<Backend> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// A system (GPU platform) of AI Configurator's performance database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct System {
    /// The `--system` name.
    pub name: &'static str,
    /// Backends the database has measurements for on this system.
    pub backends: &'static [Backend],
}

const ALL_BACKENDS: &[Backend] = &Backend::ALL;

/// The systems of aiconfigurator 0.12.0 that ship performance data (its
/// `aiconfigurator_core/systems/data/<system>/gemm/<backend>` directories). `a100_pcie`,
/// `h100_pcie`, `l4` and `a30` are described there but have no measurements, so a search on them
/// fails; they are left out.
pub const SYSTEMS: &[System] = &[
    System {
        name: "h100_sxm",
        backends: ALL_BACKENDS,
    },
    System {
        name: "h200_sxm",
        backends: ALL_BACKENDS,
    },
    System {
        name: "a100_sxm",
        backends: ALL_BACKENDS,
    },
    System {
        name: "b200_sxm",
        backends: ALL_BACKENDS,
    },
    System {
        name: "b300_sxm",
        backends: ALL_BACKENDS,
    },
    System {
        name: "gb200",
        backends: ALL_BACKENDS,
    },
    System {
        name: "gb300",
        backends: ALL_BACKENDS,
    },
    System {
        name: "l40s",
        backends: ALL_BACKENDS,
    },
    System {
        name: "rtx_pro_6000_server",
        backends: ALL_BACKENDS,
    },
];

/// The system called `name` (exactly, as AI Configurator spells it).
pub fn system_named(name: &str) -> Option<&'static System> {
    SYSTEMS.iter().find(|s| s.name == name)
}

/// Why a GPU has no AI Configurator system.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "AI Configurator has no performance data for {gpu:?} (it covers H100 SXM, H200, A100 SXM, B200, B300, GB200, GB300, L40S and RTX PRO 6000 Server)"
)]
pub struct UnsupportedGpu {
    /// The GPU as given.
    pub gpu: String,
}

fn words(label: &str) -> Vec<String> {
    label
        .trim()
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The AI Configurator system of a GPU, from a Kubernetes product label
/// (`NVIDIA-H100-80GB-HBM3`, `NVIDIA-A100-SXM4-80GB`, `NVIDIA-GB200`) or a model name (`H100`,
/// `A100-80GB`, `h200_sxm`). PCIe and NVL variants of H100 and A100 are unsupported (their
/// systems carry no measurements), as is every GPU outside [`SYSTEMS`].
pub fn system_for_gpu(gpu: &str) -> Result<&'static System, UnsupportedGpu> {
    let unsupported = || UnsupportedGpu {
        gpu: gpu.trim().to_string(),
    };
    if let Some(system) = system_named(gpu.trim()) {
        return Ok(system);
    }
    let words = words(gpu);
    let has = |w: &str| words.iter().any(|x| x == w);
    let pcie = has("pcie") || has("nvl");
    let name = if has("gb300") {
        "gb300"
    } else if has("gb200") {
        "gb200"
    } else if has("b300") {
        "b300_sxm"
    } else if has("b200") {
        "b200_sxm"
    } else if has("h200") && !pcie {
        "h200_sxm"
    } else if has("h100") && !pcie {
        "h100_sxm"
    } else if has("a100") && !pcie {
        "a100_sxm"
    } else if has("l40s") {
        "l40s"
    } else if has("rtx") && has("pro") && has("6000") && !has("workstation") {
        "rtx_pro_6000_server"
    } else {
        return Err(unsupported());
    };
    system_named(name).ok_or_else(unsupported)
}

/// Known product labels and their display names, in the reference's order (api.md §14).
const PRODUCT_NAMES: &[(&str, &str)] = &[
    ("nvidia-a100-80gb", "A100-80GB"),
    ("nvidia-a100-sxm4-80gb", "A100-80GB"),
    ("nvidia-a100-pcie-80gb", "A100-80GB"),
    ("nvidia-a100-40gb", "A100-40GB"),
    ("nvidia-a100-sxm4-40gb", "A100-40GB"),
    ("nvidia-a100-pcie-40gb", "A100-40GB"),
    ("nvidia-h100-80gb", "H100-80GB"),
    ("nvidia-h100-sxm5-80gb", "H100-80GB"),
    ("nvidia-h100-pcie-80gb", "H100-80GB"),
    ("nvidia-l40s", "L40S"),
    ("nvidia-l40", "L40"),
    ("nvidia-l4", "L4"),
    ("nvidia-t4", "T4"),
    ("tesla-t4", "T4"),
    ("nvidia-v100", "V100"),
    ("tesla-v100", "V100"),
    ("nvidia-v100-32gb", "V100-32GB"),
    ("nvidia-v100-16gb", "V100-16GB"),
];

/// The display name of a GPU product label (`NVIDIA-A100-SXM4-80GB` → `A100-80GB`): the exact
/// table first, then a table entry found in the label as whole dash-separated words (so
/// `NVIDIA-L40S-48GB` is `L40S`, never `L4`), else the label without its `NVIDIA` prefix,
/// separators collapsed to `-`, upper-cased.
pub fn normalize_product(label: &str) -> String {
    let lower = label.trim().to_ascii_lowercase().replace(' ', "-");
    if let Some((_, name)) = PRODUCT_NAMES.iter().find(|(k, _)| *k == lower) {
        return (*name).to_string();
    }
    let padded = format!("-{}-", words(label).join("-"));
    if let Some((_, name)) = PRODUCT_NAMES.iter().find(|(k, _)| {
        let key = k.strip_prefix("nvidia-").unwrap_or(k);
        padded.contains(&format!("-{key}-"))
    }) {
        return (*name).to_string();
    }
    let mut w = words(label);
    if w.first().is_some_and(|f| f == "nvidia") {
        w.remove(0);
    }
    w.join("-").to_ascii_uppercase()
}
