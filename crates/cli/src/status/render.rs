//! The text `kubeairunway status` prints: the timeline as a table, one line per change while
//! watching, and a progress line. Pure functions of the ModelDeployment, so the output is
//! tested without a cluster.

use std::fmt::Write as _;

use k8s_openapi::jiff::Timestamp;
use kubeairunway_api::{
    ModelDeployment, ProgressPhase, ProgressPhaseName, ProgressState, ProgressStatus,
};

/// Width of the progress bar in characters.
const BAR: usize = 20;

/// The phase's name as a person reads it (a done `ImagePulling` is "Image pulled").
pub fn label(phase: &ProgressPhase) -> &'static str {
    match (phase.name, phase.state) {
        (ProgressPhaseName::Scheduled, ProgressState::Done) => "Scheduled",
        (ProgressPhaseName::Scheduled, _) => "Scheduling",
        (ProgressPhaseName::ImagePulling, ProgressState::Done) => "Image pulled",
        (ProgressPhaseName::ImagePulling, _) => "Pulling image",
        (ProgressPhaseName::Downloading, ProgressState::Done) => "Downloaded",
        (ProgressPhaseName::Downloading, _) => "Downloading",
        (ProgressPhaseName::Loading, ProgressState::Done) => "Loaded",
        (ProgressPhaseName::Loading, _) => "Loading",
        (ProgressPhaseName::Ready, _) => "Ready",
    }
}

/// `1h 2m`, `2m 5s`, `45s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// Seconds since an RFC 3339 time, if it parses.
fn since(at: Option<&str>, now: Timestamp) -> Option<i64> {
    let t: Timestamp = at?.parse().ok()?;
    Some(now.duration_since(t).as_secs())
}

/// One row of the table: a mark, the label, and what there is to say.
pub fn row(phase: &ProgressPhase, now: Timestamp) -> String {
    let (mark, detail) = match phase.state {
        ProgressState::Done => (
            "✓",
            phase.duration_seconds.map(duration).unwrap_or_default(),
        ),
        ProgressState::Skipped => ("–", "skipped".to_string()),
        ProgressState::Waiting => ("·", String::new()),
        ProgressState::Active => (
            "▶",
            since(phase.started_at.as_deref(), now)
                .map(|s| format!("for {}", duration(s)))
                .unwrap_or_default(),
        ),
        ProgressState::Stalled => (
            "⚠",
            format!(
                "stalled ({}){}",
                phase.reason.as_deref().unwrap_or("unknown"),
                since(phase.started_at.as_deref(), now)
                    .map(|s| format!(" for {}", duration(s)))
                    .unwrap_or_default()
            ),
        ),
    };
    let mut line = format!("  {mark} {:<14} {detail}", label(phase));
    if matches!(phase.state, ProgressState::Active | ProgressState::Stalled)
        && let Some(message) = &phase.message
    {
        let _ = write!(line, " — {message}");
    }
    line.trim_end().to_string()
}

/// The header naming the deployment, then every phase.
pub fn table(md: &ModelDeployment, now: Timestamp) -> String {
    let mut out = header(md);
    match md.status.as_ref().and_then(|s| s.progress.as_ref()) {
        Some(progress) => {
            for phase in &progress.phases {
                out.push('\n');
                out.push_str(&row(phase, now));
            }
            out.push('\n');
            out.push_str(&progress_line(progress));
        }
        None => out.push_str(
            "\n  (no progress yet: the controller has not applied the provider's objects)",
        ),
    }
    out
}

/// `ModelDeployment ns/name — Deploying (provider kubernetes, engine vllm)`.
pub fn header(md: &ModelDeployment) -> String {
    let status = md.status.as_ref();
    let phase = status
        .and_then(|s| s.phase)
        .map_or_else(|| "Pending".to_string(), |p| format!("{p:?}"));
    let mut details = Vec::new();
    if let Some(p) = status
        .and_then(|s| s.provider.as_ref())
        .and_then(|p| p.name.as_deref())
    {
        details.push(format!("provider {p}"));
    }
    if let Some(e) = status.and_then(|s| s.engine.as_ref()).and_then(|e| e.type_) {
        details.push(format!("engine {}", e.as_str()));
    }
    let mut out = format!(
        "ModelDeployment {}/{} — {phase}",
        md.metadata.namespace.as_deref().unwrap_or_default(),
        md.metadata.name.as_deref().unwrap_or_default()
    );
    if !details.is_empty() {
        let _ = write!(out, " ({})", details.join(", "));
    }
    if let Some(message) = status
        .and_then(|s| s.message.as_deref())
        .filter(|m| !m.is_empty())
    {
        let _ = write!(out, "\n  {message}");
    }
    out
}

