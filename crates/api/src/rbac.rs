//! ClusterRoles that extend the built-in `view`, `edit` and `admin` roles to KubeAIRunway's
//! resources (through RBAC aggregation), so existing bindings grant the expected access.

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::GROUP;

const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

/// `kubeairunway-view` (read) and `kubeairunway-edit` (change ModelDeployments).
pub fn aggregated_roles() -> Vec<ClusterRole> {
    let rule = |resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![GROUP.to_string()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    };
    let role = |name: &str, aggregate: &[&str], rules: Vec<PolicyRule>| ClusterRole {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(
                aggregate
                    .iter()
                    .map(|to| (format!("{AGGREGATE_TO}{to}"), "true".to_string()))
                    .chain([(
                        crate::labels::MANAGED_BY.to_string(),
                        crate::labels::MANAGED_BY_VALUE.to_string(),
                    )])
                    .collect(),
            ),
            ..Default::default()
        },
        rules: Some(rules),
        ..Default::default()
    };
    vec![
        role(
            "kubeairunway-view",
            &["view", "edit", "admin"],
            vec![rule(
                &[
                    "modeldeployments",
                    "modeldeployments/status",
                    "modeldeployments/scale",
                    "inferenceproviderconfigs",
                    "inferenceproviderconfigs/status",
                ],
                &["get", "list", "watch"],
            )],
        ),
        role(
            "kubeairunway-edit",
            &["edit", "admin"],
            vec![
                rule(
                    &["modeldeployments"],
                    &["create", "update", "patch", "delete", "deletecollection"],
                ),
                rule(&["modeldeployments/scale"], &["update", "patch"]),
            ],
        ),
    ]
}

/// Name of [`backend_role`].
pub const BACKEND_ROLE: &str = "kubeairunway-backend";

/// `kubeairunway-backend`: what the API server (`kubeairunway serve`) needs under its own
/// identity when auth is on, and no more: the Helm chart's server ClusterRole grants exactly
/// these rules (a test compares), and a test that runs the server under the chart's
/// ServiceAccount checks each request it made in the API server's audit log against them.
///
/// It only lists and watches (to fill its watch caches; it never reads single objects, so no
/// `get`), looks up one CRD, reviews tokens and access, and writes and lists the activity
/// Events; every change is made with the caller's own token.
pub fn backend_role() -> ClusterRole {
    let rule = |groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(groups.iter().map(|g| g.to_string()).collect()),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        resource_names: (!names.is_empty()).then(|| names.iter().map(|n| n.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    };
    let cache = ["list", "watch"];
    ClusterRole {
        metadata: ObjectMeta {
            name: Some(BACKEND_ROLE.to_string()),
            labels: Some(
                [(
                    crate::labels::MANAGED_BY.to_string(),
                    crate::labels::MANAGED_BY_VALUE.to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        },
        rules: Some(vec![
            // The watch caches (crates/server/src/cache.rs).
            rule(
                &[GROUP],
                &["modeldeployments", "inferenceproviderconfigs"],
                &[],
                &cache,
            ),
            rule(&[""], &["nodes", "pods"], &[], &cache),
            // The settings ConfigMap, watched with a field selector on its name.
            rule(&[""], &["configmaps"], &["kubeairunway-config"], &cache),
            // `/api/cluster/status` asks whether the ModelDeployment CRD exists while the
            // deployment cache has not loaded (crates/server/src/cluster.rs).
            rule(
                &["apiextensions.k8s.io"],
                &["customresourcedefinitions"],
                &["modeldeployments.kubeairunway.ai"],
                &["get"],
            ),
            rule(
                &["authentication.k8s.io"],
                &["tokenreviews"],
                &[],
                &["create"],
            ),
            rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &[],
                &["create"],
            ),
            // The activity trail (crates/server/src/activity): an Event naming the caller on
            // each object a change touched, listed back by label for `GET /api/activity`.
            rule(&["events.k8s.io"], &["events"], &[], &["create", "list"]),
        ]),
        ..Default::default()
    }
}
