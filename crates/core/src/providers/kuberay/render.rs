//! The RayService the KubeRay provider applies. The envelope is typed after KubeRay's
//! `ray.io/v1` RayService; head and worker pods are Kubernetes pod templates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, EnvVar, PodSpec, PodTemplateSpec, ResourceRequirements, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_core::ResourceExt;
use kubeairunway_api::{
    ComponentScalingSpec, DEFAULT_GPU_RESOURCE, EngineType, ModelDeployment, ServingMode,
};
use serde::Serialize;
use serde_json::Value;

use super::super::{TransformError, common};
use super::{DEFAULT_IMAGE, UPSTREAM, model_id};

/// The fields of a RayService this provider sets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RayService {
    api_version: String,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: RayServiceSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RayServiceSpec {
    /// Ray Serve's own YAML, which KubeRay passes through as a string.
    serve_config_v2: String,
    ray_cluster_config: RayClusterSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RayClusterSpec {
    head_group_spec: HeadGroupSpec,
    worker_group_specs: Vec<WorkerGroupSpec>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HeadGroupSpec {
    ray_start_params: BTreeMap<String, String>,
    template: PodTemplateSpec,
}

/// A fixed-size worker group: `minReplicas` and `maxReplicas` equal `replicas`, the size the
/// spec asks for.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkerGroupSpec {
    group_name: String,
    replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    ray_start_params: BTreeMap<String, String>,
    template: PodTemplateSpec,
}

/// The RayService: a head group, the worker groups of the serving mode and the Serve config.
pub(super) fn desired(
    md: &ModelDeployment,
    engine: EngineType,
) -> Result<Vec<Value>, TransformError> {
    if engine != EngineType::Vllm {
        return Err(TransformError(format!(
            "engine {engine} is not supported by KubeRay (supported: vllm)"
        )));
    }
    let namespace = md
        .namespace()
        .ok_or_else(|| TransformError("the ModelDeployment has no namespace".into()))?;
    let image = md
        .spec
        .image
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_IMAGE);
    let labels = labels(md, engine);
    let pods = PodParts {
        metadata: ObjectMeta {
            labels: Some(labels.clone()),
            annotations: common::annotations_if_any(md),
            ..ObjectMeta::default()
        },
        node_selector: common::node_selector(md),
        tolerations: common::tolerations(md),
    };

    // The Serve application reads its model and vLLM flags from the head's environment.
    let mut head_env = vec![
        plain_env("MODEL_ID", model_id(md).unwrap_or_default()),
        plain_env("VLLM_ENGINE_ARGS", &vllm_engine_args(md)?),
    ];
    head_env.extend(common::env(md));
    let memory = md.spec.resources.as_ref().and_then(|r| r.memory.as_deref());
    let head = Container {
        name: "ray-head".into(),
        image: Some(image.to_string()),
        resources: Some(limits([
            ("cpu", "4".to_string()),
            ("memory", memory.unwrap_or("16Gi").to_string()),
        ])),
        env: Some(head_env),
        ..Container::default()
    };

    let worker_groups = match md.spec.serving.mode {
        ServingMode::Aggregated => {
            let cpu = md.spec.resources.as_ref().and_then(|r| r.cpu.as_deref());
            let limits = worker_limits(
                memory,
                cpu,
                common::gpu_count(md),
                &common::gpu_resource(md),
            );
            vec![pods.worker_group(md, image, "gpu-workers", common::replicas(md), limits)]
        }
        ServingMode::Disaggregated => {
            let scaling = &md.spec.scaling;
            [
                ("prefill-workers", &scaling.prefill),
                ("decode-workers", &scaling.decode),
            ]
            .into_iter()
            .filter_map(|(name, component)| Some((name, component.as_ref()?)))
            .map(|(name, component)| {
                pods.worker_group(
                    md,
                    image,
                    name,
                    component.replicas.max(0),
                    component_limits(component),
                )
            })
            .collect()
        }
    };

    let service = RayService {
        api_version: UPSTREAM.api_version(),
        kind: UPSTREAM.kind,
        metadata: common::object_meta(
            md,
            md.name_any(),
            namespace,
            labels,
            common::annotations_if_any(md),
        ),
        spec: RayServiceSpec {
            serve_config_v2: serve_config(common::replicas(md)),
            ray_cluster_config: RayClusterSpec {
                head_group_spec: HeadGroupSpec {
                    ray_start_params: BTreeMap::from([(
                        "dashboard-host".to_string(),
                        "0.0.0.0".to_string(),
                    )]),
                    template: pods.template(head),
                },
                worker_group_specs: worker_groups,
            },
        },
    };
    let mut service = common::to_json(&service)?;
    common::apply_overrides(md, &mut service)?;
    Ok(vec![service])
}

