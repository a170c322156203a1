//! Shared pieces of the chart tests: running the pinned `helm`, parsing what it renders, and
//! RBAC rules as comparable sets.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::rbac::v1::PolicyRule;
use kubeairunway_testenv::Binaries;
use serde_json::Value;

/// The namespace the chart installs into (fixed by the contract of the settings ConfigMap).
pub const NAMESPACE: &str = "kubeairunway-system";
/// The release name the docs use.
pub const RELEASE: &str = "kubeairunway";
/// The Kubernetes version `helm template` renders for (the oldest the binary supports).
pub const KUBE_VERSION: &str = "1.34.0";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The chart directory.
pub fn chart() -> PathBuf {
    root().join("deploy/helm/kubeairunway")
}

/// The pinned helm of `make testbin`, with its homes in a private directory.
pub struct Helm {
    bin: PathBuf,
    home: tempfile::TempDir,
}

/// What a helm run printed.
pub struct Output {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Helm {
    /// The helm of `make testbin`; fails with the command that builds it.
    pub fn new() -> Self {
        let bin = Binaries::from_env()
            .tool("helm")
            .unwrap_or_else(|e| panic!("{e}; build the pinned tools with `make testbin`"));
        Self {
            bin,
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The helm binary.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Runs helm with `args`, never touching the user's Helm configuration.
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        let home = self.home.path();
        let out = Command::new(&self.bin)
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .output()
            .expect("helm runs");
        Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `helm template` of the chart in `namespace` with `--set` values `sets`.
    pub fn template_in(&self, namespace: &str, sets: &[&str]) -> Output {
        let chart = chart();
        let mut args: Vec<String> = vec![
            "template".into(),
            RELEASE.into(),
            chart.display().to_string(),
            "--namespace".into(),
            namespace.into(),
            "--kube-version".into(),
            KUBE_VERSION.into(),
        ];
        for set in sets {
            args.push("--set".into());
            args.push((*set).to_string());
        }
        self.run(&args)
    }

    /// The objects `helm template` renders in the chart's namespace with `sets`; panics with
    /// helm's message when it refuses.
    pub fn render(&self, sets: &[&str]) -> Vec<Value> {
        let out = self.template_in(NAMESPACE, sets);
        assert!(out.ok, "helm template {sets:?} failed: {}", out.stderr);
        parse_objects(&out.stdout)
    }
}

/// The objects of a multi-document YAML stream (empty documents dropped).
pub fn parse_objects(yaml: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml)
        .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{yaml}"));
    docs.into_iter().filter(|d| d.is_object()).collect()
}

/// The object of `kind` named `name`.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {name} among: {:?}",
                objects.iter().map(describe).collect::<Vec<_>>()
            )
        })
}

/// `Kind/name` of an object.
pub fn describe(o: &Value) -> String {
    format!(
        "{}/{}",
        o["kind"].as_str().unwrap_or("?"),
        o["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Every `Kind/name` of a rendering, sorted.
pub fn names(objects: &[Value]) -> BTreeSet<String> {
    objects.iter().map(describe).collect()
}

/// One thing a rule allows: (API group, resource, object name or `*`, verb).
pub type Grant = (String, String, String, String);

/// The grants of `rules`, one per group × resource × name × verb.
pub fn grants(rules: &[PolicyRule]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for rule in rules {
        let names = rule
            .resource_names
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| vec!["*".into()]);
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for name in &names {
                    for verb in &rule.verbs {
                        out.insert((group.clone(), resource.clone(), name.clone(), verb.clone()));
                    }
                }
            }
        }
    }
    out
}

/// The rules of a rendered Role or ClusterRole.
pub fn rules_of(role: &Value) -> Vec<PolicyRule> {
    serde_json::from_value(role["rules"].clone()).expect("rules are PolicyRules")
}
