//! Costs without I/O (docs/contract/api.md §15): GPU names normalised to the models prices are
//! known for ([`gpus`]), the cloud an instance type belongs to ([`provider`]), static AWS and GCP
//! on-demand prices with their date ([`static_prices`]), and the arithmetic of an estimate
//! ([`estimate`]). The API server adds the live Azure Retail Prices lookups.

pub mod estimate;
pub mod gpus;
pub mod provider;
pub mod static_prices;

pub use estimate::{CostBreakdown, Estimate, HOURS_PER_MONTH, PerGpu, Source, estimate, round2};
pub use gpus::{GPU_MODELS, GpuInfo, GpuModel, gpu_info, normalize_gpu};
pub use provider::{Cloud, azure_gpu_info, detect_cloud};
pub use static_prices::{PRICES_DATE, StaticPrice, per_gpu_rate, static_price};

#[cfg(test)]
mod tests;
