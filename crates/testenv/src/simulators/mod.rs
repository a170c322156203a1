//! # SIMULATED upstream operators — for tests and the local demo only
//!
//! **Nothing in this module is part of the KubeAIRunway product or its controller.** The
//! product's KAITO, Dynamo and KubeRay providers write third-party objects (`kaito.sh/v1beta1`
//! `Workspace`, `kaito.sh/v1alpha1` `InferenceSet`, `nvidia.com/v1alpha1`
//! `DynamoGraphDeployment`, `ray.io/v1` `RayService`) and read
//! the status the real upstream operators write back. Those operators cannot run on the local
//! control plane (no container runtime, no GPUs), so this module stands in for them, well enough
//! to exercise the providers' status mappings end to end:
//!
//! - For every upstream object, in any namespace, it creates plain Pods whose resources are
//!   derived from the object (GPU counts, CPU and memory, node selectors), so the **real
//!   kube-scheduler** does real GPU fit checks against the simulated nodes and KWOK runs what
//!   fits. The pods carry a controller owner reference to the upstream object, so the real
//!   garbage collector deletes them with it.
//! - From those pods (bound? Ready? Unschedulable, with the scheduler's message?) it writes the
//!   upstream status fields the providers read, through the status subresource, and only when
//!   they change.
//!
//! It does not serve models, create Services, download weights, provision nodes, or model any
//! upstream behaviour beyond that. See [`kaito`], [`dynamo`] and [`kuberay`] for what each
//! simulation reads and writes.
//!
//! Use [`install_upstream_crds`] to register the test-only CRDs, then run [`run`] on a task:
//!
//! ```no_run
//! # async fn demo(client: kube::Client) -> Result<(), kubeairunway_testenv::Error> {
//! kubeairunway_testenv::install_upstream_crds(&client).await?;
//! tokio::spawn(kubeairunway_testenv::simulators::run(client));
//! # Ok(()) }
//! ```

mod crds;
pub mod dynamo;
pub mod kaito;
pub mod kuberay;
mod pods;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

pub use crds::{
    UPSTREAM_CRD_NAMES, install_upstream_crds, uninstall_upstream_crd, upstream_crd,
    upstream_crd_yaml,
};
pub use pods::{
    ANNOTATION_SPEC_HASH, GPU_RESOURCE, LABEL_COMPONENT, LABEL_DEPLOYMENT, LABEL_OWNER,
    LABEL_SIMULATOR, SIMULATED_IMAGE,
};

use crate::{Error, Result};
use pods::{Observed, Owner, PlannedPod};

/// Field manager of the simulated status writes.
pub const FIELD_MANAGER: &str = "kubeairunway-upstream-simulator";
/// Every object is looked at again this often even without events.
const RESYNC: Duration = Duration::from_secs(60);
/// Server-side timeout of each watch request.
const WATCH_TIMEOUT_SECS: u32 = 25;
/// Retry delay after a failed pass over one object.
const RETRY: Duration = Duration::from_secs(5);

/// The upstream kinds that are simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Upstream {
    /// KAITO `kaito.sh/v1beta1` `Workspace`.
    Workspace,
    /// NVIDIA Dynamo `nvidia.com/v1alpha1` `DynamoGraphDeployment`.
    DynamoGraphDeployment,
    /// KubeRay `ray.io/v1` `RayService`.
    RayService,
    /// KAITO `kaito.sh/v1alpha1` `InferenceSet`.
    InferenceSet,
}

impl Upstream {
    /// All simulated kinds.
    pub const ALL: [Upstream; 4] = [
        Upstream::Workspace,
        Upstream::DynamoGraphDeployment,
        Upstream::RayService,
        Upstream::InferenceSet,
    ];

