//! `/api/costs/*` against the local control plane (the KWOK nodes carry Azure instance types)
//! and a local Azure Retail Prices API answering with the real API's shape, paging and faults.

mod support;

use kubeairunway_testenv::{AzurePricesServer, PriceItem};
use reqwest::StatusCode;
use serde_json::json;
use support::{AuthMode, start_in_mode};

fn prices() -> AzurePricesServer {
    let mut items = vec![
        // Windows and Spot prices come first, as in the real listing, and must not be chosen.
        PriceItem {
            product: "Virtual Machines NCads A100 v4 Series Windows".into(),
            ..PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", 9.99)
        },
        PriceItem {
            meter: "NC48ads A100 v4 Low Priority".into(),
            ..PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", 1.47)
        },
    ];
    // Filler so the Linux price is on the third page of two items each.
    items.push(PriceItem {
        product: "Virtual Machines NCads A100 v4 Series Windows".into(),
        ..PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", 9.98)
    });
    items.push(PriceItem {
        kind: "DevTestConsumption".into(),
        ..PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", 5.0)
    });
    items.push(PriceItem::linux("Standard_NC48ads_A100_v4", "eastus", 7.35));
    items.push(PriceItem::linux(
        "Standard_ND96isr_H100_v5",
        "eastus",
        98.32,
    ));
    items.push(PriceItem::linux("Standard_NC8as_T4_v3", "westus2", 0.752));
    items.push(PriceItem::linux("Standard_D16s_v5", "westus2", 0.768));
    AzurePricesServer::start(items, 2).expect("prices server")
}

#[tokio::test]
async fn instance_prices_follow_pages_and_retry_only_what_is_retryable() {
    let azure = prices();
    let server = start_in_mode(AuthMode::Off, |c| {
        c.pricing.azure_base_url = azure.url().to_string();
    });
    let r = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_NC48ads_A100_v4&region=eastus",
            None,
        )
        .await;
    r.expect_status(StatusCode::OK, "A100 price");
    assert_eq!(r.body["price"]["hourlyPrice"], 7.35, "{}", r.body);
    assert_eq!(r.body["price"]["provider"], "azure");
    assert_eq!(r.body["price"]["region"], "eastus");
    assert_eq!(r.body["price"]["gpuModel"], "A100-80GB");
    assert_eq!(r.body["price"]["gpuCount"], 2.0);
    assert_eq!(r.body["cached"], false);
    let pages = azure.requests();
    assert_eq!(
        pages, 2,
        "the Linux price is on the second page of the filtered listing"
    );
    let again = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_NC48ads_A100_v4&region=eastus",
            None,
        )
        .await;
    assert_eq!(again.body["cached"], true);
    assert_eq!(azure.requests(), pages, "answered from the cache");

    // 503 and 429 are retried (the reference never retried them, §19.9).
    azure.fail_next(&[503, 429]);
    let r = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_ND96isr_H100_v5",
            None,
        )
        .await;
    r.expect_status(StatusCode::OK, "after two retryable faults");
    assert_eq!(r.body["price"]["hourlyPrice"], 98.32);
    assert_eq!(r.body["price"]["gpuCount"], 8.0);

    // A 400 is not retried, and is a gateway error for the caller.
    let before = azure.requests();
    azure.fail_next(&[400]);
    let r = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_NC8as_T4_v3",
            None,
        )
        .await;
    r.assert_error(StatusCode::BAD_GATEWAY, "HTTP 400", "non-retryable fault");
    assert_eq!(azure.requests(), before + 1, "one request, no retry");
    // Three 500s exhaust the two retries; failures are not cached.
    azure.fail_next(&[500, 500, 500]);
    let r = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_NC8as_T4_v3",
            None,
        )
        .await;
    r.assert_error(StatusCode::BAD_GATEWAY, "HTTP 500", "retries exhausted");
    let r = server
        .get(
            "/api/costs/instance-price?instanceType=Standard_NC8as_T4_v3",
            None,
        )
        .await;
    r.expect_status(StatusCode::OK, "the next lookup asks again");

    // Input errors are 400s (the reference: 404), unknown prices 404.
    for (query, status, fragment) in [
        ("", StatusCode::BAD_REQUEST, "instanceType is required"),
        (
            "?instanceType=Standard_X'%20or%201",
            StatusCode::BAD_REQUEST,
            "instanceType must be",
        ),
        (
            "?instanceType=Standard_NC8as_T4_v3&region=East%20US",
            StatusCode::BAD_REQUEST,
            "region must be",
        ),
        (
            "?instanceType=big",
            StatusCode::BAD_REQUEST,
            "Could not detect cloud provider",
        ),
        (
            "?instanceType=Standard_NV12s_v3",
            StatusCode::NOT_FOUND,
            "Price not found",
        ),
        (
            "?instanceType=p9.huge",
            StatusCode::NOT_FOUND,
            "Price not found",
        ),
    ] {
        server
            .get(&format!("/api/costs/instance-price{query}"), None)
            .await
            .assert_error(status, fragment, query);
    }
    // AWS and GCP from the dated table.
    let r = server
        .get("/api/costs/instance-price?instanceType=g5.xlarge", None)
        .await;
    r.expect_status(StatusCode::OK, "AWS");
    assert_eq!(
        (
            r.body["price"]["provider"].clone(),
            r.body["price"]["source"].clone()
        ),
        (json!("aws"), json!("static"))
    );
    assert_eq!(r.body["price"]["hourlyPrice"], 1.006);
}

