//! Watch-backed caches of everything the API reads often: ModelDeployments, provider configs,
//! nodes, non-terminated pods and the settings ConfigMap. Requests read these in memory, so a
//! list call costs no API-server round trip, and the watches tell at once when the API server
//! is gone, so requests answer 503 within a second instead of retrying for seconds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource, ResourceExt};
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use crate::error::ApiError;

/// Namespace and name of the settings ConfigMap (fixed by the contract).
pub const SETTINGS_NAMESPACE: &str = "kubeairunway-system";
/// Name of the settings ConfigMap.
pub const SETTINGS_CONFIG_MAP: &str = "kubeairunway-config";

/// How long a request waits for a cache that has not finished its first list.
const READY_WAIT: Duration = Duration::from_millis(800);
/// How often a failing watch checks whether the API server answers again.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// Watch restarts back off up to this long, so a restarted API server is seen within seconds.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The kinds the server caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `ModelDeployment`s in every namespace.
    Deployments,
    /// Cluster-scoped `InferenceProviderConfig`s.
    Providers,
    /// Nodes.
    Nodes,
    /// Pods that are not `Succeeded` or `Failed`, in every namespace.
    Pods,
    /// The settings ConfigMap.
    Settings,
}

impl Kind {
    /// Every cached kind.
    pub const ALL: [Kind; 5] = [
        Kind::Deployments,
        Kind::Providers,
        Kind::Nodes,
        Kind::Pods,
        Kind::Settings,
    ];

    fn describe(self) -> &'static str {
        match self {
            Kind::Deployments => "ModelDeployments",
            Kind::Providers => "InferenceProviderConfigs",
            Kind::Nodes => "nodes",
            Kind::Pods => "pods",
            Kind::Settings => "settings",
        }
    }
}

/// A change that live views (the deployment event stream) react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Something about this deployment (the object or one of its pods) changed.
    Deployment {
        /// Namespace of the ModelDeployment.
        namespace: String,
        /// Name of the ModelDeployment.
        name: String,
    },
    /// A cache was re-listed: views should be rebuilt from scratch.
    Reset,
}

/// Connection state of one watch.
#[derive(Clone, Debug)]
enum Health {
    /// No list has finished yet.
    Starting,
    /// The last list or watch event succeeded.
    Synced,
    /// The resource does not exist on the server (CRD not installed).
    Missing,
    /// The last attempt failed; the message says why.
    Failing(String),
}

#[derive(Debug)]
struct HealthCell {
    state: Mutex<(Health, Option<Instant>)>,
    notify: tokio::sync::Notify,
    /// Set once the first full list reached the store (or the resource proved missing): from
    /// then on requests are answered from data, not with "still loading". Readiness uses it.
    loaded: std::sync::atomic::AtomicBool,
}

