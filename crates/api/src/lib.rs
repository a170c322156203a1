//! The Kubernetes API of KubeAIRunway: the `ModelDeployment` and `InferenceProviderConfig`
//! custom resources (`kubeairunway.ai/v1alpha1`), the well-known labels and annotations, and
//! the generated CRD manifests.
//!
//! The JSON field names match the reference implementation so that manifests written for it
//! apply unchanged. Validation lives in the CRD schema (enums, minimums, defaults and CEL
//! rules) so it holds on clusters that run no admission webhook.

pub mod crds;
pub mod kube_text;
pub mod labels;
pub mod model_deployment;
pub mod provider_config;
pub mod rbac;

pub use model_deployment::*;
pub use provider_config::*;

/// API group of every KubeAIRunway resource.
pub const GROUP: &str = "kubeairunway.ai";
/// The only served and stored version.
pub const VERSION: &str = "v1alpha1";
