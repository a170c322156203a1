//! The `kuberay` provider: serves a ModelDeployment with vLLM on Ray Serve through a KubeRay
//! `ray.io/v1 RayService` (docs/contract/controller.md §8): one head group plus GPU worker groups,
//! and a Serve application that reads its model and vLLM flags from the head's environment.
//! Deviations from the reference are listed in `docs/providers.md`.

mod observe;
mod render;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{
    EngineType, HelmChart, HelmRepo, InferenceProviderConfigSpec, InstallationInfo,
    InstallationStep, ModelDeployment, ProviderCapabilities, SelectionRule, ServingMode,
};
use serde_json::Value;

use super::common;
use super::{Incompatible, Observed, Provider, TransformError, UpstreamKind};

/// The KubeRay provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct KubeRay;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "ray.io",
    version: "v1",
    kind: "RayService",
    plural: "rayservices",
};

/// Port of the `<name>-serve-svc` Service KubeRay creates for Ray Serve.
const SERVE_PORT: i32 = 8000;
const DEFAULT_IMAGE: &str = "rayproject/ray-ml:2.44.0-py311-gpu";
const HELM_REPO_URL: &str = "https://ray-project.github.io/kuberay-helm/";
const CHART_VERSION: &str = "1.3.0";
const INSTALL_NAMESPACE: &str = "ray-system";

impl Provider for KubeRay {
    fn name(&self) -> &'static str {
        "kuberay"
    }

    fn version(&self) -> &'static str {
        "kuberay-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm]),
                serving_modes: Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated]),
                cpu_support: Some(false),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![SelectionRule {
                condition: "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && \
                            spec.engine.type == 'vllm'"
                    .into(),
                priority: 80,
            }]),
            installation: Some(InstallationInfo {
                description: Some(
                    "Ray Serve via KubeRay, distributed Ray-based serving with vLLM".into(),
                ),
                default_namespace: Some(INSTALL_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "kuberay".into(),
                    url: HELM_REPO_URL.into(),
                }]),
                helm_charts: Some(vec![HelmChart {
                    name: "kuberay-operator".into(),
                    chart: "kuberay/kuberay-operator".into(),
                    version: Some(CHART_VERSION.into()),
                    namespace: INSTALL_NAMESPACE.into(),
                    create_namespace: Some(true),
                }]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Add KubeRay Helm Repository".into(),
                        command: Some(format!("helm repo add kuberay {HELM_REPO_URL}")),
                        description: "Register the KubeRay chart repository with Helm.".into(),
                    },
                    InstallationStep {
                        title: "Update Helm Repositories".into(),
                        command: Some("helm repo update".into()),
                        description: "Fetch the latest chart index.".into(),
                    },
                    InstallationStep {
                        title: "Install KubeRay Operator".into(),
                        command: Some(format!(
                            "helm upgrade --install kuberay-operator kuberay/kuberay-operator \
                             --version {CHART_VERSION} -n {INSTALL_NAMESPACE} --create-namespace \
                             --wait"
                        )),
                        description: "Install the operator that runs RayService and RayCluster \
                                      objects."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kuberay.md"
                    .into(),
            ),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        Some(UPSTREAM)
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        if engine != EngineType::Vllm {
            return Err(format!(
                "KubeRay supports only engine vllm, not {engine}: use engine vllm, or choose the \
                 dynamo provider (sglang, trtllm) or the kaito provider (llamacpp)"
            )
            .into());
        }
        if !common::has_serving_gpu(md) {
            return Err(match md.spec.serving.mode {
                ServingMode::Aggregated => "KubeRay needs a GPU: set spec.resources.gpu.count to \
                                            at least 1, or choose a provider with CPU support"
                    .into(),
                ServingMode::Disaggregated => "KubeRay needs a GPU: set \
                                               spec.scaling.prefill.gpu.count to at least 1"
                    .into(),
            });
        }
        if model_id(md).is_none() {
            return Err(
                "KubeRay needs spec.model.id (the model vLLM loads, also when the image \
                 carries it): set spec.model.id"
                    .into(),
            );
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

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
