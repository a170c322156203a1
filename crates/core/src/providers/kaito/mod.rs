//! The `kaito` provider: serves a ModelDeployment through a KAITO `kaito.sh/v1beta1 Workspace`
//! (docs/contract/controller.md §6), or through a `kaito.sh/v1alpha1 InferenceSet` (a set of
//! Workspace replicas KAITO scales) when `spec.provider.overrides.resourceType` is
//! `inferenceset` — the reference UI's "KAITO Resource Type" choice, which `POST
//! /api/deployments` writes there from `kaitoResourceType`. vLLM runs as a KAITO preset named
//! after the model id; llama.cpp runs from a custom image through an inference template.
//! Deviations from the reference are listed in `docs/providers.md`.

mod observe;
mod render;

use k8s_openapi::api::core::v1::Pod;
use kubeairunway_api::{
    EngineType, HelmChart, HelmRepo, InferenceProviderConfigSpec, InstallationInfo,
    InstallationStep, ModelDeployment, ProviderCapabilities, SelectionRule, ServingMode,
};
use serde_json::Value;

use super::{Incompatible, Observed, Provider, TransformError, UpstreamKind};

/// The KAITO provider. Stateless: everything it writes is derived from the ModelDeployment.
pub struct Kaito;

const UPSTREAM: UpstreamKind = UpstreamKind {
    group: "kaito.sh",
    version: "v1beta1",
    kind: "Workspace",
    plural: "workspaces",
};

/// KAITO's InferenceSet: `spec.replicas` Workspaces made from one template.
const INFERENCE_SET: UpstreamKind = UpstreamKind {
    group: "kaito.sh",
    version: "v1alpha1",
    kind: "InferenceSet",
    plural: "inferencesets",
};

/// The key of `spec.provider.overrides` that chooses the KAITO kind; it is read here and not
/// merged into the object.
pub const RESOURCE_TYPE_KEY: &str = "resourceType";

/// Port of the Service KAITO creates for a preset.
const PRESET_PORT: i32 = 80;
/// Port the llama.cpp template container listens on (and its Service port).
const TEMPLATE_PORT: i32 = 5000;
const HELM_REPO_URL: &str = "https://kaito-project.github.io/kaito/charts/kaito";
const CHART_VERSION: &str = "0.8.0";
const INSTALL_NAMESPACE: &str = "kaito-workspace";

