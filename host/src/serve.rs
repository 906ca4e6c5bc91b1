//! `weft serve`: an HTTP component behind hyper, bodies streamed both ways,
//! the app's limits, and a graceful stop on SIGINT/SIGTERM.
//!
//! Requests are served by several threads, each with its own single-threaded
//! runtime, connections and (for 0.3) instances: see [`serve`].
//!
//! - A WASI 0.2 `wasi:http/proxy` component gets a fresh isolated instance
//!   per request (from the pooling allocator), under the app's limits per
//!   request. A trap or a limit hit in one request is a 500 for that request
//!   only, logged on stderr.
//! - A WASI 0.3 `wasi:http/service` component exports `handle` as an `async
//!   func`: one instance takes several requests at once and is reused for
//!   later ones (wasmtime-wasi-http's [`ProxyHandler`], with `wasmtime
//!   serve`'s knobs and defaults: [`ServeOptions::reuse`]). weft caps the
//!   instances alive at once ([`ServeOptions::max_instances`]); past the cap,
//!   requests wait for an instance. A trap or a limit hit ends that instance:
//!   the requests it held are answered with 500, or cut short if their
//!   response had begun; the server and the other instances go on. The
//!   timeout is per request; fuel is given per request to the instance that
//!   takes it; memory is per instance.
//!   A 0.3 response's head waits two scheduler turns for what its body has
//!   ready, so that a short response leaves in one write (`serve/ahead.rs`).
//!
//! Clients are held to limits of their own, whatever the app does
//! ([`ClientLimits`]): connections open at once, the time a request head,
//! a paused request body, an idle keep-alive connection and a paused
//! reader may take, and the size of a request's head and body.

mod ahead;
mod conn;
mod metrics;

pub use conn::ClientTimeouts;
pub(crate) use metrics::Ending;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wasmtime::component::TaskGroupId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::handler::{
    self, ExpirationError, HandlerState, InstantiationError, Proxy, ProxyHandler, ShouldAccept,
    TrapOrPanicError, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::{WasiBody, WasiHttpCtxView, WasiHttpView};

use crate::app::{App, HttpPre};
use crate::instance::{self, InstanceState, WasiConfig};
use crate::limits::{LimitHit, Limits};
use crate::{Error, Result};
use conn::{Activity, Capped, InFlight, Watched};
use metrics::Meter;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen.
    pub listen: Listen,
    /// Requests handled at once; more wait for a slot.
    pub max_concurrent: usize,
    /// Instances alive at once; past it, requests wait for an instance. A
    /// 0.2 app has one instance per request in flight.
    pub max_instances: usize,
    /// How a 0.3 app's instances are reused.
    pub reuse: Reuse,
    /// How long in-flight requests may take to finish after a stop signal.
    pub shutdown_grace: Duration,
    /// Serving threads, each with its own runtime (at least one).
    pub threads: usize,
    /// What each client may hold.
    pub client: ClientLimits,
    /// The host environment that the manifest's `from =` variables are read
    /// from; `None` reads this process's (a container host passes the
    /// container's).
    pub env: Option<std::collections::BTreeMap<String, String>>,
    /// Where to serve the metrics in the Prometheus text format (`GET
    /// /metrics`; port 0 picks a free port, printed on stderr); `None`
    /// counts nothing.
    pub metrics: Option<SocketAddr>,
}

/// Where `weft serve` listens.
#[derive(Debug, Clone)]
pub enum Listen {
    /// Bind this address (port 0 picks a free port).
    Address(SocketAddr),
    /// Serve on a socket that is already listening, such as the one systemd
    /// passes by socket activation ([`crate::ready::listen_fds`]).
    Socket(Arc<std::net::TcpListener>),
}

/// What each client may hold, whatever the app does: past these, its
/// request is refused or its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// Connections open at once (`--max-connections`); past it, new ones
    /// wait in the listen backlog.
    pub max_connections: usize,
    /// A request's start line and headers, in bytes (`--max-header-size`);
    /// past it, 431.
    pub max_header_size: usize,
    /// A request body, in bytes (`--max-request-body`); `None` is the
    /// manifest's `[runtime.serve] max_request_body`, else
    /// [`DEFAULT_MAX_REQUEST_BODY`].
    pub max_request_body: Option<u64>,
    /// How long a client may take.
    pub timeouts: ClientTimeouts,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_request_body: None,
            timeouts: ClientTimeouts::default(),
        }
    }
}

