//! AI Configurator's results as KubeAIRunway deployment settings. `aiconfigurator cli default`
//! writes, under its save directory, `<model>_<system>_<backend>_…/agg/best_config_topn.csv`
//! and `…/disagg/best_config_topn.csv`: the best configurations of each serving mode, ranked by
//! tokens/s/GPU. One row describes one *replica* (the CLI's word): an aggregated worker, or a
//! group of prefill and decode workers. `num_total_gpus` is the GPUs of one replica, so the
//! replicas that fit are `--total-gpus ÷ num_total_gpus` (what the CLI prints as
//! `total_gpus (used)` and puts into its generated `k8s_deploy.yaml`).

use std::collections::HashMap;

use serde::Serialize;

use super::gpu::Backend;
use super::request::OptimizeFor;

/// A CSV file AI Configurator wrote that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Not CSV at all.
    #[error("{file} is not readable CSV: {source}")]
    Csv {
        /// Which file.
        file: &'static str,
        /// The parser's error.
        source: csv::Error,
    },
    /// A column this mapping needs is missing (the CLI's format changed).
    #[error("{file} has no column {column:?}")]
    MissingColumn {
        /// Which file.
        file: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A cell that should be a number is not.
    #[error("{file}: column {column:?} holds {value:?}, not a number")]
    NotANumber {
        /// Which file.
        file: &'static str,
        /// The column.
        column: &'static str,
        /// The cell.
        value: String,
    },
}

/// Columns of both modes.
#[derive(Clone, Debug, PartialEq)]
pub struct Common {
    /// Input sequence length the search assumed.
    pub isl: u32,
    /// Output sequence length.
    pub osl: u32,
    /// Concurrent requests one replica serves.
    pub concurrency: u32,
    /// Time to first token, ms.
    pub ttft_ms: f64,
    /// Time per output token, ms.
    pub tpot_ms: f64,
    /// End-to-end request latency, ms.
    pub request_latency_ms: f64,
    /// Output tokens per second of one replica.
    pub tokens_per_sec: f64,
    /// … per GPU.
    pub tokens_per_sec_per_gpu: f64,
    /// … per user (1000 / TPOT).
    pub tokens_per_sec_per_user: f64,
    /// GPUs of one replica.
    pub gpus_per_replica: u32,
    /// The ranking value of the CLI (`tokens/s/gpu_cluster`).
    pub rank_tokens_per_sec_per_gpu: f64,
}

/// Parallelism of one worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parallel {
    /// Tensor parallelism.
    pub tp: u32,
    /// Pipeline parallelism.
    pub pp: u32,
    /// Attention data parallelism.
    pub dp: u32,
}

impl Parallel {
    /// GPUs one worker uses.
    pub fn gpus(self) -> u32 {
        self.tp
            .saturating_mul(self.pp)
            .saturating_mul(self.dp)
            .max(1)
    }
}

/// A row of `agg/best_config_topn.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggRow {
    /// Shared columns.
    pub common: Common,
    /// The worker's parallelism.
    pub parallel: Parallel,
    /// Batch size of the worker.
    pub batch_size: u32,
}

/// A row of `disagg/best_config_topn.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct DisaggRow {
    /// Shared columns.
    pub common: Common,
    /// Prefill workers per replica, their parallelism and batch size.
    pub prefill_workers: u32,
    /// Parallelism of a prefill worker.
    pub prefill: Parallel,
    /// Batch size of a prefill worker.
    pub prefill_batch_size: u32,
    /// Decode workers per replica.
    pub decode_workers: u32,
    /// Parallelism of a decode worker.
    pub decode: Parallel,
    /// Batch size of a decode worker.
    pub decode_batch_size: u32,
}

struct Table<'a> {
    file: &'static str,
    columns: HashMap<&'a str, usize>,
}

