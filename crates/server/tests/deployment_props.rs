//! Property of `POST /api/deployments` (issue 19): generated bodies, valid and near misses, go
//! through the real route with `?dryRun=true`, so the body mapping runs and, when it accepts,
//! the API server of the local control plane validates the ModelDeployment against the CRD
//! (server-side dry run: nothing is stored). The property:
//!
//! - accepted by the mapping ⇒ accepted by the CRD (a 200 with the manifest). The one exception
//!   is the CRD rule the mapping leaves to the API server on purpose (vLLM, SGLang or
//!   TensorRT-LLM aggregated with `resources.gpu: 0`; `deployments.rs` checks its 422), which
//!   must then be that 422 naming `spec.resources.gpu.count`;
//! - rejected ⇒ a 400 (or the namespace's 404) whose message names one of the fields the
//!   generator made doubtful;
//! - a body of valid fields only ⇒ accepted.
//!
//! Each case is one HTTP request and one dry run, so `cargo test` runs 64 cases;
//! `PROPTEST_CASES` sets more (`make stress-props`).

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use support::{AuthMode, Reply, Server};

/// Cases per run unless `PROPTEST_CASES` says otherwise (each costs a dry-run round trip).
const DEFAULT_CASES: u32 = 64;

/// How long one case may take (a dry run takes milliseconds).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A namespace that is a valid name but does not exist.
const MISSING_NAMESPACE: &str = "props-no-such-namespace";

/// One field of a generated body: its key, its value (`None`: left out) and whether the
/// generator made it doubtful (a near miss, or left out although required).
#[derive(Clone, Debug)]
struct Field {
    key: &'static str,
    value: Option<Value>,
    doubtful: bool,
}

/// A body and its doubtful fields.
#[derive(Clone, Debug)]
struct Case {
    fields: Vec<Field>,
    /// An unknown top-level key, when one was added.
    extra: Option<String>,
}

impl Case {
    fn body(&self, namespace: &str) -> Value {
        let mut body = Map::new();
        for f in &self.fields {
            if let Some(v) = &f.value {
                // The namespace strategy yields placeholders for the namespaces of the run.
                let v = match v.as_str() {
                    Some("<ns>") => json!(namespace),
                    Some("<missing>") => json!(MISSING_NAMESPACE),
                    _ => v.clone(),
                };
                body.insert(f.key.to_string(), v);
            }
        }
        if let Some(extra) = &self.extra {
            body.insert(extra.clone(), json!(1));
        }
        Value::Object(body)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.value.as_ref())
    }

    /// Texts of which one must be in a refusal's message: the names of the doubtful fields.
    fn doubtful_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for f in self.fields.iter().filter(|f| f.doubtful) {
            match f.key {
                // "name" is part of many messages; these are the ones about the name field.
                "name" => names.extend(
                    ["Invalid deployment name", "`name`", "name:", "The name \""].map(String::from),
                ),
                "namespace" => names.push("amespace".into()),
                key => names.push(key.to_string()),
            }
        }
        names.extend(self.extra.iter().map(|k| format!("`{k}`")));
        names
    }

    fn is_valid(&self) -> bool {
        self.extra.is_none() && self.fields.iter().all(|f| !f.doubtful)
    }

    /// The CRD rule the mapping leaves to the API server: a GPU engine served aggregated on no
    /// GPU (`resources.gpu: 0`, or `computeType: cpu`). A GGUF file makes the engine llama.cpp.
    fn gpu_engine_on_cpu(&self) -> bool {
        let engine = self.get("engine").and_then(Value::as_str);
        let aggregated = matches!(
            self.get("mode").and_then(Value::as_str),
            None | Some("aggregated")
        );
        let no_gpu = self.get("computeType").and_then(Value::as_str) == Some("cpu")
            || self
                .get("resources")
                .is_some_and(|r| r["gpu"].as_i64() == Some(0));
        matches!(engine, Some("vllm" | "sglang" | "trtllm"))
            && self.get("ggufFile").is_none()
            && aggregated
            && no_gpu
    }
}

