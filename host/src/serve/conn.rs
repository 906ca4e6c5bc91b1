//! What one client may hold: each connection is watched, and closed when
//! its client is too slow, whatever the app is doing.
//!
//! - a request head must arrive within `header` of its first byte (of the
//!   connection's start, for the first request);
//! - a keep-alive connection with no request in flight is closed after
//!   `idle`;
//! - a client that stops sending a request body the app is waiting for, or
//!   stops reading a response, is cut off after `body` or `send`;
//! - a request body may be at most `max_request_body` bytes: a
//!   `Content-Length` over it is answered 413 before the app runs, and a
//!   body that crosses it mid-way ends the app's body stream with an error
//!   (the client gets 413 if no response head went out yet, or its
//!   connection closed if one did).
//!
//! The clock is read only when something changes state; the watchdog of a
//! connection wakes at its nearest deadline, and at least every `tick` (so
//! that a deadline armed since, such as a write that began waiting, is
//! seen in time).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a client may take (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// A request head, from its first byte (`--header-timeout`).
    pub header: Duration,
    /// A keep-alive connection with no request in flight (`--idle-timeout`).
    pub idle: Duration,
    /// A pause in a request body the app waits for (`--body-timeout`).
    pub body: Duration,
    /// A pause in reading a response (`--send-timeout`).
    pub send: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        ClientTimeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            body: Duration::from_secs(60),
            send: Duration::from_secs(60),
        }
    }
}

/// Why a connection was closed by its watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shed {
    Header,
    Idle,
    Body,
    Send,
}

impl std::fmt::Display for Shed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Shed::Header => "its request head did not arrive within --header-timeout",
            Shed::Idle => "it was idle for --idle-timeout",
            Shed::Body => "its client paused a request body for --body-timeout",
            Shed::Send => "its client stopped reading the response for --send-timeout",
        })
    }
}

/// One connection's state, shared by its socket, its requests and its
/// watchdog. Times are milliseconds since `started`, plus one; zero means
/// "not now".
pub(super) struct Activity {
    started: Instant,
    /// Requests whose head has arrived and whose response has not finished.
    in_flight: AtomicUsize,
    /// When the connection last had no request in flight.
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived.
    head_since: AtomicU64,
    /// When the app began waiting for a request body that has not come.
    body_since: AtomicU64,
    /// When a write began waiting for the client to read.
    send_since: AtomicU64,
}

impl Activity {
    pub(super) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(1),
            // The first request's head is timed from the connection's start.
            head_since: AtomicU64::new(1),
            body_since: AtomicU64::new(0),
            send_since: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    /// Sets `field` to now unless it is set.
    fn mark(&self, field: &AtomicU64) {
        if field.load(Ordering::Relaxed) == 0 {
            field.store(self.now(), Ordering::Relaxed);
        }
    }

    fn clear(field: &AtomicU64) {
        if field.load(Ordering::Relaxed) != 0 {
            field.store(0, Ordering::Relaxed);
        }
    }

    fn read_some(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            self.mark(&self.head_since);
        }
    }

    /// A request's head has arrived; the returned guard ends it when its
    /// response has finished (or been dropped).
    pub(super) fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Activity::clear(&self.head_since);
        InFlight(self.clone())
    }

    /// The nearest deadline and what it is for.
    fn deadline(&self, timeouts: &ClientTimeouts) -> Option<(u64, Shed)> {
        let at = |since: u64, limit: Duration| {
            since.saturating_add(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
        };
        let since = |field: &AtomicU64| Some(field.load(Ordering::Relaxed)).filter(|t| *t != 0);
        let mut nearest: Option<(u64, Shed)> = None;
        let mut consider = |deadline: u64, why: Shed| {
            if nearest.is_none_or(|(t, _)| deadline < t) {
                nearest = Some((deadline, why));
            }
        };
        if let Some(t) = since(&self.send_since) {
            consider(at(t, timeouts.send), Shed::Send);
        }
        if let Some(t) = since(&self.body_since) {
            consider(at(t, timeouts.body), Shed::Body);
        }
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            match since(&self.head_since) {
                Some(t) => consider(at(t, timeouts.header), Shed::Header),
                None => {
                    if let Some(t) = since(&self.idle_since) {
                        consider(at(t, timeouts.idle), Shed::Idle);
                    }
                }
            }
        }
        nearest
    }

    /// Resolves when the client has been too slow, with why.
    pub(super) async fn watch(&self, timeouts: ClientTimeouts) -> Shed {
        let shortest = [timeouts.header, timeouts.idle, timeouts.body, timeouts.send]
            .into_iter()
            .min()
            .unwrap_or_default();
        let tick = (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
        loop {
            let now = self.now();
            let wait = match self.deadline(&timeouts) {
                Some((deadline, why)) if deadline <= now => return why,
                Some((deadline, _)) => Duration::from_millis(deadline - now).min(tick),
                None => tick,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A request in flight on a connection, until dropped.
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            activity.idle_since.store(activity.now(), Ordering::Relaxed);
            Activity::clear(&activity.head_since);
            Activity::clear(&activity.body_since);
        }
    }
}

/// A socket that tells its connection's [`Activity`] when bytes arrive and
/// when writes wait for the client.
pub(super) struct Watched<T> {
    pub(super) io: T,
    pub(super) activity: Arc<Activity>,
    /// Counts the bytes each way (`--metrics`).
    pub(super) meter: super::Meter,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_some();
            self.meter.received(buf.filled().len() - before);
        }
        polled
    }
}