/// The default cap on connections open at once (`--max-connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;
/// The default cap on a request's head (`--max-header-size`): 64 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 << 10;
/// The smallest `--max-header-size` hyper takes.
pub const MIN_MAX_HEADER_SIZE: usize = 8 << 10;
/// The default cap on a request body (`--max-request-body`,
/// `[runtime.serve] max_request_body`): 100 MiB.
pub const DEFAULT_MAX_REQUEST_BODY: u64 = 100 << 20;

/// What every connection of one server is held to.
#[derive(Debug, Clone, Copy)]
struct Held {
    timeouts: ClientTimeouts,
    max_header_size: usize,
    max_request_body: u64,
}

/// How a WASI 0.3 app's instances are reused, named and defaulted as
/// `wasmtime serve` does (`--max-instance-reuse-count`,
/// `--max-instance-concurrent-reuse-count`, `--idle-instance-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// Requests one instance takes in its life; then it is retired.
    pub max_count: usize,
    /// Requests one instance handles at once.
    pub max_concurrent: usize,
    /// How long an instance with nothing to do is kept.
    pub idle_timeout: Duration,
}

impl Default for Reuse {
    fn default() -> Self {
        Reuse {
            max_count: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

/// The default cap on instances alive at once (`--max-instances`).
pub const DEFAULT_MAX_INSTANCES: usize = 100;

type ResponseBody = WasiBody;

/// How requests are served: by the app's WASI release.
#[derive(Clone)]
enum Served {
    Fresh(Arc<Server>),
    Reused(Arc<Reused>),
}

impl Served {
    fn meter(&self) -> &Meter {
        match self {
            Served::Fresh(server) => &server.meter,
            Served::Reused(server) => &server.meter,
        }
    }
}

/// WASI 0.2: a fresh instance per request.
struct Server {
    app: App,
    meter: Meter,
    proxy: ProxyPre<InstanceState>,
    config: WasiConfig,
    slots: Arc<Semaphore>,
    instances: Arc<Semaphore>,
}

/// Binds (or takes the given socket), calls `on_listening` with the address,
/// and serves until SIGINT or SIGTERM; then finishes in-flight requests
/// (bounded by the grace period) and returns. It blocks the calling thread.
///
/// Under systemd (`$NOTIFY_SOCKET` set), it pings the watchdog with
/// `WATCHDOG=1` at half of `$WATCHDOG_USEC` when that is set, and sends
/// `STOPPING=1` when a signal stops it; `READY=1` is `on_listening`'s to
/// send.
///
/// Requests are served by [`ServeOptions::threads`] threads, each with its
/// own single-threaded Tokio runtime: the first accepts connections and
/// hands them out in turn, and a connection, its requests and (for a 0.3
/// app) the instances that take them stay on one thread. `max_concurrent`
/// is shared by all threads; a 0.3 app's `max_instances` is shared out among
/// them (a 0.2 app's, one instance per request, is shared). On two cores
/// this serves about a third more requests than one multi-threaded runtime,
/// whose cross-thread wake-ups cost more than the work
/// (docs/performance.md).
pub fn serve(
    app: App,
    options: ServeOptions,
    on_listening: impl FnOnce(SocketAddr) -> Result<()>,
) -> Result<()> {
    let pre = app.http_pre().ok_or_else(|| {
        Error::package(format!(
            "app {} does not export `wasi:http/incoming-handler` (WASI 0.2) or `wasi:http/handler` (WASI 0.3), so `weft serve` cannot serve it; build it against the `wasi:http/proxy` or `wasi:http/service` world (weft:app/http-app, or weft:app-p3/http-app for 0.3), or run it with `weft run`",
            app.id()
        ))
    })?;
    let config = match &options.env {
        Some(env) => app.wasi_config(&[], |name| env.get(name).map(Into::into))?,
        None => app.wasi_config(&[], |name| std::env::var_os(name))?,
    };
    let max_instances = options.max_instances.max(1);
    // A 0.3 app's instances belong to the thread that made them, so each
    // thread has its share of `max_instances` (a shared cap would leave a
    // thread waiting for another thread's idle instance to be retired); no
    // more threads than instances.
    let threads = match pre {
        HttpPre::P2(_) => options.threads.max(1),
        HttpPre::P3(_) => options.threads.clamp(1, max_instances),
    };
    let runtimes = (0..threads)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| Error::internal("cannot start the async runtime").caused_by(&err))
        })
        .collect::<Result<Vec<_>>>()?;
    let listener = match &options.listen {
        Listen::Address(address) => runtimes[0]
            .block_on(TcpListener::bind(address))
            .map_err(|err| {
                Error::usage(format!(
                    "cannot listen on {address}: {err}; choose another address with --listen (127.0.0.1:0 picks a free port)"
                ))
            })?,
        Listen::Socket(socket) => {
            let _context = runtimes[0].enter();
            socket
                .try_clone()
                .and_then(|socket| {
                    socket.set_nonblocking(true)?;
                    TcpListener::from_std(socket)
                })
                .map_err(|err| {
                    Error::internal("cannot serve on the socket weft was given").caused_by(&err)
                })?
        }
    };
    let local = listener
        .local_addr()
        .map_err(|err| Error::internal("cannot read the listening address").caused_by(&err))?;
    let (meter, metrics) = match options.metrics {
        Some(address) => {
            let listener = runtimes[0].block_on(metrics::bind(address))?;
            let bound = listener.local_addr().map_err(|err| {
                Error::internal("cannot read the metrics' listening address").caused_by(&err)
            })?;
            eprintln!("weft: metrics on http://{bound}/metrics");
            (Meter::new(), Some(listener))
        }
        None => (Meter::default(), None),
    };
    let held = Held {
        timeouts: options.client.timeouts,
        max_header_size: options.client.max_header_size.max(MIN_MAX_HEADER_SIZE),
        max_request_body: options
            .client
            .max_request_body
            .or(app.manifest().serve.max_request_body)
            .unwrap_or(DEFAULT_MAX_REQUEST_BODY),
    };
    // Connections open at once, on every thread: past the cap, weft stops
    // accepting, and new ones wait in the listen backlog.
    let connections = Arc::new(Semaphore::new(options.client.max_connections.max(1)));

