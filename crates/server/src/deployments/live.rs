//! `GET /api/deployments/events`: the deployment list as a live Server-Sent Events stream. It
//! starts with a `snapshot` of every deployment the caller may see, then sends `upsert` and
//! `delete` events as the watch caches change (a deployment or one of its pods), and a fresh
//! `snapshot` whenever a cache was re-listed or the stream fell behind.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use kubeairunway_api::ModelDeployment;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};

use super::cached;
use super::status::{self, DeploymentStatus};
use crate::auth::{Caller, Resource, Visible};
use crate::cache::{Caches, Change, Kind};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, validate_namespace};
use crate::state::AppState;

/// Changes arriving within this window are sent together (a rollout touches many pods).
const COALESCE: Duration = Duration::from_millis(100);

/// Query of the event stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Only this namespace; every namespace the caller may list when omitted.
    namespace: Option<String>,
}

/// The data of one event (the SSE event name says which variant it is).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LiveEvent<'a> {
    /// `snapshot`: every deployment in scope, newest first.
    Snapshot {
        /// The deployments.
        deployments: Vec<DeploymentStatus<'a>>,
    },
    /// `upsert`: a deployment was added or changed.
    Upsert {
        /// Its current status (boxed: a status is much larger than a deletion).
        deployment: Box<DeploymentStatus<'a>>,
    },
    /// `delete`: a deployment is gone.
    Delete {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

/// Which deployments a stream covers.
enum Scope {
    /// One namespace (checked once when the stream starts).
    Namespace(String),
    /// The namespaces the caller may list: decided for the namespaces present at each
    /// snapshot, and asked once for a namespace that shows up later.
    Visible {
        /// What the caller may list, as decided so far.
        visible: Visible,
        /// Namespaces checked and refused.
        denied: BTreeSet<String>,
    },
}

impl Scope {
    /// Whether the stream covers `namespace` (for the caller: a cached access review).
    async fn covers(&mut self, caller: &Caller, namespace: &str) -> bool {
        match self {
            Scope::Namespace(ns) => ns == namespace,
            Scope::Visible { visible, denied } => {
                if visible.contains(namespace) {
                    return true;
                }
                if denied.contains(namespace) {
                    return false;
                }
                let allowed = caller
                    .can("list", Resource::DEPLOYMENTS, Some(namespace))
                    .await;
                match (allowed, visible) {
                    (true, Visible::Only(set)) => {
                        set.insert(namespace.to_string());
                    }
                    (true, Visible::All) => {}
                    (false, _) => {
                        denied.insert(namespace.to_string());
                    }
                }
                allowed
            }
        }
    }

    /// Whether `namespace` is covered, from what is decided already (no review).
    fn decided(&self, namespace: &str) -> bool {
        match self {
            Scope::Namespace(ns) => ns == namespace,
            Scope::Visible { visible, .. } => visible.contains(namespace),
        }
    }
}

/// Streams the deployment list: `event: snapshot` first (`{deployments}`), then `event: upsert`
/// (`{deployment}`) and `event: delete` (`{namespace, name}`) within a second of each change,
/// with keep-alive comments every 15 s.
#[utoipa::path(get, path = "/api/deployments/events", tag = super::TAG, params(EventsQuery),
    responses(
        (status = 200, description = "text/event-stream of snapshot, upsert and delete events",
            body = LiveEvent<'_>, content_type = "text/event-stream"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Response> {
    if let Some(ns) = &query.namespace {
        validate_namespace(ns)?;
    }
    let caches = state.caches()?.clone();
    caches.ready(Kind::Deployments).await?;
    caches.ready(Kind::Pods).await?;
    if let Some(ns) = &query.namespace {
        caller
            .require("list", Resource::DEPLOYMENTS, Some(ns))
            .await?;
    }
    // Subscribe before the first snapshot so no change falls between the two.
    let mut changes = caches.subscribe();
    let namespace = query.namespace;
    let stream = async_stream::stream! {
        let mut known: HashSet<(String, String)> = HashSet::new();
        let (mut scope, first) = snapshot(&caches, &caller, namespace.as_deref(), &mut known).await;
        yield Ok::<_, std::convert::Infallible>(first);
        loop {
            let mut pending: BTreeSet<(String, String)> = BTreeSet::new();
            let mut reset = false;
            match changes.recv().await {
                Ok(Change::Deployment { namespace, name }) => {
                    pending.insert((namespace, name));
                }
                Ok(Change::Reset) | Err(RecvError::Lagged(_)) => reset = true,
                Err(RecvError::Closed) => break,
            }
            // Gather what else arrives shortly, so a burst becomes one batch.
            let deadline = tokio::time::Instant::now() + COALESCE;
            while !reset {
                match tokio::time::timeout_at(deadline, changes.recv()).await {
                    Ok(Ok(Change::Deployment { namespace, name })) => {
                        pending.insert((namespace, name));
                    }
                    Ok(Ok(Change::Reset) | Err(RecvError::Lagged(_))) => reset = true,
                    Ok(Err(RecvError::Closed)) | Err(_) => break,
                }
            }
            if reset {
                let (new_scope, event) = snapshot(&caches, &caller, namespace.as_deref(), &mut known).await;
                scope = new_scope;
                yield Ok(event);
                continue;
            }
            for event in deltas(&caches, &caller, &mut scope, pending, &mut known).await {
                yield Ok(event);
            }
        }
    };
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// A `snapshot` event of every deployment in scope; `known` becomes exactly those.
async fn snapshot(
    caches: &Caches,
    caller: &Caller,
    namespace: Option<&str>,
    known: &mut HashSet<(String, String)>,
) -> (Scope, Event) {
    let all = caches.deployments.state();
    let scope = match namespace {
        Some(ns) => Scope::Namespace(ns.to_string()),
        None => Scope::Visible {
            visible: caller
                .visible(
                    Resource::DEPLOYMENTS,
                    all.iter().filter_map(|md| md.metadata.namespace.as_deref()),
                )
                .await,
            denied: BTreeSet::new(),
        },
    };
    let mut items: Vec<Arc<ModelDeployment>> = all
        .into_iter()
        .filter(|md| scope.decided(md.metadata.namespace.as_deref().unwrap_or_default()))
        .collect();
    items.sort_unstable_by(|a, b| status::newest_first(a, b));
    known.clear();
    known.extend(items.iter().map(|md| key(md)));
    let pods = caches.pods.state();
    let deployments = status::statuses(caller, &items, &pods).await;
    let event = encode("snapshot", &LiveEvent::Snapshot { deployments });
    (scope, event)
}

/// `upsert` and `delete` events for the changed deployments in scope.
async fn deltas(
    caches: &Caches,
    caller: &Caller,
    scope: &mut Scope,
    changed: BTreeSet<(String, String)>,
    known: &mut HashSet<(String, String)>,
) -> Vec<Event> {
    let mut present = Vec::new();
    let mut events = Vec::new();
    for (namespace, name) in changed {
        if !scope.covers(caller, &namespace).await {
            continue;
        }
        match cached(caches, &namespace, &name) {
            Some(md) => present.push(md),
            // Pods of unknown deployments change too: only report what the client has seen.
            None => {
                let key = (namespace, name);
                if known.remove(&key) {
                    let (namespace, name) = key;
                    events.push(encode("delete", &LiveEvent::Delete { namespace, name }));
                }
            }
        }
    }
    if !present.is_empty() {
        let pods = caches.pods.state();
        for deployment in status::statuses(caller, &present, &pods).await {
            known.insert((
                deployment.namespace.to_string(),
                deployment.name.to_string(),
            ));
            events.push(encode(
                "upsert",
                &LiveEvent::Upsert {
                    deployment: Box::new(deployment),
                },
            ));
        }
    }
    events
}

fn key(md: &ModelDeployment) -> (String, String) {
    (
        md.metadata.namespace.clone().unwrap_or_default(),
        md.metadata.name.clone().unwrap_or_default(),
    )
}

/// An SSE event named `name` with `data` as JSON.
fn encode(name: &str, data: &LiveEvent<'_>) -> Event {
    match Event::default().event(name).json_data(data) {
        Ok(event) => event,
        Err(e) => Event::default()
            .event("error")
            .data(format!("could not encode the {name} event: {e}")),
    }
}
