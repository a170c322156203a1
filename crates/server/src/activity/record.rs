//! Recording one change: who made it ([`Actor`]), what it was ([`Change`]: an [`Action`] on a
//! [`Target`]) and how it ended, as an `events.k8s.io/v1` Event on the affected object. A
//! failing Event write is logged and never changes the route's answer.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::StatusCode;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client};
use kubeairunway_install::jobs::Finish;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ANNOTATION_GROUPS, ANNOTATION_STATUS, ANNOTATION_USER, ANONYMOUS, LABEL, LABEL_ACTION,
    LABEL_DEPLOYMENT, LABEL_OUTCOME, LABEL_SCOPE, REPORTING_CONTROLLER,
};
use crate::auth::Caller;
use crate::cache::{SETTINGS_CONFIG_MAP, SETTINGS_NAMESPACE};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a route waits for its Event to be written: the answer waits for it (so the
/// activity list shows the change at once), but an API server slow to take Events must not
/// hold a change's answer for the full call deadline.
const WRITE_DEADLINE: Duration = Duration::from_secs(3);
/// Kubernetes refuses notes longer than 1 kB.
const NOTE_LIMIT: usize = 1000;
/// Namespace of the Events about cluster-scoped objects (the API server accepts them only in
/// `default` or `kube-system`).
const CLUSTER_EVENT_NAMESPACE: &str = "default";

/// What a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[schema(as = ActivityAction)]
pub enum Action {
    /// `POST /api/deployments`.
    Create,
    /// `PATCH /api/deployments/{name}`.
    Scale,
    /// `DELETE /api/deployments/{name}`.
    Delete,
    /// `PUT /api/settings`.
    UpdateSettings,
    /// A provider's charts or the GPU Operator installed.
    Install,
    /// A provider's charts uninstalled.
    Uninstall,
    /// A provider's CRDs and config removed.
    UninstallCrds,
    /// `POST /api/secrets/huggingface`.
    SaveToken,
    /// `DELETE /api/secrets/huggingface`.
    DeleteToken,
    /// `POST /api/aikit/build` (a build job).
    Build,
    /// `POST /api/aikit/infrastructure/setup`.
    SetupBuildInfrastructure,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 11] = [
        Action::Create,
        Action::Scale,
        Action::Delete,
        Action::UpdateSettings,
        Action::Install,
        Action::Uninstall,
        Action::UninstallCrds,
        Action::SaveToken,
        Action::DeleteToken,
        Action::Build,
        Action::SetupBuildInfrastructure,
    ];

    /// The name in Events, labels and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Scale => "Scale",
            Action::Delete => "Delete",
            Action::UpdateSettings => "UpdateSettings",
            Action::Install => "Install",
            Action::Uninstall => "Uninstall",
            Action::UninstallCrds => "UninstallCrds",
            Action::SaveToken => "SaveToken",
            Action::DeleteToken => "DeleteToken",
            Action::Build => "Build",
            Action::SetupBuildInfrastructure => "SetupBuildInfrastructure",
        }
    }

    /// The action named `s` exactly.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// "created", as in "alice created deployment qwen".
    fn past(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Scale => "scaled",
            Action::Delete | Action::DeleteToken => "deleted",
            Action::UpdateSettings => "updated",
            Action::Install => "installed",
            Action::Uninstall => "uninstalled",
            Action::UninstallCrds => "removed the CRDs and config of",
            Action::SaveToken => "saved",
            Action::Build => "built",
            Action::SetupBuildInfrastructure => "set up",
        }
    }

    /// "create", as in "alice tried to create deployment qwen".
    fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Scale => "scale",
            Action::Delete | Action::DeleteToken => "delete",
            Action::UpdateSettings => "update",
            Action::Install => "install",
            Action::Uninstall => "uninstall",
            Action::UninstallCrds => "remove the CRDs and config of",
            Action::SaveToken => "save",
            Action::Build => "build",
            Action::SetupBuildInfrastructure => "set up",
        }
    }

    /// The Event's reason when the change succeeded.
    fn reason(self) -> &'static str {
        match self {
            Action::Create => "Created",
            Action::Scale => "Scaled",
            Action::Delete => "Deleted",
            Action::UpdateSettings => "SettingsUpdated",
            Action::Install => "Installed",
            Action::Uninstall => "Uninstalled",
            Action::UninstallCrds => "CrdsRemoved",
            Action::SaveToken => "TokenSaved",
            Action::DeleteToken => "TokenDeleted",
            Action::Build => "ImageBuilt",
            Action::SetupBuildInfrastructure => "InfrastructureReady",
        }
    }
}

