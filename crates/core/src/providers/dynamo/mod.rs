//! The `dynamo` provider: serves a ModelDeployment through an NVIDIA Dynamo `nvidia.com/v1alpha1
//! DynamoGraphDeployment` (docs/contract/controller.md §7): a Frontend plus one worker service
//! (aggregated) or a prefill and a decode worker service (disaggregated). Unlike the reference, the
//! object lives in the ModelDeployment's namespace with an owner reference; every deviation is
//! listed in `docs/providers.md`.

mod observe;
mod overrides;
mod render;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{
    EngineType, HelmChart, HelmRepo, InferenceProviderConfigSpec, InstallationInfo,
    InstallationStep, ModelDeployment, ProviderCapabilities, SelectionRule, ServingMode,
};
use serde_json::Value;

use super::common;
use super::{Incompatible, Observed, Provider, TransformError, UpstreamKind};

/// The Dynamo provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct Dynamo;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "nvidia.com",
    version: "v1alpha1",
    kind: "DynamoGraphDeployment",
    plural: "dynamographdeployments",
};

/// Port of the `<name>-frontend` Service Dynamo creates.
const FRONTEND_PORT: i32 = 8000;
const CHART_BASE: &str = "https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts";
const CRDS_CHART: &str = "dynamo-crds-0.7.1.tgz";
const PLATFORM_CHART: &str = "dynamo-platform-0.7.1.tgz";
const PLATFORM_NAMESPACE: &str = "dynamo-system";
/// Longest Dynamo namespace: it ends up in label values.
const MAX_DYNAMO_NAMESPACE: usize = 63;

impl Provider for Dynamo {
    fn name(&self) -> &'static str {
        "dynamo"
    }

    fn version(&self) -> &'static str {
        "dynamo-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![
                    EngineType::Vllm,
                    EngineType::Sglang,
                    EngineType::Trtllm,
                ]),
                serving_modes: Some(vec![ServingMode::Aggregated, ServingMode::Disaggregated]),
                cpu_support: Some(false),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![
                rule("spec.engine.type == 'trtllm'", 100),
                rule("spec.engine.type == 'sglang'", 100),
                rule(
                    "has(spec.serving) && spec.serving.mode == 'disaggregated'",
                    90,
                ),
                rule(
                    "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && \
                     spec.engine.type == 'vllm'",
                    50,
                ),
            ]),
            installation: Some(InstallationInfo {
                description: Some("NVIDIA Dynamo for high-performance GPU inference".into()),
                default_namespace: Some(PLATFORM_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "nvidia-ai-dynamo".into(),
                    url: "https://helm.ngc.nvidia.com/nvidia/ai-dynamo".into(),
                }]),
                helm_charts: Some(vec![
                    HelmChart {
                        name: "dynamo-crds".into(),
                        chart: format!("{CHART_BASE}/{CRDS_CHART}"),
                        version: None,
                        namespace: "default".into(),
                        create_namespace: Some(false),
                    },
                    HelmChart {
                        name: "dynamo-platform".into(),
                        chart: format!("{CHART_BASE}/{PLATFORM_CHART}"),
                        version: None,
                        namespace: PLATFORM_NAMESPACE.into(),
                        create_namespace: Some(true),
                    },
                ]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Install Dynamo CRDs".into(),
                        command: Some(format!(
                            "helm fetch {CHART_BASE}/{CRDS_CHART} && helm install dynamo-crds \
                             {CRDS_CHART} --namespace default"
                        )),
                        description: "Install the DynamoGraphDeployment and related CRDs.".into(),
                    },
                    InstallationStep {
                        title: "Install Dynamo Platform".into(),
                        command: Some(format!(
                            "helm fetch {CHART_BASE}/{PLATFORM_CHART} && helm install \
                             dynamo-platform {PLATFORM_CHART} --namespace {PLATFORM_NAMESPACE} \
                             --create-namespace"
                        )),
                        description: "Install the Dynamo operator, etcd and NATS. The operator \
                                      must watch every namespace that holds ModelDeployments \
                                      (cluster-wide mode: leave namespaceRestriction off)."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/dynamo.md"
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
        if engine == EngineType::Llamacpp {
            return Err(
                "Dynamo does not support engine llamacpp: use vllm, sglang or trtllm, \
                 or choose the kaito or kubernetes provider for llama.cpp"
                    .into(),
            );
        }
        if !common::has_serving_gpu(md) {
            return Err(match md.spec.serving.mode {
                ServingMode::Aggregated => "Dynamo needs a GPU: set spec.resources.gpu.count to \
                                            at least 1, or choose a provider with CPU support"
                    .into(),
                ServingMode::Disaggregated => "Dynamo needs a GPU: set \
                                               spec.scaling.prefill.gpu.count to at least 1"
                    .into(),
            });
        }
        if model_id(md).is_none() {
            return Err(
                "Dynamo needs spec.model.id (the model the workers load, also when the \
                 image carries it): set spec.model.id"
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

fn rule(condition: &str, priority: i32) -> SelectionRule {
    SelectionRule {
        condition: condition.into(),
        priority,
    }
}

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
