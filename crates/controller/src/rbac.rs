//! What the controller may do under its own identity, derived from what this crate calls: the
//! Helm chart's controller ClusterRole and lease Role must grant exactly these rules (a test
//! renders the chart and compares, and another runs the controller under the chart's
//! ServiceAccount against a real API server and checks every request it made against them).
//!
//! Each rule names the code that needs it. The provider rules come from the providers' own
//! [`kubeairunway_core::providers::Provider::kinds`], so a new provider kind is granted for
//! the providers that render it and for no one else.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::PolicyRule;
use kubeairunway_core::providers;

use crate::leader::LEASE_NAME;

/// The ClusterRole rules of a controller running `enabled` providers (names as on the command
/// line), merged per API group and resource, sorted so that equal sets compare equal.
///
/// # Errors
/// When a provider name is unknown.
pub fn cluster_rules(enabled: &[String]) -> Result<Vec<PolicyRule>, providers::UnknownProvider> {
    let mut rules = Rules::default();
    let group = kubeairunway_api::GROUP;
    // The shared reflector of every ModelDeployment (`run.rs`), and the finalizer merge patch
    // (`provider_controller::set_finalizers`).
    rules.add(group, "modeldeployments", &["list", "watch", "patch"]);
    // Status written with server-side apply by the core and by each provider.
    rules.add(group, "modeldeployments/status", &["patch"]);
    // The provider cache (list, watch), registration (server-side apply: `patch`, and
    // `create` as well, which the API server checks when an apply creates the object), and
    // the heartbeat, which reads the registration first (`registration.rs`).
    rules.add(
        group,
        "inferenceproviderconfigs",
        &["get", "list", "watch", "create", "patch"],
    );
    rules.add(group, "inferenceproviderconfigs/status", &["patch"]);
    // Pods labelled with a deployment name, cached for status (`run.rs`).
    rules.add("", "pods", &["list", "watch"]);
    // The caches of the built-in provider's kinds run whatever providers are enabled.
    rules.add("apps", "deployments", &["list", "watch"]);
    rules.add("", "services", &["list", "watch"]);
    // Is a provider's upstream CRD installed (`crd.rs`, `registration::heartbeat`), and the
    // watch that heartbeats a provider when its CRD comes or goes.
    rules.add(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["get", "list", "watch"],
    );
    // Events on ModelDeployments (kube's `Recorder`: create, and patch when an Event repeats).
    rules.add("events.k8s.io", "events", &["create", "patch"]);
    for name in enabled {
        let provider = providers::built_in(name)?;
        let cached = provider.upstream().is_none();
        for kind in provider.kinds() {
            // Server-side apply of the rendered objects (`patch`, and `create` for an apply
            // that creates), deletion of orphans and on clean-up; kinds the controller does
            // not cache are listed by label to find them (`provider_controller::owned`).
            let verbs: &[&str] = if cached {
                &["create", "patch", "delete"]
            } else {
                &["list", "create", "patch", "delete"]
            };
            rules.add(&kind.group, &kind.plural, verbs);
        }
    }
    Ok(rules.into_rules())
}

/// The rules of the Role in the leader-election namespace: the Lease `kubeairunway-controller`
/// is read and renewed by name (`leader.rs`); creating it cannot be limited to a name, because
/// the name of an object being created is not known to RBAC.
pub fn leader_rules() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            api_groups: Some(vec!["coordination.k8s.io".into()]),
            resources: Some(vec!["leases".into()]),
            verbs: vec!["create".into()],
            ..Default::default()
        },
        PolicyRule {
            api_groups: Some(vec!["coordination.k8s.io".into()]),
            resources: Some(vec!["leases".into()]),
            resource_names: Some(vec![LEASE_NAME.into()]),
            verbs: vec!["get".into(), "update".into()],
            ..Default::default()
        },
    ]
}

/// Verbs per (API group, resource), kept in a fixed order.
#[derive(Default)]
struct Rules(BTreeMap<(String, String), Vec<String>>);

/// Verbs in the order `kubectl` and the Kubernetes docs list them.
const VERB_ORDER: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

impl Rules {
    fn add(&mut self, group: &str, resource: &str, verbs: &[&str]) {
        let entry = self
            .0
            .entry((group.to_string(), resource.to_string()))
            .or_default();
        for verb in verbs {
            if !entry.iter().any(|v| v == verb) {
                entry.push((*verb).to_string());
            }
        }
        entry.sort_by_key(|v| VERB_ORDER.iter().position(|o| o == v));
    }

    fn into_rules(self) -> Vec<PolicyRule> {
        self.0
            .into_iter()
            .map(|((group, resource), verbs)| PolicyRule {
                api_groups: Some(vec![group]),
                resources: Some(vec![resource]),
                verbs,
                ..Default::default()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbs(rules: &[PolicyRule], group: &str, resource: &str) -> Vec<String> {
        rules
            .iter()
            .filter(|r| {
                r.api_groups.as_deref() == Some(&[group.to_string()][..])
                    && r.resources.as_deref() == Some(&[resource.to_string()][..])
            })
            .flat_map(|r| r.verbs.clone())
            .collect()
    }

    #[test]
    fn provider_kinds_are_granted_only_for_enabled_providers() {
        let all = cluster_rules(&crate::all_providers()).expect("known providers");
        assert_eq!(
            verbs(&all, "kaito.sh", "workspaces"),
            ["list", "create", "patch", "delete"]
        );
        assert_eq!(
            verbs(&all, "apps", "deployments"),
            ["list", "watch", "create", "patch", "delete"]
        );
        let only_kaito = cluster_rules(&["kaito".into()]).expect("known provider");
        assert_eq!(verbs(&only_kaito, "apps", "deployments"), ["list", "watch"]);
        assert!(verbs(&only_kaito, "ray.io", "rayservices").is_empty());
        assert!(cluster_rules(&["nope".into()]).is_err());
    }

    #[test]
    fn nothing_reads_secrets_or_writes_cluster_objects() {
        let all = cluster_rules(&crate::all_providers()).expect("known providers");
        assert!(verbs(&all, "", "secrets").is_empty());
        assert!(verbs(&all, "", "namespaces").is_empty());
        assert!(all.iter().all(|r| !r.verbs.iter().any(|v| v == "*")));
    }
}
