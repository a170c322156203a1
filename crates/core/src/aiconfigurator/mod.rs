//! NVIDIA AI Configurator without I/O (docs/contract/api.md §14): the validated analysis
//! request and the exact CLI arguments it becomes ([`request`]), GPU names and AI Configurator's
//! systems ([`gpu`]), and the mapping of the CSV files the CLI writes onto deployment settings
//! ([`output`]). The API server runs the CLI (`crates/server/src/aiconfigurator`).
//!
//! The CLI is the PyPI package `aiconfigurator` (pinned in `scripts/aiconfigurator.sh`); its
//! 0.12.0 release runs offline for the models and systems its database ships.

pub mod gpu;
pub mod output;
pub mod request;

pub use gpu::{Backend, SYSTEMS, System, UnsupportedGpu, normalize_product, system_for_gpu};
pub use output::{
    AggRow, AnalyzeResult, Config, DisaggRow, Mode, OutputError, Performance, Recommendation,
    Source, choose, parse_agg, parse_disagg,
};
pub use request::{FieldError, OptimizeFor, Plan, Request, valid_model_id};

/// The version `aiconfigurator version` prints (`aiconfigurator 0.12.0`), else its trimmed
/// output, else `unknown`.
pub fn parse_version(stdout: &str) -> String {
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            if w.eq_ignore_ascii_case("aiconfigurator")
                && let Some(v) = words.clone().next()
                && v.chars().next().is_some_and(|c| c.is_ascii_digit())
                && v.chars().all(|c| c.is_ascii_digit() || c == '.')
            {
                return v.to_string();
            }
        }
    }
    let trimmed = stdout.trim();
    if trimmed.is_empty() || trimmed.len() > 100 {
        "unknown".into()
    } else {
        trimmed.to_string()
    }
}

/// The most useful sentence of a failed run's output: the CLI's own error log line
/// (`HH:MM:SS [aiconfigurator] [E] [main.py:1521] <message>`, on stdout), else an argument error
/// (`aiconfigurator default: error: <message>`), else the last Python exception line, else the
/// last line of stderr that is not a warning. Shortened to 500 characters.
pub fn describe_failure(stdout: &str, stderr: &str) -> String {
    let lines = || stdout.lines().chain(stderr.lines()).map(str::trim);
    let logged = lines().filter_map(|l| {
        let (_, rest) = l.split_once(" [E] ")?;
        // Drop the `[file.py:line] ` source tag.
        Some(
            match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((_, message)) => message,
                None => rest,
            },
        )
    });
    let argparse = lines().filter_map(|l| l.split_once(": error: ").map(|(_, m)| m));
    let exception = lines().filter(|l| {
        l.split_once(": ").is_some_and(|(kind, _)| {
            !kind.is_empty()
                && !kind.contains(' ')
                && (kind.ends_with("Error") || kind.ends_with("Exception"))
        })
    });
    let last_stderr = stderr.lines().map(str::trim).filter(|l| {
        !l.is_empty()
            && !l.contains("Warning")
            && !l.contains(" [W] ")
            && !l.contains(" [I] ")
            && l != &"sys.exit(main())"
    });
    let message = { logged }
        .next_back()
        .or_else(|| { argparse }.next_back())
        .or_else(|| { exception }.next_back())
        .or_else(|| { last_stderr }.next_back())
        .unwrap_or("AI Configurator failed without a message");
    let mut out: String = message.chars().take(500).collect();
    if out.len() < message.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
