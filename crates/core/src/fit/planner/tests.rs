//! The planner against figures worked out by hand from real model configs (weights per dtype,
//! KV cache per token, tensor-parallel sizes).

use super::*;
use serde_json::json;

const GIB_BYTES: u64 = 1024 * 1024 * 1024;

// Usable bytes per GPU = floor(memory × 0.90):
// A100-40GB: 40 GiB = 42_949_672_960 → 38_654_705_664
// H100-80GB: 80 GiB = 85_899_345_920 → 77_309_411_328
// T4:        16 GiB = 17_179_869_184 → 15_461_882_265 (…265.6 floored)
// L4:        24 GiB = 25_769_803_776 → 23_192_823_398 (…398.4 floored)
// H200:     141 GiB = 151_397_597_184 → 136_257_837_465 (…465.6 floored)
fn gpu(name: &str, gb: u64, per_node: u32) -> GpuType {
    GpuType {
        name: name.into(),
        memory_bytes: Some(gb * GIB_BYTES),
        gpus_per_node: per_node,
        nodes: 1,
    }
}
fn a100() -> GpuType {
    gpu("NVIDIA-A100-SXM4-40GB", 40, 4)
}
fn h100() -> GpuType {
    gpu("NVIDIA-H100-80GB-HBM3", 80, 8)
}
fn t4() -> GpuType {
    gpu("Tesla-T4", 16, 4)
}
fn l4() -> GpuType {
    gpu("NVIDIA-L4", 24, 8)
}

/// A real model: its config.json (the fields the planner reads, values as published on the
/// Hub) and the Hub's `safetensors` parameter counts.
struct Model {
    id: &'static str,
    config: Value,
    safetensors: Value,
}

fn qwen3_0_6b() -> Model {
    // huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json; safetensors from
    // huggingface.co/api/models/Qwen/Qwen3-0.6B (tied embeddings stored once).
    Model {
        id: "Qwen/Qwen3-0.6B",
        config: json!({
            "architectures": ["Qwen3ForCausalLM"], "head_dim": 128, "hidden_size": 1024,
            "intermediate_size": 3072, "max_position_embeddings": 40960,
            "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
            "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 151936
        }),
        safetensors: json!({ "parameters": { "BF16": 751_632_384u64 }, "total": 751_632_384u64 }),
    }
}

fn llama_3_1_8b() -> Model {
    // huggingface.co/meta-llama/Llama-3.1-8B-Instruct/blob/main/config.json (no head_dim:
    // 4096 / 32 = 128); safetensors from the Hub API.
    Model {
        id: "meta-llama/Llama-3.1-8B-Instruct",
        config: json!({
            "architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
            "intermediate_size": 14336, "max_position_embeddings": 131072,
            "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
            "torch_dtype": "bfloat16", "vocab_size": 128256
        }),
        safetensors: json!({ "parameters": { "BF16": 8_030_261_248u64 }, "total": 8_030_261_248u64 }),
    }
}

fn mistral_7b_v0_3() -> Model {
    // huggingface.co/mistralai/Mistral-7B-Instruct-v0.3/blob/main/config.json.
    Model {
        id: "mistralai/Mistral-7B-Instruct-v0.3",
        config: json!({
            "architectures": ["MistralForCausalLM"], "hidden_size": 4096,
            "intermediate_size": 14336, "max_position_embeddings": 32768,
            "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
            "sliding_window": null, "torch_dtype": "bfloat16", "vocab_size": 32768
        }),
        safetensors: json!({ "parameters": { "BF16": 7_248_023_552u64 }, "total": 7_248_023_552u64 }),
    }
}

fn mixtral_8x7b() -> Model {
    // huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1/blob/main/config.json: every
    // expert is resident, so all 46.7 B parameters count.
    Model {
        id: "mistralai/Mixtral-8x7B-Instruct-v0.1",
        config: json!({
            "architectures": ["MixtralForCausalLM"], "hidden_size": 4096,
            "intermediate_size": 14336, "max_position_embeddings": 32768,
            "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
            "num_key_value_heads": 8, "num_local_experts": 8, "torch_dtype": "bfloat16",
            "vocab_size": 32000
        }),
        safetensors: json!({ "parameters": { "BF16": 46_702_792_704u64 }, "total": 46_702_792_704u64 }),
    }
}

