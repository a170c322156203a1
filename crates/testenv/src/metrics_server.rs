//! A model server's `/metrics` on loopback: the text a test gives (vLLM's or llama.cpp's real
//! names and shapes), changeable between scrapes so counters can grow. Bound to a chosen
//! loopback address, so it can stand at a pod's IP (KWOK gives pods `127.100.x.y`; all of
//! `127.0.0.0/8` is local) for scrapes made straight to the pod, and for scrapes through the
//! API server's pod proxy once [`crate::ControlPlane::route_pod`] gave the pod a routable IP
//! that the egress proxy delivers here.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::Result;
use crate::loopback::{Bound, Loopback};

struct Shared {
    text: Mutex<String>,
    status: Mutex<StatusCode>,
    scrapes: AtomicUsize,
}

/// The running server; dropping it stops it.
pub struct MetricsServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Loopback,
}

impl MetricsServer {
    /// Serves `text` at `GET /metrics` on `addr` (port 0 picks one).
    pub fn start(addr: SocketAddr, text: &str) -> Result<Self> {
        let bound = Bound::on("a metrics endpoint", addr)?;
        let port: u16 = bound
            .url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let shared = Arc::new(Shared {
            text: Mutex::new(text.to_string()),
            status: Mutex::new(StatusCode::OK),
            scrapes: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/metrics", axum::routing::get(metrics))
            .with_state(shared.clone());
        let server = bound.serve("a metrics endpoint", app)?;
        Ok(Self {
            shared,
            addr: SocketAddr::new(addr.ip(), port),
            _server: server,
        })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers `text` from now on.
    pub fn set(&self, text: &str) {
        *self
            .shared
            .text
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = text.to_string();
    }

    /// Answers `status` (with an empty body unless 200) from now on.
    pub fn set_status(&self, status: u16) {
        *self
            .shared
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// Scrapes answered so far.
    pub fn scrapes(&self) -> usize {
        self.shared.scrapes.load(Ordering::SeqCst)
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.scrapes.fetch_add(1, Ordering::SeqCst);
    let status = *shared
        .status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let text = if status == StatusCode::OK {
        shared
            .text
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    } else {
        String::new()
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