/// `[██████████░░░░░░░░░░] 3/5 steps · 0/1 pods ready` (skipped steps count as done).
pub fn progress_line(progress: &ProgressStatus) -> String {
    let total = progress.phases.len().max(1);
    let done = progress
        .phases
        .iter()
        .filter(|p| matches!(p.state, ProgressState::Done | ProgressState::Skipped))
        .count();
    let filled = done * BAR / total;
    let mut line = format!(
        "[{}{}] {done}/{total} steps · {}/{} pods ready",
        "█".repeat(filled),
        "░".repeat(BAR - filled),
        progress.pods_ready,
        progress.pods_desired
    );
    if let Some(reason) = &progress.stalled_reason {
        let _ = write!(line, " · stalled: {reason}");
    }
    line
}

/// What changed between two readings of the timeline, one line each, timestamped by the phase's
/// own times where known.
pub fn changes(
    before: Option<&ProgressStatus>,
    after: &ProgressStatus,
    now: Timestamp,
) -> Vec<String> {
    let mut out = Vec::new();
    for phase in &after.phases {
        let old = before.and_then(|b| b.phases.iter().find(|p| p.name == phase.name));
        let same = old.is_some_and(|o| {
            o.state == phase.state && o.reason == phase.reason && o.message == phase.message
        });
        if same || (old.is_none() && phase.state == ProgressState::Waiting) {
            continue;
        }
        if before.is_some() || phase.state != ProgressState::Waiting {
            out.push(row(phase, now));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn md(progress: serde_json::Value) -> ModelDeployment {
        serde_json::from_value(json!({
            "apiVersion": "kubeairunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": { "name": "qwen", "namespace": "team-a" },
            "spec": { "model": { "id": "Qwen/Qwen3-0.6B" } },
            "status": {
                "phase": "Deploying", "provider": { "name": "kubernetes" },
                "engine": { "type": "vllm" }, "progress": progress,
            },
        }))
        .expect("md")
    }

    fn loading() -> serde_json::Value {
        json!({
            "current": "Loading", "podsDesired": 2, "podsReady": 1,
            "phases": [
                { "name": "Scheduled", "state": "Done", "durationSeconds": 2 },
                { "name": "ImagePulling", "state": "Done", "durationSeconds": 125 },
                { "name": "Downloading", "state": "Skipped" },
                { "name": "Loading", "state": "Active", "startedAt": "2026-12-03T10:00:00Z",
                  "message": "Model server running, not ready yet" },
                { "name": "Ready", "state": "Waiting" },
            ],
        })
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn the_table_shows_each_phase_and_a_progress_line() {
        let text = table(&md(loading()), at("2026-12-03T10:00:35Z"));
        assert_eq!(
            text,
            "ModelDeployment team-a/qwen — Deploying (provider kubernetes, engine vllm)\n  \
             ✓ Scheduled      2s\n  \
             ✓ Image pulled   2m 5s\n  \
             – Downloading    skipped\n  \
             ▶ Loading        for 35s — Model server running, not ready yet\n  \
             · Ready\n\
             [████████████░░░░░░░░] 3/5 steps · 1/2 pods ready"
        );
    }

    #[test]
    fn a_stall_names_its_reason() {
        let mut p = loading();
        p["phases"][3]["state"] = json!("Stalled");
        p["phases"][3]["reason"] = json!("CrashLoopBackOff");
        p["phases"][3]["message"] = json!("server: CrashLoopBackOff (last exit code 1)");
        p["stalledReason"] = json!("CrashLoopBackOff");
        let md = md(p);
        let progress = md
            .status
            .as_ref()
            .and_then(|s| s.progress.as_ref())
            .expect("progress");
        assert_eq!(
            row(&progress.phases[3], at("2026-12-03T10:01:10Z")),
            "  ⚠ Loading        stalled (CrashLoopBackOff) for 1m 10s — server: CrashLoopBackOff (last exit code 1)"
        );
        assert!(progress_line(progress).ends_with("· stalled: CrashLoopBackOff"));
    }

    #[test]
    fn changes_list_only_what_moved() {
        let before = md(loading());
        let mut next = loading();
        next["phases"][3] = json!({ "name": "Loading", "state": "Done", "durationSeconds": 40 });
        next["phases"][4] = json!({ "name": "Ready", "state": "Done", "durationSeconds": 0 });
        next["current"] = json!(null);
        let after = md(next);
        let p = |m: &ModelDeployment| {
            m.status
                .as_ref()
                .and_then(|s| s.progress.clone())
                .expect("progress")
        };
        let lines = changes(Some(&p(&before)), &p(&after), at("2026-12-03T10:00:40Z"));
        assert_eq!(lines, ["  ✓ Loaded         40s", "  ✓ Ready          0s"]);
        assert!(changes(Some(&p(&after)), &p(&after), at("2026-12-03T10:00:41Z")).is_empty());
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(61), "1m 1s");
        assert_eq!(duration(3725), "1h 2m");
        assert_eq!(duration(-3), "0s");
    }
}
