//! The committed manifests under `deploy/` (and the Helm chart's CRDs) must be exactly what
//! the Rust types generate. Regenerate with `make crds` when this fails.

use std::path::Path;

use kubeairunway_api::crds;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/api lives two levels below the root")
}

/// Where the generated CRD files are committed: the manifests, and the Helm chart's `crds/`
/// (which Helm installs before the chart's templates).
const CRD_DIRS: [&str; 2] = ["deploy/crds", "deploy/helm/kubeairunway/crds"];

#[test]
fn committed_crds_are_current() {
    for (dir, crd) in CRD_DIRS
        .iter()
        .flat_map(|d| crds::all().into_iter().map(move |c| (*d, c)))
    {
        let path = repo_root().join(dir).join(crds::file_name(&crd));
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run `make crds`", path.display()));
        let generated = crds::to_yaml(&crd).expect("CRD renders");
        assert!(
            committed == generated,
            "{} is stale; run `make crds`",
            path.display()
        );
    }
}

#[test]
fn committed_roles_are_current() {
    let path = repo_root().join("deploy/crds/aggregated-roles.yaml");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make crds`", path.display()));
    assert!(
        committed == crds::roles_yaml().expect("roles render"),
        "{} is stale; run `make crds`",
        path.display()
    );
}

#[test]
fn crd_has_the_contracted_names_columns_and_subresources() {
    let md = &crds::all()[0];
    assert_eq!(
        md.metadata.name.as_deref(),
        Some("modeldeployments.kubeairunway.ai")
    );
    assert_eq!(
        md.spec.names.short_names.as_deref(),
        Some(&["md".to_string()][..])
    );
    let version = &md.spec.versions[0];
    let columns: Vec<&str> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "Phase", "Provider", "Engine", "Progress", "Ready", "Endpoint", "Age"
        ]
    );
    let scale = version
        .subresources
        .as_ref()
        .and_then(|s| s.scale.as_ref())
        .expect("scale subresource");
    assert_eq!(scale.spec_replicas_path, ".spec.scaling.replicas");
    let ipc = &crds::all()[1];
    assert_eq!(ipc.spec.scope, "Cluster");
    assert_eq!(
        ipc.spec.names.short_names.as_deref(),
        Some(&["ipc".to_string()][..])
    );
}
