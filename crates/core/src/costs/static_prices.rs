//! On-demand list prices of common AWS and GCP GPU instance types, shipped with the product for
//! when no pricing API answers (AWS and GCP pricing APIs need credentials; Azure's does not and
//! is asked live). Linux, on-demand, USD per hour, AWS `us-east-1` and GCP `us-central1`, from
//! the providers' public price pages as of [`PRICES_DATE`] (AWS's P4/P5 figures are from before
//! its price reduction of June 2025). Prices change: answers built on this table say
//! `source: "static"` and carry the date, and a live price always wins.

use super::provider::Cloud;

/// When the table was read from the providers' price pages.
pub const PRICES_DATE: &str = "2025-05-01";

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StaticPrice {
    /// The cloud.
    pub cloud: Cloud,
    /// Instance or machine type.
    pub instance_type: &'static str,
    /// The region the price is for.
    pub region: &'static str,
    /// USD per hour for the whole instance.
    pub hourly_usd: f64,
    /// GPUs of the instance.
    pub gpu_count: u32,
    /// Canonical GPU model (see [`super::gpus`]).
    pub gpu_model: &'static str,
}

const fn aws(
    instance_type: &'static str,
    hourly_usd: f64,
    gpus: u32,
    model: &'static str,
) -> StaticPrice {
    StaticPrice {
        cloud: Cloud::Aws,
        instance_type,
        region: "us-east-1",
        hourly_usd,
        gpu_count: gpus,
        gpu_model: model,
    }
}

const fn gcp(
    instance_type: &'static str,
    hourly_usd: f64,
    gpus: u32,
    model: &'static str,
) -> StaticPrice {
    StaticPrice {
        cloud: Cloud::Gcp,
        instance_type,
        region: "us-central1",
        hourly_usd,
        gpu_count: gpus,
        gpu_model: model,
    }
}

/// The table.
pub const STATIC_PRICES: [StaticPrice; 44] = [
    aws("p5.48xlarge", 98.32, 8, "H100-80GB"),
    aws("p4de.24xlarge", 40.9657, 8, "A100-80GB"),
    aws("p4d.24xlarge", 32.7726, 8, "A100-40GB"),
    aws("p3.2xlarge", 3.06, 1, "V100"),
    aws("p3.8xlarge", 12.24, 4, "V100"),
    aws("p3.16xlarge", 24.48, 8, "V100"),
    aws("g4dn.xlarge", 0.526, 1, "T4"),
    aws("g4dn.2xlarge", 0.752, 1, "T4"),
    aws("g4dn.4xlarge", 1.204, 1, "T4"),
    aws("g4dn.8xlarge", 2.176, 1, "T4"),
    aws("g4dn.12xlarge", 3.912, 4, "T4"),
    aws("g4dn.16xlarge", 4.352, 1, "T4"),
    aws("g5.xlarge", 1.006, 1, "A10G"),
    aws("g5.2xlarge", 1.212, 1, "A10G"),
    aws("g5.4xlarge", 1.624, 1, "A10G"),
    aws("g5.8xlarge", 2.448, 1, "A10G"),
    aws("g5.12xlarge", 5.672, 4, "A10G"),
    aws("g5.16xlarge", 4.096, 1, "A10G"),
    aws("g5.24xlarge", 8.144, 4, "A10G"),
    aws("g5.48xlarge", 16.288, 8, "A10G"),
    aws("g6.xlarge", 0.8048, 1, "L4"),
    aws("g6.2xlarge", 0.9776, 1, "L4"),
    aws("g6.4xlarge", 1.3232, 1, "L4"),
    aws("g6.8xlarge", 2.0144, 1, "L4"),
    aws("g6.12xlarge", 4.6016, 4, "L4"),
    aws("g6.48xlarge", 13.3504, 8, "L4"),
    aws("g6e.xlarge", 1.861, 1, "L40S"),
    aws("g6e.2xlarge", 2.24208, 1, "L40S"),
    aws("g6e.12xlarge", 10.49264, 4, "L40S"),
    aws("g6e.48xlarge", 30.13118, 8, "L40S"),
    gcp("a3-highgpu-8g", 88.49, 8, "H100-80GB"),
    gcp("a2-ultragpu-1g", 5.069, 1, "A100-80GB"),
    gcp("a2-ultragpu-2g", 10.138, 2, "A100-80GB"),
    gcp("a2-ultragpu-4g", 20.276, 4, "A100-80GB"),
    gcp("a2-ultragpu-8g", 40.553, 8, "A100-80GB"),
    gcp("a2-highgpu-1g", 3.673, 1, "A100-40GB"),
    gcp("a2-highgpu-2g", 7.347, 2, "A100-40GB"),
    gcp("a2-highgpu-4g", 14.694, 4, "A100-40GB"),
    gcp("a2-highgpu-8g", 29.387, 8, "A100-40GB"),
    gcp("a2-megagpu-16g", 55.739, 16, "A100-40GB"),
    gcp("g2-standard-4", 0.7068, 1, "L4"),
    gcp("g2-standard-8", 0.8536, 1, "L4"),
    gcp("g2-standard-24", 2.0008, 2, "L4"),
    gcp("g2-standard-96", 8.0032, 8, "L4"),
];

/// The row of `instance_type` (case-insensitive).
pub fn static_price(instance_type: &str) -> Option<&'static StaticPrice> {
    STATIC_PRICES
        .iter()
        .find(|p| p.instance_type.eq_ignore_ascii_case(instance_type.trim()))
}

/// The lowest hourly price of one GPU of `model` in the table (instance price ÷ its GPUs), and
/// the instance it comes from; what a GPU costs where no instance type is known.
pub fn per_gpu_rate(model: &str) -> Option<(f64, &'static StaticPrice)> {
    STATIC_PRICES
        .iter()
        .filter(|p| p.gpu_model.eq_ignore_ascii_case(model) && p.gpu_count > 0)
        .map(|p| (p.hourly_usd / f64::from(p.gpu_count), p))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}
