//! The API server's way into the cluster: an HTTP CONNECT proxy on a Unix socket, named by the
//! API server's egress selector (`--egress-selector-config-file`, selection `cluster`), so every
//! connection the API server opens to the cluster (kubelets for logs, exec and port-forward; the
//! pod, service and node proxies; webhooks and aggregated APIs) goes through it.
//!
//! It dials what it is asked for and passes the bytes through unchanged, with one exception: the
//! reserved range [`ROUTED_POD_RANGE`] (`10.100.0.0/16`) is delivered to the same last two
//! octets in `127.100.0.0/16` on the same port. Everything the local cluster serves is on
//! loopback, and tests never send traffic off the machine, so any other target that is not a
//! loopback address (or a name resolving to one) is refused with a 403. The API server's pod proxy refuses pod IPs that
//! are not global unicast (KWOK's `127.100.x.y`: `address not allowed`), so a test that wants a
//! proxied request to reach a pod gives the pod the routable twin of its KWOK IP
//! ([`crate::ControlPlane::route_pod`]) and serves at the loopback one; the API server accepts
//! the routable IP and the proxy delivers it on loopback.
//!
//! Every CONNECT is recorded ([`EgressProxy::dials`]), so tests can prove a request went this
//! way.

use std::collections::VecDeque;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixListener};

use crate::{Error, Result};

/// The reserved range whose addresses the proxy delivers on loopback (`127.100.0.0/16`, same
/// last two octets, same port). Nothing else in the local cluster uses it (the service range is
/// `10.96.0.0/16`).
pub const ROUTED_POD_RANGE: &str = "10.100.0.0/16";
const ROUTED_PREFIX: [u8; 2] = [10, 100];
const LOOPBACK_PREFIX: [u8; 2] = [127, 100];

/// Longest CONNECT request head read (the API server sends ~60 bytes).
const MAX_HEAD: usize = 8 * 1024;
/// Deadline for the request head and for dialing the target.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How many dials [`EgressProxy::dials`] remembers (the oldest are forgotten).
const DIAL_HISTORY: usize = 10_000;
/// Longest Unix socket path (`sun_path` is 108 bytes with the terminating NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The loopback address the proxy delivers `target` to: `10.100.a.b:p` becomes
/// `127.100.a.b:p`; every other address is returned unchanged.
pub fn delivered_to(target: SocketAddr) -> SocketAddr {
    match target.ip() {
        IpAddr::V4(ip) if ip.octets()[..2] == ROUTED_PREFIX => {
            let [_, _, c, d] = ip.octets();
            let [a, b] = LOOPBACK_PREFIX;
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), target.port())
        }
        _ => target,
    }
}

/// The routable twin of a KWOK pod IP: `127.100.a.b` gives `10.100.a.b`; any other address
/// gives `None`.
pub fn routable_ip(loopback: IpAddr) -> Option<IpAddr> {
    match loopback {
        IpAddr::V4(ip) if ip.octets()[..2] == LOOPBACK_PREFIX => {
            let [_, _, c, d] = ip.octets();
            let [a, b] = ROUTED_PREFIX;
            Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        }
        _ => None,
    }
}

/// One CONNECT the proxy answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dial {
    /// What the API server asked for (`host:port`).
    pub requested: String,
    /// Where the proxy dialed (`requested`, its loopback twin, or what a name resolved to);
    /// `None` when the target was refused for being off the machine.
    pub delivered: Option<String>,
    /// Whether the connection was made (else the API server got a 403 or a 502).
    pub connected: bool,
}

#[derive(Default)]
struct DialLog(Mutex<VecDeque<Dial>>);

impl DialLog {
    fn push(&self, dial: Dial) {
        let mut dials = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if dials.len() >= DIAL_HISTORY {
            dials.pop_front();
        }
        dials.push_back(dial);
    }

