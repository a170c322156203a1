//! Models and HuggingFace endpoints against the local HuggingFace Hub server (real Hub response
//! shapes, `kubeairunway_testenv::hf_hub`) and the real local control plane: catalog, search
//! with plans for the cluster's GPU types, paging and caching, gated models with and without a
//! token, GGUF files, the plan endpoint, the OAuth round trip, and the token Secrets.

mod support;

use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, PostParams};
use kubeairunway_api::ModelDeployment;
use kubeairunway_testenv::hf_hub::{HubServer, OAUTH_CLIENT_ID, TOKEN_NO_GATED_ACCESS, TOKEN_READ};
use kubeairunway_testenv::{User, shared};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server};

/// The local Hub all servers of this binary talk to (faults are tested in `models_faults.rs`).
fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start().expect("local HuggingFace Hub"))
}

/// A server on `hub_url` with small Hub pages, so a search follows several `Link` pages.
fn start_server(hub_url: String, mode: AuthMode) -> Server {
    support::start_with_hub(hub_url, mode, |c| c.huggingface.search_page_size = 10)
}

/// The binary's server on the shared local Hub, with an HTTP client of this test's own.
fn server(mode: AuthMode) -> Server {
    static ON: OnceLock<Server> = OnceLock::new();
    static OFF: OnceLock<Server> = OnceLock::new();
    let cell = match mode {
        AuthMode::On => &ON,
        AuthMode::Off => &OFF,
    };
    cell.get_or_init(|| start_server(hub().url(), mode))
        .with_own_client()
}

async fn get_with_token(server: &Server, path: &str, hf_token: Option<&str>) -> Reply {
    let mut req = server.request(Method::GET, path, None);
    if let Some(t) = hf_token {
        req = req.header("X-HF-Token", t);
    }
    Reply::read(req.send().await.expect("request")).await
}

fn ids(models: &Value) -> Vec<String> {
    models
        .as_array()
        .expect("models array")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

/// The cluster's GPU products (crates/testenv/nodes.yaml).
const CLUSTER_GPUS: [&str; 3] = ["NVIDIA-H100-80GB-HBM3", "NVIDIA-A100-SXM4-40GB", "Tesla-T4"];

fn gpu_plan<'a>(plan: &'a Value, gpu: &str) -> &'a Value {
    plan["gpus"]
        .as_array()
        .expect("gpus")
        .iter()
        .find(|g| g["gpuType"] == gpu)
        .unwrap_or_else(|| panic!("no plan for {gpu} in {plan}"))
}

#[tokio::test]
async fn the_catalog_lists_18_models_and_finds_ids_with_slashes() {
    let s = server(AuthMode::Off);
    let list = s.get("/api/models", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["models"].as_array().map(Vec::len), Some(18));
    for path in [
        "/api/models/Qwen/Qwen3-0.6B",
        "/api/models/Qwen%2FQwen3-0.6B",
    ] {
        let one = s.get(path, None).await;
        assert_eq!(one.status, StatusCode::OK, "{path}: {}", one.body);
        assert_eq!(one.body["id"], "Qwen/Qwen3-0.6B");
        assert_eq!(one.body["contextLength"], 32768);
        assert_eq!(
            one.body["supportedEngines"],
            json!(["vllm", "sglang", "trtllm"])
        );
    }
    let kaito = s.get("/api/models/kaito/mixtral-8x7b", None).await;
    assert_eq!(kaito.body["minGpus"], 0);
    let missing = s.get("/api/models/nobody/nothing", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.message(), "Model not found");
}

