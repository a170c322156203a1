//! `GET /api/activity`: the activity Events, newest first, filtered and paged, showing the
//! caller only what it may see.
//!
//! Served by a labelled list made with the server's identity on each request rather than a watch
//! cache: a change is listed the moment its answer went out (the recorder waits for its Event),
//! the server does not hold or re-list every Event of the cluster, and the API server's
//! `--event-ttl` bounds what a list returns. The page is rarely read, so the round trip is cheap.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::State;
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::record::{Action, Outcome};
use super::{
    ANNOTATION_GROUPS, ANNOTATION_STATUS, ANNOTATION_USER, LABEL, LABEL_ACTION, LABEL_DEPLOYMENT,
    LABEL_OUTCOME, LABEL_SCOPE,
};
use crate::auth::{Caller, Resource, Visible};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{
    ApiQuery, parse_number, truncate, validate_deployment_name, validate_namespace,
};
use crate::state::AppState;

/// Default page size.
const DEFAULT_LIMIT: usize = 50;
/// Largest page.
const MAX_LIMIT: usize = 200;
/// Events asked for per list call.
const LIST_PAGE: u32 = 500;
/// The most Events one answer reads (10 list calls); older ones are left out.
const MAX_EVENTS: usize = 5000;
/// Longest user name accepted as a filter.
const MAX_USER: usize = 256;

/// Query of `GET /api/activity`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActivityQuery {
    /// Only changes of objects in this namespace (403 unless the caller may list
    /// ModelDeployments there).
    namespace: Option<String>,
    /// Only changes of this ModelDeployment (with `namespace`, of that namespace's).
    deployment: Option<String>,
    /// Only changes made by this Kubernetes user (exact name).
    user: Option<String>,
    /// Only this action.
    #[param(value_type = Option<Action>)]
    action: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Entries to skip, ≥ 0 (default 0).
    #[param(value_type = Option<u32>, minimum = 0)]
    offset: Option<String>,
}

/// The object a change was about.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityObject {
    /// `ModelDeployment`, `ConfigMap`, `Secret`, `InferenceProviderConfig`, `Namespace`,
    /// `Deployment`.
    pub kind: String,
    /// Its API version.
    pub api_version: String,
    /// Its namespace (absent for cluster-scoped objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

/// One recorded change.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    /// When it was recorded (RFC 3339).
    pub time: String,
    /// The caller's Kubernetes user name (`anonymous (auth off)` without authentication).
    pub user: String,
    /// The caller's Kubernetes groups.
    pub groups: Vec<String>,
    /// What was done.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status the API answered (a finished job's: 200 or 500).
    pub status_code: u16,
    /// `Normal` (succeeded) or `Warning` (refused or failed).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The Event's reason (`Created`, `Scaled`, `Forbidden`, …).
    pub reason: String,
    /// The Event's note: who did what, and why it failed.
    pub message: String,
    /// The object.
    pub object: ActivityObject,
    /// The ModelDeployment, when the change was about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

/// `GET /api/activity` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    /// This page, newest first.
    pub items: Vec<ActivityEntry>,
    /// Entries matching the filters that the caller may see.
    pub total: usize,
    /// The page size.
    pub limit: usize,
    /// Entries skipped.
    pub offset: usize,
}

/// The filters of a request, validated.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filters {
    namespace: Option<String>,
    deployment: Option<String>,
    user: Option<String>,
    action: Option<Action>,
    limit: usize,
    offset: usize,
}

