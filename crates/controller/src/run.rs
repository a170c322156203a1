//! Wiring: caches, the two controllers, registration and heartbeats, metrics and leader election.
//!
//! Every kind is watched once: one shared reflector per kind (ModelDeployments, the deployments'
//! pods, and the Deployments and Services the built-in provider owns) feeds both controllers and
//! the providers' reads, with `managedFields` stripped to keep the caches small.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::Api;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use kubeairunway_api::labels::DEPLOYMENT;
use kubeairunway_api::{InferenceProviderConfig, ModelDeployment};
use serde::de::DeserializeOwned;

use crate::context::{Context, Settings};
use crate::leader::{LeaderConfig, LeaderElector};
use crate::metrics::{self, Metrics};
use crate::provider_controller::{LiveObjects, ProviderContext};
use crate::{Error, Result, core_controller, provider_controller, registration};
use kubeairunway_core::providers::{self, Registry};

/// How many events a shared reflector buffers for a slow subscriber.
const SUBSCRIBER_BUFFER: usize = 1024;
/// Reconciles running at once per controller: enough to keep the API server busy, few enough
/// not to overload it.
const CONCURRENCY: u16 = 32;
/// Events for one object arriving within this window cause one reconcile.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// How `kubeairunway controller` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Names of the providers to run (`kaito`, `dynamo`, `kuberay`, `kubernetes`).
    pub providers: Vec<String>,
    /// Where to serve `/metrics`, `/healthz` and `/readyz`; `None` to not serve.
    pub metrics_addr: Option<SocketAddr>,
    /// Lease settings; `None` runs without leader election.
    pub leader: Option<LeaderConfig>,
    /// Timing knobs.
    pub settings: Settings,
    /// Name reported on Events.
    pub instance: String,
}

impl Options {
    /// A controller run inside another process (a test, a demo): no metrics listener, no leader
    /// election, [`Settings::quick`] timings, Events reported as `instance`.
    pub fn in_process(providers: &[&str], instance: impl Into<String>) -> Self {
        Self {
            providers: providers.iter().map(|p| p.to_string()).collect(),
            metrics_addr: None,
            leader: None,
            settings: Settings::quick(),
            instance: instance.into(),
        }
    }
}

/// Every provider name, in order.
pub fn all_providers() -> Vec<String> {
    providers::BUILT_IN.map(String::from).to_vec()
}

/// Runs the controller until `shutdown` completes, leadership is lost, or a fatal error.
pub async fn run(
    client: Client,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let providers = options
        .providers
        .iter()
        .map(|n| providers::built_in(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let registry = Registry::new(providers);
    let metrics = Arc::new(Metrics::default());
    let shutdown = shutdown.shared();
    let (md_reader, md_writer) = reflector::store_shared::<ModelDeployment>(SUBSCRIBER_BUFFER);

    if let Some(addr) = options.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Metrics { addr, source })?;
        let app = metrics::router(metrics.clone(), Some(md_reader.clone()));
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
    }

    if let Some(leader) = &options.leader {
        let elector = LeaderElector::new(client.clone(), leader.clone());
        // A replica that cannot reach the API server returns an error from `acquire` and exits,
        // so standing by here means the lease is held by another replica.
        metrics.set_standby();
        tokio::select! {
            r = elector.acquire() => r?,
            () = shutdown.clone() => return Ok(()),
        }
        metrics.set_loading();
        let work = run_leading(
            client,
            options.clone(),
            registry,
            metrics,
            (md_reader, md_writer),
            shutdown.clone(),
        );
        let result = tokio::select! {
            r = work => r,
            e = elector.hold() => return Err(e),
        };
        elector.release().await;
        result
    } else {
        run_leading(
            client,
            options,
            registry,
            metrics,
            (md_reader, md_writer),
            shutdown,
        )
        .await
    }
}

/// A shared, `managedFields`-free reflector of `K` (filtered by `wc`), polled in the background;
/// the deployments of deleted objects go to `deleted`.
fn shared_reflector<K>(
    api: Api<K>,
    wc: watcher::Config,
    (reader, writer): (Store<K>, reflector::store::Writer<K>),
    subscribers: usize,
    deleted: Option<Deleted>,
) -> (Store<K>, Vec<reflector::ReflectHandle<K>>)
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let handles = (0..subscribers)
        .filter_map(|_| writer.subscribe())
        .collect();
    let stream = watcher(api, wc)
        .default_backoff()
        .modify(|obj| obj.managed_fields_mut().clear())
        .reflect_shared(writer)
        .for_each(move |event| {
            if let (Some(deleted), Ok(watcher::Event::Delete(obj))) = (&deleted, &event)
                && let Some(owner) = owner_of(obj)
            {
                let _ = deleted.unbounded_send(owner);
            }
            async {}
        });
    tokio::spawn(stream);
    (reader, handles)
}

