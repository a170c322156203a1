//! The activity trail (issue 20): every change made through the API is recorded, once its
//! outcome is known, as an `events.k8s.io/v1` Event on the affected object naming the caller,
//! and read back at `GET /api/activity`.
//!
//! | File | Job |
//! |---|---|
//! | `record.rs` | what a change is ([`Change`], [`Action`], [`Target`]) and writing its Event |
//! | `list.rs` | `GET /api/activity`: the labelled Events, filtered, RBAC-filtered and paged |
//!
//! Events are written with the server's own identity (callers need no permission on Events,
//! and a user could not forge or delete entries with a permission they lack) and carry labels
//! and annotations (below) so they can be listed back. Kubernetes keeps them for the API
//! server's `--event-ttl` (1 h by default): this is a recent-activity view, not an archive; the
//! API server's audit log is the durable record and names the same person, since every change
//! runs with the caller's own token.

mod list;
mod record;

pub(crate) use record::{Action, Change, Target, record, record_job};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// OpenAPI tag of the route here.
const TAG: &str = "activity";

/// `reportingController` of every activity Event.
pub const REPORTING_CONTROLLER: &str = "kubeairunway";
/// Label every activity Event carries (`"true"`): the selector of the list.
pub const LABEL: &str = "kubeairunway.ai/activity";
/// Label: the [`Action`].
pub const LABEL_ACTION: &str = "kubeairunway.ai/activity-action";
/// Label: the outcome (`succeeded`, `refused`, `failed`).
pub const LABEL_OUTCOME: &str = "kubeairunway.ai/activity-outcome";
/// Label: the ModelDeployment the change was about, when it was about one.
pub const LABEL_DEPLOYMENT: &str = "kubeairunway.ai/activity-deployment";
/// Label: `namespace` (visible to whoever may list ModelDeployments there) or `cluster`
/// (visible to whoever may read the object).
pub const LABEL_SCOPE: &str = "kubeairunway.ai/activity-scope";
/// Annotation: the caller's Kubernetes user name.
pub const ANNOTATION_USER: &str = "kubeairunway.ai/activity-user";
/// Annotation: the caller's groups, a JSON array.
pub const ANNOTATION_GROUPS: &str = "kubeairunway.ai/activity-groups";
/// Annotation: the HTTP status the API answered.
pub const ANNOTATION_STATUS: &str = "kubeairunway.ai/activity-status";
/// User name recorded for changes made while authentication is off (the server's own
/// identity acted; nobody was identified).
pub const ANONYMOUS: &str = "anonymous (auth off)";

/// The `/api/activity` route.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list::list))
}
