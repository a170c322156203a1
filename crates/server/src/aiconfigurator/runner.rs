//! Running the `aiconfigurator` CLI: its availability (`aiconfigurator version`, cached) and an
//! analysis (`aiconfigurator cli default …` in a temporary directory that is always removed,
//! killed when it outlives its deadline). Programs are started directly with an explicit
//! argument list; no shell is involved.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use kubeairunway_core::aiconfigurator::{
    AggRow, DisaggRow, OptimizeFor, OutputError, Plan, Recommendation, choose, describe_failure,
    parse_agg, parse_disagg, parse_version,
};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, Semaphore};

use crate::state::AiConfiguratorConfig;

/// How long a successful (or a non-zero exit) availability check is reused.
pub(crate) const STATUS_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a missing CLI is remembered: short, so that installing it is noticed soon.
pub(crate) const MISSING_TTL: Duration = Duration::from_secs(60);
/// Longest `aiconfigurator version` may take (it imports the whole Python package).
const VERSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Most output kept of each stream (the CLI logs some tens of kilobytes per run).
const OUTPUT_LIMIT: usize = 256 * 1024;

/// Why the CLI could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RunError {
    /// No program at the configured path or on `PATH`.
    #[error(
        "AI Configurator CLI not found ({path}): run `make aiconfigurator`, or set AICONFIGURATOR_PATH to the aiconfigurator program"
    )]
    NotFound {
        /// The configured program.
        path: String,
    },
    /// The program could not be started for another reason.
    #[error("AI Configurator could not be started ({path}): {message}")]
    Spawn {
        /// The configured program.
        path: String,
        /// The operating system's words.
        message: String,
    },
    /// It ran past its deadline and was killed.
    #[error("AI Configurator did not finish within {0} s and was stopped")]
    Timeout(u64),
    /// It exited with an error.
    #[error("AI Configurator exited with code {code}: {message}")]
    Exited {
        /// Exit code (-1 when killed by a signal).
        code: i32,
        /// The most useful line of its output.
        message: String,
    },
    /// It succeeded but found no configuration.
    #[error("AI Configurator found no configuration meeting the latency targets: {0}")]
    NoResults(String),
    /// Its CSV output could not be read.
    #[error("AI Configurator's output could not be read: {0}")]
    Output(String),
    /// The temporary directory could not be created or read.
    #[error("AI Configurator's working directory failed: {0}")]
    WorkDir(String),
}

impl From<OutputError> for RunError {
    fn from(e: OutputError) -> Self {
        RunError::Output(e.to_string())
    }
}

/// The answer of an availability check.
#[derive(Debug, Clone)]
pub(crate) struct Availability {
    /// The version, or why the CLI cannot be used.
    pub result: Result<String, RunError>,
}

struct Cached {
    at: Instant,
    availability: Availability,
}

/// The CLI runner: the availability cache and the one-analysis-at-a-time gate (an analysis keeps
/// a CPU core busy for tens of seconds).
pub(crate) struct Runner {
    status: Mutex<Option<Cached>>,
    gate: Semaphore,
}

/// A finished analysis.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// The recommendation.
    pub recommendation: Recommendation,
    /// How long the CLI ran.
    pub duration: Duration,
}

fn ttl(availability: &Availability) -> Duration {
    match availability.result {
        Ok(_) | Err(RunError::Exited { .. }) => STATUS_TTL,
        Err(_) => MISSING_TTL,
    }
}

fn command(config: &AiConfiguratorConfig) -> Command {
    let mut cmd = Command::new(&config.path);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    cmd
}

fn spawn(mut cmd: Command, config: &AiConfiguratorConfig) -> Result<Child, RunError> {
    let path = config.path.display().to_string();
    cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound { path },
        _ => RunError::Spawn {
            path,
            message: e.to_string(),
        },
    })
}