    /// Group, version, kind and plural, for `Api::<DynamicObject>::namespaced_with`.
    pub fn api_resource(self) -> ApiResource {
        let (group, version, plural) = match self {
            Upstream::Workspace => ("kaito.sh", "v1beta1", "workspaces"),
            Upstream::DynamoGraphDeployment => ("nvidia.com", "v1alpha1", "dynamographdeployments"),
            Upstream::RayService => ("ray.io", "v1", "rayservices"),
            Upstream::InferenceSet => ("kaito.sh", "v1alpha1", "inferencesets"),
        };
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, self.kind()),
            plural,
        )
    }

    /// The kind.
    pub fn kind(self) -> &'static str {
        match self {
            Upstream::Workspace => "Workspace",
            Upstream::DynamoGraphDeployment => "DynamoGraphDeployment",
            Upstream::RayService => "RayService",
            Upstream::InferenceSet => "InferenceSet",
        }
    }

    /// Name of the test-only CRD (`<plural>.<group>`).
    pub fn crd_name(self) -> &'static str {
        match self {
            Upstream::Workspace => UPSTREAM_CRD_NAMES[0],
            Upstream::DynamoGraphDeployment => UPSTREAM_CRD_NAMES[1],
            Upstream::RayService => UPSTREAM_CRD_NAMES[2],
            Upstream::InferenceSet => UPSTREAM_CRD_NAMES[3],
        }
    }

    /// Value of the [`LABEL_SIMULATOR`] label on the pods of this kind.
    pub fn simulator(self) -> &'static str {
        match self {
            Upstream::Workspace => "kaito",
            Upstream::DynamoGraphDeployment => "dynamo",
            Upstream::RayService => "kuberay",
            Upstream::InferenceSet => "kaito-inferenceset",
        }
    }

    fn plan(self, obj: &DynamicObject, name: &str) -> Vec<PlannedPod> {
        match self {
            Upstream::Workspace => kaito::plan(obj, name),
            Upstream::DynamoGraphDeployment => dynamo::plan(obj, name),
            Upstream::RayService => kuberay::plan(obj, name),
            Upstream::InferenceSet => kaito::plan_set(obj, name),
        }
    }

    fn status(self, obj: &DynamicObject, observed: &Observed, now: &str) -> Value {
        match self {
            Upstream::Workspace => kaito::status(obj, observed, now),
            Upstream::DynamoGraphDeployment => dynamo::status(obj, observed, now),
            Upstream::RayService => kuberay::status(obj, observed, now),
            Upstream::InferenceSet => kaito::status_set(obj, observed, now),
        }
    }
}

/// Runs the simulated operators until the returned future is dropped.
///
/// Watches Workspaces, InferenceSets, DynamoGraphDeployments and RayServices in all namespaces (and the pods
/// the simulations created). A missing upstream CRD, or one deleted while this runs, is not an
/// error: the watch of that kind retries with a short back-off (at most 5 s) and picks the kind
/// up once its CRD is installed again. Failures on single objects are logged and retried.
/// `client` needs cluster-wide rights on the four kinds (and their status) and on pods.
///
/// Never returns in practice; the `Result` is kept for start-up checks a later version may add.
pub async fn run(client: Client) -> Result<(), Error> {
    futures::join!(
        simulate(client.clone(), Upstream::Workspace),
        simulate(client.clone(), Upstream::DynamoGraphDeployment),
        simulate(client.clone(), Upstream::RayService),
        simulate(client, Upstream::InferenceSet),
    );
    Ok(())
}

/// State shared by the passes of one simulation.
struct Context {
    client: Client,
    upstream: Upstream,
}

/// Runs the simulation of one kind forever: a kube-runtime controller over the upstream objects
/// (dynamic, by [`ApiResource`]) that is also triggered by changes of the pods it owns.
async fn simulate(client: Client, upstream: Upstream) {
    loop {
        let ar = upstream.api_resource();
        let objects = Api::<DynamicObject>::all_with(client.clone(), &ar);
        let pods = Api::<Pod>::all(client.clone());
        let pods_config =
            watch_config().labels(&format!("{LABEL_SIMULATOR}={}", upstream.simulator()));
        let context = Arc::new(Context {
            client: client.clone(),
            upstream,
        });
        Controller::new_with(objects, watch_config(), ar)
            .owns_with(pods, (), pods_config)
            .trigger_backoff(WatchBackoff::default())
            .run(reconcile, error_policy, context)
            .for_each(|result| async move {
                match result {
                    Ok(_) => {}
                    // A missing CRD shows up here on every retry of the watch; keep it quiet.
                    Err(e) => tracing::debug!(kind = upstream.kind(), error = %e, "simulation"),
                }
            })
            .await;
        // The controller stream only ends on shutdown signals it does not have; if it ends
        // anyway, start over.
        tracing::warn!(
            kind = upstream.kind(),
            "simulation stopped unexpectedly; restarting"
        );
        tokio::time::sleep(RETRY).await;
    }
}

