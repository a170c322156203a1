//! The local HuggingFace Hub answers like the real one: the listing with its `expand` rules and
//! `Link` pagination, model info with `?blobs=true`, raw files of public and gated repos, the
//! Hub's 401/403/404 answers, whoami, the OAuth code flow with PKCE, and every fault.
//!
//! No Kubernetes is needed. Tests that change the fault or stop the Hub start their own server.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kubeairunway_testenv::HubServer;
use kubeairunway_testenv::hf_hub::{Fault, OAUTH_CLIENT_ID, TOKEN_NO_GATED_ACCESS, TOKEN_READ};
use rand::Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The Hub shared by the tests that leave it as it is.
fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start().expect("start the local Hub"))
}

/// A client that does not follow redirects, so tests see the Hub's 302/307 answers.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn ids_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_string())
        .collect()
}

/// The URL of `Link: <…>; rel="next"`.
fn next_link(response: &reqwest::Response) -> Option<String> {
    let link = header(response, "link")?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

const QWEN_REPOS: usize = 8 + 40;

#[tokio::test]
async fn the_default_listing_is_light_and_search_is_a_case_insensitive_substring() {
    let url = format!("{}/api/models?search=QWEN", hub().url());
    let response = get(&url, None).await;
    assert_eq!(response.status(), 200);
    assert!(next_link(&response).is_none(), "one page without a limit");
    let items = json(response).await;
    let ids = ids_of(&items);
    assert_eq!(ids.len(), QWEN_REPOS, "{ids:?}");
    assert!(ids.iter().all(|id| id.to_lowercase().contains("qwen")));
    assert!(ids.contains(&"community-4/QWEN2.5-0.5B-lora-merged-4".to_string()));
    let light: HashSet<&str> = [
        "_id",
        "id",
        "likes",
        "trendingScore",
        "private",
        "downloads",
        "tags",
        "pipeline_tag",
        "library_name",
        "createdAt",
        "modelId",
    ]
    .into();
    for item in items.as_array().expect("array") {
        let keys: HashSet<&str> = item
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys.is_subset(&light), "{keys:?}");
        for key in [
            "_id",
            "id",
            "modelId",
            "likes",
            "downloads",
            "tags",
            "createdAt",
        ] {
            assert!(keys.contains(key), "{key} missing in {item}");
        }
    }
}

