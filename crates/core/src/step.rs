//! One pass of a provider as data. [`plan`] says what to apply, or why nothing can be; the
//! controller applies it, prunes what is no longer desired ([`orphans`]), and writes the one
//! status [`report`] and [`status_patch`] make of the outcome (docs/contract/controller.md §5,
//! with the §13 defects fixed).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube_core::{Resource, ResourceExt};
use kubeairunway_api::ModelDeployment;
use serde_json::{Value, json};

use crate::conditions::{self, Want, types};
use crate::decide::provider_phase;
use crate::notice::Notice;
use crate::providers::common::resolved_engine;
use crate::providers::{self, Observed, ObservedPhase, Provider};

/// When to look at the deployment again without a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// Only when something it watches changes.
    AwaitChange,
    /// After the resync period: the objects are of a kind the controller does not watch, or a
    /// step failed in a way that may heal (a missing CRD, a refused apply).
    Resync,
    /// After ten resync periods: every object involved is watched, so this is a safety net.
    Slow,
}

/// What a pass does before it touches the cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The engine is not resolved yet: the core decides it first.
    Wait,
    /// Report these conditions and stop.
    Stop {
        /// The provider's conditions.
        wants: Vec<Want>,
        /// When to look again.
        next: Requeue,
    },
    /// Apply `objects` (the first is the primary one, whose status is mapped), then [`report`]
    /// with `wants`.
    Apply {
        /// Complete objects to server-side apply, in order.
        objects: Vec<Value>,
        /// The conditions so far (compatibility).
        wants: Vec<Want>,
    },
}

/// Decides a pass: is the deployment servable by `provider`, and what are its objects.
/// `upstream_installed` says whether the third-party CRD of this deployment's kind
/// ([`Provider::upstream_for`]) is installed and Established (`true` for built-in kinds).
pub fn plan(md: &ModelDeployment, provider: &dyn Provider, upstream_installed: bool) -> Plan {
    let Some(engine) = resolved_engine(md) else {
        return Plan::Wait;
    };
    let label = providers::label(provider.name());
    let mut wants = Vec::new();
    if let Err(why) = provider.check_compatible(md, engine) {
        wants.push(Want::no(
            types::PROVIDER_COMPATIBLE,
            "IncompatibleConfiguration",
            format!("{label} cannot serve this deployment: {why}"),
        ));
        return Plan::Stop {
            wants,
            next: Requeue::AwaitChange,
        };
    }
    wants.push(Want::yes(
        types::PROVIDER_COMPATIBLE,
        "CompatibilityVerified",
        format!("Configuration compatible with {label}"),
    ));
    let objects = match provider.desired(md, engine) {
        Ok(objects) => objects,
        Err(e) => {
            wants.push(Want::no(
                types::RESOURCE_CREATED,
                "TransformFailed",
                format!("Failed to generate {label} resources: {e}"),
            ));
            return Plan::Stop {
                wants,
                next: Requeue::AwaitChange,
            };
        }
    };
    if let Some(upstream) = provider.upstream_for(md)
        && !upstream_installed
    {
        wants.push(Want::no(
            types::RESOURCE_CREATED,
            "UpstreamCRDMissing",
            format!(
                "The {} {} CRD ({}) is not installed in the cluster; install {label} (see the provider's installation steps) and the deployment continues",
                upstream.api_version(),
                upstream.kind,
                upstream.crd_name()
            ),
        ));
        return Plan::Stop {
            wants,
            next: Requeue::Resync,
        };
    }
    Plan::Apply { objects, wants }
}

/// How applying the planned objects went.
#[derive(Clone, Copy, Debug)]
pub enum Applied<'a> {
    /// Every object is applied.
    Ok {
        /// The primary object as stored.
        primary: &'a Value,
        /// The deployment's pods.
        pods: &'a [Pod],
    },
    /// Applying an object was refused.
    Failed {
        /// Its kind.
        kind: &'a str,
        /// The API server answered 409: someone else owns a field we set.
        conflict: bool,
        /// The API server's message.
        message: &'a str,
    },
}

