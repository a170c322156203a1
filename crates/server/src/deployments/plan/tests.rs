//! The mapping of request bodies onto ModelDeployments, field by field.

use serde_json::json;

use super::*;

fn request(extra: Value) -> CreateDeploymentRequest {
    let mut body = json!({ "name": "llama", "modelId": "meta/llama", "engine": "vllm" });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    serde_json::from_value(body).expect("request")
}

fn spec(extra: Value) -> Value {
    let plan = Plan::from_request(&request(extra), "ns").expect("plan");
    serde_json::to_value(&plan.deployment).expect("json")["spec"].clone()
}

fn planned(extra: Value) -> Plan {
    Plan::from_request(&request(extra), "ns").expect("plan")
}

/// The warnings of a request that is accepted.
fn warned(extra: Value) -> Vec<String> {
    planned(extra).warnings
}

fn rejected(extra: Value) -> String {
    let err = Plan::from_request(&request(extra), "ns").expect_err("rejected");
    let err = crate::error::ApiError::from(err);
    assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
    err.message
}

#[test]
fn the_basic_request_becomes_the_contract_manifest() {
    let plan = Plan::from_request(
        &request(
            json!({ "servedModelName": "llama", "hfTokenSecret": "hf-token-secret",
                         "replicas": 2, "resources": { "gpu": 1, "memory": "32Gi" },
                         "contextLength": 8192, "trustRemoteCode": true }),
        ),
        "team-a",
    )
    .expect("plan");
    let md = serde_json::to_value(&plan.deployment).expect("json");
    assert_eq!(md["metadata"]["namespace"], "team-a");
    assert_eq!(
        md["metadata"]["labels"],
        json!({ "app.kubernetes.io/name": "kubeairunway", "app.kubernetes.io/instance": "llama",
                "app.kubernetes.io/managed-by": "kubeairunway" })
    );
    let spec = &md["spec"];
    assert_eq!(
        spec["model"],
        json!({ "id": "meta/llama", "servedName": "llama", "source": "huggingface" })
    );
    assert_eq!(
        spec["engine"],
        json!({ "type": "vllm", "contextLength": 8192, "trustRemoteCode": true })
    );
    assert_eq!(spec["scaling"], json!({ "replicas": 2 }));
    assert_eq!(
        spec["resources"],
        json!({ "gpu": { "count": 1, "type": "nvidia.com/gpu" }, "memory": "32Gi" })
    );
    assert_eq!(
        spec["secrets"],
        json!({ "huggingFaceToken": "hf-token-secret" })
    );
    assert_eq!(plan.total_gpus, 2);
    assert_eq!(plan.gpus_per_worker, 1);
}