#[tokio::test]
async fn searching_qwen_returns_compatible_models_with_plans_for_the_clusters_gpus() {
    let s = server(AuthMode::Off);
    let reply = s.get("/api/models/search?q=qwen&limit=50", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let models = &reply.body["models"];
    let found = ids(models);
    assert!(found.contains(&"Qwen/Qwen3-0.6B".to_string()), "{found:?}");
    assert!(
        found.contains(&"Qwen/Qwen3-0.6B-GGUF".to_string()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|id| id.contains("Audio")),
        "other pipelines are filtered: {found:?}"
    );
    assert_eq!(reply.body["query"], "qwen");
    for m in models.as_array().expect("models") {
        assert_eq!(m["compatible"], true, "{m}");
        assert!(m.get("incompatibilityReason").is_none(), "{m}");
        assert!(
            !m["supportedEngines"]
                .as_array()
                .expect("engines")
                .is_empty(),
            "{m}"
        );
        assert!(
            !m["architectures"].as_array().expect("archs").is_empty(),
            "{m}"
        );
        assert!(
            m["id"]
                .as_str()
                .expect("id")
                .to_lowercase()
                .contains("qwen"),
            "{m}"
        );
    }

    let qwen = models
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["id"] == "Qwen/Qwen3-0.6B")
        .expect("Qwen3-0.6B");
    assert_eq!(qwen["author"], "Qwen");
    assert_eq!(qwen["name"], "Qwen3-0.6B");
    assert_eq!(qwen["pipelineTag"], "text-generation");
    assert_eq!(qwen["libraryName"], "transformers");
    assert_eq!(qwen["architectures"], json!(["Qwen3ForCausalLM"]));
    assert_eq!(qwen["gated"], false);
    assert_eq!(qwen["supportedEngines"], json!(["vllm", "sglang"]));
    assert!(qwen["parameterCount"].as_u64().expect("parameters") > 500_000_000);
    assert_eq!(qwen["estimatedGpuMemoryGb"], 2);
    assert_eq!(qwen["estimatedGpuMemory"], "2GB");
    let plan = &qwen["plan"];
    assert_eq!(plan["basis"], "config", "{plan}");
    // 2 × 28 layers × 8 KV heads × 128 head dim × 2 bytes.
    assert_eq!(plan["kvCacheBytesPerToken"], 114_688);
    let planned: Vec<&str> = plan["gpus"]
        .as_array()
        .expect("gpus")
        .iter()
        .map(|g| g["gpuType"].as_str().expect("gpuType"))
        .collect();
    for gpu in CLUSTER_GPUS {
        assert!(planned.contains(&gpu), "{gpu} missing from {planned:?}");
        let g = gpu_plan(plan, gpu);
        assert_eq!(g["gpusNeeded"], 1, "{g}");
        assert_eq!(g["fits"], true, "{g}");
    }

    // GGUF repositories run on CPU with llama.cpp: no GPU plan.
    let gguf = models
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["id"] == "Qwen/Qwen3-0.6B-GGUF")
        .expect("gguf");
    assert_eq!(gguf["supportedEngines"], json!(["llamacpp"]));
    assert!(gguf.get("plan").is_none(), "{gguf}");

    // A large model needs several GPUs of a type, and does not fit a 1-GPU T4 node.
    let big = s
        .get("/api/models/search?q=Qwen2.5-72B&limit=5", None)
        .await;
    assert_eq!(big.status, StatusCode::OK, "{}", big.body);
    let big = big.body["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["id"] == "Qwen/Qwen2.5-72B-Instruct")
        .cloned()
        .expect("72B found");
    let h100 = gpu_plan(&big["plan"], "NVIDIA-H100-80GB-HBM3");
    assert!(h100["gpusNeeded"].as_u64().expect("needed") >= 2, "{h100}");
    assert_eq!(h100["fits"], true);
    let t4 = gpu_plan(&big["plan"], "Tesla-T4");
    assert_eq!(t4["fits"], false, "{t4}");
    assert_eq!(t4["fit"], "exceeds");
}

