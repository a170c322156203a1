//! A real Kubernetes control plane on loopback, for integration tests and the local demo.
//!
//! It runs the real etcd, kube-apiserver, kube-controller-manager and kube-scheduler, plus KWOK
//! to simulate kubelets on GPU and CPU nodes, all built from the Go module proxy by
//! `scripts/build-testbin.sh`. Nothing here fakes the Kubernetes API: pods are bound by the real
//! scheduler, Deployments are reconciled by the real controller-manager, RBAC is enforced by the
//! real API server.
//!
//! Tests call [`shared`] to get one lazily started control plane per test binary and
//! [`ControlPlane::namespace`] for a fresh namespace each; [`ControlPlane::pod_logs`] gives the
//! pods of a namespace container logs a test writes. A test that must disturb the cluster (stop
//! the API server) starts its own with [`private_control_plane`]. `kubeairunway dev` uses
//! [`ControlPlane::start`] with [`Lifetime::Detached`] so the cluster outlives the command.
//!
//! [`simulators`] holds SIMULATED stand-ins for the KAITO, Dynamo and KubeRay operators (with
//! test-only CRDs, [`install_upstream_crds`]) so the product's providers can be exercised end to
//! end. They are test and demo fixtures, never part of the product.
//!
//! [`hf_hub`] is a local HuggingFace Hub ([`HubServer`]) answering with the Hub's real paths,
//! response shapes and errors, for tests of the model search, GGUF listing, gated repos and the
//! HuggingFace sign-in, which cannot reach <https://huggingface.co>.
//!
//! [`chart_repo`] serves Helm charts a test describes ([`ChartRepo`]), packaged and indexed with
//! the real `helm`, for tests of runtime installation.
//!
//! [`buildkit`] runs a real buildkitd, registry and build-input server on loopback
//! ([`LocalBuildkit`]) for tests of image builds.

pub mod azure_prices;
mod bins;
pub mod buildkit;
pub mod chart_repo;
mod cluster;
pub mod egress;
mod error;
pub mod hf_hub;
mod kubeconfig;
mod loopback;
pub mod metrics_server;
mod nodes;
mod pki;
mod pod_logs;
mod process;
mod shared;
pub mod simulators;
mod users;
mod wait;

pub use azure_prices::{AzurePricesServer, PriceItem};
pub use bins::{BUILD_SCRIPT, Binaries};
pub use buildkit::LocalBuildkit;
pub use chart_repo::{ChartRepo, ChartSource};
pub use cluster::{
    ClusterInfo, ControlPlane, Lifetime, Options, RoutedPod, SCRIPT_LABEL, stop_detached,
};
pub use egress::{Dial, EgressProxy};
pub use error::Error;
pub use hf_hub::HubServer;
pub use metrics_server::MetricsServer;
pub use nodes::{GpuSpec, NodePool, NodePools};
pub use pod_logs::PodLogs;
pub use shared::{TestNamespace, private_control_plane, shared};
pub use simulators::{UPSTREAM_CRD_NAMES, Upstream, install_upstream_crds, uninstall_upstream_crd};
pub use users::{User, Users};
pub use wait::wait_until;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
