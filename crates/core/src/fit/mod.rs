//! Will a model fit, and on what: which engines can serve a HuggingFace model (the
//! compatibility tables), which GPU types the cluster has, and how many of them a model needs
//! for its weights and KV cache (the planner). Pure functions over Hub metadata and nodes, so the
//! API server's answers are unit-tested without a Hub or a cluster.

pub mod compat;
pub mod gpus;
pub mod planner;

use std::collections::BTreeMap;

use serde::Deserialize;

/// The Hub's `safetensors` object: parameter counts per dtype (`{"BF16": 751632384}`) and
/// their total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Safetensors {
    /// Parameters per safetensors dtype (`BF16`, `F32`, `I32`, `F8_E4M3`, …).
    #[serde(default)]
    pub parameters: BTreeMap<String, u64>,
    /// Total parameter count.
    #[serde(default)]
    pub total: Option<u64>,
}
