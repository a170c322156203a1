use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::EngineType;
use serde_json::json;

use super::*;

const VLLM: &str = include_str!("samples/vllm.prom");
const LLAMACPP: &str = include_str!("samples/llamacpp.prom");

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_vllm_summary_reads_the_v1_names() {
    let s = parse(VLLM);
    let sum = Summary::of(&[&s]);
    assert_eq!(sum.family, Some(Family::Vllm));
    assert_eq!(sum.running_requests, Some(3.0));
    assert_eq!(sum.waiting_requests, Some(1.0));
    assert_eq!(sum.kv_cache_usage, Some(0.4375));
    assert_eq!(sum.prompt_tokens_total, Some(12345.0));
    assert_eq!(sum.generation_tokens_total, Some(67890.0));
    // Σ over finished reasons.
    assert_eq!(sum.requests_total, Some(42.0));
    let ttft = sum.time_to_first_token.expect("ttft");
    assert_eq!(ttft.count, 42.0);
    assert!(close(ttft.mean, 2.52 / 42.0));
    // Rank 21 lies in (0.06, 0.08], which holds 10 of the 30 counted by then: 0.06 + 0.02 × 1/10.
    assert!(close(ttft.p50, 0.062), "{:?}", ttft.p50);
    assert!(sum.inter_token_latency.is_some());
    assert!(sum.e2e_latency.is_some());
}