impl Filters {
    fn parse(q: &ActivityQuery) -> ApiResult<Self> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let namespace = given(&q.namespace);
        if let Some(ns) = &namespace {
            validate_namespace(ns)?;
        }
        let deployment = given(&q.deployment);
        if let Some(name) = &deployment {
            validate_deployment_name(name)?;
        }
        let user = given(&q.user);
        if let Some(u) = &user
            && (u.chars().count() > MAX_USER || u.chars().any(char::is_control))
        {
            return Err(ApiError::bad_request(format!(
                "Invalid user \"{}\": must be a Kubernetes user name of at most {MAX_USER} characters",
                truncate(u)
            )));
        }
        let action = match given(&q.action) {
            None => None,
            Some(a) => Some(Action::parse(&a).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid action \"{}\": must be one of {}",
                    truncate(&a),
                    Action::ALL.map(Action::as_str).join(", ")
                ))
            })?),
        };
        let number = |name: &str, v: &Option<String>, min: usize, max: usize, default: usize| {
            parse_number(name, v.as_deref(), min, max).map(|n| n.unwrap_or(default))
        };
        Ok(Self {
            namespace,
            deployment,
            user,
            action,
            limit: number("limit", &q.limit, 1, MAX_LIMIT, DEFAULT_LIMIT)?,
            offset: number("offset", &q.offset, 0, usize::MAX, 0)?,
        })
    }

    /// The label selector the API server filters with.
    fn selector(&self) -> String {
        let mut s = format!("{LABEL}=true");
        if let Some(a) = self.action {
            s.push_str(&format!(",{LABEL_ACTION}={}", a.as_str()));
        }
        if let Some(d) = &self.deployment {
            s.push_str(&format!(",{LABEL_DEPLOYMENT}={d}"));
        }
        s
    }

    fn keeps(&self, entry: &Listed) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| entry.entry.object.namespace.as_ref() == Some(ns))
            && self
                .deployment
                .as_ref()
                .is_none_or(|d| entry.entry.deployment.as_ref() == Some(d))
            && self.user.as_ref().is_none_or(|u| &entry.entry.user == u)
            && self.action.is_none_or(|a| entry.entry.action == a)
    }
}

/// An entry with what deciding its visibility needs.
struct Listed {
    entry: ActivityEntry,
    /// `None`: namespace-scoped; `Some`: the resource to read.
    cluster: Option<Resource>,
    sort_key: (i128, String),
}

