//! CloudPricingService: the price of an instance type, live from the Azure Retail Prices API
//! (no credentials needed; base URL `AZURE_PRICING_URL`), else from the dated static AWS/GCP
//! table of `core::costs`. Live prices are cached for an hour (at most 1,000, least recently
//! used evicted; failures are not cached).
//!
//! Fixed against the reference (§19.9): HTTP 429 and 5xx *are* retried (its predicate read a
//! field a fetch response never has), other 4xx are not; every `NextPageLink` page is read (at
//! most [`MAX_PAGES`], each on the configured host); the whole lookup, retries included, has one
//! deadline; invalid input is a 400, not a 404.

use std::time::Duration;

use kubeairunway_core::costs::{Cloud, PRICES_DATE, azure_gpu_info, detect_cloud, static_price};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Pages of one lookup at most.
pub(crate) const MAX_PAGES: usize = 10;
/// Retries after the first attempt of one page.
pub(crate) const MAX_RETRIES: u32 = 2;
/// First backoff; doubled per retry, at most [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(3);
/// Cache bounds.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(3600);
pub(crate) const CACHE_MAX: u64 = 1000;

/// A price (`InstancePrice`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstancePrice {
    /// The instance type.
    pub instance_type: String,
    /// `azure`, `aws` or `gcp`.
    pub provider: Cloud,
    /// The region of the price.
    pub region: String,
    /// USD (or `currency`) per hour for the whole instance.
    pub hourly_price: f64,
    /// Currency code.
    pub currency: String,
    /// `ondemand`.
    pub price_type: String,
    /// GPUs of the instance, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_count: Option<f64>,
    /// GPU model of the instance, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// When the price took effect (Azure), or the date of the static table.
    pub last_updated: String,
    /// `azure-retail-prices` (live) or `static` (the shipped table).
    pub source: String,
}

/// Why no price.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PricingError {
    /// Bad instance type or region.
    #[error("{0}")]
    Invalid(String),
    /// The instance type matches no cloud's naming.
    #[error("Could not detect cloud provider for instance type: {0}")]
    UnknownCloud(String),
    /// The API (or table) has no price for it.
    #[error("Price not found for {instance_type}{}", region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default())]
    NotFound {
        instance_type: String,
        region: Option<String>,
    },
    /// The API answered with an error status after the retries.
    #[error("the Azure Retail Prices API answered HTTP {status}")]
    Upstream { status: u16 },
    /// It could not be reached.
    #[error("the Azure Retail Prices API cannot be reached: {0}")]
    Unreachable(String),
    /// Not within the deadline.
    #[error("the Azure Retail Prices API did not answer within {0} s")]
    Timeout(u64),
    /// An answer that is not the API's JSON.
    #[error("the Azure Retail Prices API answered with something unexpected: {0}")]
    Malformed(String),
}

/// One page of the Retail Prices API.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    next_page_link: Option<String>,
}

/// The fields of an item we read.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    currency_code: String,
    retail_price: f64,
    arm_region_name: String,
    effective_start_date: String,
    meter_name: String,
    product_name: String,
    unit_of_measure: String,
    #[serde(default, rename = "type")]
    price_type: Option<String>,
}

/// Checks an instance type and region as the API's filter needs them.
pub(crate) fn validate(
    instance_type: &str,
    region: Option<&str>,
) -> Result<(String, Option<String>), PricingError> {
    let t = instance_type.trim();
    let ok = !t.is_empty()
        && t.len() <= 100
        && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(PricingError::Invalid(format!(
            "instanceType must be 1–100 letters, digits, '_', '-' or '.', starting with a letter (got {:?})",
            crate::extract::truncate(t)
        )));
    }
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            let r = r.to_ascii_lowercase();
            let ok = r.len() <= 50
                && r.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(PricingError::Invalid(format!(
                    "region must be 1–50 lower-case letters, digits or '-' (got {:?})",
                    crate::extract::truncate(&r)
                )));
            }
            Some(r)
        }
    };
    Ok((t.to_string(), region))
}

/// The pricing service: an HTTP client and the cache.
pub(crate) struct Pricing {
    http: reqwest::Client,
    cache: moka::future::Cache<String, InstancePrice>,
}