    // Shared by every thread: the cap on requests, and on a 0.2 app's
    // instances (one per request).
    let requests = Arc::new(Semaphore::new(options.max_concurrent.max(1)));
    let instances = Arc::new(Semaphore::new(max_instances));
    // `stopped` is the thread's own: set once it has finished its requests
    // (see `Worker::stopped`).
    let served = |thread: usize, stopped: &Arc<AtomicBool>| match &pre {
        HttpPre::P2(proxy) => Served::Fresh(Arc::new(Server {
            app: app.clone(),
            meter: meter.clone(),
            proxy: proxy.clone(),
            config: config.clone(),
            slots: requests.clone(),
            instances: instances.clone(),
        })),
        // Each thread has its own handler, so that its instances run
        // where their requests arrive, and its share of the instances.
        HttpPre::P3(service) => {
            let share = max_instances / threads + usize::from(thread < max_instances % threads);
            let freed = Arc::new(Notify::new());
            Served::Reused(Arc::new(Reused {
                app: app.clone(),
                meter: meter.clone(),
                requests: requests.clone(),
                freed: freed.clone(),
                handler: ProxyHandler::new(Instances {
                    meter: meter.clone(),
                    limits: app.limits().clone(),
                    app: app.clone(),
                    service: service.clone(),
                    config: config.clone(),
                    instances: Arc::new(Semaphore::new(share)),
                    freed,
                    reuse: options.reuse,
                    stopped: stopped.clone(),
                }),
            }))
        }
    };

    // The handlers are installed before anyone hears that weft listens: a
    // SIGTERM right after the READY line must stop weft gracefully, not
    // kill it by the signal's default action.
    let stop = {
        let _context = runtimes[0].enter();
        stop_signal()
    };
    on_listening(local)?;