/// A field's two candidates: left out or valid (weights `omit` : `ok`; a required field is
/// never left out here), and a near miss (left out, when required, weighs as one near miss).
fn field(
    key: &'static str,
    required: bool,
    weights: (u32, u32, u32),
    valid: impl Strategy<Value = Value> + 'static,
    near: impl Strategy<Value = Value> + 'static,
) -> BoxedStrategy<(Field, Field)> {
    let (omit, ok, bad) = weights;
    let left_out = move |doubtful| Field {
        key,
        value: None,
        doubtful,
    };
    let good: Vec<(u32, BoxedStrategy<Field>)> = vec![
        (
            if required { 0 } else { omit },
            Just(left_out(false)).boxed(),
        ),
        (
            ok,
            valid
                .prop_map(move |v| Field {
                    key,
                    value: Some(v),
                    doubtful: false,
                })
                .boxed(),
        ),
    ];
    let doubtful: Vec<(u32, BoxedStrategy<Field>)> = vec![
        (u32::from(required), Just(left_out(true)).boxed()),
        (
            bad.max(1),
            near.prop_map(move |v| Field {
                key,
                value: Some(v),
                doubtful: true,
            })
            .boxed(),
        ),
    ];
    // A weight of 0 leaves the arm out; a field without valid values is left out.
    let union = |arms: Vec<(u32, BoxedStrategy<Field>)>| {
        let arms: Vec<_> = arms.into_iter().filter(|(w, _)| *w > 0).collect();
        if arms.is_empty() {
            Just(left_out(false)).boxed()
        } else {
            prop::strategy::Union::new_weighted(arms).boxed()
        }
    };
    (union(good), union(doubtful)).boxed()
}

/// Values of the wrong JSON type.
fn wrong_type() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(true)),
        Just(json!(1.5)),
        Just(json!([])),
        Just(json!({})),
        Just(json!("1")),
    ]
}

/// Integers around the limits of the counts (negative, `i32` overflow, `i64` and beyond), and
/// values of other types.
fn bad_count() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(-1)),
        Just(json!(i64::from(i32::MAX) + 1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        wrong_type(),
    ]
}

/// Kubernetes quantities as the CRD's `isQuantity` accepts them.
fn quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[1-9][0-9]{0,3}(\\.[0-9]{1,2})?(Ki|Mi|Gi|Ti|m|k|M|G|)",
        "[1-9][0-9]{0,2}e[0-9]{1,2}",
        Just("500m".to_string()),
    ]
    .prop_map(Value::String)
}

/// Near misses of quantities: signs, lone dots and exponents, lower-case suffixes, spaces,
/// huge exponents and mantissas, non-ASCII digits, too long.
fn bad_quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            ".",
            "1.",
            ".5",
            "-1Gi",
            "+1",
            "1e",
            "1e+",
            "1E",
            "1e-3",
            "1gi",
            "1 Gi",
            "Gi",
            "0x10",
            "1.5.5Gi",
            "\u{663}Gi",
            "1Gi ",
            "1e99999999999999999999",
            "99999999999999999999999999999999Ei",
            "1e2147483648",
            "1e-2147483649",
        ])
        .prop_map(|s| json!(s)),
        "[0-9.eEiKMGm+-]{1,8}".prop_map(Value::String),
        Just(json!("1".repeat(65))),
        wrong_type(),
    ]
}

/// `engineArgs`: valid flag names with string, number and boolean values, in counts around
/// the CRD's limit of 64.
fn engine_args() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        "[ -~]{0,8}".prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        Just(json!(0.9)),
        any::<bool>().prop_map(Value::Bool),
    ];
    let count = prop_oneof![0usize..4, 60usize..=64];
    count
        .prop_flat_map(move |n| {
            prop::collection::btree_map("[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", value.clone(), n)
        })
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn bad_engine_args() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::btree_map(
            prop_oneof![
                Just("--max".to_string()),
                Just(" x".to_string()),
                Just(String::new()),
                Just("a".repeat(129)),
                Just("é".to_string()),
            ],
            Just(json!("1")),
            1..2
        )
        .prop_map(|m| Value::Object(m.into_iter().collect())),
        Just(json!({ "x": null })),
        Just(json!({ "x": [1] })),
        Just(json!({ "x": { "y": 1 } })),
        (65usize..=66).prop_map(|n| {
            Value::Object((0..n).map(|i| (format!("a{i}"), json!("1"))).collect())
        }),
        wrong_type(),
    ]
}