impl Pricing {
    pub(crate) fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(Duration::from_secs(3))
                .build()
                .unwrap_or_default(),
            cache: moka::future::Cache::builder()
                .max_capacity(CACHE_MAX)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }

    /// Entries in the cache.
    pub(crate) fn cache_size(&self) -> u64 {
        self.cache.entry_count()
    }

    /// The price of `instance_type` (in `region`), and whether it came from the cache.
    pub(crate) async fn price(
        &self,
        config: &crate::state::PricingConfig,
        instance_type: &str,
        region: Option<&str>,
    ) -> Result<(InstancePrice, bool), PricingError> {
        let (t, region) = validate(instance_type, region)?;
        let cloud = detect_cloud(&t).ok_or_else(|| PricingError::UnknownCloud(t.clone()))?;
        match cloud {
            Cloud::Azure => {
                let key = format!("azure:{t}:{}", region.as_deref().unwrap_or("default"));
                if let Some(hit) = self.cache.get(&key).await {
                    return Ok((hit, true));
                }
                let deadline = config.timeout;
                let price = tokio::time::timeout(
                    deadline,
                    self.azure(&config.azure_base_url, &t, region.as_deref()),
                )
                .await
                .map_err(|_| PricingError::Timeout(deadline.as_secs()))??;
                self.cache.insert(key, price.clone()).await;
                Ok((price, false))
            }
            Cloud::Aws | Cloud::Gcp => {
                let row = static_price(&t).ok_or(PricingError::NotFound {
                    instance_type: t.clone(),
                    region: region.clone(),
                })?;
                Ok((
                    InstancePrice {
                        instance_type: row.instance_type.to_string(),
                        provider: row.cloud,
                        region: row.region.to_string(),
                        hourly_price: row.hourly_usd,
                        currency: "USD".into(),
                        price_type: "ondemand".into(),
                        gpu_count: Some(f64::from(row.gpu_count)),
                        gpu_model: Some(row.gpu_model.to_string()),
                        last_updated: PRICES_DATE.to_string(),
                        source: "static".into(),
                    },
                    false,
                ))
            }
        }
    }

    async fn azure(
        &self,
        base: &str,
        t: &str,
        region: Option<&str>,
    ) -> Result<InstancePrice, PricingError> {
        let mut filter = format!(
            "armSkuName eq '{t}' and priceType eq 'Consumption' and contains(meterName, 'Spot') eq false"
        );
        if let Some(r) = region {
            filter.push_str(&format!(" and armRegionName eq '{r}'"));
        }
        let base = base.trim_end_matches('/');
        let mut url = url::Url::parse(&format!("{base}/api/retail/prices")).map_err(|e| {
            PricingError::Unreachable(format!("AZURE_PRICING_URL {base:?} is not a URL: {e}"))
        })?;
        url.query_pairs_mut().append_pair("$filter", &filter);
        let origin = url.origin();
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(page_url) = next.take() {
            pages += 1;
            let page = self.page(&page_url).await?;
            items.extend(page.items);
            if let Some(found) = choose(&items) {
                return Ok(to_price(t, found));
            }
            if pages >= MAX_PAGES {
                break;
            }
            next = page
                .next_page_link
                .filter(|l| !l.is_empty())
                .and_then(|l| url::Url::parse(&l).ok())
                // Never follow a link to another host.
                .filter(|u| u.origin() == origin);
        }
        match items.iter().find(|i| i.unit_of_measure == "1 Hour") {
            Some(i) => Ok(to_price(t, i.clone())),
            None => Err(PricingError::NotFound {
                instance_type: t.to_string(),
                region: region.map(str::to_string),
            }),
        }
    }

    /// One page, retried on network errors, 429 and 5xx only.
    async fn page(&self, url: &url::Url) -> Result<Page, PricingError> {
        let mut attempt = 0;
        loop {
            let result = self
                .http
                .get(url.clone())
                .header("Accept", "application/json")
                .send()
                .await;
            let retryable = match result {
                Ok(r) if r.status().is_success() => {
                    return r
                        .json::<Page>()
                        .await
                        .map_err(|e| PricingError::Malformed(e.to_string()));
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    if status == 429 || r.status().is_server_error() {
                        PricingError::Upstream { status }
                    } else {
                        return Err(PricingError::Upstream { status });
                    }
                }
                Err(e) => PricingError::Unreachable(e.to_string()),
            };
            if attempt >= MAX_RETRIES {
                return Err(retryable);
            }
            let backoff = FIRST_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempt))
                .min(MAX_BACKOFF);
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }
}

/// The first Linux on-demand VM item priced per hour.
fn choose(items: &[Item]) -> Option<Item> {
    items
        .iter()
        .find(|i| {
            i.product_name.contains("Virtual Machines")
                && !i.product_name.contains("Windows")
                && !i.meter_name.contains("Low Priority")
                && !i.meter_name.contains("Spot")
                && i.unit_of_measure == "1 Hour"
                && i.price_type.as_deref().is_none_or(|t| t == "Consumption")
        })
        .cloned()
}

fn to_price(t: &str, item: Item) -> InstancePrice {
    let gpu = azure_gpu_info(t);
    InstancePrice {
        instance_type: t.to_string(),
        provider: Cloud::Azure,
        region: item.arm_region_name,
        hourly_price: item.retail_price,
        currency: item.currency_code,
        price_type: "ondemand".into(),
        gpu_count: gpu.map(|g| g.0),
        gpu_model: gpu.map(|g| g.1.to_string()),
        last_updated: item
            .effective_start_date
            .parse::<k8s_openapi::jiff::Timestamp>()
            .map(|t| t.to_string())
            .unwrap_or(item.effective_start_date),
        source: "azure-retail-prices".into(),
    }
}