impl Table<'_> {
    fn text<'r>(
        &self,
        row: &'r csv::StringRecord,
        column: &'static str,
    ) -> Result<&'r str, OutputError> {
        let i = self.columns.get(column).ok_or(OutputError::MissingColumn {
            file: self.file,
            column,
        })?;
        Ok(row.get(*i).unwrap_or("").trim())
    }

    fn number(&self, row: &csv::StringRecord, column: &'static str) -> Result<f64, OutputError> {
        let cell = self.text(row, column)?;
        // The console table writes concurrency as `224 (=112x2)`; the CSV has the plain number,
        // but accept both.
        let head = cell.split('(').next().unwrap_or("").trim();
        head.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| OutputError::NotANumber {
                file: self.file,
                column,
                value: cell.to_string(),
            })
    }

    fn count(&self, row: &csv::StringRecord, column: &'static str) -> Result<u32, OutputError> {
        let n = self.number(row, column)?;
        if n < 0.0 || n > f64::from(u32::MAX) || n.fract() != 0.0 {
            return Err(OutputError::NotANumber {
                file: self.file,
                column,
                value: self.text(row, column)?.to_string(),
            });
        }
        // In range and integral: the conversion is exact.
        Ok(n as u32)
    }

    fn common(&self, row: &csv::StringRecord) -> Result<Common, OutputError> {
        let per_gpu = self.number(row, "tokens/s/gpu")?;
        Ok(Common {
            isl: self.count(row, "isl")?,
            osl: self.count(row, "osl")?,
            concurrency: self.count(row, "concurrency")?,
            ttft_ms: self.number(row, "ttft")?,
            tpot_ms: self.number(row, "tpot")?,
            request_latency_ms: self.number(row, "request_latency")?,
            tokens_per_sec: self.number(row, "tokens/s")?,
            tokens_per_sec_per_gpu: per_gpu,
            tokens_per_sec_per_user: self.number(row, "tokens/s/user")?,
            gpus_per_replica: self.count(row, "num_total_gpus")?.max(1),
            rank_tokens_per_sec_per_gpu: if self.columns.contains_key("tokens/s/gpu_cluster") {
                self.number(row, "tokens/s/gpu_cluster")?
            } else {
                per_gpu
            },
        })
    }

    fn parallel(
        &self,
        row: &csv::StringRecord,
        [tp, pp, dp]: [&'static str; 3],
    ) -> Result<Parallel, OutputError> {
        Ok(Parallel {
            tp: self.count(row, tp)?.max(1),
            pp: self.count(row, pp)?.max(1),
            dp: self.count(row, dp)?.max(1),
        })
    }
}

fn rows<T>(
    file: &'static str,
    text: &str,
    mut map: impl FnMut(&Table<'_>, &csv::StringRecord) -> Result<T, OutputError>,
) -> Result<Vec<T>, OutputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|source| OutputError::Csv { file, source })?
        .clone();
    let table = Table {
        file,
        columns: headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim(), i))
            .collect(),
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| OutputError::Csv { file, source })?;
        out.push(map(&table, &record)?);
    }
    Ok(out)
}

/// The rows of an `agg/best_config_topn.csv`, best first.
pub fn parse_agg(text: &str) -> Result<Vec<AggRow>, OutputError> {
    rows("agg/best_config_topn.csv", text, |t, r| {
        Ok(AggRow {
            common: t.common(r)?,
            parallel: t.parallel(r, ["tp", "pp", "dp"])?,
            batch_size: t.count(r, "bs")?.max(1),
        })
    })
}

/// The rows of a `disagg/best_config_topn.csv`, best first.
pub fn parse_disagg(text: &str) -> Result<Vec<DisaggRow>, OutputError> {
    rows("disagg/best_config_topn.csv", text, |t, r| {
        Ok(DisaggRow {
            common: t.common(r)?,
            prefill_workers: t.count(r, "(p)workers")?.max(1),
            prefill: t.parallel(r, ["(p)tp", "(p)pp", "(p)dp"])?,
            prefill_batch_size: t.count(r, "(p)bs")?.max(1),
            decode_workers: t.count(r, "(d)workers")?.max(1),
            decode: t.parallel(r, ["(d)tp", "(d)pp", "(d)dp"])?,
            decode_batch_size: t.count(r, "(d)bs")?.max(1),
        })
    })
}

/// Aggregated (one kind of worker) or disaggregated (prefill and decode workers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorMode))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `aggregated`.
    Aggregated,
    /// `disaggregated`.
    Disaggregated,
}

/// Deployment settings (`AIConfiguratorConfig`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorConfig))]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// Tensor parallelism of a worker (of a decode worker when disaggregated).
    pub tensor_parallel_degree: u32,
    /// Pipeline parallelism of a worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_parallel_degree: Option<u32>,
    /// GPUs of one aggregated worker (TP × PP × DP); absent for defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_per_replica: Option<u32>,
    /// Batch size of a worker (of a decode worker when disaggregated).
    pub max_batch_size: u32,
    /// Concurrent sequences one replica serves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_num_seqs: Option<u32>,
    /// Fraction of GPU memory the engine may use.
    pub gpu_memory_utilization: f64,
    /// Context length: the input + output lengths the search assumed.
    pub max_model_len: u32,
    /// Tensor parallelism of a prefill worker (disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_tensor_parallel: Option<u32>,
    /// Tensor parallelism of a decode worker (disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_tensor_parallel: Option<u32>,
    /// Prefill workers in all (per replica × replicas; disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_replicas: Option<u32>,
    /// Decode workers in all (disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_replicas: Option<u32>,
    /// GPUs of one prefill worker (disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_gpus_per_worker: Option<u32>,
    /// GPUs of one decode worker (disaggregated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_gpus_per_worker: Option<u32>,
}