#[test]
fn nothing_accepted_is_dropped() {
    // docs/contract/api.md §19.1, item by item.
    assert_eq!(
        spec(json!({ "imageRef": "ghcr.io/x/y:1" }))["image"],
        "ghcr.io/x/y:1"
    );
    let cpu = spec(
        json!({ "engine": "llamacpp", "computeType": "cpu", "resources": { "gpu": 0, "memory": "8Gi", "cpu": "4" } }),
    );
    assert_eq!(
        cpu["resources"],
        json!({ "gpu": { "count": 0, "type": "nvidia.com/gpu" }, "memory": "8Gi", "cpu": "4" })
    );
    assert_eq!(
        spec(json!({ "engine": "llamacpp", "computeType": "cpu" }))["resources"]["gpu"]["count"],
        0
    );
    let pd = spec(
        json!({ "mode": "disaggregated", "prefillReplicas": 0, "decodeReplicas": 2,
                          "prefillGpus": 2, "decodeGpus": 4, "resources": { "gpu": 0, "memory": "64Gi" } }),
    );
    assert_eq!(
        pd["scaling"]["prefill"],
        json!({ "replicas": 0, "gpu": { "count": 2, "type": "nvidia.com/gpu" }, "memory": "64Gi" })
    );
    assert_eq!(pd["scaling"]["decode"]["replicas"], 2);
    assert_eq!(pd["scaling"]["decode"]["gpu"]["count"], 4);
    assert_eq!(pd["resources"], Value::Null);
    assert_eq!(
        spec(json!({ "enforceEager": true, "enablePrefixCaching": true }))["engine"]["args"],
        json!({ "enforce-eager": "", "enable-prefix-caching": "" })
    );
    assert_eq!(
        spec(json!({ "engine": "sglang", "enforceEager": true }))["engine"]["args"],
        json!({ "disable-cuda-graph": "" })
    );
    assert_eq!(
        spec(json!({ "enforceEager": false }))["engine"].get("args"),
        None
    );
    assert_eq!(
        spec(json!({ "provider": "dynamo", "routerMode": "kv" }))["provider"],
        json!({ "name": "dynamo", "overrides": { "routerMode": "kv" } })
    );
    assert_eq!(
        spec(json!({ "maxModelLen": 4096 }))["engine"]["contextLength"],
        4096
    );
    let premade = spec(
        json!({ "engine": null, "modelSource": "premade", "premadeModel": "llama3.2:1b", "computeType": "cpu" }),
    );
    assert_eq!(premade["image"], "ghcr.io/kaito-project/aikit/llama3.2:1b");
    assert_eq!(premade["model"]["source"], "custom");
    assert_eq!(premade["engine"]["type"], "llamacpp");
    let direct = spec(
        json!({ "engine": "llamacpp", "modelSource": "huggingface", "ggufFile": "q4/model.Q4_K_M.gguf", "ggufRunMode": "direct" }),
    );
    assert_eq!(
        direct["engine"]["args"],
        json!({ "hf-file": "q4/model.Q4_K_M.gguf" })
    );
    let built = spec(
        json!({ "engine": "llamacpp", "ggufRunMode": "build", "imageRef": "localhost:30500/aikit-x:Q4_K_M" }),
    );
    assert_eq!(built["image"], "localhost:30500/aikit-x:Q4_K_M");
    assert_eq!(built["model"]["source"], "custom");
    assert_eq!(
        spec(json!({ "modelSource": "vllm" }))["engine"]["type"],
        "vllm"
    );
    assert_eq!(
        spec(
            json!({ "engineArgs": { "max-num-seqs": "8", "enforce-eager": "" }, "enforceEager": true })
        )["engine"]["args"],
        json!({ "max-num-seqs": "8", "enforce-eager": "" })
    );
}

