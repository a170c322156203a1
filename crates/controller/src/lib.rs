//! The KubeAIRunway controller: the core reconciler (engine and provider selection, one unified
//! status) and the providers that turn a ModelDeployment into a serving stack — all in one
//! process, each provider switchable by flag. Out-of-tree providers remain possible through the
//! same CRDs: the contract between the core and a provider is `status.provider.name`.
//!
//! This crate is the I/O half: watches, caches, server-side apply, finalizers, Events, metrics
//! and leader election. What to write is decided by `kubeairunway-core`, without a client.

pub mod context;
pub mod core_controller;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod provider_controller;
pub mod rbac;
pub mod registration;
mod run;

pub use context::{Context, Settings};
pub use leader::{LEASE_NAME, LeaderConfig};
pub use run::{Options, all_providers, run};

/// Why a controller step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// Cause.
        source: kube::Error,
    },
    /// A provider name on the command line is unknown.
    #[error(transparent)]
    UnknownProvider(#[from] kubeairunway_core::providers::UnknownProvider),
    /// Another replica took over the leader lease.
    #[error("lost the leader lease ({0}); stopping so another replica leads")]
    LostLeadership(String),
    /// Serving the metrics endpoint failed.
    #[error("serving metrics on {addr}: {source}")]
    Metrics {
        /// Address.
        addr: std::net::SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// Internal data could not be shaped (a bug).
    #[error("invalid internal data: {0}")]
    Invalid(String),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
