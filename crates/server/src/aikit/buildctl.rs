//! Running the real `buildctl`: no shell, explicit arguments (built and validated by
//! `kubeairunway_core::aikit`), no stdin, `BUILDKIT_HOST` removed from its environment (the
//! address is always the explicit `--addr`), each output line handed over as it arrives, killed
//! when its timeout passes.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use kubeairunway_install::jobs::Stream;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Longest line kept.
const MAX_LINE: usize = 16 * 1024;
/// How long to wait for the pipes after the process ended.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// What one run did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    /// Exit code 0.
    pub success: bool,
    /// Exit code; `None` when killed or never started.
    pub exit_code: Option<i32>,
    /// Killed at the timeout.
    pub timed_out: bool,
    /// Could not start, with the reason.
    pub spawn_error: Option<String>,
    /// The last non-empty line of standard error.
    pub last_error_line: Option<String>,
}

/// Runs `path args…` in `dir`, passing each line to `on_line`.
pub(crate) async fn run(
    path: &Path,
    args: &[String],
    dir: &Path,
    timeout: Duration,
    on_line: &mut (dyn FnMut(Stream, &str) + Send),
) -> Outcome {
    let mut command = Command::new(path);
    command
        .args(args)
        .env_remove("BUILDKIT_HOST")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Outcome {
                spawn_error: Some(format!(
                    "Failed to execute buildctl ({}): {e}",
                    path.display()
                )),
                ..Outcome::default()
            };
        }
    };
    let (tx, mut rx) = mpsc::channel::<(Stream, String)>(256);
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(read_lines(out, Stream::Stdout, tx.clone())));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(read_lines(err, Stream::Stderr, tx.clone())));
    }
    drop(tx);
    let mut outcome = Outcome::default();
    let mut record = |outcome: &mut Outcome, stream: Stream, line: String| {
        if stream == Stream::Stderr && !line.trim().is_empty() {
            outcome.last_error_line = Some(line.clone());
        }
        on_line(stream, &line);
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut status = None;
    let mut open = true;
    while status.is_none() {
        tokio::select! {
            line = rx.recv(), if open => match line {
                Some((stream, line)) => record(&mut outcome, stream, line),
                None => open = false,
            },
            exit = child.wait() => status = Some(exit),
            () = tokio::time::sleep_until(deadline) => {
                outcome.timed_out = true;
                if let Err(e) = child.start_kill() {
                    tracing::warn!(error = %e, "could not kill a timed-out buildctl");
                }
                status = Some(child.wait().await);
            }
        }
    }
    let drain = async {
        while let Some((stream, line)) = rx.recv().await {
            record(&mut outcome, stream, line);
        }
    };
    if tokio::time::timeout(DRAIN_WAIT, drain).await.is_err() {
        for reader in &readers {
            reader.abort();
        }
    }
    match status {
        Some(Ok(exit)) if !outcome.timed_out => {
            outcome.exit_code = exit.code();
            outcome.success = exit.success();
        }
        Some(Err(e)) => outcome.spawn_error = Some(format!("Failed to wait for buildctl: {e}")),
        _ => {}
    }
    outcome
}

async fn read_lines(
    pipe: impl AsyncRead + Unpin,
    stream: Stream,
    tx: mpsc::Sender<(Stream, String)>,
) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                buf.truncate(MAX_LINE);
                let line = String::from_utf8_lossy(&buf).into_owned();
                if tx.send((stream, line)).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// The command line as a user would type it (for display only; it never runs in a shell).
pub(crate) fn display(path: &Path, args: &[String]) -> String {
    let program = path.display().to_string();
    kubeairunway_install::helm::display_command(
        std::iter::once(program.as_str()).chain(args.iter().map(String::as_str)),
    )
}
