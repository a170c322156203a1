use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// The build script, embedded so that `kubeairunway dev up` can build missing binaries from
/// any directory.
pub const BUILD_SCRIPT: &str = include_str!("../../../scripts/build-testbin.sh");

/// Where the control-plane binaries live.
#[derive(Clone, Debug)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Every tool the control plane runs.
    pub const TOOLS: [&'static str; 7] = [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "kubectl",
        "helm",
    ];

    /// `KAIR_TESTBIN_DIR` if set, else the build script's cache
    /// (`$XDG_CACHE_HOME` or `~/.cache`, then `kubeairunway/bin/current`).
    pub fn from_env() -> Self {
        if let Some(dir) = std::env::var_os("KAIR_TESTBIN_DIR") {
            return Self { dir: dir.into() };
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        Self {
            dir: cache.join("kubeairunway/bin/current"),
        }
    }

    /// Binaries in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory (put it on `PATH` for kubectl and helm).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of one tool, checked to exist.
    pub fn tool(&self, tool: &'static str) -> Result<PathBuf> {
        let path = self.dir.join(tool);
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::MissingBinary { tool, path })
        }
    }

    /// The KWOK stage definitions copied from the KWOK module by the build script.
    pub fn kwok_stages(&self) -> Result<Vec<PathBuf>> {
        let dir = self.dir.join("kwok-stages");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|_| Error::MissingBinary {
                tool: "kwok-stages",
                path: dir.clone(),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// True when every tool is present.
    pub fn complete(&self) -> bool {
        Self::TOOLS.iter().all(|t| self.tool(t).is_ok()) && self.kwok_stages().is_ok()
    }

    /// Builds whatever is missing by running the embedded build script (output goes to this
    /// process's stderr, so the user sees progress). Needs Go.
    pub fn build_missing() -> Result<Self> {
        let go = Command::new("go").arg("version").output();
        if !go.is_ok_and(|o| o.status.success()) {
            return Err(Error::GoMissing);
        }
        let status = Command::new("bash")
            .arg("-c")
            .arg(BUILD_SCRIPT)
            .arg("build-testbin")
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(Error::io("running the control-plane build script"))?;
        if !status.success() {
            return Err(Error::BuildFailed { status });
        }
        Ok(Self::from_env())
    }
}
