//! The cloud an instance type belongs to, from its naming scheme, and the GPUs of Azure's GPU
//! VM sizes (docs/contract/api.md §15).

use serde::Serialize;

/// A cloud provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Microsoft Azure (`Standard_NC24ads_A100_v4`).
    Azure,
    /// Amazon Web Services (`p4d.24xlarge`).
    Aws,
    /// Google Cloud (`a2-highgpu-1g`).
    Gcp,
}

impl Cloud {
    /// Lower-case name (`azure`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Azure => "azure",
            Self::Aws => "aws",
            Self::Gcp => "gcp",
        }
    }

    /// Upper-case name for notes (`AZURE`).
    pub fn upper(self) -> &'static str {
        match self {
            Self::Azure => "AZURE",
            Self::Aws => "AWS",
            Self::Gcp => "GCP",
        }
    }
}

/// GCP machine families (`<family>-<type>-<size>`).
const GCP_FAMILIES: [&str; 15] = [
    "n1", "n2", "n2d", "c2", "c2d", "c3", "c3d", "e2", "m1", "m2", "m3", "a2", "a3", "g2", "custom",
];

/// The cloud of `instance_type`: Azure sizes start `Standard_` or `Basic_`; GCP machine types
/// start with a machine family and `-`; AWS types are `<family><generation><options>.<size>`
/// (a letter, digits, then a letter or the dot); anything else with a `-` is taken for GCP.
pub fn detect_cloud(instance_type: &str) -> Option<Cloud> {
    let t = instance_type.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("standard_") || lower.starts_with("basic_") {
        return Some(Cloud::Azure);
    }
    if let Some((family, _)) = lower.split_once('-')
        && GCP_FAMILIES.contains(&family)
    {
        return Some(Cloud::Gcp);
    }
    let mut chars = lower.chars();
    let aws_like = chars.next().is_some_and(|c| c.is_ascii_lowercase()) && {
        let rest: String = chars.collect();
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0
            && rest[digits..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '.')
    };
    if aws_like && lower.contains('.') {
        return Some(Cloud::Aws);
    }
    if lower.contains('-') {
        return Some(Cloud::Gcp);
    }
    None
}

/// GPUs of Azure GPU VM sizes: (size, GPU count, model). Fractional counts are the partitions
/// of the NVads A10 v5 sizes.
const AZURE_GPUS: [(&str, f64, &str); 24] = [
    ("Standard_NV6ads_A10_v5", 1.0 / 6.0, "A10"),
    ("Standard_NV12ads_A10_v5", 1.0 / 3.0, "A10"),
    ("Standard_NV18ads_A10_v5", 0.5, "A10"),
    ("Standard_NV36ads_A10_v5", 1.0, "A10"),
    ("Standard_NV72ads_A10_v5", 2.0, "A10"),
    ("Standard_NC24ads_A100_v4", 1.0, "A100-80GB"),
    ("Standard_NC48ads_A100_v4", 2.0, "A100-80GB"),
    ("Standard_NC96ads_A100_v4", 4.0, "A100-80GB"),
    ("Standard_NC40ads_H100_v5", 1.0, "H100-80GB"),
    ("Standard_NC80adis_H100_v5", 2.0, "H100-80GB"),
    ("Standard_ND96asr_A100_v4", 8.0, "A100-40GB"),
    ("Standard_ND96amsr_A100_v4", 8.0, "A100-80GB"),
    ("Standard_ND96isr_H100_v5", 8.0, "H100-80GB"),
    ("Standard_ND96isr_H200_v5", 8.0, "H200"),
    ("Standard_NC4as_T4_v3", 1.0, "T4"),
    ("Standard_NC8as_T4_v3", 1.0, "T4"),
    ("Standard_NC16as_T4_v3", 1.0, "T4"),
    ("Standard_NC64as_T4_v3", 4.0, "T4"),
    ("Standard_NC6s_v3", 1.0, "V100"),
    ("Standard_NC12s_v3", 2.0, "V100"),
    ("Standard_NC24s_v3", 4.0, "V100"),
    ("Standard_NC24rs_v3", 4.0, "V100"),
    ("Standard_ND40rs_v2", 8.0, "V100-32GB"),
    ("Standard_NV48s_v3", 4.0, "M60"),
];

/// GPU count and model of an Azure VM size (exact name, case-insensitive).
pub fn azure_gpu_info(instance_type: &str) -> Option<(f64, &'static str)> {
    AZURE_GPUS
        .iter()
        .find(|(size, _, _)| size.eq_ignore_ascii_case(instance_type.trim()))
        .map(|(_, n, model)| (*n, *model))
}