/// What AI Configurator's model predicts for the recommended deployment (all replicas).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorPerformance))]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    /// Output tokens per second of the whole deployment.
    pub throughput_tokens_per_sec: f64,
    /// Time to first token, ms (the CLI predicts one value; reported as the P50).
    pub latency_p50_ms: f64,
    /// Time to first token, ms.
    pub ttft_ms: f64,
    /// Time per output token, ms.
    pub tpot_ms: f64,
    /// End-to-end latency of one request, ms.
    pub request_latency_ms: f64,
    /// Output tokens per second per GPU.
    pub tokens_per_sec_per_gpu: f64,
    /// Output tokens per second each user sees.
    pub tokens_per_sec_per_user: f64,
    /// Concurrent requests the whole deployment serves.
    pub concurrency: u32,
    /// GPUs the deployment uses.
    pub total_gpus: u32,
}

/// The engine memory fraction recommended with AI Configurator's settings.
pub const GPU_MEMORY_UTILIZATION: f64 = 0.9;

/// A recommendation: settings, prediction, mode and replicas.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    /// Settings.
    pub config: Config,
    /// Prediction.
    pub performance: Performance,
    /// Mode.
    pub mode: Mode,
    /// Replicas of the CLI's unit (aggregated workers, or prefill+decode groups).
    pub replicas: u32,
}

fn replicas(total_gpus: u32, common: &Common) -> u32 {
    (total_gpus / common.gpus_per_replica.max(1)).max(1)
}

