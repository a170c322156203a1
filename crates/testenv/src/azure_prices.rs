//! A local Azure Retail Prices API (`GET /api/retail/prices?$filter=…`), for tests of the cost
//! routes, which cannot reach `prices.azure.com`.
//!
//! It answers with the real API's JSON shape: `{BillingCurrency, CustomerEntityId,
//! CustomerEntityType, Items: [{currencyCode, tierMinimumUnits, retailPrice, unitPrice,
//! armRegionName, location, effectiveStartDate, meterId, meterName, productId, skuId,
//! productName, skuName, serviceName, serviceId, serviceFamily, unitOfMeasure, type,
//! isPrimaryMeterRegion, armSkuName}], NextPageLink, Count}`, filters on the `armSkuName`,
//! `armRegionName` and `priceType` terms of `$filter`, and pages with `$skip` links like the
//! real API. Faults can be injected: the next N requests answer a status of the test's choice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Result;
use crate::loopback::{Bound, Loopback};

/// One price item (what a test varies; the rest is filled in like the real API's).
#[derive(Clone, Debug)]
pub struct PriceItem {
    /// `armSkuName`, e.g. `Standard_NC24ads_A100_v4`.
    pub sku: String,
    /// `armRegionName`, e.g. `eastus`.
    pub region: String,
    /// `retailPrice` (USD per hour).
    pub price: f64,
    /// `productName`, e.g. `Virtual Machines NCads A100 v4 Series`.
    pub product: String,
    /// `meterName`, e.g. `NC24ads A100 v4` (or `… Spot`, `… Low Priority`).
    pub meter: String,
    /// `type`: `Consumption`, `Reservation`, `DevTestConsumption`.
    pub kind: String,
}

impl PriceItem {
    /// A Linux on-demand VM price.
    pub fn linux(sku: &str, region: &str, price: f64) -> Self {
        let short = sku.trim_start_matches("Standard_").replace('_', " ");
        Self {
            sku: sku.into(),
            region: region.into(),
            price,
            product: format!("Virtual Machines {short} Series"),
            meter: short,
            kind: "Consumption".into(),
        }
    }

    fn json(&self, index: usize) -> Value {
        json!({
            "currencyCode": "USD",
            "tierMinimumUnits": 0.0,
            "retailPrice": self.price,
            "unitPrice": self.price,
            "armRegionName": self.region,
            "location": format!("US {}", self.region),
            "effectiveStartDate": "2024-11-01T00:00:00Z",
            "meterId": format!("00000000-0000-0000-0000-{index:012}"),
            "meterName": self.meter,
            "productId": "DZH318Z0BQPS",
            "skuId": format!("DZH318Z0BQPS/{index:04}"),
            "productName": self.product,
            "skuName": self.meter,
            "serviceName": "Virtual Machines",
            "serviceId": "DZH313Z7MMC8",
            "serviceFamily": "Compute",
            "unitOfMeasure": "1 Hour",
            "type": self.kind,
            "isPrimaryMeterRegion": true,
            "armSkuName": self.sku,
        })
    }
}

struct Shared {
    url: String,
    items: Vec<PriceItem>,
    page_size: usize,
    faults: Mutex<Vec<StatusCode>>,
    requests: AtomicUsize,
}

/// The running server; dropping it stops it.
pub struct AzurePricesServer {
    shared: Arc<Shared>,
    _server: Loopback,
}

impl AzurePricesServer {
    /// Serves `items`, `page_size` per page.
    pub fn start(items: Vec<PriceItem>, page_size: usize) -> Result<Self> {
        let bound = Bound::new("the Azure Retail Prices server")?;
        let shared = Arc::new(Shared {
            url: bound.url().to_string(),
            items,
            page_size: page_size.max(1),
            faults: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/api/retail/prices", axum::routing::get(prices))
            .with_state(shared.clone());
        let server = bound.serve("the Azure Retail Prices server", app)?;
        Ok(Self {
            shared,
            _server: server,
        })
    }

    /// `http://127.0.0.1:<port>` (the base URL the backend is configured with).
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The next requests answer these statuses, in order, before the real answers resume.
    pub fn fail_next(&self, statuses: &[u16]) {
        let mut faults = self
            .shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        faults.extend(
            statuses
                .iter()
                .filter_map(|s| StatusCode::from_u16(*s).ok()),
        );
    }

    /// Requests answered so far (faults included).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

/// The value of `<field> eq '<value>'` in an OData filter.
fn term(filter: &str, field: &str) -> Option<String> {
    let start = filter.find(&format!("{field} eq '"))? + field.len() + 5;
    let rest = &filter[start..];
    rest.find('\'').map(|end| rest[..end].to_string())
}

async fn prices(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let fault = {
        let mut faults = shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (!faults.is_empty()).then(|| faults.remove(0))
    };
    if let Some(status) = fault {
        return (
            status,
            Json(json!({ "Error": { "Code": "Injected", "Message": "injected fault" } })),
        )
            .into_response();
    }
    let filter = q.get("$filter").cloned().unwrap_or_default();
    let sku = term(&filter, "armSkuName");
    let region = term(&filter, "armRegionName");
    let kind = term(&filter, "priceType");
    let no_spot = filter.contains("contains(meterName, 'Spot') eq false");
    let matching: Vec<(usize, &PriceItem)> = shared
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| sku.as_ref().is_none_or(|s| *s == i.sku))
        .filter(|(_, i)| region.as_ref().is_none_or(|r| *r == i.region))
        .filter(|(_, i)| kind.as_ref().is_none_or(|k| *k == i.kind))
        .filter(|(_, i)| !no_spot || !i.meter.contains("Spot"))
        .collect();
    let skip: usize = q.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(shared.page_size)
        .map(|(index, item)| item.json(*index))
        .collect();
    let next = (skip + shared.page_size < matching.len()).then(|| {
        let mut url =
            url::Url::parse(&format!("{}/api/retail/prices", shared.url)).unwrap_or_else(|_| {
                url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!())
            });
        url.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$skip", &(skip + shared.page_size).to_string());
        url.to_string()
    });
    Json(json!({
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": page,
        "NextPageLink": next,
        "Count": page.len(),
    }))
    .into_response()
}