impl Provider for Kaito {
    fn name(&self) -> &'static str {
        "kaito"
    }

    fn version(&self) -> &'static str {
        "kaito-provider:v0.1.0"
    }

    fn registration(&self) -> InferenceProviderConfigSpec {
        InferenceProviderConfigSpec {
            capabilities: Some(ProviderCapabilities {
                engines: Some(vec![EngineType::Vllm, EngineType::Llamacpp]),
                serving_modes: Some(vec![ServingMode::Aggregated]),
                cpu_support: Some(true),
                gpu_support: Some(true),
            }),
            selection_rules: Some(vec![
                SelectionRule {
                    condition: "!has(spec.resources.gpu) || spec.resources.gpu.count == 0".into(),
                    priority: 100,
                },
                SelectionRule {
                    condition: "spec.engine.type == 'llamacpp'".into(),
                    priority: 100,
                },
            ]),
            installation: Some(InstallationInfo {
                description: Some(
                    "KAITO (Kubernetes AI Toolchain Operator) runs model presets and custom \
                     inference images on your own CPU or GPU nodes"
                        .into(),
                ),
                default_namespace: Some(INSTALL_NAMESPACE.into()),
                helm_repos: Some(vec![HelmRepo {
                    name: "kaito".into(),
                    url: HELM_REPO_URL.into(),
                }]),
                helm_charts: Some(vec![HelmChart {
                    name: "kaito-workspace".into(),
                    chart: "kaito/workspace".into(),
                    version: Some(CHART_VERSION.into()),
                    namespace: INSTALL_NAMESPACE.into(),
                    create_namespace: Some(true),
                }]),
                steps: Some(vec![
                    InstallationStep {
                        title: "Add KAITO Helm Repository".into(),
                        command: Some(format!("helm repo add kaito {HELM_REPO_URL}")),
                        description: "Register the KAITO chart repository with Helm.".into(),
                    },
                    InstallationStep {
                        title: "Update Helm Repositories".into(),
                        command: Some("helm repo update".into()),
                        description: "Fetch the latest chart index.".into(),
                    },
                    InstallationStep {
                        title: "Install KAITO Workspace Operator".into(),
                        command: Some(format!(
                            "helm upgrade --install kaito-workspace kaito/workspace --version \
                             {CHART_VERSION} -n {INSTALL_NAMESPACE} --create-namespace --set \
                             featureGates.disableNodeAutoProvisioning=true --wait"
                        )),
                        description: "Install the workspace operator in bring-your-own-nodes \
                                      mode (node auto-provisioning disabled), so workspaces run \
                                      on the cluster's existing nodes."
                            .into(),
                    },
                ]),
            }),
            documentation: Some(
                "https://github.com/kaito-project/kubeairunway/tree/main/docs/providers/kaito.md"
                    .into(),
            ),
        }
    }

    fn upstream(&self) -> Option<UpstreamKind> {
        Some(UPSTREAM)
    }

    fn upstream_for(&self, md: &ModelDeployment) -> Option<UpstreamKind> {
        Some(match resource_type(md) {
            Ok(ResourceType::InferenceSet) => INFERENCE_SET,
            // An invalid choice fails the render with its reason before the CRD matters.
            Ok(ResourceType::Workspace) | Err(_) => UPSTREAM,
        })
    }

    /// Both kinds: a deployment switched from one to the other has its old object pruned, and
    /// clean-up finds either.
    fn kinds(&self) -> Vec<kube_core::ApiResource> {
        [UPSTREAM, INFERENCE_SET]
            .iter()
            .map(|u| {
                let gvk = kube_core::GroupVersionKind::gvk(u.group, u.version, u.kind);
                kube_core::ApiResource::from_gvk_with_plural(&gvk, u.plural)
            })
            .collect()
    }

    fn check_compatible(
        &self,
        md: &ModelDeployment,
        engine: EngineType,
    ) -> Result<(), Incompatible> {
        match engine {
            EngineType::Sglang | EngineType::Trtllm => {
                return Err(format!(
                    "KAITO does not support engine {engine}: use engine vllm or llamacpp, or \
                     choose the dynamo provider for {engine}"
                )
                .into());
            }
            EngineType::Vllm | EngineType::Llamacpp => {}
        }
        if md.spec.serving.mode == ServingMode::Disaggregated {
            return Err(
                "KAITO does not support disaggregated serving: use serving.mode \
                 aggregated, or choose the dynamo provider for a prefill/decode split"
                    .into(),
            );
        }
        if engine == EngineType::Llamacpp && image(md).is_none() {
            return Err(
                "KAITO runs llama.cpp only from a custom image: set spec.image to a \
                 llama.cpp server image"
                    .into(),
            );
        }
        if engine == EngineType::Vllm && model_id(md).is_none() {
            return Err(
                "KAITO runs vLLM from the preset named by spec.model.id: set \
                 spec.model.id"
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
        render::desired(md, engine, resource_type(md)?)
    }

    fn observe(&self, md: &ModelDeployment, primary: Option<&Value>, pods: &[Pod]) -> Observed {
        observe::observe(md, primary, pods)
    }
}

/// Which KAITO kind serves a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceType {
    /// One Workspace (the default).
    Workspace,
    /// An InferenceSet of Workspaces.
    InferenceSet,
}

/// The kind `spec.provider.overrides.resourceType` asks for (`workspace` when unset).
pub fn resource_type(md: &ModelDeployment) -> Result<ResourceType, TransformError> {
    let value = md
        .spec
        .provider
        .as_ref()
        .and_then(|p| p.overrides.as_ref())
        .and_then(|o| o.get(RESOURCE_TYPE_KEY));
    match value {
        None => Ok(ResourceType::Workspace),
        Some(Value::String(s)) if s == "workspace" => Ok(ResourceType::Workspace),
        Some(Value::String(s)) if s == "inferenceset" => Ok(ResourceType::InferenceSet),
        Some(other) => Err(TransformError(format!(
            "spec.provider.overrides.{RESOURCE_TYPE_KEY} must be workspace or inferenceset, not {other}"
        ))),
    }
}

fn model_id(md: &ModelDeployment) -> Option<&str> {
    md.spec.model.id.as_deref().filter(|s| !s.is_empty())
}

fn image(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .image
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn hf_secret(md: &ModelDeployment) -> Option<&str> {
    md.spec
        .secrets
        .as_ref()
        .and_then(|s| s.hugging_face_token.as_deref())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
