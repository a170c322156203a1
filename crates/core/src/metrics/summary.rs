//! The figures a person reads off a model server's metrics: requests running and queued, KV-cache
//! usage, tokens and requests so far, and latency distributions; and the rates between two
//! scrapes (docs/contract/api.md §10).

use std::collections::BTreeMap;

use serde::Serialize;

use super::names::{Count, Family, Names};
use super::parse::Scrape;

/// A latency histogram summed over label sets and pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Observations so far.
    pub count: f64,
    /// Sum of the observations, in seconds.
    pub sum: f64,
    /// `sum / count` (absent without observations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Median estimated from the buckets, as Prometheus' `histogram_quantile` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 95th percentile estimated from the buckets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// Cumulative bucket counts by upper bound (not serialized: the raw samples carry them).
    #[serde(skip)]
    pub buckets: Vec<(f64, f64)>,
}

/// The key figures of one scrape (of every pod that answered).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The model server the names came from; absent when none of the known names is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Requests being processed, summed over pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_requests: Option<f64>,
    /// Requests waiting, summed over pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_requests: Option<f64>,
    /// KV-cache usage as a ratio 0–1, averaged over pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_usage: Option<f64>,
    /// Prompt tokens processed since the servers started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_total: Option<f64>,
    /// Tokens generated since the servers started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_tokens_total: Option<f64>,
    /// Requests finished since the servers started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_total: Option<f64>,
    /// Time to first token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_token: Option<Latency>,
    /// Time between generated tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inter_token_latency: Option<Latency>,
    /// End-to-end request latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_latency: Option<Latency>,
}

/// The model server family of `scrapes`: the first of [`Family::ALL`] with a sample.
pub fn detect(scrapes: &[&Scrape]) -> Option<Family> {
    Family::ALL.into_iter().find(|f| {
        scrapes
            .iter()
            .any(|s| s.samples.iter().any(|x| x.name.starts_with(f.prefix())))
    })
}

impl Summary {
    /// The figures of `scrapes` (one per pod). Non-finite samples are ignored.
    pub fn of(scrapes: &[&Scrape]) -> Self {
        let Some(family) = detect(scrapes) else {
            return Self::default();
        };
        let names: &Names = family.names();
        Self {
            family: Some(family),
            running_requests: first(names.running, |n| total(scrapes, n)),
            waiting_requests: first(names.waiting, |n| total(scrapes, n)),
            kv_cache_usage: first(names.kv_cache_usage, |n| mean(scrapes, n)),
            prompt_tokens_total: first(names.prompt_tokens, |c| count(scrapes, *c)),
            generation_tokens_total: first(names.generation_tokens, |c| count(scrapes, *c)),
            requests_total: first(names.requests, |c| count(scrapes, *c)),
            time_to_first_token: first(names.time_to_first_token, |n| histogram(scrapes, n)),
            inter_token_latency: first(names.inter_token_latency, |n| histogram(scrapes, n)),
            e2e_latency: first(names.e2e_latency, |n| histogram(scrapes, n)),
        }
    }
}

fn first<T, R>(candidates: &[T], f: impl Fn(&T) -> Option<R>) -> Option<R> {
    candidates.iter().find_map(f)
}

fn values<'a>(scrapes: &'a [&'a Scrape], name: &'a str) -> impl Iterator<Item = f64> + 'a {
    scrapes
        .iter()
        .flat_map(|s| s.samples.iter())
        .filter(move |s| s.name == name && s.value.is_finite())
        .map(|s| s.value)
}