/// Where the shared reflectors of owned kinds report a deleted object's ModelDeployment: their
/// subscribers hear of objects applied, never of objects deleted, so without this an object
/// deleted by hand came back only at the deployment's next periodic resync (50 s for a Service).
type Deleted = futures::channel::mpsc::UnboundedSender<ObjectRef<ModelDeployment>>;

/// The ModelDeployment an object belongs to, by the label every provider object and pod carries.
fn owner_of<K: Resource>(obj: &K) -> Option<ObjectRef<ModelDeployment>> {
    let name = obj.labels().get(DEPLOYMENT)?;
    let r = ObjectRef::<ModelDeployment>::new(name);
    Some(match obj.namespace() {
        Some(ns) => r.within(&ns),
        None => r,
    })
}

async fn run_leading(
    client: Client,
    options: Options,
    registry: Registry,
    metrics: Arc<Metrics>,
    md_store: (
        Store<ModelDeployment>,
        reflector::store::Writer<ModelDeployment>,
    ),
    shutdown: futures::future::Shared<impl Future<Output = ()> + Send + 'static>,
) -> Result<()> {
    let ipc_api: Api<InferenceProviderConfig> = Api::all(client.clone());
    let (ipc_reader, ipc_writer) = reflector::store();
    let ipc_reflector = watcher(ipc_api.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(ipc_writer)
        .for_each(|_| async {});
    tokio::spawn(ipc_reflector);

    let md_api: Api<ModelDeployment> = Api::all(client.clone());
    let (md_reader, mut md_handles) = shared_reflector(
        md_api,
        watcher::Config::default().any_semantic(),
        md_store,
        2,
        None,
    );
    let (deleted, deletions) = futures::channel::mpsc::unbounded();
    let labelled = watcher::Config::default().labels(DEPLOYMENT);
    let (pods, mut pod_handles) = shared_reflector(
        Api::<Pod>::all(client.clone()),
        labelled.clone(),
        reflector::store_shared(SUBSCRIBER_BUFFER),
        1,
        Some(deleted.clone()),
    );
    let (deployments, mut deployment_handles) = shared_reflector(
        Api::<Deployment>::all(client.clone()),
        labelled.clone(),
        reflector::store_shared(SUBSCRIBER_BUFFER),
        1,
        Some(deleted.clone()),
    );
    let (services, mut service_handles) = shared_reflector(
        Api::<Service>::all(client.clone()),
        labelled,
        reflector::store_shared(SUBSCRIBER_BUFFER),
        1,
        Some(deleted),
    );
    let (
        Some(core_trigger),
        Some(provider_trigger),
        Some(pod_trigger),
        Some(deployment_trigger),
        Some(service_trigger),
    ) = (
        md_handles.pop(),
        md_handles.pop(),
        pod_handles.pop(),
        deployment_handles.pop(),
        service_handles.pop(),
    )
    else {
        return Err(Error::Invalid(
            "a shared reflector gave no subscriber".into(),
        ));
    };

    let reporter = Reporter {
        controller: "kubeairunway-controller".into(),
        instance: Some(options.instance.clone()),
    };
    let ctx = Arc::new(Context {
        client: client.clone(),
        providers: ipc_reader.clone(),
        rules: Default::default(),
        recorder: Recorder::new(client.clone(), reporter),
        metrics: metrics.clone(),
        settings: options.settings.clone(),
        last_written: Default::default(),
        crd_presence: Default::default(),
    });

    for p in registry.all() {
        registration::register(&client, p.as_ref()).await?;
        registration::heartbeat(&client, p.as_ref(), false).await?;
    }
    let _ = ipc_reader.wait_until_ready().await;
    let config = controller::Config::default()
        .concurrency(CONCURRENCY)
        .debounce(DEBOUNCE);

    // Core: every ModelDeployment; a provider registering or changing re-runs the ones waiting.
    let waiting = md_reader.clone();
    let core = Controller::for_shared_stream(core_trigger, md_reader.clone())
        .with_config(config.clone())
        .watches(
            ipc_api,
            watcher::Config::default(),
            move |_ipc: InferenceProviderConfig| {
                waiting
                    .state()
                    .into_iter()
                    .filter(|md| waiting_for_provider(md))
                    .map(|md| ObjectRef::from_obj(&*md))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown.clone())
        .run(
            core_controller::reconcile,
            error_policy("core"),
            ctx.clone(),
        )
        .for_each(|_| async {});

    // Providers: one controller dispatching to the selected provider; owned Deployments and
    // Services and the deployment's pods re-run it when they change or are deleted.
    let (live_pods, live_deployments, live_services) =
        (pods.clone(), deployments.clone(), services.clone());
    let live = LiveObjects {
        pods,
        deployments,
        services,
    };
    let pc = Arc::new(ProviderContext {
        ctx: ctx.clone(),
        registry: registry.clone(),
        live,
    });
    let providers = Controller::for_shared_stream(provider_trigger, md_reader.clone())
        .with_config(config)
        .owns_shared_stream(deployment_trigger)
        .owns_shared_stream(service_trigger)
        .watches_shared_stream(pod_trigger, |pod: Arc<Pod>| owner_of(pod.as_ref()))
        .reconcile_on(deletions)
        .graceful_shutdown_on(shutdown.clone())
        .run(provider_controller::reconcile, provider_error_policy, pc)
        .for_each(|_| async {});

    let heartbeats = heartbeat_loop(
        client.clone(),
        registry.clone(),
        options.settings.heartbeat,
        shutdown.clone(),
    );
    // Ready once every cache has loaded. The stores fill only while the controllers consume
    // their shared streams, so this waits beside them rather than before them.
    let caches_loaded = {
        let (md, pods, deployments, services) = (
            md_reader.clone(),
            live_pods,
            live_deployments,
            live_services,
        );
        let metrics = metrics.clone();
        async move {
            let loaded = tokio::try_join!(
                ipc_reader.wait_until_ready(),
                md.wait_until_ready(),
                pods.wait_until_ready(),
                deployments.wait_until_ready(),
                services.wait_until_ready(),
            );
            if loaded.is_ok() {
                metrics.set_ready();
                tracing::info!("every watch cache has loaded; ready");
            }
        }
    };
    tracing::info!(providers = ?options.providers, "controller running");
    tokio::join!(core, providers, heartbeats, caches_loaded);
    Ok(())
}

/// True for deployments whose provider is not chosen yet (or whose choice failed).
fn waiting_for_provider(md: &ModelDeployment) -> bool {
    md.status
        .as_ref()
        .and_then(|s| s.provider.as_ref())
        .and_then(|p| p.name.as_ref())
        .is_none()
        || md.status.as_ref().and_then(|s| s.phase)
            == Some(kubeairunway_api::DeploymentPhase::Pending)
}

/// Heartbeats every provider each `every`, and a provider at once when its upstream CRD is
/// created, becomes Established or is deleted, so installing or removing an operator shows in
/// `ready` within a second instead of a heartbeat period.
async fn heartbeat_loop(
    client: Client,
    registry: Registry,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let beat = async {
        loop {
            tokio::time::sleep(every).await;
            for p in registry.all() {
                if let Err(e) = registration::heartbeat(&client, p.as_ref(), false).await {
                    tracing::warn!(provider = p.name(), error = %e, "heartbeat failed");
                }
            }
        }
    };
    tokio::select! {
        () = beat => {},
        () = registration::follow_upstream_crds(&client, &registry) => {},
        () = shutdown => {
            for p in registry.all() {
                let _ = registration::heartbeat(&client, p.as_ref(), true).await;
            }
        }
    }
}

fn error_policy(
    controller: &'static str,
) -> impl Fn(Arc<ModelDeployment>, &Error, Arc<Context>) -> Action {
    move |md, error, ctx| {
        ctx.metrics.reconcile_error(controller);
        tracing::warn!(deployment = %md.name_any(), %error, "{controller} reconcile failed; retrying");
        Action::requeue(Duration::from_secs(5))
    }
}

fn provider_error_policy(
    md: Arc<ModelDeployment>,
    error: &Error,
    pc: Arc<ProviderContext>,
) -> Action {
    pc.ctx.metrics.reconcile_error("provider");
    tracing::warn!(deployment = %md.name_any(), %error, "provider reconcile failed; retrying");
    Action::requeue(Duration::from_secs(5))
}
