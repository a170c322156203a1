//! Properties of what turns the Hub's JSON into our model metadata (issue 19): model info and
//! listing pages into search results, GGUF file lists and GPU-fit plans, and `config.json` into
//! a model shape. The JSON is shaped like the Hub's (its field names, well- or ill-typed
//! values, extreme numbers, extra fields). `cargo test` runs proptest's default 256 cases per
//! property; `make stress-props` sets `PROPTEST_CASES=100000`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::candidate;
use crate::hf::hub::HubModel;
use crate::models::GgufFiles;
use kubeairunway_core::fit::Safetensors;
use kubeairunway_core::fit::gpus::GpuType;
use kubeairunway_core::fit::planner::{self, ModelShape, PlanRequest};

/// Proptest's defaults (including `PROPTEST_CASES`), without failure files: a failing case is
/// kept as a plain regression test next to the code instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value up to depth 2.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "(?s).{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Counts as the Hub writes them, with the extremes.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        1u64..=100,
        1_000_000u64..1_000_000_000_000,
        any::<u64>(),
    ]
}

/// A field value: well typed (`true` in the pair) or anything at all.
fn field<S>(typed: S) -> impl Strategy<Value = (Value, bool)>
where
    S: Strategy<Value = Value> + 'static,
{
    prop_oneof![
        6 => typed.prop_map(|v| (v, true)),
        1 => any_json().prop_map(|v| (v, false)),
    ]
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9]{1,8}/[A-Za-z0-9.]{1,8}-[0-9]{1,3}(\\.[0-9])?[BbMm]",
        "[A-Za-z0-9._-]{1,10}/[A-Za-z0-9._-]{1,16}(-GGUF|-gguf)?",
        "(?s).{0,24}",
    ]
}

fn safetensors() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(
            prop::sample::select(vec![
                "BF16", "F16", "F32", "F64", "I8", "U8", "I32", "I64", "F8_E4M3", "BOOL", "Q4",
            ]),
            count(),
            0..4,
        ),
        prop::option::of(count()),
    )
        .prop_map(|(parameters, total)| {
            let mut st = json!({ "parameters": parameters });
            if let Some(total) = total {
                st["total"] = json!(total);
            }
            st
        })
}

fn sibling() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            "[a-zA-Z0-9_/.-]{0,20}\\.(gguf|GGUF|Gguf|safetensors|json)",
            "(?s).{0,20}",
        ],
        prop::option::of(count()),
        prop::option::of(prop::option::of(count())),
    )
        .prop_map(|(name, size, lfs)| {
            let mut s = json!({ "rfilename": name });
            if let Some(size) = size {
                s["size"] = json!(size);
            }
            match lfs {
                Some(Some(n)) => s["lfs"] = json!({ "size": n, "sha256": "x" }),
                Some(None) => s["lfs"] = json!({}),
                None => {}
            }
            s
        })
}

/// The fields of a model that [`HubModel`] reads.
const KNOWN: [&str; 9] = [
    "id",
    "pipeline_tag",
    "library_name",
    "gated",
    "downloads",
    "likes",
    "config",
    "safetensors",
    "siblings",
];

