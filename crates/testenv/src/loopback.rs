//! An axum app served on `127.0.0.1` from a thread and runtime of its own: the shape shared by
//! the fixtures that stand in for outside services (the HuggingFace Hub, a chart repository).
//! Its own runtime lets one server live in a `static` used by many `#[tokio::test]`s; dropping
//! it stops serving, so the port then refuses connections.

use std::future::IntoFuture;
use std::time::Duration;

use axum::Router;

use crate::{Error, Result};

/// A bound loopback port and its `http://127.0.0.1:<port>` URL, before anything serves on it
/// (fixtures need the URL to build their app).
pub(crate) struct Bound {
    listener: std::net::TcpListener,
    url: String,
}

impl Bound {
    /// Binds `127.0.0.1:0`; `what` names the fixture in errors.
    pub(crate) fn new(what: &'static str) -> Result<Self> {
        Self::on(what, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Binds `addr` (a loopback address: all of `127.0.0.0/8` is local on Linux).
    pub(crate) fn on(what: &'static str, addr: std::net::SocketAddr) -> Result<Self> {
        let listener =
            std::net::TcpListener::bind(addr).map_err(Error::io(format!("binding {what}")))?;
        listener
            .set_nonblocking(true)
            .map_err(Error::io(format!("configuring the socket of {what}")))?;
        let port = listener
            .local_addr()
            .map_err(Error::io(format!("reading the address of {what}")))?
            .port();
        Ok(Self {
            listener,
            url: format!("http://{}:{port}", addr.ip()),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Serves `app`; returns once the port accepts connections.
    pub(crate) fn serve(self, what: &'static str, app: Router) -> Result<Loopback> {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let listener = self.listener;
        let thread = std::thread::Builder::new()
            .name(format!("testenv {what}"))
            .spawn(move || run(what, listener, app, stop_rx, ready_tx))
            .map_err(Error::io(format!("spawning the thread of {what}")))?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the thread ended")));
        ready.map_err(Error::io(format!("starting {what}")))?;
        Ok(Loopback {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running server; dropping it stops serving and closes every connection.
pub(crate) struct Loopback {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    what: &'static str,
    listener: std::net::TcpListener,
    app: Router,
    stop: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        tokio::select! {
            result = axum::serve(listener, app).into_future() => {
                if let Err(e) = result {
                    tracing::warn!("{what} stopped serving: {e}");
                }
            }
            _ = stop => {}
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}
