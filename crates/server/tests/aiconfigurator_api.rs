//! `/api/aiconfigurator/*` with NVIDIA's real AI Configurator CLI (aiconfigurator 0.12.0, which
//! `make aiconfigurator` installs and `make test` passes as AICONFIGURATOR_PATH): a real search
//! for Qwen/Qwen3-0.6B on two H100 SXM GPUs (about 20–40 s per run on two busy cores), the
//! deadline, the CLI missing, unsupported GPUs and invalid input.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, Reply, Server, start_in_mode};

/// The CLI under test: AICONFIGURATOR_PATH, else where `make aiconfigurator` puts it.
fn cli() -> PathBuf {
    support::cached_tool(
        "AICONFIGURATOR_PATH",
        "aiconfigurator-0.12.0/bin/aiconfigurator",
        "aiconfigurator",
    )
}

/// A server running `path` with `timeout`, its temporary directories under `work`.
fn server(path: PathBuf, timeout: Duration, work: &tempfile::TempDir) -> Server {
    let work = work.path().to_path_buf();
    let server = start_in_mode(AuthMode::Off, move |c| {
        c.aiconfigurator.path = path;
        c.aiconfigurator.timeout = timeout;
        c.aiconfigurator.work_dir = Some(work);
    });
    // Analyses outlast the helpers' 30 s client timeout.
    Server {
        base: server.base,
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("http client"),
    }
}

fn leftovers(work: &tempfile::TempDir) -> Vec<String> {
    std::fs::read_dir(work.path())
        .expect("work dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

async fn analyze(server: &Server, body: Value) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = server
        .post_json("/api/aiconfigurator/analyze", None, &body)
        .await;
    (reply, started.elapsed())
}

#[tokio::test]
async fn the_real_cli_recommends_aggregated_and_disaggregated_settings() {
    let work = tempfile::tempdir().expect("work dir");
    let server = server(cli(), Duration::from_secs(240), &work);

    let status = server.get("/api/aiconfigurator/status", None).await;
    status.expect_status(StatusCode::OK, "status");
    assert_eq!(status.body["available"], true, "{}", status.body);
    assert_eq!(status.body["version"], "0.12.0");
    assert!(status.body.get("error").is_none());

    // Throughput: aggregated wins for this model (5285.7 vs 2443.1 tokens/s/GPU); one GPU per
    // worker, two replicas on the two GPUs.
    let (reply, took) = analyze(
        &server,
        json!({"modelId": "Qwen/Qwen3-0.6B", "gpuType": "NVIDIA-H100-80GB-HBM3", "gpuCount": 2}),
    )
    .await;
    eprintln!("aiconfigurator cli default (throughput) answered in {took:?}");
    reply.expect_status(StatusCode::OK, "analyze");
    assert_eq!(
        reply.headers["content-type"], "application/json",
        "{:?}",
        reply.headers
    );
    let r = &reply.body;
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["source"], "aiconfigurator");
    assert_eq!(r["mode"], "aggregated");
    assert_eq!(r["replicas"], 2);
    assert_eq!(r["backend"], "vllm");
    assert_eq!(r["system"], "h100_sxm");
    assert_eq!(r["supportedBackends"], json!(["vllm", "sglang", "trtllm"]));
    assert_eq!(r["config"]["tensorParallelDegree"], 1);
    assert_eq!(r["config"]["gpusPerReplica"], 1);
    assert_eq!(r["config"]["maxModelLen"], 5000);
    assert!(r["config"]["maxBatchSize"].as_u64() > Some(1), "{r}");
    assert!(r["config"].get("prefillReplicas").is_none());
    let perf = &r["estimatedPerformance"];
    assert_eq!(perf["totalGpus"], 2);
    assert!(
        perf["throughputTokensPerSec"].as_f64() > Some(1000.0),
        "{r}"
    );
    assert!(perf["ttftMs"].as_f64() > Some(0.0));
    assert!(r["durationMs"].as_u64() > Some(1000), "{r}");
    assert!(
        took < Duration::from_secs(240),
        "the analysis took {took:?}"
    );

    // Latency: the disaggregated configuration has the lower time to first token (24 ms vs
    // 117 ms): one prefill and one decode worker of one GPU each.
    let (reply, took) = analyze(
        &server,
        json!({"modelId": "Qwen/Qwen3-0.6B", "gpuType": "H100", "gpuCount": 2, "optimizeFor": "latency"}),
    )
    .await;
    eprintln!("aiconfigurator cli default (latency) answered in {took:?}");
    reply.expect_status(StatusCode::OK, "analyze for latency");
    let r = &reply.body;
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["mode"], "disaggregated", "{r}");
    assert_eq!(r["replicas"], 1);
    assert_eq!(r["config"]["prefillReplicas"], 1);
    assert_eq!(r["config"]["decodeReplicas"], 1);
    assert_eq!(r["config"]["prefillTensorParallel"], 1);
    assert_eq!(r["config"]["decodeTensorParallel"], 1);
    assert_eq!(r["config"]["prefillGpusPerWorker"], 1);
    assert_eq!(r["config"]["decodeGpusPerWorker"], 1);
    let ttft = r["estimatedPerformance"]["ttftMs"].as_f64().expect("ttft");
    assert!(ttft > 0.0 && ttft < 117.0, "{r}");

    assert_eq!(
        leftovers(&work),
        Vec::<String>::new(),
        "temporary directories left behind"
    );
}

