//! Serving connections: HTTP/1.1 over TCP or TLS, under limits that keep slow and idle
//! clients cheap, and a shutdown that finishes the requests in flight up to a deadline.
//!
//! Each connection runs in a task of its own, under [`Limits`]:
//! - at most `max_connections` at once; at the limit the listener stops accepting, and new
//!   clients wait in the kernel's backlog until a connection closes;
//! - a connection that waits for its next request is closed after `idle_timeout`; one that
//!   began a request head (or a TLS handshake) and has not finished it after
//!   `header_read_timeout`;
//! - a request body that stops arriving for `body_timeout` fails its request, and a
//!   response that the client stops reading for as long closes the connection;
//! - on shutdown the listener closes, idle connections close, and requests in flight have
//!   `shutdown_timeout` to finish; whatever is left is then dropped. An upload cut off so
//!   keeps the chunks it had committed, and its client resumes it.
//!
//! Without these, 500 idle connections, or connections that sent half a header or half a
//! body, stayed open forever and used up the process's file descriptors, and SIGTERM waited
//! for the slowest client.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

/// How long and how many: the `HTTP_*` keys, with their defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Limits {
    /// From a request's first byte (or a TLS handshake's) to the end of its head (20 s).
    #[serde(
        rename = "HTTP_HEADER_READ_TIMEOUT",
        deserialize_with = "crate::config::units::duration"
    )]
    pub(crate) header_read_timeout: Duration,
    /// How long a connection may wait for its next request (60 s).
    #[serde(
        rename = "HTTP_IDLE_TIMEOUT",
        deserialize_with = "crate::config::units::duration"
    )]
    pub(crate) idle_timeout: Duration,
    /// How long a request body may stop arriving, or a response stop being read (60 s).
    #[serde(
        rename = "HTTP_BODY_TIMEOUT",
        deserialize_with = "crate::config::units::duration"
    )]
    pub(crate) body_timeout: Duration,
    /// Connections served at once (10,000, fewer where the process may not open that many
    /// files; at least 1).
    #[serde(rename = "HTTP_MAX_CONNECTIONS")]
    pub(crate) max_connections: usize,
    /// How long requests in flight may take to finish after SIGTERM (30 s).
    #[serde(
        rename = "HTTP_SHUTDOWN_TIMEOUT",
        deserialize_with = "crate::config::units::duration"
    )]
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` (with TLS when `tls` is given) until `shutdown` resolves, then
/// finishes the requests in flight for up to `limits.shutdown_timeout`.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer, slot) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let connection = Connection {
            app: app.clone(),
            limits,
            peer,
        };
        let (tls, watcher) = (tls.clone(), connections.watcher());
        tokio::spawn(async move {
            connection.run(stream, tls, watcher).await;
            drop(slot);
        });
    }
    drop(listener);
    let open = connections.count();
    tracing::info!(open, "shutting down: finishing requests in flight");
    if tokio::time::timeout(limits.shutdown_timeout, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline = ?limits.shutdown_timeout,
            "requests still in flight at the shutdown deadline are cut off"
        );
    }
}

/// The next connection, once one of the `slots` is free.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let slot = match slots.clone().try_acquire_owned() {
        Ok(slot) => slot,
        Err(_) => {
            tracing::warn!("connection limit reached: new clients wait until a connection closes");
            match slots.clone().acquire_owned().await {
                Ok(slot) => slot,
                // The semaphore is never closed.
                Err(_) => std::future::pending().await,
            }
        }
    };
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, slot),
            Err(error) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One client's connection.
struct Connection {
    app: Router,
    limits: Limits,
    peer: SocketAddr,
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>, watcher: Watcher) {
        // Responses are small and written whole; coalescing them only adds latency.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        let Some(acceptor) = tls else {
            return self.serve(stream, watcher).await;
        };
        let peer = self.peer;
        match tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream, watcher).await,
            Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    }

    async fn serve<I>(self, io: I, watcher: Watcher)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let requests = Arc::new(Requests::new());
        let io = TokioIo::new(Deadlines::new(io, requests.clone(), self.limits));
        let (app, peer, body_timeout) = (self.app, self.peer, self.limits.body_timeout);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = requests.begin();
            let app = app.clone();
            // A body that stops arriving fails its request.
            let request = request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
            async move {
                let Ok(response) = app.oneshot(request).await;
                Ok::<_, Infallible>(response.map(|body| Responding {
                    body,
                    _in_flight: in_flight,
                }))
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            // Deadlines keeps the time of request heads, telling them from idle waits.
            .header_read_timeout(None)
            .serve_connection(io, service);
        if let Err(error) = watcher.watch(connection).await {
            tracing::debug!(%peer, %error, "connection closed");
        }
    }
}

/// The requests of a connection that have not finished their response, and since when it
/// has had none.
struct Requests {
    /// When the connection was accepted: the origin of `idle_since_ms`.
    accepted: Instant,
    in_flight: AtomicUsize,
    /// When the last response finished, in milliseconds since `accepted`.
    idle_since_ms: AtomicU64,
    /// Requests begun so far: a head that began before the latest of them has ended.
    begun: AtomicU64,
}

impl Requests {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            begun: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.begun.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    fn begun(&self) -> u64 {
        self.begun.load(Ordering::Relaxed)
    }

    /// Since when the connection has had no request in flight; `None` while it has one.
    fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| {
            self.accepted + Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed))
        })
    }
}

/// A request from its head until its response is sent (or abandoned).
struct InFlight(Arc<Requests>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let requests = &self.0;
        let since = u64::try_from(requests.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        requests.idle_since_ms.store(since, Ordering::Relaxed);
        requests.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// A response body, whose request is in flight until it is dropped.
struct Responding {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Responding {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's reads and writes, failed once they wait past their deadline.
///
/// What a read waits for decides its deadline: the next request (`idle_timeout` after the
/// last response), the rest of a request head (`header_read_timeout` after its first
/// bytes), or, while a request is in flight, nothing (its body has its own timeout). The
/// timer is not moved with every request, which would cost a trip to the runtime's timer
/// for each: it stays where it was set, and when it fires the deadline is worked out anew
/// and the timer set again if it is still ahead. A request in flight thus needs no wake-up
/// when it ends: the timer comes by and finds the connection idle.
struct Deadlines<I> {
    io: I,
    requests: Arc<Requests>,
    limits: Limits,
    /// When a request head began to arrive, and how many requests had begun then: once
    /// another has begun, the head has ended.
    head: Option<(Instant, u64)>,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    write_deadline: Option<Instant>,
}

impl<I> Deadlines<I> {
    fn new(io: I, requests: Arc<Requests>, limits: Limits) -> Self {
        let now = Instant::now();
        Self {
            io,
            requests,
            limits,
            head: None,
            read_timer: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            write_timer: Box::pin(tokio::time::sleep_until(now)),
            write_deadline: None,
        }
    }

    /// When a read that waits now fails, and why; `None` while a request is in flight.
    fn read_deadline(&mut self) -> Option<(Instant, &'static str)> {
        let idle_since = self.requests.idle_since()?;
        if self
            .head
            .is_some_and(|(_, begun)| begun != self.requests.begun())
        {
            self.head = None;
        }
        Some(match self.head {
            Some((since, _)) => (
                since + self.limits.header_read_timeout,
                "the request head took too long",
            ),
            None => (
                idle_since + self.limits.idle_timeout,
                "the connection was idle too long",
            ),
        })
    }

    /// A read that waits: fails once past its deadline, and otherwise makes sure the timer
    /// fires no later than the deadline.
    fn wait_for_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let now = Instant::now();
            let deadline = self.read_deadline();
            if let Some((deadline, reason)) = deadline
                && deadline <= now
            {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, reason)));
            }
            let armed = self.read_timer.deadline();
            match deadline {
                // Earlier than the timer (a request head began): move the timer up.
                Some((deadline, _)) if deadline < armed => {
                    self.read_timer.as_mut().reset(deadline);
                }
                // The timer came by early, or while a request was in flight: set it again.
                _ if armed <= now => {
                    let next = deadline.map_or(now + self.limits.idle_timeout, |(at, _)| at);
                    self.read_timer.as_mut().reset(next);
                }
                _ => {}
            }
            if self.read_timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// A write's outcome; one that has waited `body_timeout` fails.
    fn write_within<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.write_deadline = None;
            return written;
        }
        if self.write_deadline.is_none() {
            let deadline = Instant::now() + self.limits.body_timeout;
            self.write_timer.as_mut().reset(deadline);
            self.write_deadline = Some(deadline);
        }
        ready!(self.write_timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading the response",
        )))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Deadlines<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        if let Poll::Ready(read) = Pin::new(&mut this.io).poll_read(cx, buf) {
            // The first bytes while no request is in flight begin a head (while one is,
            // they are its body, or the next head, arriving early).
            if this.head.is_none()
                && buf.filled().len() > before
                && this.requests.idle_since().is_some()
            {
                this.head = Some((Instant::now(), this.requests.begun()));
            }
            return Poll::Ready(read);
        }
        this.wait_for_read(cx)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Deadlines<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.write_within(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.write_within(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        self.write_within(cx, flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