    let mut runtimes = runtimes.into_iter();
    let first = runtimes.next().expect("one runtime at least");
    let mut hand_out = Vec::new();
    let mut others = Vec::new();
    for (index, runtime) in runtimes.enumerate() {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Handed>();
        hand_out.push(sender);
        let stopped = Arc::new(AtomicBool::new(false));
        let served = served(index + 1, &stopped);
        let grace = options.shutdown_grace;
        let thread = std::thread::Builder::new()
            .name(format!("weft-serve-{}", index + 1))
            .spawn(move || {
                let cut_off = runtime.block_on(serve_handed(served, receiver, held, grace));
                // The instances still alive (idle ones, kept for reuse)
                // are dropped with the runtime; that is their end, not a
                // failure.
                stopped.store(true, Ordering::Relaxed);
                runtime.shutdown_timeout(Duration::from_secs(1));
                cut_off
            })
            .map_err(|err| Error::internal("cannot start a serving thread").caused_by(&err))?;
        others.push(thread);
    }
    let stopped = Arc::new(AtomicBool::new(false));
    let served = served(0, &stopped);
    let mut cut_off = first.block_on(async {
        tokio::pin!(stop);
        if let Some(listener) = metrics {
            tokio::spawn(meter.clone().serve(listener));
        }
        // systemd's watchdog hears from the thread that accepts: if it
        // stops, so do the pings.
        let watchdog = crate::ready::watchdog_interval().map(|interval| {
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(interval);
                loop {
                    ticks.tick().await;
                    if let Err(err) = crate::ready::notify("WATCHDOG=1") {
                        tracing::warn!("cannot ping the watchdog at $NOTIFY_SOCKET: {err}");
                    }
                }
            })
        });
        let graceful = GracefulShutdown::new();
        let mut turn = 0usize;
        let signal = loop {
            // A connection is accepted only with a place for it.
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => continue,
                },
                signal = &mut stop => break signal,
            };
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(err) => {
                        // Out of descriptors, say: it clears as
                        // connections close, so wait a moment instead of
                        // spinning.
                        tracing::warn!("accepting a connection failed: {err}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
                signal = &mut stop => break signal,
            };
            // Connections go to the threads in turn; this one takes its
            // share too.
            turn = (turn + 1) % (hand_out.len() + 1);
            if turn == 0 {
                serve_connection(&served, stream, permit, held, &graceful);
            } else {
                match stream.into_std() {
                    Ok(stream) => {
                        let _ = hand_out[turn - 1].send((stream, permit));
                    }
                    Err(err) => tracing::debug!("cannot hand a connection over: {err}"),
                }
            }
        };
        eprintln!("weft: {signal}: no longer accepting connections; finishing requests in flight");
        if let Err(err) = crate::ready::notify("STOPPING=1") {
            tracing::warn!("cannot tell $NOTIFY_SOCKET that weft is stopping: {err}");
        }
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        drop(listener);
        // The other threads stop taking connections once theirs close.
        drop(hand_out);
        finish(graceful, options.shutdown_grace).await
    });
    for thread in others {
        cut_off |= thread.join().unwrap_or(true);
    }
    if cut_off {
        eprintln!(
            "weft: requests still in flight after {}s were cut off",
            options.shutdown_grace.as_secs()
        );
    }
    stopped.store(true, Ordering::Relaxed);
    drop(served);
    first.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// What a handler gives back: a response, with what must live as long as
/// its body goes out.
struct Answer {
    response: hyper::Response<ResponseBody>,
    /// The request's slot under `--max-concurrent` (0.3 apps).
    permit: Option<OwnedSemaphorePermit>,
    /// Set if the app ends badly before the body has gone out whole.
    cut: Option<Cut>,
}

impl Answer {
    fn plain(response: hyper::Response<ResponseBody>) -> Answer {
        Answer {
            response,
            permit: None,
            cut: None,
        }
    }
}

/// An answer, or one sentence on why there is none.
type Outcome = std::result::Result<Answer, String>;

/// Set when the app that writes a response body ended badly (a trap, a
/// limit) before the body was whole. wasmtime-wasi-http ends such a body as
/// if it were complete; with this set, weft ends it with an error instead,
/// so that hyper closes the connection and the client can tell.
#[derive(Clone, Default)]
struct Cut(Arc<AtomicBool>);

impl Cut {
    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A connection handed to another thread, with its place under
/// `--max-connections`.
type Handed = (std::net::TcpStream, OwnedSemaphorePermit);

/// One serving thread past the first: serves the connections handed to it
/// until the first thread stops handing them out (it drops the sender when
/// the server stops). True when requests were cut off by the grace period.
async fn serve_handed(
    served: Served,
    mut connections: tokio::sync::mpsc::UnboundedReceiver<Handed>,
    held: Held,
    grace: Duration,
) -> bool {
    let graceful = GracefulShutdown::new();
    while let Some((stream, permit)) = connections.recv().await {
        match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => serve_connection(&served, stream, permit, held, &graceful),
            Err(err) => tracing::debug!("cannot take a connection over: {err}"),
        }
    }
    finish(graceful, grace).await
}