impl HealthCell {
    fn new() -> Self {
        Self {
            state: Mutex::new((Health::Starting, None)),
            notify: tokio::sync::Notify::new(),
            loaded: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn mark_loaded(&self) {
        self.loaded.store(true, Ordering::Release);
    }

    fn set(&self, health: Health) {
        if let Ok(mut s) = self.state.lock() {
            let synced = matches!(health, Health::Synced);
            s.0 = health;
            if synced {
                s.1 = Some(Instant::now());
            }
        }
        self.notify.notify_waiters();
    }

    fn get(&self) -> Health {
        self.state
            .lock()
            .map(|s| s.0.clone())
            .unwrap_or(Health::Starting)
    }
}

/// The shared caches of one server.
#[derive(Clone)]
pub struct Caches {
    /// ModelDeployments of every namespace.
    pub deployments: Store<ModelDeployment>,
    /// InferenceProviderConfigs.
    pub providers: Store<InferenceProviderConfig>,
    /// Nodes.
    pub nodes: Store<Node>,
    /// Non-terminated pods of every namespace.
    pub pods: Store<Pod>,
    /// The settings ConfigMap (zero or one object).
    pub settings: Store<ConfigMap>,
    health: Arc<HashMap<Kind, HealthCell>>,
    changes: broadcast::Sender<Change>,
    /// Bumped after every change any watch applied to its store.
    generation: Arc<AtomicU64>,
}

impl Caches {
    /// Starts the watches in the background with `client` (the backend's own identity).
    pub fn start(client: &Client) -> Self {
        let health: Arc<HashMap<Kind, HealthCell>> = Arc::new(
            Kind::ALL
                .into_iter()
                .map(|k| (k, HealthCell::new()))
                .collect(),
        );
        let (changes, _) = broadcast::channel(1024);
        let generation = Arc::new(AtomicU64::new(0));

        let deployments = spawn_watch(
            Kind::Deployments,
            Api::<ModelDeployment>::all(client.clone()),
            watcher::Config::default().any_semantic(),
            health.clone(),
            changes.clone(),
            generation.clone(),
            |md: &ModelDeployment| {
                Some(Change::Deployment {
                    namespace: md.namespace().unwrap_or_default(),
                    name: md.name_any(),
                })
            },
        );
        let providers = spawn_watch(
            Kind::Providers,
            Api::<InferenceProviderConfig>::all(client.clone()),
            watcher::Config::default().any_semantic(),
            health.clone(),
            changes.clone(),
            generation.clone(),
            |_: &InferenceProviderConfig| None,
        );
        let nodes = spawn_watch(
            Kind::Nodes,
            Api::<Node>::all(client.clone()),
            watcher::Config::default().any_semantic(),
            health.clone(),
            changes.clone(),
            generation.clone(),
            |_: &Node| None,
        );
        let pods = spawn_watch(
            Kind::Pods,
            Api::<Pod>::all(client.clone()),
            watcher::Config::default()
                .any_semantic()
                .fields("status.phase!=Succeeded,status.phase!=Failed"),
            health.clone(),
            changes.clone(),
            generation.clone(),
            |pod: &Pod| {
                let namespace = pod.namespace().unwrap_or_default();
                crate::pods::deployment_of(pod).map(|name| Change::Deployment { namespace, name })
            },
        );
        let settings = spawn_watch(
            Kind::Settings,
            Api::<ConfigMap>::namespaced(client.clone(), SETTINGS_NAMESPACE),
            watcher::Config::default()
                .any_semantic()
                .fields(&format!("metadata.name={SETTINGS_CONFIG_MAP}")),
            health.clone(),
            changes.clone(),
            generation.clone(),
            |_: &ConfigMap| None,
        );
        Self {
            deployments,
            providers,
            nodes,
            pods,
            settings,
            health,
            changes,
            generation,
        }
    }

    /// A number that changes whenever any cache changed; derived views compare it to know
    /// whether they are current. Read it *before* reading the stores.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Ok when `kind` is synced. Waits briefly for a first list; answers 503 at once while the
    /// API server is unreachable, and 503 naming the CRD when the resource does not exist.
    pub async fn ready(&self, kind: Kind) -> Result<(), ApiError> {
        let Some(cell) = self.health.get(&kind) else {
            return Err(ApiError::unavailable("unknown cache"));
        };
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        loop {
            let notified = cell.notify.notified();
            match cell.get() {
                Health::Synced => return Ok(()),
                Health::Missing => {
                    return Err(ApiError::unavailable(format!(
                        "the {} resource is not installed in the cluster; install the CRDs with `kubeairunway crds --install`",
                        kind.describe()
                    )));
                }
                Health::Failing(reason) => {
                    return Err(ApiError::unavailable(format!(
                        "the Kubernetes API server is unreachable: {reason}"
                    )));
                }
                Health::Starting => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(ApiError::unavailable(format!(
                            "still loading {} from the Kubernetes API server; retry shortly",
                            kind.describe()
                        )));
                    }
                }
            }
        }
    }

    /// Whether `kind` is synced right now (no waiting).
    pub fn is_synced(&self, kind: Kind) -> bool {
        self.health
            .get(&kind)
            .is_some_and(|c| matches!(c.get(), Health::Synced))
    }

    /// Whether the resource of `kind` is known not to exist (its CRD is not installed).
    pub fn is_missing(&self, kind: Kind) -> bool {
        self.health
            .get(&kind)
            .is_some_and(|c| matches!(c.get(), Health::Missing))
    }

    /// The caches that have not loaded yet: no first full list has reached them and their
    /// resource is not known to be missing. Empty once the server can answer every read from
    /// memory, which is what its readiness reports (`GET /api/health/ready`). A watch that
    /// fails later does not bring a cache back here: its routes answer 503 with the reason
    /// themselves, and every replica would fail alike, so taking them all out of a Service
    /// would only hide those answers.
    pub fn not_loaded(&self) -> Vec<&'static str> {
        Kind::ALL
            .into_iter()
            .filter(|k| {
                self.health
                    .get(k)
                    .is_none_or(|c| !c.loaded.load(Ordering::Acquire))
            })
            .map(Kind::describe)
            .collect()
    }

    /// Subscribes to changes of deployments and their pods.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

/// A value computed from the caches and kept until they change: views that many requests need
/// (a sorted list, an index) are built once per [`Caches::generation`] instead of once per
/// request. Its owner decides what it holds; the caches know nothing of it.
pub struct Derived<T> {
    slot: Mutex<Option<(u64, Arc<T>)>>,
}

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }
}

impl<T> Derived<T> {
    /// The value for the caches' current generation, built with `build` when the kept one is
    /// older.
    pub fn get(&self, caches: &Caches, build: impl FnOnce(&Caches) -> T) -> Arc<T> {
        // The generation is read before the stores, so a value is never labelled newer than the
        // data it was built from.
        let generation = caches.generation();
        if let Ok(slot) = self.slot.lock()
            && let Some((built, value)) = slot.as_ref()
            && *built == generation
        {
            return value.clone();
        }
        let value = Arc::new(build(caches));
        if let Ok(mut slot) = self.slot.lock() {
            // Keep the newest: a slower request must not replace a fresher value.
            if slot.as_ref().is_none_or(|(built, _)| *built <= generation) {
                *slot = Some((generation, value.clone()));
            }
        }
        value
    }
}

