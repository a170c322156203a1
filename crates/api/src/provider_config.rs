//! `InferenceProviderConfig`: a provider's self-registration (docs/contract/controller.md §2).
//! Cluster-scoped; the object name is the provider name.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::model_deployment::{EngineType, ServingMode};

/// What a provider can serve, how it ranks itself, and how to install it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kubeairunway.ai",
    version = "v1alpha1",
    kind = "InferenceProviderConfig",
    status = "InferenceProviderConfigStatus",
    shortname = "ipc",
    category = "kubeairunway",
    derive = "Default",
    derive = "PartialEq",
    doc = "Registration of an inference provider: capabilities, selection rules and installation steps.",
    printcolumn(
        name = "Ready",
        type_ = "boolean",
        json_path = ".status.ready",
        description = "Provider ready"
    ),
    printcolumn(
        name = "Version",
        type_ = "string",
        json_path = ".status.version",
        description = "Provider version"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct InferenceProviderConfigSpec {
    /// Engines, serving modes and hardware the provider supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<ProviderCapabilities>,
    /// CEL rules over the ModelDeployment spec; the highest matching priority wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_rules: Option<Vec<SelectionRule>>,
    /// How to install the provider's upstream operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation: Option<InstallationInfo>,
    /// Documentation URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
}

/// Provider capabilities; they gate selection before any rule is evaluated.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCapabilities {
    /// Supported engines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engines: Option<Vec<EngineType>>,
    /// Supported serving modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_modes: Option<Vec<ServingMode>>,
    /// Can serve without GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_support: Option<bool>,
    /// Can serve on GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_support: Option<bool>,
}

/// One CEL selection rule.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SelectionRule {
    /// CEL expression over the variable `spec` (the ModelDeployment spec).
    #[schemars(length(min = 1, max = 4096))]
    pub condition: String,
    /// Rank of the rule; higher wins.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub priority: i32,
}

/// Installation information shown by the UI and used by the Helm installer.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstallationInfo {
    /// What gets installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Namespace the operator is installed into by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_namespace: Option<String>,
    /// Helm repositories to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_repos: Option<Vec<HelmRepo>>,
    /// Helm charts to install, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_charts: Option<Vec<HelmChart>>,
    /// Manual steps, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<InstallationStep>>,
}

/// A Helm repository.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepo {
    /// Local repository name.
    pub name: String,
    /// Repository URL.
    pub url: String,
}

/// A Helm release to install.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HelmChart {
    /// Release name.
    pub name: String,
    /// `repo/chart` or a chart URL.
    pub chart: String,
    /// Chart version; absent means latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Release namespace.
    pub namespace: String,
    /// Create the namespace if missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_namespace: Option<bool>,
}

/// A manual installation step.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstallationStep {
    /// Short title.
    pub title: String,
    /// Shell command to run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// What the step does.
    pub description: String,
}

/// Liveness and version, written only by the provider.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InferenceProviderConfigStatus {
    /// The provider is running and accepting work.
    #[serde(default)]
    pub ready: bool,
    /// Provider version, e.g. `kaito-provider:v0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Last heartbeat; a stale heartbeat means the provider is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat: Option<Time>,
    /// apiVersion of the upstream CRD the provider writes.
    #[serde(
        default,
        rename = "upstreamCRDVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub upstream_crd_version: Option<String>,
    /// Hash of the upstream schema the provider was built against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_schema_hash: Option<String>,
    /// Standard conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<Condition>>,
}