/// Serves one connection on this thread's runtime, watched by `graceful`
/// and by its own watchdog; `permit` is its place under
/// `--max-connections`, given back when it closes.
fn serve_connection(
    served: &Served,
    stream: tokio::net::TcpStream,
    permit: OwnedSemaphorePermit,
    held: Held,
    graceful: &GracefulShutdown,
) {
    // A response goes out in several writes (head, body chunks): with
    // Nagle's algorithm the last waits for the client's delayed ACK, up to
    // 40 ms.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {err}");
    }
    let activity = Activity::new();
    let meter = served.meter().clone();
    let open = meter.connection();
    let server = served.clone();
    let requests = activity.clone();
    let counted = meter.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let server = server.clone();
        let in_flight = requests.request();
        let activity = requests.clone();
        let meter = counted.clone();
        let started = Instant::now();
        async move {
            let cap = held.max_request_body;
            let (method, uri) = (request.method().clone(), request.uri().clone());
            if declared_length(&request).is_some_and(|len| len > cap) {
                let answer = Answer::plain(too_large(cap));
                meter.request(&method, answer.response.status(), started.elapsed());
                return Ok(Tracked::new(answer, in_flight, None));
            }
            let over = Arc::new(AtomicBool::new(false));
            let request = request.map(|body| Capped::new(body, cap, over.clone(), activity));
            let outcome = match server {
                Served::Fresh(server) => server.handle(request).await,
                Served::Reused(server) => server.handle(request).await,
            };
            // The body went over the cap before the response head went
            // out: whatever the app answered, or failed with, the answer
            // is 413 (the client's doing, not the app's).
            if over.load(Ordering::Relaxed) {
                let answer = Answer::plain(too_large(cap));
                meter.request(&method, answer.response.status(), started.elapsed());
                return Ok(Tracked::new(answer, in_flight, None));
            }
            let answer = match outcome {
                Ok(answer) => answer,
                Err(message) => {
                    eprintln!("weft: request {method} {uri} failed: {message}");
                    Answer::plain(plain(500, "internal server error\n"))
                }
            };
            meter.request(&method, answer.response.status(), started.elapsed());
            Ok::<_, Infallible>(Tracked::new(answer, in_flight, Some(over)))
        }
    });
    // A client may close its sending side once its request is out and
    // still wait for the response (hyper would otherwise drop the
    // connection, and the response, when it reads that end first).
    let connection = http1::Builder::new()
        .keep_alive(true)
        .half_close(true)
        .max_header_size(held.max_header_size)
        .serve_connection(
            TokioIo::new(Watched {
                io: stream,
                activity: activity.clone(),
                meter,
            }),
            service,
        );
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        let _permit = permit;
        let _open = open;
        tokio::select! {
            ended = connection => {
                if let Err(err) = ended {
                    tracing::debug!("connection ended with an error: {err}");
                }
            }
            shed = activity.watch(held.timeouts) => {
                tracing::debug!("closed a connection: {shed}");
            }
        }
    });
}

/// The body size a request declares, if it declares one.
fn declared_length(request: &hyper::Request<Incoming>) -> Option<u64> {
    request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// 413, for a request body over `--max-request-body`; the connection is
/// closed after it (the rest of the body is not read).
fn too_large(cap: u64) -> hyper::Response<ResponseBody> {
    let mut response = plain(413, "the request body is larger than this server accepts\n");
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    tracing::debug!("refused a request body over {cap} bytes (--max-request-body) with 413");
    response
}

/// Waits for the watched connections to finish, at most `grace`; true when
/// some were still going.
async fn finish(graceful: GracefulShutdown, grace: Duration) -> bool {
    tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
}

/// Installs the SIGINT and SIGTERM handlers now, and resolves with the name
/// of the first of them to arrive.
fn stop_signal() -> impl std::future::Future<Output = &'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = handlers else {
            // Without signal handlers there is nothing to wait for.
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    }
}

impl Server {
    /// The response, or why there is none.
    async fn handle(self: Arc<Self>, request: hyper::Request<Capped>) -> Outcome {
        let (Ok(permit), Ok(instance)) = (
            self.slots.clone().acquire_owned().await,
            self.instances.clone().acquire_owned().await,
        ) else {
            return Ok(Answer::plain(plain(503, "the server is shutting down\n")));
        };
        self.clone().run(request, (permit, instance)).await
    }

    /// Runs one request in a fresh instance. The response is returned as
    /// soon as the guest sets it; its body streams while the guest runs on.
    async fn run(
        self: Arc<Self>,
        request: hyper::Request<Capped>,
        permit: (OwnedSemaphorePermit, OwnedSemaphorePermit),
    ) -> Outcome {
        let started = Instant::now();
        // For the line about a failure after the response began; formatted
        // only then.
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let cut = Cut::default();
        let limits = self.app.limits().clone();
        let mut store = instance::new_store(self.proxy.engine(), &self.config, &limits, started)
            .map_err(|err| err.to_string())?;

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|err| format!("cannot pass the request to the guest: {err}"))?;
        let outparam = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|err| format!("cannot create the response: {err}"))?;

        // The permit lives as long as the guest runs, including while it
        // streams the body after the headers have gone out.
        let server = self.clone();
        let ended = cut.clone();
        let task = tokio::spawn(async move {
            let _slot = permit;
            let alive = server.meter.instance();
            let work = async {
                let proxy = server.proxy.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            };
            let outcome = match instance::under_timeout(&limits, started, work).await {
                Ok(outcome) => outcome.map_err(|err| {
                    let (ending, text) = crate::process::end_of(&server.app, &store, err);
                    if let Some(ending) = ending {
                        server.meter.ended(ending);
                    }
                    text
                }),
                Err(hit) => {
                    server.meter.ended(Ending::of_hit(&hit));
                    Err(format!("app {} was stopped: {hit}", server.app.id()))
                }
            };
            // Before the store goes, and the response body's channel with
            // it: a body that ends now ends cut short, not complete.
            if outcome.is_err() {
                ended.set();
            }
            drop(store);
            drop(alive);
            outcome
        });

        match receiver.await {
            Ok(Ok(response)) => {
                // The guest runs on while its body streams: if it fails now,
                // say so (the client sees its response cut short).
                tokio::spawn(async move {
                    if let Ok(Err(message)) = task.await {
                        eprintln!(
                            "weft: request {method} {uri} failed after its response began: {message}; the response was cut short"
                        );
                    }
                });
                Ok(Answer {
                    response,
                    permit: None,
                    cut: Some(cut),
                })
            }
            Ok(Err(code)) => Err(format!("the guest answered with the error {code:?}")),
            Err(_) => match task.await {
                Ok(Ok(())) => Err("the guest returned without setting a response".to_string()),
                Ok(Err(message)) => Err(message),
                Err(err) => Err(format!("the request's task failed: {err}")),
            },
        }
    }
}

