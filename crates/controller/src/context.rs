//! What every reconcile pass shares.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::Store;
use kube::{Client, Resource};
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment};
use kubeairunway_core::{Notice, RuleEngine};

use crate::metrics::Metrics;

/// Shared state of the core and provider controllers.
pub struct Context {
    /// Client with the controller's identity.
    pub client: Client,
    /// Cache of registered providers.
    pub providers: Store<InferenceProviderConfig>,
    /// Compiled selection rules.
    pub rules: RuleEngine,
    /// Kubernetes Event publisher.
    pub recorder: Recorder,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Tunables.
    pub settings: Settings,
    /// What each writer last wrote per object (a fingerprint without timestamps), so a pass that
    /// runs on a cache older than our own last write does not write the same status again.
    pub last_written: std::sync::Mutex<std::collections::HashMap<(String, &'static str), u64>>,
    /// Recent answers to "is this upstream CRD installed?", with when they were read.
    pub crd_presence:
        std::sync::Mutex<std::collections::HashMap<String, (bool, std::time::Instant)>>,
}

impl Context {
    /// True when `writer` already wrote `fingerprint` for the object `uid`.
    pub fn already_written(&self, uid: &str, writer: &'static str, fingerprint: u64) -> bool {
        self.last_written
            .lock()
            .is_ok_and(|m| m.get(&(uid.to_string(), writer)) == Some(&fingerprint))
    }

    /// Records that `writer` wrote `fingerprint` for the object `uid`.
    pub fn record_written(&self, uid: &str, writer: &'static str, fingerprint: u64) {
        if let Ok(mut m) = self.last_written.lock() {
            m.insert((uid.to_string(), writer), fingerprint);
        }
    }

    /// Forgets an object (it is gone).
    pub fn forget(&self, uid: &str) {
        if let Ok(mut m) = self.last_written.lock() {
            m.retain(|(u, _), _| u != uid);
        }
    }

    /// Publishes a decision's Event on `md` without holding up the reconcile pass (Events are
    /// informational; a failure to record one is logged at debug level and otherwise ignored).
    pub fn emit(&self, md: &ModelDeployment, notice: Notice) {
        let event = Event {
            type_: if notice.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: notice.reason,
            note: Some(notice.note),
            action: notice.action.into(),
            secondary: None,
        };
        let reference = md.object_ref(&());
        let recorder = self.recorder.clone();
        tokio::spawn(async move {
            if let Err(e) = recorder.publish(&event, &reference).await {
                tracing::debug!(error = %e, "could not publish an event");
            }
        });
    }
}

/// Timing knobs (flags of `kubeairunway controller`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often a provider re-reads objects it cannot watch (third-party kinds).
    pub resync: Duration,
    /// After this long in deletion, a provider gives up cleaning and removes its finalizer.
    pub finalizer_timeout: Duration,
    /// How often providers heartbeat their InferenceProviderConfig.
    pub heartbeat: Duration,
    /// How long each progress phase may last before the timeline calls it stalled.
    pub progress: kubeairunway_core::progress::Thresholds,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(30),
            finalizer_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(60),
            progress: Default::default(),
        }
    }
}

impl Settings {
    /// Periods short enough that a test sees third-party objects, resyncs and stuck deletions
    /// settle within seconds (1 s resync, 8 s finalizer timeout); progress thresholds as default.
    pub fn quick() -> Self {
        Self {
            resync: Duration::from_secs(1),
            finalizer_timeout: Duration::from_secs(8),
            ..Self::default()
        }
    }
}
