//! GPU product labels normalised to the GPU models prices and memory are known for.
//!
//! The reference compared labels with substring aliases in table order, so `NVIDIA-L40` became
//! `L4`, and every GPU missing from its table (H200, B200, consumer cards) silently became `A10`
//! (§19.7). Here a label is cut into words first (`NVIDIA-A100-SXM4-80GB` → `a100`, `80gb`;
//! vendor, brand and form-factor words dropped), a model is chosen by its exact word and the
//! memory word, and an unknown GPU stays unknown (`gpuInfo: null`) instead of a guess.

use serde::Serialize;

/// A GPU model prices are known for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GpuModel {
    /// Canonical name (`A100-80GB`).
    pub model: &'static str,
    /// Memory per GPU in GB.
    pub memory_gb: u32,
    /// Architecture generation (`Ampere`).
    pub generation: &'static str,
}

/// Memory and generation of a model (`gpuInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GpuInfo {
    /// Memory per GPU in GB.
    pub memory_gb: u32,
    /// Architecture generation.
    pub generation: &'static str,
}

const fn m(model: &'static str, memory_gb: u32, generation: &'static str) -> GpuModel {
    GpuModel {
        model,
        memory_gb,
        generation,
    }
}

/// The models, in the reference's order (its nine first), then those it lacked.
pub const GPU_MODELS: [GpuModel; 13] = [
    m("H100-80GB", 80, "Hopper"),
    m("A100-80GB", 80, "Ampere"),
    m("A100-40GB", 40, "Ampere"),
    m("L40S", 48, "Ada Lovelace"),
    m("L4", 24, "Ada Lovelace"),
    m("A10G", 24, "Ampere"),
    m("A10", 24, "Ampere"),
    m("T4", 16, "Turing"),
    m("V100", 16, "Volta"),
    m("H200", 141, "Hopper"),
    m("L40", 48, "Ada Lovelace"),
    m("V100-32GB", 32, "Volta"),
    m("B200", 180, "Blackwell"),
];

/// Memory and generation of a canonical model name (case-insensitive).
pub fn gpu_info(model: &str) -> Option<GpuInfo> {
    GPU_MODELS
        .iter()
        .find(|g| g.model.eq_ignore_ascii_case(model))
        .map(|g| GpuInfo {
            memory_gb: g.memory_gb,
            generation: g.generation,
        })
}

/// The canonical model of a GPU label (a GFD product label, a model name, an alias); `None`
/// when the label names no GPU we know.
pub fn normalize_gpu(label: &str) -> Option<&'static str> {
    let lower = label.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let memory_gb = words
        .iter()
        .find_map(|w| w.strip_suffix("gb").and_then(|n| n.parse::<u32>().ok()));
    let has = |w: &str| words.contains(&w);
    // Words glued to their memory (`a100` + `80gb` written `A10080GB` is not a thing; `h100` is).
    let model = if has("b200") {
        "B200"
    } else if has("h200") || has("gh200") {
        "H200"
    } else if has("h100") || has("h800") {
        "H100-80GB"
    } else if has("a100") || has("a800") {
        if memory_gb == Some(80) {
            "A100-80GB"
        } else {
            "A100-40GB"
        }
    } else if has("a10g") {
        "A10G"
    } else if has("a10") {
        "A10"
    } else if has("l40s") {
        "L40S"
    } else if has("l40") {
        "L40"
    } else if has("l4") {
        "L4"
    } else if has("t4") {
        "T4"
    } else if has("v100") {
        if memory_gb == Some(32) {
            "V100-32GB"
        } else {
            "V100"
        }
    } else {
        // Canonical names written together (`A100-80GB`, `H100-80GB`) were split above; the
        // last chance is a label that *is* a canonical name with other separators.
        return GPU_MODELS
            .iter()
            .find(|g| squash(g.model) == squash(&lower))
            .map(|g| g.model);
    };
    Some(model)
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
