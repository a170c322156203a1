//! What the jobs run: the install sequence, the uninstall sequence and the removal of a
//! provider's CRDs, each step recorded in the job with its command and output.
//!
//! Install (docs/contract/api.md §8.1, stopping at the first failure): `repo-add-<name>` per
//! repository, `repo-update`, then per chart `install-<release>` (`helm upgrade --install`). Before
//! a chart is installed, a release left in `pending-install`/`pending-upgrade`/`pending-rollback`
//! by an interrupted operation is recovered (`recover-<release>`: uninstalled without hooks when it
//! was never installed, else rolled back without hooks); after an install fails or times out the
//! same check runs again (`cleanup-<release>`), so no release is left stuck.
//!
//! Uninstall: `uninstall-<release>` per chart in reverse order, never stopping early; a release
//! that does not exist counts as uninstalled.
//!
//! CRD removal: Helm installs the CRDs of a chart's `crds/` directory but never deletes them
//! (CRDs created by templates are removed by `helm uninstall`). `list-crds-<release>` reads them
//! with `helm show crds`, `delete-crd-<name>` deletes each with the caller's client, and
//! `delete-provider-config` deletes the InferenceProviderConfig, only when every CRD is gone.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::DeleteParams;
use kubeairunway_api::InferenceProviderConfig;

use crate::helm::{self, Helm, Invocation, Outcome};
use crate::jobs::{Job, PlannedStep, Stream};
use crate::kubeconfig::{KubeconfigError, PrivateKubeconfig};
use kubeairunway_api::kube_text::describe;

/// Longest a repository command (`repo add`, `repo update`, `show crds`) may take.
const REPO_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a status query may take.
const STATUS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a deleted CRD is waited for before it is reported as still terminating.
const CRD_GONE_WAIT: Duration = Duration::from_secs(20);

/// A chart repository to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// Local name.
    pub name: String,
    /// URL.
    pub url: String,
}