impl<T> Watched<T> {
    fn wrote_bytes(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(written)) = polled {
            self.meter.sent(written);
        }
        self.wrote(polled)
    }

    fn wrote<R>(&self, polled: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match &polled {
            Poll::Pending => self.activity.mark(&self.activity.send_since),
            Poll::Ready(_) => Activity::clear(&self.activity.send_since),
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote_bytes(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote_bytes(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.wrote(polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A request body capped at a size, as the app reads it. It also tells the
/// connection's [`Activity`] while the app waits for it.
pub(crate) struct Capped {
    body: Incoming,
    /// Bytes that may still come.
    left: u64,
    cap: u64,
    /// Set when the body went over the cap.
    over: Arc<AtomicBool>,
    activity: Arc<Activity>,
}

impl Capped {
    pub(super) fn new(
        body: Incoming,
        cap: u64,
        over: Arc<AtomicBool>,
        activity: Arc<Activity>,
    ) -> Capped {
        Capped {
            body,
            left: cap,
            cap,
            over,
            activity,
        }
    }
}

impl Drop for Capped {
    fn drop(&mut self) {
        Activity::clear(&self.activity.body_since);
    }
}

impl Body for Capped {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.over.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Pending => {
                self.activity.mark(&self.activity.body_since);
                return Poll::Pending;
            }
            Poll::Ready(_) => Activity::clear(&self.activity.body_since),
        }
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > self.left {
                        self.over.store(true, Ordering::Relaxed);
                        let cap = self.cap;
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(cap)),
                        )));
                    }
                    self.left -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.over.load(Ordering::Relaxed) || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> ClientTimeouts {
        ClientTimeouts {
            header: Duration::from_millis(100),
            idle: Duration::from_millis(1000),
            body: Duration::from_millis(300),
            send: Duration::from_millis(200),
        }
    }

    #[test]
    fn the_first_head_is_timed_from_the_start() {
        let activity = Activity::new();
        assert_eq!(activity.deadline(&timeouts()), Some((101, Shed::Header)));
    }

    #[test]
    fn a_request_in_flight_has_no_head_or_idle_deadline() {
        let activity = Activity::new();
        let request = activity.request();
        assert_eq!(activity.deadline(&timeouts()), None);
        // Bytes of a body are not a new head.
        activity.read_some();
        assert_eq!(activity.deadline(&timeouts()), None);
        activity.mark(&activity.send_since);
        assert_eq!(activity.deadline(&timeouts()).unwrap().1, Shed::Send);
        Activity::clear(&activity.send_since);
        activity.mark(&activity.body_since);
        assert_eq!(activity.deadline(&timeouts()).unwrap().1, Shed::Body);
        drop(request);
        // Done: idle, then a new head once a byte comes.
        assert_eq!(activity.deadline(&timeouts()).unwrap().1, Shed::Idle);
        activity.read_some();
        assert_eq!(activity.deadline(&timeouts()).unwrap().1, Shed::Header);
    }

    #[test]
    fn the_watchdog_fires_at_the_nearest_deadline() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let activity = Activity::new();
        let shed = runtime.block_on(activity.watch(timeouts()));
        assert_eq!(shed, Shed::Header);
        let _request = activity.request();
        activity.mark(&activity.send_since);
        let shed = runtime.block_on(activity.watch(timeouts()));
        assert_eq!(shed, Shed::Send);
    }
}
