//! Tests on files the real CLI wrote (aiconfigurator 0.12.0, `testdata/`), captured with
//! `aiconfigurator cli default --model-path <model> --total-gpus <n> --system <system>
//! --backend vllm --save-dir <dir> --no-color`.

use std::path::Path;

use serde_json::json;

use super::*;

const AGG_06B: &str = include_str!("testdata/qwen3-0.6b_h100_sxm_2gpu_agg.csv");
const DISAGG_06B: &str = include_str!("testdata/qwen3-0.6b_h100_sxm_2gpu_disagg.csv");
const AGG_32B: &str = include_str!("testdata/qwen3-32b_h200_sxm_8gpu_agg.csv");
const DISAGG_32B: &str = include_str!("testdata/qwen3-32b_h200_sxm_8gpu_disagg.csv");

#[test]
fn aggregated_rows_of_the_real_format() {
    let rows = parse_agg(AGG_32B).expect("agg csv");
    assert_eq!(rows.len(), 4);
    let best = &rows[0];
    assert_eq!(
        best.parallel,
        output::Parallel {
            tp: 4,
            pp: 1,
            dp: 1
        }
    );
    assert_eq!(best.batch_size, 96);
    assert_eq!(best.common.concurrency, 96);
    assert_eq!((best.common.isl, best.common.osl), (4000, 1000));
    assert_eq!(best.common.gpus_per_replica, 4);
    assert!((best.common.ttft_ms - 344.226).abs() < 1e-9);
    assert!((best.common.rank_tokens_per_sec_per_gpu - 890.761).abs() < 1e-9);
    // Ranked best first, as the CLI writes them.
    assert!(rows.windows(2).all(
        |w| w[0].common.rank_tokens_per_sec_per_gpu >= w[1].common.rank_tokens_per_sec_per_gpu
    ));
}

#[test]
fn an_aggregated_row_becomes_replicas_of_its_worker() {
    // 8 GPUs, 4 per replica (TP 4): two replicas, as the CLI's own table and k8s_deploy.yaml say.
    let rows = parse_agg(AGG_32B).expect("agg csv");
    let rec = rows[0].recommend(8);
    assert_eq!(rec.mode, Mode::Aggregated);
    assert_eq!(rec.replicas, 2);
    assert_eq!(rec.config.tensor_parallel_degree, 4);
    assert_eq!(rec.config.pipeline_parallel_degree, Some(1));
    assert_eq!(rec.config.gpus_per_replica, Some(4));
    assert_eq!(rec.config.max_batch_size, 96);
    assert_eq!(rec.config.max_num_seqs, Some(96));
    assert_eq!(rec.config.max_model_len, 5000);
    assert_eq!(rec.config.prefill_replicas, None);
    assert_eq!(rec.performance.total_gpus, 8);
    assert_eq!(rec.performance.concurrency, 192);
    assert!((rec.performance.throughput_tokens_per_sec - 7126.09).abs() < 1e-6);
    // The 0.6B model on 2 GPUs: TP 1, two replicas (the CLI prints "2 (2=2x1)").
    let small = parse_agg(AGG_06B).expect("agg csv")[0].recommend(2);
    assert_eq!(
        (small.config.tensor_parallel_degree, small.replicas),
        (1, 2)
    );
}

#[test]
fn disaggregated_rows_split_prefill_and_decode() {
    let rows = parse_disagg(DISAGG_32B).expect("disagg csv");
    assert_eq!(rows.len(), 3);
    // Rank 2: 2 replicas of (2 prefill workers at TP 1 + 1 decode worker at TP 2) on 8 GPUs.
    let second = &rows[1];
    assert_eq!(second.prefill_workers, 2);
    assert_eq!(second.prefill.tp, 1);
    assert_eq!(second.decode_workers, 1);
    assert_eq!(second.decode.tp, 2);
    assert_eq!(second.decode_batch_size, 108);
    assert_eq!(second.common.gpus_per_replica, 4);
    let rec = second.recommend(8);
    assert_eq!(rec.mode, Mode::Disaggregated);
    assert_eq!(rec.replicas, 2);
    assert_eq!(rec.config.prefill_tensor_parallel, Some(1));
    assert_eq!(rec.config.decode_tensor_parallel, Some(2));
    assert_eq!(rec.config.prefill_replicas, Some(4));
    assert_eq!(rec.config.decode_replicas, Some(2));
    assert_eq!(rec.config.prefill_gpus_per_worker, Some(1));
    assert_eq!(rec.config.decode_gpus_per_worker, Some(2));
    assert_eq!(rec.config.tensor_parallel_degree, 2);
    assert_eq!(rec.performance.total_gpus, 8);
    // Rank 1: 4 prefill workers (TP 1) and 1 decode worker (TP 4), one replica.
    let best = rows[0].recommend(8);
    assert_eq!(
        (
            best.replicas,
            best.config.prefill_replicas,
            best.config.decode_replicas
        ),
        (1, Some(4), Some(1))
    );
    assert_eq!(best.config.decode_gpus_per_worker, Some(4));
}