/// A release to install, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// Release name.
    pub release: String,
    /// `repo/chart` or URL.
    pub chart: String,
    /// Version or constraint.
    pub version: Option<String>,
    /// Release namespace.
    pub namespace: String,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--set-json` entries (`key=json`).
    pub set_json: Vec<String>,
}

/// Repositories and charts of one installation. Every value becomes a Helm argument, so build
/// it with [`crate::provider::plan`], or from constants and values that passed [`crate::args`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Repositories, in order.
    pub repos: Vec<Repo>,
    /// Charts, in install order.
    pub charts: Vec<Chart>,
}

/// The step that failed and why (its error output, or what went wrong).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("step {step} failed: {error}")]
pub struct StepFailure {
    /// Step id.
    pub step: String,
    /// Its error output, or what went wrong.
    pub error: String,
}

/// Everything a running job needs: Helm, the job its steps are recorded in, the caller's
/// private kubeconfig (removed when the run is dropped) and the timeout of each long command.
pub struct Run<M> {
    helm: Arc<Helm>,
    job: Arc<Job<M>>,
    kubeconfig: PrivateKubeconfig,
    timeout: Duration,
}

impl Plan {
    fn repo_timeout(timeout: Duration) -> Duration {
        timeout.min(REPO_TIMEOUT)
    }

    fn repo_steps(&self, timeout: Duration) -> Vec<(String, String, Invocation)> {
        let t = Self::repo_timeout(timeout);
        let mut steps: Vec<(String, String, Invocation)> = self
            .repos
            .iter()
            .map(|r| {
                (
                    format!("repo-add-{}", r.name),
                    format!("Add the chart repository {} ({})", r.name, r.url),
                    Invocation::repo_add(&r.name, &r.url, t),
                )
            })
            .collect();
        if !self.repos.is_empty() {
            let names: Vec<&str> = self.repos.iter().map(|r| r.name.as_str()).collect();
            steps.push((
                "repo-update".into(),
                "Update the chart repositories".into(),
                Invocation::repo_update(&names, t),
            ));
        }
        steps
    }

    fn install_invocation(chart: &Chart, timeout: Duration) -> Invocation {
        Invocation::upgrade_install(
            &chart.release,
            &chart.chart,
            &chart.namespace,
            chart.create_namespace,
            chart.version.as_deref(),
            &chart.set_json,
            timeout,
        )
    }

    /// The steps an install will run, for the job's plan.
    pub fn install_steps(&self, timeout: Duration) -> Vec<PlannedStep> {
        let mut planned = planned(self.repo_steps(timeout));
        planned.extend(self.charts.iter().map(|c| PlannedStep {
            step: format!("install-{}", c.release),
            title: format!("Install {} into {}", c.release, c.namespace),
            command: Self::install_invocation(c, timeout).display(),
        }));
        planned
    }

    /// The steps an uninstall will run.
    pub fn uninstall_steps(&self, timeout: Duration) -> Vec<PlannedStep> {
        self.charts
            .iter()
            .rev()
            .map(|c| PlannedStep {
                step: format!("uninstall-{}", c.release),
                title: format!("Uninstall {} from {}", c.release, c.namespace),
                command: Invocation::uninstall(&c.release, &c.namespace, false, timeout).display(),
            })
            .collect()
    }

    /// The first steps of a CRD removal (the CRD deletions are known only after listing).
    pub fn remove_crds_steps(&self, timeout: Duration, provider: &str) -> Vec<PlannedStep> {
        let mut planned = planned(self.repo_steps(timeout));
        planned.extend(self.charts.iter().map(|c| PlannedStep {
            step: format!("list-crds-{}", c.release),
            title: format!("List the CRDs the chart {} ships", c.chart),
            command: Invocation::show_crds(&c.chart, c.version.as_deref(), REPO_TIMEOUT).display(),
        }));
        planned.push(delete_provider_step(provider));
        planned
    }
}

fn planned(steps: Vec<(String, String, Invocation)>) -> Vec<PlannedStep> {
    steps
        .into_iter()
        .map(|(step, title, inv)| PlannedStep {
            step,
            title,
            command: inv.display(),
        })
        .collect()
}

fn delete_provider_step(provider: &str) -> PlannedStep {
    PlannedStep {
        step: "delete-provider-config".into(),
        title: format!("Delete the InferenceProviderConfig {provider}"),
        command: format!("kubectl delete inferenceproviderconfig {provider}"),
    }
}

impl<M: Send + Sync> Run<M> {
    /// A run of `job` whose Helm commands act with `config`'s cluster and `token` (the
    /// caller's), or `config`'s own credentials without a token. The token is only ever written
    /// into the private kubeconfig, never onto a command line.
    pub fn prepare(
        helm: Arc<Helm>,
        job: Arc<Job<M>>,
        config: &kube::Config,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, KubeconfigError> {
        let kubeconfig = PrivateKubeconfig::write(&helm.kubeconfig_dir(), config, token)?;
        Ok(Self {
            helm,
            job,
            kubeconfig,
            timeout,
        })
    }

    /// Runs `invocation` as step `step` of the job, streaming its output into the job.
    async fn step(&self, step: &str, title: &str, invocation: &Invocation) -> Outcome {
        let index = self.job.step_start(step, title, &invocation.display());
        let job = self.job.clone();
        let outcome = self
            .helm
            .run(
                invocation,
                Some(self.kubeconfig.path()),
                &mut |stream, line| job.output(index, stream, line),
            )
            .await;
        end_step(&self.job, index, &outcome);
        outcome
    }

    /// Runs `invocation` without recording it (queries).
    async fn quiet(&self, invocation: &Invocation) -> Outcome {
        self.helm
            .run(invocation, Some(self.kubeconfig.path()), &mut |_, _| {})
            .await
    }

    async fn add_repos(&self, plan: &Plan) -> Result<(), StepFailure> {
        for (step, title, invocation) in plan.repo_steps(self.timeout) {
            let outcome = self.step(&step, &title, &invocation).await;
            if !outcome.success {
                return Err(StepFailure {
                    step,
                    error: outcome.stderr.trim().to_string(),
                });
            }
        }
        Ok(())
    }

    /// The install sequence.
    pub async fn install(&self, plan: &Plan) -> Result<(), StepFailure> {
        self.add_repos(plan).await?;
        for chart in &plan.charts {
            self.unstick(chart, &format!("recover-{}", chart.release))
                .await?;
            let step = format!("install-{}", chart.release);
            let invocation = Plan::install_invocation(chart, self.timeout);
            let title = format!("Install {} into {}", chart.release, chart.namespace);
            let outcome = self.step(&step, &title, &invocation).await;
            if !outcome.success {
                let mut error = outcome.stderr.trim().to_string();
                // Whatever happened, leave no release half-way.
                if let Err(cleanup) = self
                    .unstick(chart, &format!("cleanup-{}", chart.release))
                    .await
                {
                    error.push_str(&format!(
                        "\nThe release could not be cleaned up ({}): {}",
                        cleanup.step, cleanup.error
                    ));
                }
                return Err(StepFailure { step, error });
            }
        }
        Ok(())
    }

    /// When `chart`'s release is in a pending state, runs step `step` to get it out: a release
    /// that was never installed is uninstalled, others are rolled back; hooks are skipped since
    /// a hung hook is the usual reason for the pending state.
    async fn unstick(&self, chart: &Chart, step: &str) -> Result<(), StepFailure> {
        let status = self
            .quiet(&Invocation::status(
                &chart.release,
                &chart.namespace,
                STATUS_TIMEOUT,
            ))
            .await;
        let state = match helm::release_status(&status) {
            Ok(Some(state)) if helm::is_pending(&state) => state,
            Ok(_) => return Ok(()),
            Err(e) => {
                tracing::debug!(release = %chart.release, error = %e, "helm status failed; not checking for a pending release");
                return Ok(());
            }
        };
        let (invocation, action) = if state == "pending-install" {
            (
                Invocation::uninstall(&chart.release, &chart.namespace, true, self.timeout),
                "uninstalling it (it was never installed)",
            )
        } else {
            (
                Invocation::rollback(&chart.release, &chart.namespace, self.timeout),
                "rolling it back to its previous revision",
            )
        };
        let title = format!("Recover {} from {state}", chart.release);
        let index = self.job.step_start(step, &title, &invocation.display());
        self.job.output(
            index,
            Stream::Stdout,
            &format!(
                "Release {} in {} is stuck in {state}; {action}",
                chart.release, chart.namespace
            ),
        );
        let job = self.job.clone();
        let outcome = self
            .helm
            .run(&invocation, Some(self.kubeconfig.path()), &mut |s, l| {
                job.output(index, s, l)
            })
            .await;
        end_step(&self.job, index, &outcome);
        if outcome.success {
            Ok(())
        } else {
            Err(StepFailure {
                step: step.to_string(),
                error: outcome.stderr.trim().to_string(),
            })
        }
    }

    /// The uninstall sequence; returns every failed step.
    pub async fn uninstall(&self, plan: &Plan) -> Vec<StepFailure> {
        let mut failures = Vec::new();
        for chart in plan.charts.iter().rev() {
            let step = format!("uninstall-{}", chart.release);
            let invocation =
                Invocation::uninstall(&chart.release, &chart.namespace, false, self.timeout);
            let title = format!("Uninstall {} from {}", chart.release, chart.namespace);
            let index = self.job.step_start(&step, &title, &invocation.display());
            let job = self.job.clone();
            let outcome = self
                .helm
                .run(&invocation, Some(self.kubeconfig.path()), &mut |s, l| {
                    job.output(index, s, l)
                })
                .await;
            let absent =
                !outcome.success && !outcome.timed_out && helm::is_not_found(&outcome.stderr);
            if absent {
                self.job.output(
                    index,
                    Stream::Stdout,
                    &format!(
                        "Release {} is not installed in {}; nothing to uninstall",
                        chart.release, chart.namespace
                    ),
                );
            }
            self.job.step_end(
                index,
                outcome.success || absent,
                outcome.exit_code,
                outcome.timed_out,
            );
            if !(outcome.success || absent) {
                failures.push(StepFailure {
                    step,
                    error: outcome.stderr.trim().to_string(),
                });
            }
        }
        failures
    }

    /// Removes the CRDs the charts ship, then the provider's InferenceProviderConfig; returns
    /// the CRDs deleted.
    pub async fn remove_crds(
        &self,
        plan: &Plan,
        client: &kube::Client,
        provider: &str,
    ) -> Result<Vec<String>, StepFailure> {
        self.add_repos(plan).await?;
        let mut names = BTreeSet::new();
        for chart in &plan.charts {
            let step = format!("list-crds-{}", chart.release);
            let invocation =
                Invocation::show_crds(&chart.chart, chart.version.as_deref(), REPO_TIMEOUT);
            let title = format!("List the CRDs the chart {} ships", chart.chart);
            let index = self.job.step_start(&step, &title, &invocation.display());
            // The manifests themselves are not interesting: only the names are recorded.
            let outcome = self
                .helm
                .run(&invocation, Some(self.kubeconfig.path()), &mut |s, l| {
                    if s == Stream::Stderr {
                        self.job.output(index, s, l);
                    }
                })
                .await;
            if outcome.success {
                let found = crd_names(&outcome.stdout);
                let line = if found.is_empty() {
                    "The chart ships no CRDs".to_string()
                } else {
                    format!("CRDs: {}", found.join(", "))
                };
                self.job.output(index, Stream::Stdout, &line);
                names.extend(found);
            }
            end_step(&self.job, index, &outcome);
            if !outcome.success {
                return Err(StepFailure {
                    step,
                    error: outcome.stderr.trim().to_string(),
                });
            }
        }

        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let mut failure = None;
        for name in &names {
            let step = format!("delete-crd-{name}");
            let index = self.job.step_start(
                &step,
                &format!("Delete the CRD {name}"),
                &format!("kubectl delete customresourcedefinition {name}"),
            );
            let result = delete_crd(&crds, name).await;
            let ok = result.is_ok();
            let line = match result {
                Ok(line) => {
                    self.job.output(index, Stream::Stdout, &line);
                    line
                }
                Err(line) => {
                    self.job.output(index, Stream::Stderr, &line);
                    line
                }
            };
            self.job.step_end(index, ok, None, false);
            if !ok && failure.is_none() {
                failure = Some(StepFailure { step, error: line });
            }
        }
        if let Some(failure) = failure {
            // The provider config stays, so the removal can be retried.
            return Err(failure);
        }

        let step = delete_provider_step(provider);
        let index = self.job.step_start(&step.step, &step.title, &step.command);
        let providers: Api<InferenceProviderConfig> = Api::all(client.clone());
        let result = match providers.delete(provider, &DeleteParams::default()).await {
            Ok(_) => Ok(format!("inferenceproviderconfig {provider} deleted")),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(format!(
                "inferenceproviderconfig {provider} was already gone"
            )),
            Err(e) => Err(describe(&e)),
        };
        match result {
            Ok(line) => {
                self.job.output(index, Stream::Stdout, &line);
                self.job.step_end(index, true, None, false);
                Ok(names.into_iter().collect())
            }
            Err(line) => {
                self.job.output(index, Stream::Stderr, &line);
                self.job.step_end(index, false, None, false);
                Err(StepFailure {
                    step: step.step,
                    error: line,
                })
            }
        }
    }
}

/// Ends step `index` with the result of a Helm command (its output was recorded line by line
/// already).
fn end_step<M>(job: &Job<M>, index: usize, outcome: &Outcome) {
    job.step_end(index, outcome.success, outcome.exit_code, outcome.timed_out);
}

/// Deletes a CRD and waits briefly until it is gone (its custom resources are removed first).
async fn delete_crd(crds: &Api<CustomResourceDefinition>, name: &str) -> Result<String, String> {
    match crds.delete(name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {
            return Ok(format!("customresourcedefinition {name} was not installed"));
        }
        Err(e) => return Err(describe(&e)),
    }
    let deadline = tokio::time::Instant::now() + CRD_GONE_WAIT;
    loop {
        match crds.get_opt(name).await {
            Ok(None) => return Ok(format!("customresourcedefinition {name} deleted")),
            Ok(Some(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(Some(_)) => {
                return Ok(format!(
                    "customresourcedefinition {name} is being deleted (its custom resources are still being removed)"
                ));
            }
            Err(e) => {
                return Ok(format!(
                    "customresourcedefinition {name} deletion requested (could not confirm: {})",
                    describe(&e)
                ));
            }
        }
    }
}

/// Names of the CustomResourceDefinitions in a multi-document YAML stream (the output of
/// `helm show crds`): the top-level `kind` and the `name` directly under `metadata` of each
/// document. The server has no YAML parser; CRD manifests are regular enough for this.
fn crd_names(yaml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut push = |kind: &Option<String>, name: &mut Option<String>| {
        if kind.as_deref() == Some("CustomResourceDefinition")
            && let Some(n) = name.take()
            && is_crd_name(&n)
            && !names.contains(&n)
        {
            names.push(n);
        }
    };
    let mut kind: Option<String> = None;
    let mut name: Option<String> = None;
    let mut in_metadata = false;
    let mut metadata_indent: Option<usize> = None;
    for line in yaml.lines() {
        if line.starts_with("---") {
            push(&kind, &mut name);
            kind = None;
            name = None;
            in_metadata = false;
            metadata_indent = None;
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_metadata = trimmed.trim_end() == "metadata:";
            if let Some(value) = trimmed.strip_prefix("kind:") {
                kind = Some(scalar(value));
            }
            continue;
        }
        if in_metadata {
            let level = *metadata_indent.get_or_insert(indent);
            if indent == level
                && let Some(value) = trimmed.strip_prefix("name:")
            {
                name = Some(scalar(value));
            }
        }
    }
    push(&kind, &mut name);
    names
}

/// A plain or quoted YAML scalar, without a trailing comment.
fn scalar(value: &str) -> String {
    let value = value.trim();
    let value = match value.find(" #") {
        Some(i) => value[..i].trim_end(),
        None => value,
    };
    value.trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// `<plural>.<group>`: a DNS subdomain with at least one dot.
fn is_crd_name(name: &str) -> bool {
    name.contains('.')
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_names_from_show_crds_output() {
        let yaml = r#"# Source: chart/crds/a.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    controller-gen.kubebuilder.io/version: v0.14.0
    name: not-this
  name: workspaces.kaito.sh
spec:
  names:
    kind: Workspace
    name: not-this-either
---
apiVersion: apiextensions.k8s.io/v1
kind: "CustomResourceDefinition"
metadata:
    name: "ragengines.kaito.sh"  # comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not.a.crd
---
kind: CustomResourceDefinition
metadata:
  name: workspaces.kaito.sh
"#;
        assert_eq!(
            crd_names(yaml),
            ["workspaces.kaito.sh", "ragengines.kaito.sh"]
        );
        assert!(crd_names("").is_empty());
        assert!(!is_crd_name("--x.y"));
        assert!(!is_crd_name("plain"));
    }

    #[test]
    fn plans_list_steps_in_order() {
        let plan = Plan {
            repos: vec![Repo {
                name: "r".into(),
                url: "https://e/r".into(),
            }],
            charts: vec![
                Chart {
                    release: "a".into(),
                    chart: "r/a".into(),
                    version: None,
                    namespace: "ns".into(),
                    create_namespace: true,
                    set_json: Vec::new(),
                },
                Chart {
                    release: "b".into(),
                    chart: "r/b".into(),
                    version: Some("1.0.0".into()),
                    namespace: "ns".into(),
                    create_namespace: false,
                    set_json: Vec::new(),
                },
            ],
        };
        let t = Duration::from_secs(300);
        let steps: Vec<String> = plan.install_steps(t).into_iter().map(|s| s.step).collect();
        assert_eq!(
            steps,
            ["repo-add-r", "repo-update", "install-a", "install-b"]
        );
        let steps: Vec<String> = plan
            .uninstall_steps(t)
            .into_iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(steps, ["uninstall-b", "uninstall-a"]);
        let steps: Vec<String> = plan
            .remove_crds_steps(t, "p")
            .into_iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(
            steps,
            [
                "repo-add-r",
                "repo-update",
                "list-crds-a",
                "list-crds-b",
                "delete-provider-config"
            ]
        );
    }
}