/// A model as the Hub's model-info and listing endpoints describe it, and whether every field
/// present has the type the Hub documents.
fn hub_model() -> impl Strategy<Value = (Value, bool)> {
    let text = |known: Vec<&'static str>| {
        prop_oneof![
            3 => prop::sample::select(known).prop_map(|s| json!(s)),
            1 => "(?s).{0,12}".prop_map(Value::String),
            1 => Just(Value::Null),
        ]
    };
    let fields = (
        field(id().prop_map(Value::String)),
        prop::option::of(field(text(vec![
            "text-generation",
            "text2text-generation",
            "conversational",
            "image-to-text",
            "",
        ]))),
        prop::option::of(field(text(vec![
            "transformers",
            "vllm",
            "gguf",
            "diffusers",
            "",
        ]))),
        prop::option::of(field(prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec!["auto", "manual", "other", ""]).prop_map(|s| json!(s)),
        ])),
        prop::option::of(field(count().prop_map(|n| json!(n)))),
        prop::option::of(field(count().prop_map(|n| json!(n)))),
        prop::option::of(field(
            prop::option::of(prop::collection::vec(
                prop::sample::select(vec![
                    "LlamaForCausalLM",
                    "Qwen3ForCausalLM",
                    "MistralForCausalLM",
                    "BertModel",
                    "",
                ])
                .prop_map(String::from),
                0..3,
            ))
            .prop_map(|a| json!({ "architectures": a, "model_type": "x" })),
        )),
        prop::option::of(field(safetensors())),
        prop::option::of(field(
            prop::collection::vec(sibling(), 0..5).prop_map(Value::Array),
        )),
        prop::collection::btree_map(
            "[a-z_]{1,8}".prop_filter("an unknown field", |k| !KNOWN.contains(&k.as_str())),
            any_json(),
            0..2,
        ),
    );
    fields.prop_map(
        |(id, pipeline, library, gated, downloads, likes, config, st, siblings, extra)| {
            let mut typed = true;
            let mut model: Map<String, Value> = extra.into_iter().collect();
            let named = [
                ("id", Some(id)),
                ("pipeline_tag", pipeline),
                ("library_name", library),
                ("gated", gated),
                ("downloads", downloads),
                ("likes", likes),
                ("config", config),
                ("safetensors", st),
                ("siblings", siblings),
            ];
            for (key, value) in named {
                if let Some((value, ok)) = value {
                    // `gated` holds any JSON; the others must have their type (null is
                    // "absent" for the optional ones only).
                    typed &= ok || key == "gated" || (value.is_null() && key != "id");
                    model.insert(key.to_string(), value);
                }
            }
            (Value::Object(model), typed)
        },
    )
}

/// A `config.json` with the fields the planner reads, at the top level or in `text_config` /
/// `llm_config`, as positive, zero, negative, fractional, huge, string or null values.
fn config_json() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        6 => prop_oneof![1u64..=128, Just(4096u64), Just(u64::MAX), any::<u64>()].prop_map(|n| json!(n)),
        1 => Just(json!(0)),
        1 => Just(json!(-8)),
        1 => Just(json!(32.0)),
        1 => Just(json!("32")),
        1 => Just(Value::Null),
    ];
    let names = prop::sample::subsequence(
        vec![
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "hidden_size",
            "max_position_embeddings",
            "kv_lora_rank",
            "qk_rope_head_dim",
        ],
        0..=8,
    );
    let section = (names, prop::collection::vec(value, 8)).prop_map(|(names, values)| {
        let m: Map<String, Value> = names
            .into_iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Value::Object(m)
    });
    (
        section.clone(),
        prop::option::of(section.clone()),
        prop::option::of(section),
        prop::option::of(prop::sample::select(vec![
            "bfloat16",
            "float32",
            "int8",
            "float8_e4m3",
            "x",
        ])),
    )
        .prop_map(|(mut top, text, llm, dtype)| {
            if let Some(t) = text {
                top["text_config"] = t;
            }
            if let Some(l) = llm {
                top["llm_config"] = l;
            }
            if let Some(d) = dtype {
                top["torch_dtype"] = json!(d);
            }
            top
        })
}

fn gpu_types() -> impl Strategy<Value = Vec<GpuType>> {
    prop::collection::vec(
        (
            prop::option::of(prop_oneof![
                Just(0u64),
                Just(u64::MAX),
                1u64 << 30..=1u64 << 38,
                any::<u64>()
            ]),
            prop_oneof![Just(0u32), 1u32..=16, Just(u32::MAX)],
            any::<u32>(),
        )
            .prop_map(|(memory_bytes, gpus_per_node, nodes)| GpuType {
                name: "GPU".into(),
                memory_bytes,
                gpus_per_node,
                nodes,
            }),
        0..3,
    )
}

/// The Hub's parameter count of a model, stated the simple way: a positive `total`, else the
/// sum of the per-dtype counts when positive (saturating at `u64::MAX`).
fn reference_count(st: &Safetensors) -> Option<u64> {
    if let Some(total) = st.total.filter(|t| *t > 0) {
        return Some(total);
    }
    let sum = st
        .parameters
        .values()
        .map(|n| u128::from(*n))
        .sum::<u128>()
        .min(u128::from(u64::MAX));
    u64::try_from(sum).ok().filter(|n| *n > 0)
}