#[tokio::test]
async fn node_pool_costs_use_live_prices_for_the_nodes_replicas_need() {
    let azure = prices();
    let server = start_in_mode(AuthMode::Off, |c| {
        c.pricing.azure_base_url = azure.url().to_string();
    });
    let r = server
        .get("/api/costs/node-pools?gpuCount=2&replicas=3", None)
        .await;
    r.expect_status(StatusCode::OK, "node pools");
    assert_eq!(r.body["pricingSource"], "realtime-with-fallback");
    let pools = r.body["nodePoolCosts"].as_array().expect("pools");
    assert!(pools.iter().all(|p| !p.is_null()));
    let pool = |name: &str| {
        pools
            .iter()
            .find(|p| p["poolName"] == name)
            .unwrap_or_else(|| panic!("{name}: {}", r.body))
    };
    // h100: 8 GPUs per node, so 2 GPUs fit one node: 98.32 × 1 × 3.
    let h100 = pool("h100");
    assert_eq!(h100["gpuModel"], "NVIDIA-H100-80GB-HBM3");
    assert_eq!(h100["realtimePricing"]["nodesPerReplica"], 1);
    assert_eq!(h100["realtimePricing"]["hourlyPrice"], 294.96);
    assert_eq!(h100["costBreakdown"]["estimate"]["hourly"], 294.96);
    assert_eq!(h100["costBreakdown"]["estimate"]["source"], "cloud-api");
    assert_eq!(h100["costBreakdown"]["normalizedGpuModel"], "H100-80GB");
    // t4: 1 GPU per node, so 2 GPUs need 2 nodes: 0.752 × 2 × 3 (the reference ignored gpuCount).
    let t4 = pool("t4");
    assert_eq!(t4["realtimePricing"]["nodesPerReplica"], 2);
    assert_eq!(t4["realtimePricing"]["hourlyPrice"], 4.51);
    assert_eq!(t4["realtimePricing"]["monthlyPrice"], 3293.76);
    // Without live prices: the static per-GPU estimate, never zero for a known GPU.
    let r = server
        .get(
            "/api/costs/node-pools?gpuCount=1&replicas=1&realtime=false&hoursPerMonth=100",
            None,
        )
        .await;
    r.expect_status(StatusCode::OK, "static");
    assert_eq!(r.body["pricingSource"], "static");
    let t4 = r.body["nodePoolCosts"]
        .as_array()
        .expect("pools")
        .iter()
        .find(|p| p["poolName"] == "t4")
        .cloned()
        .expect("t4");
    assert_eq!(t4["costBreakdown"]["estimate"]["hourly"], 0.53);
    assert_eq!(t4["costBreakdown"]["estimate"]["monthly"], 52.6);
    assert!(t4.get("realtimePricing").is_none());
    // CPU pools priced per VM.
    let r = server
        .get("/api/costs/node-pools?computeType=cpu&replicas=2", None)
        .await;
    let cpu = r.body["nodePoolCosts"].as_array().expect("pools");
    assert_eq!(cpu.len(), 1, "{}", r.body);
    assert_eq!(cpu[0]["poolName"], "cpu");
    assert_eq!(cpu[0]["gpuModel"], "CPU");
    assert_eq!(cpu[0]["realtimePricing"]["hourlyPrice"], 1.54);
    for bad in [
        "gpuCount=0",
        "replicas=x",
        "computeType=tpu",
        "hoursPerMonth=745",
        "nope=1",
    ] {
        server
            .get(&format!("/api/costs/node-pools?{bad}"), None)
            .await
            .expect_status(StatusCode::BAD_REQUEST, bad);
    }
}

#[tokio::test]
async fn estimates_models_and_normalisation() {
    let server = start_in_mode(AuthMode::Off, |_| {});
    let r = server
        .post_json(
            "/api/costs/estimate",
            None,
            &json!({ "gpuType": "NVIDIA-A100-SXM4-80GB", "gpuCount": 2, "replicas": 2, "hoursPerMonth": 100 }),
        )
        .await;
    r.expect_status(StatusCode::OK, "estimate");
    let b = &r.body["breakdown"];
    assert_eq!(b["totalGpus"], 4);
    assert_eq!(b["normalizedGpuModel"], "A100-80GB");
    assert_eq!(b["perGpu"]["hourly"], 5.07);
    assert_eq!(b["estimate"]["hourly"], 20.28);
    assert_eq!(b["estimate"]["monthly"], 2027.6);
    assert_eq!(b["notes"][0], "GPU: A100-80GB (80GB, Ampere)");
    for bad in [
        json!({ "gpuType": "", "gpuCount": 1, "replicas": 1 }),
        json!({ "gpuType": "T4", "gpuCount": 0, "replicas": 1 }),
        json!({ "gpuType": "T4", "gpuCount": 1, "replicas": 1, "hoursPerMonth": 0 }),
        json!({ "gpuType": "T4", "gpuCount": 1, "replicas": 1, "extra": true }),
    ] {
        server
            .post_json("/api/costs/estimate", None, &bad)
            .await
            .expect_status(StatusCode::BAD_REQUEST, &bad);
    }
    let r = server.get("/api/costs/gpu-models", None).await;
    assert_eq!(
        r.body["models"][0],
        json!({ "model": "H100-80GB", "memoryGb": 80, "generation": "Hopper" })
    );
    let r = server
        .get("/api/costs/normalize-gpu?label=NVIDIA-L40", None)
        .await;
    assert_eq!(r.body["normalizedModel"], "L40", "not L4 (§19.7)");
    assert_eq!(r.body["gpuInfo"]["memoryGb"], 48);
    let r = server
        .get(
            "/api/costs/normalize-gpu?label=NVIDIA-GeForce-RTX-4090",
            None,
        )
        .await;
    assert_eq!(
        r.body["gpuInfo"],
        serde_json::Value::Null,
        "unknown stays unknown"
    );
    server
        .get("/api/costs/normalize-gpu", None)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "GPU label is required", "no label");
}