/// Recent changes made through the API, newest first: who (Kubernetes user and groups), what,
/// on which object, when and how it ended. The caller sees the entries of namespaces where it
/// may list ModelDeployments, and cluster-level entries (settings, installs, the HuggingFace
/// token) only where it may read the object. Kept as long as the cluster keeps Events
/// (`--event-ttl`, 1 h by default).
#[utoipa::path(get, path = "/api/activity", operation_id = "list_activity", tag = super::TAG, params(ActivityQuery),
    responses(
        (status = 200, body = ActivityList),
        (status = 400, description = "Bad namespace, deployment, user, action, limit or offset", body = ErrorBody),
        (status = 403, description = "The caller may not list deployments in the namespace (or the server's identity may not list Events)", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<ActivityList>> {
    let filters = Filters::parse(&query)?;
    // As the deployments list: naming a namespace the caller may not list in is a 403.
    if let Some(ns) = &filters.namespace {
        caller
            .require("list", Resource::DEPLOYMENTS, Some(ns))
            .await?;
    }
    let client = state.kube()?.client.clone();
    let events = list_events(client, &filters).await?;
    let mut listed: Vec<Listed> = events
        .iter()
        .filter_map(entry_of)
        .filter(|e| filters.keeps(e))
        .collect();
    let visible = visible_entries(&caller, &listed).await;
    let mut index = 0;
    listed.retain(|_| {
        index += 1;
        visible[index - 1]
    });
    listed.sort_by(|a, b| b.sort_key.cmp(&a.sort_key));
    let total = listed.len();
    let items = listed
        .into_iter()
        .skip(filters.offset)
        .take(filters.limit)
        .map(|l| l.entry)
        .collect();
    Ok(Json(ActivityList {
        items,
        total,
        limit: filters.limit,
        offset: filters.offset,
    }))
}

/// The labelled Events (of one namespace when the filter names it), at most [`MAX_EVENTS`].
async fn list_events(client: Client, filters: &Filters) -> ApiResult<Vec<Event>> {
    let api: Api<Event> = match &filters.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut params = ListParams::default()
        .labels(&filters.selector())
        .limit(LIST_PAGE);
    let mut out = Vec::new();
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| ApiError::kube("Failed to list the activity Events", e))?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() && out.len() < MAX_EVENTS => {
                params = params.continue_token(&token);
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Whether the caller may see each of `listed`, in order.
async fn visible_entries(caller: &Caller, listed: &[Listed]) -> Vec<bool> {
    let namespaces: BTreeSet<&str> = listed
        .iter()
        .filter(|l| l.cluster.is_none())
        .filter_map(|l| l.entry.object.namespace.as_deref())
        .collect();
    let deployments = if namespaces.is_empty() {
        Visible::Only(BTreeSet::new())
    } else {
        caller
            .visible(Resource::DEPLOYMENTS, namespaces.iter().copied())
            .await
    };
    let mut readable: HashMap<(Resource, Option<String>), bool> = HashMap::new();
    let mut out = Vec::with_capacity(listed.len());
    for l in listed {
        let ns = l.entry.object.namespace.clone();
        let ok = match l.cluster {
            None => ns.as_deref().is_some_and(|ns| deployments.contains(ns)),
            Some(resource) => {
                let key = (resource, ns.clone());
                match readable.get(&key) {
                    Some(ok) => *ok,
                    None => {
                        let ok = caller.can("get", resource, ns.as_deref()).await;
                        readable.insert(key, ok);
                        ok
                    }
                }
            }
        };
        out.push(ok);
    }
    out
}

/// The resource a caller must be able to read to see a cluster-level entry about `kind`.
fn resource_of(kind: &str) -> Option<Resource> {
    let core = |resource| Resource {
        group: "",
        resource,
    };
    match kind {
        "ConfigMap" => Some(core("configmaps")),
        "Secret" => Some(core("secrets")),
        "Namespace" => Some(core("namespaces")),
        "InferenceProviderConfig" => Some(Resource::PROVIDERS),
        _ => None,
    }
}

/// The entry an activity Event records; `None` for Events this server did not write whole.
fn entry_of(event: &Event) -> Option<Listed> {
    let labels = event.metadata.labels.as_ref()?;
    let annotations = event.metadata.annotations.as_ref()?;
    let action = Action::parse(labels.get(LABEL_ACTION)?)?;
    let outcome = Outcome::parse(labels.get(LABEL_OUTCOME)?)?;
    let regarding = event.regarding.as_ref()?;
    let kind = regarding.kind.clone()?;
    let cluster = match labels.get(LABEL_SCOPE).map(String::as_str) {
        Some("namespace") => None,
        // An unknown kind at the cluster scope is shown to nobody but the unrestricted.
        _ => Some(resource_of(&kind).unwrap_or(Resource {
            group: "kubeairunway.ai",
            resource: "activity-unknown",
        })),
    };
    let time = event
        .event_time
        .as_ref()
        .map(|t| t.0)
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))?;
    let groups = annotations
        .get(ANNOTATION_GROUPS)
        .and_then(|g| serde_json::from_str::<Vec<String>>(g).ok())
        .unwrap_or_default();
    let entry = ActivityEntry {
        time: time.to_string(),
        user: annotations.get(ANNOTATION_USER)?.clone(),
        groups,
        action,
        outcome,
        status_code: annotations
            .get(ANNOTATION_STATUS)
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
        event_type: event.type_.clone().unwrap_or_default(),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.note.clone().unwrap_or_default(),
        object: ActivityObject {
            kind,
            api_version: regarding.api_version.clone().unwrap_or_default(),
            namespace: regarding.namespace.clone(),
            name: regarding.name.clone().unwrap_or_default(),
        },
        deployment: labels.get(LABEL_DEPLOYMENT).cloned(),
    };
    Some(Listed {
        entry,
        cluster,
        sort_key: (
            time.as_nanosecond(),
            event.metadata.name.clone().unwrap_or_default(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ActivityQuery {
        let text = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let uri: axum::http::Uri = format!("/?{text}").parse().expect("uri");
        axum::extract::Query::<ActivityQuery>::try_from_uri(&uri)
            .expect("query")
            .0
    }

    #[test]
    fn filters_are_validated() {
        let ok = Filters::parse(&query(&[
            ("namespace", "team-a"),
            ("deployment", "qwen"),
            ("user", "alice"),
            ("action", "Scale"),
            ("limit", "10"),
            ("offset", "20"),
        ]))
        .expect("valid");
        assert_eq!(ok.action, Some(Action::Scale));
        assert_eq!((ok.limit, ok.offset), (10, 20));
        assert_eq!(
            ok.selector(),
            "kubeairunway.ai/activity=true,kubeairunway.ai/activity-action=Scale,kubeairunway.ai/activity-deployment=qwen"
        );
        let defaults = Filters::parse(&query(&[])).expect("valid");
        assert_eq!((defaults.limit, defaults.offset), (DEFAULT_LIMIT, 0));
        for bad in [
            ("namespace", "Team_A"),
            ("deployment", "1abc"),
            ("action", "scale"),
            ("action", "Explode"),
            ("limit", "0"),
            ("limit", "201"),
            ("limit", "x"),
            ("offset", "-1"),
            ("user", "a%0Ab"),
        ] {
            let err = Filters::parse(&query(&[bad])).expect_err(bad.0);
            assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn events_missing_the_activity_data_are_skipped() {
        assert!(entry_of(&Event::default()).is_none());
    }
}