/// How a change ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ActivityOutcome)]
pub enum Outcome {
    /// It was made.
    Succeeded,
    /// Kubernetes RBAC (or the server's own access check) refused the caller.
    Refused,
    /// It was attempted and failed (invalid, conflicting, missing, or an error).
    Failed,
}

impl Outcome {
    /// The outcome an HTTP status stands for.
    pub fn of(status: StatusCode) -> Outcome {
        if status.is_success() {
            Outcome::Succeeded
        } else if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
            Outcome::Refused
        } else {
            Outcome::Failed
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    /// The outcome a label value names.
    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Succeeded, Outcome::Refused, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Who an entry is visible to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Whoever may list ModelDeployments in the object's namespace.
    Namespace,
    /// Whoever may read the object itself.
    Cluster,
}

impl Scope {
    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Namespace => "namespace",
            Scope::Cluster => "cluster",
        }
    }
}

/// The object a change was about: the `regarding` of its Event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A ModelDeployment.
    Deployment {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The settings ConfigMap.
    Settings,
    /// The HuggingFace token Secret (its primary copy, in the settings' default namespace).
    TokenSecret {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// An InferenceProviderConfig (cluster-scoped).
    Provider {
        /// Its name (the provider id).
        name: String,
    },
    /// A namespace (what a cluster-wide install creates).
    Namespace {
        /// Its name.
        name: String,
    },
    /// A workload the server manages (the AIKit builder Deployment).
    Workload {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Target {
    fn reference(&self) -> ObjectReference {
        let object =
            |api_version: &str, kind: &str, namespace: Option<&str>, name: &str| ObjectReference {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
                namespace: namespace.map(Into::into),
                name: Some(name.into()),
                ..Default::default()
            };
        match self {
            Target::Deployment { namespace, name } => object(
                &format!("{}/{}", kubeairunway_api::GROUP, kubeairunway_api::VERSION),
                "ModelDeployment",
                Some(namespace),
                name,
            ),
            Target::Settings => object(
                "v1",
                "ConfigMap",
                Some(SETTINGS_NAMESPACE),
                SETTINGS_CONFIG_MAP,
            ),
            Target::TokenSecret { namespace, name } => {
                object("v1", "Secret", Some(namespace), name)
            }
            Target::Provider { name } => object(
                &format!("{}/{}", kubeairunway_api::GROUP, kubeairunway_api::VERSION),
                "InferenceProviderConfig",
                None,
                name,
            ),
            Target::Namespace { name } => object("v1", "Namespace", None, name),
            Target::Workload { namespace, name } => {
                object("apps/v1", "Deployment", Some(namespace), name)
            }
        }
    }

    fn scope(&self) -> Scope {
        match self {
            Target::Deployment { .. } | Target::Workload { .. } => Scope::Namespace,
            _ => Scope::Cluster,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Deployment { namespace, name } => {
                format!("deployment {name} in {namespace}")
            }
            Target::Settings => "the settings".into(),
            Target::TokenSecret { .. } => "the HuggingFace token".into(),
            Target::Provider { name } => format!("provider {name}"),
            Target::Namespace { name } => format!("namespace {name}"),
            Target::Workload { namespace, name } => format!("{name} in {namespace}"),
        }
    }
}

/// One change a route makes.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    action: Action,
    target: Target,
    what: String,
    detail: String,
    uid: Option<String>,
    succeeded: StatusCode,
}

impl Change {
    /// `action` on `target`, described as the target is.
    pub(crate) fn new(action: Action, target: Target) -> Self {
        Self {
            what: target.describe(),
            action,
            target,
            detail: String::new(),
            uid: None,
            succeeded: StatusCode::OK,
        }
    }

    /// The status a success answers, when not 200 (a create's 201).
    pub(crate) fn succeeded_with(mut self, status: StatusCode) -> Self {
        self.succeeded = status;
        self
    }

    /// Describes the object otherwise ("the NVIDIA GPU Operator").
    pub(crate) fn what(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }

    /// Adds what the change was ("to 3 replicas"); never a secret value.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = if detail.is_empty() {
            detail
        } else {
            format!(" {detail}")
        };
        self
    }

    /// The object's UID, when known (`kubectl describe` matches Events by it).
    pub(crate) fn uid(mut self, uid: Option<String>) -> Self {
        self.uid = uid;
        self
    }
}

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Actor {
    /// Kubernetes user name ([`ANONYMOUS`] without auth).
    pub username: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
}