#[test]
fn what_has_no_place_is_rejected() {
    let cases = [
        (
            json!({ "engineArgs": { "--port": "1" } }),
            "not a flag name",
        ),
        (
            json!({ "computeType": "gpu", "resources": { "gpu": 0 } }),
            "at least 1",
        ),
        (
            json!({ "premadeModel": "llama3.2:1b" }),
            "needs modelSource premade",
        ),
        (json!({ "modelSource": "premade" }), "needs premadeModel"),
        (
            json!({ "modelSource": "premade", "premadeModel": "../etc" }),
            "Invalid premadeModel",
        ),
        (
            json!({ "ggufFile": "../x.gguf", "engine": "llamacpp" }),
            "Invalid ggufFile",
        ),
        (
            json!({ "ggufRunMode": "build", "engine": "llamacpp" }),
            "needs imageRef",
        ),
        (json!({ "contextLength": 1, "maxModelLen": 2 }), "disagree"),
        (json!({ "contextLength": 0 }), "contextLength"),
        (json!({ "replicas": -1 }), "replicas"),
        (json!({ "replicas": 3_000_000_000i64 }), "replicas"),
        (
            json!({ "resources": { "gpu": 1, "memory": "lots" } }),
            "quantity",
        ),
        (json!({ "hfTokenSecret": "Bad_Secret" }), "hfTokenSecret"),
        (json!({ "provider": "Dynamo!" }), "provider"),
        (json!({ "modelId": " " }), "modelId"),
        (json!({ "name": "events" }), "reserved"),
        (json!({ "name": "my.model" }), "Invalid deployment name"),
        (json!({ "imageRef": "has space" }), "imageRef"),
        (
            json!({ "engineArgs": { "enforce-eager": "x" }, "enforceEager": true }),
            "conflicts",
        ),
        (
            json!({ "engineArgs": { "max-num-seqs": null } }),
            "must be a string, a number or a boolean",
        ),
        (json!({ "engineArgs": { "x": [1] } }), "got an array"),
        (
            json!({ "modelSource": "vllm", "ggufFile": "x.gguf" }),
            "ggufFile needs engine llamacpp, but modelSource vllm needs engine vllm",
        ),
        (
            json!({ "provider": "dynamo", "routerMode": "kv", "providerOverrides": { "routerMode": "random" } }),
            "conflicts with routerMode",
        ),
        (
            json!({ "providerOverrides": { "metadata": {} } }),
            "may not set metadata",
        ),
        (
            json!({ "provider": "kaito", "providerOverrides": { "resourceType": "pool" } }),
            "workspace or inferenceset",
        ),
        (
            json!({ "storage": { "volumes": [{ "name": "cache" }] } }),
            "not supported",
        ),
        (json!({ "storage": [] }), "storage must be an object"),
        (
            json!({ "mode": "disaggregated", "computeType": "cpu" }),
            "not possible in mode disaggregated",
        ),
    ];
    for (extra, fragment) in cases {
        let message = rejected(extra.clone());
        assert!(message.contains(fragment), "{extra}: {message}");
    }
}

#[test]
fn unknown_fields_and_values_fail_to_parse() {
    for body in [
        json!({ "name": "a", "modelId": "m", "kaitoResourceType": "pool" }),
        json!({ "name": "a", "modelId": "m", "someField": 1 }),
        json!({ "name": "a", "modelId": "m", "routerMode": "random" }),
        json!({ "name": "a", "modelId": "m", "engine": "tgi" }),
        json!({ "name": "a", "modelId": "m", "resources": { "gpu": 1, "gpuType": "x" } }),
        json!({ "name": "a", "modelId": "m", "replicas": 1.5 }),
        json!({ "name": "a" }),
    ] {
        assert!(
            serde_json::from_value::<CreateDeploymentRequest>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn quantities() {
    for ok in ["32Gi", "500m", "4", "1.5Gi", "100M", "1e3", "2E+6"] {
        assert!(quantity("x", ok).is_ok(), "{ok}");
    }
    for bad in ["", "Gi", "1..5", "4 cores", "1GB", "."] {
        assert!(quantity("x", bad).is_err(), "{bad}");
    }
}

#[test]
fn meaningless_fields_are_accepted_not_applied_and_named() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "prefillReplicas": 1, "decodeReplicas": 1, "prefillGpus": 1, "decodeGpus": 1 }),
            "prefillReplicas (1), decodeReplicas (1), prefillGpus (1), decodeGpus (1): they apply to mode disaggregated only",
        ),
        (
            json!({ "mode": "disaggregated", "replicas": 2 }),
            "replicas (2): it applies to mode aggregated only",
        ),
        (
            json!({ "engine": "trtllm", "enforceEager": true }),
            "enforceEager: engine trtllm has no such setting",
        ),
        (
            json!({ "engine": null, "enforceEager": true }),
            "enforceEager: no engine is named",
        ),
        (
            json!({ "engine": "sglang", "enablePrefixCaching": true }),
            "SGLang always caches prefixes",
        ),
        (
            json!({ "routerMode": "kv" }),
            "routerMode kv: only provider dynamo has a router",
        ),
        (
            json!({ "provider": "dynamo", "kaitoResourceType": "inferenceset" }),
            "kaitoResourceType inferenceset: it applies to provider kaito only",
        ),
        (
            json!({ "mode": "disaggregated", "resources": { "gpu": 2 }, "prefillGpus": 1, "decodeGpus": 1 }),
            "resources.gpu (2): in mode disaggregated it is only the default",
        ),
        (
            json!({ "mode": "disaggregated", "resources": { "gpu": 1, "cpu": "2" } }),
            "resources.cpu (2)",
        ),
        (
            json!({ "engine": "llamacpp", "computeType": "cpu", "resources": { "gpu": 2 } }),
            "resources.gpu (2): computeType cpu serves without GPUs",
        ),
        (
            json!({ "engine": "vllm", "ggufFile": "x.gguf" }),
            "engine vllm: ggufFile runs engine llamacpp",
        ),
        (
            json!({ "engine": "llamacpp", "ggufRunMode": "build", "ggufFile": "x.gguf", "imageRef": "r/x:1" }),
            "ggufFile (x.gguf): with ggufRunMode build",
        ),
        (
            json!({ "provider": "kaito", "enforceEager": true, "contextLength": 4096 }),
            "engine arguments enforce-eager (from engineArgs, enforceEager or enablePrefixCaching): KAITO's vLLM preset",
        ),
    ];
    for (extra, fragment) in cases {
        let warnings = warned(extra.clone());
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("⚠️ Not applied: ") && w.contains(fragment)),
            "{extra}: {warnings:?}"
        );
    }
    // What is applied has no warning.
    assert!(warned(json!({ "replicas": 2, "enforceEager": true })).is_empty());
    assert!(warned(json!({ "mode": "disaggregated", "resources": { "gpu": 2 }, "prefillGpus": 2, "decodeGpus": 2 })).is_empty());
}