fn text_near_misses(max: usize) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("   ")),
        Just(json!("a\u{7}b")),
        Just(json!("x".repeat(max + 1))),
        Just(json!("é".repeat(max + 1))),
        Just(json!(42)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let names = field(
        "name",
        true,
        (1, 12, 4),
        prop_oneof![
            "[a-z]([-a-z0-9]{0,14}[a-z0-9])?",
            "[a-z][-a-z0-9]{60}[a-z0-9]",
        ]
        .prop_filter("not a route", |n| n != "events" && n != "preview")
        .prop_map(Value::String),
        prop_oneof![
            "[a-zA-Z0-9.\\-_ é]{0,12}".prop_map(Value::String),
            "[a-z][a-z0-9]{63,70}".prop_map(Value::String),
            Just(json!("events")),
            Just(json!("preview")),
            Just(json!("x-")),
            Just(json!("1x")),
            wrong_type(),
        ],
    );
    let namespace = field(
        "namespace",
        false,
        (0, 12, 3),
        Just(json!("<ns>")),
        prop_oneof![
            Just(json!("<missing>")),
            "[a-zA-Z0-9./_ -]{0,10}".prop_map(Value::String),
            "[a-z]{64}".prop_map(Value::String),
            wrong_type(),
        ],
    );
    let model_id = field(
        "modelId",
        true,
        (1, 12, 3),
        prop_oneof![
            Just(json!("Qwen/Qwen3-0.6B")),
            "[A-Za-z0-9][A-Za-z0-9._/-]{0,40}".prop_map(Value::String),
            "\\PC{1,256}"
                .prop_filter("not blank", |s| !s.trim().is_empty())
                .prop_map(Value::String),
        ],
        text_near_misses(256),
    );
    let engine = field(
        "engine",
        false,
        (3, 6, 1),
        prop::sample::select(vec!["vllm", "sglang", "trtllm", "llamacpp"]).prop_map(|e| json!(e)),
        prop_oneof![Just(json!("VLLM")), Just(json!("foo")), Just(json!(3))],
    );
    let mode = field(
        "mode",
        false,
        (4, 4, 1),
        prop::sample::select(vec!["aggregated", "disaggregated"]).prop_map(|m| json!(m)),
        prop_oneof![Just(json!("Aggregated")), Just(json!("")), wrong_type()],
    );
    let resources = field(
        "resources",
        false,
        (3, 6, 3),
        (
            0i64..=4,
            prop::option::of(quantity()),
            prop::option::of(quantity()),
        )
            .prop_map(|(gpu, memory, cpu)| {
                let mut r = json!({ "gpu": gpu });
                if let Some(m) = memory {
                    r["memory"] = m;
                }
                if let Some(c) = cpu {
                    r["cpu"] = c;
                }
                r
            }),
        prop_oneof![
            bad_count().prop_map(|g| json!({ "gpu": g })),
            bad_quantity().prop_map(|m| json!({ "gpu": 1, "memory": m })),
            bad_quantity().prop_map(|c| json!({ "gpu": 1, "cpu": c })),
            Just(json!({ "memory": "1Gi" })),
            Just(json!({ "gpu": 1, "gpus": 2 })),
            wrong_type(),
        ],
    );
    let count = |key: &'static str, max: i64| {
        field(
            key,
            false,
            (4, 4, 1),
            (0..=max).prop_map(Value::from),
            bad_count(),
        )
    };
    // GPUs per disaggregated worker: at least 1 (0 is a near miss, refused in that mode).
    let worker_gpus = |key: &'static str| {
        field(
            key,
            false,
            (4, 4, 1),
            (1i64..=3).prop_map(Value::from),
            prop_oneof![Just(json!(0)), bad_count()],
        )
    };
    let positive = |key: &'static str| {
        field(
            key,
            false,
            (4, 2, 1),
            prop_oneof![1i64..=131_072, Just(i64::from(i32::MAX))].prop_map(Value::from),
            prop_oneof![Just(json!(0)), bad_count()],
        )
    };
    let flag = |key: &'static str| {
        field(
            key,
            false,
            (3, 3, 1),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just(json!("yes")), Just(json!(1))],
        )
    };
    let object_name = |key: &'static str, known: Vec<&'static str>| {
        field(
            key,
            false,
            (4, 3, 1),
            prop_oneof![
                prop::sample::select(known).prop_map(|p| json!(p)),
                "[a-z0-9]{1,6}(-[a-z0-9]{1,6})?(\\.[a-z0-9]{1,6})?".prop_map(Value::String),
            ],
            prop_oneof![
                Just(json!("Kaito")),
                Just(json!("a_b")),
                Just(json!("-a")),
                Just(json!("a".repeat(254))),
                Just(json!(7)),
            ],
        )
    };
    let first = (
        names,
        namespace,
        model_id,
        engine,
        mode,
        resources,
        count("replicas", 4),
        positive("contextLength"),
        positive("maxModelLen"),
        count("prefillReplicas", 3),
        count("decodeReplicas", 3),
        worker_gpus("prefillGpus"),
    );
    let second = (
        worker_gpus("decodeGpus"),
        field(
            "engineArgs",
            false,
            (3, 3, 1),
            engine_args(),
            bad_engine_args(),
        ),
        flag("enforceEager"),
        flag("enablePrefixCaching"),
        flag("trustRemoteCode"),
        object_name(
            "provider",
            vec!["", "kaito", "dynamo", "kuberay", "kubernetes"],
        ),
        object_name("hfTokenSecret", vec!["", "hf-token-secret", "my-hf-token"]),
        field(
            "servedModelName",
            false,
            (4, 2, 1),
            "[A-Za-z0-9._/-][A-Za-z0-9 ._/-]{0,39}".prop_map(Value::String),
            text_near_misses(256),
        ),
        field(
            "storage",
            false,
            (6, 1, 1),
            prop_oneof![Just(json!({ "volumes": [] })), Just(json!({}))],
            prop_oneof![
                Just(json!({ "volumes": [{ "name": "v" }] })),
                Just(json!({ "size": "1Gi" })),
                Just(json!([])),
            ],
        ),
        // Fields that combine with others (model source, GGUF, compute type, overrides):
        // always doubtful, since a combination may be refused.
        field(
            "computeType",
            false,
            (6, 0, 1),
            Just(Value::Null),
            prop_oneof![Just(json!("cpu")), Just(json!("gpu")), Just(json!("tpu"))],
        ),
        field(
            "ggufFile",
            false,
            (6, 0, 1),
            Just(Value::Null),
            prop_oneof![
                Just(json!("model.Q4_K_M.gguf")),
                Just(json!("../x.gguf")),
                Just(json!("x.bin")),
            ],
        ),
        field(
            "providerOverrides",
            false,
            (6, 0, 1),
            Just(Value::Null),
            prop_oneof![
                Just(json!({ "routerMode": "kv" })),
                Just(json!({ "kind": "X" })),
                Just(json!({ "resourceType": "other" })),
                Just(json!({ "spec": { "a": [1, { "b": null }] } })),
            ],
        ),
    );
    let extra = prop::option::weighted(
        0.1,
        prop_oneof![
            Just("Name".to_string()),
            Just("model_id".to_string()),
            Just("gpus".to_string()),
            "[a-z]{1,8}".prop_filter("unknown", |k| !KNOWN.contains(&k.as_str())),
        ],
    );
    // Few near misses per body (none in a third of them), so that each can be told apart and
    // valid bodies are common.
    let chosen = prop_oneof![
        3 => Just(0usize),
        3 => Just(1usize),
        1 => Just(2usize),
        1 => Just(3usize),
    ]
    .prop_flat_map(|k| prop::sample::subsequence((0..FIELDS).collect::<Vec<_>>(), k));
    (first, second, extra, chosen).prop_map(|(a, b, extra, chosen)| {
        let pairs = vec![
            a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7, a.8, a.9, a.10, a.11, b.0, b.1, b.2, b.3, b.4,
            b.5, b.6, b.7, b.8, b.9, b.10, b.11,
        ];
        let fields = pairs
            .into_iter()
            .enumerate()
            .map(|(i, (good, near))| if chosen.contains(&i) { near } else { good })
            .collect();
        let mut case = Case { fields, extra };
        // Near the limit of 64, the flags enforceEager and enablePrefixCaching add may be one
        // too many: engineArgs is then doubtful.
        let flags = ["enforceEager", "enablePrefixCaching"]
            .iter()
            .filter(|k| case.get(k) == Some(&json!(true)))
            .count();
        let args = case
            .get("engineArgs")
            .and_then(Value::as_object)
            .map_or(0, Map::len);
        if flags > 0
            && args + flags > 64
            && let Some(f) = case.fields.iter_mut().find(|f| f.key == "engineArgs")
        {
            f.doubtful = true;
        }
        // Two valid context lengths disagree unless equal: the second is then doubtful.
        let lengths = (
            case.get("contextLength").cloned(),
            case.get("maxModelLen").cloned(),
        );
        if let (Some(a), Some(b)) = lengths
            && a != b
            && let Some(f) = case.fields.iter_mut().find(|f| f.key == "maxModelLen")
        {
            f.doubtful = true;
        }
        case
    })
}

