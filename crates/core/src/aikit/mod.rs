//! AIKit image builds without I/O (docs/contract/api.md §13, §16.2): the premade models
//! ([`models`]), the rules every user value obeys before it reaches an image name, a build
//! argument or a command line ([`names`]), a build request turned into a validated plan and the
//! exact `buildctl` arguments ([`build`]), the in-cluster registry and BuildKit builder objects
//! ([`infra`]), and `buildctl --progress=plain` output read as progress ([`progress`]).
//!
//! The API server runs `buildctl` with these arguments (no shell) as a job and creates the
//! objects as the caller; nothing here talks to a cluster or a process.

pub mod build;
pub mod infra;
pub mod models;
pub mod names;
pub mod progress;

pub use build::{BuildError, BuildPlan, BuildRequest, BuildTarget, BuildctlArgs, ModelSource};
pub use models::{ComputeType, PREMADE_MODELS, PremadeModel, premade_model};
pub use names::NameError;
pub use progress::{Progress, ProgressLine, parse_line};

/// Namespace of the registry and the builder.
pub const NAMESPACE: &str = "kubeairunway-system";
/// Name of the registry's Deployment and Service.
pub const REGISTRY_NAME: &str = "kubeairunway-registry";
/// The registry image (`registry:2`, the reference's; distribution v2 API).
pub const REGISTRY_IMAGE: &str = "registry:2";
/// The registry's container and Service port.
pub const REGISTRY_PORT: i32 = 5000;
/// The registry's NodePort: kubelets pull from `localhost:30500`.
pub const REGISTRY_NODE_PORT: i32 = 30500;
/// Where the builder pushes (cluster DNS).
pub const REGISTRY_PUSH_HOST: &str = "kubeairunway-registry.kubeairunway-system.svc:5000";
/// Where kubelets pull the built images from (the NodePort on every node).
pub const REGISTRY_PULL_HOST: &str = "localhost:30500";
/// Name of the builder (its Deployment and Service).
pub const BUILDER_NAME: &str = "kubeairunway-builder";
/// The builder's driver, as the reference reports it (buildkitd runs as a Deployment).
pub const BUILDER_DRIVER: &str = "kubernetes";
/// The buildkitd image; the same version as the `buildctl` client the tests build.
pub const BUILDKIT_IMAGE: &str = "docker.io/moby/buildkit:v0.34.2";
/// buildkitd's TCP port inside the cluster.
pub const BUILDKIT_PORT: i32 = 1234;
/// Where `serve` reaches buildkitd when it runs in the cluster (`--buildkit-addr` otherwise).
pub const BUILDKIT_ADDR: &str = "tcp://kubeairunway-builder.kubeairunway-system.svc:1234";
/// The builder's resource requests (the reference's `--driver-opt requests.*`).
pub const BUILDER_CPU: &str = "2";
/// See [`BUILDER_CPU`].
pub const BUILDER_MEMORY: &str = "4Gi";
/// The AIKit BuildKit frontend (the `#syntax=` image of the aikitfile).
pub const AIKIT_FRONTEND: &str = "ghcr.io/kaito-project/aikit/aikit:latest";
/// The remote aikitfile the reference builds (its build context).
pub const AIKITFILE_URL: &str =
    "https://raw.githubusercontent.com/kaito-project/aikit/main/models/aikitfile.yaml";
/// The runner image of direct GGUF runs (unused by the routes, as in the reference).
pub const DIRECT_RUNNER_IMAGE: &str = "docker.io/sozercan/runner:latest";

#[cfg(test)]
mod tests;
