use std::path::PathBuf;
use std::time::Duration;

/// Why the local control plane could not be built, started or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A control-plane binary has not been built yet.
    #[error(
        "{tool} not found at {path}: build the control-plane binaries with `make testbin` \
         (scripts/build-testbin.sh; needs Go) or point KAIR_TESTBIN_DIR at them"
    )]
    MissingBinary {
        /// Tool name.
        tool: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Go is needed to build the binaries and is not installed.
    #[error(
        "Go is not installed; it is needed once to build the local control plane (install Go >= 1.24)"
    )]
    GoMissing,
    /// The build script failed.
    #[error(
        "building the control-plane binaries failed (exit status {status}); see the output above"
    )]
    BuildFailed {
        /// Exit status of the script.
        status: std::process::ExitStatus,
    },
    /// A file-system or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("generating the control plane's certificates: {0}")]
    Pki(#[from] rcgen::Error),
    /// A component died while starting.
    #[error("{component} exited during start-up ({status}); last lines of {log}:\n{tail}")]
    ComponentExited {
        /// Component name.
        component: String,
        /// Exit status.
        status: String,
        /// Log file.
        log: PathBuf,
        /// Last log lines.
        tail: String,
    },
    /// Something did not become ready in time.
    #[error("{what} did not happen within {timeout:?}{detail}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
        /// Last observed state, if any (starts with ": ").
        detail: String,
    },
    /// A Kubernetes API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// Cause.
        source: kube::Error,
    },
    /// The generated kubeconfig could not be loaded.
    #[error("loading the kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// The node pool file is invalid.
    #[error("invalid node pool file: {0}")]
    NodeFile(String),
    /// A state file is missing or invalid (the cluster is not running).
    #[error("{0}")]
    State(String),
    /// A CRD shipped with this crate (a test-only upstream CRD, or KWOK's ClusterLogs) could
    /// not be parsed.
    #[error("upstream CRD file {file}: {reason}")]
    UpstreamCrd {
        /// File name (under `crates/testenv/upstream-crds/` or `crates/testenv/kwok-crds/`).
        file: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// A simulated upstream operator could not turn an upstream object into pods.
    #[error("simulated {kind} operator, {namespace}/{name}: {reason}")]
    Simulation {
        /// Upstream kind (`Workspace`, `DynamoGraphDeployment`, `RayService`).
        kind: &'static str,
        /// Namespace of the upstream object.
        namespace: String,
        /// Name of the upstream object.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub(crate) fn kube(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let what = what.into();
        move |source| Error::Kube { what, source }
    }
}