#[test]
fn throughput_picks_disaggregated_only_when_strictly_better() {
    let agg = parse_agg(AGG_32B).expect("agg");
    let disagg = parse_disagg(DISAGG_32B).expect("disagg");
    // 901.945 (disagg) > 890.761 (agg) tokens/s/GPU.
    let rec = choose(&agg, &disagg, OptimizeFor::Throughput, 8).expect("a recommendation");
    assert_eq!(rec.mode, Mode::Disaggregated);
    // For the 0.6B model aggregated wins (5285.702 > 2443.06).
    let agg = parse_agg(AGG_06B).expect("agg");
    let disagg = parse_disagg(DISAGG_06B).expect("disagg");
    let rec = choose(&agg, &disagg, OptimizeFor::Throughput, 2).expect("a recommendation");
    assert_eq!(rec.mode, Mode::Aggregated);
    // Only one mode present (a one-GPU search is aggregated only).
    assert_eq!(
        choose(&agg, &[], OptimizeFor::Throughput, 1).map(|r| r.mode),
        Some(Mode::Aggregated)
    );
    assert_eq!(
        choose(&[], &disagg, OptimizeFor::Throughput, 2).map(|r| r.mode),
        Some(Mode::Disaggregated)
    );
    assert_eq!(choose(&[], &[], OptimizeFor::Throughput, 2), None);
}

#[test]
fn latency_picks_the_lowest_time_to_first_token_of_any_row() {
    let agg = parse_agg(AGG_32B).expect("agg");
    let disagg = parse_disagg(DISAGG_32B).expect("disagg");
    // Agg rank 1 has TTFT 344.226 ms, below every disagg row (778.117 ms).
    let rec = choose(&agg, &disagg, OptimizeFor::Latency, 8).expect("a recommendation");
    assert_eq!(rec.mode, Mode::Aggregated);
    assert!((rec.performance.ttft_ms - 344.226).abs() < 1e-9);
    // For the 0.6B model the disaggregated row's 24.44 ms beats 117.47 ms.
    let agg = parse_agg(AGG_06B).expect("agg");
    let disagg = parse_disagg(DISAGG_06B).expect("disagg");
    let rec = choose(&agg, &disagg, OptimizeFor::Latency, 2).expect("a recommendation");
    assert_eq!(rec.mode, Mode::Disaggregated);
    assert_eq!(
        (rec.config.prefill_replicas, rec.config.decode_replicas),
        (Some(1), Some(1))
    );
}

#[test]
fn broken_csv_is_an_error_naming_the_column() {
    let missing = AGG_06B.replacen("num_total_gpus", "gpus", 1);
    let err = parse_agg(&missing).expect_err("missing column");
    assert!(err.to_string().contains("num_total_gpus"), "{err}");
    let bad = AGG_06B.replacen(",112,5.291,", ",lots,5.291,", 1);
    let err = parse_agg(&bad).expect_err("bad number");
    assert!(err.to_string().contains("concurrency"), "{err}");
    // A row with a different number of cells.
    let ragged = format!("{AGG_06B}Qwen/Qwen3-0.6B,4000\n");
    assert!(parse_agg(&ragged).is_err());
    // Disaggregated columns are required in a disagg file.
    assert!(parse_disagg(AGG_06B).is_err());
    // Only the header: no rows, not an error.
    let header = AGG_06B.lines().next().unwrap_or_default();
    assert_eq!(parse_agg(header).expect("header only"), Vec::new());
}

#[test]
fn console_style_concurrency_is_accepted() {
    let console = AGG_06B.replacen(",112,5.291,", ",\"224 (=112x2)\",5.291,", 1);
    let rows = parse_agg(&console).expect("quoted concurrency");
    assert_eq!(rows[0].common.concurrency, 224);
}