#[test]
fn not_applied_fields_do_not_reach_the_object() {
    let aggregated = spec(json!({ "prefillReplicas": 3, "decodeGpus": 2, "replicas": 2 }));
    assert_eq!(aggregated["scaling"], json!({ "replicas": 2 }));
    let disaggregated = spec(
        json!({ "mode": "disaggregated", "replicas": 4, "prefillReplicas": 2, "prefillGpus": 1, "decodeGpus": 1, "resources": { "gpu": 3 } }),
    );
    assert_eq!(disaggregated["scaling"]["prefill"]["replicas"], 2);
    assert_eq!(disaggregated["scaling"]["decode"]["gpu"]["count"], 1);
    assert_eq!(disaggregated["resources"], Value::Null);
    assert_eq!(
        spec(json!({ "engine": "trtllm", "enforceEager": true }))["engine"].get("args"),
        None
    );
    assert_eq!(
        spec(json!({ "routerMode": "kv", "provider": "kuberay" }))["provider"],
        json!({ "name": "kuberay" })
    );
    let kaito_vllm = spec(
        json!({ "provider": "kaito", "enforceEager": true, "engineArgs": { "x": "1" }, "maxModelLen": 4096,
                "trustRemoteCode": true, "servedModelName": "llama", "resources": { "gpu": 2, "memory": "16Gi" } }),
    );
    assert_eq!(
        kaito_vllm["engine"],
        json!({ "type": "vllm", "trustRemoteCode": false })
    );
    assert_eq!(kaito_vllm["model"].get("servedName"), None);
    assert_eq!(
        kaito_vllm["resources"],
        json!({ "gpu": { "count": 2, "type": "nvidia.com/gpu" } })
    );
    assert_eq!(
        warned(json!({ "provider": "kaito", "servedModelName": "llama", "resources": { "gpu": 1, "memory": "16Gi" } })).len(),
        2
    );
    // Without a GPU count nothing is left of the block: no block means one GPU.
    assert_eq!(
        spec(json!({ "provider": "kaito", "resources": { "gpu": 1 } }))["resources"]["gpu"]["count"],
        1
    );
    let cpu = spec(
        json!({ "engine": "llamacpp", "computeType": "cpu", "resources": { "gpu": 1, "memory": "4Gi" } }),
    );
    assert_eq!(
        cpu["resources"],
        json!({ "gpu": { "count": 0, "type": "nvidia.com/gpu" }, "memory": "4Gi" })
    );
}

