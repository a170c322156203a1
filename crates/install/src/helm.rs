//! The Helm CLI: runs the real `helm` binary, never through a shell, with validated arguments
//! ([`crate::args`]), a private Helm home ([`PrivateHome`]), the caller's kubeconfig and a
//! timeout per command.
//!
//! Every command gets a clean environment for Helm: the user's `HELM_*` settings and
//! `KUBECONFIG` are removed, Helm's cache, config and data homes and the Kubernetes discovery
//! cache point into a directory of this server (so repositories added here never touch
//! `~/.config/helm` or `~/.kube`, and no user plugin is loaded), and `KUBECONFIG` is the job's
//! private kubeconfig. Flag values are passed as `--flag=value` and positional arguments follow
//! `--`, so even a value that slipped past validation could not be read as an option. A command
//! that outlives its timeout is killed (SIGKILL) and reported as timed out.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::home::PrivateHome;
use crate::jobs::Stream;

/// How long `helm version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a successful availability check is reused.
const STATUS_TTL: Duration = Duration::from_secs(30);
/// How long a failed availability check is reused (installing Helm shows up quickly).
const FAILED_STATUS_TTL: Duration = Duration::from_secs(5);
/// Longest line kept from Helm's output.
const MAX_LINE: usize = 16 * 1024;
/// How long to wait for output pipes to close after the process ended or was killed.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Whether Helm can run here, checked by running `helm version`; installs are refused up front
/// when it cannot (rather than failing at their first step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmStatus {
    /// Whether `helm version` ran.
    pub available: bool,
    /// `helm version --short` (e.g. `v3.16.2+g13654a5`).
    pub version: Option<String>,
    /// Why Helm cannot be used.
    pub error: Option<String>,
}

/// What one Helm command did (`HelmResult` of the reference, plus the timeout flag).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Exit code 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error (with the timeout or spawn failure appended).
    pub stderr: String,
    /// Exit code; `None` when killed or never started.
    pub exit_code: Option<i32>,
    /// Killed because it outlived its timeout.
    pub timed_out: bool,
}

/// One Helm command line.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// Arguments after `helm`.
    pub args: Vec<String>,
    /// Killed after this long.
    pub timeout: Duration,
}

impl Invocation {
    fn new(args: Vec<String>, timeout: Duration) -> Self {
        Self { args, timeout }
    }

    /// The command as a user would type it (shell-quoted where needed); for display only.
    pub fn display(&self) -> String {
        display_command(self.args.iter().map(String::as_str))
    }

    /// `helm version --short`.
    pub fn version() -> Self {
        Self::new(vec!["version".into(), "--short".into()], VERSION_TIMEOUT)
    }

    /// `helm repo add --force-update -- <name> <url>`.
    pub fn repo_add(name: &str, url: &str, timeout: Duration) -> Self {
        Self::new(
            strings(["repo", "add", "--force-update", "--", name, url]),
            timeout,
        )
    }

    /// `helm repo update -- <names…>` (only the repositories of this job).
    pub fn repo_update(names: &[&str], timeout: Duration) -> Self {
        let mut args = strings(["repo", "update", "--"]);
        args.extend(names.iter().map(|n| n.to_string()));
        Self::new(args, timeout)
    }

    /// `helm upgrade --install` of `release` from `chart`. Helm's own `--timeout` (for hooks) is
    /// set beyond ours, so our timeout decides and the clean-up below always runs.
    pub fn upgrade_install(
        release: &str,
        chart: &str,
        namespace: &str,
        create_namespace: bool,
        version: Option<&str>,
        set_json: &[String],
        timeout: Duration,
    ) -> Self {
        let mut args = strings(["upgrade", "--install"]);
        args.push(format!("--namespace={namespace}"));
        if create_namespace {
            args.push("--create-namespace".into());
        }
        if let Some(v) = version {
            args.push(format!("--version={v}"));
        }
        args.extend(set_json.iter().map(|s| format!("--set-json={s}")));
        args.push(helm_timeout(timeout));
        args.extend(strings(["--", release, chart]));
        Self::new(args, timeout)
    }

    /// `helm uninstall`; `no_hooks` for cleaning up a release whose hooks hung.
    pub fn uninstall(release: &str, namespace: &str, no_hooks: bool, timeout: Duration) -> Self {
        let mut args = strings(["uninstall"]);
        args.push(format!("--namespace={namespace}"));
        if no_hooks {
            args.push("--no-hooks".into());
        }
        args.push(helm_timeout(timeout));
        args.extend(strings(["--", release]));
        Self::new(args, timeout)
    }