#[test]
fn gpu_labels_map_to_systems() {
    let cases = [
        ("NVIDIA-H100-80GB-HBM3", "h100_sxm"),
        ("NVIDIA-H100-SXM5-80GB", "h100_sxm"),
        ("H100", "h100_sxm"),
        ("nvidia h200", "h200_sxm"),
        ("NVIDIA-H200-141GB-HBM3e", "h200_sxm"),
        ("A100-80GB", "a100_sxm"),
        ("NVIDIA-A100-SXM4-40GB", "a100_sxm"),
        ("NVIDIA-B200", "b200_sxm"),
        ("NVIDIA-GB200", "gb200"),
        ("NVIDIA-GB300", "gb300"),
        ("NVIDIA-B300-SXM6-AC", "b300_sxm"),
        ("NVIDIA-L40S", "l40s"),
        (
            "NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition",
            "rtx_pro_6000_server",
        ),
        ("h200_sxm", "h200_sxm"),
    ];
    for (label, system) in cases {
        assert_eq!(system_for_gpu(label).map(|s| s.name), Ok(system), "{label}");
    }
    // No silent H100 for GPUs without data (reference defect §19.7).
    for label in [
        "NVIDIA-L4",
        "NVIDIA-A10",
        "Tesla-T4",
        "NVIDIA-L40",
        "NVIDIA-H100-PCIe",
        "NVIDIA-H100-NVL",
        "NVIDIA-A100-PCIE-40GB",
        "AMD-MI300X",
        "",
    ] {
        let err = system_for_gpu(label).expect_err(label);
        assert_eq!(err.gpu, label);
    }
}

#[test]
fn product_labels_normalise_like_the_reference_without_its_substring_traps() {
    let cases = [
        ("NVIDIA-A100-SXM4-80GB", "A100-80GB"),
        ("nvidia-a100-pcie-40gb", "A100-40GB"),
        ("NVIDIA-H100-80GB", "H100-80GB"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA-L40S-48GB", "L40S"),
        ("NVIDIA-L4", "L4"),
        ("Tesla-T4", "T4"),
        ("NVIDIA-V100-32GB", "V100-32GB"),
        ("NVIDIA-H100-80GB-HBM3", "H100-80GB"),
        ("NVIDIA-GB200", "GB200"),
        ("NVIDIA_B200", "B200"),
        ("nvidia h200 nvl", "H200-NVL"),
    ];
    for (label, want) in cases {
        assert_eq!(normalize_product(label), want, "{label}");
    }
}

#[test]
fn requests_are_validated_field_by_field() {
    let ok = Request::from_json(&json!({
        "modelId": "Qwen/Qwen3-0.6B", "gpuType": "H100", "gpuCount": 2
    }))
    .expect("valid");
    assert_eq!(ok.optimize_for, OptimizeFor::Throughput);
    assert_eq!(ok.max_latency_ms, None);
    let errors = Request::from_json(&json!({
        "modelId": "--help", "gpuType": 3, "gpuCount": 0, "optimizeFor": "speed",
        "maxLatencyMs": -1, "backend": "ollama"
    }))
    .expect_err("invalid");
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "modelId",
            "gpuType",
            "gpuCount",
            "optimizeFor",
            "maxLatencyMs",
            "backend"
        ]
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with("modelId: invalid model ID format")
    );
    let missing = Request::from_json(&json!({})).expect_err("missing");
    assert_eq!(
        missing.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "modelId: required",
            "gpuType: required",
            "gpuCount: required"
        ]
    );
    assert!(Request::from_json(&json!([1])).is_err());
    assert!(
        Request::from_json(&json!({"modelId": "a", "gpuType": "H100", "gpuCount": 1.5})).is_err()
    );
}

#[test]
fn model_ids_cannot_become_options_or_paths() {
    for ok in [
        "Qwen/Qwen3-0.6B",
        "gpt2",
        "meta-llama/Meta-Llama-3.1-8B",
        "a_b/c.d-e",
    ] {
        assert!(valid_model_id(ok), "{ok}");
    }
    for bad in [
        "",
        "-x",
        "--model",
        "Qwen/..",
        "../etc",
        "/abs",
        "a/b/c",
        "a/.hidden",
        "a b",
        "a;b",
        "Qwen/Qwen3$(id)",
        "org.name/x",
        "a/",
    ] {
        assert!(!valid_model_id(bad), "{bad}");
    }
    assert!(!valid_model_id(&"a".repeat(201)));
}