/// Metadata and scheduling shared by the head and worker pod templates. The metadata carries
/// our labels, so the pods can be found by `kubeairunway.ai/deployment`, and the `podTemplate`
/// annotations.
struct PodParts {
    metadata: ObjectMeta,
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Toleration>>,
}

impl PodParts {
    fn template(&self, container: Container) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(self.metadata.clone()),
            spec: Some(PodSpec {
                containers: vec![container],
                node_selector: self.node_selector.clone(),
                tolerations: self.tolerations.clone(),
                ..PodSpec::default()
            }),
        }
    }

    fn worker_group(
        &self,
        md: &ModelDeployment,
        image: &str,
        name: &str,
        replicas: i32,
        limits: ResourceRequirements,
    ) -> WorkerGroupSpec {
        let env = common::env(md);
        let container = Container {
            name: "ray-worker".into(),
            image: Some(image.to_string()),
            resources: Some(limits),
            env: (!env.is_empty()).then_some(env),
            ..Container::default()
        };
        WorkerGroupSpec {
            group_name: name.to_string(),
            replicas,
            min_replicas: replicas,
            max_replicas: replicas,
            ray_start_params: BTreeMap::new(),
            template: self.template(container),
        }
    }
}

/// A variable with a literal value.
fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        ..EnvVar::default()
    }
}

/// Resources with limits only: Kubernetes defaults the requests to them, and KubeRay derives
/// Ray's CPU, GPU and memory from the limits.
fn limits<'a>(quantities: impl IntoIterator<Item = (&'a str, String)>) -> ResourceRequirements {
    ResourceRequirements {
        limits: Some(
            quantities
                .into_iter()
                .map(|(name, q)| (name.to_string(), Quantity(q)))
                .collect(),
        ),
        ..ResourceRequirements::default()
    }
}

/// A worker's limits: memory (32Gi unless set), CPU when set, and its GPUs when above zero.
fn worker_limits(
    memory: Option<&str>,
    cpu: Option<&str>,
    gpus: i32,
    gpu_resource: &str,
) -> ResourceRequirements {
    let mut quantities = vec![("memory", memory.unwrap_or("32Gi").to_string())];
    if let Some(cpu) = cpu {
        quantities.push(("cpu", cpu.to_string()));
    }
    if gpus > 0 {
        quantities.push((gpu_resource, gpus.to_string()));
    }
    limits(quantities)
}

fn component_limits(component: &ComponentScalingSpec) -> ResourceRequirements {
    let (count, gpu_type) = component
        .gpu
        .as_ref()
        .map_or((0, DEFAULT_GPU_RESOURCE), |g| (g.count, g.type_.as_str()));
    worker_limits(component.memory.as_deref(), None, count, gpu_type)
}

/// The vLLM flags for `VLLM_ENGINE_ARGS`, space-joined. The Serve application splits the string
/// on spaces, so no element may contain whitespace.
fn vllm_engine_args(md: &ModelDeployment) -> Result<String, TransformError> {
    let mut args = vec![
        "--model".to_string(),
        model_id(md).unwrap_or_default().to_string(),
    ];
    if let Some(n) = md.spec.engine.context_length {
        args.extend(["--max-model-len".to_string(), n.to_string()]);
    }
    if let Some(served) = md
        .spec
        .model
        .served_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        args.extend(["--served-model-name".to_string(), served.to_string()]);
    }
    if md.spec.engine.trust_remote_code {
        args.push("--trust-remote-code".into());
    }
    args.extend(common::engine_args(md)?);
    if let Some(bad) = args.iter().find(|a| a.chars().any(char::is_whitespace)) {
        return Err(TransformError(format!(
            "KubeRay passes vLLM arguments as one space-separated string (VLLM_ENGINE_ARGS), so \
             {bad:?} may not contain whitespace: remove the spaces from the model id, served name \
             or spec.engine.args value"
        )));
    }
    Ok(args.join(" "))
}

/// `serveConfigV2`: one application `llm` whose deployment runs `replicas` vLLM replicas.
fn serve_config(replicas: i32) -> String {
    format!(
        "applications:\n\
         - name: llm\n  \
           route_prefix: /\n  \
           import_path: vllm_serve:deployment\n  \
           deployments:\n  \
           - name: VLLMDeployment\n    \
             num_replicas: {replicas}\n"
    )
}

/// Labels of the RayService and its pods: `podTemplate` labels, then ours, which win.
fn labels(md: &ModelDeployment, engine: EngineType) -> BTreeMap<String, String> {
    let mut labels = common::template_labels(md);
    labels.extend(common::base_labels(md, engine));
    labels
}