/// Whether the section holding the language model fields is readable, and its fields.
fn reference_shape(config: &Value) -> Option<Result<ModelShape, ()>> {
    let has_layers =
        |m: &Map<String, Value>| m.get("num_hidden_layers").is_some_and(|v| !v.is_null());
    let top = config.as_object()?;
    let section = [
        Some(top),
        top.get("text_config").and_then(Value::as_object),
        top.get("llm_config").and_then(Value::as_object),
    ]
    .into_iter()
    .flatten()
    .find(|m| has_layers(m))?;
    let get = |k: &str| -> Result<Option<u64>, ()> {
        match section.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().filter(|n| *n > 0).map(Some).ok_or(()),
        }
    };
    let shape = (|| {
        let layers = get("num_hidden_layers")?.ok_or(())?;
        let heads = get("num_attention_heads")?.ok_or(())?;
        let kv_heads = get("num_key_value_heads")?.unwrap_or(heads);
        let head_dim = match get("head_dim")? {
            Some(d) => d,
            None => Some(get("hidden_size")?.ok_or(())? / heads)
                .filter(|d| *d > 0)
                .ok_or(())?,
        };
        let max_context = get("max_position_embeddings")?;
        let mla = match get("kv_lora_rank")? {
            Some(rank) => Some((rank, get("qk_rope_head_dim")?.ok_or(())?)),
            None => None,
        };
        Ok(ModelShape {
            layers,
            attention_heads: heads,
            kv_heads,
            head_dim,
            max_context,
            mla,
        })
    })();
    Some(shape)
}