#[test]
fn a_plan_is_an_explicit_argument_list() {
    let req = Request::from_json(&json!({
        "modelId": "Qwen/Qwen3-32B", "gpuType": "NVIDIA-H200", "gpuCount": 8, "maxLatencyMs": 1500
    }))
    .expect("valid");
    let plan = req.plan().expect("supported");
    assert_eq!(plan.system.name, "h200_sxm");
    assert_eq!(plan.backend, Backend::Vllm);
    let args: Vec<String> = plan
        .args(Path::new("/tmp/x"))
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        args,
        [
            "cli",
            "default",
            "--model-path",
            "Qwen/Qwen3-32B",
            "--total-gpus",
            "8",
            "--system",
            "h200_sxm",
            "--backend",
            "vllm",
            "--no-color",
            "--save-dir",
            "/tmp/x",
            "--ttft",
            "1500"
        ]
    );
    // One GPU: aggregated only. A preferred backend is honoured.
    let one = Request::from_json(&json!({
        "modelId": "Qwen/Qwen3-0.6B", "gpuType": "H100", "gpuCount": 1, "backend": "sglang"
    }))
    .expect("valid")
    .plan()
    .expect("supported");
    assert_eq!(one.backend, Backend::Sglang);
    let args = one.args(Path::new("d"));
    assert_eq!(
        args[args.len() - 2..],
        [std::ffi::OsString::from("--serving-mode"), "agg".into()]
    );
    // Unsupported GPU.
    let l4 = Request::from_json(&json!({"modelId": "x", "gpuType": "NVIDIA-L4", "gpuCount": 1}))
        .expect("valid");
    assert!(l4.plan().is_err());
}

#[test]
fn results_and_defaults_on_the_wire() {
    let agg = parse_agg(AGG_06B).expect("agg");
    let rec = choose(&agg, &[], OptimizeFor::Throughput, 2).expect("rec");
    let result = AnalyzeResult::recommended(rec, Backend::Vllm, &Backend::ALL, "h100_sxm");
    let v = serde_json::to_value(&result).expect("json");
    assert_eq!(v["success"], true);
    assert_eq!(v["source"], "aiconfigurator");
    assert_eq!(v["mode"], "aggregated");
    assert_eq!(v["replicas"], 2);
    assert_eq!(v["config"]["tensorParallelDegree"], 1);
    assert_eq!(v["config"]["maxModelLen"], 5000);
    assert_eq!(v["backend"], "vllm");
    assert_eq!(v["supportedBackends"], json!(["vllm", "sglang", "trtllm"]));
    assert!(v.get("warnings").is_none());
    assert!(v["estimatedPerformance"]["throughputTokensPerSec"].as_f64() > Some(10_000.0));

    let d = AnalyzeResult::defaults(
        16,
        "AI Configurator CLI not found",
        "AI Configurator not available, using default configuration",
    );
    let v = serde_json::to_value(&d).expect("json");
    assert_eq!(v["success"], false);
    assert_eq!(v["source"], "defaults");
    assert_eq!(v["config"]["tensorParallelDegree"], 8);
    assert_eq!(v["config"]["maxBatchSize"], 256);
    assert_eq!(v["config"]["maxModelLen"], 4096);
    assert_eq!(v["mode"], "aggregated");
    assert_eq!(v["replicas"], 1);
    assert_eq!(v["error"], "AI Configurator CLI not found");
    assert!(v.get("estimatedPerformance").is_none());
}

#[test]
fn versions_and_failures_in_the_cli_words() {
    assert_eq!(parse_version("aiconfigurator 0.12.0\n"), "0.12.0");
    assert_eq!(parse_version("  1.2.3 \n"), "1.2.3");
    assert_eq!(parse_version(""), "unknown");
    // Real output of an unsupported system (stdout carries the log).
    let stdout = "17:09:46 [aiconfigurator] [I] [main.py:3154] Loading AIConfigurator version: 0.12.0\n\
        17:09:48 [aiconfigurator] [E] [main.py:1521] Backend vllm is not supported for system l4. Supported backends: \n";
    let stderr = "/v/bin/aiconfigurator:8: DeprecationWarning: `aiconfigurator cli default` is deprecated\n  sys.exit(main())\n";
    assert_eq!(
        describe_failure(stdout, stderr),
        "Backend vllm is not supported for system l4. Supported backends:"
    );
    // Real argument error of an unknown model without network.
    let stderr = "usage: aiconfigurator default [-h]\n\
        aiconfigurator default: error: argument --model-path/--model: 'nosuchorg/nosuchmodel' is not a valid HuggingFace model path or local path with config.json.\n";
    assert!(
        describe_failure("", stderr)
            .starts_with("argument --model-path/--model: 'nosuchorg/nosuchmodel' is not a valid")
    );
    let trace = "Traceback (most recent call last):\n  File \"x\", line 1\nValueError: No successful experiment runs to compare\n";
    assert_eq!(
        describe_failure("", trace),
        "ValueError: No successful experiment runs to compare"
    );
    assert_eq!(describe_failure("", "boom\n"), "boom");
    assert_eq!(
        describe_failure("", ""),
        "AI Configurator failed without a message"
    );
    assert!(describe_failure("", &"x".repeat(2000)).chars().count() <= 501);
}
