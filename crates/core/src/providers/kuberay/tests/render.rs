use super::*;

#[test]
fn aggregated_shape() {
    let rs = desired_one(&KubeRay, &aggregated(json!({})), EngineType::Vllm);
    let labels = json!({
        "app.kubernetes.io/managed-by": "kubeairunway",
        "kubeairunway.ai/managed-by": "kubeairunway",
        "kubeairunway.ai/deployment": "llama",
        "kubeairunway.ai/model-source": "huggingface",
        "kubeairunway.ai/engine-type": "vllm",
    });
    assert_eq!(
        rs,
        json!({
            "apiVersion": "ray.io/v1",
            "kind": "RayService",
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
                "serveConfigV2": "applications:\n- name: llm\n  route_prefix: /\n  import_path: vllm_serve:deployment\n  deployments:\n  - name: VLLMDeployment\n    num_replicas: 1\n",
                "rayClusterConfig": {
                    "headGroupSpec": {
                        "rayStartParams": { "dashboard-host": "0.0.0.0" },
                        "template": {
                            "metadata": { "labels": labels },
                            "spec": { "containers": [{
                                "name": "ray-head",
                                "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                                "resources": { "limits": { "cpu": "4", "memory": "16Gi" } },
                                "env": [
                                    { "name": "MODEL_ID", "value": "meta-llama/Llama-3.1-8B-Instruct" },
                                    { "name": "VLLM_ENGINE_ARGS", "value": "--model meta-llama/Llama-3.1-8B-Instruct" },
                                ],
                            }] },
                        },
                    },
                    "workerGroupSpecs": [{
                        "groupName": "gpu-workers",
                        "replicas": 1,
                        "minReplicas": 1,
                        "maxReplicas": 1,
                        "rayStartParams": {},
                        "template": {
                            "metadata": { "labels": labels },
                            "spec": { "containers": [{
                                "name": "ray-worker",
                                "image": "rayproject/ray-ml:2.44.0-py311-gpu",
                                "resources": { "limits": { "memory": "32Gi", "nvidia.com/gpu": "2" } },
                            }] },
                        },
                    }],
                },
            },
        })
    );
}

#[test]
fn serve_config_is_valid_yaml_with_the_replica_count() {
    let rs = desired_one(
        &KubeRay,
        &aggregated(json!({ "scaling": { "replicas": 3 } })),
        EngineType::Vllm,
    );
    let config: Value =
        serde_saphyr::from_str(rs["spec"]["serveConfigV2"].as_str().expect("string"))
            .expect("yaml");
    assert_eq!(
        config,
        json!({ "applications": [{
            "name": "llm",
            "route_prefix": "/",
            "import_path": "vllm_serve:deployment",
            "deployments": [{ "name": "VLLMDeployment", "num_replicas": 3 }],
        }] })
    );
}

#[test]
fn replicas_pass_zero_through() {
    for replicas in [0, 1, 4] {
        let rs = desired_one(
            &KubeRay,
            &aggregated(json!({ "scaling": { "replicas": replicas } })),
            EngineType::Vllm,
        );
        let group = &workers(&rs)[0];
        for field in ["replicas", "minReplicas", "maxReplicas"] {
            assert_eq!(group[field], json!(replicas), "{field} for {replicas}");
        }
        let serve = rs["spec"]["serveConfigV2"].as_str().expect("string");
        assert!(
            serve.ends_with(&format!("num_replicas: {replicas}\n")),
            "{serve}"
        );
    }
}

#[test]
fn engine_args_order_and_sorting() {
    let md = aggregated(json!({
        "model": { "servedName": "llama" },
        "engine": { "contextLength": 8192, "trustRemoteCode": true, "args": { "tensor-parallel-size": "2", "enforce-eager": "" } },
    }));
    let rs = desired_one(&KubeRay, &md, EngineType::Vllm);
    assert_eq!(
        env_value(head_container(&rs), "VLLM_ENGINE_ARGS").as_deref(),
        Some(
            "--model meta-llama/Llama-3.1-8B-Instruct --max-model-len 8192 --served-model-name llama --trust-remote-code --enforce-eager --tensor-parallel-size 2"
        )
    );
    let plain = desired_one(&KubeRay, &aggregated(json!({})), EngineType::Vllm);
    assert_eq!(
        env_value(head_container(&plain), "VLLM_ENGINE_ARGS").as_deref(),
        Some("--model meta-llama/Llama-3.1-8B-Instruct")
    );
}

