//! The arithmetic of a cost estimate: GPUs × replicas × price × hours (docs/contract/api.md
//! §15, with §19.8 fixed: the GPU count and `hoursPerMonth` count, and a static estimate is a
//! real figure from the dated price table instead of zero).

use serde::Serialize;

use super::gpus::{gpu_info, normalize_gpu};
use super::static_prices::{PRICES_DATE, per_gpu_rate};

/// Hours in the reference's month (365 × 24 / 12).
pub const HOURS_PER_MONTH: u32 = 730;

/// Where a price came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The shipped price table ([`super::static_prices`]).
    Static,
    /// A cloud's pricing API.
    CloudApi,
}

/// An amount per hour and per month.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    /// USD per hour.
    pub hourly: f64,
    /// USD per month of `hoursPerMonth` hours.
    pub monthly: f64,
    /// `USD`.
    pub currency: String,
    /// Where the price came from.
    pub source: Source,
    /// `high` for a live price of the exact instance, `medium` for a table price of one,
    /// `low` for a per-GPU rate without an instance, or no price at all.
    pub confidence: String,
}

/// Per GPU.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerGpu {
    /// USD per hour.
    pub hourly: f64,
    /// USD per month.
    pub monthly: f64,
}

/// An estimate with how it was made (`CostBreakdown`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CostBreakdown {
    /// The total.
    pub estimate: Estimate,
    /// One GPU's share.
    pub per_gpu: PerGpu,
    /// GPUs × replicas.
    pub total_gpus: u32,
    /// The GPU as asked for.
    pub gpu_model: String,
    /// The canonical model, or the label as given when it is unknown.
    pub normalized_gpu_model: String,
    /// How the figure was made.
    pub notes: Vec<String>,
}

/// Rounds to cents.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The estimate for `replicas` replicas of `gpu_count` GPUs of `gpu_type` running
/// `hours_per_month` hours a month, at the lowest per-GPU rate of the static table (the price
/// where no instance type is known). An unknown GPU, or one without a table price, is 0 with
/// `confidence: low` and a note saying why.
pub fn estimate(
    gpu_type: &str,
    gpu_count: u32,
    replicas: u32,
    hours_per_month: u32,
) -> CostBreakdown {
    let total_gpus = gpu_count.saturating_mul(replicas);
    let normalized = normalize_gpu(gpu_type);
    let mut notes = Vec::new();
    match normalized.and_then(|m| gpu_info(m).map(|i| (m, i))) {
        Some((m, info)) => notes.push(format!(
            "GPU: {m} ({}GB, {})",
            info.memory_gb, info.generation
        )),
        None => notes.push(format!("Unknown GPU: {gpu_type}")),
    }
    let rate = normalized.and_then(per_gpu_rate);
    let per_gpu_hourly = rate.map_or(0.0, |(r, _)| r);
    if let Some((_, row)) = rate {
        notes.push(format!(
            "Static price: {} {} in {} (${:.2}/h for {} GPUs), list prices of {PRICES_DATE}",
            row.cloud.upper(),
            row.instance_type,
            row.region,
            row.hourly_usd,
            row.gpu_count
        ));
    } else if normalized.is_some() {
        notes.push("No static price is known for this GPU".into());
    }
    let hours = f64::from(hours_per_month);
    let hourly = per_gpu_hourly * f64::from(total_gpus);
    CostBreakdown {
        estimate: Estimate {
            hourly: round2(hourly),
            monthly: round2(hourly * hours),
            currency: "USD".into(),
            source: Source::Static,
            confidence: "low".into(),
        },
        per_gpu: PerGpu {
            hourly: round2(per_gpu_hourly),
            monthly: round2(per_gpu_hourly * hours),
        },
        total_gpus,
        gpu_model: gpu_type.to_string(),
        normalized_gpu_model: normalized.map_or_else(|| gpu_type.to_string(), str::to_string),
        notes,
    }
}