fn plain(status: u16, text: &'static str) -> hyper::Response<ResponseBody> {
    let body = http_body_util::Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

/// WASI 0.3: instances reused, several requests at once in each.
struct Reused {
    app: App,
    meter: Meter,
    /// Requests in flight, until their response body has gone out.
    requests: Arc<Semaphore>,
    handler: ProxyHandler<Instances>,
    /// Told when a request has its response (its instance can take
    /// another) and when an instance is retired (its slot is free).
    freed: Arc<Notify>,
}

/// What [`Instances::instantiate`] fails with when `--max-instances` are
/// alive: [`Reused::handle`] takes the request back and waits.
#[derive(Debug)]
struct NoInstanceSlot;

impl std::fmt::Display for NoInstanceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every instance allowed (--max-instances) is alive")
    }
}

impl std::error::Error for NoInstanceSlot {}

fn is_no_slot(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<InstantiationError<Cut>>()
        .is_some_and(|failed| failed.error.downcast_ref::<NoInstanceSlot>().is_some())
}

/// The request an [`InstantiationError`] carries back.
fn take_back(err: wasmtime::Error) -> std::result::Result<handler::Request, wasmtime::Error> {
    let failed = err.downcast::<InstantiationError<Cut>>()?;
    Ok(failed
        .request
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner()))
}

impl Reused {
    /// The response, and the request's slot under `--max-concurrent`, to be
    /// held until the response body has gone out; or why there is none.
    async fn handle(self: Arc<Self>, request: hyper::Request<Capped>) -> Outcome {
        let Ok(permit) = self.requests.clone().acquire_owned().await else {
            return Ok(Answer::plain(plain(503, "the server is shutting down\n")));
        };
        let cut = Cut::default();
        let mut request = to_wasi_request(request);
        let mut backoff = Duration::from_millis(1);
        let outcome = loop {
            match self.handler.handle(cut.clone(), request).await {
                Err(err) if is_no_slot(&err) => {
                    // Every instance allowed is alive and none could take
                    // it when it came: wait until a request ends (its
                    // instance can take another) or an instance is retired,
                    // and at most a growing moment, then offer it again.
                    request = match take_back(err) {
                        Ok(request) => request,
                        Err(err) => break Err(err),
                    };
                    tokio::select! {
                        _ = self.freed.notified() => {}
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_millis(64));
                }
                outcome => break outcome,
            }
        };
        // An instance has room for another request now.
        self.freed.notify_waiters();
        match outcome {
            Ok(response) => Ok(Answer {
                response: ahead::read_ahead(response).await,
                permit: Some(permit),
                cut: Some(cut),
            }),
            Err(err) => Err(self.describe(&err)),
        }
    }

    /// One sentence on why a request got no response.
    fn describe(&self, err: &wasmtime::Error) -> String {
        let id = self.app.id();
        if err.downcast_ref::<ExpirationError>().is_some() {
            let limit = self.app.limits().timeout.unwrap_or_default();
            return format!("app {id} was stopped: {}", LimitHit::Timeout { limit });
        }
        if err.downcast_ref::<TrapOrPanicError>().is_some() {
            return format!(
                "the instance of app {id} that held it ended before it answered (another request it held trapped or hit a limit; see the line about that instance)"
            );
        }
        if let Some(failed) = err.downcast_ref::<InstantiationError<Cut>>() {
            return format!("cannot start an instance of app {id}: {:#}", failed.error);
        }
        if let Some(code) =
            err.downcast_ref::<wasmtime_wasi_http::p3::bindings::http::types::ErrorCode>()
        {
            return format!("the guest answered with the error {code:?}");
        }
        format!("app {id} failed while handling it: {err:#}")
    }
}