#[test]
fn invalid_engine_args_are_rejected() {
    let cases = [
        (
            json!({ "engine": { "args": { "--tp": "2" } } }),
            "invalid engine argument key",
        ),
        (
            json!({ "engine": { "args": { "a b": "2" } } }),
            "invalid engine argument key",
        ),
        (
            json!({ "engine": { "args": { "x": "1 --evil" } } }),
            "whitespace",
        ),
        (
            json!({ "model": { "servedName": "my model" } }),
            "whitespace",
        ),
    ];
    for (extra, fragment) in cases {
        let err = KubeRay
            .desired(&aggregated(extra.clone()), EngineType::Vllm)
            .expect_err("invalid");
        assert!(err.0.contains(fragment), "{extra}: {err}");
    }
    let err = KubeRay
        .desired(&aggregated(json!({})), EngineType::Sglang)
        .expect_err("engine");
    assert!(err.0.contains("sglang"), "{err}");
}

#[test]
fn env_and_hf_token_on_head_and_workers() {
    let md = aggregated(json!({
        "env": [{ "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" }],
        "secrets": { "huggingFaceToken": "hf-token-secret" },
    }));
    let rs = desired_one(&KubeRay, &md, EngineType::Vllm);
    let user_env = json!([
        { "name": "VLLM_LOGGING_LEVEL", "value": "DEBUG" },
        { "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf-token-secret", "key": "HF_TOKEN" } } },
    ]);
    let head_env = head_container(&rs)["env"].as_array().expect("env");
    assert_eq!(head_env[0]["name"], json!("MODEL_ID"));
    assert_eq!(head_env[1]["name"], json!("VLLM_ENGINE_ARGS"));
    assert_eq!(Value::Array(head_env[2..].to_vec()), user_env);
    assert_eq!(
        workers(&rs)[0]["template"]["spec"]["containers"][0]["env"],
        user_env
    );

    let disagg = desired_one(
        &KubeRay,
        &disaggregated(json!({ "secrets": { "huggingFaceToken": "hf" } })),
        EngineType::Vllm,
    );
    for group in workers(&disagg) {
        assert_eq!(
            group["template"]["spec"]["containers"][0]["env"],
            json!([{ "name": "HF_TOKEN", "valueFrom": { "secretKeyRef": { "name": "hf", "key": "HF_TOKEN" } } }])
        );
    }
}

#[test]
fn scheduling_on_every_group() {
    let md = disaggregated(json!({
        "nodeSelector": { "pool": "gpu" },
        "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
    }));
    let rs = desired_one(&KubeRay, &md, EngineType::Vllm);
    let mut specs = vec![&head(&rs)["template"]["spec"]];
    specs.extend(workers(&rs).iter().map(|g| &g["template"]["spec"]));
    assert_eq!(specs.len(), 3);
    for spec in specs {
        assert_eq!(spec["nodeSelector"], json!({ "pool": "gpu" }));
        assert_eq!(
            spec["tolerations"],
            json!([{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }])
        );
    }
    let plain = desired_one(&KubeRay, &aggregated(json!({})), EngineType::Vllm);
    assert_eq!(head(&plain)["template"]["spec"].get("nodeSelector"), None);
    assert_eq!(head(&plain)["template"]["spec"].get("tolerations"), None);
}

#[test]
fn images_and_memory() {
    let custom = desired_one(
        &KubeRay,
        &aggregated(json!({
            "image": "registry.example/ray-vllm:1",
            "resources": { "memory": "64Gi", "cpu": "16", "gpu": { "count": 1, "type": "amd.com/gpu" } },
        })),
        EngineType::Vllm,
    );
    assert_eq!(
        head_container(&custom)["image"],
        json!("registry.example/ray-vllm:1")
    );
    assert_eq!(
        head_container(&custom)["resources"],
        json!({ "limits": { "cpu": "4", "memory": "64Gi" } })
    );
    let worker = &workers(&custom)[0]["template"]["spec"]["containers"][0];
    assert_eq!(worker["image"], json!("registry.example/ray-vllm:1"));
    assert_eq!(
        worker["resources"],
        json!({ "limits": { "memory": "64Gi", "cpu": "16", "amd.com/gpu": "1" } })
    );
    let no_gpu = desired_one(
        &KubeRay,
        &aggregated(json!({ "resources": { "gpu": { "count": 0 } } })),
        EngineType::Vllm,
    );
    assert_eq!(
        workers(&no_gpu)[0]["template"]["spec"]["containers"][0]["resources"],
        json!({ "limits": { "memory": "32Gi" } })
    );
}

