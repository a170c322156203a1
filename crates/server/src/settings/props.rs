//! Properties of the settings parsers (issue 19): the `PUT /api/settings` body, and the
//! `config.json` text of the stored ConfigMap, which an edit made with kubectl may have turned
//! into anything. `cargo test` runs proptest's default 256 cases per property; `make
//! stress-props` sets `PROPTEST_CASES=100000`.

use std::collections::BTreeMap;

use super::*;
use proptest::prelude::*;

/// Proptest's defaults (including `PROPTEST_CASES`), without failure files: a failing case is
/// kept as a plain regression test in `super::tests` instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The namespace rule, restated: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric.
fn is_namespace(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&s.len())
        && s.chars().all(|c| alnum(c) || c == '-')
        && s.starts_with(alnum)
        && s.ends_with(alnum)
}

/// Valid namespaces, names one character too long, and near misses (upper case, dots, slashes,
/// spaces, leading or trailing `-`, empty).
fn namespace_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
        "[a-z0-9][-a-z0-9]{62,64}",
        "[-a-zA-Z0-9./_ é]{0,12}",
        Just(String::new()),
        Just("../etc".to_string()),
    ]
}

/// Keys of a settings object: the known one, the legacy one, near misses and anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("defaultNamespace".to_string()),
        1 => Just("activeProviderId".to_string()),
        1 => Just("namespace".to_string()),
        1 => Just("DefaultNamespace".to_string()),
        1 => Just("defaultNamespace ".to_string()),
        2 => "[a-zA-Z_é` ]{0,12}",
    ]
}

/// Any JSON value up to depth 3: extreme numbers, namespace-like strings and any text.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Non-finite floats become null, as serde_json writes them.
        any::<f64>().prop_map(Value::from),
        namespace_like().prop_map(Value::String),
        "(?s).{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `PUT /api/settings` body: mostly objects of settings-like keys, sometimes anything.
fn body() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        3 => namespace_like().prop_map(Value::String),
        1 => any_json(),
    ];
    prop_oneof![
        4 => prop::collection::btree_map(key(), value, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => any_json(),
    ]
}

/// A stored settings object: anything a kubectl edit may leave.
fn stored_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), any_json(), 0..5).prop_map(|m| m.into_iter().collect())
}

fn config_map(data: BTreeMap<String, String>) -> ConfigMap {
    ConfigMap {
        data: Some(data),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// A body is accepted exactly when it is an object whose only key is `defaultNamespace`,
    /// holding a valid namespace or null; a refusal names the offending key (or says the body
    /// is not an object), and an accepted value is the one sent.
    #[test]
    fn settings_update_matches_reference(body in body()) {
        let result = SettingsUpdate::validated(body.clone());
        let Value::Object(map) = &body else {
            let err = result.expect_err("a non-object body is refused");
            prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
            prop_assert!(err.message.contains("expected a JSON object"), "{}", err.message);
            return Ok(());
        };
        let unknown: Vec<&String> = map.keys().filter(|k| *k != "defaultNamespace").collect();
        let given = map.get("defaultNamespace");
        let wrong_type = given.is_some_and(|v| !(v.is_string() || v.is_null()));
        let bad_namespace = given.and_then(Value::as_str).is_some_and(|ns| !is_namespace(ns));
        match result {
            Ok(update) => {
                prop_assert!(unknown.is_empty() && !wrong_type && !bad_namespace, "accepted {}", body);
                prop_assert_eq!(update.default_namespace.as_deref(), given.and_then(Value::as_str));
            }
            Err(err) => {
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
                let named = unknown.iter().any(|k| err.message.contains(&format!("`{k}`")))
                    || (wrong_type && err.message.contains("defaultNamespace"))
                    || (bad_namespace && unknown.is_empty() && !wrong_type
                        && err.message.starts_with("Invalid namespace"));
                prop_assert!(named, "{} refused with {:?}", body, err.message);
            }
        }
    }

    /// An accepted update applied to any stored object, written as the ConfigMap text and read
    /// back, gives the same object: the new namespace, every other stored key unchanged.
    #[test]
    fn settings_round_trip(stored in stored_object(), ns in "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?") {
        let update = SettingsUpdate::validated(serde_json::json!({ "defaultNamespace": ns }))
            .expect("a valid namespace is accepted");
        let written = update.apply_to(stored.clone());
        let text = encode(&written).expect("settings encode");
        let read = config_of(&config_map(BTreeMap::from([(CONFIG_KEY.to_string(), text)])));
        prop_assert_eq!(read.as_ref(), Some(&written));
        let read = read.unwrap_or_default();
        for (k, v) in &stored {
            if k != "defaultNamespace" {
                prop_assert_eq!(read.get(k), Some(v), "key {}", k);
            }
        }
        let seen = effective(read, "fallback");
        prop_assert_eq!(seen.get("defaultNamespace").and_then(Value::as_str), Some(ns.as_str()));
    }

    /// Whatever the ConfigMap holds (any keys; `config.json` as any text, a JSON fragment or
    /// any JSON value), reading it never panics; an object reads back as itself, anything else
    /// as no settings; and the namespace clients see is one a request could name.
    #[test]
    fn stored_config_map_never_panics(
        others in prop::collection::btree_map("[a-z.]{1,12}", "(?s).{0,20}", 0..3),
        text in prop_oneof![
            "(?s).{0,60}".prop_map(|t| (t, None)),
            prop::collection::vec(
                prop::sample::select(vec!["{", "}", "[", "]", "\"", ":", ",", "defaultNamespace",
                    "\"defaultNamespace\"", "\"a\"", "1e999", "-0", "null", "\\u0000", " ", "é"]),
                0..16,
            ).prop_map(|parts| (parts.concat(), None)),
            any_json().prop_map(|v| (v.to_string(), Some(v))),
            stored_object().prop_map(|m| {
                let v = Value::Object(m);
                (serde_json::to_string_pretty(&v).unwrap_or_default(), Some(v))
            }),
        ],
        with_key in any::<bool>(),
    ) {
        let (text, value) = text;
        let mut data = others;
        if with_key {
            data.insert(CONFIG_KEY.to_string(), text.clone());
        }
        let read = config_of(&config_map(data));
        match (&value, with_key) {
            (Some(Value::Object(m)), true) => prop_assert_eq!(read.as_ref(), Some(m)),
            (Some(_), true) | (_, false) => prop_assert!(read.is_none(), "{:?}", read),
            (None, true) => {}
        }
        let seen = effective(read.unwrap_or_default(), "fallback");
        let ns = seen.get("defaultNamespace").and_then(Value::as_str).unwrap_or_default();
        prop_assert!(is_namespace(ns), "clients are shown the namespace {:?}", ns);
    }
}
