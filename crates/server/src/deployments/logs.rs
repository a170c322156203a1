//! `GET /api/deployments/{name}/logs`: a tail of one pod's logs, or with `follow=true` a
//! Server-Sent Events stream of new lines, read with the caller's client.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::ResourceExt;
use kube::api::LogParams;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{DeploymentName, readable_pods, target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, parse_number, truncate};
use crate::state::AppState;

/// Lines returned when `tailLines` is not given.
const DEFAULT_TAIL: usize = 100;
/// Most lines one request may ask for.
const MAX_TAIL: usize = 10_000;

/// Query of the logs endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogsQuery {
    /// Namespace of the deployment; the settings' default namespace when omitted.
    namespace: Option<String>,
    /// One of the deployment's pods; the first (by name) when omitted.
    pod_name: Option<String>,
    /// A container of the pod; its first container when omitted.
    container: Option<String>,
    /// Lines from the end, 1–10000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    tail_lines: Option<String>,
    /// `true` prefixes every line with its RFC 3339 timestamp.
    #[param(value_type = Option<bool>)]
    timestamps: Option<String>,
    /// `true` reads the previous (terminated) instance of the container.
    #[param(value_type = Option<bool>)]
    previous: Option<String>,
    /// `true` streams new lines as Server-Sent Events (`event: log`, one line per `data:`),
    /// ending with an `end` or `error` event.
    #[param(value_type = Option<bool>)]
    follow: Option<String>,
}

/// A tail of logs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogsResponse {
    /// The lines, ANSI colour codes removed.
    pub logs: String,
    /// The pod read (empty when the deployment has no pods).
    pub pod_name: String,
    /// The container read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Set when there was nothing to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Logs of one of the deployment's pods (`{logs: "", podName: "", message}` when it has none).
/// With `follow=true` the answer is an SSE stream
/// (`text/event-stream`) whose `X-Pod-Name` and `X-Container` headers say what is read.
#[utoipa::path(get, path = "/api/deployments/{name}/logs", tag = super::TAG,
    params(("name" = String, Path, description = "ModelDeployment name"), LogsQuery),
    responses(
        (status = 200, description = "The logs, or with follow=true an SSE stream of `log` (a line), `error` and `end` events",
            content((LogsResponse = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "Bad parameters, or a pod or container not of this deployment", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Deployment not found, or the pod is gone", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub(crate) async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    DeploymentName(name): DeploymentName,
    ApiQuery(query): ApiQuery<LogsQuery>,
) -> ApiResult<Response> {
    let namespace = target(&state, &name, query.namespace.as_deref())?;
    let tail = parse_number("tailLines", query.tail_lines.as_deref(), 1, MAX_TAIL)?
        .unwrap_or(DEFAULT_TAIL);
    // As in the contract: only "true" turns timestamps on.
    let timestamps = query.timestamps.as_deref() == Some("true");
    let previous = flag("previous", query.previous.as_deref())?;
    let follow = flag("follow", query.follow.as_deref())?;

    let candidates = readable_pods(&state, &caller, &namespace, &name).await?;
    let Some(first) = candidates.first() else {
        return Ok(Json(LogsResponse {
            logs: String::new(),
            pod_name: String::new(),
            container: None,
            message: Some("No pods found for this deployment".into()),
        })
        .into_response());
    };
    let pod = match &query.pod_name {
        None => first,
        Some(wanted) => candidates
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(wanted.as_str()))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Pod '{}' is not part of deployment '{name}'",
                    truncate(wanted)
                ))
            })?,
    };
    let pod_name = pod.name_any();
    let container = choose_container(pod, query.container.as_deref())?;

    let params = LogParams {
        container: Some(container.clone()),
        tail_lines: Some(i64::try_from(tail).unwrap_or(100)),
        timestamps,
        previous,
        follow,
        ..Default::default()
    };
    let api: Api<Pod> = Api::namespaced(caller.client().clone(), &namespace);
    let context = format!("Failed to get logs for pod '{pod_name}'");
    if !follow {
        let text = api
            .logs(&pod_name, &params)
            .await
            .map_err(|e| ApiError::kube(&context, e))?;
        return Ok(Json(LogsResponse {
            logs: strip_ansi(&text),
            pod_name,
            container: Some(container),
            message: None,
        })
        .into_response());
    }

    let reader = api
        .log_stream(&pod_name, &params)
        .await
        .map_err(|e| ApiError::kube(&context, e))?;
    let events = async_stream::stream! {
        let mut lines = reader.lines();
        loop {
            match lines.next().await {
                Some(Ok(line)) => yield Ok::<_, std::convert::Infallible>(
                    Event::default().event("log").data(strip_ansi(&line))
                ),
                Some(Err(e)) => {
                    yield Ok(Event::default().event("error").data(format!("The log stream failed: {e}")));
                    break;
                }
                None => {
                    yield Ok(Event::default().event("end").data("The log stream ended"));
                    break;
                }
            }
        }
    };
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    for (header, value) in [("x-pod-name", &pod_name), ("x-container", &container)] {
        if let Ok(value) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(header), value);
        }
    }
    Ok(response)
}

/// `true`, `false` or absent.
fn flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid {name} \"{}\": must be true or false",
            truncate(other)
        ))),
    }
}

/// The container to read: the one asked for (it must exist in the pod), else the first.
fn choose_container(pod: &Pod, wanted: Option<&str>) -> ApiResult<String> {
    let spec = pod.spec.as_ref();
    let names: Vec<&str> = spec
        .map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .map(|c| c.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    match wanted {
        Some(c) if names.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "Container '{}' is not in pod '{}' (containers: {})",
            truncate(c),
            pod.name_any(),
            names.join(", ")
        ))),
        None => names.first().map(|c| c.to_string()).ok_or_else(|| {
            ApiError::bad_request(format!("Pod '{}' has no containers", pod.name_any()))
        }),
    }
}

/// Removes ANSI SGR sequences (`ESC [ digits/semicolons m`), as the reference did.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('\x1b') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let body = after.strip_prefix('[').map(|b| {
            let end = b
                .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .unwrap_or(b.len());
            (end, b[end..].starts_with('m'))
        });
        match body {
            Some((end, true)) => rest = &after[1 + end + 1..],
            _ => {
                out.push('\x1b');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ansi_sgr_is_removed_and_the_rest_kept() {
        assert_eq!(strip_ansi("\x1b[1;31mred\x1b[0m plain"), "red plain");
        assert_eq!(strip_ansi("\x1b[mx"), "x");
        assert_eq!(strip_ansi("a\x1b[2Kb"), "a\x1b[2Kb");
        assert_eq!(strip_ansi("tail\x1b"), "tail\x1b");
        assert_eq!(strip_ansi("ünï\x1b[32mcode"), "ünïcode");
    }

    #[test]
    fn containers() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": { "name": "p" },
            "spec": { "containers": [{ "name": "server" }, { "name": "sidecar" }],
                      "initContainers": [{ "name": "init" }] },
        }))
        .expect("pod");
        assert_eq!(choose_container(&pod, None).ok().as_deref(), Some("server"));
        assert_eq!(
            choose_container(&pod, Some("sidecar")).ok().as_deref(),
            Some("sidecar")
        );
        assert_eq!(
            choose_container(&pod, Some("init")).ok().as_deref(),
            Some("init")
        );
        let err = choose_container(&pod, Some("nope")).expect_err("unknown");
        assert!(
            err.message.contains("server, sidecar, init"),
            "{}",
            err.message
        );
        assert!(flag("follow", Some("yes")).is_err());
        assert!(flag("follow", Some("true")).unwrap_or(false));
    }
}
