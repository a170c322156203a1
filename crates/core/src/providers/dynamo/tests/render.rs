use super::*;

#[test]
fn aggregated_vllm_shape() {
    let dgd = desired_one(&Dynamo, &aggregated(json!({})), EngineType::Vllm);
    let labels = json!({
        "app.kubernetes.io/managed-by": "kubeairunway",
        "kubeairunway.ai/managed-by": "kubeairunway",
        "kubeairunway.ai/deployment": "llama",
        "kubeairunway.ai/deployment-namespace": "team-a",
        "kubeairunway.ai/model-id": "meta-llama-Llama-3.1-8B-Instruct",
        "kubeairunway.ai/model-source": "huggingface",
        "kubeairunway.ai/engine-type": "vllm",
    });
    assert_eq!(
        dgd,
        json!({
            "apiVersion": "nvidia.com/v1alpha1",
            "kind": "DynamoGraphDeployment",
            "metadata": {
                "name": "llama",
                "namespace": "team-a",
                "labels": labels,
                "ownerReferences": [{
                    "apiVersion": "kubeairunway.ai/v1alpha1",
                    "kind": "ModelDeployment",
                    "name": "llama",
                    "uid": "uid-1",
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "backendFramework": "vllm",
                "services": {
                    "Frontend": {
                        "componentType": "frontend",
                        "dynamoNamespace": "team-a-llama",
                        "replicas": 1,
                        "router-mode": "round-robin",
                        "resources": { "requests": { "cpu": "2", "memory": "4Gi" } },
                        "extraPodSpec": { "mainContainer": { "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1" } },
                        "extraPodMetadata": { "labels": labels },
                    },
                    "VllmWorker": {
                        "componentType": "worker",
                        "dynamoNamespace": "team-a-llama",
                        "replicas": 1,
                        "resources": { "limits": { "gpu": "1" }, "requests": { "gpu": "1" } },
                        "extraPodSpec": { "mainContainer": {
                            "image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:0.7.1",
                            "command": ["python3", "-m", "dynamo.vllm"],
                            "args": ["--model", "meta-llama/Llama-3.1-8B-Instruct"],
                        } },
                        "extraPodMetadata": { "labels": labels },
                    },
                },
            },
        })
    );
}

#[test]
fn service_keys_images_and_commands_per_engine() {
    let cases = [
        (
            EngineType::Vllm,
            "VllmWorker",
            "vllm-runtime",
            "dynamo.vllm",
        ),
        (
            EngineType::Sglang,
            "SglangWorker",
            "sglang-runtime",
            "dynamo.sglang",
        ),
        (
            EngineType::Trtllm,
            "TrtllmWorker",
            "trtllm-runtime",
            "dynamo.trtllm",
        ),
    ];
    for (engine, key, image, module) in cases {
        let dgd = desired_one(&Dynamo, &aggregated(json!({})), engine);
        assert_eq!(dgd["spec"]["backendFramework"], json!(engine.as_str()));
        assert_eq!(
            service_keys(&dgd),
            vec!["Frontend".to_string(), key.to_string()]
        );
        let image = format!("nvcr.io/nvidia/ai-dynamo/{image}:0.7.1");
        assert_eq!(main_container(&dgd, key)["image"], json!(image));
        assert_eq!(main_container(&dgd, "Frontend")["image"], json!(image));
        assert_eq!(
            main_container(&dgd, key)["command"],
            json!(["python3", "-m", module])
        );
    }
    let custom = aggregated(json!({ "image": "registry.example/dynamo:dev" }));
    let dgd = desired_one(&Dynamo, &custom, EngineType::Sglang);
    assert_eq!(
        main_container(&dgd, "SglangWorker")["image"],
        json!("registry.example/dynamo:dev")
    );
    assert_eq!(
        main_container(&dgd, "Frontend")["image"],
        json!("registry.example/dynamo:dev")
    );
    assert!(Dynamo.desired(&custom, EngineType::Llamacpp).is_err());
}

#[test]
fn worker_args_order_per_engine() {
    let md = aggregated(json!({
        "model": { "servedName": "llama" },
        "engine": { "contextLength": 8192, "trustRemoteCode": true, "args": { "tp": "2", "enforce-eager": "" } },
    }));
    let tail = ["--enforce-eager", "--tp", "2"];
    let cases: [(EngineType, &str, Vec<&str>); 3] = [
        (
            EngineType::Vllm,
            "VllmWorker",
            vec![
                "--model",
                "meta-llama/Llama-3.1-8B-Instruct",
                "--served-model-name",
                "llama",
                "--max-model-len",
                "8192",
                "--trust-remote-code",
            ],
        ),
        (
            EngineType::Sglang,
            "SglangWorker",
            vec![
                "--model",
                "meta-llama/Llama-3.1-8B-Instruct",
                "--served-model-name",
                "llama",
                "--context-length",
                "8192",
                "--trust-remote-code",
            ],
        ),
        (
            EngineType::Trtllm,
            "TrtllmWorker",
            vec![
                "--model-path",
                "meta-llama/Llama-3.1-8B-Instruct",
                "--served-model-name",
                "llama",
            ],
        ),
    ];
    for (engine, key, mut want) in cases {
        want.extend(tail);
        assert_eq!(
            args_of(&desired_one(&Dynamo, &md, engine), key),
            want,
            "{engine}"
        );
    }
}

#[test]
fn invalid_engine_arg_keys_are_rejected() {
    for key in ["--tp", "a b", "x=y", ""] {
        let md = aggregated(json!({ "engine": { "args": { key: "1" } } }));
        let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(key);
        assert!(
            err.0.contains("invalid engine argument key"),
            "{key}: {err}"
        );
    }
}

#[test]
fn disaggregated_shapes_per_engine() {
    let cases = [
        (
            EngineType::Vllm,
            "Vllm",
            vec!["--is-prefill-worker"],
            Vec::<&str>::new(),
        ),
        (
            EngineType::Sglang,
            "Sglang",
            vec!["--disaggregation-mode", "prefill"],
            vec!["--disaggregation-mode", "decode"],
        ),
        (
            EngineType::Trtllm,
            "Trtllm",
            vec!["--disaggregation-mode", "prefill"],
            vec!["--disaggregation-mode", "decode"],
        ),
    ];
    for (engine, prefix, prefill_flags, decode_flags) in cases {
        let dgd = desired_one(&Dynamo, &disaggregated(json!({})), engine);
        let prefill_key = format!("{prefix}PrefillWorker");
        let decode_key = format!("{prefix}DecodeWorker");
        let mut keys = service_keys(&dgd);
        keys.sort();
        let mut want = vec![
            "Frontend".to_string(),
            prefill_key.clone(),
            decode_key.clone(),
        ];
        want.sort();
        assert_eq!(keys, want, "{engine}");

        let services = &dgd["spec"]["services"];
        assert_eq!(services[&prefill_key]["subComponentType"], json!("prefill"));
        assert_eq!(services[&decode_key]["subComponentType"], json!("decode"));
        assert_eq!(services[&prefill_key]["replicas"], json!(2));
        assert_eq!(services[&decode_key]["replicas"], json!(3));
        assert_eq!(
            services[&prefill_key]["resources"],
            json!({ "limits": { "gpu": "1", "memory": "40Gi" }, "requests": { "gpu": "1" } })
        );
        assert_eq!(
            services[&decode_key]["resources"],
            json!({ "limits": { "gpu": "2" }, "requests": { "gpu": "2" } })
        );
        let model_flag = if engine == EngineType::Trtllm {
            "--model-path"
        } else {
            "--model"
        };
        let mut want_prefill = vec![model_flag, "org/model"];
        want_prefill.extend(&prefill_flags);
        let mut want_decode = vec![model_flag, "org/model"];
        want_decode.extend(&decode_flags);
        assert_eq!(args_of(&dgd, &prefill_key), want_prefill, "{engine}");
        assert_eq!(args_of(&dgd, &decode_key), want_decode, "{engine}");
        assert_eq!(services["Frontend"]["componentType"], json!("frontend"));
    }
}

#[test]
fn disaggregated_without_components_is_a_transform_error() {
    for missing in ["prefill", "decode"] {
        let mut md = disaggregated(json!({}));
        match missing {
            "prefill" => md.spec.scaling.prefill = None,
            _ => md.spec.scaling.decode = None,
        }
        let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(missing);
        assert!(err.0.contains(&format!("spec.scaling.{missing}")), "{err}");
    }
}

#[test]
fn replicas_pass_zero_through() {
    let dgd = desired_one(
        &Dynamo,
        &aggregated(json!({ "scaling": { "replicas": 0 } })),
        EngineType::Vllm,
    );
    assert_eq!(dgd["spec"]["services"]["VllmWorker"]["replicas"], json!(0));
    let dgd = desired_one(
        &Dynamo,
        &aggregated(json!({ "scaling": { "replicas": 4 } })),
        EngineType::Vllm,
    );
    assert_eq!(dgd["spec"]["services"]["VllmWorker"]["replicas"], json!(4));
    let md = disaggregated(
        json!({ "scaling": { "prefill": { "replicas": 0 }, "decode": { "replicas": 0 } } }),
    );
    let dgd = desired_one(&Dynamo, &md, EngineType::Vllm);
    assert_eq!(
        dgd["spec"]["services"]["VllmPrefillWorker"]["replicas"],
        json!(0)
    );
    assert_eq!(
        dgd["spec"]["services"]["VllmDecodeWorker"]["replicas"],
        json!(0)
    );
}

#[test]
fn worker_resources() {
    let cases = [
        (
            json!({ "resources": { "gpu": { "count": 0 } } }),
            json!({ "limits": {}, "requests": {} }),
        ),
        (
            json!({ "resources": { "gpu": { "count": 2 }, "memory": "64Gi", "cpu": "8" } }),
            json!({ "limits": { "gpu": "2", "memory": "64Gi", "cpu": "8" }, "requests": { "gpu": "2" } }),
        ),
        (
            json!({ "resources": { "gpu": { "count": 1, "type": "amd.com/gpu" } } }),
            json!({ "limits": { "gpu": "1", "gpuType": "amd.com/gpu" }, "requests": { "gpu": "1", "gpuType": "amd.com/gpu" } }),
        ),
    ];
    for (extra, want) in cases {
        let dgd = desired_one(&Dynamo, &aggregated(extra.clone()), EngineType::Vllm);
        assert_eq!(
            dgd["spec"]["services"]["VllmWorker"]["resources"], want,
            "{extra}"
        );
    }
    let no_resources = md(json!({ "model": { "id": "a/b" } }));
    let dgd = desired_one(&Dynamo, &no_resources, EngineType::Vllm);
    assert_eq!(
        dgd["spec"]["services"]["VllmWorker"]["resources"],
        json!({ "limits": { "gpu": "1" }, "requests": { "gpu": "1" } })
    );
}

#[test]
fn env_secret_and_scheduling() {
    let md = aggregated(json!({
        "env": [{ "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" }],
        "secrets": { "huggingFaceToken": "hf-token-secret" },
        "nodeSelector": { "pool": "h100" },
        "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
    }));
    let dgd = desired_one(&Dynamo, &md, EngineType::Vllm);
    let services = &dgd["spec"]["services"];
    assert_eq!(
        main_container(&dgd, "VllmWorker")["env"],
        json!([
            { "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" },
            { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf-token-secret", "key": "HF_TOKEN" } } },
        ])
    );
    assert_eq!(main_container(&dgd, "Frontend").get("env"), None);
    for service in ["Frontend", "VllmWorker"] {
        assert_eq!(
            services[service]["envFromSecret"],
            json!("hf-token-secret"),
            "{service}"
        );
        assert_eq!(
            services[service]["extraPodSpec"]["nodeSelector"],
            json!({ "pool": "h100" }),
            "{service}"
        );
        assert_eq!(
            services[service]["extraPodSpec"]["tolerations"],
            json!([{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }]),
            "{service}"
        );
    }
    let plain = desired_one(&Dynamo, &aggregated(json!({})), EngineType::Vllm);
    assert_eq!(
        plain["spec"]["services"]["VllmWorker"].get("envFromSecret"),
        None
    );
    assert_eq!(main_container(&plain, "VllmWorker").get("env"), None);
    assert_eq!(
        plain["spec"]["services"]["VllmWorker"]["extraPodSpec"].get("nodeSelector"),
        None
    );

    let disagg = desired_one(
        &Dynamo,
        &disaggregated(json!({ "env": [{ "name": "A", "value": "1" }] })),
        EngineType::Vllm,
    );
    for service in ["VllmPrefillWorker", "VllmDecodeWorker"] {
        assert_eq!(
            main_container(&disagg, service)["env"],
            json!([{ "name": "A", "value": "1" }])
        );
    }
}

#[test]
fn typed_overrides_are_read_not_merged() {
    let md = aggregated(json!({ "provider": { "overrides": {
        "routerMode": "kv",
        "frontend": { "replicas": 2.0, "resources": { "cpu": 4, "memory": "8Gi" } },
    } } }));
    let dgd = desired_one(&Dynamo, &md, EngineType::Vllm);
    let frontend = &dgd["spec"]["services"]["Frontend"];
    assert_eq!(frontend["router-mode"], json!("kv"));
    assert_eq!(frontend["replicas"], json!(2));
    assert_eq!(
        frontend["resources"],
        json!({ "requests": { "cpu": "4", "memory": "8Gi" } })
    );
    assert_eq!(dgd.get("routerMode"), None);
    assert_eq!(dgd.get("frontend"), None);
}

#[test]
fn other_overrides_are_deep_merged() {
    let md = aggregated(json!({ "provider": { "overrides": {
        "routerMode": "random",
        "spec": { "services": { "VllmWorker": { "replicas": 5, "sharedMemory": { "size": "16Gi" } } } },
        "extra": true,
    } } }));
    let dgd = desired_one(&Dynamo, &md, EngineType::Vllm);
    let worker = &dgd["spec"]["services"]["VllmWorker"];
    assert_eq!(worker["replicas"], json!(5));
    assert_eq!(worker["sharedMemory"], json!({ "size": "16Gi" }));
    assert_eq!(worker["componentType"], json!("worker"));
    assert_eq!(dgd["extra"], json!(true));
    assert_eq!(
        dgd["spec"]["services"]["Frontend"]["router-mode"],
        json!("random")
    );
    assert_eq!(dgd.get("routerMode"), None);
}

#[test]
fn invalid_overrides_are_rejected() {
    let cases = [
        (json!([1]), "must be a JSON object"),
        (json!({ "routerMode": 3 }), "routerMode"),
        (json!({ "routerMode": "" }), "routerMode"),
        (json!({ "frontend": 1 }), "frontend must be an object"),
        (
            json!({ "frontend": { "replicas": -1 } }),
            "frontend.replicas",
        ),
        (
            json!({ "frontend": { "replicas": 1.5 } }),
            "frontend.replicas",
        ),
        (
            json!({ "frontend": { "image": "x" } }),
            "frontend.image is not supported",
        ),
        (
            json!({ "frontend": { "resources": { "gpu": "1" } } }),
            "resources.gpu is not supported",
        ),
        (
            json!({ "frontend": { "resources": { "cpu": true } } }),
            "resources.cpu",
        ),
        (json!({ "metadata": { "name": "x" } }), "metadata"),
        (json!({ "apiVersion": "v2" }), "apiVersion"),
        (json!({ "kind": "X" }), "kind"),
        (json!({ "status": {} }), "status"),
    ];
    for (overrides, fragment) in cases {
        let md = aggregated(json!({ "provider": { "overrides": overrides.clone() } }));
        let err = Dynamo.desired(&md, EngineType::Vllm).expect_err(fragment);
        assert!(err.0.contains(fragment), "{overrides}: {err}");
    }
}

#[test]
fn dynamo_namespace_is_unique_and_label_safe() {
    assert_eq!(dynamo_namespace("team-a", "llama"), "team-a-llama");
    let long_ns = "n".repeat(63);
    let a = dynamo_namespace(&long_ns, &format!("{}-a", "m".repeat(40)));
    let b = dynamo_namespace(&long_ns, &format!("{}-b", "m".repeat(40)));
    assert_ne!(a, b);
    for value in [&a, &b] {
        assert_eq!(value.len(), 63);
        assert_eq!(&common::sanitize_label(value), value);
        assert!(value.starts_with(&"n".repeat(54)));
    }
    // `a-b`/`c` and `a`/`b-c` share the joined name, but live in different namespaces, so
    // their DGDs (named after the ModelDeployment) cannot collide either.
    assert_eq!(dynamo_namespace("a-b", "c"), "a-b-c");
}

#[test]
fn labels_annotations_and_pod_metadata() {
    let md = aggregated(json!({
        "model": { "id": "Org/Model:v1@x" },
        "podTemplate": { "metadata": {
            "labels": { "team": "a", "kubeairunway.ai/deployment-namespace": "other" },
            "annotations": { "note": "n" },
        } },
    }));
    let dgd = desired_one(&Dynamo, &md, EngineType::Vllm);
    let labels = &dgd["metadata"]["labels"];
    assert_eq!(labels["kubeairunway.ai/deployment"], json!("llama"));
    assert_eq!(labels["team"], json!("a"));
    assert_eq!(
        labels["kubeairunway.ai/deployment-namespace"],
        json!("team-a")
    );
    assert_eq!(labels["kubeairunway.ai/model-id"], json!("Org-Model-v1-x"));
    assert_eq!(dgd["metadata"]["annotations"], json!({ "note": "n" }));
    for service in ["Frontend", "VllmWorker"] {
        assert_eq!(
            dgd["spec"]["services"][service]["extraPodMetadata"],
            json!({ "labels": labels.clone(), "annotations": { "note": "n" } }),
            "{service}"
        );
    }
    let plain = desired_one(&Dynamo, &aggregated(json!({})), EngineType::Vllm);
    assert_eq!(plain["metadata"].get("annotations"), None);
    assert_eq!(
        plain["spec"]["services"]["VllmWorker"]["extraPodMetadata"],
        json!({ "labels": plain["metadata"]["labels"].clone() })
    );
}

/// Every field of the rendering for a spec that sets everything the provider reads; the
/// expected objects are in `golden.json`.
#[test]
fn a_full_spec_renders_the_complete_object() {
    let md = disaggregated(json!({
        "model": { "servedName": "m" },
        "engine": { "type": "sglang", "contextLength": 8192, "args": { "tp": "2" } },
        "scaling": {
            "prefill": { "replicas": 1 },
            "decode": { "replicas": 2, "gpu": { "count": 2, "type": "amd.com/gpu" } },
        },
        "env": [{ "name": "A", "value": "1" }],
        "secrets": { "huggingFaceToken": "hf" },
        "podTemplate": { "metadata": { "annotations": { "note": "n" } } },
        "nodeSelector": { "pool": "gpu" },
        "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
        "provider": { "overrides": { "routerMode": "kv", "frontend": { "replicas": 2 } } },
    }));
    assert_eq!(
        desired_one(&Dynamo, &md, EngineType::Sglang),
        golden(include_str!("golden.json"))
    );
}