/// A capped exponential backoff (200 ms doubling to [`MAX_BACKOFF`]).
struct CappedBackoff {
    next: Duration,
}

impl Iterator for CappedBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        Some(current)
    }
}

impl Backoff for CappedBackoff {
    fn reset(&mut self) {
        self.next = Duration::from_millis(200);
    }
}

/// Runs a reflector for `api` in the background and keeps `health[kind]` current.
fn spawn_watch<K, F>(
    kind: Kind,
    api: Api<K>,
    config: watcher::Config,
    health: Arc<HashMap<Kind, HealthCell>>,
    changes: broadcast::Sender<Change>,
    generation: Arc<AtomicU64>,
    change_of: F,
) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    F: Fn(&K) -> Option<Change> + Send + 'static,
{
    let (reader, mut writer) = reflector::store();
    let probe_api = api.clone();
    let probe_params = kube::api::ListParams {
        label_selector: config.label_selector.clone(),
        field_selector: config.field_selector.clone(),
        limit: Some(1),
        ..Default::default()
    };
    // A fresh watcher starts with a full list, which the store takes in whole at `InitDone`.
    let fresh = move || {
        watcher::watcher(api.clone(), config.clone())
            .backoff(CappedBackoff {
                next: Duration::from_millis(200),
            })
            .modify(|obj| {
                obj.managed_fields_mut().clear();
            })
            .boxed()
    };
    tokio::spawn(async move {
        let mut stream = fresh();
        let Some(cell) = health.get(&kind) else {
            return;
        };
        let mut probe = tokio::time::interval(PROBE_EVERY);
        probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Set while a fresh list started by the probe is on its way.
        let mut relisting = false;
        loop {
            let failing = matches!(cell.get(), Health::Failing(_));
            let event = tokio::select! {
                event = stream.next() => event,
                _ = probe.tick(), if failing && !relisting => {
                    // The watcher resumes a broken watch without emitting anything, so a
                    // quiet resource would look broken forever. But the API server answering
                    // again does not make the store current: what changed during the outage
                    // is not in it yet. So list afresh and stay failing (503) until that list
                    // is in, rather than serve the state from before the outage.
                    if probe_api.list_metadata(&probe_params).await.is_ok() {
                        stream = fresh();
                        relisting = true;
                    }
                    continue;
                }
            };
            let Some(event) = event else { break };
            if let Ok(event) = &event {
                writer.apply_watcher_event(event);
            }
            match event {
                Ok(Event::InitDone) => {
                    relisting = false;
                    generation.fetch_add(1, Ordering::Release);
                    cell.mark_loaded();
                    cell.set(Health::Synced);
                    let _ = changes.send(Change::Reset);
                }
                Ok(Event::Apply(obj) | Event::Delete(obj)) => {
                    generation.fetch_add(1, Ordering::Release);
                    cell.set(Health::Synced);
                    if let Some(change) = change_of(&obj) {
                        let _ = changes.send(change);
                    }
                }
                Ok(Event::Init | Event::InitApply(_)) => {}
                Err(err) => {
                    relisting = false;
                    tracing::debug!(kind = ?kind, error = %err, "watch failed");
                    match health_after(&err) {
                        Some(Health::Missing) => {
                            cell.mark_loaded();
                            cell.set(Health::Missing);
                        }
                        Some(health) => cell.set(health),
                        // Busy, not broken: the watcher retries, and whatever was known stands.
                        None => {}
                    }
                }
            }
        }
    });
    reader
}

/// What a watch error says of the cache: the resource is missing (404), the API server is
/// failing, or nothing (`None`) when it answered 429 — it asks clients to come back, as it does
/// while a resource's storage (re)initializes after its CRD is created or changed, and telling
/// callers "unreachable" then was wrong (a 503 seen in CI right after the CRDs were installed).
fn health_after(err: &watcher::Error) -> Option<Health> {
    match err {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
            if s.code == 429 =>
        {
            None
        }
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
            if s.code == 404 =>
        {
            Some(Health::Missing)
        }
        other => Some(Health::Failing(short_reason(other))),
    }
}

fn short_reason(err: &watcher::Error) -> String {
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => crate::error::describe_kube_error(e).1,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure("test", "Test").with_code(code),
        ))
    }

    #[test]
    fn busy_api_servers_leave_the_health_alone_and_failures_change_it() {
        for err in [
            watcher::Error::InitialListFailed(api(429)),
            watcher::Error::WatchStartFailed(api(429)),
            watcher::Error::WatchFailed(api(429)),
        ] {
            assert!(health_after(&err).is_none(), "{err}");
        }
        assert!(matches!(
            health_after(&watcher::Error::InitialListFailed(api(404))),
            Some(Health::Missing)
        ));
        assert!(matches!(
            health_after(&watcher::Error::WatchFailed(api(500))),
            Some(Health::Failing(_))
        ));
        assert!(matches!(
            health_after(&watcher::Error::InitialListFailed(api(403))),
            Some(Health::Failing(_))
        ));
    }
}
