//! Where a deployment's pods serve metrics: the port and path per provider and engine, and
//! which of its pods serve them at all (docs/contract/api.md §10, §19.14: never an assumed
//! `<name>:8000`).
//!
//! | Provider | Pods scraped | Port | Why |
//! |---|---|---|---|
//! | `kubernetes` | every pod | the container port named `http` (vLLM/SGLang 8000, llama.cpp 8080) | the provider renders it so; llama.cpp runs with `--metrics` |
//! | `kaito` | every pod | 5000 | KAITO's inference containers listen on 5000 behind the Service's port 80 |
//! | `dynamo` | frontend pods | 8000 | Dynamo's HTTP frontend serves `/metrics` beside the OpenAI API; workers do not |
//! | `kuberay` | every pod | 8080 | Ray's metrics agent exports the engine's metrics on each Ray node |
//! | other | every pod | the first container port | |
//!
//! The annotations `prometheus.io/port` and `prometheus.io/path` on a pod, the convention most
//! scrapers follow, take precedence over the table.

use k8s_openapi::api::core::v1::Pod;
use kube_core::ResourceExt;
use kubeairunway_api::EngineType;

/// The default path of every model server here.
pub const DEFAULT_PATH: &str = "/metrics";
const PORT_ANNOTATION: &str = "prometheus.io/port";
const PATH_ANNOTATION: &str = "prometheus.io/path";
/// The label Dynamo's operator puts on the pods of a component type.
const DYNAMO_COMPONENT_TYPE: &str = "nvidia.com/dynamo-component-type";

/// Port and path of one pod's metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsPort {
    /// Container port.
    pub port: u16,
    /// HTTP path, starting with `/`.
    pub path: String,
}

/// Where `pod` of a deployment run by `provider` with `engine` serves its metrics; `None` when
/// the pod serves none (Dynamo workers) or no port is known.
pub fn metrics_port(provider: &str, engine: Option<EngineType>, pod: &Pod) -> Option<MetricsPort> {
    let annotations = pod.annotations();
    let path = annotations
        .get(PATH_ANNOTATION)
        .filter(|p| p.starts_with('/') && p.len() <= 256)
        .cloned()
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    if let Some(port) = annotations
        .get(PORT_ANNOTATION)
        .and_then(|p| p.trim().parse::<u16>().ok())
        .filter(|p| *p > 0)
    {
        return Some(MetricsPort { port, path });
    }
    let port = match provider {
        "kubernetes" => named_port(pod, "http").or(Some(match engine {
            Some(EngineType::Llamacpp) => 8080,
            _ => 8000,
        })),
        "kaito" => Some(5000),
        "dynamo" => is_dynamo_frontend(pod).then_some(8000),
        "kuberay" => Some(8080),
        _ => first_port(pod),
    }?;
    Some(MetricsPort { port, path })
}

fn containers(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::Container> {
    pod.spec.iter().flat_map(|s| s.containers.iter())
}

fn named_port(pod: &Pod, name: &str) -> Option<u16> {
    containers(pod)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u16::try_from(p.container_port).ok())
}

fn first_port(pod: &Pod) -> Option<u16> {
    containers(pod)
        .flat_map(|c| c.ports.iter().flatten())
        .find_map(|p| u16::try_from(p.container_port).ok())
}

fn is_dynamo_frontend(pod: &Pod) -> bool {
    let labels = pod.labels();
    match labels.get(DYNAMO_COMPONENT_TYPE) {
        Some(t) => t.eq_ignore_ascii_case("frontend"),
        None => pod.name_any().contains("frontend"),
    }
}