fn performance(common: &Common, replicas: u32) -> Performance {
    let r = f64::from(replicas);
    Performance {
        throughput_tokens_per_sec: round3(common.tokens_per_sec * r),
        latency_p50_ms: common.ttft_ms,
        ttft_ms: common.ttft_ms,
        tpot_ms: common.tpot_ms,
        request_latency_ms: common.request_latency_ms,
        tokens_per_sec_per_gpu: common.tokens_per_sec_per_gpu,
        tokens_per_sec_per_user: common.tokens_per_sec_per_user,
        concurrency: common.concurrency.saturating_mul(replicas),
        total_gpus: common.gpus_per_replica.saturating_mul(replicas),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl AggRow {
    /// The aggregated deployment this row describes, for `total_gpus` GPUs.
    pub fn recommend(&self, total_gpus: u32) -> Recommendation {
        let c = &self.common;
        let replicas = replicas(total_gpus, c);
        Recommendation {
            config: Config {
                tensor_parallel_degree: self.parallel.tp,
                pipeline_parallel_degree: Some(self.parallel.pp),
                gpus_per_replica: Some(self.parallel.gpus().max(c.gpus_per_replica)),
                max_batch_size: self.batch_size,
                max_num_seqs: Some(c.concurrency.max(1)),
                gpu_memory_utilization: GPU_MEMORY_UTILIZATION,
                max_model_len: c.isl.saturating_add(c.osl),
                prefill_tensor_parallel: None,
                decode_tensor_parallel: None,
                prefill_replicas: None,
                decode_replicas: None,
                prefill_gpus_per_worker: None,
                decode_gpus_per_worker: None,
            },
            performance: performance(c, replicas),
            mode: Mode::Aggregated,
            replicas,
        }
    }
}

impl DisaggRow {
    /// The disaggregated deployment this row describes, for `total_gpus` GPUs: the CLI's
    /// replicas × its workers per replica prefill and decode workers.
    pub fn recommend(&self, total_gpus: u32) -> Recommendation {
        let c = &self.common;
        let replicas = replicas(total_gpus, c);
        Recommendation {
            config: Config {
                tensor_parallel_degree: self.decode.tp,
                pipeline_parallel_degree: Some(self.decode.pp),
                gpus_per_replica: None,
                max_batch_size: self.decode_batch_size,
                max_num_seqs: Some(c.concurrency.max(1)),
                gpu_memory_utilization: GPU_MEMORY_UTILIZATION,
                max_model_len: c.isl.saturating_add(c.osl),
                prefill_tensor_parallel: Some(self.prefill.tp),
                decode_tensor_parallel: Some(self.decode.tp),
                prefill_replicas: Some(self.prefill_workers.saturating_mul(replicas)),
                decode_replicas: Some(self.decode_workers.saturating_mul(replicas)),
                prefill_gpus_per_worker: Some(self.prefill.gpus()),
                decode_gpus_per_worker: Some(self.decode.gpus()),
            },
            performance: performance(c, replicas),
            mode: Mode::Disaggregated,
            replicas,
        }
    }
}

/// The recommendation from both files' rows. Throughput: the better of the two best rows by
/// the CLI's ranking (tokens/s/GPU), disaggregated only when strictly better. Latency: the row
/// of either file with the lowest time to first token (aggregated on a tie). `None` when both
/// are empty (no configuration met the CLI's latency targets).
pub fn choose(
    agg: &[AggRow],
    disagg: &[DisaggRow],
    optimize_for: OptimizeFor,
    total_gpus: u32,
) -> Option<Recommendation> {
    match optimize_for {
        OptimizeFor::Throughput => match (agg.first(), disagg.first()) {
            (Some(a), Some(d))
                if d.common.rank_tokens_per_sec_per_gpu > a.common.rank_tokens_per_sec_per_gpu =>
            {
                Some(d.recommend(total_gpus))
            }
            (Some(a), _) => Some(a.recommend(total_gpus)),
            (None, Some(d)) => Some(d.recommend(total_gpus)),
            (None, None) => None,
        },
        OptimizeFor::Latency => {
            let best_agg = agg
                .iter()
                .min_by(|x, y| x.common.ttft_ms.total_cmp(&y.common.ttft_ms));
            let best_disagg = disagg
                .iter()
                .min_by(|x, y| x.common.ttft_ms.total_cmp(&y.common.ttft_ms));
            match (best_agg, best_disagg) {
                (Some(a), Some(d)) if d.common.ttft_ms < a.common.ttft_ms => {
                    Some(d.recommend(total_gpus))
                }
                (Some(a), _) => Some(a.recommend(total_gpus)),
                (None, Some(d)) => Some(d.recommend(total_gpus)),
                (None, None) => None,
            }
        }
    }
}

/// Where a result's settings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorSource))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A real AI Configurator search.
    Aiconfigurator,
    /// KubeAIRunway's defaults: AI Configurator is unavailable, does not cover the GPU, or
    /// failed (see `error` and `warnings`).
    Defaults,
}

/// The answer of `POST /api/aiconfigurator/analyze` (`AIConfiguratorResult`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorResult))]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResult {
    /// Whether AI Configurator produced the settings (false: defaults).
    pub success: bool,
    /// `aiconfigurator` or `defaults`: clearly marks settings that are not a recommendation.
    pub source: Source,
    /// Settings.
    pub config: Config,
    /// Prediction (AI Configurator results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_performance: Option<Performance>,
    /// Mode.
    pub mode: Mode,
    /// Replicas (aggregated workers, or prefill+decode groups).
    pub replicas: u32,
    /// Things the user should know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why the settings are defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The backend (engine) the settings are for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
    /// Backends AI Configurator covers for the GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_backends: Option<Vec<Backend>>,
    /// The AI Configurator system the GPU maps to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// How long the CLI ran, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl AnalyzeResult {
    /// A real recommendation.
    pub fn recommended(
        rec: Recommendation,
        backend: Backend,
        supported: &[Backend],
        system: &str,
    ) -> Self {
        let mut warnings = Vec::new();
        if backend != Backend::Vllm {
            warnings.push(format!(
                "Using {} backend (vLLM not available for this GPU)",
                backend.as_str().to_ascii_uppercase()
            ));
        }
        Self {
            success: true,
            source: Source::Aiconfigurator,
            config: rec.config,
            estimated_performance: Some(rec.performance),
            mode: rec.mode,
            replicas: rec.replicas,
            warnings,
            error: None,
            backend: Some(backend),
            supported_backends: Some(supported.to_vec()),
            system: Some(system.to_string()),
            duration_ms: None,
        }
    }

    /// KubeAIRunway's defaults for `gpu_count` GPUs (tensor parallelism over the GPUs, at most
    /// 8; batch 256; context 4096; aggregated, one replica), marked as such, with the reason.
    pub fn defaults(gpu_count: u32, error: impl Into<String>, warning: impl Into<String>) -> Self {
        let tp = gpu_count.clamp(1, 8);
        Self {
            success: false,
            source: Source::Defaults,
            config: Config {
                tensor_parallel_degree: tp,
                pipeline_parallel_degree: None,
                gpus_per_replica: Some(tp),
                max_batch_size: 256,
                max_num_seqs: None,
                gpu_memory_utilization: GPU_MEMORY_UTILIZATION,
                max_model_len: 4096,
                prefill_tensor_parallel: None,
                decode_tensor_parallel: None,
                prefill_replicas: None,
                decode_replicas: None,
                prefill_gpus_per_worker: None,
                decode_gpus_per_worker: None,
            },
            estimated_performance: None,
            mode: Mode::Aggregated,
            replicas: 1,
            warnings: vec![warning.into()],
            error: Some(error.into()),
            backend: None,
            supported_backends: None,
            system: None,
            duration_ms: None,
        }
    }
}