#[tokio::test]
async fn a_run_past_its_deadline_is_stopped_and_leaves_nothing_behind() {
    let work = tempfile::tempdir().expect("work dir");
    let server = server(cli(), Duration::from_secs(2), &work);
    let (reply, took) = analyze(
        &server,
        json!({"modelId": "Qwen/Qwen3-0.6B", "gpuType": "H100", "gpuCount": 2}),
    )
    .await;
    reply.expect_status(StatusCode::OK, "analyze");
    let r = &reply.body;
    assert_eq!(r["success"], false, "{r}");
    assert_eq!(r["source"], "defaults");
    assert_eq!(
        r["error"],
        "AI Configurator did not finish within 2 s and was stopped"
    );
    assert_eq!(
        r["warnings"],
        json!(["Using default configuration: the analysis took too long"])
    );
    assert_eq!(r["config"]["tensorParallelDegree"], 2);
    assert_eq!(r["system"], "h100_sxm");
    // The version check (once) plus two seconds of search, not the search's 20+ s.
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(
        leftovers(&work),
        Vec::<String>::new(),
        "temporary directories left behind"
    );
}

#[tokio::test]
async fn without_the_cli_answers_are_marked_defaults_not_errors() {
    let work = tempfile::tempdir().expect("work dir");
    let server = server(
        PathBuf::from("/nonexistent/bin/aiconfigurator"),
        Duration::from_secs(30),
        &work,
    );
    let status = server.get("/api/aiconfigurator/status", None).await;
    status.expect_status(StatusCode::OK, "status");
    assert_eq!(status.body["available"], false, "{}", status.body);
    let error = status.body["error"].as_str().expect("error");
    assert!(
        error.starts_with("AI Configurator CLI not found (/nonexistent/bin/aiconfigurator)"),
        "{error}"
    );
    assert!(status.body.get("version").is_none());

    let (reply, _) = analyze(
        &server,
        json!({"modelId": "Qwen/Qwen3-8B", "gpuType": "NVIDIA-H200", "gpuCount": 12, "optimizeFor": "latency"}),
    )
    .await;
    reply.expect_status(StatusCode::OK, "analyze");
    let r = &reply.body;
    assert_eq!(r["success"], false, "{r}");
    assert_eq!(r["source"], "defaults");
    assert_eq!(r["error"], error);
    assert_eq!(
        r["warnings"],
        json!(["AI Configurator not available, using default configuration"])
    );
    assert_eq!(
        r["config"],
        json!({"tensorParallelDegree": 8, "gpusPerReplica": 8, "maxBatchSize": 256,
               "gpuMemoryUtilization": 0.9, "maxModelLen": 4096})
    );
    assert_eq!(r["mode"], "aggregated");
    assert_eq!(r["replicas"], 1);
    assert!(r.get("estimatedPerformance").is_none());

    // A GPU AI Configurator has no data for is said so (before the CLI would even be needed),
    // instead of silently becoming an H100.
    let (reply, _) = analyze(
        &server,
        json!({"modelId": "Qwen/Qwen3-8B", "gpuType": "NVIDIA-L4", "gpuCount": 1}),
    )
    .await;
    reply.expect_status(StatusCode::OK, "analyze on L4");
    let r = &reply.body;
    assert_eq!(r["success"], false, "{r}");
    assert_eq!(r["source"], "defaults");
    assert!(
        r["error"].as_str().is_some_and(
            |e| e.starts_with("AI Configurator has no performance data for \"NVIDIA-L4\"")
        ),
        "{r}"
    );
    assert_eq!(r["config"]["tensorParallelDegree"], 1);
    assert_eq!(leftovers(&work), Vec::<String>::new());
}