impl Actor {
    /// The caller of a request.
    pub(crate) fn of(caller: &Caller) -> Self {
        match caller.identity() {
            Some(identity) => Self {
                username: identity.username.clone(),
                groups: identity.groups.clone(),
            },
            None => Self {
                username: ANONYMOUS.into(),
                groups: Vec::new(),
            },
        }
    }

    fn describe(&self) -> String {
        if self.groups.is_empty() {
            self.username.clone()
        } else {
            format!("{} (groups: {})", self.username, self.groups.join(", "))
        }
    }
}

/// Writes activity Events with the server's own identity.
#[derive(Clone)]
pub(crate) struct Recorder {
    client: Client,
    caches: Option<crate::cache::Caches>,
}

impl Recorder {
    /// The recorder of a server; `None` without a cluster (nothing can be recorded then, and
    /// no change can be made either).
    pub(crate) fn of(state: &AppState) -> Option<Self> {
        let kube = state.kube().ok()?;
        Some(Self {
            client: kube.client.clone(),
            caches: state.caches().ok().cloned(),
        })
    }

    /// Records that `actor`'s `change` ended with `status` (`error`: the message of a failure).
    pub(crate) async fn write(
        &self,
        actor: &Actor,
        mut change: Change,
        status: StatusCode,
        error: Option<&str>,
    ) {
        if change.uid.is_none()
            && let (Target::Deployment { namespace, name }, Some(caches)) =
                (&change.target, &self.caches)
        {
            change.uid = caches
                .deployments
                .get(&ObjectRef::new(name).within(namespace))
                .and_then(|md| md.metadata.uid.clone());
        }
        let event = event_of(actor, &change, status, error, Timestamp::now());
        let namespace = event.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let params = PostParams::default();
        let write = api.create(&params, &event);
        match tokio::time::timeout(WRITE_DEADLINE, write).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(
                action = change.action.as_str(),
                %namespace,
                error = %e,
                "could not record the activity Event"
            ),
            Err(_) => tracing::warn!(
                action = change.action.as_str(),
                %namespace,
                "recording the activity Event timed out"
            ),
        }
    }
}

/// Records the outcome of a route's `change`: the answer `result` is about to give. The
/// returned future owns what it needs, so a route may hold its answer across it.
pub(crate) fn record<T>(
    state: &AppState,
    caller: &Caller,
    change: Change,
    result: &Result<T, ApiError>,
) -> impl Future<Output = ()> + Send + 'static {
    let recorder = Recorder::of(state);
    let actor = Actor::of(caller);
    let (status, error) = match result {
        Ok(_) => (change.succeeded, None),
        Err(e) => (e.status, Some(e.message.clone())),
    };
    async move {
        if let Some(recorder) = recorder {
            recorder
                .write(&actor, change, status, error.as_deref())
                .await;
        }
    }
}

/// Runs a background job's `work` and then records how `caller`'s `change` ended: a job that
/// failed is recorded as a 500 with its message, since no answer carried its outcome.
pub(crate) fn record_job(
    state: &AppState,
    caller: &Caller,
    change: Change,
    work: impl Future<Output = Finish> + Send + 'static,
) -> impl Future<Output = Finish> + Send + 'static {
    let recorder = Recorder::of(state);
    let actor = Actor::of(caller);
    async move {
        let finish = work.await;
        if let Some(recorder) = recorder {
            let (status, error) = if finish.success {
                (StatusCode::OK, None)
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some(finish.message.as_str()),
                )
            };
            recorder.write(&actor, change, status, error).await;
        }
        finish
    }
}