async fn read_limited(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    // Read to the end (a full pipe would stall the CLI) but keep only the last OUTPUT_LIMIT
    // bytes: errors come last.
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(buf.get(..n).unwrap_or_default());
                if kept.len() > 2 * OUTPUT_LIMIT {
                    kept.drain(..kept.len() - OUTPUT_LIMIT);
                }
            }
        }
    }
    if kept.len() > OUTPUT_LIMIT {
        kept.drain(..kept.len() - OUTPUT_LIMIT);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Exit code, stdout and stderr of `child`, or [`RunError::Timeout`] after killing it (and
/// waiting for it to end) when it runs past `deadline`.
async fn finish(mut child: Child, timeout: Duration) -> Result<(i32, String, String), RunError> {
    let stdout = tokio::spawn(read_limited(child.stdout.take()));
    let stderr = tokio::spawn(read_limited(child.stderr.take()));
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            let _ = child.kill().await;
            return Err(RunError::WorkDir(format!(
                "waiting for the CLI failed: {e}"
            )));
        }
        Err(_) => {
            // SIGKILL and reap, so nothing writes into the directory being removed.
            let _ = child.kill().await;
            return Err(RunError::Timeout(timeout.as_secs().max(1)));
        }
    };
    let stdout = stdout.await.unwrap_or_default();
    let stderr = stderr.await.unwrap_or_default();
    Ok((status.code().unwrap_or(-1), stdout, stderr))
}

/// The `best_config_topn.csv` files under `dir`: (aggregated, disaggregated), each `None` when
/// the CLI wrote none for that mode.
fn find_results(dir: &Path) -> Result<(Option<PathBuf>, Option<PathBuf>), RunError> {
    let mut agg = None;
    let mut disagg = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| RunError::WorkDir(e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| RunError::WorkDir(e.to_string()))?;
            let kind = entry
                .file_type()
                .map_err(|e| RunError::WorkDir(e.to_string()))?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && entry.file_name() == "best_config_topn.csv" {
                match d.file_name().and_then(|n| n.to_str()) {
                    Some("agg") => agg = Some(path),
                    Some("disagg") => disagg = Some(path),
                    _ => {}
                }
            }
        }
    }
    Ok((agg, disagg))
}

fn read_results(dir: &Path) -> Result<(Vec<AggRow>, Vec<DisaggRow>), RunError> {
    let (agg, disagg) = find_results(dir)?;
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| RunError::WorkDir(e.to_string()));
    let agg = match agg {
        Some(p) => parse_agg(&read(&p)?)?,
        None => Vec::new(),
    };
    let disagg = match disagg {
        Some(p) => parse_disagg(&read(&p)?)?,
        None => Vec::new(),
    };
    Ok((agg, disagg))
}

impl Runner {
    pub(crate) fn new() -> Self {
        Self {
            status: Mutex::new(None),
            gate: Semaphore::new(1),
        }
    }

    /// Whether the CLI runs, and its version: `aiconfigurator version`, reused for
    /// [`STATUS_TTL`] ([`MISSING_TTL`] when it is missing). Concurrent callers share one check.
    pub(crate) async fn availability(&self, config: &AiConfiguratorConfig) -> Availability {
        let mut cached = self.status.lock().await;
        if let Some(c) = cached.as_ref()
            && c.at.elapsed() < ttl(&c.availability)
        {
            return c.availability.clone();
        }
        let availability = Availability {
            result: check(config).await,
        };
        *cached = Some(Cached {
            at: Instant::now(),
            availability: availability.clone(),
        });
        availability
    }