#[tokio::test]
async fn expand_returns_only_id_and_the_expanded_properties() {
    // What the reference sent: expand[] together with full and config.
    let url = format!(
        "{}/api/models?search=qwen&filter=text-generation&full=true&config=true&limit=100&expand[]=safetensors",
        hub().url()
    );
    let items = json(get(&url, None).await).await;
    for item in items.as_array().expect("array") {
        let keys: HashSet<&str> = item
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert!(
            keys.is_subset(&["_id", "id", "safetensors"].into()),
            "full/config are ignored with expand: {item}"
        );
    }

    let url = format!(
        "{}/api/models?search=qwen&filter=text-generation&limit=100&expand[]=safetensors&expand[]=config&expand[]=pipeline_tag&expand[]=library_name&expand[]=gated&expand=downloads",
        hub().url()
    );
    let items = json(get(&url, None).await).await;
    let qwen3 = items
        .as_array()
        .expect("array")
        .iter()
        .find(|item| item["id"] == "Qwen/Qwen3-0.6B")
        .expect("Qwen3-0.6B listed");
    assert_eq!(qwen3["config"]["architectures"][0], "Qwen3ForCausalLM");
    assert_eq!(qwen3["safetensors"]["total"], 751_632_384_u64);
    assert_eq!(qwen3["pipeline_tag"], "text-generation");
    assert_eq!(qwen3["library_name"], "transformers");
    assert_eq!(qwen3["gated"], false);
    assert!(qwen3["downloads"].as_u64().is_some());
    assert!(qwen3.get("likes").is_none());

    let without_expand = format!(
        "{}/api/models?search=qwen3-0.6b&full=true&config=true",
        hub().url()
    );
    let items = json(get(&without_expand, None).await).await;
    let qwen3 = &items[0];
    assert_eq!(qwen3["id"], "Qwen/Qwen3-0.6B");
    assert_eq!(qwen3["config"]["model_type"], "qwen3");
    assert_eq!(qwen3["author"], "Qwen");
    assert!(qwen3["siblings"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(qwen3.get("safetensors").is_none(), "not part of full");

    let invalid = get(&format!("{}/api/models?expand[]=_id", hub().url()), None).await;
    assert_eq!(invalid.status(), 400);
    assert!(json(invalid).await["error"].as_str().is_some());
}

#[tokio::test]
async fn filters_select_by_tag_pipeline_library_and_author() {
    let text_generation = json(
        get(
            &format!(
                "{}/api/models?search=qwen&filter=text-generation",
                hub().url()
            ),
            None,
        )
        .await,
    )
    .await;
    let ids = ids_of(&text_generation);
    assert_eq!(ids.len(), QWEN_REPOS - 1);
    assert!(!ids.contains(&"Qwen/Qwen2-Audio-7B-Instruct".to_string()));
    assert!(ids.contains(&"Qwen/Qwen3-0.6B-GGUF".to_string()));

    let gguf = json(get(&format!("{}/api/models?filter=gguf", hub().url()), None).await).await;
    let mut gguf = ids_of(&gguf);
    gguf.sort();
    assert_eq!(
        gguf,
        ["Qwen/Qwen2.5-1.5B-Instruct-GGUF", "Qwen/Qwen3-0.6B-GGUF"]
    );

    let both = json(
        get(
            &format!(
                "{}/api/models?filter=text-generation&filter=gguf&search=0.6b",
                hub().url()
            ),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        ids_of(&both),
        ["Qwen/Qwen3-0.6B-GGUF"],
        "filters combine with AND"
    );

    let meta = json(
        get(
            &format!("{}/api/models?author=meta-llama", hub().url()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(ids_of(&meta).len(), 2);
}

#[tokio::test]
async fn pagination_follows_the_link_header_to_the_end() {
    let mut url = Some(format!(
        "{}/api/models?search=qwen&sort=downloads&direction=-1&limit=20",
        hub().url()
    ));
    let mut pages = Vec::new();
    let mut downloads = Vec::new();
    let mut seen = Vec::new();
    while let Some(next) = url.take() {
        let response = get(&next, None).await;
        assert_eq!(response.status(), 200);
        url = next_link(&response);
        if let Some(link) = &url {
            assert!(
                link.starts_with(&format!("{}/api/models?", hub().url())),
                "{link}"
            );
            assert!(
                link.contains("search=qwen")
                    && link.contains("limit=20")
                    && link.contains("cursor=")
            );
        }
        let items = json(response).await;
        let page = items.as_array().expect("array");
        pages.push(page.len());
        for item in page {
            downloads.push(item["downloads"].as_u64().expect("downloads"));
            seen.push(item["id"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(pages, [20, 20, 8]);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), QWEN_REPOS);
    assert!(
        downloads.windows(2).all(|w| w[0] >= w[1]),
        "sorted by downloads, descending"
    );
    assert_eq!(seen[0], "Qwen/Qwen3-0.6B");

    let bad_cursor = get(&format!("{}/api/models?cursor=%21%21", hub().url()), None).await;
    assert_eq!(bad_cursor.status(), 400);
}

#[tokio::test]
async fn model_info_has_the_reduced_config_safetensors_and_siblings() {
    let base = hub().url();
    let info = json(get(&format!("{base}/api/models/Qwen/Qwen3-0.6B"), None).await).await;
    assert_eq!(info["_id"], "680da718233834890aa01f51");
    assert_eq!(info["id"], "Qwen/Qwen3-0.6B");
    assert_eq!(info["modelId"], "Qwen/Qwen3-0.6B");
    assert_eq!(info["author"], "Qwen");
    assert_eq!(info["sha"], "c1899de289a04d12100db370d81485cdf75e47ca");
    assert_eq!(info["gated"], false);
    assert_eq!(info["private"], false);
    assert_eq!(info["cardData"]["license"], "apache-2.0");
    assert_eq!(
        info["transformersInfo"]["auto_model"],
        "AutoModelForCausalLM"
    );
    assert_eq!(info["config"]["architectures"][0], "Qwen3ForCausalLM");
    assert_eq!(info["config"]["model_type"], "qwen3");
    assert_eq!(
        info["config"]["tokenizer_config"]["eos_token"],
        "<|im_end|>"
    );
    assert!(
        info["config"].get("num_hidden_layers").is_none(),
        "only config.json has the dimensions"
    );
    assert_eq!(info["safetensors"]["parameters"]["BF16"], 751_632_384_u64);
    let siblings = info["siblings"].as_array().expect("siblings");
    assert!(
        siblings
            .iter()
            .all(|s| s.as_object().expect("object").len() == 1)
    );
    let names: Vec<&str> = siblings
        .iter()
        .map(|s| s["rfilename"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"config.json") && names.contains(&"model.safetensors"));

    let blobs = json(
        get(
            &format!("{base}/api/models/Qwen/Qwen3-0.6B?blobs=true"),
            None,
        )
        .await,
    )
    .await;
    let sibling = |name: &str| {
        blobs["siblings"]
            .as_array()
            .expect("siblings")
            .iter()
            .find(|s| s["rfilename"] == name)
            .cloned()
            .expect("sibling")
    };
    let weights = sibling("model.safetensors");
    assert_eq!(weights["size"], 1_503_300_328_u64);
    assert_eq!(weights["lfs"]["size"], 1_503_300_328_u64);
    assert_eq!(
        weights["lfs"]["sha256"],
        "f47f71177f32bcd101b7573ec9171e6a57f4f4d31148d38e382306f42996874b"
    );
    assert_eq!(weights["lfs"]["pointerSize"], 135);
    let config = sibling("config.json");
    assert!(config.get("lfs").is_none());
    let served = get(
        &format!("{base}/Qwen/Qwen3-0.6B/resolve/main/config.json"),
        None,
    )
    .await
    .bytes()
    .await
    .expect("config.json");
    assert_eq!(
        config["size"],
        served.len() as u64,
        "the size of what resolve serves"
    );

    // The listing and model info agree.
    let listed = json(
        get(
            &format!("{base}/api/models?search=Qwen/Qwen3-0.6B&full=true"),
            None,
        )
        .await,
    )
    .await;
    let listed = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["id"] == "Qwen/Qwen3-0.6B")
        .cloned()
        .expect("listed");
    for key in [
        "_id",
        "sha",
        "downloads",
        "likes",
        "createdAt",
        "lastModified",
        "tags",
        "pipeline_tag",
        "library_name",
        "gated",
    ] {
        assert_eq!(listed[key], info[key], "{key}");
    }

    let expanded = json(
        get(
            &format!("{base}/api/models/Qwen/Qwen3-0.6B?expand[]=safetensors"),
            None,
        )
        .await,
    )
    .await;
    let keys: HashSet<&str> = expanded
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["_id", "id", "safetensors"].into());

    let gguf = json(
        get(
            &format!("{base}/api/models/Qwen/Qwen2.5-1.5B-Instruct-GGUF?blobs=true"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(gguf["library_name"], "gguf");
    assert_eq!(gguf["gguf"]["architecture"], "qwen2");
    let gguf_files: Vec<(String, u64)> = gguf["siblings"]
        .as_array()
        .expect("siblings")
        .iter()
        .filter(|s| {
            s["rfilename"]
                .as_str()
                .is_some_and(|n| n.ends_with(".gguf"))
        })
        .map(|s| {
            (
                s["rfilename"].as_str().expect("name").to_string(),
                s["size"].as_u64().expect("size"),
            )
        })
        .collect();
    assert_eq!(gguf_files.len(), 9);
    assert!(gguf_files.contains(&(
        "qwen2.5-1.5b-instruct-q4_k_m.gguf".to_string(),
        1_117_320_736
    )));
}

#[tokio::test]
async fn model_info_by_revision_and_by_another_case() {
    let base = hub().url();
    let sha = "c1899de289a04d12100db370d81485cdf75e47ca";
    for revision in ["main", sha, &sha[..7]] {
        let response = get(
            &format!("{base}/api/models/Qwen/Qwen3-0.6B/revision/{revision}"),
            None,
        )
        .await;
        assert_eq!(response.status(), 200, "{revision}");
        assert_eq!(json(response).await["sha"], sha);
    }
    let unknown = get(
        &format!("{base}/api/models/Qwen/Qwen3-0.6B/revision/v9"),
        None,
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(header(&unknown, "x-error-code"), Some("RevisionNotFound"));

    let moved = get(
        &format!("{base}/api/models/qwen/qwen3-0.6b?expand[]=sha"),
        None,
    )
    .await;
    assert_eq!(moved.status(), 307);
    assert_eq!(
        header(&moved, "location"),
        Some("/api/models/Qwen/Qwen3-0.6B?expand[]=sha")
    );
}

#[tokio::test]
async fn a_missing_repository_is_a_bare_401_anonymously_and_a_404_with_a_token() {
    let base = hub().url();
    for url in [
        format!("{base}/api/models/nobody/no-such-model"),
        format!("{base}/nobody/no-such-model/resolve/main/config.json"),
    ] {
        let anonymous = get(&url, None).await;
        assert_eq!(anonymous.status(), 401, "{url}");
        assert_eq!(header(&anonymous, "x-error-code"), None);
        assert_eq!(
            header(&anonymous, "x-error-message"),
            Some("Invalid username or password.")
        );
        assert_eq!(
            json(anonymous).await["error"],
            "Invalid username or password."
        );

        let signed_in = get(&url, Some(TOKEN_READ)).await;
        assert_eq!(signed_in.status(), 404, "{url}");
        assert_eq!(header(&signed_in, "x-error-code"), Some("RepoNotFound"));
        assert_eq!(json(signed_in).await["error"], "Repository not found");
    }

    let bad_token = get(
        &format!("{base}/api/models/Qwen/Qwen3-0.6B"),
        Some("hf_notAValidToken"),
    )
    .await;
    assert_eq!(
        bad_token.status(),
        401,
        "an unknown token is refused even on a public repo"
    );
    assert_eq!(
        json(bad_token).await["error"],
        "Invalid credentials in Authorization header"
    );
}

#[tokio::test]
async fn gated_files_need_a_token_whose_user_accepted_the_terms() {
    let base = hub().url();
    for (id, gating) in [
        ("meta-llama/Llama-3.1-8B-Instruct", "manual"),
        ("meta-llama/Llama-3.3-70B-Instruct", "manual"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "auto"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "auto"),
    ] {
        let info = get(&format!("{base}/api/models/{id}"), None).await;
        assert_eq!(info.status(), 200, "metadata of {id} is public");
        let info = json(info).await;
        assert_eq!(info["gated"], gating);
        assert!(info["safetensors"]["total"].as_u64().is_some());

        let url = format!("{base}/{id}/resolve/main/config.json");
        let anonymous = get(&url, None).await;
        assert_eq!(anonymous.status(), 401, "{id}");
        assert_eq!(header(&anonymous, "x-error-code"), Some("GatedRepo"));
        assert_eq!(
            header(&anonymous, "x-error-message").map(str::to_string),
            Some(format!(
                "Access to model {id} is restricted. You must have access to it and be authenticated to access it. Please log in."
            ))
        );

        let refused = get(&url, Some(TOKEN_NO_GATED_ACCESS)).await;
        assert_eq!(refused.status(), 403, "{id}");
        assert_eq!(header(&refused, "x-error-code"), Some("GatedRepo"));
        assert!(
            header(&refused, "x-error-message")
                .is_some_and(|m| m.contains("is restricted and you are not in the authorized list"))
        );

        let allowed = get(&url, Some(TOKEN_READ)).await;
        assert_eq!(allowed.status(), 200, "{id}");
        assert_eq!(header(&allowed, "x-repo-commit"), info["sha"].as_str());
        let config = json(allowed).await;
        assert_eq!(config["num_key_value_heads"], 8);
        assert!(config["num_hidden_layers"].as_u64().is_some());
    }
}

#[tokio::test]
async fn resolve_serves_files_and_names_what_is_missing() {
    let base = hub().url();
    let response = get(
        &format!("{base}/Qwen/Qwen3-0.6B/resolve/main/config.json"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-repo-commit"),
        Some("c1899de289a04d12100db370d81485cdf75e47ca")
    );
    assert!(header(&response, "etag").is_some_and(|e| e.starts_with('"')));
    let config = json(response).await;
    assert_eq!(config["num_hidden_layers"], 28);
    assert_eq!(config["num_key_value_heads"], 8);
    assert_eq!(config["head_dim"], 128);
    assert_eq!(config["torch_dtype"], "bfloat16");

    let head = client()
        .head(format!("{base}/Qwen/Qwen3-8B/resolve/main/config.json"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    assert!(header(&head, "content-length").is_some());

    let community = json(
        get(
            &format!("{base}/community-7/Qwen2.5-0.5B-Instruct-dpo-7/resolve/main/config.json"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(community["hidden_size"], 896);

    let missing = get(
        &format!("{base}/Qwen/Qwen3-0.6B/resolve/main/no-such-file.json"),
        None,
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "x-error-code"), Some("EntryNotFound"));
    assert!(header(&missing, "x-repo-commit").is_some());

    let bad_revision = get(
        &format!("{base}/Qwen/Qwen3-0.6B/resolve/v0/config.json"),
        None,
    )
    .await;
    assert_eq!(bad_revision.status(), 404);
    assert_eq!(
        header(&bad_revision, "x-error-code"),
        Some("RevisionNotFound")
    );

    let gguf = get(
        &format!("{base}/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf"),
        None,
    )
    .await;
    assert_eq!(gguf.status(), 302, "LFS files redirect to the CDN");
    assert_eq!(header(&gguf, "x-linked-size"), Some("639447744"));
    assert!(header(&gguf, "location").is_some_and(|l| l.starts_with(&base)));
}

#[tokio::test]
async fn whoami_names_the_token_user_and_refuses_anything_else() {
    let url = format!("{}/api/whoami-v2", hub().url());
    let me = get(&url, Some(TOKEN_READ)).await;
    assert_eq!(me.status(), 200);
    let me = json(me).await;
    assert_eq!(me["type"], "user");
    assert_eq!(me["name"], "test-user");
    assert_eq!(me["fullname"], "Test User");
    assert!(
        me["id"].as_str().is_some()
            && me["email"].as_str().is_some()
            && me["avatarUrl"].as_str().is_some()
    );
    assert_eq!(me["orgs"], serde_json::json!([]));
    assert_eq!(me["auth"]["type"], "access_token");
    assert_eq!(me["auth"]["accessToken"]["role"], "read");
    assert!(me["auth"]["accessToken"]["displayName"].as_str().is_some());

    let other = json(get(&url, Some(TOKEN_NO_GATED_ACCESS)).await).await;
    assert_eq!(other["name"], "other-user");

    let invalid = get(&url, Some("hf_revokedOrMistyped")).await;
    assert_eq!(invalid.status(), 401);
    assert_eq!(
        json(invalid).await,
        serde_json::json!({"error": "Invalid credentials in Authorization header"})
    );

    let anonymous = get(&url, None).await;
    assert_eq!(anonymous.status(), 401);
    assert!(json(anonymous).await["error"].as_str().is_some());
}

/// A PKCE pair: a 43-character verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback/huggingface";

/// Runs `/oauth/authorize` like a browser; returns the code.
async fn authorize(challenge: &str, state: &str) -> String {
    let mut url = url::Url::parse(&format!("{}/oauth/authorize", hub().url())).expect("url");
    url.query_pairs_mut()
        .append_pair("client_id", OAUTH_CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile read-repos")
        .append_pair("response_type", "code")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", state);
    let response = get(url.as_str(), None).await;
    assert_eq!(response.status(), 302);
    let location =
        url::Url::parse(header(&response, "location").expect("Location")).expect("redirect");
    assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some(state));
    param("code").expect("code")
}

async fn exchange(code: &str, verifier: &str, redirect_uri: &str) -> reqwest::Response {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("client_id", OAUTH_CLIENT_ID)
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", verifier)
        .finish();
    client()
        .post(format!("{}/oauth/token", hub().url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token request")
}

#[tokio::test]
async fn oauth_code_flow_with_pkce_issues_a_token_that_works_on_the_hub() {
    let (verifier, challenge) = pkce();
    let code = authorize(&challenge, "state-1").await;
    let response = exchange(&code, &verifier, REDIRECT_URI).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let token = json(response).await;
    let access_token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert!(access_token.starts_with("hf_oauth_"));
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 28800);
    assert_eq!(token["scope"], "openid profile read-repos");
    assert_eq!(
        token["id_token"]
            .as_str()
            .expect("id_token")
            .split('.')
            .count(),
        3
    );

    let me = json(
        get(
            &format!("{}/api/whoami-v2", hub().url()),
            Some(&access_token),
        )
        .await,
    )
    .await;
    assert_eq!(me["name"], "test-user");
    assert_eq!(me["auth"]["type"], "oauth");
    let userinfo = json(
        get(
            &format!("{}/oauth/userinfo", hub().url()),
            Some(&access_token),
        )
        .await,
    )
    .await;
    assert_eq!(userinfo["preferred_username"], "test-user");
    let gated = get(
        &format!(
            "{}/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json",
            hub().url()
        ),
        Some(&access_token),
    )
    .await;
    assert_eq!(
        gated.status(),
        200,
        "read-repos grants test-user's gated access"
    );

    let reused = exchange(&code, &verifier, REDIRECT_URI).await;
    assert_eq!(reused.status(), 400, "codes are single use");
    assert_eq!(json(reused).await["error"], "invalid_grant");

    let discovery = json(
        get(
            &format!("{}/.well-known/openid-configuration", hub().url()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/oauth/token", hub().url())
    );
}

#[tokio::test]
async fn oauth_refuses_a_wrong_verifier_redirect_uri_or_client() {
    let (verifier, challenge) = pkce();
    let code = authorize(&challenge, "state-2").await;
    let (other_verifier, _) = pkce();
    let wrong = exchange(&code, &other_verifier, REDIRECT_URI).await;
    assert_eq!(wrong.status(), 400);
    let body = json(wrong).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().is_some());
    let after = exchange(&code, &verifier, REDIRECT_URI).await;
    assert_eq!(after.status(), 400, "a refused exchange used the code up");

    let code = authorize(&challenge, "state-3").await;
    let elsewhere = exchange(&code, &verifier, "http://127.0.0.1:9/elsewhere").await;
    assert_eq!(elsewhere.status(), 400);
    assert_eq!(json(elsewhere).await["error"], "invalid_grant");

    let unknown_client = get(
        &format!(
            "{}/oauth/authorize?client_id=nope&redirect_uri={}&response_type=code&code_challenge={challenge}&code_challenge_method=S256",
            hub().url(),
            REDIRECT_URI
        ),
        None,
    )
    .await;
    assert_eq!(unknown_client.status(), 400);

    let no_pkce = get(
        &format!(
            "{}/oauth/authorize?client_id={OAUTH_CLIENT_ID}&redirect_uri={REDIRECT_URI}&response_type=code&state=s",
            hub().url()
        ),
        None,
    )
    .await;
    assert_eq!(no_pkce.status(), 302);
    assert!(
        header(&no_pkce, "location")
            .is_some_and(|l| l.contains("error=invalid_request") && l.contains("state=s"))
    );
}

#[tokio::test]
async fn faults_apply_to_every_route_until_reset() {
    let hub = HubServer::start().expect("start");
    let base = hub.url();
    let routes = [
        format!("{base}/api/models?search=qwen"),
        format!("{base}/api/models/Qwen/Qwen3-0.6B"),
        format!("{base}/api/whoami-v2"),
    ];

    hub.set_fault(Fault::Slow(Duration::from_millis(1500)));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let error = impatient
        .get(&routes[0])
        .send()
        .await
        .expect_err("slower than the timeout");
    assert!(error.is_timeout(), "{error}");

    for code in [500_u16, 503] {
        hub.set_fault(Fault::Status(code));
        for url in &routes {
            let response = get(url, Some(TOKEN_READ)).await;
            assert_eq!(response.status().as_u16(), code, "{url}");
            assert!(json(response).await["error"].as_str().is_some());
        }
    }

    hub.set_fault(Fault::MalformedJson);
    for url in &routes {
        let response = get(url, Some(TOKEN_READ)).await;
        assert_eq!(response.status(), 200);
        assert!(
            header(&response, "content-type").is_some_and(|c| c.starts_with("application/json"))
        );
        let body = response.bytes().await.expect("body");
        assert!(serde_json::from_slice::<Value>(&body).is_err(), "{url}");
    }

    hub.set_fault(Fault::None);
    for url in &routes {
        assert_eq!(get(url, Some(TOKEN_READ)).await.status(), 200, "{url}");
    }
}

#[tokio::test]
async fn a_stopped_hub_refuses_connections() {
    let hub = HubServer::start().expect("start");
    let url = format!("{}/api/models", hub.url());
    assert_eq!(get(&url, None).await.status(), 200);
    hub.stop();
    let error = client()
        .get(&url)
        .send()
        .await
        .expect_err("the Hub is down");
    assert!(error.is_connect(), "{error}");
}

#[tokio::test]
async fn requests_are_counted_by_path_prefix() {
    let hub = HubServer::start().expect("start");
    let base = hub.url();
    for _ in 0..2 {
        get(&format!("{base}/api/models/Qwen/Qwen3-0.6B"), None).await;
    }
    get(&format!("{base}/api/models?search=qwen"), None).await;
    get(
        &format!("{base}/Qwen/Qwen3-0.6B/resolve/main/config.json"),
        None,
    )
    .await;
    assert_eq!(hub.requests("/api/models/Qwen/"), 2);
    assert_eq!(hub.requests("/api/models"), 3);
    assert_eq!(hub.requests("/Qwen/Qwen3-0.6B/resolve/"), 1);
    assert_eq!(hub.requests("/api/whoami-v2"), 0);
}