/// The host name of this server (its pod's name in a cluster), for `reportingInstance`.
fn instance() -> &'static str {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .map(|h| h.chars().take(128).collect())
            .unwrap_or_else(|| "kubeairunway-server".into())
    })
}

/// The Event recording `change`.
fn event_of(
    actor: &Actor,
    change: &Change,
    status: StatusCode,
    error: Option<&str>,
    now: Timestamp,
) -> Event {
    let outcome = Outcome::of(status);
    let mut regarding = change.target.reference();
    regarding.uid = change.uid.clone();
    let who = actor.describe();
    let (action, what, detail) = (change.action, &change.what, &change.detail);
    let note = match outcome {
        Outcome::Succeeded => format!("{who} {} {what}{detail}", action.past()),
        Outcome::Refused => format!(
            "{who} tried to {} {what}{detail} and was refused ({}): {}",
            action.verb(),
            status.as_u16(),
            error.unwrap_or_default()
        ),
        Outcome::Failed => format!(
            "{who} tried to {} {what}{detail}, which failed ({}): {}",
            action.verb(),
            status.as_u16(),
            error.unwrap_or_default()
        ),
    };
    let reason = match outcome {
        Outcome::Succeeded => action.reason(),
        _ => match status.as_u16() {
            401 | 403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            400 | 422 => "Invalid",
            _ => "Failed",
        },
    };
    let namespace = match &regarding.namespace {
        Some(ns) => ns.clone(),
        None => CLUSTER_EVENT_NAMESPACE.into(),
    };
    let mut labels = BTreeMap::from([
        (LABEL.to_string(), "true".to_string()),
        (LABEL_ACTION.to_string(), action.as_str().to_string()),
        (LABEL_OUTCOME.to_string(), outcome.as_str().to_string()),
        (
            LABEL_SCOPE.to_string(),
            change.target.scope().as_str().to_string(),
        ),
        (
            kubeairunway_api::labels::MANAGED_BY.to_string(),
            kubeairunway_api::labels::MANAGED_BY_VALUE.to_string(),
        ),
    ]);
    if let Target::Deployment { name, .. } = &change.target {
        labels.insert(LABEL_DEPLOYMENT.to_string(), name.clone());
    }
    let annotations = BTreeMap::from([
        (ANNOTATION_USER.to_string(), actor.username.clone()),
        (
            ANNOTATION_GROUPS.to_string(),
            serde_json::to_string(&actor.groups).unwrap_or_else(|_| "[]".into()),
        ),
        (ANNOTATION_STATUS.to_string(), status.as_u16().to_string()),
    ]);
    Event {
        metadata: ObjectMeta {
            name: Some(event_name(
                regarding.name.as_deref().unwrap_or_default(),
                now,
            )),
            namespace: Some(namespace),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        event_time: Some(MicroTime(now)),
        reporting_controller: Some(REPORTING_CONTROLLER.into()),
        reporting_instance: Some(instance().into()),
        action: Some(action.as_str().into()),
        reason: Some(reason.into()),
        type_: Some(
            if outcome == Outcome::Succeeded {
                "Normal"
            } else {
                "Warning"
            }
            .into(),
        ),
        note: Some(clip(&note, NOTE_LIMIT)),
        regarding: Some(regarding),
        ..Default::default()
    }
}

/// `<object>.<time><random>`, as Kubernetes names Events: unique, and a DNS subdomain.
fn event_name(object: &str, now: Timestamp) -> String {
    let cleaned: String = object
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.')
        .take(200)
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '-' || c == '.');
    let prefix = if cleaned.is_empty() {
        "activity"
    } else {
        cleaned
    };
    let salt: u16 = rand::random();
    format!("{prefix}.{:x}{salt:04x}", now.as_nanosecond())
}

