use super::*;

#[test]
fn vllm_preset_workspace_shape() {
    let ws = desired_one(&Kaito, &vllm(), EngineType::Vllm);
    assert_eq!(
        ws,
        json!({
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": {
                "name": "llama",
                "namespace": "team-a",
                "labels": {
                    "app.kubernetes.io/managed-by": "kubeairunway",
                    "kubeairunway.ai/managed-by": "kubeairunway",
                    "kubeairunway.ai/deployment": "llama",
                    "kubeairunway.ai/model-source": "huggingface",
                    "kubeairunway.ai/engine-type": "vllm",
                },
                "ownerReferences": [{
                    "apiVersion": "kubeairunway.ai/v1alpha1",
                    "kind": "ModelDeployment",
                    "name": "llama",
                    "uid": "uid-1",
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "resource": {
                "count": 1,
                "labelSelector": { "matchLabels": { "kubernetes.io/os": "linux" } },
            },
            "inference": { "preset": { "name": "meta-llama/Llama-3.1-8B-Instruct" } },
        })
    );
}

#[test]
fn vllm_preset_ignores_engine_settings_and_passes_the_hf_secret() {
    let md = md(json!({
        "model": { "id": "a/b" },
        "engine": { "type": "vllm", "contextLength": 4096, "args": { "x": "1" }, "trustRemoteCode": true },
        "image": "ignored:1",
        "env": [{ "name": "A", "value": "1" }],
        "secrets": { "huggingFaceToken": "hf-token-secret" },
    }));
    let ws = desired_one(&Kaito, &md, EngineType::Vllm);
    assert_eq!(
        ws["inference"],
        json!({ "preset": { "name": "a/b", "presetOptions": { "modelAccessSecret": "hf-token-secret" } } })
    );
}

#[test]
fn replicas_mapping() {
    for (replicas, want) in [
        (json!(null), 1),
        (json!(0), 1),
        (json!(1), 1),
        (json!(3), 3),
    ] {
        let mut spec = json!({ "model": { "id": "a/b" } });
        if !replicas.is_null() {
            spec["scaling"] = json!({ "replicas": replicas });
        }
        let ws = desired_one(&Kaito, &md(spec), EngineType::Vllm);
        assert_eq!(ws["resource"]["count"], json!(want), "replicas {replicas}");
    }
}

#[test]
fn node_selector_is_merged_into_match_labels() {
    let md =
        md(json!({ "model": { "id": "a/b" }, "nodeSelector": { "pool": "gpu", "zone": "z1" } }));
    let ws = desired_one(&Kaito, &md, EngineType::Vllm);
    assert_eq!(
        ws["resource"]["labelSelector"]["matchLabels"],
        json!({ "kubernetes.io/os": "linux", "pool": "gpu", "zone": "z1" })
    );
}

#[test]
fn llamacpp_template_shape() {
    let md = llamacpp(json!({
        "model": { "servedName": "tiny" },
        "resources": { "memory": "8Gi", "cpu": "4" },
        "engine": { "args": { "threads": "8", "embeddings": "" } },
    }));
    let ws = desired_one(&Kaito, &md, EngineType::Llamacpp);
    assert_eq!(
        ws["inference"]["template"]["metadata"],
        json!({ "labels": ws["metadata"]["labels"].clone() })
    );
    assert_eq!(
        ws["inference"]["template"]["spec"],
        json!({ "containers": [{
            "name": "model",
            "image": "ghcr.io/example/llama:1",
            "args": [
                "huggingface://org/model-GGUF",
                "--address=:5000",
                "--served-model-name=tiny",
                "--embeddings",
                "--threads",
                "8",
            ],
            "ports": [{ "containerPort": 5000 }],
            "resources": { "requests": { "memory": "8Gi", "cpu": "4" } },
        }] })
    );
    assert_eq!(
        ws["metadata"]["labels"]["kubeairunway.ai/engine-type"],
        json!("llamacpp")
    );
}

#[test]
fn llamacpp_model_argument_by_source() {
    let cases = [
        (json!({}), Some("huggingface://org/model-GGUF")),
        (
            json!({ "model": { "source": "custom", "id": "/models/tiny.gguf" } }),
            Some("/models/tiny.gguf"),
        ),
        (json!({ "model": { "source": "custom", "id": null } }), None),
    ];
    for (extra, want) in cases {
        let ws = desired_one(&Kaito, &llamacpp(extra.clone()), EngineType::Llamacpp);
        let args = container(&ws)["args"].as_array().expect("args").clone();
        match want {
            Some(model) => assert_eq!(args[0], json!(model), "{extra}"),
            None => assert_eq!(args[0], json!("--address=:5000"), "{extra}"),
        }
        if extra.pointer("/model/source").is_some() {
            let hf = args
                .iter()
                .filter_map(Value::as_str)
                .any(|a| a.starts_with("huggingface://"));
            assert!(
                !hf,
                "custom source must not download from HuggingFace: {args:?}"
            );
        }
    }
}

#[test]
fn llamacpp_resources_only_memory_and_cpu() {
    let gpu_only = llamacpp(json!({ "resources": { "gpu": { "count": 1 } } }));
    assert_eq!(
        container(&desired_one(&Kaito, &gpu_only, EngineType::Llamacpp)).get("resources"),
        None
    );
    let memory_only = llamacpp(json!({ "resources": { "memory": "2Gi" } }));
    assert_eq!(
        container(&desired_one(&Kaito, &memory_only, EngineType::Llamacpp))["resources"],
        json!({ "requests": { "memory": "2Gi" } })
    );
}

#[test]
fn llamacpp_env_and_hf_token() {
    let md = llamacpp(json!({
        "env": [
            { "name": "PLAIN", "value": "v" },
            { "name": "FROM_SECRET", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } },
            { "name": "FROM_CM", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
        ],
        "secrets": { "huggingFaceToken": "hf" },
    }));
    assert_eq!(
        container(&desired_one(&Kaito, &md, EngineType::Llamacpp))["env"],
        json!([
            { "name": "PLAIN", "value": "v" },
            { "name": "FROM_SECRET", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } },
            { "name": "FROM_CM", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
            { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf", "key": "HF_TOKEN" } } },
        ])
    );
    assert_eq!(
        container(&desired_one(
            &Kaito,
            &llamacpp(json!({})),
            EngineType::Llamacpp
        ))
        .get("env"),
        None
    );
}

#[test]
fn llamacpp_tolerations_and_pod_metadata() {
    let md = llamacpp(json!({
        "tolerations": [{ "key": "gpu", "operator": "Exists", "effect": "NoSchedule" }],
        "podTemplate": { "metadata": { "labels": { "team": "a" }, "annotations": { "note": "x" } } },
    }));
    let ws = desired_one(&Kaito, &md, EngineType::Llamacpp);
    let template = &ws["inference"]["template"];
    assert_eq!(
        template["spec"]["tolerations"],
        json!([{ "key": "gpu", "operator": "Exists", "effect": "NoSchedule" }])
    );
    assert_eq!(
        template["metadata"],
        json!({
            "labels": {
                "team": "a",
                "app.kubernetes.io/managed-by": "kubeairunway",
                "kubeairunway.ai/managed-by": "kubeairunway",
                "kubeairunway.ai/deployment": "llama",
                "kubeairunway.ai/model-source": "huggingface",
                "kubeairunway.ai/engine-type": "llamacpp",
            },
            "annotations": { "note": "x" },
        })
    );
}

#[test]
fn invalid_engine_arg_keys_are_rejected() {
    for key in ["--x", "a b", "x;y", ""] {
        let md = llamacpp(json!({ "engine": { "args": { key: "1" } } }));
        let err = Kaito.desired(&md, EngineType::Llamacpp).expect_err(key);
        assert!(
            err.0.contains("invalid engine argument key"),
            "{key}: {err}"
        );
    }
}

#[test]
fn unsupported_engines_and_missing_image_fail_the_transform() {
    for engine in [EngineType::Sglang, EngineType::Trtllm] {
        let err = Kaito.desired(&vllm(), engine).expect_err("unsupported");
        assert!(err.0.contains(engine.as_str()), "{err}");
    }
    let no_image = md(json!({ "model": { "id": "a/b" }, "engine": { "type": "llamacpp" } }));
    assert!(Kaito.desired(&no_image, EngineType::Llamacpp).is_err());
}

#[test]
fn pod_template_metadata_on_the_workspace() {
    let md = md(json!({
        "model": { "id": "a/b" },
        "podTemplate": { "metadata": {
            "labels": { "team": "a", "kubeairunway.ai/deployment": "hijack" },
            "annotations": { "owner": "me" },
        } },
    }));
    let ws = desired_one(&Kaito, &md, EngineType::Vllm);
    assert_eq!(ws["metadata"]["labels"]["team"], json!("a"));
    assert_eq!(
        ws["metadata"]["labels"]["kubeairunway.ai/deployment"],
        json!("llama")
    );
    assert_eq!(ws["metadata"]["annotations"], json!({ "owner": "me" }));
    assert_eq!(
        desired_one(&Kaito, &vllm(), EngineType::Vllm)["metadata"].get("annotations"),
        None
    );
}

#[test]
fn overrides_are_deep_merged_and_guarded() {
    let md_with = |overrides: Value| {
        md(json!({ "model": { "id": "a/b" }, "provider": { "overrides": overrides } }))
    };
    let ws = desired_one(
        &Kaito,
        &md_with(json!({ "inference": { "preset": { "accessMode": "private" } }, "extra": 1 })),
        EngineType::Vllm,
    );
    assert_eq!(
        ws["inference"]["preset"],
        json!({ "name": "a/b", "accessMode": "private" })
    );
    assert_eq!(ws["extra"], json!(1));
    for key in ["apiVersion", "kind", "metadata", "status"] {
        let err = Kaito
            .desired(&md_with(json!({ key: {} })), EngineType::Vllm)
            .expect_err(key);
        assert!(err.0.contains(key), "{err}");
    }
    assert!(
        Kaito
            .desired(&md_with(json!([1])), EngineType::Vllm)
            .is_err()
    );
}

#[test]
fn missing_namespace_is_a_transform_error() {
    let mut md = vllm();
    md.metadata.namespace = None;
    assert!(Kaito.desired(&md, EngineType::Vllm).is_err());
}

/// Every field of the rendering for a spec that sets everything the provider reads; the
/// expected objects are in `golden.json`.
#[test]
fn a_full_spec_renders_the_complete_object() {
    let md = llamacpp(json!({
        "model": { "servedName": "tiny" },
        "engine": { "args": { "threads": "8" } },
        "resources": { "memory": "8Gi", "cpu": "4" },
        "env": [{ "name": "A", "value": "1" }],
        "secrets": { "huggingFaceToken": "hf" },
        "podTemplate": { "metadata": { "labels": { "team": "a" }, "annotations": { "note": "n" } } },
        "nodeSelector": { "pool": "cpu" },
        "tolerations": [{ "key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule" }],
        "scaling": { "replicas": 2 },
    }));
    assert_eq!(
        desired_one(&Kaito, &md, EngineType::Llamacpp),
        golden(include_str!("golden.json"))
    );
}

#[test]
fn an_inference_set_carries_the_workspace_inference_in_its_template() {
    let md = md(json!({
        "model": { "id": "a/b" },
        "engine": { "type": "vllm" },
        "scaling": { "replicas": 3 },
        "nodeSelector": { "pool": "gpu" },
        "provider": { "name": "kaito", "overrides": { "resourceType": "inferenceset", "spec": { "nodeCountLimit": 4 } } },
    }));
    let set = desired_one(&Kaito, &md, EngineType::Vllm);
    assert_eq!(set["apiVersion"], "kaito.sh/v1alpha1");
    assert_eq!(set["kind"], "InferenceSet");
    assert_eq!(set["metadata"]["name"], "llama");
    assert_eq!(set["spec"]["replicas"], 3);
    assert_eq!(
        set["spec"]["labelSelector"],
        json!({ "matchLabels": { "kubernetes.io/os": "linux", "pool": "gpu" } })
    );
    assert_eq!(
        set["spec"]["template"]["inference"],
        json!({ "preset": { "name": "a/b" } })
    );
    // The kind choice is not merged into the object; the rest of the overrides is.
    assert_eq!(set["spec"]["nodeCountLimit"], 4);
    assert!(set.get("resourceType").is_none(), "{set}");
    assert!(set.get("resource").is_none() && set.get("inference").is_none());

    let template = llamacpp(
        json!({ "provider": { "name": "kaito", "overrides": { "resourceType": "inferenceset" } } }),
    );
    let set = desired_one(&Kaito, &template, EngineType::Llamacpp);
    assert_eq!(
        set["spec"]["template"]["inference"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example/llama:1"
    );
    assert_eq!(set["spec"]["replicas"], 1, "at least one workspace");
}

#[test]
fn the_kind_follows_the_resource_type_and_both_kinds_are_cleaned_up() {
    let plain = vllm();
    assert_eq!(
        Kaito.upstream_for(&plain).map(|u| u.kind),
        Some("Workspace")
    );
    let explicit = md(
        json!({ "model": { "id": "a/b" }, "provider": { "overrides": { "resourceType": "workspace" } } }),
    );
    assert_eq!(
        desired_one(&Kaito, &explicit, EngineType::Vllm)["kind"],
        "Workspace"
    );
    let set = md(
        json!({ "model": { "id": "a/b" }, "provider": { "overrides": { "resourceType": "inferenceset" } } }),
    );
    let up = Kaito.upstream_for(&set).expect("upstream");
    assert_eq!(up.crd_name(), "inferencesets.kaito.sh");
    let kinds: Vec<String> = Kaito.kinds().into_iter().map(|k| k.kind).collect();
    assert_eq!(kinds, ["Workspace", "InferenceSet"]);
    let bad = md(
        json!({ "model": { "id": "a/b" }, "provider": { "overrides": { "resourceType": "pool" } } }),
    );
    let err = Kaito
        .desired(&bad, EngineType::Vllm)
        .expect_err("unknown kind");
    assert!(err.0.contains("workspace or inferenceset"), "{err}");
}
