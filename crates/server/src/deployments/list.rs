//! `GET /api/deployments`: every deployment the caller may see (or one namespace), newest
//! first, paginated, from the caches.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kubeairunway_api::ModelDeployment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::index::{self, ListIndex, PageKey};
use super::status::{self, DeploymentStatus};
use crate::auth::{Caller, Resource, Visible};
use crate::cache::{Derived, Kind};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, parse_number, validate_namespace};
use crate::state::AppState;

/// Largest page.
const MAX_LIMIT: usize = 100;

/// Query of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this namespace; every namespace the caller may list when omitted.
    namespace: Option<String>,
    /// Page size, 1–100; everything when omitted.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Items to skip, ≥ 0.
    #[param(value_type = Option<u32>, minimum = 0)]
    offset: Option<String>,
}

/// `GET /api/deployments` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentList<'a> {
    /// This page, newest first.
    pub deployments: Vec<DeploymentStatus<'a>>,
    /// Where the page lies in the whole list.
    pub pagination: Pagination,
}

/// Pagination of a list response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Items in the whole list.
    pub total: usize,
    /// The page size asked for (`total` when none was).
    pub limit: usize,
    /// Items skipped.
    pub offset: usize,
    /// Whether items follow this page.
    pub has_more: bool,
}

/// Lists deployments from the cache: without `namespace` every namespace the caller may list
/// ModelDeployments in, with it only that one (403 when the caller may not list there).
#[utoipa::path(get, path = "/api/deployments", tag = super::TAG, params(ListQuery),
    responses(
        (status = 200, body = DeploymentList<'_>),
        (status = 400, description = "Bad namespace, limit or offset", body = ErrorBody),
        (status = 403, description = "The caller may not list deployments in the namespace", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable or the CRD is missing", body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(list_index): Extension<Arc<Derived<ListIndex>>>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let limit = parse_number("limit", query.limit.as_deref(), 1, MAX_LIMIT)?;
    let offset = parse_number("offset", query.offset.as_deref(), 0, usize::MAX)?;
    if let Some(ns) = &query.namespace {
        validate_namespace(ns)?;
    }
    let caches = state.caches()?;
    caches.ready(Kind::Deployments).await?;
    caches.ready(Kind::Pods).await?;

    let index = index::current(&list_index, caches);
    let filtered: Vec<Arc<ModelDeployment>>;
    let deployments_visible: Visible;
    let items: &[Arc<ModelDeployment>] = match query.namespace.as_deref() {
        Some(ns) => {
            caller
                .require("list", Resource::DEPLOYMENTS, Some(ns))
                .await?;
            deployments_visible = Visible::Only([ns.to_string()].into());
            filtered = index
                .deployments
                .iter()
                .filter(|md| md.metadata.namespace.as_deref() == Some(ns))
                .cloned()
                .collect();
            &filtered
        }
        None => {
            deployments_visible = caller
                .visible(
                    Resource::DEPLOYMENTS,
                    index.namespaces.iter().map(String::as_str),
                )
                .await;
            match &deployments_visible {
                Visible::All => &index.deployments,
                only => {
                    filtered = index
                        .deployments
                        .iter()
                        .filter(|md| status::is_visible(only, md))
                        .cloned()
                        .collect();
                    &filtered
                }
            }
        }
    };
    // Already newest first: the index is sorted.
    let total = items.len();
    let start = offset.unwrap_or(0).min(total);
    let end = limit.map_or(total, |l| start.saturating_add(l).min(total));
    let page = &items[start..end];
    let pod_access = status::pod_access(&caller, page).await;
    let key = PageKey {
        namespace: query.namespace.clone(),
        deployments: deployments_visible,
        pods: pod_access,
        limit,
        offset,
    };
    let encoded = index
        .page(&key, || {
            crate::encoded::EncodedJson::new(&DeploymentList {
                pagination: Pagination {
                    total,
                    limit: limit.unwrap_or(total),
                    offset: offset.unwrap_or(0),
                    has_more: end < total,
                },
                deployments: status::statuses_indexed(page, &index, &key.pods),
            })
        })
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not encode the response: {e}"),
            )
        })?;
    Ok(encoded.response(StatusCode::OK, &headers))
}

/// A JSON response serialized from borrowed data (handlers cannot return `Json` of a value
/// that borrows the cache snapshot they hold).
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not encode the response: {e}"),
        )
        .into_response(),
    }
}