fn llama_3_3_70b() -> Model {
    // huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json.
    Model {
        id: "meta-llama/Llama-3.3-70B-Instruct",
        config: json!({
            "architectures": ["LlamaForCausalLM"], "hidden_size": 8192,
            "intermediate_size": 28672, "max_position_embeddings": 131072,
            "num_attention_heads": 64, "num_hidden_layers": 80, "num_key_value_heads": 8,
            "torch_dtype": "bfloat16", "vocab_size": 128256
        }),
        safetensors: json!({ "parameters": { "BF16": 70_553_706_496u64 }, "total": 70_553_706_496u64 }),
    }
}

impl Model {
    fn shape(&self) -> ModelShape {
        ModelShape::from_config(&self.config).unwrap()
    }
    fn weights(&self) -> Weights {
        let st: Safetensors = serde_json::from_value(self.safetensors.clone()).unwrap();
        weights_from_safetensors(&st).unwrap()
    }
    fn plan(&self, gpus: &[GpuType], context: Option<u64>, concurrency: Option<u32>) -> ModelPlan {
        let req = PlanRequest {
            context_length: context,
            concurrency,
        };
        plan(self.id, &self.weights(), Some(&self.shape()), gpus, &req)
    }
}

#[test]
fn real_configs_give_shapes_kv_sizes_and_weights() {
    for (model, shape, kv_per_token, weight_bytes) in [
        (
            qwen3_0_6b(),
            (28, 16, 8, 128, 40960),
            // 2 × 28 layers × 8 kv heads × 128 dim × 2 bytes
            114_688,
            // 751_632_384 BF16 × 2
            1_503_264_768,
        ),
        (
            llama_3_1_8b(),
            (32, 32, 8, 128, 131_072),
            // 2 × 32 × 8 × 128 × 2
            131_072,
            // 8_030_261_248 × 2
            16_060_522_496,
        ),
        (
            mistral_7b_v0_3(),
            (32, 32, 8, 128, 32768),
            // 2 × 32 × 8 × 128 × 2
            131_072,
            // 7_248_023_552 × 2
            14_496_047_104,
        ),
        (
            mixtral_8x7b(),
            (32, 32, 8, 128, 32768),
            // 2 × 32 × 8 × 128 × 2
            131_072,
            // 46_702_792_704 × 2
            93_405_585_408,
        ),
        (
            llama_3_3_70b(),
            (80, 64, 8, 128, 131_072),
            // 2 × 80 × 8 × 128 × 2
            327_680,
            // 70_553_706_496 × 2
            141_107_412_992,
        ),
    ] {
        let s = model.shape();
        assert_eq!(
            (
                s.layers,
                s.attention_heads,
                s.kv_heads,
                s.head_dim,
                s.max_context
            ),
            (shape.0, shape.1, shape.2, shape.3, Some(shape.4)),
            "{}",
            model.id
        );
        assert_eq!(s.mla, None);
        assert_eq!(s.kv_bytes_per_token(), kv_per_token, "{}", model.id);
        let w = model.weights();
        assert_eq!(w.bytes, weight_bytes, "{}", model.id);
        assert_eq!(w.dtype, "BF16");
        assert_eq!(w.parameter_count * 2, weight_bytes);
    }
}