    fn all(&self) -> Vec<Dial> {
        let dials = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        dials.iter().cloned().collect()
    }
}

/// Why a CONNECT request was refused.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("the request head is longer than {MAX_HEAD} bytes")]
    TooLong,
    #[error("the connection closed before the request head ended")]
    Truncated,
    #[error("no request head within {HANDSHAKE_TIMEOUT:?}")]
    Slow,
    #[error("reading the request: {0}")]
    Read(#[from] std::io::Error),
    #[error("this proxy only answers CONNECT, not {0}")]
    Method(String),
    #[error("a malformed request line: {0:?}")]
    Malformed(String),
}

impl RequestError {
    fn status(&self) -> &'static str {
        match self {
            Self::Method(_) => "405 Method Not Allowed",
            Self::TooLong => "431 Request Header Fields Too Large",
            Self::Slow => "408 Request Timeout",
            _ => "400 Bad Request",
        }
    }
}

/// The proxy, served from a thread and runtime of its own (so it outlives any one test's
/// runtime); dropping it stops it, closes every connection and removes the socket.
pub struct EgressProxy {
    socket: PathBuf,
    dials: Arc<DialLog>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for EgressProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EgressProxy")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

impl EgressProxy {
    /// Listens on the Unix socket `socket` (a stale file there is replaced); returns once it
    /// accepts connections.
    pub fn start(socket: &Path) -> Result<Self> {
        let std_listener = bind(socket)?;
        let dials = Arc::new(DialLog::default());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let log = dials.clone();
        let thread = std::thread::Builder::new()
            .name("testenv egress proxy".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match UnixListener::from_std(std_listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::select! {
                        () = accept_loop(listener, log) => {}
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(Error::io("spawning the egress proxy thread"))?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the thread ended")));
        ready.map_err(Error::io("starting the egress proxy"))?;
        Ok(Self {
            socket: socket.to_path_buf(),
            dials,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The socket served on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The CONNECTs answered so far (the latest [`DIAL_HISTORY`]), oldest first.
    pub fn dials(&self) -> Vec<Dial> {
        self.dials.all()
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Serves the proxy on `socket` until the process ends (for a detached cluster, whose API
/// server outlives the command that started it: `kubeairunway dev egress`).
pub async fn serve(socket: &Path) -> Result<()> {
    let listener = UnixListener::from_std(bind(socket)?)
        .map_err(Error::io(format!("listening on {}", socket.display())))?;
    accept_loop(listener, Arc::new(DialLog::default())).await;
    Ok(())
}

fn bind(socket: &Path) -> Result<std::os::unix::net::UnixListener> {
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(Error::State(format!(
            "the egress proxy socket path {} is longer than {MAX_SOCKET_PATH} bytes; use a \
             shorter state directory",
            socket.display()
        )));
    }
    match std::fs::remove_file(socket) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(format!("removing {}", socket.display()))(e)),
    }
    let listener = std::os::unix::net::UnixListener::bind(socket)
        .map_err(Error::io(format!("binding {}", socket.display())))?;
    listener
        .set_nonblocking(true)
        .map_err(Error::io("configuring the egress proxy socket"))?;
    Ok(listener)
}

async fn accept_loop(listener: UnixListener, dials: Arc<DialLog>) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                let dials = dials.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(conn, &dials, dial).await {
                        tracing::debug!("egress proxy connection ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("egress proxy accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Where `target` (`host:port`) is delivered: an address in the reserved range at its loopback
/// twin, a loopback address as it is, a name at the first loopback address it resolves to;
/// `None` for anything off the machine.
async fn delivery(target: &str) -> Option<SocketAddr> {
    let on_loopback = |addr: SocketAddr| {
        let delivered = delivered_to(addr);
        delivered.ip().is_loopback().then_some(delivered)
    };
    match target.parse::<SocketAddr>() {
        Ok(addr) => on_loopback(addr),
        Err(_) => tokio::net::lookup_host(target)
            .await
            .ok()?
            .find_map(on_loopback),
    }
}

async fn dial(delivered: SocketAddr) -> std::io::Result<TcpStream> {
    TcpStream::connect(delivered).await
}

/// Answers one CONNECT on `conn`: reads the request head, dials where its target is delivered
/// with `connect`, answers 200 and relays bytes both ways until both sides are done.
async fn handle<C, U, D, F>(mut conn: C, dials: &DialLog, connect: D) -> std::io::Result<()>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
    D: FnOnce(SocketAddr) -> F,
    F: Future<Output = std::io::Result<U>>,
{
    let (target, early) = match read_connect(&mut conn).await {
        Ok(request) => request,
        Err(e) => {
            respond(&mut conn, e.status(), &e.to_string()).await?;
            return Ok(());
        }
    };
    let Some(delivered) = delivery(&target).await else {
        let message = format!(
            "refusing to dial {target}: not on this machine (loopback or {ROUTED_POD_RANGE})"
        );
        dials.push(Dial {
            requested: target,
            delivered: None,
            connected: false,
        });
        respond(&mut conn, "403 Forbidden", &message).await?;
        return Ok(());
    };
    let dialed = tokio::time::timeout(HANDSHAKE_TIMEOUT, connect(delivered))
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no connection within {HANDSHAKE_TIMEOUT:?}"),
            ))
        });
    let mut upstream = match dialed {
        Ok(upstream) => upstream,
        Err(e) => {
            let message = format!("dialing {target} (at {delivered}): {e}");
            dials.push(Dial {
                requested: target,
                delivered: Some(delivered.to_string()),
                connected: false,
            });
            respond(&mut conn, "502 Bad Gateway", &message).await?;
            return Ok(());
        }
    };
    dials.push(Dial {
        requested: target,
        delivered: Some(delivered.to_string()),
        connected: true,
    });
    conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    if !early.is_empty() {
        upstream.write_all(&early).await?;
    }
    tokio::io::copy_bidirectional(&mut conn, &mut upstream).await?;
    Ok(())
}

async fn respond<C: AsyncWrite + Unpin>(
    conn: &mut C,
    status: &str,
    message: &str,
) -> std::io::Result<()> {
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{message}",
        message.len()
    );
    conn.write_all(reply.as_bytes()).await?;
    conn.shutdown().await
}

/// Reads a request head and returns the CONNECT target (`host:port`) and any bytes the client
/// sent after the head.
async fn read_connect<C: AsyncRead + Unpin>(
    conn: &mut C,
) -> std::result::Result<(String, Vec<u8>), RequestError> {
    let (head, early) = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_head(conn))
        .await
        .map_err(|_| RequestError::Slow)??;
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed(line.to_string()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(RequestError::Malformed(line.to_string()));
    }
    if method != "CONNECT" {
        return Err(RequestError::Method(method.to_string()));
    }
    let port_ok = target
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !port_ok {
        return Err(RequestError::Malformed(line.to_string()));
    }
    Ok((target.to_string(), early))
}

/// Reads up to and including the blank line that ends a request head.
async fn read_head<C: AsyncRead + Unpin>(
    conn: &mut C,
) -> std::result::Result<(Vec<u8>, Vec<u8>), RequestError> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let early = buf.split_off(end + 4);
            return Ok((buf, early));
        }
        if buf.len() > MAX_HEAD {
            return Err(RequestError::TooLong);
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(RequestError::Truncated);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;
    use tokio::net::{TcpListener, UnixStream};

    #[test]
    fn the_reserved_range_is_delivered_on_loopback_and_nothing_else_is_changed() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(delivered_to(at("10.100.3.4:8000")), at("127.100.3.4:8000"));
        assert_eq!(
            delivered_to(at("10.100.255.0:1")),
            at("127.100.255.0:1"),
            "same last octets, same port"
        );
        for same in [
            "10.101.3.4:8000",
            "10.96.0.1:443",
            "127.0.0.1:10250",
            "127.100.3.4:8000",
            "192.168.1.1:80",
            "[::1]:8080",
            "[fd00::10:100:3:4]:80",
        ] {
            assert_eq!(delivered_to(at(same)), at(same), "{same}");
        }
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(routable_ip(ip("127.100.0.7")), Some(ip("10.100.0.7")));
        assert_eq!(routable_ip(ip("127.0.0.1")), None);
        assert_eq!(routable_ip(ip("10.100.0.7")), None);
        assert!(
            routable_ip(ip("127.100.9.9")).is_some_and(|r| match r {
                IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
                IpAddr::V6(_) => false,
            }),
            "the twin is an address the API server will proxy to"
        );
        assert_eq!(
            ROUTED_POD_RANGE,
            format!("{}.{}.0.0/16", ROUTED_PREFIX[0], ROUTED_PREFIX[1])
        );
    }

