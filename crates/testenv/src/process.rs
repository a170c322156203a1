//! Spawning and stopping the control-plane processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Error, Result};

/// How long the processes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// The kernel kills them when the spawning thread's process exits (tests).
    TiedToProcess,
    /// They run in their own process group and outlive the caller (`kubeairunway dev up`).
    Detached,
}

/// One running component.
#[derive(Debug)]
pub(crate) struct Component {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

/// What to do with an existing log file when a component starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogMode {
    /// Start a fresh log (first start).
    Truncate,
    /// Keep what is there (a restart), so the log tells the whole story.
    Append,
}

impl Component {
    pub fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[String],
        log_dir: &Path,
        lifetime: Lifetime,
        log_mode: LogMode,
    ) -> Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(log_mode == LogMode::Append)
            .truncate(log_mode == LogMode::Truncate)
            .open(&log)
            .map_err(Error::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(Error::io("duplicating a log file handle"))?;
        let mut cmd = Command::new(bin);
        cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        match lifetime {
            Lifetime::Detached => {
                use std::os::unix::process::CommandExt;
                cmd.process_group(0);
            }
            Lifetime::TiedToProcess => tie_to_parent(&mut cmd),
        }
        let child = cmd
            .spawn()
            .map_err(Error::io(format!("starting {name} ({})", bin.display())))?;
        Ok(Self { name, child, log })
    }

    /// Like [`Component::spawn`], but for processes started after start-up from any thread:
    /// a [`Lifetime::TiedToProcess`] child dies with the *thread* that spawned it, so it is
    /// spawned from a keeper thread that lives as long as the process.
    pub fn spawn_from_keeper(
        name: &'static str,
        bin: &Path,
        args: &[String],
        log_dir: &Path,
        lifetime: Lifetime,
        log_mode: LogMode,
    ) -> Result<Self> {
        if lifetime == Lifetime::Detached {
            return Self::spawn(name, bin, args, log_dir, lifetime, log_mode);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (bin, args, log_dir) = (bin.to_path_buf(), args.to_vec(), log_dir.to_path_buf());
        std::thread::Builder::new()
            .name(format!("testenv-keeper-{name}"))
            .spawn(move || {
                let spawned = Self::spawn(name, &bin, &args, &log_dir, lifetime, log_mode);
                let ok = spawned.is_ok();
                let _ = tx.send(spawned);
                if ok {
                    loop {
                        std::thread::park();
                    }
                }
            })
            .map_err(Error::io(format!("starting a keeper thread for {name}")))?;
        rx.recv()
            .map_err(|_| Error::State(format!("the keeper thread of {name} died")))?
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has exited, with the end of its log.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::ComponentExited {
                component: self.name.to_string(),
                status: status.to_string(),
                log: self.log.clone(),
                tail: log_tail(&self.log, 25),
            }),
            Err(e) => Err(Error::io(format!("checking {}", self.name))(e)),
        }
    }
}

/// Asks the kernel to SIGKILL the child when the thread that spawned it dies; the testenv
/// supervisor thread lives as long as the test process, so children die with the tests.
#[allow(unsafe_code)]
fn tie_to_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe; it allocates nothing and takes no locks.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
}

/// The last `lines` lines of a log file.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Terminates a process by pid (SIGTERM, then SIGKILL after `grace`), if it is still the
/// program we started (`expected` is a substring of its command line), so a recycled pid is
/// never signalled.
pub(crate) fn terminate_pid(pid: u32, expected: &str, grace: Duration) {
    let Ok(raw) = i32::try_from(pid) else { return };
    let pid = Pid::from_raw(raw);
    let matches = || {
        std::fs::read(format!("/proc/{raw}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(expected))
            .unwrap_or(false)
    };
    if !matches() {
        return;
    }
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if !matches() || is_zombie(raw) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = kill(pid, Signal::SIGKILL);
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Free loopback TCP ports (all distinct).
pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(Error::io("finding free loopback ports"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(Error::io("finding free loopback ports"))
}