#[test]
fn engine_args_numbers_and_booleans_become_strings() {
    assert_eq!(
        spec(
            json!({ "engineArgs": { "max-num-seqs": 8, "gpu-memory-utilization": 0.9, "enable-chunked-prefill": true, "x": "" } })
        )["engine"]["args"],
        json!({ "max-num-seqs": "8", "gpu-memory-utilization": "0.9", "enable-chunked-prefill": "true", "x": "" })
    );
}

#[test]
fn kaito_resource_type_and_provider_overrides_are_applied() {
    assert_eq!(
        spec(json!({ "provider": "kaito", "kaitoResourceType": "inferenceset" }))["provider"],
        json!({ "name": "kaito", "overrides": { "resourceType": "inferenceset" } })
    );
    assert_eq!(
        spec(json!({ "provider": "kaito", "kaitoResourceType": "workspace" }))["provider"],
        json!({ "name": "kaito" })
    );
    assert!(warned(json!({ "provider": "kaito", "kaitoResourceType": "workspace" })).is_empty());
    assert_eq!(
        spec(
            json!({ "provider": "dynamo", "routerMode": "kv", "providerOverrides": { "frontend": { "replicas": 2 } } })
        )["provider"],
        json!({ "name": "dynamo", "overrides": { "frontend": { "replicas": 2 }, "routerMode": "kv" } })
    );
    assert_eq!(
        spec(json!({ "routerMode": "default" }))["provider"],
        Value::Null
    );
    assert_eq!(
        spec(json!({ "storage": { "volumes": [] } }))["model"]["id"],
        "meta/llama"
    );
}

#[test]
fn the_kaito_premade_body_runs_llama_cpp() {
    // What the reference form sends for a curated KAITO model: engine vllm (the form's
    // fallback), modelSource premade, computeType cpu and the GPU recommendation.
    let plan = planned(json!({
        "engine": "vllm", "provider": "kaito", "kaitoResourceType": "workspace",
        "modelSource": "premade", "premadeModel": "llama3.2:1b", "computeType": "cpu",
        "resources": { "gpu": 1 }, "enforceEager": true,
    }));
    let spec = serde_json::to_value(&plan.deployment).expect("json")["spec"].clone();
    assert_eq!(spec["engine"]["type"], "llamacpp");
    assert_eq!(spec["image"], "ghcr.io/kaito-project/aikit/llama3.2:1b");
    assert_eq!(spec["resources"]["gpu"]["count"], 0);
    assert_eq!(plan.warnings.len(), 3, "{:?}", plan.warnings);
}

/// Found by `tests/deployment_props.rs`: `decodeGpus: 0` (or `prefillGpus: 0`) in mode
/// disaggregated was accepted and then refused by the CRD with a 422 about
/// `spec.scaling.decode.gpu.count`; in aggregated mode the fields are only not applied.
#[test]
fn disaggregated_workers_need_a_gpu() {
    for field in ["prefillGpus", "decodeGpus"] {
        let message = rejected(json!({ "mode": "disaggregated", field: 0 }));
        assert!(
            message.starts_with(&format!("{field} must be at least 1 in mode disaggregated")),
            "{message}"
        );
        assert!(
            !warned(json!({ field: 0 })).is_empty(),
            "{field} in aggregated mode"
        );
    }
}

/// Found by `tests/deployment_props.rs`: 64 `engineArgs` plus `enforceEager` made 65 flags,
/// which the CRD refused (422, `spec.engine.args: Too many`).
#[test]
fn derived_flags_count_towards_the_engine_args_limit() {
    let args: Map<String, Value> = (0..MAX_ENGINE_ARGS)
        .map(|i| (format!("a{i}"), json!("")))
        .collect();
    assert!(
        rejected(json!({ "engineArgs": args.clone(), "enforceEager": true }))
            .starts_with("engineArgs has 65 entries"),
    );
    assert_eq!(
        spec(json!({ "engineArgs": args.clone() }))["engine"]["args"]
            .as_object()
            .map(Map::len),
        Some(MAX_ENGINE_ARGS)
    );
    // KAITO's vLLM preset drops them all: nothing to count.
    assert!(
        Plan::from_request(
            &request(json!({ "engineArgs": args, "enforceEager": true, "provider": "kaito" })),
            "ns"
        )
        .is_ok()
    );
}