#[test]
fn disaggregated_shape() {
    let rs = desired_one(&KubeRay, &disaggregated(json!({})), EngineType::Vllm);
    let groups = workers(&rs);
    assert_eq!(groups.len(), 2);
    let cases = [
        (
            "prefill-workers",
            2,
            json!({ "memory": "32Gi", "nvidia.com/gpu": "1" }),
        ),
        (
            "decode-workers",
            3,
            json!({ "memory": "80Gi", "amd.com/gpu": "4" }),
        ),
    ];
    for (group, (name, replicas, limits)) in groups.iter().zip(cases) {
        assert_eq!(group["groupName"], json!(name));
        for field in ["replicas", "minReplicas", "maxReplicas"] {
            assert_eq!(group[field], json!(replicas), "{name} {field}");
        }
        assert_eq!(
            group["template"]["spec"]["containers"][0]["resources"]["limits"],
            limits
        );
    }
    let zero = desired_one(
        &KubeRay,
        &disaggregated(json!({ "scaling": { "decode": { "replicas": 0 } } })),
        EngineType::Vllm,
    );
    assert_eq!(workers(&zero)[1]["replicas"], json!(0));
    let mut only_prefill = disaggregated(json!({}));
    only_prefill.spec.scaling.decode = None;
    let groups = workers(&desired_one(&KubeRay, &only_prefill, EngineType::Vllm)).clone();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["groupName"], json!("prefill-workers"));
}

#[test]
fn pod_template_metadata() {
    let md = aggregated(json!({ "podTemplate": { "metadata": {
        "labels": { "team": "a", "kubeairunway.ai/deployment": "hijack" },
        "annotations": { "note": "n" },
    } } }));
    let rs = desired_one(&KubeRay, &md, EngineType::Vllm);
    assert_eq!(rs["metadata"]["labels"]["team"], json!("a"));
    assert_eq!(
        rs["metadata"]["labels"]["kubeairunway.ai/deployment"],
        json!("llama")
    );
    assert_eq!(rs["metadata"]["annotations"], json!({ "note": "n" }));
    let want =
        json!({ "labels": rs["metadata"]["labels"].clone(), "annotations": { "note": "n" } });
    assert_eq!(head(&rs)["template"]["metadata"], want);
    assert_eq!(workers(&rs)[0]["template"]["metadata"], want);
    assert_eq!(
        desired_one(&KubeRay, &aggregated(json!({})), EngineType::Vllm)["metadata"]
            .get("annotations"),
        None
    );
}

#[test]
fn overrides_are_deep_merged_and_guarded() {
    let md = aggregated(json!({ "provider": { "overrides": {
        "spec": { "rayClusterConfig": { "headGroupSpec": { "rayStartParams": { "num-cpus": "0" } } } },
    } } }));
    let rs = desired_one(&KubeRay, &md, EngineType::Vllm);
    assert_eq!(
        head(&rs)["rayStartParams"],
        json!({ "dashboard-host": "0.0.0.0", "num-cpus": "0" })
    );
    for key in ["apiVersion", "kind", "metadata", "status"] {
        let md = aggregated(json!({ "provider": { "overrides": { key: {} } } }));
        let err = KubeRay.desired(&md, EngineType::Vllm).expect_err(key);
        assert!(err.0.contains(key), "{err}");
    }
}

/// Every field of the rendering for a spec that sets everything the provider reads; the
/// expected objects are in `golden.json`.
#[test]
fn a_full_spec_renders_the_complete_object() {
    let md = disaggregated(json!({
        "model": { "servedName": "m" },
        "engine": { "type": "vllm", "contextLength": 8192, "args": { "tp": "2" } },
        "scaling": {
            "prefill": { "replicas": 1, "memory": "40Gi" },
            "decode": { "replicas": 2, "gpu": { "count": 2 }, "memory": null },
        },
        "env": [{ "name": "A", "value": "1" }],
        "secrets": { "huggingFaceToken": "hf" },
        "podTemplate": { "metadata": { "annotations": { "note": "n" } } },
        "nodeSelector": { "pool": "gpu" },
        "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
    }));
    assert_eq!(
        desired_one(&KubeRay, &md, EngineType::Vllm),
        golden(include_str!("golden.json"))
    );
}