#[test]
fn the_v0_names_still_count() {
    let text = VLLM
        .replace("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
        .replace(
            "vllm:inter_token_latency_seconds",
            "vllm:time_per_output_token_seconds",
        );
    let sum = Summary::of(&[&parse(&text)]);
    assert_eq!(sum.kv_cache_usage, Some(0.4375));
    assert!(sum.inter_token_latency.is_some());
}

#[test]
fn the_llamacpp_summary_has_no_latency() {
    let sum = Summary::of(&[&parse(LLAMACPP)]);
    assert_eq!(sum.family, Some(Family::Llamacpp));
    assert_eq!(sum.running_requests, Some(1.0));
    assert_eq!(sum.waiting_requests, Some(0.0));
    assert_eq!(sum.kv_cache_usage, Some(0.125));
    assert_eq!(sum.prompt_tokens_total, Some(2048.0));
    assert_eq!(sum.generation_tokens_total, Some(4096.0));
    assert_eq!(sum.requests_total, None);
    assert_eq!(sum.time_to_first_token, None);
}

#[test]
fn sglang_and_dynamo_names() {
    let sglang = parse(concat!(
        "# TYPE sglang:num_running_reqs gauge\n",
        "sglang:num_running_reqs{model_name=\"m\"} 2\n",
        "sglang:num_queue_reqs{model_name=\"m\"} 5\n",
        "sglang:token_usage{model_name=\"m\"} 0.5\n",
        "sglang:prompt_tokens_total{model_name=\"m\"} 10\n",
        "sglang:generation_tokens_total{model_name=\"m\"} 20\n",
        "sglang:num_requests_total{model_name=\"m\"} 3\n",
    ));
    let s = Summary::of(&[&sglang]);
    assert_eq!(s.family, Some(Family::Sglang));
    assert_eq!(
        (
            s.running_requests,
            s.waiting_requests,
            s.kv_cache_usage,
            s.requests_total
        ),
        (Some(2.0), Some(5.0), Some(0.5), Some(3.0))
    );
    let dynamo = parse(concat!(
        "dynamo_frontend_inflight_requests{model=\"m\"} 4\n",
        "dynamo_frontend_queued_requests{model=\"m\"} 1\n",
        "dynamo_frontend_input_sequence_tokens_sum{model=\"m\"} 300\n",
        "dynamo_frontend_input_sequence_tokens_count{model=\"m\"} 3\n",
        "dynamo_frontend_output_sequence_tokens_sum{model=\"m\"} 900\n",
        "dynamo_frontend_requests_total{model=\"m\",status=\"success\"} 3\n",
        "dynamo_frontend_requests_total{model=\"m\",status=\"error\"} 1\n",
        "vllm:num_requests_running 9\n",
    ));
    let d = Summary::of(&[&dynamo]);
    assert_eq!(d.family, Some(Family::Dynamo), "the frontend's names win");
    assert_eq!(d.running_requests, Some(4.0));
    assert_eq!(d.prompt_tokens_total, Some(300.0));
    assert_eq!(d.generation_tokens_total, Some(900.0));
    assert_eq!(d.requests_total, Some(4.0));
}

#[test]
fn pods_are_summed_and_cache_usage_averaged() {
    let a = parse(VLLM);
    let b = parse(&VLLM.replace("} 0.4375", "} 0.0625"));
    let s = Summary::of(&[&a, &b]);
    assert_eq!(s.running_requests, Some(6.0));
    assert_eq!(s.kv_cache_usage, Some(0.25));
    assert_eq!(s.prompt_tokens_total, Some(24690.0));
    assert_eq!(s.time_to_first_token.expect("ttft").count, 84.0);
}

#[test]
fn unknown_servers_and_non_finite_values_give_no_figures() {
    assert_eq!(Summary::of(&[&parse("up 1\n")]), Summary::default());
    let s = Summary::of(&[&parse("vllm:num_requests_running NaN\n")]);
    assert_eq!(s.family, Some(Family::Vllm));
    assert_eq!(s.running_requests, None);
}

#[test]
fn quantiles_follow_histogram_quantile() {
    let b = [(0.1, 10.0), (0.2, 20.0), (f64::INFINITY, 20.0)];
    assert!(close(summary::quantile(0.5, &b), 0.1));
    assert!(close(summary::quantile(0.75, &b), 0.15));
    // Above the last finite bound: that bound.
    let c = [(1.0, 1.0), (f64::INFINITY, 10.0)];
    assert!(close(summary::quantile(0.95, &c), 1.0));
    assert_eq!(summary::quantile(0.5, &[]), None);
    assert_eq!(
        summary::quantile(0.5, &[(1.0, 3.0)]),
        None,
        "no +Inf bucket"
    );
    assert_eq!(summary::quantile(0.5, &[(f64::INFINITY, 0.0)]), None);
}

fn snapshot(at_ms: i64, text: &str) -> Snapshot {
    Snapshot {
        at_ms,
        summary: Summary::of(&[&parse(text)]),
    }
}

#[test]
fn rates_between_two_scrapes() {
    let a = snapshot(1_000_000, VLLM);
    let later = VLLM
        .replace("vllm:prompt_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 12345.0",
            "vllm:prompt_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 13345.0")
        .replace("vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 67890.0",
            "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 68390.0")
        .replace("finished_reason=\"stop\",model_name=\"Qwen/Qwen3-0.6B\"} 40.0",
            "finished_reason=\"stop\",model_name=\"Qwen/Qwen3-0.6B\"} 45.0")
        .replace("vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 42.0",
            "vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 47.0")
        .replace("vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 2.52",
            "vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 3.52");
    let b = snapshot(1_010_000, &later);
    let r = Rates::between(&a, &b).expect("rates");
    assert_eq!(r.interval_seconds, 10.0);
    assert!(close(r.prompt_tokens_per_second, 100.0));
    assert!(close(r.generation_tokens_per_second, 50.0));
    assert!(close(r.requests_per_second, 0.5));
    assert!(close(r.time_to_first_token_seconds, 0.2));
    assert_eq!(
        r.e2e_latency_seconds, None,
        "no request finished in the window's histogram"
    );
    // Too close, or the wrong order.
    assert_eq!(Rates::between(&a, &snapshot(1_000_500, VLLM)), None);
    assert_eq!(Rates::between(&b, &a), None);
    // A restart (counters went down) gives no rate rather than a negative one.
    let restarted = Rates::between(&b, &snapshot(1_020_000, VLLM)).expect("rates");
    assert_eq!(restarted.prompt_tokens_per_second, None);
    assert_eq!(restarted.requests_per_second, None);
}

#[test]
fn the_history_is_bounded_in_points_age_and_resolution() {
    let mut h = History::with_bounds(3, 10_000, 60_000);
    let p = |t: i64| Point {
        timestamp: t,
        running_requests: Some(1.0),
        ..Point::default()
    };
    assert!(h.push(p(0)));
    assert!(!h.push(p(5_000)), "closer than the resolution");
    assert!(h.push(p(10_000)));
    assert!(h.push(p(20_000)));
    assert!(h.push(p(30_000)));
    assert_eq!(h.len(), 3, "capacity");
    assert_eq!(h.points(30_000)[0].timestamp, 10_000);
    assert!(!h.push(p(25_000)), "older than the last point");
    assert!(h.push(p(85_000)));
    let ts: Vec<i64> = h.points(85_000).iter().map(|p| p.timestamp).collect();
    assert_eq!(ts, vec![30_000, 85_000], "older than the maximum age");
    assert!(h.points(200_000).is_empty());
    let d = History::new();
    assert_eq!(d.capacity(), 90);
    assert_eq!(std::mem::size_of::<Point>(), 168);
    assert_eq!(d.max_bytes(), 90 * 168);
}

#[test]
fn a_point_carries_the_rates() {
    let s = Summary::of(&[&parse(VLLM)]);
    let r = Rates {
        interval_seconds: 10.0,
        generation_tokens_per_second: Some(5.0),
        ..Rates::default()
    };
    let p = Point::new(7, &s, Some(&r));
    assert_eq!(p.total_requests, Some(4.0));
    assert_eq!(p.generation_tokens_per_second, Some(5.0));
    assert_eq!(Point::new(7, &s, None).generation_tokens_per_second, None);
}

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).expect("pod")
}