    /// `helm rollback` to the previous revision.
    pub fn rollback(release: &str, namespace: &str, timeout: Duration) -> Self {
        let mut args = strings(["rollback"]);
        args.push(format!("--namespace={namespace}"));
        args.push(helm_timeout(timeout));
        args.extend(strings(["--", release]));
        Self::new(args, timeout)
    }

    /// `helm status -o json`.
    pub fn status(release: &str, namespace: &str, timeout: Duration) -> Self {
        let mut args = strings(["status"]);
        args.push(format!("--namespace={namespace}"));
        args.push("--output=json".into());
        args.extend(strings(["--", release]));
        Self::new(args, timeout)
    }

    /// `helm show crds`: the CRDs a chart ships in its `crds/` directories.
    pub fn show_crds(chart: &str, version: Option<&str>, timeout: Duration) -> Self {
        let mut args = strings(["show", "crds"]);
        if let Some(v) = version {
            args.push(format!("--version={v}"));
        }
        args.extend(strings(["--", chart]));
        Self::new(args, timeout)
    }
}

fn strings<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Helm's own `--timeout`: one minute beyond ours.
fn helm_timeout(ours: Duration) -> String {
    format!("--timeout={}s", ours.as_secs() + 60)
}

/// `helm <args>` with shell quoting where a shell would split or expand; for display only
/// (commands are never run through a shell).
pub fn display_command<'a>(args: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("helm");
    for arg in args {
        out.push(' ');
        out.push_str(&shell_quote(arg));
    }
    out
}

/// Quotes `value` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The Helm binary and the private directories it runs in (removed when the last user of this
/// value drops it).
pub struct Helm {
    path: PathBuf,
    home: PrivateHome,
    status: tokio::sync::Mutex<Option<(Instant, HelmStatus)>>,
}

impl Helm {
    /// Helm at `path` (a name is looked up on `PATH`), with its homes under `home`.
    pub fn new(path: PathBuf, home: PrivateHome) -> Self {
        Self {
            path,
            home,
            status: tokio::sync::Mutex::new(None),
        }
    }

    /// Directory for the jobs' private kubeconfigs.
    pub fn kubeconfig_dir(&self) -> PathBuf {
        self.home.path().join("kubeconfigs")
    }

    /// Whether Helm runs, and its version; cached briefly (a process per status poll would be
    /// wasteful).
    pub async fn status(&self) -> HelmStatus {
        let mut cached = self.status.lock().await;
        if let Some((at, status)) = cached.as_ref() {
            let ttl = if status.available {
                STATUS_TTL
            } else {
                FAILED_STATUS_TTL
            };
            if at.elapsed() < ttl {
                return status.clone();
            }
        }
        let outcome = self.run(&Invocation::version(), None, &mut |_, _| {}).await;
        let version = outcome.stdout.trim().to_string();
        let status = if outcome.success && !version.is_empty() {
            HelmStatus {
                available: true,
                version: Some(version),
                error: None,
            }
        } else {
            let error = outcome.stderr.trim();
            HelmStatus {
                available: false,
                version: None,
                error: Some(if error.is_empty() {
                    "Helm not found. Please install Helm CLI.".to_string()
                } else {
                    error.to_string()
                }),
            }
        };
        *cached = Some((Instant::now(), status.clone()));
        status
    }

