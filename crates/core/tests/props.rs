//! Property tests of the parsers and the CEL selection rules (issue 19).
//!
//! `cargo test` runs proptest's default 256 cases per property; `make stress-props` sets
//! `PROPTEST_CASES=100000`.

use std::collections::BTreeMap;

use kubeairunway_api::{EngineType, ModelDeploymentSpec};
use kubeairunway_core::cel::{RuleEngine, RuleOutcome, spec_input};
use kubeairunway_core::gpu::{gpu_model_from_instance_type, memory_from_product, parse_count};
use kubeairunway_core::metrics::parse::parse;
use proptest::prelude::*;
use serde_json::json;

/// Proptest's defaults (including `PROPTEST_CASES`), without its failure files: a failing case
/// found here is kept as a plain regression unit test next to the code instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus text format

/// Escapes a label value the way the exposition format writes it.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn sample_strategy() -> impl Strategy<Value = (String, BTreeMap<String, String>, f64, Option<i64>)>
{
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}",
        prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", "[ -~\n\\\\\"é]{0,12}", 0..4),
        prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL,
        prop::option::of(any::<i64>()),
    )
}

proptest! {
    #![proptest_config(config())]
    /// Arbitrary text never panics, and every line is either a sample, a comment or an error.
    #[test]
    fn prometheus_parse_never_panics(text in "(?s).{0,400}") {
        let scrape = parse(&text);
        let lines = text.lines().count();
        prop_assert!(scrape.samples.len() + scrape.errors.len() <= lines);
        for e in &scrape.errors {
            prop_assert!(e.line >= 1 && e.line <= lines);
        }
    }

    /// Lines made of format-like fragments (braces, quotes, escapes) never panic either.
    #[test]
    fn prometheus_parse_never_panics_on_near_misses(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "m", "x_total", "{", "}", "=", "\"", "\\", "\\n", ",", " ", "\t", "1", "-1.5e3",
                "NaN", "+Inf", "# TYPE ", "# HELP ", "counter", "gauge", "\n", "le", "é", ":",
            ]),
            0..40,
        )
    ) {
        let text: String = parts.concat();
        let _ = parse(&text);
    }

    /// Rendering well-formed samples and parsing them gives the same samples back.
    #[test]
    fn prometheus_round_trip(samples in prop::collection::vec(sample_strategy(), 0..8)) {
        let mut text = String::new();
        for (name, labels, value, ts) in &samples {
            text.push_str(name);
            if !labels.is_empty() {
                let body: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                text.push('{');
                text.push_str(&body.join(","));
                text.push('}');
            }
            text.push_str(&format!(" {value:?}"));
            if let Some(ts) = ts {
                text.push_str(&format!(" {ts}"));
            }
            text.push('\n');
        }
        let scrape = parse(&text);
        prop_assert_eq!(&scrape.errors, &vec![], "text: {:?}", text);
        prop_assert_eq!(scrape.samples.len(), samples.len());
        for (got, (name, labels, value, ts)) in scrape.samples.iter().zip(&samples) {
            prop_assert_eq!(&got.name, name);
            prop_assert_eq!(&got.labels, labels);
            prop_assert_eq!(got.value.to_bits(), value.to_bits());
            prop_assert_eq!(got.timestamp_ms, *ts);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Node GPU labels

proptest! {
    #![proptest_config(config())]
    /// `parse_count` is `parseInt` of the trimmed text: its leading digits, else 0.
    #[test]
    fn gpu_count_matches_reference(s in "[ \t]{0,2}[0-9]{0,25}[a-zA-Z.\\-0-9]{0,4}[ \t]{0,2}") {
        let t = s.trim();
        let digits: &str = &t[..t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len())];
        let expected = digits.parse::<i64>().unwrap_or(0);
        prop_assert_eq!(parse_count(&s), expected);
    }

    #[test]
    fn gpu_label_parsers_never_panic(s in "(?s).{0,60}") {
        let _ = parse_count(&s);
        let memory = memory_from_product(&s);
        prop_assert!(memory.is_none_or(|gb| gb > 0));
        let _ = gpu_model_from_instance_type(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// CEL selection rules

/// A rule from a small grammar over fields every generated spec has.
#[derive(Clone, Debug)]
enum Rule {
    Engine(&'static str),
    GpuGreater(u8),
    GpuEquals(u8),
    ModelIs(String),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

impl Rule {
    fn text(&self) -> String {
        match self {
            Rule::Engine(e) => format!("spec.engine.type == '{e}'"),
            Rule::GpuGreater(n) => format!("spec.resources.gpu.count > {n}.0"),
            Rule::GpuEquals(n) => format!("spec.resources.gpu.count == {n}.0"),
            Rule::ModelIs(m) => format!("spec.model.id == '{m}'"),
            Rule::Not(r) => format!("!({})", r.text()),
            Rule::And(a, b) => format!("({}) && ({})", a.text(), b.text()),
            Rule::Or(a, b) => format!("({}) || ({})", a.text(), b.text()),
        }
    }

    /// The rule's meaning, computed without CEL.
    fn eval(&self, engine: &str, gpus: u8, model: &str) -> bool {
        match self {
            Rule::Engine(e) => *e == engine,
            Rule::GpuGreater(n) => gpus > *n,
            Rule::GpuEquals(n) => gpus == *n,
            Rule::ModelIs(m) => m == model,
            Rule::Not(r) => !r.eval(engine, gpus, model),
            Rule::And(a, b) => a.eval(engine, gpus, model) && b.eval(engine, gpus, model),
            Rule::Or(a, b) => a.eval(engine, gpus, model) || b.eval(engine, gpus, model),
        }
    }
}

const ENGINES: [EngineType; 4] = [
    EngineType::Vllm,
    EngineType::Sglang,
    EngineType::Trtllm,
    EngineType::Llamacpp,
];

fn model_id() -> impl Strategy<Value = String> {
    "[a-c]{1,2}/[a-c]{1,2}"
}

fn rule() -> impl Strategy<Value = Rule> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["vllm", "sglang", "trtllm", "llamacpp"]).prop_map(Rule::Engine),
        (0u8..9).prop_map(Rule::GpuGreater),
        (0u8..9).prop_map(Rule::GpuEquals),
        model_id().prop_map(Rule::ModelIs),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|r| Rule::Not(Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Rule::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Rule::Or(Box::new(a), Box::new(b))),
        ]
    })
}

proptest! {
    #![proptest_config(config())]
    /// On specs with a GPU count of at least 1 (so the field is present), generated rules give
    /// the answer their grammar means.
    #[test]
    fn cel_rules_match_reference(
        rule in rule(),
        engine in prop::sample::select(ENGINES.to_vec()),
        gpus in 1u8..9,
        model in model_id(),
    ) {
        let spec: ModelDeploymentSpec = serde_json::from_value(json!({
            "model": { "id": model },
            "resources": { "gpu": { "count": gpus } },
        }))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let input = spec_input(&spec, Some(engine));
        let expected = if rule.eval(engine.as_str(), gpus, &model) {
            RuleOutcome::Matched
        } else {
            RuleOutcome::NotMatched
        };
        prop_assert_eq!(RuleEngine::default().evaluate(&rule.text(), &input), expected, "rule {}", rule.text());
    }

    /// Arbitrary rule text never panics: it matches, does not, or is an error.
    #[test]
    fn cel_arbitrary_rules_never_panic(
        text in prop_oneof![
            "(?s).{0,60}",
            prop::collection::vec(prop::sample::select(vec![
                "spec", ".", "model", "id", "resources", "gpu", "count", "engine", "type",
                "has(", ")", "(", "==", "!=", ">", "<", "&&", "||", "!", "'vllm'", "1", "0.5",
                "[", "]", "size(", "in", "{", "}", ":", ",", "\"", "?", "9223372036854775807",
                "-", "/", "%", "*",
            ]), 0..20).prop_map(|v| v.join(" ")),
        ],
        gpus in 0u8..3,
    ) {
        let spec: ModelDeploymentSpec = serde_json::from_value(json!({
            "model": { "id": "a/b" },
            "resources": { "gpu": { "count": gpus } },
        }))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let input = spec_input(&spec, Some(EngineType::Vllm));
        let _ = RuleEngine::default().evaluate(&text, &input);
    }
}

// ---------------------------------------------------------------------------------------------
// GGUF file names

/// The rule of `gguf_file`, written out by hand: at most 255 bytes, ends in `.gguf`, and every
/// `/`-separated segment is non-empty, starts with a letter, digit or `_`, and holds only
/// letters, digits, `.`, `_`, `+`, `-`.
fn gguf_reference(v: &str) -> bool {
    let segment_ok = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
    };
    v.len() <= 255 && v.ends_with(".gguf") && v.split('/').all(segment_ok)
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary and near-valid file names: accepted exactly when the hand-written rule says so,
    /// and a rejection names the `ggufFile` field.
    #[test]
    fn gguf_file_matches_reference(
        v in prop_oneof![
            "(?s).{0,40}",
            "[A-Za-z0-9._+/\\-]{0,30}\\.gguf",
            "[A-Za-z0-9_]{1,8}(/[A-Za-z0-9_][A-Za-z0-9._+\\-]{0,8}){0,3}\\.gguf",
            "[a-z]{250,260}\\.gguf",
        ]
    ) {
        let got = kubeairunway_core::aikit::names::gguf_file(&v);
        prop_assert_eq!(got.is_ok(), gguf_reference(&v), "value {:?}: {:?}", v, got);
        if let Err(e) = got {
            prop_assert_eq!(e.field, "ggufFile");
        }
    }

    /// The default image tag is the quantisation in the file name, upper-cased, else `custom`.
    #[test]
    fn gguf_default_tag_is_the_quantisation(
        stem in "[a-z][a-z0-9\\-]{0,10}",
        quant in prop_oneof![
            "[qQ][0-9]{1,2}_[kK]_[sSmM]",
            "[qQ][0-9]{1,2}_[0-9]",
            "[fF](16|32)",
        ],
        junk in "(?s).{0,30}",
    ) {
        let tag = kubeairunway_core::aikit::names::default_image_tag(&format!("{stem}.{quant}.gguf"));
        prop_assert_eq!(tag, quant.to_ascii_uppercase());
        let _ = kubeairunway_core::aikit::names::default_image_tag(&junk);
    }
}
