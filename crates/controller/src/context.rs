//! What every reconcile pass shares.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;
use kubeairunway_api::InferenceProviderConfig;

use crate::cel::RuleEngine;
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(30),
            finalizer_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(60),
        }
    }
}