/// Fields a case is made of.
const FIELDS: usize = 24;

/// The body fields the reference's `DeploymentConfig` has, and the two scheduling fields added
/// here (an extra key must be none of them).
const KNOWN: [&str; 34] = [
    "name",
    "modelId",
    "engine",
    "namespace",
    "mode",
    "provider",
    "servedModelName",
    "routerMode",
    "replicas",
    "hfTokenSecret",
    "contextLength",
    "enforceEager",
    "enablePrefixCaching",
    "trustRemoteCode",
    "resources",
    "engineArgs",
    "prefillReplicas",
    "decodeReplicas",
    "prefillGpus",
    "decodeGpus",
    "modelSource",
    "premadeModel",
    "ggufFile",
    "imageRef",
    "ggufRunMode",
    "computeType",
    "maxModelLen",
    "kaitoResourceType",
    "providerOverrides",
    "storage",
    "gpu",
    "model",
    // KubeAIRunway's additions.
    "nodeSelector",
    "tolerations",
];

/// One case against the route: the property's verdict, and the status that came back.
async fn check(server: &Server, namespace: &str, case: &Case) -> Result<StatusCode, TestCaseError> {
    let body = case.body(namespace);
    // The server answers in milliseconds; a request that hangs is a failure with its body.
    let sent = server
        .request(Method::POST, "/api/deployments?dryRun=true", None)
        .json(&body)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer ({e}) for {body}")))?;
    let reply = Reply::read(sent).await;
    let message = reply.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let names = case.doubtful_names();
    let names_one = names.iter().any(|n| message.contains(n.as_str()));
    match reply.status {
        StatusCode::OK => {
            prop_assert!(
                !case.gpu_engine_on_cpu(),
                "a GPU engine on no GPU was accepted: {}",
                body
            );
            let manifest = &reply.body["resources"][0]["manifest"];
            prop_assert_eq!(
                &manifest["metadata"]["name"],
                &body["name"],
                "{}",
                reply.body
            );
            prop_assert_eq!(manifest["metadata"]["namespace"].as_str(), Some(namespace));
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            prop_assert!(
                case.gpu_engine_on_cpu() && message.contains("spec.resources.gpu.count"),
                "the mapping accepted a body the CRD refuses: {}\n→ {}",
                body,
                message
            );
        }
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {
            prop_assert!(
                !case.is_valid(),
                "a body of valid fields was refused: {}\n→ {} {}",
                body,
                reply.status,
                message
            );
            prop_assert!(
                names_one,
                "the refusal names none of {:?}: {}\n→ {} {}",
                names,
                body,
                reply.status,
                message
            );
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "{other} for {body}: {}",
                reply.body
            )));
        }
    }
    Ok(reply.status)
}

#[test]
fn create_body_mapping_agrees_with_the_crd() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = support::own_server(AuthMode::Off);
    let namespace = rt.block_on(support::namespace("props"));
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        // Each shrinking step is a request too.
        max_shrink_iters: 1000,
        ..ProptestConfig::default()
    });
    let seen: RefCell<BTreeMap<u16, u32>> = RefCell::default();
    let started = Instant::now();
    let result = runner.run(&case(), |case| {
        let status = rt.block_on(check(&server, &namespace, &case))?;
        *seen.borrow_mut().entry(status.as_u16()).or_default() += 1;
        Ok(())
    });
    let seen = seen.into_inner();
    eprintln!(
        "create_body_mapping_agrees_with_the_crd: {cases} cases in {:.1} s, answers by status {seen:?}",
        started.elapsed().as_secs_f64()
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, case)) => {
            panic!("{why}\nminimal case: {}", case.body(&namespace))
        }
        Err(e) => panic!("{e}"),
    }
    // The property says little unless both sides of it are exercised.
    if cases >= DEFAULT_CASES {
        assert!(
            seen.contains_key(&200) && seen.contains_key(&400),
            "the generated bodies were not both accepted and refused: {seen:?}"
        );
    }
}