/// At most `limit` bytes of `s`, cut at a character boundary.
fn clip(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_string();
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Actor {
        Actor {
            username: "alice".into(),
            groups: vec!["dev".into(), "system:authenticated".into()],
        }
    }

    fn qwen() -> Target {
        Target::Deployment {
            namespace: "team-a".into(),
            name: "qwen".into(),
        }
    }

    #[test]
    fn a_success_is_a_normal_event_naming_the_user() {
        let change = Change::new(Action::Scale, qwen()).detail("to 3 replicas");
        let e = event_of(&alice(), &change, StatusCode::OK, None, Timestamp::now());
        assert_eq!(
            e.note.as_deref(),
            Some(
                "alice (groups: dev, system:authenticated) scaled deployment qwen in team-a to 3 replicas"
            )
        );
        assert_eq!(e.type_.as_deref(), Some("Normal"));
        assert_eq!(e.reason.as_deref(), Some("Scaled"));
        assert_eq!(e.action.as_deref(), Some("Scale"));
        assert_eq!(e.reporting_controller.as_deref(), Some("kubeairunway"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("team-a"));
        let labels = e.metadata.labels.expect("labels");
        assert_eq!(labels[LABEL_DEPLOYMENT], "qwen");
        assert_eq!(labels[LABEL_OUTCOME], "succeeded");
        assert_eq!(labels[LABEL_SCOPE], "namespace");
        let annotations = e.metadata.annotations.expect("annotations");
        assert_eq!(annotations[ANNOTATION_USER], "alice");
        assert_eq!(
            annotations[ANNOTATION_GROUPS],
            r#"["dev","system:authenticated"]"#
        );
        let regarding = e.regarding.expect("regarding");
        assert_eq!(regarding.kind.as_deref(), Some("ModelDeployment"));
        assert_eq!(regarding.name.as_deref(), Some("qwen"));
        assert!(e.metadata.name.expect("name").starts_with("qwen."));
    }

    #[test]
    fn a_refusal_is_a_warning_with_the_reason() {
        let change = Change::new(Action::Delete, qwen());
        let e = event_of(
            &alice(),
            &change,
            StatusCode::FORBIDDEN,
            Some("forbidden: no"),
            Timestamp::now(),
        );
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.reason.as_deref(), Some("Forbidden"));
        assert!(
            e.note
                .as_deref()
                .is_some_and(|n| n.starts_with("alice (groups: dev, system:authenticated) tried to delete deployment qwen in team-a and was refused (403)")),
            "{:?}",
            e.note
        );
        assert_eq!(e.metadata.labels.expect("labels")[LABEL_OUTCOME], "refused");
    }

    #[test]
    fn cluster_scoped_objects_get_events_in_default() {
        let change = Change::new(
            Action::Install,
            Target::Provider {
                name: "kaito".into(),
            },
        );
        let actor = Actor {
            username: ANONYMOUS.into(),
            groups: vec![],
        };
        let e = event_of(
            &actor,
            &change,
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("helm failed"),
            Timestamp::now(),
        );
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(e.reason.as_deref(), Some("Failed"));
        assert_eq!(
            e.note.as_deref(),
            Some(
                "anonymous (auth off) tried to install provider kaito, which failed (500): helm failed"
            )
        );
        assert_eq!(e.metadata.labels.expect("labels")[LABEL_SCOPE], "cluster");
    }

    #[test]
    fn notes_fit_kubernetes_limit() {
        let long = "é".repeat(2000);
        let e = event_of(
            &alice(),
            &Change::new(Action::Create, qwen()),
            StatusCode::CONFLICT,
            Some(&long),
            Timestamp::now(),
        );
        let note = e.note.expect("note");
        assert!(note.len() <= 1024, "{}", note.len());
        assert!(note.ends_with('…'));
    }

    #[test]
    fn event_names_are_dns_subdomains_and_unique() {
        let now = Timestamp::now();
        let a = event_name("Weird_Name..", now);
        assert!(a.starts_with("weirdname."), "{a}");
        assert_ne!(event_name("x", now), event_name("x", now));
        assert!(event_name("", now).starts_with("activity."));
    }

    #[test]
    fn actions_round_trip_by_name() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_value(a).expect("json"),
                serde_json::json!(a.as_str())
            );
        }
        assert_eq!(Action::parse("create"), None);
        assert_eq!(Outcome::of(StatusCode::CREATED), Outcome::Succeeded);
        assert_eq!(Outcome::of(StatusCode::FORBIDDEN), Outcome::Refused);
        assert_eq!(Outcome::of(StatusCode::CONFLICT), Outcome::Failed);
    }
}
