//! The build infrastructure's objects: the in-cluster registry (Deployment + NodePort Service,
//! docs/contract/api.md §13.2) and the BuildKit builder — `buildkitd` as a Deployment in the
//! cluster, the Kubernetes driver's way, with a ClusterIP Service the server's `buildctl`
//! reaches it through — plus what their status means.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, ExecAction, HTTPGetAction, Namespace,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SecurityContext, Service, ServicePort,
    ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubeairunway_api::labels::{MANAGED_BY, MANAGED_BY_VALUE};

use super::{
    BUILDER_CPU, BUILDER_MEMORY, BUILDER_NAME, BUILDKIT_IMAGE, BUILDKIT_PORT, NAMESPACE,
    REGISTRY_IMAGE, REGISTRY_NAME, REGISTRY_NODE_PORT, REGISTRY_PORT,
};

fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app".to_string(), name.to_string()),
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        (MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
    ])
}

fn selector(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), name.to_string())])
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(NAMESPACE.to_string()),
        labels: Some(labels(name)),
        ..ObjectMeta::default()
    }
}

fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_string(), Quantity(cpu.to_string())),
        ("memory".to_string(), Quantity(memory.to_string())),
    ])
}

fn deployment(name: &str, pod: PodSpec) -> Deployment {
    Deployment {
        metadata: meta(name),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(selector(name)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(name)),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

/// The namespace `kubeairunway-system`, labelled as ours (created only when missing).
pub fn namespace() -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.to_string()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.to_string(),
                MANAGED_BY_VALUE.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

fn http_probe(initial: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/v2/".to_string()),
            port: IntOrString::Int(REGISTRY_PORT),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        ..Probe::default()
    }
}

/// The registry Deployment: `registry:2` on port 5000, deletes enabled, 100m/256Mi requested,
/// 500m/512Mi limits, `/v2/` probes, storage in an emptyDir (images are lost with the pod, as
/// in the reference).
pub fn registry_deployment() -> Deployment {
    deployment(
        REGISTRY_NAME,
        PodSpec {
            containers: vec![Container {
                name: "registry".to_string(),
                image: Some(REGISTRY_IMAGE.to_string()),
                ports: Some(vec![ContainerPort {
                    name: Some("registry".to_string()),
                    container_port: REGISTRY_PORT,
                    protocol: Some("TCP".to_string()),
                    ..ContainerPort::default()
                }]),
                env: Some(vec![EnvVar {
                    name: "REGISTRY_STORAGE_DELETE_ENABLED".to_string(),
                    value: Some("true".to_string()),
                    value_from: None,
                }]),
                resources: Some(ResourceRequirements {
                    requests: Some(quantities("100m", "256Mi")),
                    limits: Some(quantities("500m", "512Mi")),
                    ..ResourceRequirements::default()
                }),
                liveness_probe: Some(http_probe(5, 10)),
                readiness_probe: Some(http_probe(2, 5)),
                volume_mounts: Some(vec![VolumeMount {
                    name: "registry-data".to_string(),
                    mount_path: "/var/lib/registry".to_string(),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "registry-data".to_string(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        },
    )
}

/// The registry Service: NodePort 30500 → 5000, so kubelets pull from `localhost:30500`.
pub fn registry_service() -> Service {
    Service {
        metadata: meta(REGISTRY_NAME),
        spec: Some(ServiceSpec {
            type_: Some("NodePort".to_string()),
            selector: Some(selector(REGISTRY_NAME)),
            ports: Some(vec![ServicePort {
                name: Some("registry".to_string()),
                port: REGISTRY_PORT,
                target_port: Some(IntOrString::Int(REGISTRY_PORT)),
                node_port: Some(REGISTRY_NODE_PORT),
                protocol: Some("TCP".to_string()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The builder Deployment: `buildkitd` (privileged, as the Kubernetes driver runs it by
/// default) listening on its socket and on TCP 1234, 2 CPUs and 4Gi requested (the reference's
/// driver options), its state in an emptyDir, ready when `buildctl debug workers` answers.
pub fn builder_deployment() -> Deployment {
    deployment(
        BUILDER_NAME,
        PodSpec {
            containers: vec![Container {
                name: "buildkitd".to_string(),
                image: Some(BUILDKIT_IMAGE.to_string()),
                args: Some(vec![
                    "--addr=unix:///run/buildkit/buildkitd.sock".to_string(),
                    format!("--addr=tcp://0.0.0.0:{BUILDKIT_PORT}"),
                ]),
                ports: Some(vec![ContainerPort {
                    name: Some("buildkitd".to_string()),
                    container_port: BUILDKIT_PORT,
                    protocol: Some("TCP".to_string()),
                    ..ContainerPort::default()
                }]),
                security_context: Some(SecurityContext {
                    privileged: Some(true),
                    ..SecurityContext::default()
                }),
                resources: Some(ResourceRequirements {
                    requests: Some(quantities(BUILDER_CPU, BUILDER_MEMORY)),
                    ..ResourceRequirements::default()
                }),
                readiness_probe: Some(Probe {
                    exec: Some(ExecAction {
                        command: Some(vec![
                            "buildctl".to_string(),
                            "debug".to_string(),
                            "workers".to_string(),
                        ]),
                    }),
                    initial_delay_seconds: Some(5),
                    period_seconds: Some(30),
                    ..Probe::default()
                }),
                volume_mounts: Some(vec![VolumeMount {
                    name: "buildkit-state".to_string(),
                    mount_path: "/var/lib/buildkit".to_string(),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "buildkit-state".to_string(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        },
    )
}

/// The builder Service: ClusterIP, port 1234 (what `serve` in the cluster dials).
pub fn builder_service() -> Service {
    Service {
        metadata: meta(BUILDER_NAME),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(selector(BUILDER_NAME)),
            ports: Some(vec![ServicePort {
                name: Some("buildkitd".to_string()),
                port: BUILDKIT_PORT,
                target_port: Some(IntOrString::Int(BUILDKIT_PORT)),
                protocol: Some("TCP".to_string()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// How many replicas of a Deployment are ready, of how many wanted (`spec.replicas`, default 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// `status.readyReplicas`.
    pub ready: i32,
    /// `spec.replicas` (1 when unset or 0, as the reference reads it).
    pub desired: i32,
}

impl Readiness {
    /// Of `deployment` as read.
    pub fn of(deployment: &Deployment) -> Self {
        let desired = deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .filter(|r| *r > 0)
            .unwrap_or(1);
        let ready = deployment
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        Self { ready, desired }
    }

    /// Every wanted replica is ready.
    pub fn is_ready(self) -> bool {
        self.ready >= self.desired
    }
}