    /// Runs `invocation` with `kubeconfig` (none: no cluster is reachable), passing every output
    /// line to `on_line` as it arrives, and kills it when its timeout passes.
    pub async fn run(
        &self,
        invocation: &Invocation,
        kubeconfig: Option<&Path>,
        on_line: &mut (dyn FnMut(Stream, &str) + Send),
    ) -> Outcome {
        let mut command = self.command(kubeconfig);
        command.args(&invocation.args);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let stderr = format!("Failed to execute helm ({}): {e}", self.path.display());
                on_line(Stream::Stderr, &stderr);
                return Outcome {
                    stderr,
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
            on_line(stream, &line);
            let buffer = match stream {
                Stream::Stdout => &mut outcome.stdout,
                Stream::Stderr => &mut outcome.stderr,
            };
            buffer.push_str(&line);
            buffer.push('\n');
        };
        let deadline = tokio::time::Instant::now() + invocation.timeout;
        let mut status = None;
        let mut open = true;
        while status.is_none() {
            tokio::select! {
                line = rx.recv(), if open => match line {
                    Some((stream, line)) => record(&mut outcome, stream, line),
                    None => open = false,
                },
                exit = child.wait() => {
                    status = Some(exit);
                }
                () = tokio::time::sleep_until(deadline) => {
                    outcome.timed_out = true;
                    if let Err(e) = child.start_kill() {
                        tracing::warn!(error = %e, "could not kill a timed-out helm process");
                    }
                    status = Some(child.wait().await);
                }
            }
        }
        // The process is gone; collect what is left in the pipes (bounded: a grandchild could
        // hold them open).
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
            Some(Err(e)) => {
                let line = format!("Failed to wait for helm: {e}");
                on_line(Stream::Stderr, &line);
                outcome.stderr.push_str(&line);
            }
            _ => {}
        }
        if outcome.timed_out {
            let line = format!(
                "Command timed out after {} seconds",
                invocation.timeout.as_secs()
            );
            on_line(Stream::Stderr, &line);
            outcome.stderr.push_str(&line);
            outcome.stderr.push('\n');
        }
        outcome
    }

    /// The process: no shell, no stdin, Helm settings cleared, private homes.
    fn command(&self, kubeconfig: Option<&Path>) -> Command {
        let mut command = Command::new(&self.path);
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("HELM_") || name == "KUBECONFIG" || name == "KUBECACHEDIR" {
                command.env_remove(&key);
            }
        }
        let home = self.home.path();
        command
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECACHEDIR", home.join("kube-cache"))
            .env(
                "KUBECONFIG",
                kubeconfig.map_or_else(|| home.join("no-cluster"), Path::to_path_buf),
            )
            .current_dir(home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

/// Sends each line of `pipe` (lossy UTF-8, at most [`MAX_LINE`] bytes kept) to `tx`.
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

/// Why the status of a release is unknown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseStatusError {
    /// `helm status` failed for another reason than a missing release.
    #[error("helm status failed: {stderr}")]
    Failed {
        /// Its error output.
        stderr: String,
    },
    /// `helm status` answered something other than the JSON it documents.
    #[error("unexpected output of helm status: {detail}")]
    Unreadable {
        /// The parse error.
        detail: String,
    },
}

/// The status of a release from `helm status -o json` (`info.status`), `None` when Helm says
/// the release does not exist.
pub fn release_status(outcome: &Outcome) -> Result<Option<String>, ReleaseStatusError> {
    if !outcome.success {
        if is_not_found(&outcome.stderr) {
            return Ok(None);
        }
        return Err(ReleaseStatusError::Failed {
            stderr: outcome.stderr.trim().to_string(),
        });
    }
    let value: serde_json::Value = serde_json::from_str(outcome.stdout.trim()).map_err(|e| {
        ReleaseStatusError::Unreadable {
            detail: e.to_string(),
        }
    })?;
    Ok(value["info"]["status"].as_str().map(str::to_string))
}

/// Helm's "release: not found" (status, uninstall).
pub fn is_not_found(stderr: &str) -> bool {
    stderr.contains("release: not found")
}

/// Whether a release status means an operation was interrupted.
pub fn is_pending(status: &str) -> bool {
    matches!(
        status,
        "pending-install" | "pending-upgrade" | "pending-rollback"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_put_values_after_flags_and_double_dash() {
        let inv = Invocation::upgrade_install(
            "kaito",
            "kaito/workspace",
            "kaito-system",
            true,
            Some("0.4.0"),
            &["a.b={\"c\":1}".to_string()],
            Duration::from_secs(300),
        );
        assert_eq!(
            inv.args,
            [
                "upgrade",
                "--install",
                "--namespace=kaito-system",
                "--create-namespace",
                "--version=0.4.0",
                "--set-json=a.b={\"c\":1}",
                "--timeout=360s",
                "--",
                "kaito",
                "kaito/workspace"
            ]
        );
        assert_eq!(
            inv.display(),
            "helm upgrade --install --namespace=kaito-system --create-namespace --version=0.4.0 \
             '--set-json=a.b={\"c\":1}' --timeout=360s -- kaito kaito/workspace"
        );
        assert_eq!(
            Invocation::repo_add("x", "https://e/x", Duration::from_secs(1)).args,
            ["repo", "add", "--force-update", "--", "x", "https://e/x"]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("plain-1.0"), "plain-1.0");
        assert_eq!(shell_quote(">=1.0, <2"), "'>=1.0, <2'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn statuses() {
        let found = Outcome {
            success: true,
            stdout: r#"{"name":"x","info":{"status":"pending-install"}}"#.into(),
            ..Outcome::default()
        };
        assert_eq!(release_status(&found), Ok(Some("pending-install".into())));
        let missing = Outcome {
            stderr: "Error: release: not found\n".into(),
            ..Outcome::default()
        };
        assert_eq!(release_status(&missing), Ok(None));
        let forbidden = Outcome {
            stderr: "Error: secrets is forbidden\n".into(),
            ..Outcome::default()
        };
        assert!(release_status(&forbidden).is_err());
        assert!(is_pending("pending-upgrade"));
        assert!(!is_pending("deployed"));
    }
}
