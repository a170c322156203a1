//! `spec.gateway` (the reference's Gateway API Inference Extension field): manifests carrying it
//! apply, and the controller reports in `GatewayReady` whether the Gateway API and the Inference
//! Extension are installed. This binary has its own control plane, because it installs the
//! Gateway API CRDs (test-only stand-ins) that would change what other tests see.

mod support;

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kubeairunway_api::ModelDeployment;
use kubeairunway_controller::Settings;
use kubeairunway_core::gateway::REQUIRED_CRDS;
use kubeairunway_testenv::wait_until;
use serde_json::json;
use support::*;

/// A stand-in for one of the Gateway API's CRDs: the real group, kind and plural, any fields.
fn crd(group: &str, kind: &str, plural: &str, version: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        // The real CRDs carry it too: *.k8s.io groups need an approved API review.
        "metadata": { "name": format!("{plural}.{group}"),
                      "annotations": { "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538" } },
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": { "kind": kind, "plural": plural, "singular": kind.to_ascii_lowercase(), "listKind": format!("{kind}List") },
            "versions": [{
                "name": version, "served": true, "storage": true,
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } },
            }],
        },
    }))
    .expect("CRD")
}

fn gateway_ready(md: &ModelDeployment) -> Option<(String, String, String)> {
    md.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "GatewayReady")
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Changes an annotation, so the controller looks at the deployment again.
async fn touch(api: &Api<ModelDeployment>, name: &str, value: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(
            json!({ "metadata": { "annotations": { "test.kubeairunway.ai/touch": value } } }),
        ),
    )
    .await
    .expect("touch");
}

#[tokio::test]
async fn gateway_ready_says_whether_the_gateway_api_is_installed() {
    let (_cp, client, ns) = setup("gateway").await;
    let _controller = start(&["kubernetes"], Settings::quick(), false);
    let api: Api<ModelDeployment> = Api::namespaced(client.clone(), &ns);
    let base = json!({ "model": { "id": "Qwen/Qwen3-0.6B" }, "engine": { "type": "vllm" },
                       "resources": { "gpu": { "count": 1 } }, "scaling": { "replicas": 0 } });
    let with = |gateway: serde_json::Value| {
        let mut spec = base.clone();
        spec["gateway"] = gateway;
        spec
    };
    // The reference's field, in its shape, applies.
    create(
        &client,
        &ns,
        "asked",
        with(json!({ "enabled": true, "modelName": "qwen", "httpRouteRef": "my-route" })),
    )
    .await;
    create(&client, &ns, "off", with(json!({ "enabled": false }))).await;
    create(&client, &ns, "plain", base.clone()).await;
    let stored = api.get("asked").await.expect("stored");
    let gw = stored.spec.gateway.expect("spec.gateway kept");
    assert_eq!(gw.enabled, Some(true));
    assert_eq!(gw.model_name.as_deref(), Some("qwen"));
    assert_eq!(gw.http_route_ref.as_deref(), Some("my-route"));

    // Without the CRDs: only the deployment that asks for a gateway hears about it.
    let md = wait_md(&client, &ns, "asked", "GatewayReady", 30, |m| {
        gateway_ready(m).is_some()
    })
    .await;
    let (status, reason, message) = gateway_ready(&md).expect("condition");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "CRDsNotAvailable")
    );
    for name in REQUIRED_CRDS {
        assert!(message.contains(name), "{message}");
    }
    for name in ["off", "plain"] {
        let md = wait_md(&client, &ns, name, "the core's pass", 30, |m| {
            m.status
                .as_ref()
                .is_some_and(|s| s.observed_generation.is_some())
        })
        .await;
        assert_eq!(gateway_ready(&md), None, "{name}");
    }

    // The Gateway API and the Inference Extension are installed.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for c in [
        crd("gateway.networking.k8s.io", "Gateway", "gateways", "v1"),
        crd("gateway.networking.k8s.io", "HTTPRoute", "httproutes", "v1"),
        crd(
            "inference.networking.k8s.io",
            "InferencePool",
            "inferencepools",
            "v1",
        ),
    ] {
        crds.patch(
            c.metadata.name.as_deref().expect("name"),
            &PatchParams::apply("gateway-test").force(),
            &Patch::Apply(&c),
        )
        .await
        .expect("install CRD");
    }
    for name in REQUIRED_CRDS {
        wait_until(
            &format!("{name} Established"),
            Duration::from_secs(30),
            || {
                let crds = crds.clone();
                async move {
                    let crd = crds
                        .get(name)
                        .await
                        .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                    let ok = kubeairunway_controller::crd::is_established(&crd);
                    Ok((ok.then_some(()), "not yet".to_string()))
                }
            },
        )
        .await
        .expect("established");
    }
    // The CRD lookups are reused for 5 s; a change of each deployment brings a new pass.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for name in ["asked", "off", "plain"] {
        touch(&api, name, "1").await;
    }
    let md = wait_md(&client, &ns, "asked", "RoutingNotImplemented", 30, |m| {
        gateway_ready(m).is_some_and(|(_, r, _)| r == "RoutingNotImplemented")
    })
    .await;
    let (_, _, message) = gateway_ready(&md).expect("condition");
    assert!(
        message.contains("point HTTPRoute my-route at Service asked for model qwen"),
        "{message}"
    );
    let md = wait_md(&client, &ns, "plain", "GatewayReady", 30, |m| {
        gateway_ready(m).is_some()
    })
    .await;
    assert_eq!(
        gateway_ready(&md).map(|(s, r, _)| (s, r)),
        Some(("False".into(), "RoutingNotImplemented".into())),
        "with the CRDs every deployment is told, as the reference routed them by default"
    );
    let off = api.get("off").await.expect("off");
    assert_eq!(gateway_ready(&off), None, "enabled: false opts out");

    // Opting out removes the condition.
    api.patch(
        "asked",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "gateway": { "enabled": false } } })),
    )
    .await
    .expect("opt out");
    wait_until(
        "GatewayReady to be removed",
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move {
                let md = api
                    .get("asked")
                    .await
                    .map_err(|e| kubeairunway_testenv::Error::State(e.to_string()))?;
                let gone = gateway_ready(&md).is_none();
                Ok((gone.then_some(()), format!("{:?}", gateway_ready(&md))))
            }
        },
    )
    .await
    .expect("removed");
    // The other conditions are the core's and stay.
    let md = api.get("asked").await.expect("asked");
    assert!(
        md.status
            .and_then(|s| s.conditions)
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Validated")),
        "the core's conditions are untouched"
    );
}
