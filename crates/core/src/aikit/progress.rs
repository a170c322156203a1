//! `buildctl build --progress=plain` output read as progress.
//!
//! BuildKit prints one block per build step ("vertex"), each line prefixed `#<n> `: the first
//! line names the vertex (`#5 [2/3] COPY model.gguf /models/`), later ones carry its logs and
//! transfer status, and it ends with `#<n> DONE 0.5s`, `#<n> CACHED`, `#<n> ERROR: <why>` or
//! `#<n> CANCELED`. The command's own failure is a line `error: <why>` at the end. Every line
//! is streamed to the job as it is; this reader keeps the counts and the error a client shows.

use std::collections::BTreeMap;

use serde::Serialize;

/// One line of plain progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgressLine<'a> {
    /// `#<n> <text>`: the vertex's name when first seen, else a log or status line.
    Vertex {
        /// Vertex number.
        id: u32,
        /// The rest of the line.
        text: &'a str,
    },
    /// `#<n> DONE <duration>`.
    Done {
        /// Vertex number.
        id: u32,
    },
    /// `#<n> CACHED`.
    Cached {
        /// Vertex number.
        id: u32,
    },
    /// `#<n> CANCELED`.
    Canceled {
        /// Vertex number.
        id: u32,
    },
    /// `#<n> ERROR: <message>`.
    Error {
        /// Vertex number.
        id: u32,
        /// Why.
        message: &'a str,
    },
    /// `error: <message>`: the build failed.
    Failure(&'a str),
    /// Anything else (separators, the failed step's log excerpt).
    Other,
}

/// Reads one line.
pub fn parse_line(line: &str) -> ProgressLine<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(message) = line.strip_prefix("error: ") {
        return ProgressLine::Failure(message.trim());
    }
    let Some(rest) = line.strip_prefix('#') else {
        return ProgressLine::Other;
    };
    let Some((number, text)) = rest.split_once(' ') else {
        return ProgressLine::Other;
    };
    let Ok(id) = number.parse::<u32>() else {
        return ProgressLine::Other;
    };
    if text == "CACHED" {
        ProgressLine::Cached { id }
    } else if text == "CANCELED" {
        ProgressLine::Canceled { id }
    } else if let Some(message) = text.strip_prefix("ERROR: ") {
        ProgressLine::Error {
            id,
            message: message.trim(),
        }
    } else if text == "DONE" || text.strip_prefix("DONE ").is_some_and(is_duration) {
        ProgressLine::Done { id }
    } else {
        ProgressLine::Vertex { id, text }
    }
}

fn is_duration(s: &str) -> bool {
    s.strip_suffix('s')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Where a vertex is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VertexState {
    /// Started, not finished.
    Running,
    /// Finished.
    Done,
    /// Reused from the cache.
    Cached,
    /// Failed.
    Error,
    /// Canceled.
    Canceled,
}

/// The progress of one build, as far as its output went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    vertices: BTreeMap<u32, (String, VertexState)>,
    vertex_error: Option<String>,
    failure: Option<String>,
}

/// The progress in numbers (the job's `details.progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressSummary {
    /// Steps seen.
    pub steps: usize,
    /// Steps finished (done or cached).
    pub completed: usize,
    /// Steps reused from the cache.
    pub cached: usize,
    /// The name of the latest step still running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
}

impl Progress {
    /// Takes in one output line.
    pub fn observe(&mut self, line: &str) {
        match parse_line(line) {
            ProgressLine::Vertex { id, text } => {
                self.vertices
                    .entry(id)
                    .or_insert_with(|| (text.to_string(), VertexState::Running));
            }
            ProgressLine::Done { id } => self.set(id, VertexState::Done),
            ProgressLine::Cached { id } => self.set(id, VertexState::Cached),
            ProgressLine::Canceled { id } => self.set(id, VertexState::Canceled),
            ProgressLine::Error { id, message } => {
                self.set(id, VertexState::Error);
                if self.vertex_error.is_none() {
                    let name = self
                        .vertices
                        .get(&id)
                        .map(|(n, _)| n.as_str())
                        .unwrap_or("");
                    self.vertex_error = Some(if name.is_empty() {
                        message.to_string()
                    } else {
                        format!("{name}: {message}")
                    });
                }
            }
            ProgressLine::Failure(message) => self.failure = Some(message.to_string()),
            ProgressLine::Other => {}
        }
    }

    fn set(&mut self, id: u32, state: VertexState) {
        self.vertices
            .entry(id)
            .or_insert_with(|| (String::new(), state))
            .1 = state;
    }

    /// The counts so far.
    pub fn summary(&self) -> ProgressSummary {
        let count = |s: VertexState| self.vertices.values().filter(|(_, v)| *v == s).count();
        ProgressSummary {
            steps: self.vertices.len(),
            completed: count(VertexState::Done) + count(VertexState::Cached),
            cached: count(VertexState::Cached),
            current: self
                .vertices
                .values()
                .rev()
                .find(|(name, s)| *s == VertexState::Running && !name.is_empty())
                .map(|(name, _)| name.clone()),
        }
    }

    /// Why the build failed: `buildctl`'s final `error:` line, else the first failed step.
    pub fn error(&self) -> Option<&str> {
        self.failure.as_deref().or(self.vertex_error.as_deref())
    }
}
