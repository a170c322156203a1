//! Providers turn a ModelDeployment into the objects of one serving stack and map those
//! objects' status back. Each provider is one module behind the [`Provider`] trait, pure: what
//! to apply and what the applied objects mean. The controller's shared loop (finalizer,
//! server-side apply, pruning, status) drives them through [`crate::step`].

pub mod common;
pub mod dynamo;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod kaito;
pub mod kuberay;
pub mod kubernetes;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{
    ComponentReplicaStatus, EndpointStatus, EngineType, InferenceProviderConfigSpec,
    ModelDeployment, ReplicaStatus,
};
use serde_json::Value;

/// The kind a provider writes, when it is a third-party CRD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamKind {
    /// API group, e.g. `kaito.sh`.
    pub group: &'static str,
    /// Version, e.g. `v1beta1`.
    pub version: &'static str,
    /// Kind, e.g. `Workspace`.
    pub kind: &'static str,
    /// Plural resource name, e.g. `workspaces`.
    pub plural: &'static str,
}

impl UpstreamKind {
    /// `group/version`, the `apiVersion` of the objects the provider renders.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// The CRD name, `plural.group`: the provider can serve only while this CRD is installed.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

/// Phase as translated from the provider's objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObservedPhase {
    /// Nothing is scheduled yet.
    Pending,
    /// Objects exist; the model server is not ready.
    Deploying,
    /// Serving.
    Running,
    /// The stack reports a failure.
    Failed,
}

/// What a provider reads from its live objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// Translated phase.
    pub phase: ObservedPhase,
    /// Upstream message, if any (a failure reason, a scheduling problem, …).
    pub message: Option<String>,
    /// Replica counts; `None` when the upstream object has no status yet.
    pub replicas: Option<ReplicaStatus>,
    /// Where the model is served; `None` when unknown.
    pub endpoint: Option<EndpointStatus>,
    /// Per-component workers of a disaggregated deployment; `None` for other deployments, or
    /// when the provider cannot tell them apart.
    pub components: Option<Components>,
}

/// Requested and ready workers of each half of a prefill/decode split, so clients can show
/// `P: ready/desired, D: ready/desired`.
#[derive(Clone, Debug, PartialEq)]
pub struct Components {
    /// Prefill workers.
    pub prefill: ComponentReplicaStatus,
    /// Decode workers.
    pub decode: ComponentReplicaStatus,
}

/// Why the provider's objects could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// Why a provider cannot serve a deployment, phrased for the user with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Incompatible(pub String);

impl From<String> for Incompatible {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

impl From<&str> for Incompatible {
    fn from(reason: &str) -> Self {
        Self(reason.to_string())
    }
}

/// One serving stack.
pub trait Provider: Send + Sync + 'static {
    /// Provider name; also the name of its InferenceProviderConfig.
    fn name(&self) -> &'static str;

    /// Reported in `status.version` of the InferenceProviderConfig.
    fn version(&self) -> &'static str;

    /// Capabilities, selection rules and installation info registered at start.
    fn registration(&self) -> InferenceProviderConfigSpec;

    /// The third-party kind this provider writes; `None` for built-in Kubernetes objects. Its
    /// CRD decides whether the provider is ready.
    fn upstream(&self) -> Option<UpstreamKind>;

    /// The third-party kind this provider writes for `md`, whose CRD must be installed before
    /// the deployment can be served. Defaults to [`Provider::upstream`]; a provider with more
    /// than one kind (KAITO's Workspace or InferenceSet) answers per deployment.
    fn upstream_for(&self, md: &ModelDeployment) -> Option<UpstreamKind> {
        let _ = md;
        self.upstream()
    }

    /// Whether this provider can serve `md` with the resolved `engine`; the error says why not.
    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible>;

    /// The objects to apply, complete with `apiVersion`, `kind`, `metadata` (name, namespace,
    /// labels, owner references). The first one is the primary object whose status is mapped.
    fn desired(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<Vec<Value>, TransformError>;

    /// The kinds of every object `desired` returns, for clean-up. Defaults to the upstream kind.
    fn kinds(&self) -> Vec<kube_core::ApiResource> {
        self.upstream()
            .map(|u| {
                let gvk = kube_core::GroupVersionKind::gvk(u.group, u.version, u.kind);
                vec![kube_core::ApiResource::from_gvk_with_plural(&gvk, u.plural)]
            })
            .unwrap_or_default()
    }

    /// Translates the live primary object (`None` when it does not exist yet) and the pods of the
    /// deployment into a status.
    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed;
}

/// Every built-in provider name, in the order they are listed: the controller enables all of
/// them unless told otherwise.
pub const BUILT_IN: [&str; 4] = ["kaito", "dynamo", "kuberay", "kubernetes"];

/// A provider name that is not built in, so a typo in the enabled list stops the start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider {0:?} (known: kaito, dynamo, kuberay, kubernetes)")]
pub struct UnknownProvider(pub String);

/// The built-in provider called `name`: providers are enabled by name.
pub fn built_in(name: &str) -> Result<Arc<dyn Provider>, UnknownProvider> {
    Ok(match name {
        "kaito" => Arc::new(kaito::Kaito),
        "dynamo" => Arc::new(dynamo::Dynamo),
        "kuberay" => Arc::new(kuberay::KubeRay),
        "kubernetes" => Arc::new(kubernetes::Kubernetes),
        other => return Err(UnknownProvider(other.to_string())),
    })
}

/// The enabled providers by name, so the core finds the one a deployment selected.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<&'static str, Arc<dyn Provider>>,
}

impl Registry {
    /// A registry of `providers`.
    pub fn new(providers: Vec<Arc<dyn Provider>>) -> Self {
        Self {
            providers: providers.into_iter().map(|p| (p.name(), p)).collect(),
        }
    }

    /// Every enabled provider.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// The provider named `name`, if enabled.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }
}

/// Field manager of a provider's writes: each writer of the status has its own, so server-side
/// apply keeps the core's fields and the provider's apart.
pub fn field_manager(provider: &str) -> String {
    format!("kubeairunway-provider-{provider}")
}

/// Finalizer a provider puts on the deployments it serves, so their deletion waits for its
/// clean-up.
pub fn finalizer(provider: &str) -> String {
    format!("kubeairunway.ai/{provider}-provider")
}

/// How users read a provider's name in messages.
pub fn label(provider: &str) -> String {
    match provider {
        "kaito" => "KAITO".into(),
        "dynamo" => "Dynamo".into(),
        "kuberay" => "KubeRay".into(),
        "kubernetes" => "the kubernetes provider".into(),
        other => other.to_string(),
    }
}