proptest! {
    #![proptest_config(config())]

    /// Model info shaped like the Hub's never panics; well-typed info always parses, and its
    /// search result, GGUF list and plan agree with the simple statements of the rules.
    #[test]
    fn hub_model_info_matches_reference(
        (info, typed) in hub_model(),
        gpus in gpu_types(),
        context in prop::option::of(prop_oneof![Just(u64::MAX), 1u64..=10_000_000]),
        concurrency in prop::option::of(prop_oneof![Just(u32::MAX), 1u32..=4096]),
    ) {
        let parsed = serde_json::from_value::<HubModel>(info.clone());
        if typed {
            prop_assert!(parsed.is_ok(), "{}: {:?}", info, parsed.err());
        }
        let Ok(model) = parsed else { return Ok(()) };

        if let Some(c) = candidate(&model) {
            let r = &c.result;
            prop_assert_eq!(&r.id, &model.id);
            prop_assert_eq!(&r.pipeline_tag, model.pipeline_tag.as_deref().unwrap_or_default());
            prop_assert_eq!(&r.library_name, model.library_name.as_deref().unwrap_or_default());
            prop_assert_eq!(r.downloads, model.downloads.unwrap_or(0));
            prop_assert_eq!(r.likes, model.likes.unwrap_or(0));
            let gated = matches!(&model.gated, Some(Value::Bool(true)))
                || matches!(&model.gated, Some(Value::String(s)) if s == "auto" || s == "manual");
            prop_assert_eq!(r.gated, gated);
            let (author, name) = match model.id.split_once('/') {
                Some((a, n)) => (a.to_string(), n.to_string()),
                None if model.id.is_empty() => ("unknown".to_string(), String::new()),
                None => (model.id.clone(), model.id.clone()),
            };
            prop_assert_eq!((&r.author, &r.name), (&author, &name));
            if let Some(expected) = model.safetensors.as_ref().and_then(reference_count) {
                prop_assert_eq!(r.parameter_count, Some(expected));
            }
            prop_assert!(r.parameter_count.is_none_or(|n| n > 0));
            prop_assert_eq!(
                r.estimated_gpu_memory_gb,
                r.parameter_count.map(|n| (n as f64 * 2.0 * 1.2 / (1u64 << 30) as f64).ceil() as u64)
            );
            prop_assert_eq!(r.estimated_gpu_memory.is_some(), r.parameter_count.is_some());
            if c.gguf {
                prop_assert_eq!(r.supported_engines.len(), 1);
            }
            prop_assert!(!r.supported_engines.is_empty(), "a compatible model has an engine");
            prop_assert!(serde_json::to_value(r).is_ok());
        }

        if let Some(st) = &model.safetensors {
            let weights = planner::weights_from_safetensors(st);
            let sum = st.parameters.values().fold(0u64, |a, n| a.saturating_add(*n));
            prop_assert_eq!(weights.as_ref().map(|w| w.parameter_count), (sum > 0).then_some(sum));
            if let Some(w) = &weights {
                // Every dtype is served at one byte per parameter or more.
                prop_assert!(w.bytes >= w.parameter_count, "{:?}", w);
                let request = PlanRequest { context_length: context, concurrency };
                let plan = planner::plan(&model.id, w, None, &gpus, &request);
                prop_assert_eq!(plan.gpus.len(), gpus.len());
                prop_assert!(serde_json::to_value(&plan).is_ok());
            }
        }

        let files = GgufFiles::of(model.siblings.clone());
        let mut expected: Vec<String> = model
            .siblings
            .iter()
            .map(|s| s.rfilename.clone())
            .filter(|f| f.to_lowercase().ends_with(".gguf"))
            .collect();
        expected.sort();
        prop_assert_eq!(&files.files, &expected);
        let sizes: BTreeMap<String, u64> = model
            .siblings
            .iter()
            .filter(|s| s.rfilename.to_lowercase().ends_with(".gguf"))
            .filter_map(|s| Some((s.rfilename.clone(), s.lfs.as_ref().and_then(|l| l.size).or(s.size)?)))
            .collect();
        prop_assert_eq!(&files.sizes, &sizes);
    }

    /// A listing page (an array of models, or anything else the Hub might send) never panics,
    /// and a page of well-typed models parses to all of them.
    #[test]
    fn hub_listing_never_panics(
        page in prop_oneof![
            4 => prop::collection::vec(hub_model(), 0..4).prop_map(|ms| {
                let typed = ms.iter().all(|(_, t)| *t);
                (Value::Array(ms.into_iter().map(|(m, _)| m).collect()), typed)
            }),
            1 => any_json().prop_map(|v| (v, false)),
        ],
    ) {
        let (page, typed) = page;
        let parsed = serde_json::from_value::<Vec<HubModel>>(page.clone());
        if typed {
            let models = parsed.expect("a page of well-typed models parses");
            prop_assert_eq!(Some(models.len()), page.as_array().map(Vec::len));
            for m in &models {
                let _ = candidate(m);
            }
        }
    }

    /// `config.json` gives a shape exactly when the simple statement of the rule does (the
    /// first of the top level, `text_config`, `llm_config` that has layers; positive integers;
    /// `head_dim` else `hidden_size / heads`), with the same figures; a plan from any shape
    /// never panics and keeps within the model's maximum context.
    #[test]
    fn config_json_shape_matches_reference(
        config in config_json(),
        weights in count(),
        gpus in gpu_types(),
        context in prop::option::of(prop_oneof![Just(u64::MAX), 1u64..=10_000_000]),
        concurrency in prop::option::of(prop_oneof![Just(u32::MAX), 1u32..=4096]),
    ) {
        let got = ModelShape::from_config(&config);
        match reference_shape(&config) {
            None => prop_assert!(got.is_err()),
            Some(Err(())) => prop_assert!(got.is_err(), "{}: {:?}", config, got),
            Some(Ok(expected)) => prop_assert_eq!(got.as_ref().ok(), Some(&expected), "{}", config),
        }
        if let Err(e) = &got {
            let text = e.to_string();
            prop_assert!(text.starts_with("config.json "), "{}", text);
        }
        let dtype = crate::models::fit::config_dtype(&config);
        let w = planner::weights_from_parameter_count(weights, dtype);
        let request = PlanRequest { context_length: context, concurrency };
        let plan = planner::plan("a/b", &w, got.as_ref().ok(), &gpus, &request);
        if let Some(max) = plan.model_max_context_length {
            prop_assert!(plan.context_length <= max);
            for g in &plan.gpus {
                prop_assert!(g.max_context_length.is_none_or(|c| c <= max));
            }
        }
        for g in &plan.gpus {
            prop_assert!(!g.fits || g.gpus_needed.is_some_and(|n| n <= g.gpus_per_node), "{:?}", g);
        }
        prop_assert!(serde_json::to_value(&plan).is_ok());
    }
}
