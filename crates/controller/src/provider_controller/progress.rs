//! Writes `status.progress` (the deployment's way to serving, [`kubeairunway_core::progress`])
//! from the cached pods, with its own field manager, and a Warning Event when a phase stalls.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use kubeairunway_api::{ModelDeployment, ProgressStatus};
use kubeairunway_core::Notice;
use kubeairunway_core::progress;
use serde_json::json;

use crate::context::Context;
use crate::{Error, Result};

/// Field manager of `status.progress`: one writer, apart from the provider's conditions.
pub const FIELD_MANAGER: &str = "kubeairunway-progress";
/// Key of the progress writer in [`Context::last_written`].
const WRITER: &str = "progress";

/// Observes `pods` and writes the timeline when it changed. Returns when to look again for a
/// phase to cross its stall threshold.
pub async fn update(md: &ModelDeployment, pods: &[Pod], ctx: &Context) -> Result<Option<Duration>> {
    let status = md.status.as_ref();
    let previous = status.and_then(|s| s.progress.as_ref());
    let desired = status
        .and_then(|s| s.replicas.as_ref())
        .map(|r| r.desired)
        .filter(|d| *d > 0)
        .unwrap_or_else(|| desired_pods(md));
    let created = md.meta().creation_timestamp.as_ref().map(|t| t.0);
    let (observed, recheck) = progress::observe(
        pods,
        desired,
        previous,
        created,
        Timestamp::now(),
        &ctx.settings.progress,
    );
    if previous == Some(&observed) {
        return Ok(recheck);
    }
    let uid = md.uid().unwrap_or_default();
    let fingerprint = fingerprint(&observed);
    if ctx.already_written(&uid, WRITER, fingerprint) {
        return Ok(recheck);
    }
    let body = json!({
        "apiVersion": ModelDeployment::api_version(&()),
        "kind": ModelDeployment::kind(&()),
        "status": { "progress": observed },
    });
    let api: Api<ModelDeployment> =
        Api::namespaced(ctx.client.clone(), &md.namespace().unwrap_or_default());
    api.patch_status(
        &md.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::Kube {
        what: format!("writing the progress of {}", md.name_any()),
        source,
    })?;
    ctx.record_written(&uid, WRITER, fingerprint);
    if let Some(notice) = stall_notice(previous, &observed) {
        ctx.emit(md, notice);
    }
    Ok(recheck)
}

/// Pods a deployment wants before its provider reports a count: its replicas, or its prefill
/// and decode workers.
fn desired_pods(md: &ModelDeployment) -> i32 {
    let scaling = &md.spec.scaling;
    let workers = scaling.prefill.as_ref().map_or(0, |p| p.replicas)
        + scaling.decode.as_ref().map_or(0, |d| d.replicas);
    if workers > 0 {
        workers
    } else {
        scaling.replicas.max(0)
    }
}

/// A Warning Event when the timeline becomes stalled (or stalled for another reason), so
/// `kubectl describe` and `kubectl events` say where it is stuck.
fn stall_notice(previous: Option<&ProgressStatus>, now: &ProgressStatus) -> Option<Notice> {
    let reason = now.stalled_reason.as_ref()?;
    let before = previous.and_then(|p| p.stalled_reason.as_ref());
    if before == Some(reason) && previous.and_then(|p| p.current) == now.current {
        return None;
    }
    let phase = now.current?;
    let message = now
        .phases
        .iter()
        .find(|p| p.name == phase)
        .and_then(|p| p.message.clone())
        .unwrap_or_default();
    Some(Notice::warning(
        "Stalled",
        format!("{phase:?} stalled ({reason}): {message}"),
        "Progress",
    ))
}

/// A hash of the timeline, to skip writing what our last write already said.
fn fingerprint(p: &ProgressStatus) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(p).unwrap_or_default().hash(&mut h);
    h.finish()
}