/// The status a provider writes after a pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The provider's conditions.
    pub wants: Vec<Want>,
    /// What its objects say (replicas, endpoint), when they were applied.
    pub observed: Option<Observed>,
    /// Name and kind of the primary object, when it was applied.
    pub resource: Option<(String, String)>,
    /// When to look again.
    pub next: Requeue,
}

impl Report {
    /// A report of conditions only (the pass stopped before applying).
    pub fn stopped(wants: Vec<Want>, next: Requeue) -> Self {
        Self {
            wants,
            observed: None,
            resource: None,
            next,
        }
    }
}

/// Completes the conditions of a pass that applied (or failed to apply) its objects, and maps
/// the primary object and the pods to replicas, endpoint and readiness.
pub fn report(
    md: &ModelDeployment,
    provider: &dyn Provider,
    objects: &[Value],
    mut wants: Vec<Want>,
    applied: Applied<'_>,
) -> Report {
    let (primary, pods) = match applied {
        Applied::Failed {
            kind,
            conflict,
            message,
        } => {
            let reason = if conflict {
                "ResourceConflict"
            } else {
                "CreateFailed"
            };
            wants.push(Want::no(
                types::RESOURCE_CREATED,
                reason,
                format!("Failed to create {kind}: {message}"),
            ));
            return Report::stopped(wants, Requeue::Resync);
        }
        Applied::Ok { primary, pods } => (primary, pods),
    };
    let kind = objects
        .first()
        .and_then(|o| o["kind"].as_str())
        .unwrap_or("Resource")
        .to_string();
    wants.push(Want::yes(
        types::RESOURCE_CREATED,
        "ResourceCreated",
        format!("{kind} created successfully"),
    ));
    let observed = provider.observe(md, Some(primary), pods);
    let message = observed.message.clone();
    wants.push(match observed.phase {
        ObservedPhase::Running => Want::yes(
            types::READY,
            "DeploymentReady",
            message.unwrap_or_else(|| "Serving".into()),
        ),
        ObservedPhase::Failed => Want::no(
            types::READY,
            "DeploymentFailed",
            message.unwrap_or_else(|| format!("{kind} failed")),
        ),
        ObservedPhase::Pending | ObservedPhase::Deploying => Want::no(
            types::READY,
            "DeploymentInProgress",
            message.unwrap_or_else(|| format!("{kind} created, waiting for pods to be ready")),
        ),
    });
    let name = primary["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Report {
        wants,
        observed: Some(observed),
        resource: Some((name, kind)),
        next: if provider.upstream().is_some() {
            Requeue::Resync
        } else {
            Requeue::Slow
        },
    }
}

/// The conditions types a provider owns.
const PROVIDER_CONDITIONS: [&str; 3] = [
    types::PROVIDER_COMPATIBLE,
    types::RESOURCE_CREATED,
    types::READY,
];