#[test]
fn metrics_ports_per_provider() {
    let plain = pod(json!({
        "metadata": { "name": "m-0" },
        "spec": { "containers": [{ "name": "c", "ports": [{ "name": "http", "containerPort": 8080 }] }] }
    }));
    let port = |provider, engine, p: &Pod| metrics_port(provider, engine, p).map(|m| m.port);
    assert_eq!(
        port("kubernetes", Some(EngineType::Llamacpp), &plain),
        Some(8080)
    );
    let unnamed =
        pod(json!({ "metadata": { "name": "m-0" }, "spec": { "containers": [{ "name": "c" }] } }));
    assert_eq!(
        port("kubernetes", Some(EngineType::Vllm), &unnamed),
        Some(8000)
    );
    assert_eq!(
        port("kubernetes", Some(EngineType::Llamacpp), &unnamed),
        Some(8080)
    );
    assert_eq!(port("kaito", Some(EngineType::Vllm), &plain), Some(5000));
    assert_eq!(port("kuberay", Some(EngineType::Vllm), &plain), Some(8080));
    assert_eq!(port("other", None, &plain), Some(8080));
    assert_eq!(port("other", None, &unnamed), None);
    let frontend = pod(json!({
        "metadata": { "name": "m-frontend-abc", "labels": { "nvidia.com/dynamo-component-type": "frontend" } },
    }));
    let worker = pod(json!({
        "metadata": { "name": "m-vllmworker-abc", "labels": { "nvidia.com/dynamo-component-type": "worker" } },
    }));
    assert_eq!(port("dynamo", None, &frontend), Some(8000));
    assert_eq!(port("dynamo", None, &worker), None);
    let annotated = pod(json!({
        "metadata": { "name": "x", "annotations": { "prometheus.io/port": "9400", "prometheus.io/path": "/stats" } },
    }));
    assert_eq!(
        metrics_port("kaito", None, &annotated),
        Some(MetricsPort {
            port: 9400,
            path: "/stats".into()
        })
    );
    assert_eq!(
        metrics_port("kaito", None, &plain).map(|m| m.path),
        Some("/metrics".to_string())
    );
}