/// Σ of every finite sample named `name`; `None` when there is none.
fn total(scrapes: &[&Scrape], name: &str) -> Option<f64> {
    values(scrapes, name).fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

fn mean(scrapes: &[&Scrape], name: &str) -> Option<f64> {
    let (n, sum) = values(scrapes, name).fold((0u32, 0.0), |(n, s), v| (n + 1, s + v));
    (n > 0).then(|| sum / f64::from(n))
}

fn count(scrapes: &[&Scrape], c: Count) -> Option<f64> {
    match c {
        Count::Counter(name) => total(scrapes, name),
        Count::HistogramSum(base) => total(scrapes, &format!("{base}_sum")),
        Count::HistogramCount(base) => total(scrapes, &format!("{base}_count")),
    }
}

fn histogram(scrapes: &[&Scrape], base: &str) -> Option<Latency> {
    let count = total(scrapes, &format!("{base}_count"))?;
    let sum = total(scrapes, &format!("{base}_sum")).unwrap_or(0.0);
    let bucket_name = format!("{base}_bucket");
    // Cumulative counts by bound, summed over label sets; bounds compared by their bits so
    // `+Inf` and every finite bound are keys.
    let mut by_bound: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in scrapes.iter().flat_map(|s| s.samples.iter()) {
        if s.name != bucket_name || !s.value.is_finite() {
            continue;
        }
        let Some(le) = s.labels.get("le").and_then(|v| parse_bound(v)) else {
            continue;
        };
        let entry = by_bound.entry(order_key(le)).or_insert((le, 0.0));
        entry.1 += s.value;
    }
    let buckets: Vec<(f64, f64)> = by_bound.into_values().collect();
    Some(Latency {
        count,
        sum,
        mean: (count > 0.0).then(|| sum / count),
        p50: quantile(0.5, &buckets),
        p95: quantile(0.95, &buckets),
        buckets,
    })
}

fn parse_bound(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        _ => v.parse::<f64>().ok().filter(|b| !b.is_nan()),
    }
}

/// A key whose order is the numeric order of non-NaN floats.
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The `q` quantile of cumulative `buckets` (sorted by bound, the last `+Inf`), interpolated
/// linearly inside the bucket it falls in, as Prometheus' `histogram_quantile` does; a quantile
/// in the `+Inf` bucket is the highest finite bound.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let &(last_bound, total) = buckets.last()?;
    if !last_bound.is_infinite() || total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower_bound = 0.0;
    let mut lower_count = 0.0;
    for &(bound, cumulative) in buckets {
        if cumulative >= rank {
            if bound.is_infinite() {
                return Some(lower_bound);
            }
            let in_bucket = cumulative - lower_count;
            if in_bucket <= 0.0 {
                return Some(bound);
            }
            return Some(lower_bound + (bound - lower_bound) * (rank - lower_count) / in_bucket);
        }
        lower_bound = bound;
        lower_count = cumulative;
    }
    None
}

/// A summary and when it was taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// The figures.
    pub summary: Summary,
}

/// Per-second rates and window latencies between two scrapes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rates {
    /// Seconds between the two scrapes.
    pub interval_seconds: f64,
    /// Prompt tokens per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_per_second: Option<f64>,
    /// Generated tokens per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_tokens_per_second: Option<f64>,
    /// Finished requests per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Mean time to first token of the requests in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_seconds: Option<f64>,
    /// Mean inter-token latency in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inter_token_latency_seconds: Option<f64>,
    /// Mean end-to-end latency in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_latency_seconds: Option<f64>,
}

impl Rates {
    /// The rates from `earlier` to `later`; `None` when they are not at least 1 s apart in that
    /// order. A counter that went down (a server restarted, or a pod left the set scraped) gives
    /// no rate for that interval rather than a negative or made-up one.
    pub fn between(earlier: &Snapshot, later: &Snapshot) -> Option<Self> {
        let dt_ms = later.at_ms.checked_sub(earlier.at_ms)?;
        if dt_ms < 1000 {
            return None;
        }
        // Milliseconds between two scrapes are far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let dt = dt_ms as f64 / 1000.0;
        let (a, b) = (&earlier.summary, &later.summary);
        let per_second = |x: Option<f64>, y: Option<f64>| {
            let d = y? - x?;
            (d >= 0.0).then_some(d / dt)
        };
        let window_mean = |x: &Option<Latency>, y: &Option<Latency>| {
            let (x, y) = (x.as_ref()?, y.as_ref()?);
            let dc = y.count - x.count;
            let ds = y.sum - x.sum;
            (dc > 0.0 && ds >= 0.0).then(|| ds / dc)
        };
        Some(Self {
            interval_seconds: dt,
            prompt_tokens_per_second: per_second(a.prompt_tokens_total, b.prompt_tokens_total),
            generation_tokens_per_second: per_second(
                a.generation_tokens_total,
                b.generation_tokens_total,
            ),
            requests_per_second: per_second(a.requests_total, b.requests_total),
            time_to_first_token_seconds: window_mean(
                &a.time_to_first_token,
                &b.time_to_first_token,
            ),
            inter_token_latency_seconds: window_mean(
                &a.inter_token_latency,
                &b.inter_token_latency,
            ),
            e2e_latency_seconds: window_mean(&a.e2e_latency, &b.e2e_latency),
        })
    }
}
