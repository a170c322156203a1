//! Well-known label, annotation and finalizer keys (docs/contract/controller.md §1.6). Scripts and
//! other clients select on these, so their spelling is part of the contract.

/// Standard label that marks every object KubeAIRunway creates.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`] (and of [`KAIR_MANAGED_BY`]).
pub const MANAGED_BY_VALUE: &str = "kubeairunway";
/// Provider-side ownership label on upstream objects.
pub const KAIR_MANAGED_BY: &str = "kubeairunway.ai/managed-by";
/// Name of the ModelDeployment an object belongs to.
pub const DEPLOYMENT: &str = "kubeairunway.ai/deployment";
/// Namespace of the ModelDeployment, for objects that live elsewhere.
pub const DEPLOYMENT_NAMESPACE: &str = "kubeairunway.ai/deployment-namespace";
/// `spec.model.source` of the owning ModelDeployment.
pub const MODEL_SOURCE: &str = "kubeairunway.ai/model-source";
/// Sanitised `spec.model.id` of the owning ModelDeployment.
pub const MODEL_ID: &str = "kubeairunway.ai/model-id";
/// The resolved inference engine.
pub const ENGINE_TYPE: &str = "kubeairunway.ai/engine-type";
/// Annotation that pauses reconciling (value exactly `"true"`); never blocks a deletion.
pub const RECONCILE_PAUSED: &str = "kubeairunway.ai/reconcile-paused";
