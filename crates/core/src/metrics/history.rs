//! A short, bounded history of one deployment's figures, so the UI can draw charts without a
//! Prometheus server: a ring of at most `capacity` points, at least `min_interval_ms` apart,
//! none older than `max_age_ms`. Its memory is fixed by `capacity` ([`Point`] is a timestamp and
//! ten optional floats, 168 bytes), whatever the polling rate.

use std::collections::VecDeque;

use serde::Serialize;

use super::summary::{Rates, Summary};

/// One point of the history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Requests being processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_requests: Option<f64>,
    /// Requests waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_requests: Option<f64>,
    /// KV-cache usage 0–1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_usage: Option<f64>,
    /// Prompt tokens per second since the previous scrape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_per_second: Option<f64>,
    /// Generated tokens per second since the previous scrape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_tokens_per_second: Option<f64>,
    /// Requests per second since the previous scrape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Mean time to first token in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_seconds: Option<f64>,
    /// Mean inter-token latency in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inter_token_latency_seconds: Option<f64>,
    /// Mean end-to-end latency in the window (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_latency_seconds: Option<f64>,
    /// Running + waiting requests (what a queue chart stacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_requests: Option<f64>,
}

impl Point {
    /// The point of a scrape at `timestamp` with the rates since the previous one.
    pub fn new(timestamp: i64, summary: &Summary, rates: Option<&Rates>) -> Self {
        Self {
            timestamp,
            running_requests: summary.running_requests,
            waiting_requests: summary.waiting_requests,
            kv_cache_usage: summary.kv_cache_usage,
            prompt_tokens_per_second: rates.and_then(|r| r.prompt_tokens_per_second),
            generation_tokens_per_second: rates.and_then(|r| r.generation_tokens_per_second),
            requests_per_second: rates.and_then(|r| r.requests_per_second),
            time_to_first_token_seconds: rates.and_then(|r| r.time_to_first_token_seconds),
            inter_token_latency_seconds: rates.and_then(|r| r.inter_token_latency_seconds),
            e2e_latency_seconds: rates.and_then(|r| r.e2e_latency_seconds),
            total_requests: match (summary.running_requests, summary.waiting_requests) {
                (Some(r), Some(w)) => Some(r + w),
                (r, w) => r.or(w),
            },
        }
    }
}

/// The bounded ring.
#[derive(Clone, Debug)]
pub struct History {
    points: VecDeque<Point>,
    capacity: usize,
    min_interval_ms: i64,
    max_age_ms: i64,
}

impl History {
    /// 15 minutes at one point per 10 s: 90 points.
    pub const DEFAULT_CAPACITY: usize = 90;
    /// Scrapes closer to the last point than this (ms) add no point.
    pub const DEFAULT_MIN_INTERVAL_MS: i64 = 9_500;
    /// 15 minutes.
    pub const DEFAULT_MAX_AGE_MS: i64 = 15 * 60 * 1000;

    /// An empty history with the default bounds.
    pub fn new() -> Self {
        Self::with_bounds(
            Self::DEFAULT_CAPACITY,
            Self::DEFAULT_MIN_INTERVAL_MS,
            Self::DEFAULT_MAX_AGE_MS,
        )
    }

    /// An empty history with explicit bounds (`capacity` at least 1).
    pub fn with_bounds(capacity: usize, min_interval_ms: i64, max_age_ms: i64) -> Self {
        let capacity = capacity.max(1);
        Self {
            points: VecDeque::with_capacity(capacity),
            capacity,
            min_interval_ms,
            max_age_ms,
        }
    }

    /// Adds `point` and reports whether it was kept: a point older than the last one, or closer
    /// to it than the minimum interval, is dropped (so polling faster does not shorten the time
    /// the ring covers); points beyond the capacity or older than the maximum age fall off the
    /// front.
    pub fn push(&mut self, point: Point) -> bool {
        if let Some(last) = self.points.back()
            && point.timestamp - last.timestamp < self.min_interval_ms
        {
            return false;
        }
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
        self.expire(point.timestamp);
        true
    }

    fn expire(&mut self, now: i64) {
        while self
            .points
            .front()
            .is_some_and(|p| now - p.timestamp > self.max_age_ms)
        {
            self.points.pop_front();
        }
    }

    /// The points, oldest first, none older than the maximum age before `now`.
    pub fn points(&self, now: i64) -> Vec<Point> {
        self.points
            .iter()
            .filter(|p| now - p.timestamp <= self.max_age_ms)
            .copied()
            .collect()
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is held.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The capacity (points).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most memory the points of one history can take, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.capacity * std::mem::size_of::<Point>()
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}
