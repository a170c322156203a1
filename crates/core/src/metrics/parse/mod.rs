//! A parser of the Prometheus text exposition format (version 0.0.4), the format vLLM, SGLang,
//! llama.cpp's server and Dynamo's frontend answer `GET /metrics` with.
//!
//! Why our own: the format is line-based and small (`# HELP`, `# TYPE`, and
//! `name{label="value",…} value [timestamp]` lines), and what we need from a parser is that a bad
//! line is *reported* with its number and reason while the good lines still count, never a panic
//! and never a silently shorter answer. The crates on crates.io either are unmaintained
//! (`prometheus-parse`, last release 2023, which skips lines it cannot read without telling) or
//! pull a parser generator in for a grammar of a dozen rules (`openmetrics-parser`). The rules
//! follow the format's documentation: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names
//! `[a-zA-Z_][a-zA-Z0-9_]*`, label values in double quotes with `\\`, `\"` and `\n` escapes, a
//! trailing comma allowed, values as Go floats (`NaN`, `+Inf`, `-Inf`), an optional integer
//! timestamp in milliseconds, other `#` lines comments. OpenMetrics' `# EOF` is accepted too.

use std::collections::BTreeMap;

/// The declared type of a metric family (`# TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// A monotonically increasing value (resets when the process restarts).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Buckets (`_bucket{le=…}`), `_sum` and `_count`.
    Histogram,
    /// Quantiles, `_sum` and `_count`.
    Summary,
    /// No or an unknown type.
    Untyped,
}

impl MetricType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "summary" => Self::Summary,
            "untyped" | "unknown" => Self::Untyped,
            _ => return None,
        })
    }
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric name as written (`vllm:num_requests_running`, `…_bucket`).
    pub name: String,
    /// Label names and values, sorted by name.
    pub labels: BTreeMap<String, String>,
    /// The value; may be NaN or infinite.
    pub value: f64,
    /// The optional timestamp (milliseconds since the epoch).
    pub timestamp_ms: Option<i64>,
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Everything one scrape said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scrape {
    /// Every sample, in the order of the text.
    pub samples: Vec<Sample>,
    /// `# TYPE` by family name.
    pub types: BTreeMap<String, MetricType>,
    /// `# HELP` by family name (unescaped).
    pub help: BTreeMap<String, String>,
    /// Lines that were not understood (the others still count).
    pub errors: Vec<LineError>,
}

impl Scrape {
    /// The declared type of the family `sample_name` belongs to: the name itself, or the name
    /// without a `_bucket`/`_sum`/`_count`/`_total`/`_created` suffix.
    pub fn type_of(&self, sample_name: &str) -> MetricType {
        if let Some(t) = self.types.get(sample_name) {
            return *t;
        }
        for suffix in ["_bucket", "_sum", "_count", "_total", "_created"] {
            if let Some(base) = sample_name.strip_suffix(suffix)
                && let Some(t) = self.types.get(base)
            {
                return *t;
            }
        }
        MetricType::Untyped
    }
}

/// Parses `text`. Never fails as a whole: lines that cannot be read are listed in
/// [`Scrape::errors`] and skipped, so one odd line from a model server does not hide the rest.
pub fn parse(text: &str) -> Scrape {
    let mut out = Scrape::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
        if line.is_empty() {
            continue;
        }
        let result = if let Some(comment) = line.strip_prefix('#') {
            comment_line(comment, &mut out)
        } else {
            sample_line(line).map(|s| out.samples.push(s))
        };
        if let Err(reason) = result {
            out.errors.push(LineError {
                line: index + 1,
                reason,
            });
        }
    }
    out
}

fn comment_line(comment: &str, out: &mut Scrape) -> Result<(), String> {
    let comment = comment.trim_start_matches([' ', '\t']);
    let (keyword, rest) = split_word(comment);
    match keyword {
        "HELP" => {
            let (name, doc) = split_word(rest);
            check_metric_name(name)?;
            out.help.insert(name.to_string(), unescape_help(doc));
        }
        "TYPE" => {
            let (name, kind) = split_word(rest);
            check_metric_name(name)?;
            let kind = kind.trim();
            let t = MetricType::parse(kind)
                .ok_or_else(|| format!("unknown metric type {kind:?} for {name}"))?;
            out.types.insert(name.to_string(), t);
        }
        // `# EOF` (OpenMetrics) and free comments.
        _ => {}
    }
    Ok(())
}

/// The first whitespace-separated word and the rest (without the separating blanks).
fn split_word(s: &str) -> (&str, &str) {
    match s.find([' ', '\t']) {
        Some(i) => (&s[..i], s[i..].trim_start_matches([' ', '\t'])),
        None => (s, ""),
    }
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else if name.is_empty() {
        Err("missing metric name".into())
    } else {
        Err(format!("invalid metric name {name:?}"))
    }
}

fn unescape_help(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut chars = doc.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn sample_line(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = parse_labels(after_brace, &mut labels)?;
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(format!("expected a value after {name}"));
    }
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    let value_text = fields
        .next()
        .ok_or_else(|| format!("missing value for {name}"))?;
    let value = parse_value(value_text).ok_or_else(|| format!("invalid value {value_text:?}"))?;
    let timestamp_ms = match fields.next() {
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("invalid timestamp {t:?}"))?,
        ),
        None => None,
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected text {extra:?} after the sample"));
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
        timestamp_ms,
    })
}

/// Parses `name="value",…}` and returns what follows the closing brace.
fn parse_labels<'a>(
    mut s: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, String> {
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let name_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("unterminated label set")?;
        let name = &s[..name_end];
        let valid_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !valid_start {
            return Err(format!("invalid label name at {:?}", truncate(s)));
        }
        s = s[name_end..].trim_start_matches([' ', '\t']);
        s = s
            .strip_prefix('=')
            .ok_or_else(|| format!("expected '=' after label {name}"))?;
        s = s.trim_start_matches([' ', '\t']);
        s = s
            .strip_prefix('"')
            .ok_or_else(|| format!("label {name}: value must be in double quotes"))?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("label {name}: unterminated value")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, other)) => {
                        return Err(format!("label {name}: invalid escape \\{other}"));
                    }
                    None => return Err(format!("label {name}: unterminated value")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} appears twice"));
        }
        s = s[end + 1..].trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err(format!("expected ',' or '}}' after label {name}"));
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(20).collect()
}

/// A value as Go's `strconv.ParseFloat` (which writers use) accepts it, including `NaN`,
/// `+Inf`, `-Inf`.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => {
            // Rust's parser also takes "infinity" and "nan" spellings; only digits, signs, a dot
            // and exponents reach it here.
            if s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
            {
                s.parse::<f64>().ok()
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
