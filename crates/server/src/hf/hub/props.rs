//! Properties of the Hub client's parsers (issue 19): model ids, tokens, the `Link` header of
//! listing pages and the Hub's error bodies. `cargo test` runs proptest's default 256 cases per
//! property; `make stress-props` sets `PROPTEST_CASES=100000`.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::*;

/// Proptest's defaults (including `PROPTEST_CASES`), without failure files: a failing case is
/// kept as a plain regression test in `super::tests` instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One client for every case (building it sets up TLS).
static HUB: LazyLock<Hub> = LazyLock::new(|| Hub::new(HubConfig::default()).expect("hub client"));

/// The id rule, stated as the Hub documents it: `name` or `namespace/name`, at most 96 bytes,
/// each part of `[A-Za-z0-9_.-]` that neither starts nor ends with `-` or `.` and has no `--`
/// or `..`.
fn reference_id(id: &str) -> bool {
    let part_ok = |p: &str| {
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && edge(p.chars().next())
            && edge(p.chars().last())
            && !p.contains("--")
            && !p.contains("..")
    };
    let parts: Vec<&str> = id.split('/').collect();
    id.len() <= 96 && parts.len() <= 2 && parts.iter().all(|p| part_ok(p))
}

/// Ids from the characters that matter (separators, edges, URL metacharacters, non-ASCII),
/// real-looking ids, and ids around the length limit.
fn id_like() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "Z",
                "0",
                "_",
                "-",
                ".",
                "/",
                "..",
                "--",
                "%2F",
                "?",
                "#",
                " ",
                "é",
                "\\",
                "\0",
                "Qwen",
                "Llama-3.1-8B",
            ]),
            0..10,
        )
        .prop_map(|p| p.concat()),
        "[A-Za-z0-9][A-Za-z0-9_.-]{0,20}[A-Za-z0-9]/[A-Za-z0-9][A-Za-z0-9_.-]{0,20}[A-Za-z0-9]",
        "[a-z]{40,50}/[a-z]{40,50}",
        "(?s).{0,100}",
    ]
}

proptest! {
    #![proptest_config(config())]

    /// `ModelId::parse` accepts exactly the ids of the rule; an accepted id is kept as written
    /// and lands in the model URL as its own path segments, unescaped; a refusal says so.
    #[test]
    fn model_id_matches_reference(id in id_like()) {
        match ModelId::parse(&id) {
            Ok(parsed) => {
                prop_assert!(reference_id(&id), "accepted {:?}", id);
                prop_assert_eq!(parsed.as_str(), id.as_str());
                prop_assert_eq!(parsed.to_string(), id.clone());
                let url = HUB.model_url(&parsed, &[]);
                prop_assert_eq!(url.path(), format!("/api/models/{id}"));
                prop_assert_eq!(url.host_str(), Some("huggingface.co"));
            }
            Err(e) => {
                prop_assert!(!reference_id(&id), "refused {:?}: {}", id, e);
                prop_assert!(e.to_string().starts_with("Invalid model id \""), "{}", e);
            }
        }
    }

    /// A token is accepted exactly when its trimmed text is 1–1024 printable ASCII characters
    /// without spaces, and is kept trimmed; a token is never in its `Debug` form.
    #[test]
    fn token_matches_reference(
        token in prop_oneof![
            "[ \t\n]{0,2}[!-~]{0,12}[ \t\n]{0,2}",
            "(?s).{0,16}",
            (1020usize..1030).prop_map(|n| "h".repeat(n)),
        ]
    ) {
        let t = token.trim();
        let expected = if t.is_empty() {
            Err(InvalidToken::Empty)
        } else if t.len() > 1024 || !t.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            Err(InvalidToken::Malformed)
        } else {
            Ok(t)
        };
        let got = HfToken::parse(&token);
        prop_assert_eq!(got.as_ref().map(HfToken::expose).map_err(|e| *e), expected);
        if let Ok(parsed) = got {
            prop_assert_eq!(format!("{parsed:?}"), "HfToken(***)");
        }
        // The header form: whatever bytes arrive, no panic; blank means no token.
        if let Ok(value) = axum::http::HeaderValue::from_bytes(token.as_bytes()) {
            let mut headers = HeaderMap::new();
            headers.insert(TOKEN_HEADER, value);
            match HfToken::from_headers(&headers) {
                Ok(None) => prop_assert!(t.is_empty() || token.trim().is_empty()),
                Ok(Some(parsed)) => prop_assert_eq!(parsed.expose(), t),
                Err(_) => {}
            }
        }
    }

    /// The `Link` header of a listing page never panics, whatever it holds; a well-formed
    /// `<target>; rel="next"` part is found among others and resolved against the page URL.
    #[test]
    fn next_link_matches_reference(
        noise in prop::collection::vec(
            prop::sample::select(vec!["<", ">", ";", ",", "rel=", "\"next\"", "next", "prev", " ", "/x", "?a=1", "https://h/", "é"]),
            0..12,
        ),
        before in prop::option::of("</api/models\\?p=[0-9]{1,3}>; rel=\"(prev|first)\""),
        target in prop::option::of("/api/models\\?cursor=[A-Za-z0-9]{1,12}"),
        spaced in any::<bool>(),
    ) {
        let current = Url::parse("https://huggingface.co/api/models?search=q").expect("url");
        let noise = noise.concat();
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&noise) {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::LINK, value);
            let _ = next_link(&headers, &current);
        }
        let Some(target) = target else { return Ok(()) };
        let rel = if spaced { "rel = \"next\"" } else { "rel=next" };
        let next = format!("<{target}>; {rel}");
        let value = match before {
            Some(b) => format!("{b}, {next}"),
            None => next,
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::LINK, value.parse().expect("header"));
        let found = next_link(&headers, &current).map(|u| u.to_string());
        prop_assert_eq!(found, Some(format!("https://huggingface.co{target}")), "{}", value);
    }

    /// Any error body (bytes, JSON with the Hub's `error` keys of any type) is summarised
    /// without panicking, never longer than 300 characters and an ellipsis.
    #[test]
    fn error_bodies_never_panic(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            (
                "(error|error_description|message|detail)",
                prop_oneof![Just(String::new()), Just(" \n".to_string()), "(?s).{0,400}"],
            ).prop_map(|(k, v)| {
                serde_json::json!({ k: v }).to_string().into_bytes()
            }),
            "(?s).{0,400}".prop_map(String::into_bytes),
        ]
    ) {
        let text = describe_body(&body);
        prop_assert!(!text.is_empty());
        prop_assert!(text.chars().count() <= 301, "{} characters", text.chars().count());
    }
}
