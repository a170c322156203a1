use super::*;

const VLLM: &str = include_str!("../samples/vllm.prom");
const LLAMACPP: &str = include_str!("../samples/llamacpp.prom");

#[test]
fn reads_every_line_of_a_vllm_scrape() {
    let s = parse(VLLM);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let running = s
        .samples
        .iter()
        .find(|x| x.name == "vllm:num_requests_running")
        .expect("running");
    assert_eq!(running.value, 3.0);
    assert_eq!(
        running.labels.get("model_name").map(String::as_str),
        Some("Qwen/Qwen3-0.6B")
    );
    assert_eq!(
        s.types.get("vllm:time_to_first_token_seconds"),
        Some(&MetricType::Histogram)
    );
    assert_eq!(
        s.type_of("vllm:time_to_first_token_seconds_bucket"),
        MetricType::Histogram
    );
    assert_eq!(s.type_of("vllm:prompt_tokens_total"), MetricType::Counter);
    assert_eq!(s.type_of("nothing"), MetricType::Untyped);
    let inf = s
        .samples
        .iter()
        .find(|x| {
            x.name == "vllm:time_to_first_token_seconds_bucket"
                && x.labels.get("le").map(String::as_str) == Some("+Inf")
        })
        .expect("+Inf bucket");
    assert_eq!(inf.value, 42.0);
    let rss = s
        .samples
        .iter()
        .find(|x| x.name == "process_resident_memory_bytes")
        .expect("rss");
    assert_eq!(rss.value, 2.145_640_448e9);
    assert_eq!(
        s.help.get("vllm:kv_cache_usage_perc").map(String::as_str),
        Some("KV-cache usage. 1 means 100 percent usage.")
    );
}

#[test]
fn reads_a_llamacpp_scrape() {
    let s = parse(LLAMACPP);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.samples.len(), 12);
    assert!(s.samples.iter().all(|x| x.labels.is_empty()));
    assert_eq!(
        s.types.get("llamacpp:prompt_tokens_total"),
        Some(&MetricType::Counter)
    );
}

#[test]
fn escapes_timestamps_special_values_and_trailing_commas() {
    let s = parse(concat!(
        "# HELP m A help with a \\\\ backslash\\nand a newline\n",
        "m{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",} 1.5e3 1700000000000\n",
        "n NaN\n",
        "o +Inf\n",
        "p -Inf\n",
        "q\t-0.25\n",
        "  r{}   7  \r\n",
        "# a free comment\n",
        "# EOF\n",
    ));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.help["m"], "A help with a \\ backslash\nand a newline");
    let m = &s.samples[0];
    assert_eq!(m.labels["path"], "C:\\dir");
    assert_eq!(m.labels["quote"], "say \"hi\"");
    assert_eq!(m.labels["nl"], "a\nb");
    assert_eq!(m.value, 1500.0);
    assert_eq!(m.timestamp_ms, Some(1_700_000_000_000));
    assert!(s.samples[1].value.is_nan());
    assert_eq!(s.samples[2].value, f64::INFINITY);
    assert_eq!(s.samples[3].value, f64::NEG_INFINITY);
    assert_eq!(s.samples[4].value, -0.25);
    assert_eq!(s.samples[5].name, "r");
    assert_eq!(s.samples[5].value, 7.0);
}

#[test]
fn malformed_lines_are_reported_with_their_number_and_the_rest_still_counts() {
    let text = concat!(
        "good 1\n",
        "9bad 1\n",
        "no_value\n",
        "no_value_either \n",
        "x{le=\"1\" 2\n",
        "x{le=1} 2\n",
        "x{=\"1\"} 2\n",
        "x{a=\"1\",a=\"2\"} 2\n",
        "x{a=\"\\q\"} 2\n",
        "x{a=\"open} 2\n",
        "x 1 notatime\n",
        "x 1 2 3\n",
        "x one\n",
        "x infinity\n",
        "# TYPE x gaugeish\n",
        "# TYPE 1x gauge\n",
        "x{a=\"é\"} 3\n",
    );
    let s = parse(text);
    let lines: Vec<usize> = s.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, (2..=16).collect::<Vec<_>>(), "{:#?}", s.errors);
    assert_eq!(s.samples.len(), 2);
    assert_eq!(s.samples[1].labels["a"], "é");
    for e in &s.errors {
        assert!(!e.reason.is_empty());
        assert!(e.to_string().starts_with(&format!("line {}: ", e.line)));
    }
    assert!(
        s.errors[0].reason.contains("invalid metric name"),
        "{}",
        s.errors[0]
    );
    assert!(
        s.errors[1].reason.contains("expected a value"),
        "{}",
        s.errors[1]
    );
    assert!(
        s.errors[3].reason.contains("expected ','"),
        "{}",
        s.errors[3]
    );
    assert!(
        s.errors[8].reason.contains("unterminated"),
        "{}",
        s.errors[8]
    );
    assert!(
        s.errors[4].reason.contains("double quotes"),
        "{}",
        s.errors[4]
    );
    assert!(s.errors[6].reason.contains("twice"), "{}", s.errors[6]);
    assert!(s.errors[9].reason.contains("timestamp"), "{}", s.errors[9]);
    assert!(
        s.errors[13].reason.contains("unknown metric type"),
        "{}",
        s.errors[13]
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap fuzz: every prefix of the samples, with each byte position corrupted.
    let corpus = format!("{VLLM}{LLAMACPP}x{{a=\"\\\"}} 1\n{{}}\n}}{{\n=\"\n");
    let bytes = corpus.as_bytes();
    for cut in (0..bytes.len()).step_by(97) {
        let mut b = bytes[..cut].to_vec();
        if let Some(x) = b.get_mut(cut / 2) {
            *x = b"{}=\",\\ \n#"[cut % 9];
        }
        let _ = parse(&String::from_utf8_lossy(&b));
    }
}
