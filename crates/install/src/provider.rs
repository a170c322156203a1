//! A provider's installation (the `spec.installation` of its InferenceProviderConfig) as Helm
//! sees it: the validated [`Plan`] the jobs run, and the commands a person would type instead.
//! The provider registers itself, so its installation is input from the cluster: every value
//! that becomes a Helm argument passes [`crate::args`] first.

use std::collections::BTreeMap;

use kubeairunway_api::InstallationInfo;

use crate::args::{self, InvalidArg, truncate};
use crate::helm::display_command;
use crate::run::{Chart, Plan, Repo};

/// Values per release, each passed to Helm as `--set-json=<path>=<json>`.
pub type Values = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// Why a provider's installation cannot be run; the messages name the provider and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A value of the installation breaks an argument rule.
    #[error("Provider {id} has an installation Helm cannot be given safely: {source}")]
    Unsafe {
        /// The provider.
        id: String,
        /// The rule broken.
        #[source]
        source: InvalidArg,
    },
    /// Two repositories share a name.
    #[error("Provider {id} declares the repository {repo} twice")]
    DuplicateRepo {
        /// The provider.
        id: String,
        /// The repository name.
        repo: String,
    },
    /// Two charts share a release name and namespace.
    #[error("Provider {id} declares the release {release} twice")]
    DuplicateRelease {
        /// The provider.
        id: String,
        /// The release name.
        release: String,
    },
    /// A caller's value breaks an argument rule.
    #[error("Invalid values for release {release}: {source}")]
    InvalidValue {
        /// The release the value was for.
        release: String,
        /// The rule broken.
        #[source]
        source: InvalidArg,
    },
    /// The caller gave values for a release the installation does not have.
    #[error("Invalid values: provider {id} has no release \"{release}\"")]
    UnknownRelease {
        /// The provider.
        id: String,
        /// The release named (shortened).
        release: String,
    },
}

/// The validated plan of provider `id`'s installation; `values` become `--set-json` entries of
/// their release.
pub fn plan(id: &str, info: Option<&InstallationInfo>, values: &Values) -> Result<Plan, PlanError> {
    let unsafe_value = |source: InvalidArg| PlanError::Unsafe {
        id: id.to_string(),
        source,
    };
    let mut plan = Plan::default();
    let Some(info) = info else {
        return Ok(plan);
    };
    for repo in info.helm_repos.as_deref().unwrap_or_default() {
        args::repo_name(&repo.name).map_err(unsafe_value)?;
        args::repo_url(&repo.url).map_err(unsafe_value)?;
        if plan.repos.iter().any(|r: &Repo| r.name == repo.name) {
            return Err(PlanError::DuplicateRepo {
                id: id.to_string(),
                repo: repo.name.clone(),
            });
        }
        plan.repos.push(Repo {
            name: repo.name.clone(),
            url: repo.url.clone(),
        });
    }
    let repo_names: Vec<&str> = plan.repos.iter().map(|r| r.name.as_str()).collect();
    let mut charts = Vec::new();
    for chart in info.helm_charts.as_deref().unwrap_or_default() {
        args::release_name(&chart.name).map_err(unsafe_value)?;
        args::chart_ref(&chart.chart, &repo_names).map_err(unsafe_value)?;
        args::namespace(&chart.namespace).map_err(unsafe_value)?;
        if let Some(v) = &chart.version {
            args::version(v).map_err(unsafe_value)?;
        }
        if charts
            .iter()
            .any(|c: &Chart| c.release == chart.name && c.namespace == chart.namespace)
        {
            return Err(PlanError::DuplicateRelease {
                id: id.to_string(),
                release: chart.name.clone(),
            });
        }
        let mut set_json = Vec::new();
        for (key, value) in values.get(&chart.name).into_iter().flatten() {
            set_json.push(args::set_json(key, value).map_err(|source| {
                PlanError::InvalidValue {
                    release: chart.name.clone(),
                    source,
                }
            })?);
        }
        charts.push(Chart {
            release: chart.name.clone(),
            chart: chart.chart.clone(),
            version: chart.version.clone(),
            namespace: chart.namespace.clone(),
            create_namespace: chart.create_namespace == Some(true),
            set_json,
        });
    }
    if let Some(unknown) = values
        .keys()
        .find(|k| !charts.iter().any(|c| &c.release == *k))
    {
        return Err(PlanError::UnknownRelease {
            id: id.to_string(),
            release: truncate(unknown),
        });
    }
    plan.charts = charts;
    Ok(plan)
}

/// The commands that install the provider by hand (docs/contract/api.md §8.1 `getInstallCommands`),
/// shell-quoted where needed; shown as they are, never run.
pub fn manual_commands(info: Option<&InstallationInfo>) -> Vec<String> {
    let Some(info) = info else {
        return Vec::new();
    };
    let repos = info.helm_repos.as_deref().unwrap_or_default();
    let mut commands: Vec<String> = repos
        .iter()
        .map(|r| display_command(["repo", "add", r.name.as_str(), r.url.as_str()]))
        .collect();
    if !repos.is_empty() {
        commands.push("helm repo update".into());
    }
    for chart in info.helm_charts.as_deref().unwrap_or_default() {
        let mut args = vec![
            "install",
            chart.name.as_str(),
            chart.chart.as_str(),
            "--namespace",
            chart.namespace.as_str(),
        ];
        if chart.create_namespace == Some(true) {
            args.push("--create-namespace");
        }
        if let Some(v) = &chart.version {
            args.extend(["--version", v.as_str()]);
        }
        commands.push(display_command(args));
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeairunway_api::{HelmChart, HelmRepo};
    use serde_json::json;

    fn info(chart: &str, namespace: &str) -> InstallationInfo {
        InstallationInfo {
            helm_repos: Some(vec![HelmRepo {
                name: "kaito".into(),
                url: "https://kaito-project.github.io/kaito/charts/kaito".into(),
            }]),
            helm_charts: Some(vec![HelmChart {
                name: "kaito-workspace".into(),
                chart: chart.into(),
                version: Some(">=0.4.0".into()),
                namespace: namespace.into(),
                create_namespace: Some(true),
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn plans_refuse_option_like_values() {
        let none = BTreeMap::new();
        assert!(
            plan(
                "kaito",
                Some(&info("kaito/workspace", "kaito-workspace")),
                &none
            )
            .is_ok()
        );
        let err = plan("kaito", Some(&info("--post-renderer=x", "ns")), &none).expect_err("chart");
        assert!(
            err.to_string().contains("--post-renderer=x"),
            "{}",
            err.to_string()
        );
        assert!(plan("kaito", Some(&info("kaito/workspace", "-n")), &none).is_err());
        let mut values = BTreeMap::new();
        values.insert(
            "kaito-workspace".to_string(),
            BTreeMap::from([("--post-renderer".to_string(), json!("x"))]),
        );
        assert!(plan("kaito", Some(&info("kaito/workspace", "ns")), &values).is_err());
        let mut unknown = BTreeMap::new();
        unknown.insert("other".to_string(), BTreeMap::new());
        assert!(plan("kaito", Some(&info("kaito/workspace", "ns")), &unknown).is_err());
    }

    #[test]
    fn manual_commands_are_quoted_for_a_shell() {
        let commands = manual_commands(Some(&info("kaito/workspace", "kaito-workspace")));
        assert_eq!(
            commands,
            [
                "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito",
                "helm repo update",
                "helm install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace --version '>=0.4.0'",
            ]
        );
    }
}
