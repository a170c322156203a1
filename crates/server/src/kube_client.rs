//! Clients of the Kubernetes API server. Every call that is not a stream (a watch, a followed
//! log) gets a deadline: when the API server accepts a request but cannot finish it (etcd down,
//! an admission webhook hanging), the caller gets a clear 504 within seconds instead of a
//! request that hangs until the server's own request timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{Request, Uri};
use tower::{BoxError, Layer, Service};

/// How long one API-server call that is not a stream may take.
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);

/// An API-server call that did not finish within [`CALL_DEADLINE`].
#[derive(Debug, thiserror::Error)]
#[error(
    "the Kubernetes API server did not answer within {} s (is etcd or an admission webhook down?)",
    .0.as_secs()
)]
pub struct DeadlineExceeded(pub Duration);

/// A client for `config` whose calls have a deadline (see the module).
pub(crate) fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&DeadlineLayer(CALL_DEADLINE))
        .build())
}

/// Whether `err` is a call that ran out of time.
pub(crate) fn is_deadline(err: &kube::Error) -> Option<&DeadlineExceeded> {
    match err {
        kube::Error::Service(e) => e.downcast_ref::<DeadlineExceeded>(),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
struct DeadlineLayer(Duration);

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            deadline: self.0,
        }
    }
}

#[derive(Clone, Debug)]
struct Deadline<S> {
    inner: S,
    deadline: Duration,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let streams = is_stream(request.uri());
        let deadline = self.deadline;
        let response = self.inner.call(request);
        Box::pin(async move {
            if streams {
                return response.await.map_err(Into::into);
            }
            match tokio::time::timeout(deadline, response).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(Box::new(DeadlineExceeded(deadline)) as BoxError),
            }
        })
    }
}

/// Watches and followed logs stay open for as long as their reader wants.
fn is_stream(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "watch=true" | "watch=1" | "follow=true" | "follow=1"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_watches_and_followed_logs_are_streams() {
        for (uri, stream) in [
            ("/api/v1/pods?watch=true&resourceVersion=1", true),
            (
                "/api/v1/namespaces/a/pods/p/log?container=c&follow=true",
                true,
            ),
            ("/api/v1/pods?labelSelector=watch%3Dtrue", false),
            ("/api/v1/namespaces/a/pods/p/log?follow=false", false),
            ("/apis/kubeairunway.ai/v1alpha1/modeldeployments", false),
        ] {
            let uri: Uri = uri.parse().expect("uri");
            assert_eq!(is_stream(&uri), stream, "{uri}");
        }
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_fails_and_a_stream_waits() {
        let slow = tower::service_fn(|_: Request<()>| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok::<_, BoxError>("answered")
        });
        let mut svc = DeadlineLayer(Duration::from_millis(50)).layer(slow);
        let err = svc
            .call(Request::get("/api/v1/pods").body(()).expect("request"))
            .await
            .expect_err("past the deadline");
        assert!(err.downcast_ref::<DeadlineExceeded>().is_some(), "{err}");
        let answer = svc
            .call(
                Request::get("/api/v1/pods?watch=true")
                    .body(())
                    .expect("request"),
            )
            .await
            .expect("a stream has no deadline");
        assert_eq!(answer, "answered");
    }
}