/// The server-side apply body of a provider's status write and the conditions it carries, or
/// `None` when the stored status already says all of it. The provider writes the phase its
/// conditions imply (the core only writes the phase before the provider has reported).
pub fn status_patch(
    md: &ModelDeployment,
    report: &Report,
    now: Timestamp,
) -> Option<(Value, Vec<Condition>)> {
    let status = md.status.clone().unwrap_or_default();
    let wanted = conditions::build(
        status.conditions.as_ref(),
        &report.wants,
        md.metadata.generation,
        now,
    );
    let replicas = report.observed.as_ref().and_then(|o| o.replicas.clone());
    let endpoint = report.observed.as_ref().and_then(|o| o.endpoint.clone());
    let components = report.observed.as_ref().and_then(|o| o.components.clone());
    let current_resource = status
        .provider
        .as_ref()
        .and_then(|p| p.resource_name.clone().zip(p.resource_kind.clone()));
    let kind = report
        .resource
        .as_ref()
        .map_or_else(|| "Resource".to_string(), |(_, k)| k.clone());
    let phase = provider_phase(Some(&wanted), md.metadata.generation, &kind);
    let unchanged = conditions::unchanged(status.conditions.as_ref(), &wanted)
        && phase.as_ref().is_none_or(|(p, m)| {
            status.phase == Some(*p) && status.message.as_deref() == Some(m.as_str())
        })
        && status.replicas == replicas
        && status.endpoint == endpoint
        && components.as_ref().is_none_or(|c| {
            status.prefill_replicas.as_ref() == Some(&c.prefill)
                && status.decode_replicas.as_ref() == Some(&c.decode)
        })
        && current_resource == report.resource;
    // Conditions this provider owns but no longer wants must go too.
    let stale = status.conditions.iter().flatten().any(|c| {
        PROVIDER_CONDITIONS.contains(&c.type_.as_str())
            && !wanted.iter().any(|w| w.type_ == c.type_)
    });
    if unchanged && !stale {
        return None;
    }
    let mut body = json!({
        "apiVersion": ModelDeployment::api_version(&()),
        "kind": ModelDeployment::kind(&()),
        "metadata": { "name": md.name_any() },
        "status": { "conditions": wanted },
    });
    if let Some((phase, message)) = &phase {
        body["status"]["phase"] = json!(phase);
        body["status"]["message"] = json!(message);
    }
    if let Some((name, kind)) = &report.resource {
        body["status"]["provider"] = json!({ "resourceName": name, "resourceKind": kind });
    }
    if let Some(r) = &replicas {
        body["status"]["replicas"] = json!(r);
    }
    if let Some(e) = &endpoint {
        body["status"]["endpoint"] = json!(e);
    }
    if let Some(c) = &components {
        body["status"]["prefillReplicas"] = json!(c.prefill);
        body["status"]["decodeReplicas"] = json!(c.decode);
    }
    Some((body, wanted))
}

/// The Events a provider's status write publishes: a Normal one when its objects are created,
/// a Warning for each failure that is new. Readiness is in the status, not in Events.
pub fn notices(before: Option<&Vec<Condition>>, after: &[Condition]) -> Vec<Notice> {
    after
        .iter()
        .filter(|c| {
            let old = conditions::find(before, &c.type_);
            !old.is_some_and(|o| o.status == c.status && o.reason == c.reason)
        })
        .filter_map(|c| match (c.type_.as_str(), c.status.as_str()) {
            (types::RESOURCE_CREATED, "True") => Some(Notice::normal(
                "ResourceCreated",
                c.message.clone(),
                "Reconcile",
            )),
            (types::READY, _) | (types::PROVIDER_COMPATIBLE, "True") => None,
            _ => Some(Notice::warning(&c.reason, c.message.clone(), "Reconcile")),
        })
        .collect()
}

/// An object the deployment owns: its kind and name (the namespace is the deployment's).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Owned {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
}

impl Owned {
    /// The key of a desired object.
    pub fn of(object: &Value) -> Option<Self> {
        Some(Self {
            api_version: object["apiVersion"].as_str()?.to_string(),
            kind: object["kind"].as_str()?.to_string(),
            name: object["metadata"]["name"].as_str()?.to_string(),
        })
    }
}

/// The owned objects that no pass wants any more (a renamed object, a kind the provider no
/// longer writes for this spec): the controller deletes them on every pass, not only on
/// clean-up.
pub fn orphans(desired: &[Value], owned: &[Owned]) -> Vec<Owned> {
    let wanted: BTreeSet<Owned> = desired.iter().filter_map(Owned::of).collect();
    owned
        .iter()
        .filter(|o| !wanted.contains(o))
        .cloned()
        .collect()
}