/// GPUs needed, fit, max context.
type Expected = (Option<u32>, &'static str, Option<u64>);

/// GPUs needed at the default 8192 tokens × 1 request, the fit, and the longest context on
/// the GPUs chosen (n GPUs need weights + KV + n × 1_610_612_736 and offer n × usable).
#[test]
fn gpus_needed_and_max_context_at_the_default_context() {
    let gpus = [a100(), h100(), t4(), l4()];
    let cases: [(Model, [Expected; 4]); 5] = [
        (
            // 1_503_264_768 + 114_688 × 8192 (939_524_096) + 1_610_612_736 = 4_053_401_600
            // on 1 GPU: fits everywhere, well under 80 %. Max context on 1 GPU, e.g. T4:
            // (15_461_882_265 − 1_503_264_768 − 1_610_612_736) / 114_688 = 107_666 → capped at
            // the model's 40960.
            qwen3_0_6b(),
            [
                (Some(1), "fits", Some(40960)),
                (Some(1), "fits", Some(40960)),
                (Some(1), "fits", Some(40960)),
                (Some(1), "fits", Some(40960)),
            ],
        ),
        (
            // 16_060_522_496 + 1_073_741_824 + 1_610_612_736 = 18_744_877_056 on 1 GPU.
            // A100: ≤ 38_654_705_664; max (38_654_705_664 − 16_060_522_496 − 1_610_612_736)
            //   / 131_072 = 160_091 → 131072.
            // T4: 1 GPU no (> 15_461_882_265); 2 GPUs: 16_060_522_496 + 1_073_741_824 +
            //   3_221_225_472 = 20_355_489_792 ≤ 30_923_764_530; max (30_923_764_530 −
            //   16_060_522_496 − 3_221_225_472) / 131_072 = 88_821.
            // L4: 18_744_877_056 ≤ 23_192_823_398 but > 80 % (18_554_258_718): tight; max
            //   (23_192_823_398 − 16_060_522_496 − 1_610_612_736) / 131_072 = 42_127.
            llama_3_1_8b(),
            [
                (Some(1), "fits", Some(131_072)),
                (Some(1), "fits", Some(131_072)),
                (Some(2), "fits", Some(88_821)),
                (Some(1), "tight", Some(42_127)),
            ],
        ),
        (
            // 14_496_047_104 + 1_073_741_824 + 1_610_612_736 = 17_180_401_664 on 1 GPU.
            // T4: 2 GPUs, 18_791_014_400 ≤ 30_923_764_530. L4: 17_180_401_664 < 80 %
            // (18_554_258_718): fits; max (23_192_823_398 − 14_496_047_104 − 1_610_612_736)
            // / 131_072 = 54_063 → 32768.
            mistral_7b_v0_3(),
            [
                (Some(1), "fits", Some(32768)),
                (Some(1), "fits", Some(32768)),
                (Some(2), "fits", Some(32768)),
                (Some(1), "fits", Some(32768)),
            ],
        ),
        (
            // 93_405_585_408 weights + 1_073_741_824 KV.
            // A100: 2 GPUs 97_700_552_704 > 77_309_411_328; 4 GPUs 93_405_585_408 +
            //   1_073_741_824 + 6_442_450_944 = 100_921_778_176 ≤ 154_618_822_656.
            // H100: 2 GPUs 97_700_552_704 ≤ 154_618_822_656.
            // T4: 8 GPUs 107_364_229_120 ≤ 123_695_058_120, but a T4 node has 4: exceeds;
            //   on 4 T4s (61_847_529_060) the weights alone do not fit → max context 0.
            // L4: 8 GPUs 107_364_229_120 ≤ 185_542_587_184 (58 %).
            mixtral_8x7b(),
            [
                (Some(4), "fits", Some(32768)),
                (Some(2), "fits", Some(32768)),
                (Some(8), "exceeds", Some(0)),
                (Some(8), "fits", Some(32768)),
            ],
        ),
        (
            // 141_107_412_992 weights + 327_680 × 8192 = 2_684_354_560 KV.
            // A100: 4 GPUs 150_234_218_496 ≤ 154_618_822_656 (97 %: tight); max
            //   (154_618_822_656 − 141_107_412_992 − 6_442_450_944) / 327_680 = 21_572.
            // H100: 1 GPU 145_402_380_288 > 77_309_411_328; 2 GPUs 147_012_993_024 ≤
            //   154_618_822_656 (95 %: tight); max (154_618_822_656 − 141_107_412_992 −
            //   3_221_225_472) / 327_680 = 31_403.
            // T4: 8 GPUs 156_676_669_440 > 123_695_058_120; 16 GPUs 169_561_571_328 ≤
            //   247_390_116_240, more than a node has: exceeds, max context on 4 T4s 0.
            // L4: 8 GPUs 156_676_669_440 ≤ 185_542_587_184 (84 %: tight); max
            //   (185_542_587_184 − 141_107_412_992 − 12_884_901_888) / 327_680 = 96_283.
            llama_3_3_70b(),
            [
                (Some(4), "tight", Some(21_572)),
                (Some(2), "tight", Some(31_403)),
                (Some(16), "exceeds", Some(0)),
                (Some(8), "tight", Some(96_283)),
            ],
        ),
    ];
    for (model, want) in cases {
        let p = model.plan(&gpus, None, None);
        assert_eq!(p.basis, "config");
        assert_eq!((p.context_length, p.concurrency), (8192, 1));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        for (g, (needed, fit, max_context)) in p.gpus.iter().zip(want) {
            let label = format!("{} on {}", model.id, g.gpu_type);
            assert_eq!(g.gpus_needed, needed, "{label}");
            assert_eq!(g.fit, fit, "{label}: {}", g.reason);
            assert_eq!(g.fits, fit != "exceeds", "{label}");
            assert_eq!(g.max_context_length, max_context, "{label}");
        }
    }
}

#[test]
fn the_70b_needs_more_than_one_gpu_and_says_why() {
    let p = llama_3_3_70b().plan(&[h100()], None, None);
    let g = &p.gpus[0];
    assert_eq!(g.gpus_needed, Some(2));
    // 141_107_412_992 + 2_684_354_560 + 2 × 1_610_612_736
    assert_eq!(g.required_bytes, Some(147_012_993_024));
    // 2 × 77_309_411_328
    assert_eq!(g.available_bytes, Some(154_618_822_656));
    assert_eq!(p.kv_cache_bytes_per_token, Some(327_680));
    assert_eq!(p.kv_cache_bytes, Some(2_684_354_560));
    assert_eq!(g.memory_gb, Some(80.0));
    assert_eq!(
        g.reason,
        "Tight fit on 2 × NVIDIA-H100-80GB-HBM3 (tensor parallel 2): 131.4 GiB weights + \
         2.5 GiB KV cache (8192 tokens × 1) + 1.5 GiB runtime per GPU = 136.9 GiB needed of \
         144.0 GiB usable (90% of 80.0 GiB per GPU); little room is left for longer contexts \
         or more concurrent requests. Up to 31403 tokens of context fit on 2 GPUs at 1 \
         concurrent request."
    );
}

#[test]
fn context_and_concurrency_change_the_answer() {
    // Llama 3.1 8B on A100-40GB at 32768 tokens × 8 requests:
    // KV 131_072 × 32_768 × 8 = 34_359_738_368 (32 GiB).
    // 1 GPU: 16_060_522_496 + 34_359_738_368 + 1_610_612_736 = 52_030_873_600 > 38_654_705_664.
    // 2 GPUs: 16_060_522_496 + 34_359_738_368 + 3_221_225_472 = 53_641_486_336 ≤ 77_309_411_328
    // (69 %: fits). Max context on 2 at 8 requests: (77_309_411_328 − 16_060_522_496 −
    // 3_221_225_472) / (131_072 × 8) = 55_339.
    let p = llama_3_1_8b().plan(&[a100()], Some(32768), Some(8));
    assert_eq!(p.kv_cache_bytes, Some(34_359_738_368));
    let g = &p.gpus[0];
    assert_eq!((g.gpus_needed, g.fit.as_str()), (Some(2), "fits"));
    assert_eq!(g.required_bytes, Some(53_641_486_336));
    assert_eq!(g.max_context_length, Some(55_339));
    assert!(
        g.reason.starts_with(
            "Fits on 2 × NVIDIA-A100-SXM4-40GB (tensor parallel 2): 15.0 GiB weights + 32.0 GiB \
             KV cache (32768 tokens × 8) + 1.5 GiB runtime per GPU"
        ),
        "{}",
        g.reason
    );

    // Qwen3-0.6B on T4 at 32768 tokens × 16 requests: KV 114_688 × 32_768 × 16 =
    // 60_129_542_144. 4 GPUs: 1_503_264_768 + 60_129_542_144 + 6_442_450_944 =
    // 68_075_257_856 > 61_847_529_060; 8 GPUs: 74_517_708_800 ≤ 123_695_058_120, but a T4
    // node has 4 → exceeds. On 4 T4s: (61_847_529_060 − 1_503_264_768 − 6_442_450_944) /
    // (114_688 × 16) = 29_374 tokens would fit.
    let p = qwen3_0_6b().plan(&[t4()], Some(32768), Some(16));
    let g = &p.gpus[0];
    assert_eq!(
        (g.gpus_needed, g.fits, g.fit.as_str()),
        (Some(8), false, "exceeds")
    );
    assert_eq!(g.max_context_length, Some(29_374));
    assert!(
        g.reason
            .starts_with("Needs 8 × Tesla-T4 (tensor parallel 8)"),
        "{}",
        g.reason
    );
    assert!(
        g.reason
            .contains("at most 4 GPUs and only tensor parallelism within one node")
    );
    assert!(
        g.reason
            .ends_with("Up to 29374 tokens of context fit on 4 GPUs at 16 concurrent requests.")
    );
}

#[test]
fn context_is_capped_at_the_model_maximum() {
    let p = mistral_7b_v0_3().plan(&[h100()], Some(100_000), None);
    assert_eq!(p.context_length, 32768);
    assert_eq!(p.model_max_context_length, Some(32768));
    assert_eq!(
        p.notes,
        [
            "The requested context of 100000 tokens exceeds the model's maximum of 32768; planned for 32768."
        ]
    );
    let mut small = qwen3_0_6b();
    small.config["max_position_embeddings"] = json!(4096);
    let p = small.plan(&[h100()], None, Some(0));
    assert_eq!((p.context_length, p.concurrency), (4096, 1));
    assert!(p.notes[0].contains("below the default of 8192"));
}

#[test]
fn a_single_gpu_node_cannot_host_tensor_parallelism() {
    // Llama 3.1 8B on the KWOK T4 nodes (1 GPU each): 2 GPUs needed, none on one node.
    let single = gpu("Tesla-T4", 16, 1);
    let p = llama_3_1_8b().plan(&[single], None, None);
    let g = &p.gpus[0];
    assert_eq!(
        (g.gpus_needed, g.fits, g.fit.as_str()),
        (Some(2), false, "exceeds")
    );
    // On 1 T4 the weights leave nothing: (15_461_882_265 − 16_060_522_496 − …) → 0.
    assert_eq!(g.max_context_length, Some(0));
    assert!(g.reason.contains("at most 1 GPU and"), "{}", g.reason);
    assert!(g.reason.ends_with("is planned."), "{}", g.reason);
}

#[test]
fn tensor_parallelism_must_divide_the_attention_heads() {
    // Qwen2.5-7B-Instruct's shape (28 attention heads, 4 KV heads, head dim 128): 8 does not
    // divide 28, so only 1, 2 and 4 GPUs are candidates. With ~15 GB of weights at 32768 ×
    // 32 (KV 57_344 × 32_768 × 32 = 60_129_542_144), 4 T4s hold 61_847_529_060 < 15_000_000_000
    // + 60_129_542_144 + 6_442_450_944 = 81_571_993_088 → no size works.
    let shape = ModelShape::from_config(&json!({
        "hidden_size": 3584, "max_position_embeddings": 32768, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4
    }))
    .unwrap();
    assert_eq!(shape.kv_bytes_per_token(), 57_344);
    let weights = Weights {
        bytes: 15_000_000_000,
        parameter_count: 7_500_000_000,
        dtype: "BF16".into(),
    };
    let req = PlanRequest {
        context_length: Some(32768),
        concurrency: Some(32),
    };
    let p = plan(
        "Qwen/Qwen2.5-7B-Instruct",
        &weights,
        Some(&shape),
        &[gpu("Tesla-T4", 16, 8)],
        &req,
    );
    let g = &p.gpus[0];
    assert_eq!(
        (g.gpus_needed, g.fits, g.fit.as_str()),
        (None, false, "exceeds")
    );
    assert_eq!(g.required_bytes, Some(81_571_993_088));
    assert_eq!(g.available_bytes, Some(61_847_529_060));
    assert!(
        g.reason
            .starts_with("Does not fit on up to 4 GPUs of this type; on 4 × Tesla-T4"),
        "{}",
        g.reason
    );
}

#[test]
fn kv_heads_are_replicated_beyond_one_per_gpu() {
    // Llama-3.3-70B: 8 KV heads. Up to 8 GPUs split them; 16 GPUs hold each head twice.
    let shape = ModelShape::from_config(&json!({
        "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
        "hidden_size": 8192, "max_position_embeddings": 131072
    }))
    .unwrap();
    assert_eq!(
        [1, 2, 8, 16, 64].map(|n| shape.kv_copies(n)),
        [1, 1, 1, 2, 8]
    );
}

#[test]
fn mla_models_cache_the_compressed_latent() {
    // deepseek-ai/DeepSeek-V3 config.json (num_hidden_layers 61, kv_lora_rank 512,
    // qk_rope_head_dim 64, 128 heads, max 163840) and its Hub safetensors counts.
    let config = json!({
        "architectures": ["DeepseekV3ForCausalLM"], "hidden_size": 7168, "kv_lora_rank": 512,
        "max_position_embeddings": 163840, "num_attention_heads": 128,
        "num_hidden_layers": 61, "num_key_value_heads": 128, "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64, "v_head_dim": 128
    });
    let shape = ModelShape::from_config(&config).unwrap();
    assert_eq!(shape.mla, Some((512, 64)));
    // 61 layers × (512 + 64) × 2 bytes
    assert_eq!(shape.kv_bytes_per_token(), 70_272);
    // Every tensor-parallel GPU holds the whole latent cache.
    assert_eq!(shape.kv_copies(1), 1);
    assert_eq!(shape.kv_copies(8), 8);
    let st: Safetensors = serde_json::from_value(json!({
        "parameters": { "BF16": 3_918_786_560u64, "F8_E4M3": 680_571_043_840u64, "F32": 41_555_600u64 },
        "total": 684_531_386_000u64
    }))
    .unwrap();
    let w = weights_from_safetensors(&st).unwrap();
    // 3_918_786_560 × 2 + 680_571_043_840 × 1 + 41_555_600 × 2 (F32 served at 16 bit)
    assert_eq!(w.bytes, 688_491_728_160);
    assert_eq!(w.parameter_count, 684_531_386_000);
    assert_eq!(w.dtype, "F8_E4M3");
    let req = PlanRequest::default();
    let p = plan(
        "deepseek-ai/DeepSeek-V3",
        &w,
        Some(&shape),
        &[h100(), gpu("H200", 141, 8)],
        &req,
    );
    // KV 70_272 × 8192 = 575_668_224.
    // H100 × 8: 688_491_728_160 + 575_668_224 + 12_884_901_888 = 701_952_298_272 >
    // 618_475_290_624; × 16: 714_837_200_160 ≤ 1_236_950_581_248, more than a node: exceeds.
    assert_eq!(
        (p.gpus[0].gpus_needed, p.gpus[0].fit.as_str()),
        (Some(16), "exceeds")
    );
    // H200 × 8: 701_952_298_272 ≤ 8 × 136_257_837_465 = 1_090_062_699_720 (64 %).
    assert_eq!(
        (p.gpus[1].gpus_needed, p.gpus[1].fit.as_str()),
        (Some(8), "fits")
    );
    assert_eq!(p.gpus[1].max_context_length, Some(163_840));
}

#[test]
fn multimodal_configs_are_read_from_text_or_llm_config() {
    // mistralai/Mistral-Small-3.1-24B-Instruct-2503: the language model in `text_config`.
    let config = json!({
        "architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
        "text_config": {
            "head_dim": 128, "hidden_size": 5120, "max_position_embeddings": 131072,
            "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8
        },
        "vision_config": { "head_dim": 64, "hidden_size": 1024, "num_attention_heads": 16 }
    });
    let shape = ModelShape::from_config(&config).unwrap();
    assert_eq!(
        shape,
        ModelShape {
            layers: 40,
            attention_heads: 32,
            kv_heads: 8,
            head_dim: 128,
            max_context: Some(131_072),
            mla: None
        }
    );
    // 2 × 40 × 8 × 128 × 2
    assert_eq!(shape.kv_bytes_per_token(), 163_840);
    // InternVL-style `llm_config`, with a null head_dim and no KV heads (plain MHA).
    let config = json!({
        "llm_config": { "head_dim": null, "hidden_size": 2048, "num_attention_heads": 16,
                        "num_hidden_layers": 24 }
    });
    let shape = ModelShape::from_config(&config).unwrap();
    assert_eq!(
        (shape.kv_heads, shape.head_dim, shape.max_context),
        (16, 128, None)
    );
}

#[test]
fn missing_or_bad_fields_are_named() {
    for (config, err) in [
        (json!({}), ShapeError::Missing("num_hidden_layers")),
        (json!([1, 2]), ShapeError::Missing("num_hidden_layers")),
        (
            json!({ "text_config": {} }),
            ShapeError::Missing("num_hidden_layers"),
        ),
        (
            json!({ "num_hidden_layers": 4 }),
            ShapeError::Missing("num_attention_heads"),
        ),
        (
            json!({ "num_hidden_layers": 4, "num_attention_heads": 8 }),
            ShapeError::Missing("head_dim or hidden_size"),
        ),
        (
            json!({ "num_hidden_layers": 4, "num_attention_heads": 8, "hidden_size": 4,
                    "kv_lora_rank": 512 }),
            ShapeError::Invalid("hidden_size"),
        ),
        (
            json!({ "num_hidden_layers": 4, "num_attention_heads": 8, "head_dim": 64,
                    "kv_lora_rank": 512 }),
            ShapeError::Missing("qk_rope_head_dim"),
        ),
        (
            json!({ "num_hidden_layers": "32", "num_attention_heads": 8 }),
            ShapeError::Invalid("num_hidden_layers"),
        ),
        (
            json!({ "num_hidden_layers": 32, "num_attention_heads": 0 }),
            ShapeError::Invalid("num_attention_heads"),
        ),
    ] {
        assert_eq!(
            ModelShape::from_config(&config),
            Err(err.clone()),
            "{config}"
        );
    }
    assert_eq!(
        ShapeError::Missing("num_attention_heads").to_string(),
        "config.json has no num_attention_heads"
    );
}

#[test]
fn without_a_config_only_weights_and_runtime_count() {
    // A gated Llama 3.3 70B without a token: parameters from the Hub, no config.json.
    let w = weights_from_parameter_count(70_553_706_496, Some("bfloat16"));
    assert_eq!((w.bytes, w.dtype.as_str()), (141_107_412_992, "BF16"));
    let p = plan(
        "meta-llama/Llama-3.3-70B-Instruct",
        &w,
        None,
        &[h100()],
        &PlanRequest::default(),
    );
    assert_eq!(p.basis, "parameters");
    assert_eq!(
        (
            p.kv_cache_bytes_per_token,
            p.kv_cache_bytes,
            p.model_max_context_length
        ),
        (None, None, None)
    );
    assert_eq!(p.notes.len(), 1);
    assert!(
        p.notes[0].starts_with("The KV cache is not counted"),
        "{:?}",
        p.notes
    );
    let g = &p.gpus[0];
    // 1 GPU: 141_107_412_992 + 1_610_612_736 = 142_718_025_728 > 77_309_411_328;
    // 2 GPUs: 141_107_412_992 + 3_221_225_472 = 144_328_638_464 ≤ 154_618_822_656.
    assert_eq!((g.gpus_needed, g.fit.as_str()), (Some(2), "tight"));
    assert_eq!(g.required_bytes, Some(144_328_638_464));
    assert_eq!(g.max_context_length, None);
    assert!(
        g.reason
            .contains("1.5 GiB runtime per GPU (KV cache not counted)"),
        "{}",
        g.reason
    );
}

#[test]
fn unknown_gpu_memory_gives_no_plan() {
    let unknown = GpuType {
        name: "Unknown GPU".into(),
        memory_bytes: None,
        gpus_per_node: 2,
        nodes: 1,
    };
    let p = qwen3_0_6b().plan(&[unknown], None, None);
    let g = &p.gpus[0];
    assert_eq!(
        (g.fits, g.fit.as_str(), g.gpus_needed, g.memory_gb),
        (false, "unknown", None, None)
    );
    assert_eq!(
        g.reason,
        "The memory of one Unknown GPU is unknown (no nvidia.com/gpu.memory node label and an \
         unrecognised product name), so no plan can be made for it."
    );
}

#[test]
fn dtypes_are_sized_as_served() {
    for (dtype, bytes) in [
        ("F64", 2),
        ("F32", 2),
        ("F16", 2),
        ("BF16", 2),
        ("F8_E4M3", 1),
        ("F8_E5M2", 1),
        ("I8", 1),
        ("U8", 1),
        ("BOOL", 1),
        ("I16", 2),
        ("U16", 2),
        ("I32", 4),
        ("U32", 4),
        ("I64", 8),
        ("U64", 8),
        ("F4", 2),
        ("", 2),
    ] {
        assert_eq!(served_bytes(dtype), bytes, "{dtype}");
    }
    // A GPTQ int4 model: packed I32 storage plus F16 scales and embeddings.
    let st = Safetensors {
        parameters: [("I32".to_string(), 1_000), ("F16".to_string(), 500)].into(),
        total: Some(1_500),
    };
    let w = weights_from_safetensors(&st).unwrap();
    assert_eq!(
        (w.bytes, w.parameter_count, w.dtype.as_str()),
        (5_000, 1_500, "I32")
    );
    assert_eq!(weights_from_safetensors(&Safetensors::default()), None);
    // A tie goes to the first dtype by name.
    let tie = Safetensors {
        parameters: [("F16".to_string(), 5), ("BF16".to_string(), 5)].into(),
        total: None,
    };
    assert_eq!(weights_from_safetensors(&tie).unwrap().dtype, "BF16");
    for (torch, bytes, dtype) in [
        (Some("float32"), 2, "F32"),
        (Some("float16"), 2, "F16"),
        (Some("bfloat16"), 2, "BF16"),
        (Some("int8"), 1, "I8"),
        (Some("float8_e4m3fn"), 1, "F8"),
        (Some("weird"), 2, "unknown"),
        (None, 2, "unknown"),
    ] {
        let w = weights_from_parameter_count(1_000, torch);
        assert_eq!(
            (w.bytes, w.dtype.as_str()),
            (bytes * 1_000, dtype),
            "{torch:?}"
        );
    }
    // F32 checkpoints get a note.
    let w = weights_from_parameter_count(1_000, Some("float32"));
    let p = plan(
        "x/y",
        &w,
        Some(&qwen3_0_6b().shape()),
        &[],
        &PlanRequest::default(),
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("vLLM serves them at 16 bit")),
        "{:?}",
        p.notes
    );
}

#[test]
fn plans_serialise_with_camel_case_names() {
    let p = qwen3_0_6b().plan(&[gpu("Tesla-T4", 15, 1)], None, None);
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["modelId"], "Qwen/Qwen3-0.6B");
    assert_eq!(v["weightBytes"], 1_503_264_768u64);
    assert_eq!(v["kvCacheBytesPerToken"], 114_688);
    assert_eq!(v["runtimeOverheadBytesPerGpu"], 1_610_612_736u64);
    assert_eq!(v["gpuMemoryUtilization"], 0.9);
    assert_eq!(v["modelMaxContextLength"], 40960);
    let g = &v["gpus"][0];
    for key in [
        "gpuType",
        "memoryBytes",
        "memoryGb",
        "gpusPerNode",
        "nodes",
        "gpusNeeded",
        "fits",
        "fit",
        "requiredBytes",
        "availableBytes",
        "maxContextLength",
        "reason",
    ] {
        assert!(g.get(key).is_some(), "{key} in {g}");
    }
    assert_eq!(g["memoryGb"], 15.0);
    assert!((GPU_MEMORY_UTILIZATION * 100.0 - UTILIZATION_PERCENT as f64).abs() < 1e-9);
}