    /// A TCP server on `ip` that answers each connection with what it read, upper-cased, and
    /// then the bytes `bye` when the client closes its side.
    async fn shouting_server(ip: &str) -> SocketAddr {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 256];
                    loop {
                        let n = conn.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            let _ = conn.write_all(b"bye").await;
                            return;
                        }
                        let up = buf[..n].to_ascii_uppercase();
                        if conn.write_all(&up).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn socket_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("kair-egress-{}-{name}.sock", std::process::id()))
    }

    async fn connect_through(socket: &Path, target: &str, early: &[u8]) -> (UnixStream, String) {
        let mut conn = UnixStream::connect(socket).await.unwrap();
        let mut request =
            format!("CONNECT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes();
        request.extend_from_slice(early);
        conn.write_all(&request).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(conn.read(&mut byte).await.unwrap(), 1, "{head:?}");
            head.push(byte[0]);
        }
        (conn, String::from_utf8(head).unwrap())
    }

    #[tokio::test]
    async fn connect_passes_bytes_both_ways_unchanged_and_records_the_dial() {
        let server = shouting_server("127.0.0.1").await;
        let socket = socket_path("plain");
        let proxy = EgressProxy::start(&socket).unwrap();
        // Bytes sent right behind the request head (pipelined) reach the target first.
        let (mut conn, head) = connect_through(&socket, &server.to_string(), b"early ").await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        conn.write_all(b"hello \x00\xff").await.unwrap();
        let mut got = vec![0u8; b"EARLY HELLO \x00\xff".len()];
        conn.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"EARLY HELLO \x00\xff");
        // Half-close reaches the target, and its last words come back.
        conn.shutdown().await.unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"bye");
        assert_eq!(
            proxy.dials(),
            vec![Dial {
                requested: server.to_string(),
                delivered: Some(server.to_string()),
                connected: true,
            }]
        );
    }

    #[tokio::test]
    async fn the_reserved_range_reaches_a_server_on_its_loopback_twin() {
        let server = shouting_server("127.100.200.17").await;
        let socket = socket_path("routed");
        let proxy = EgressProxy::start(&socket).unwrap();
        let requested = format!("10.100.200.17:{}", server.port());
        let (mut conn, head) = connect_through(&socket, &requested, b"").await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        conn.write_all(b"metrics?").await.unwrap();
        let mut got = [0u8; 8];
        conn.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"METRICS?");
        assert_eq!(
            proxy.dials(),
            vec![Dial {
                requested,
                delivered: Some(server.to_string()),
                connected: true,
            }]
        );
    }

    #[tokio::test]
    async fn a_target_that_refuses_gets_a_502_naming_it() {
        // A port that was just free on the twin of a reserved address.
        let free = std::net::TcpListener::bind("127.100.200.18:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let socket = socket_path("refused");
        let proxy = EgressProxy::start(&socket).unwrap();
        let requested = format!("10.100.200.18:{port}");
        let (mut conn, head) = connect_through(&socket, &requested, b"").await;
        assert!(head.starts_with("HTTP/1.1 502 "), "{head}");
        let mut body = String::new();
        conn.read_to_string(&mut body).await.unwrap();
        assert!(body.contains(&requested), "{body}");
        assert_eq!(
            proxy.dials(),
            vec![Dial {
                requested,
                delivered: Some(format!("127.100.200.18:{port}")),
                connected: false,
            }]
        );
    }

    async fn answer_to(request: &[u8]) -> String {
        let (mut client, server) = duplex(4096);
        let dials = DialLog::default();
        let never = |_: SocketAddr| async {
            Err::<tokio::io::DuplexStream, _>(std::io::Error::other("not dialed"))
        };
        let serving = handle(server, &dials, never);
        let reading = async {
            client.write_all(request).await.unwrap();
            client.shutdown().await.unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            answer
        };
        let (served, answer) = tokio::join!(serving, reading);
        served.unwrap();
        assert!(
            dials.all().is_empty(),
            "nothing is dialed for a bad request"
        );
        String::from_utf8(answer).unwrap()
    }

    #[tokio::test]
    async fn requests_that_are_not_a_well_formed_connect_are_refused() {
        let get = answer_to(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(get.starts_with("HTTP/1.1 405 "), "{get}");
        for bad in [
            &b"CONNECT 10.100.0.1 HTTP/1.1\r\n\r\n"[..],
            b"CONNECT 10.100.0.1:http HTTP/1.1\r\n\r\n",
            b"CONNECT :80 HTTP/1.1\r\n\r\n",
            b"CONNECT 10.100.0.1:80\r\n\r\n",
            b"CONNECT 10.100.0.1:80 SPDY/3\r\n\r\n",
        ] {
            let answer = answer_to(bad).await;
            assert!(
                answer.starts_with("HTTP/1.1 400 "),
                "{}: {answer}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut huge = b"CONNECT 10.100.0.1:80 HTTP/1.1\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'x', MAX_HEAD + 10));
        let answer = answer_to(&huge).await;
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        let truncated = answer_to(b"CONNECT 10.100.0.1:80 HTTP/1.1\r\n").await;
        assert!(truncated.starts_with("HTTP/1.1 400 "), "{truncated}");
    }

    #[tokio::test]
    async fn targets_off_the_machine_are_refused_and_never_dialed() {
        let socket = socket_path("offbox");
        let proxy = EgressProxy::start(&socket).unwrap();
        for target in [
            "10.96.0.1:443",
            "10.101.0.1:80",
            "192.168.1.1:80",
            "8.8.8.8:53",
            "[2001:db8::1]:80",
        ] {
            let (mut conn, head) = connect_through(&socket, target, b"").await;
            assert!(head.starts_with("HTTP/1.1 403 "), "{target}: {head}");
            let mut body = String::new();
            conn.read_to_string(&mut body).await.unwrap();
            assert!(body.contains("not on this machine"), "{target}: {body}");
        }
        let dials = proxy.dials();
        assert_eq!(dials.len(), 5);
        assert!(
            dials.iter().all(|d| d.delivered.is_none() && !d.connected),
            "{dials:?}"
        );
        // A name that resolves to loopback is dialed there.
        let server = shouting_server("127.0.0.1").await;
        let (_conn, head) =
            connect_through(&socket, &format!("localhost:{}", server.port()), b"").await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert_eq!(
            proxy.dials().last().and_then(|d| d.delivered.clone()),
            Some(server.to_string())
        );
    }

    #[test]
    fn a_socket_path_too_long_for_unix_is_refused_in_words() {
        let long = std::env::temp_dir().join("x".repeat(120));
        let e = EgressProxy::start(&long).unwrap_err();
        assert!(e.to_string().contains("longer than 107 bytes"), "{e}");
    }
}