#[tokio::test]
async fn invalid_input_is_a_400_naming_the_field() {
    let work = tempfile::tempdir().expect("work dir");
    let server = server(
        PathBuf::from("/nonexistent/bin/aiconfigurator"),
        Duration::from_secs(30),
        &work,
    );
    let (reply, _) = analyze(
        &server,
        json!({"modelId": "--help", "gpuType": "H100", "gpuCount": 0}),
    )
    .await;
    reply.assert_error(
        StatusCode::BAD_REQUEST,
        "Invalid request: modelId",
        "bad model id",
    );
    let errors: Vec<&str> = reply.body["error"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("modelId: invalid model ID format"));
    assert_eq!(errors[1], "gpuCount: expected an integer from 1 to 1024");
    assert_eq!(reply.body["error"]["statusCode"], 400);

    for (body, field) in [
        (
            json!({"gpuType": "H100", "gpuCount": 1}),
            "modelId: required",
        ),
        (
            json!({"modelId": "Qwen/..", "gpuType": "H100", "gpuCount": 1}),
            "modelId: invalid",
        ),
        (
            json!({"modelId": "gpt2", "gpuType": "", "gpuCount": 1}),
            "gpuType: must not be empty",
        ),
        (
            json!({"modelId": "gpt2", "gpuType": "H100", "gpuCount": "2"}),
            "gpuCount: expected an integer",
        ),
        (
            json!({"modelId": "gpt2", "gpuType": "H100", "gpuCount": 1, "optimizeFor": "cost"}),
            "optimizeFor:",
        ),
        (
            json!({"modelId": "gpt2", "gpuType": "H100", "gpuCount": 1, "maxLatencyMs": 0}),
            "maxLatencyMs:",
        ),
        (
            json!({"modelId": "gpt2", "gpuType": "H100", "gpuCount": 1, "backend": "ollama"}),
            "backend:",
        ),
    ] {
        let (reply, _) = analyze(&server, body.clone()).await;
        reply.assert_error(StatusCode::BAD_REQUEST, field, &body);
    }

    // Malformed JSON is the client's mistake (the reference answered 500).
    let reply = Reply::read(
        server
            .http
            .post(server.url("/api/aiconfigurator/analyze"))
            .header("content-type", "application/json")
            .body("{\"modelId\":")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "Malformed JSON", "malformed body");
    // Found by schemathesis: this route's documented 400 always lists its problems.
    let errors = reply.body["error"]["errors"].as_array().expect("errors");
    assert!(
        errors.len() == 1
            && errors[0]
                .as_str()
                .is_some_and(|e| e.contains("Malformed JSON")),
        "{}",
        reply.body
    );

    // normalize-gpu
    let reply = server
        .post_json(
            "/api/aiconfigurator/normalize-gpu",
            None,
            &json!({"gpuProduct": 7}),
        )
        .await;
    reply.assert_error(
        StatusCode::BAD_REQUEST,
        "gpuProduct string is required",
        "no label",
    );
    let reply = server
        .post_json(
            "/api/aiconfigurator/normalize-gpu",
            None,
            &json!({"gpuProduct": "NVIDIA-A100-SXM4-80GB"}),
        )
        .await;
    reply.expect_status(StatusCode::OK, "normalize");
    assert_eq!(
        reply.body,
        json!({"gpuProduct": "NVIDIA-A100-SXM4-80GB", "normalized": "A100-80GB",
               "system": "a100_sxm", "supportedBackends": ["vllm", "sglang", "trtllm"]})
    );
    let reply = server
        .post_json(
            "/api/aiconfigurator/normalize-gpu",
            None,
            &json!({"gpuProduct": "NVIDIA-GB200"}),
        )
        .await;
    assert_eq!(reply.body["system"], "gb200", "{}", reply.body);
    let reply = server
        .post_json(
            "/api/aiconfigurator/normalize-gpu",
            None,
            &json!({"gpuProduct": "NVIDIA-L4"}),
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"gpuProduct": "NVIDIA-L4", "normalized": "L4"})
    );
}