/// hyper's request as wasmtime-wasi-http takes it: the body boxed, and the
/// scheme and authority (from `Host`) filled in so that the guest sees a
/// whole URI, as a 0.2 guest does.
fn to_wasi_request(request: hyper::Request<Capped>) -> handler::Request {
    let (mut parts, body) = request.into_parts();
    if parts.uri.scheme().is_none() {
        let authority = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|host| host.to_str().ok())
            .and_then(|host| host.parse::<http::uri::Authority>().ok());
        let mut uri = http::uri::Parts::from(parts.uri.clone());
        uri.scheme = Some(http::uri::Scheme::HTTP);
        uri.authority = authority;
        if uri.authority.is_some()
            && let Ok(whole) = http::Uri::from_parts(uri)
        {
            parts.uri = whole;
        }
    }
    hyper::Request::from_parts(parts, body.boxed_unsync())
}

/// A response body that keeps its request in flight (and, for a 0.3 app,
/// its slot under `--max-concurrent`) until it has gone out, and that cuts
/// the connection off if the request body goes over its cap after the
/// response head went out.
struct Tracked {
    body: ResponseBody,
    _permit: Option<OwnedSemaphorePermit>,
    _in_flight: InFlight,
    over: Option<Arc<AtomicBool>>,
    cut: Option<Cut>,
}

impl Tracked {
    fn new(
        answer: Answer,
        in_flight: InFlight,
        over: Option<Arc<AtomicBool>>,
    ) -> hyper::Response<Tracked> {
        let Answer {
            response,
            permit,
            cut,
        } = answer;
        response.map(|body| Tracked {
            body,
            _permit: permit,
            _in_flight: in_flight,
            over,
            cut,
        })
    }

    /// The request body went over its cap after the response head went out.
    fn over_cap(&self) -> bool {
        self.over
            .as_ref()
            .is_some_and(|over| over.load(Ordering::Relaxed))
    }

    /// The app that writes this body ended badly before it was whole.
    fn app_ended(&self) -> bool {
        self.cut.as_ref().is_some_and(Cut::is_set)
    }
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.over_cap() {
            // An error in the body makes hyper close the connection.
            return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                None,
            ))));
        }
        match Pin::new(&mut self.body).poll_frame(cx) {
            // The body "ended" because the app that wrote it did.
            Poll::Ready(None) if self.app_ended() => {
                Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(
                    "the app ended before its response body was complete".to_string(),
                )))))
            }
            polled => polled,
        }
    }

    /// Never while the connection is to be cut off: hyper then polls the
    /// body once more and gets the error.
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream() && !self.app_ended() && !self.over_cap()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The instances of a 0.3 app: [`ProxyHandler`] asks for one whenever no
/// instance can take a request.
struct Instances {
    app: App,
    meter: Meter,
    service: ServicePre<InstanceState>,
    config: WasiConfig,
    /// The app's limits; the timeout is per request, not per instance.
    limits: Limits,
    instances: Arc<Semaphore>,
    freed: Arc<Notify>,
    reuse: Reuse,
    /// Set once the server has stopped (see [`Worker::stopped`]).
    stopped: Arc<AtomicBool>,
}

fn http_view(state: &mut InstanceState) -> WasiHttpCtxView<'_> {
    state.http()
}

impl HandlerState for Instances {
    type StoreData = InstanceState;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<handler::Instance<InstanceState, Expiry, Worker>> {
        // Past the cap the instance is not made: the request goes back
        // to `Reused::handle`, which waits and offers it again (waiting
        // here would bind it to an instance that cannot start, while
        // the instances alive could take it).
        let slot = self
            .instances
            .clone()
            .try_acquire_owned()
            .map_err(|_| wasmtime::Error::new(NoInstanceSlot))?;
        // The store has no deadline of its own: an instance outlives
        // any one request. Each request's timeout is enforced by
        // `Worker::on_request_start` and `Expiry`.
        let store_limits = Limits {
            timeout: None,
            ..self.limits.clone()
        };
        let mut store = instance::new_store(
            self.service.engine(),
            &self.config,
            &store_limits,
            Instant::now(),
        )
        .map_err(|err| wasmtime::format_err!("{err}"))?;
        let service = self.service.instantiate_async(&mut store).await?;
        let timed_out = Arc::new(AtomicBool::new(false));
        Ok(handler::Instance {
            store,
            proxy: Proxy::P3(service),
            view: http_view,
            expiration: Expiry {
                idle: self.reuse.idle_timeout,
                timeout: self.limits.timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
                timed_out: timed_out.clone(),
            },
            state: Worker {
                app: self.app.clone(),
                meter: self.meter.clone(),
                _alive: self.meter.instance(),
                taken: std::sync::atomic::AtomicUsize::new(0),
                reuse: self.reuse,
                timeout: self.limits.timeout,
                fuel: self.limits.fuel,
                slot: Some(slot),
                freed: self.freed.clone(),
                timed_out,
                held: std::sync::Mutex::new(Vec::new()),
                stopped: self.stopped.clone(),
            },
        })
    }
}

