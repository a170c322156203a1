//! Container logs of pods on KWOK nodes, written by tests.
//!
//! KWOK's simulated kubelets serve `GET /containerLogs/...` (what `kubectl logs` and the API
//! server's `pods/log` subresource use) from files named in `ClusterLogs` objects. The control
//! plane runs KWOK with `--enable-crds=ClusterLogs`, so a test can create one at run time. KWOK
//! selects pods for a `ClusterLogs` by namespace and name only (not by label), and every test has
//! a namespace of its own, so [`ControlPlane::pod_logs`] maps *the containers of every pod in one
//! namespace* to one file the test appends to. Following (`kubectl logs -f`) sees appended lines
//! at once (KWOK watches the file with inotify).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};

use crate::cluster::ControlPlane;
use crate::wait::wait_until;
use crate::{Error, Result, User};

/// Directory under the state directory that holds the log files.
pub(crate) const DIR: &str = "pod-logs";
/// Name of KWOK's ClusterLogs CRD.
const CRD_NAME: &str = "clusterlogs.kwok.x-k8s.io";
const CRD_FILE: &str = "kwok.x-k8s.io_clusterlogs.yaml";
const CRD_YAML: &str = include_str!("../kwok-crds/kwok.x-k8s.io_clusterlogs.yaml");
const FIELD_MANAGER: &str = "kubeairunway-testenv-pod-logs";

/// The log file behind the containers of every pod in one namespace.
#[derive(Clone, Debug)]
pub struct PodLogs {
    namespace: String,
    path: PathBuf,
}

impl PodLogs {
    /// The file (CRI log format: `<RFC 3339 time> stdout F <text>` per line).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The namespace whose pods print this file.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Appends `text` as container output on stdout, one log entry per line, all stamped with
    /// the current time, in a single write (a follower sees them together).
    pub fn append(&self, text: &str) -> Result<()> {
        self.append_at(k8s_openapi::jiff::Timestamp::now(), text)
    }

    /// Like [`PodLogs::append`] with an explicit timestamp (what `timestamps=true` shows).
    pub fn append_at(&self, at: k8s_openapi::jiff::Timestamp, text: &str) -> Result<()> {
        let stamp = at.to_string();
        let entries: String = text
            .lines()
            .map(|line| format!("{stamp} stdout F {line}\n"))
            .collect();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(Error::io(format!("opening {}", self.path.display())))?;
        file.write_all(entries.as_bytes())
            .map_err(Error::io(format!("appending to {}", self.path.display())))
    }
}

impl ControlPlane {
    /// Gives every container of every pod in `namespace` (now and later) the log file returned,
    /// empty at first; calling it again for the same namespace returns the same file without
    /// emptying it. KWOK picks the mapping up from its watch within moments.
    pub async fn pod_logs(&self, namespace: &str) -> Result<PodLogs> {
        let path = self
            .info()
            .state_dir
            .join(DIR)
            .join(format!("{namespace}.log"));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(Error::io(format!("creating {}", path.display())))?;
        let client = self.client(User::Admin).await?;
        let gvk = GroupVersionKind::gvk("kwok.x-k8s.io", "v1alpha1", "ClusterLogs");
        let api: Api<DynamicObject> = Api::all_with(
            client,
            &ApiResource::from_gvk_with_plural(&gvk, "clusterlogs"),
        );
        let name = format!("testenv-{namespace}");
        let object = serde_json::json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterLogs",
            "metadata": { "name": name },
            "spec": {
                "selector": { "matchNamespaces": [namespace] },
                "logs": [{ "logsFile": path.display().to_string(), "follow": true }],
            },
        });
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&object),
        )
        .await
        .map_err(Error::kube(format!("creating ClusterLogs {name}")))?;
        Ok(PodLogs {
            namespace: namespace.to_string(),
            path,
        })
    }
}

/// Installs KWOK's ClusterLogs CRD (server-side apply, idempotent); [`wait_crd`] waits for it.
pub(crate) async fn apply_crd(client: &Client) -> Result<()> {
    let crd: CustomResourceDefinition =
        serde_saphyr::from_str(CRD_YAML).map_err(|e| Error::UpstreamCrd {
            file: CRD_FILE,
            reason: e.to_string(),
        })?;
    Api::<CustomResourceDefinition>::all(client.clone())
        .patch(
            CRD_NAME,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .map_err(Error::kube(format!("applying CRD {CRD_NAME}")))?;
    Ok(())
}

/// Waits until the ClusterLogs CRD is Established (KWOK watches it from start-up).
pub(crate) async fn wait_crd(client: &Client) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    wait_until(
        &format!("CRD {CRD_NAME} to become Established"),
        Duration::from_secs(60),
        || {
            let api = api.clone();
            async move {
                let crd = api
                    .get_opt(CRD_NAME)
                    .await
                    .map_err(Error::kube(format!("reading CRD {CRD_NAME}")))?;
                let established = crd
                    .as_ref()
                    .and_then(|c| c.status.as_ref())
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    });
                Ok((established.then_some(()), "not Established yet".into()))
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_crd_is_kwoks_cluster_logs() {
        let crd: CustomResourceDefinition = serde_saphyr::from_str(CRD_YAML).expect("parses");
        assert_eq!(crd.metadata.name.as_deref(), Some(CRD_NAME));
        assert_eq!(crd.spec.group, "kwok.x-k8s.io");
        assert_eq!(crd.spec.names.kind, "ClusterLogs");
        assert_eq!(crd.spec.scope, "Cluster");
        assert!(
            crd.spec
                .versions
                .iter()
                .any(|v| v.name == "v1alpha1" && v.served)
        );
    }
}
