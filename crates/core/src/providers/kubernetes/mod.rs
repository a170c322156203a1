//! The built-in `kubernetes` provider: serves a model with vLLM or llama.cpp as a plain
//! Deployment and Service, so any cluster can serve a model without a third-party operator.

mod observe;
mod render;

use k8s_openapi::api::core::v1::Pod;
use kube_core::{ApiResource, GroupVersionKind};
use kubeairunway_api::{
    EngineType, InferenceProviderConfigSpec, InstallationInfo, ModelDeployment, ModelSource,
    ProviderCapabilities, ServingMode,
};
use serde_json::Value;

use super::{Incompatible, Observed, Provider, TransformError, UpstreamKind};

/// vLLM image when `spec.image` is not set; a fixed tag, so the server version changes only
/// with this provider.
pub const VLLM_IMAGE: &str = "vllm/vllm-openai:v0.11.0";
/// llama.cpp server image when `spec.image` is not set.
pub const LLAMACPP_IMAGE: &str = "ghcr.io/ggml-org/llama.cpp:server";
/// Port of the Service for both engines, so clients need not know which engine serves.
pub const SERVICE_PORT: i32 = 8000;

/// The built-in provider: serving without any operator installed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kubernetes;

impl Provider for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn version(&self) -> &'static str {
        "kubernetes-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm, EngineType::Llamacpp]),
                serving_modes: Some(vec![ServingMode::Aggregated]),
                cpu_support: Some(true),
                gpu_support: Some(true),
            }),
            selection_rules: None,
            installation: Some(InstallationInfo {
                description: Some(
                    "Built into KubeAIRunway: serves vLLM or llama.cpp as a plain Deployment and Service; nothing to install"
                        .into(),
                ),
                default_namespace: None,
                helm_repos: None,
                helm_charts: None,
                steps: None,
            }),
            documentation: Some("docs/providers.md#kubernetes".into()),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        None
    }

    fn kinds(&self) -> Vec<ApiResource> {
        vec![
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("apps", "v1", "Deployment"),
                "deployments",
            ),
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("", "v1", "Service"),
                "services",
            ),
        ]
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        if !matches!(engine, EngineType::Vllm | EngineType::Llamacpp) {
            return Err(format!(
                "the kubernetes provider runs vllm and llamacpp, not {engine}; choose one of those engines or the dynamo provider"
            ).into());
        }
        if md.spec.serving.mode == ServingMode::Disaggregated {
            return Err("the kubernetes provider serves aggregated mode only; use the dynamo provider for disaggregated serving".into());
        }
        if md.spec.model.source == ModelSource::Custom && md.spec.image.is_none() {
            return Err("spec.image is required when spec.model.source is custom".into());
        }
        if md
            .spec
            .provider
            .as_ref()
            .is_some_and(|p| p.overrides.is_some())
        {
            return Err("the kubernetes provider takes no spec.provider.overrides; set the fields of the spec instead".into());
        }
        Ok(())
    }

    fn desired(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<Vec<Value>, TransformError> {
        render::desired(md, engine)
    }

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        observe::observe(md, primary, pods)
    }
}

#[cfg(test)]
mod tests;