/// One instance's bookkeeping; its slot under `--max-instances` is freed
/// when the instance is retired and this is dropped.
struct Worker {
    app: App,
    meter: Meter,
    /// Counts this instance as alive while it is.
    _alive: metrics::Alive,
    /// Requests this instance has taken.
    taken: std::sync::atomic::AtomicUsize,
    reuse: Reuse,
    timeout: Option<Duration>,
    fuel: Option<u64>,
    slot: Option<OwnedSemaphorePermit>,
    freed: Arc<Notify>,
    /// Set by [`Expiry`] when it stops the instance for a request's timeout.
    timed_out: Arc<AtomicBool>,
    /// The requests this instance has taken whose responses may still be
    /// going out.
    held: std::sync::Mutex<Vec<Cut>>,
    /// Set once the server has stopped and finished its requests: an
    /// instance still alive then is dropped with the runtime, and
    /// wasmtime-wasi-http reports that to [`WorkerState::drop`] as an
    /// error (it cannot tell a cancelled worker from one that panicked).
    stopped: Arc<AtomicBool>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.slot.take());
        self.freed.notify_waiters();
    }
}

impl WorkerState for Worker {
    type StoreData = InstanceState;
    type RequestData = Cut;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_count {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, InstanceState>,
        cut: Cut,
        _group: TaskGroupId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        if self.taken.fetch_add(1, Ordering::Relaxed) > 0 {
            self.meter.reused();
        }
        // If this instance ends badly, this request's response is cut off.
        if let Ok(mut held) = self.held.lock() {
            held.retain(|cut| Arc::strong_count(&cut.0) > 1);
            held.push(cut);
        }
        // Each request brings its fuel to the instance that takes it (the
        // instance started with one request's worth, for its set-up).
        if let Some(fuel) = self.fuel {
            let left = store.get_fuel().unwrap_or(0);
            let _ = store.set_fuel(left.saturating_add(fuel));
        }
        match self.timeout {
            Some(limit) => Box::pin(tokio::time::sleep(limit)),
            None => Box::pin(std::future::pending()),
        }
    }

    fn drop(&self, store: Store<InstanceState>, result: wasmtime::Result<()>) {
        let Err(err) = result else {
            return;
        };
        // Before the store goes, and the response bodies' streams with it:
        // the bodies that end now end cut short, not complete.
        if let Ok(held) = self.held.lock() {
            for cut in held.iter() {
                cut.set();
            }
        }
        // Cancelled at the end of serving, not unwinding from a panic: an
        // idle instance that is simply not needed any more.
        if self.stopped.load(Ordering::Relaxed) && !std::thread::panicking() {
            return;
        }
        let id = self.app.id();
        let why = if self.timed_out.load(Ordering::Relaxed) {
            let hit = LimitHit::Timeout {
                limit: self.timeout.unwrap_or_default(),
            };
            self.meter.ended(Ending::of_hit(&hit));
            format!("app {id} was stopped: {hit}")
        } else {
            let (ending, text) = crate::process::end_of(&self.app, &store, err);
            if let Some(ending) = ending {
                self.meter.ended(ending);
            }
            text
        };
        eprintln!(
            "weft: an instance of app {id} ended: {why}; the requests it held were answered with 500, or cut short if their response had begun"
        );
    }
}

/// When an instance is retired: idle for longer than the idle timeout, or
/// busy with a request for longer than the request timeout. This is polled
/// outside the instance's event loop, so it holds even while a guest
/// computes.
struct Expiry {
    idle: Duration,
    timeout: Option<Duration>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let limit = match status {
            WorkerStatus::Idle => Some(self.idle),
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.timeout,
        };
        let Some(limit) = limit else {
            return Poll::Pending;
        };
        let deadline = start + limit;
        if Instant::now() < deadline {
            self.sleep.as_mut().reset(deadline.into());
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        if status != WorkerStatus::Idle {
            self.timed_out.store(true, Ordering::Relaxed);
        }
        Poll::Ready(())
    }
}