    /// Runs one analysis. The temporary directory is removed when this returns or is dropped
    /// (the client went away); the CLI is killed on timeout and on drop.
    pub(crate) async fn analyze(
        &self,
        config: &AiConfiguratorConfig,
        plan: &Plan,
        optimize_for: OptimizeFor,
    ) -> Result<Analysis, RunError> {
        let started = Instant::now();
        let deadline = config.timeout;
        let _permit = tokio::time::timeout(deadline, self.gate.acquire())
            .await
            .map_err(|_| RunError::Timeout(deadline.as_secs().max(1)))?
            .map_err(|e| RunError::WorkDir(e.to_string()))?;
        let remaining = deadline.saturating_sub(started.elapsed());
        let mut builder = tempfile::Builder::new();
        builder.prefix("kubeairunway-aiconfigurator-");
        let dir = match &config.work_dir {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(|e| RunError::WorkDir(e.to_string()))?;
        let save = dir.path().join("results");
        let mut cmd = command(config);
        cmd.args(plan.args(&save))
            .current_dir(dir.path())
            // Matplotlib (the CLI draws a Pareto chart) writes its cache here, not in $HOME.
            .env("MPLCONFIGDIR", dir.path().join("mpl"));
        let child = spawn(cmd, config)?;
        let ran = Instant::now();
        // The deadline counts from the request, the wait for the gate included; report it whole.
        let (code, stdout, stderr) = finish(child, remaining).await.map_err(|e| match e {
            RunError::Timeout(_) => RunError::Timeout(deadline.as_secs().max(1)),
            e => e,
        })?;
        let duration = ran.elapsed();
        if code != 0 {
            return Err(RunError::Exited {
                code,
                message: describe_failure(&stdout, &stderr),
            });
        }
        let path = dir.path().to_path_buf();
        let (agg, disagg) = tokio::task::spawn_blocking(move || read_results(&path))
            .await
            .map_err(|e| RunError::WorkDir(e.to_string()))??;
        let recommendation = choose(&agg, &disagg, optimize_for, plan.total_gpus)
            .ok_or_else(|| RunError::NoResults(describe_failure(&stdout, &stderr)))?;
        let removed = dir.close();
        if let Err(e) = removed {
            tracing::warn!(error = %e, "could not remove AI Configurator's temporary directory");
        }
        Ok(Analysis {
            recommendation,
            duration,
        })
    }
}

async fn check(config: &AiConfiguratorConfig) -> Result<String, RunError> {
    let mut cmd = command(config);
    cmd.arg("version");
    if let Some(dir) = &config.work_dir {
        cmd.current_dir(dir);
    }
    let child = spawn(cmd, config)?;
    let (code, stdout, stderr) = finish(child, VERSION_TIMEOUT).await?;
    if code == 0 {
        Ok(parse_version(&stdout))
    } else {
        Err(RunError::Exited {
            code,
            message: describe_failure(&stdout, &stderr),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str) -> AiConfiguratorConfig {
        AiConfiguratorConfig {
            path: path.into(),
            ..AiConfiguratorConfig::default()
        }
    }

    #[tokio::test]
    async fn a_missing_cli_is_reported_and_remembered_briefly() {
        let runner = Runner::new();
        let a = runner
            .availability(&config("/nonexistent/aiconfigurator"))
            .await;
        assert!(
            matches!(a.result, Err(RunError::NotFound { ref path }) if path == "/nonexistent/aiconfigurator"),
            "{a:?}"
        );
        assert_eq!(ttl(&a), MISSING_TTL);
        let ok = Availability {
            result: Ok("0.12.0".into()),
        };
        assert_eq!(ttl(&ok), STATUS_TTL);
    }

    #[tokio::test]
    async fn a_failing_version_check_names_the_exit_code() {
        // `false` exits 1 whatever its arguments.
        let a = Runner::new().availability(&config("false")).await;
        match a.result {
            Err(e @ RunError::Exited { code: 1, .. }) => {
                assert!(
                    e.to_string()
                        .starts_with("AI Configurator exited with code 1")
                );
                assert_eq!(ttl(&Availability { result: Err(e) }), STATUS_TTL);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn results_are_found_by_mode_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("results/Qwen/Qwen3-0.6B_h100_sxm_vllm_x");
        std::fs::create_dir_all(run.join("agg/top1")).expect("mkdir");
        std::fs::create_dir_all(run.join("disagg")).expect("mkdir");
        std::fs::write(run.join("agg/best_config_topn.csv"), "a").expect("write");
        std::fs::write(run.join("agg/top1/best_config_topn.csv"), "ignored").expect("write");
        let (agg, disagg) = find_results(dir.path()).expect("walk");
        assert_eq!(agg, Some(run.join("agg/best_config_topn.csv")));
        assert_eq!(disagg, None);
    }
}