#[tokio::test]
async fn search_pages_are_consistent_and_cached() {
    let s = server(AuthMode::Off);
    let mut seen = Vec::new();
    let mut offset = 0;
    let mut last_total;
    loop {
        let reply = s
            .get(
                &format!("/api/models/search?q=qwen2.5&limit=7&offset={offset}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let page = ids(&reply.body["models"]);
        let total = reply.body["total"].as_u64().expect("total") as usize;
        assert!(page.len() <= 7);
        assert!(total >= offset + page.len(), "{}", reply.body);
        seen.extend(page.clone());
        last_total = total;
        if reply.body["hasMore"] == false {
            assert_eq!(offset + page.len(), total, "the last page ends at total");
            break;
        }
        assert_eq!(page.len(), 7, "a page before the last is full");
        offset += 7;
        assert!(offset <= 200, "paging never ends");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no model appears twice: {seen:?}");
    assert_eq!(seen.len(), last_total);
    assert!(
        last_total > 30,
        "the Qwen2.5 models span several Hub pages of 10: {last_total}"
    );
    assert!(
        hub().requests("/api/models?search=qwen2.5&") >= 4,
        "the search followed the Hub's Link pages"
    );

    // The same query again is served from the cache: the Hub sees no new listing request.
    let before = hub().requests("/api/models?search=qwen2.5&");
    let again = s
        .get("/api/models/search?q=qwen2.5&limit=7&offset=7", None)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(ids(&again.body["models"]), seen[7..14].to_vec());
    assert_eq!(
        hub().requests("/api/models?search=qwen2.5&"),
        before,
        "served from the cache"
    );
}

#[tokio::test]
async fn gated_models_are_planned_exactly_only_with_a_token_that_has_access() {
    let s = server(AuthMode::Off);
    let path = "/api/models/meta-llama/Llama-3.1-8B-Instruct/plan?gpuType=A100-80GB";

    let anonymous = get_with_token(&s, path, None).await;
    assert_eq!(anonymous.status, StatusCode::OK, "{}", anonymous.body);
    assert_eq!(anonymous.body["basis"], "parameters");
    assert!(anonymous.body["kvCacheBytesPerToken"].is_null());
    let notes = anonymous.body["notes"].to_string();
    assert!(notes.contains("gated"), "{notes}");

    let no_access = get_with_token(&s, path, Some(TOKEN_NO_GATED_ACCESS)).await;
    assert_eq!(no_access.status, StatusCode::OK, "{}", no_access.body);
    assert_eq!(no_access.body["basis"], "parameters");
    assert!(
        no_access.body["notes"].to_string().contains("accept"),
        "{}",
        no_access.body
    );

    let with_token = get_with_token(&s, path, Some(TOKEN_READ)).await;
    assert_eq!(with_token.status, StatusCode::OK, "{}", with_token.body);
    assert_eq!(with_token.body["basis"], "config");
    // 2 × 32 layers × 8 KV heads × 128 head dim × 2 bytes.
    assert_eq!(with_token.body["kvCacheBytesPerToken"], 131_072);
    assert_eq!(with_token.body["modelMaxContextLength"], 131_072);
    let a100 = &with_token.body["gpus"][0];
    assert_eq!(a100["gpuType"], "A100-80GB");
    assert_eq!(a100["gpusNeeded"], 1);

    // Search shows the gated flag either way, and the token unlocks the exact plan there too.
    let search = get_with_token(&s, "/api/models/search?q=Llama-3.1-8B", None).await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    let llama = search.body["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["id"] == "meta-llama/Llama-3.1-8B-Instruct")
        .cloned()
        .expect("gated model listed");
    assert_eq!(llama["gated"], true);
    assert_eq!(llama["plan"]["basis"], "parameters");
    let search = get_with_token(&s, "/api/models/search?q=Llama-3.1-8B", Some(TOKEN_READ)).await;
    let llama = search.body["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["id"] == "meta-llama/Llama-3.1-8B-Instruct")
        .cloned()
        .expect("gated model listed");
    assert_eq!(llama["plan"]["basis"], "config");
}

#[tokio::test]
async fn the_plan_endpoint_validates_its_parameters() {
    let s = server(AuthMode::Off);
    let ok = s
        .get(
            "/api/models/Qwen/Qwen3-0.6B/plan?gpuType=Tesla-T4&contextLength=32768&concurrency=4",
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["contextLength"], 32768);
    assert_eq!(ok.body["concurrency"], 4);
    assert_eq!(ok.body["gpus"].as_array().map(Vec::len), Some(1));
    assert_eq!(ok.body["gpus"][0]["gpuType"], "Tesla-T4");

    let all = s.get("/api/models/Qwen%2FQwen3-0.6B/plan", None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["gpus"].as_array().map(Vec::len), Some(3));

    for (path, needle) in [
        (
            "/api/models/Qwen/Qwen3-0.6B/plan?gpuType=TPU-v9",
            "Unknown gpuType",
        ),
        (
            "/api/models/Qwen/Qwen3-0.6B/plan?contextLength=0",
            "contextLength",
        ),
        (
            "/api/models/Qwen/Qwen3-0.6B/plan?concurrency=0",
            "concurrency",
        ),
        (
            "/api/models/Qwen/Qwen3-0.6B/plan?concurrency=many",
            "concurrency",
        ),
        ("/api/models/Qwen/Qwen3-0.6B/plan?bogus=1", "bogus"),
        ("/api/models/a/b/c/plan", "Invalid model id"),
        ("/api/models/..%2Fsecrets/gguf-files", "Invalid model id"),
    ] {
        let reply = s.get(path, None).await;
        reply.assert_error(StatusCode::BAD_REQUEST, needle, path);
    }
    let missing = s.get("/api/models/nobody/nothing/plan", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert!(
        missing.message().contains("not found"),
        "{}",
        missing.message()
    );
}

#[tokio::test]
async fn gguf_files_are_listed_with_sizes_and_hub_errors_map_to_their_status() {
    let s = server(AuthMode::Off);
    let reply = s
        .get("/api/models/Qwen/Qwen3-0.6B-GGUF/gguf-files", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let files: Vec<String> = serde_json::from_value(reply.body["files"].clone()).expect("files");
    assert!(!files.is_empty());
    assert!(files.iter().all(|f| f.ends_with(".gguf")), "{files:?}");
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    for f in &files {
        assert!(
            reply.body["sizes"][f].as_u64().is_some_and(|n| n > 0),
            "{f}: {}",
            reply.body
        );
    }

    let escaped = s
        .get("/api/models/Qwen%2FQwen3-0.6B-GGUF/gguf-files", None)
        .await;
    assert_eq!(escaped.body["files"], reply.body["files"]);

    let missing = s.get("/api/models/nobody/nothing/gguf-files", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert!(
        missing.message().contains("not found"),
        "{}",
        missing.message()
    );
}

/// `POST start` for `redirect`: (state, session key, authorization URL).
async fn start_sign_in(s: &Server, redirect: &str) -> (String, String, String) {
    start_sign_in_with(s, redirect, None).await
}

/// `POST start` for `redirect` with an `Authorization` header (the reference's shared client
/// sends its bearer token on every call): (state, session key, authorization URL).
async fn start_sign_in_with(
    s: &Server,
    redirect: &str,
    authorization: Option<&str>,
) -> (String, String, String) {
    let mut req = s
        .request(Method::POST, "/api/oauth/huggingface/start", None)
        .json(&json!({ "redirectUri": redirect }));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let started = Reply::read(req.send().await.expect("start")).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let field = |k: &str| started.body[k].as_str().expect(k).to_string();
    (
        field("state"),
        field("sessionKey"),
        field("authorizationUrl"),
    )
}

/// The browser at the Hub: signs in and follows the redirect back; (code, state).
async fn authorize_at_hub(authorization_url: &str, redirect: &str) -> (String, String) {
    let browser = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let at_hub = browser
        .get(authorization_url)
        .send()
        .await
        .expect("authorize");
    assert_eq!(at_hub.status(), StatusCode::FOUND);
    let location = at_hub.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.starts_with(redirect), "{location}");
    let back = url::Url::parse(&location).expect("redirect URL");
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| panic!("{name} missing in {location}"))
    };
    (param("code"), param("state"))
}

/// `GET verifier/{state}` with `key` as the session key.
async fn fetch_verifier(s: &Server, state: &str, key: Option<&str>) -> reqwest::Response {
    fetch_verifier_with(s, state, key, None).await
}

/// `GET verifier/{state}` with `key` as the session key and an `Authorization` header.
async fn fetch_verifier_with(
    s: &Server,
    state: &str,
    key: Option<&str>,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut req = s.request(
        Method::GET,
        &format!("/api/oauth/huggingface/verifier/{state}"),
        None,
    );
    if let Some(key) = key {
        req = req.header("X-OAuth-Session-Key", key);
    }
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send().await.expect("verifier")
}

async fn exchange(s: &Server, body: &Value) -> Reply {
    s.call(
        Method::POST,
        "/api/oauth/huggingface/token",
        None,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn oauth_round_trip_with_pkce_bound_to_the_starting_client() {
    let s = server(AuthMode::Off);
    let config = s.get("/api/oauth/huggingface/config", None).await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.body["clientId"], OAUTH_CLIENT_ID);
    assert_eq!(config.body["enabled"], true);
    assert_eq!(
        config.body["scopes"],
        json!(["openid", "profile", "read-repos"])
    );
    assert_eq!(
        config.body["authorizeUrl"],
        format!("{}/oauth/authorize", hub().url())
    );

    let redirect = format!("{}/oauth/callback/huggingface", s.base);
    let foreign = s
        .call(
            Method::POST,
            "/api/oauth/huggingface/start",
            None,
            Some(&json!({ "redirectUri": "http://evil.example/cb" })),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.body);
    assert!(foreign.message().contains("redirectUri"));

    let (state, key, authorization_url) = start_sign_in(&s, &redirect).await;
    assert!(authorization_url.starts_with(&format!("{}/oauth/authorize?", hub().url())));
    let (code, state_back) = authorize_at_hub(&authorization_url, &redirect).await;
    assert_eq!(state_back, state);

    // Only the client that started the sign-in gets the verifier, and only once: a wrong key,
    // or no key from another requester, gets nothing and leaves it for the right client.
    let other = fetch_verifier_with(&s, &state, None, Some("Bearer someone-else")).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let wrong = fetch_verifier(&s, &state, Some("not-the-key")).await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let verifier = fetch_verifier(&s, &state, Some(&key)).await;
    assert_eq!(verifier.status(), StatusCode::OK);
    let verifier: Value = verifier.json().await.expect("json");
    assert_eq!(verifier["redirectUri"], redirect);
    let again = fetch_verifier(&s, &state, Some(&key)).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "one-time read");
    let again = fetch_verifier(&s, &state, None).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "one-time read");

    // The reference's shared client (the Headlamp plugin) sends no session key, but its bearer
    // token on every call: the same Origin and Authorization as the start get the verifier.
    let headlamp = Some("Bearer headlamp-token");
    let (ref_state, _, ref_url) = start_sign_in_with(&s, &redirect, headlamp).await;
    let (_, back) = authorize_at_hub(&ref_url, &redirect).await;
    assert_eq!(back, ref_state);
    for stranger in [None, Some("Bearer someone-else")] {
        let got = fetch_verifier_with(&s, &ref_state, None, stranger).await;
        assert_eq!(got.status(), StatusCode::NOT_FOUND, "{stranger:?}");
    }
    let got = fetch_verifier_with(&s, &ref_state, None, headlamp).await;
    assert_eq!(got.status(), StatusCode::OK);
    let got: Value = got.json().await.expect("json");
    assert_eq!(got["redirectUri"], redirect);
    assert_eq!(got["codeVerifier"].as_str().map(str::len), Some(43));
    let replay = fetch_verifier_with(&s, &ref_state, None, headlamp).await;
    assert_eq!(replay.status(), StatusCode::NOT_FOUND, "one-time read");

    // A wrong verifier is refused by the Hub (PKCE)...
    let wrong_verifier = exchange(
        &s,
        &json!({ "code": code, "codeVerifier": "x".repeat(43), "redirectUri": redirect }),
    )
    .await;
    assert_eq!(
        wrong_verifier.status,
        StatusCode::BAD_REQUEST,
        "{}",
        wrong_verifier.body
    );
    assert!(
        wrong_verifier
            .message()
            .starts_with("Failed to exchange authorization code")
    );

    // ...the right one yields a token and its user.
    let (state, key, authorization_url) = start_sign_in(&s, &redirect).await;
    let (code, _) = authorize_at_hub(&authorization_url, &redirect).await;
    let verifier: Value = fetch_verifier(&s, &state, Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let body =
        json!({ "code": code, "codeVerifier": verifier["codeVerifier"], "redirectUri": redirect });
    let token = exchange(&s, &body).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    assert_eq!(token.body["tokenType"], "Bearer");
    assert_eq!(token.body["user"]["name"], "test-user");
    let access = token.body["accessToken"].as_str().expect("token");
    // The issued token works at the Hub.
    let who = s
        .http
        .get(format!("{}/api/whoami-v2", hub().url()))
        .bearer_auth(access)
        .send()
        .await
        .expect("whoami");
    assert_eq!(who.status(), StatusCode::OK);
    // Codes are single-use.
    let replay = exchange(&s, &body).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);

    for bad in [
        json!({ "code": "", "codeVerifier": "x".repeat(43), "redirectUri": redirect }),
        json!({ "code": "c", "codeVerifier": "short", "redirectUri": redirect }),
        json!({ "code": "c", "codeVerifier": "x".repeat(43), "redirectUri": "http://evil.example/" }),
        json!({ "code": "c", "codeVerifier": "x".repeat(43) }),
    ] {
        let reply = exchange(&s, &bad).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.body
        );
    }
}

async fn admin() -> Client {
    support::admin_client().await
}

async fn secret_in(client: &Client, ns: &str) -> Option<Secret> {
    support::get_or_none(
        &Api::<Secret>::namespaced(client.clone(), ns),
        "hf-token-secret",
    )
    .await
}

#[tokio::test]
async fn token_secrets_are_saved_where_deployments_run_and_never_returned() {
    // A Hub of its own: other tests' whoami calls must not blur the count below.
    let hub = HubServer::start().expect("hub");
    let s = start_server(hub.url(), AuthMode::Off);
    let admin = admin().await;
    let ns = shared()
        .namespace("hf-secrets")
        .await
        .expect("namespace")
        .name;
    let md: ModelDeployment = serde_json::from_value(json!({
        "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": { "name": "gated", "namespace": ns },
        "spec": { "model": { "id": "meta-llama/Llama-3.1-8B-Instruct" }, "engine": { "type": "vllm" } },
    }))
    .expect("md");
    Api::<ModelDeployment>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &md)
        .await
        .expect("create md");
    // The cache must know the new namespace before saving targets it.
    s.get_eventually("/api/deployments", None, "deployment cached", |b| {
        b.to_string().contains(&ns)
    })
    .await;

    // An invalid token changes nothing.
    let invalid = s
        .call(
            Method::POST,
            "/api/secrets/huggingface",
            None,
            Some(&json!({ "accessToken": "hf_invalid" })),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST, "{}", invalid.body);
    assert!(invalid.message().starts_with("Invalid HuggingFace token"));
    assert!(secret_in(&admin, &ns).await.is_none());
    for bad in [
        json!({}),
        json!({ "accessToken": "" }),
        json!({ "accessToken": "a b" }),
    ] {
        let reply = s
            .call(Method::POST, "/api/secrets/huggingface", None, Some(&bad))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let saved = s
        .call(
            Method::POST,
            "/api/secrets/huggingface",
            None,
            Some(&json!({ "accessToken": TOKEN_READ })),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["success"], true);
    assert_eq!(saved.body["user"]["name"], "test-user");
    assert!(
        !saved.body.to_string().contains(TOKEN_READ),
        "the token is never returned"
    );
    let namespaces: Vec<String> = saved.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["namespace"].as_str().expect("ns").to_string())
        .collect();
    assert!(
        namespaces.contains(&"kubeairunway-system".to_string()),
        "{namespaces:?}"
    );
    assert!(namespaces.contains(&ns), "{namespaces:?}");
    for n in &namespaces {
        let secret = secret_in(&admin, n)
            .await
            .unwrap_or_else(|| panic!("secret in {n}"));
        let data = secret.data.expect("data");
        assert_eq!(data["HF_TOKEN"].0, TOKEN_READ.as_bytes(), "{n}");
        let labels = secret.metadata.labels.expect("labels");
        assert_eq!(labels["kubeairunway.ai/secret-type"], "huggingface-token");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "kubeairunway");
    }

    // Polling the status reads metadata only: the Hub is not asked, the token not returned.
    let whoami_calls = hub.requests("/api/whoami-v2");
    for _ in 0..3 {
        let status = s.get("/api/secrets/huggingface/status", None).await;
        assert_eq!(status.status, StatusCode::OK, "{}", status.body);
        assert_eq!(status.body["configured"], true);
        assert_eq!(status.body["user"]["name"], "test-user");
        assert!(!status.body.to_string().contains(TOKEN_READ));
        let entry = status.body["namespaces"]
            .as_array()
            .expect("namespaces")
            .iter()
            .find(|e| e["name"] == ns.as_str())
            .cloned()
            .expect("deployment namespace listed");
        assert_eq!(entry["exists"], true);
    }
    assert_eq!(hub.requests("/api/whoami-v2"), whoami_calls);

    // A namespace-scoped user cannot write everywhere: a clear 403 naming the namespaces.
    let team = start_server(hub.url(), AuthMode::On);
    let forbidden = team
        .call(
            Method::POST,
            "/api/secrets/huggingface",
            Some(User::TeamA),
            Some(&json!({ "accessToken": TOKEN_READ })),
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.body
    );
    assert!(
        forbidden.message().contains("kubeairunway-system"),
        "{}",
        forbidden.message()
    );
    let viewer = team
        .call(
            Method::DELETE,
            "/api/secrets/huggingface",
            Some(User::Viewer),
            None,
        )
        .await;
    // Refused in every namespace: the refusal itself, naming none of them (tests/security.rs).
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "{}", viewer.body);
    assert!(viewer.message().contains("viewer"), "{}", viewer.message());
    assert!(
        !viewer.message().contains(&ns),
        "a viewer deletes nothing: {}",
        viewer.message()
    );
    assert!(secret_in(&admin, &ns).await.is_some());

    let deleted = s
        .call(Method::DELETE, "/api/secrets/huggingface", None, None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body["success"], true);
    for n in &namespaces {
        assert!(secret_in(&admin, n).await.is_none(), "{n}");
    }
    let status = s.get("/api/secrets/huggingface/status", None).await;
    assert_eq!(status.body["configured"], false);
    assert!(status.body.get("user").is_none());
}