/// True when `owner_uid` is the controlling owner of `meta`'s object: objects a pass prunes or
/// a clean-up deletes must be ours, not merely labelled like ours.
pub fn owned_by(owner_references: &[OwnerReference], owner_uid: &str) -> bool {
    owner_references.iter().any(|o| o.uid == owner_uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::kubernetes::Kubernetes;
    use serde_json::json;

    fn md(spec: Value) -> ModelDeployment {
        let mut md = ModelDeployment::new("m", serde_json::from_value(spec).expect("spec"));
        md.metadata.namespace = Some("ns".into());
        md.metadata.uid = Some("u1".into());
        md.metadata.generation = Some(1);
        md
    }

    fn vllm() -> ModelDeployment {
        md(
            json!({ "model": { "id": "a/b" }, "engine": { "type": "vllm" }, "resources": { "gpu": { "count": 1 } } }),
        )
    }

    #[test]
    fn plan_waits_for_the_engine_and_stops_on_incompatible_specs() {
        let auto = md(json!({ "model": { "id": "a/b" } }));
        assert_eq!(plan(&auto, &Kubernetes, true), Plan::Wait);
        let sglang = md(json!({ "model": { "id": "a/b" }, "engine": { "type": "sglang" } }));
        let Plan::Stop { wants, next } = plan(&sglang, &Kubernetes, true) else {
            panic!("sglang is not for the kubernetes provider");
        };
        assert_eq!(next, Requeue::AwaitChange);
        assert_eq!(wants.len(), 1);
        assert!(!wants[0].status);
        assert!(
            wants[0]
                .message
                .starts_with("the kubernetes provider cannot serve")
        );
    }

    #[test]
    fn plan_stops_until_the_upstream_crd_is_installed() {
        let kaito = crate::providers::kaito::Kaito;
        let Plan::Stop { wants, next } = plan(&vllm(), &kaito, false) else {
            panic!("no CRD, no apply");
        };
        assert_eq!(next, Requeue::Resync);
        assert_eq!(wants[1].reason, "UpstreamCRDMissing");
        assert!(matches!(plan(&vllm(), &kaito, true), Plan::Apply { .. }));
    }

    #[test]
    fn report_maps_outcomes_to_conditions_and_requeue() {
        let md = vllm();
        let Plan::Apply { objects, wants } = plan(&md, &Kubernetes, true) else {
            panic!("servable");
        };
        let failed = report(
            &md,
            &Kubernetes,
            &objects,
            wants.clone(),
            Applied::Failed {
                kind: "Deployment",
                conflict: true,
                message: "field owned by someone else",
            },
        );
        assert_eq!(failed.next, Requeue::Resync);
        assert_eq!(failed.wants[1].reason, "ResourceConflict");
        assert!(failed.observed.is_none());
        let primary = objects[0].clone();
        let ok = report(
            &md,
            &Kubernetes,
            &objects,
            wants,
            Applied::Ok {
                primary: &primary,
                pods: &[],
            },
        );
        assert_eq!(ok.next, Requeue::Slow, "built-in kinds are watched");
        assert_eq!(ok.resource, Some(("m".into(), "Deployment".into())));
        assert_eq!(ok.wants[2].type_, types::READY);
        assert!(!ok.wants[2].status);
    }

    #[test]
    fn an_unchanged_report_writes_nothing() {
        let mut md = vllm();
        let report = Report::stopped(
            vec![Want::yes(
                types::PROVIDER_COMPATIBLE,
                "CompatibilityVerified",
                "ok",
            )],
            Requeue::AwaitChange,
        );
        let now = Timestamp::now();
        let (body, conditions) = status_patch(&md, &report, now).expect("first write");
        assert_eq!(
            body["status"]["conditions"][0]["type"],
            "ProviderCompatible"
        );
        md.status = Some(kubeairunway_api::ModelDeploymentStatus {
            conditions: Some(conditions),
            ..Default::default()
        });
        assert_eq!(status_patch(&md, &report, now), None);
    }

    #[test]
    fn orphans_are_owned_objects_no_longer_desired() {
        let desired = vec![
            json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "m" } }),
        ];
        let keep = Owned::of(&desired[0]).expect("key");
        let old = Owned {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: "m-old".into(),
        };
        assert_eq!(orphans(&desired, &[keep, old.clone()]), vec![old]);
    }
}
