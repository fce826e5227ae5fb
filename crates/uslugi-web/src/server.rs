//! The HTTP server loop. It sets the limits a public service needs that `axum::serve` leaves
//! open: a cap on the request line and header block (431 beyond it), a deadline for a whole
//! request header, closing connections that have sent nothing for a while (kept-alive ones
//! included), and a cap on the connections one address may hold. On shutdown it stops accepting
//! and lets the requests in flight finish.

use std::{
    collections::HashMap,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::{Pin, pin},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{body::Body, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    time::Instant,
};
use tower::ServiceExt;

use crate::AppState;

/// The connection limits, from `[web]` in the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request line and header block, in bytes.
    pub header_bytes: usize,
    /// Time allowed for a whole request header.
    pub header_read_timeout: Duration,
    /// A connection that has sent nothing this long is closed.
    pub idle: Duration,
    /// Connections one address may hold; `None` when there is no cap.
    pub per_client: Option<usize>,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Limits {
    /// The limits the configuration sets.
    pub fn of(state: &AppState) -> Limits {
        let web = &state.config.web;
        // Behind a proxy every connection comes from the proxy's address: a cap would cut off
        // everyone at once, so the proxy limits its clients instead (see the README).
        let per_client = (web.max_connections_per_client > 0
            && state.config.auth.trusted_proxy_hops == 0)
            .then_some(web.max_connections_per_client);
        Limits {
            // hyper refuses a read buffer under 8 KiB.
            header_bytes: web.header_limit_bytes.max(8192),
            header_read_timeout: Duration::from_secs(web.header_read_timeout_secs.max(1)),
            idle: Duration::from_secs(web.idle_timeout_secs.max(1)),
            per_client,
            drain: Duration::from_secs(web.request_timeout_secs + 5),
        }
    }
}

/// Serves the portal on `listener` until `shutdown` completes, then drains the connections.
///
/// # Errors
/// Only when the listener's address cannot be read; accept errors (out of file descriptors, a
/// reset before accept) are logged and the loop goes on.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let limits = Limits::of(&state);
    let app = crate::app(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(limits.header_read_timeout));
    let builder = Arc::new(builder);
    // Connection tasks hold a clone of `done`; when the last one ends, `finished` yields `None`.
    let (done, mut finished) = mpsc::channel::<()>(1);
    let (stop, stopping) = watch::channel(false);
    let open = OpenConnections::default();
    let local = listener.local_addr()?;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait a
                    // moment instead of spinning on the same error.
                    tracing::warn!(error = %e, addr = %local, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = open.take(peer.ip(), limits.per_client) else {
            // Closing at once costs the holder of many sockets nothing it did not already have,
            // and keeps descriptors and tasks for everyone else.
            tracing::debug!(peer = %peer.ip(), "connection refused: too many from this address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.map(Body::new)
        });
        tokio::spawn(connection(
            Arc::clone(&builder),
            stream,
            TowerToHyperService::new(service),
            limits.idle,
            stopping.clone(),
            (slot, done.clone()),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(done);
    if tokio::time::timeout(limits.drain, finished.recv())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain time; closing them");
    }
    Ok(())
}

/// Serves one connection until it ends, closing it gracefully (after the answer in progress)
/// when it has been silent for `idle` or when the server stops.
async fn connection<S>(
    builder: Arc<Builder<TokioExecutor>>,
    stream: TcpStream,
    service: TowerToHyperService<S>,
    idle: Duration,
    mut stopping: watch::Receiver<bool>,
    held: (Slot, mpsc::Sender<()>),
) where
    S: tower::Service<Request<Incoming>, Response = axum::response::Response>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _held = held;
    let heard = Arc::new(Heard::new());
    let io = TokioIo::new(Listening {
        inner: stream,
        heard: Arc::clone(&heard),
    });
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut closing = false;
    loop {
        let deadline = heard.last() + idle;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stopping.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep_until(deadline), if !closing => {
                if heard.last() + idle <= Instant::now() {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// When a connection last sent a byte (milliseconds since `base`).
#[derive(Debug)]
struct Heard {
    base: Instant,
    last_ms: AtomicU64,
}

impl Heard {
    fn new() -> Heard {
        Heard {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// The socket, noting every read that brings bytes.
struct Listening {
    inner: TcpStream,
    heard: Arc<Heard>,
}

impl AsyncRead for Listening {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.heard.touch();
        }
        polled
    }
}

impl AsyncWrite for Listening {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Open connections per client address.
#[derive(Debug, Clone, Default)]
struct OpenConnections(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl OpenConnections {
    /// A slot for one more connection from `ip`, or `None` when it holds `cap` already.
    fn take(&self, ip: IpAddr, cap: Option<usize>) -> Option<Slot> {
        let Some(cap) = cap else {
            return Some(Slot(None));
        };
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot(Some((self.clone(), ip))))
    }
}

/// Gives its connection's place back when the connection ends.
struct Slot(Option<(OpenConnections, IpAddr)>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((open, ip)) = self.0.take() {
            let mut map = open.0.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}