/// Watches end server-side after 25 s and are resumed, so clients with a read timeout (the
/// test harness sets 30 s) never see an idle watch as a failed connection.
fn watch_config() -> watcher::Config {
    watcher::Config::default().timeout(WATCH_TIMEOUT_SECS)
}

/// One pass over one upstream object: plan its pods, create/delete pods to match, then write
/// the upstream status derived from the pods if it differs from the current one.
async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    if obj.metadata.deletion_timestamp.is_some() {
        // The garbage collector removes the pods once the object is gone.
        return Ok(Action::await_change());
    }
    let (Some(namespace), Some(uid)) = (obj.namespace(), obj.uid()) else {
        return Ok(Action::await_change());
    };
    let upstream = ctx.upstream;
    let name = obj.name_any();
    let owner = Owner {
        upstream,
        namespace: namespace.clone(),
        name: name.clone(),
        uid,
        deployment: obj.labels().get(LABEL_DEPLOYMENT).cloned(),
    };
    let planned = upstream.plan(&obj, &name);
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    let observed = pods::sync(&pods, &owner, &planned).await?;

    let status = upstream.status(&obj, &observed, &now());
    if obj.data.get("status") != Some(&status) {
        let ar = upstream.api_resource();
        let api = Api::<DynamicObject>::namespaced_with(ctx.client.clone(), &namespace, &ar);
        // The cached object may predate our own last write; compare with the stored one so a
        // stale cache never rewrites an unchanged status (with a new transition time).
        let Some(fresh) = api.get_opt(&name).await.map_err(Error::kube(format!(
            "reading {} {namespace}/{name}",
            upstream.kind()
        )))?
        else {
            return Ok(Action::await_change());
        };
        let status = upstream.status(&fresh, &observed, &now());
        if fresh.data.get("status") == Some(&status) {
            return Ok(Action::requeue(RESYNC));
        }
        tracing::info!(
            kind = upstream.kind(),
            %namespace,
            %name,
            "simulation writes upstream status"
        );
        let body = json!({
            "apiVersion": ar.api_version,
            "kind": ar.kind,
            "metadata": { "name": name, "namespace": namespace },
            "status": status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
        .map_err(Error::kube(format!(
            "writing the simulated status of {} {namespace}/{name}",
            upstream.kind()
        )))?;
    }
    Ok(Action::requeue(RESYNC))
}

fn error_policy(obj: Arc<DynamicObject>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(
        kind = ctx.upstream.kind(),
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
        %error,
        "simulation pass failed; retrying"
    );
    Action::requeue(RETRY)
}

/// The current time as Kubernetes writes it (RFC 3339, seconds, UTC).
fn now() -> String {
    use k8s_openapi::jiff::{Timestamp, fmt::strtime};
    strtime::format("%Y-%m-%dT%H:%M:%SZ", Timestamp::now()).unwrap_or_default()
}

/// Retry delays of the watches: 250 ms doubling up to 5 s, back to 250 ms after an event.
/// Shorter than kube-runtime's default (up to 30 s) so a re-installed CRD is picked up quickly.
#[derive(Clone, Debug)]
struct WatchBackoff {
    next: Duration,
}

impl WatchBackoff {
    const MIN: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(5);
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self { next: Self::MIN }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (current * 2).min(Self::MAX);
        Some(current)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = Self::MIN;
    }
}

/// Reads a JSON pointer of an upstream object's data.
fn field<'a>(obj: &'a DynamicObject, pointer: &str) -> Option<&'a Value> {
    obj.data.pointer(pointer).filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use kube::runtime::utils::Backoff;

    use super::*;

    #[test]
    fn watch_backoff_doubles_up_to_five_seconds_and_resets() {
        let mut b = WatchBackoff::default();
        let delays: Vec<u64> = (0..7)
            .map(|_| b.next().expect("endless").as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![250, 500, 1000, 2000, 4000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(250)));
    }

    #[test]
    fn now_is_rfc3339_in_seconds() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