/// Found by `tests/deployment_props.rs`: `resources.memory: "1e2147483648"` was accepted, and the
/// API server's dry run of it did not answer within 10 s (it rescales the number with arbitrary
/// precision). Exponents have at most three digits now.
#[test]
fn quantity_exponents_are_bounded() {
    for bad in ["1e2147483648", "1e-2147483649", "1e1000"] {
        let message = rejected(json!({ "resources": { "gpu": 1, "memory": bad } }));
        assert!(message.contains("resources.memory"), "{bad}: {message}");
    }
    for ok in ["1e3", "1e-3", "5E+999"] {
        assert_eq!(
            spec(json!({ "resources": { "gpu": 1, "memory": ok } }))["resources"]["memory"],
            json!(ok)
        );
    }
}

#[test]
fn node_selector_and_tolerations_reach_the_spec() {
    let s = spec(json!({
        "nodeSelector": { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "pool": "" },
        "tolerations": [
            { "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" },
            { "key": "dedicated", "value": "ml" },
            { "operator": "Exists" },
            { "key": "k", "effect": "NoExecute", "tolerationSeconds": 60 },
        ],
    }));
    assert_eq!(
        s["nodeSelector"],
        json!({ "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "pool": "" })
    );
    assert_eq!(
        s["tolerations"],
        json!([
            { "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" },
            { "key": "dedicated", "operator": "Equal", "value": "ml" },
            { "operator": "Exists" },
            { "key": "k", "operator": "Equal", "effect": "NoExecute", "tolerationSeconds": 60 },
        ])
    );
    let empty = spec(json!({ "nodeSelector": {}, "tolerations": [] }));
    assert!(empty.get("nodeSelector").is_none() && empty.get("tolerations").is_none());
}

#[test]
fn bad_node_selectors_and_tolerations_are_rejected() {
    for (extra, fragment) in [
        (
            json!({ "nodeSelector": { "bad key!": "x" } }),
            "Invalid nodeSelector key",
        ),
        (
            json!({ "nodeSelector": { "/x": "x" } }),
            "Invalid nodeSelector key",
        ),
        (
            json!({ "nodeSelector": { "a": "-x" } }),
            "Invalid nodeSelector value",
        ),
        (
            json!({ "nodeSelector": { "a": "x".repeat(64) } }),
            "Invalid nodeSelector value",
        ),
        (
            json!({ "tolerations": [{ "key": "k", "operator": "Exists", "value": "v" }] }),
            "must be empty when operator is Exists",
        ),
        (
            json!({ "tolerations": [{ "value": "v" }] }),
            "must be Exists when key is empty",
        ),
        (
            json!({ "tolerations": [{ "key": "k", "tolerationSeconds": 5 }] }),
            "needs effect NoExecute",
        ),
        (
            json!({ "tolerations": [{ "key": "k k" }] }),
            "Invalid tolerations[0].key",
        ),
    ] {
        let message = rejected(extra.clone());
        assert!(message.contains(fragment), "{extra}: {message}");
    }
    for unknown in [
        json!({ "tolerations": [{ "key": "k", "operator": "In" }] }),
        json!({ "tolerations": [{ "key": "k", "effect": "Sometimes" }] }),
        json!({ "tolerations": [{ "key": "k", "extra": 1 }] }),
    ] {
        let mut body = json!({ "name": "llama", "modelId": "meta/llama" });
        body.as_object_mut()
            .expect("object")
            .extend(unknown.as_object().cloned().unwrap_or_default());
        assert!(
            serde_json::from_value::<CreateDeploymentRequest>(body).is_err(),
            "{unknown}"
        );
    }
}
