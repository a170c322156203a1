//! Model-server metrics without I/O: the Prometheus text format ([`parse`]), the metric names of
//! vLLM, SGLang, llama.cpp and Dynamo ([`names`]), the figures and rates a person reads
//! ([`summary`]), a bounded history for charts ([`history`]), and where a deployment's metrics
//! are served ([`target`]). The API server scrapes and calls these (docs/contract/api.md §10).

pub mod history;
pub mod names;
pub mod parse;
pub mod summary;
pub mod target;

pub use history::{History, Point};
pub use names::Family;
pub use parse::{LineError, MetricType, Sample, Scrape, parse};
pub use summary::{Latency, Rates, Snapshot, Summary};
pub use target::{MetricsPort, metrics_port};

#[cfg(test)]
mod tests;
