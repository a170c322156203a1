//! Fetching one pod's `/metrics`: through the API server's pod proxy with the caller's client
//! (off the cluster; RBAC decides, `pods/proxy` get), or straight to the pod IP (inside the
//! cluster, where pod IPs are routable). Bounded in time and size; failures are typed.

use std::time::Duration;

use axum::http::StatusCode;
use futures::StreamExt;
use http_body_util::BodyExt;

use crate::state::MetricsAccess;

/// Longest answer read from a model server (vLLM's is ~20 KiB per model).
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;
/// Deadline of one scrape.
pub(crate) const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the service-account token of a pod is mounted.
const SA_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// `access` decided: `Auto` is direct inside a pod (token mounted and `KUBERNETES_SERVICE_HOST`
/// set), else the proxy.
pub(crate) fn resolve(access: MetricsAccess) -> Resolved {
    match access {
        MetricsAccess::Proxy => Resolved::Proxy,
        MetricsAccess::Direct => Resolved::Direct,
        MetricsAccess::Auto => {
            let in_pod = std::path::Path::new(SA_TOKEN).exists()
                && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
            if in_pod {
                Resolved::Direct
            } else {
                Resolved::Proxy
            }
        }
    }
}

/// The access actually used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    Proxy,
    Direct,
}

/// Why one pod could not be scraped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScrapeError {
    /// The API server refused the proxy request (RBAC).
    #[error("you may not proxy to pod {pod} (pods/proxy): {message}")]
    Forbidden { pod: String, message: String },
    /// The server answered with a status that is not 200.
    #[error("pod {pod} answered {status} for {path}")]
    Status {
        pod: String,
        status: u16,
        path: String,
    },
    /// Nothing answers on the port (refused, unreachable, the proxy's 502/503).
    #[error("pod {pod} cannot be reached on port {port}: {message}")]
    Unreachable {
        pod: String,
        port: u16,
        message: String,
    },
    /// No answer within the deadline.
    #[error("pod {pod} did not answer within {} s", SCRAPE_TIMEOUT.as_secs())]
    Timeout { pod: String },
    /// The answer exceeded [`MAX_BODY`] or was not text.
    #[error("pod {pod} answered with {0}", .reason)]
    Body { pod: String, reason: String },
}

impl ScrapeError {
    /// The `reason` code of the answer.
    pub(crate) fn code(&self) -> super::Unavailable {
        use super::Unavailable as U;
        match self {
            Self::Forbidden { .. } => U::Forbidden,
            Self::Status { status: 404, .. } => U::NoEndpoint,
            Self::Status { .. } | Self::Body { .. } => U::BadResponse,
            Self::Unreachable { .. } => U::Unreachable,
            Self::Timeout { .. } => U::Timeout,
        }
    }
}

/// One pod to scrape.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub namespace: String,
    pub pod: String,
    pub pod_ip: Option<String>,
    pub port: u16,
    pub path: String,
}

/// Scrapes `target` the `resolved` way, with `client` (the caller's) for the proxy and `http`
/// for direct requests.
pub(crate) async fn scrape(
    resolved: Resolved,
    client: &kube::Client,
    http: &reqwest::Client,
    target: &Target,
) -> Result<String, ScrapeError> {
    let pod = target.pod.clone();
    let work = async {
        match resolved {
            Resolved::Proxy => via_proxy(client, target).await,
            Resolved::Direct => direct(http, target).await,
        }
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, work)
        .await
        .unwrap_or(Err(ScrapeError::Timeout { pod }))
}

async fn via_proxy(client: &kube::Client, t: &Target) -> Result<String, ScrapeError> {
    // Namespace and pod names are DNS labels/subdomains (from the cache), the port a number and
    // the path checked by `core::metrics::target`: nothing here needs escaping.
    let uri = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy{}",
        t.namespace, t.pod, t.port, t.path
    );
    let request = axum::http::Request::get(&uri)
        .header("Accept", "text/plain;version=0.0.4, */*;q=0.1")
        .body(Vec::new())
        .map_err(|e| ScrapeError::Body {
            pod: t.pod.clone(),
            reason: e.to_string(),
        })?;
    let response = client.send(request.map(kube::client::Body::from)).await;
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            return Err(ScrapeError::Unreachable {
                pod: t.pod.clone(),
                port: t.port,
                message: kubeairunway_api::kube_text::describe(&e),
            });
        }
    };
    let status = response.status();
    let body = read_limited(t, response.into_body().into_data_stream()).await;
    match status {
        StatusCode::OK => body,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Err(ScrapeError::Forbidden {
            pod: t.pod.clone(),
            message: status_message(body.unwrap_or_default()),
        }),
        // The API server's own answer when it cannot dial the pod.
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_REQUEST => {
            Err(ScrapeError::Unreachable {
                pod: t.pod.clone(),
                port: t.port,
                message: status_message(body.unwrap_or_default()),
            })
        }
        other => Err(ScrapeError::Status {
            pod: t.pod.clone(),
            status: other.as_u16(),
            path: t.path.clone(),
        }),
    }
}

/// The `message` of a Kubernetes `Status` body, else the body itself (shortened).
fn status_message(body: String) -> String {
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            body.chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string()
        })
}

async fn direct(http: &reqwest::Client, t: &Target) -> Result<String, ScrapeError> {
    let Some(ip) = &t.pod_ip else {
        return Err(ScrapeError::Unreachable {
            pod: t.pod.clone(),
            port: t.port,
            message: "the pod has no IP yet".into(),
        });
    };
    let host = if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.clone()
    };
    let url = format!("http://{host}:{}{}", t.port, t.path);
    let response = http
        .get(&url)
        .header("Accept", "text/plain;version=0.0.4, */*;q=0.1")
        .send()
        .await
        .map_err(|e| ScrapeError::Unreachable {
            pod: t.pod.clone(),
            port: t.port,
            message: e.to_string(),
        })?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(ScrapeError::Status {
            pod: t.pod.clone(),
            status: status.as_u16(),
            path: t.path.clone(),
        });
    }
    read_limited(t, response.bytes_stream()).await
}

async fn read_limited<S, B, E>(t: &Target, mut stream: S) -> Result<String, ScrapeError>
where
    S: futures::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ScrapeError::Body {
            pod: t.pod.clone(),
            reason: format!("a broken body: {e}"),
        })?;
        if body.len() + chunk.as_ref().len() > MAX_BODY {
            return Err(ScrapeError::Body {
                pod: t.pod.clone(),
                reason: format!("more than {} MiB", MAX_BODY / (1024 * 1024)),
            });
        }
        body.extend_from_slice(chunk.as_ref());
    }
    String::from_utf8(body).map_err(|_| ScrapeError::Body {
        pod: t.pod.clone(),
        reason: "text that is not UTF-8".into(),
    })
}
