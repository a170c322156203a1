//! Test-only stand-ins for the upstream operators' CRDs (`crates/testenv/upstream-crds/`).
//!
//! They register the real group, version, kind, plural and scope of each upstream kind with a
//! schema that accepts any field, plus the `status` subresource, so the product's providers can
//! create, read and update upstream objects exactly as on a real cluster. They are not the
//! upstream CRDs and carry no validation.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::wait::Condition;
use kube::runtime::wait::conditions::is_crd_established;

use super::Upstream;
use crate::wait::wait_until;
use crate::{Error, Result};

/// Field manager of the CRD installs.
const FIELD_MANAGER: &str = "kubeairunway-testenv-upstream-crds";
/// How long a CRD may take to become Established or to disappear.
const CRD_TIMEOUT: Duration = Duration::from_secs(60);

/// Names of the test-only upstream CRDs, in [`Upstream::ALL`] order.
pub const UPSTREAM_CRD_NAMES: [&str; 4] = [
    "workspaces.kaito.sh",
    "dynamographdeployments.nvidia.com",
    "rayservices.ray.io",
    "inferencesets.kaito.sh",
];

/// The YAML of one test-only upstream CRD, embedded at build time.
pub(crate) fn crd_yaml(upstream: Upstream) -> (&'static str, &'static str) {
    match upstream {
        Upstream::Workspace => (
            "workspaces.kaito.sh.yaml",
            include_str!("../../upstream-crds/workspaces.kaito.sh.yaml"),
        ),
        Upstream::DynamoGraphDeployment => (
            "dynamographdeployments.nvidia.com.yaml",
            include_str!("../../upstream-crds/dynamographdeployments.nvidia.com.yaml"),
        ),
        Upstream::RayService => (
            "rayservices.ray.io.yaml",
            include_str!("../../upstream-crds/rayservices.ray.io.yaml"),
        ),
        Upstream::InferenceSet => (
            "inferencesets.kaito.sh.yaml",
            include_str!("../../upstream-crds/inferencesets.kaito.sh.yaml"),
        ),
    }
}

/// The embedded CRD of `upstream` as YAML, e.g. for a test chart that ships it in `crds/`.
pub fn upstream_crd_yaml(upstream: Upstream) -> &'static str {
    crd_yaml(upstream).1
}

/// Parses the embedded CRD of `upstream`.
pub fn upstream_crd(upstream: Upstream) -> Result<CustomResourceDefinition> {
    let (file, yaml) = crd_yaml(upstream);
    let crd: CustomResourceDefinition =
        serde_saphyr::from_str(yaml).map_err(|e| Error::UpstreamCrd {
            file,
            reason: e.to_string(),
        })?;
    if crd.metadata.name.as_deref() != Some(upstream.crd_name()) {
        return Err(Error::UpstreamCrd {
            file,
            reason: format!(
                "is named {:?}, expected {}",
                crd.metadata.name,
                upstream.crd_name()
            ),
        });
    }
    Ok(crd)
}

/// Installs (server-side apply, idempotent) the test-only Workspace, DynamoGraphDeployment,
/// RayService and InferenceSet CRDs and waits until each is Established.
pub async fn install_upstream_crds(client: &Client) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    for upstream in Upstream::ALL {
        let crd = upstream_crd(upstream)?;
        let name = upstream.crd_name();
        api.patch(name, &apply, &Patch::Apply(&crd))
            .await
            .map_err(Error::kube(format!("applying CRD {name}")))?;
    }
    for upstream in Upstream::ALL {
        let name = upstream.crd_name();
        wait_until(
            &format!("CRD {name} to become Established"),
            CRD_TIMEOUT,
            || {
                let api = api.clone();
                async move {
                    let crd = api
                        .get_opt(name)
                        .await
                        .map_err(Error::kube(format!("reading CRD {name}")))?;
                    let established = crd.as_ref().is_some_and(is_established);
                    let seen = match crd {
                        None => "absent".to_string(),
                        Some(_) if !established => "not Established yet".to_string(),
                        Some(_) => String::new(),
                    };
                    Ok((established.then_some(()), seen))
                }
            },
        )
        .await?;
    }
    Ok(())
}

/// Deletes one CRD (by name, e.g. an entry of [`UPSTREAM_CRD_NAMES`]) and waits until it is
/// gone, which includes the API server deleting every object of that kind. Absent is fine.
pub async fn uninstall_upstream_crd(client: &Client, crd_name: &str) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    match api.delete(crd_name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
        Err(e) => return Err(Error::kube(format!("deleting CRD {crd_name}"))(e)),
    }
    wait_until(&format!("CRD {crd_name} to be gone"), CRD_TIMEOUT, || {
        let api = api.clone();
        async move {
            let crd = api
                .get_opt(crd_name)
                .await
                .map_err(Error::kube(format!("reading CRD {crd_name}")))?;
            let seen = if crd.is_some() { "still present" } else { "" };
            Ok((crd.is_none().then_some(()), seen.to_string()))
        }
    })
    .await
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    is_crd_established().matches_object(Some(crd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_crds_declare_the_upstream_identities() {
        let expected = [
            ("kaito.sh", "v1beta1", "Workspace", "workspaces"),
            (
                "nvidia.com",
                "v1alpha1",
                "DynamoGraphDeployment",
                "dynamographdeployments",
            ),
            ("ray.io", "v1", "RayService", "rayservices"),
            ("kaito.sh", "v1alpha1", "InferenceSet", "inferencesets"),
        ];
        for (upstream, (group, version, kind, plural)) in Upstream::ALL.into_iter().zip(expected) {
            let crd = upstream_crd(upstream).expect("embedded CRD parses");
            assert_eq!(crd.spec.group, group);
            assert_eq!(crd.spec.names.kind, kind);
            assert_eq!(crd.spec.names.plural, plural);
            assert_eq!(crd.spec.scope, "Namespaced");
            assert_eq!(crd.spec.versions.len(), 1);
            let v = &crd.spec.versions[0];
            assert_eq!(v.name, version);
            assert!(v.served && v.storage);
            assert!(v.subresources.as_ref().is_some_and(|s| s.status.is_some()));
            let schema = v
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .expect("schema");
            assert_eq!(schema.type_.as_deref(), Some("object"));
            assert_eq!(schema.x_kubernetes_preserve_unknown_fields, Some(true));
            let ar = upstream.api_resource();
            assert_eq!((ar.group.as_str(), ar.version.as_str()), (group, version));
            assert_eq!((ar.kind.as_str(), ar.plural.as_str()), (kind, plural));
        }
        assert_eq!(
            UPSTREAM_CRD_NAMES.to_vec(),
            Upstream::ALL.map(Upstream::crd_name).to_vec()
        );
    }

    #[test]
    fn the_workspace_schema_has_root_level_resource_and_inference() {
        let crd = upstream_crd(Upstream::Workspace).expect("parses");
        let props = crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| s.properties.as_ref())
            .expect("properties");
        assert!(props.contains_key("resource"));
        assert!(props.contains_key("inference"));
        assert!(!props.contains_key("spec"));
    }
}
