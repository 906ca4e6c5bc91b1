//! `weft serve`: a `wasi:http/proxy` component behind hyper. One
//! pre-instantiated component per app, a fresh isolated instance per request
//! (from the pooling allocator), bodies streamed both ways, the app's limits
//! per request, and a graceful stop on SIGINT/SIGTERM.
//!
//! A trap or a limit hit in one request is a 500 for that request only,
//! logged on stderr; other requests are not affected.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::app::App;
use crate::instance::{self, InstanceState, WasiConfig};
use crate::{Error, Result};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Requests handled at once; more wait for a slot.
    pub max_concurrent: usize,
    /// How long in-flight requests may take to finish after a stop signal.
    pub shutdown_grace: Duration,
}

type ResponseBody = wasmtime_wasi_http::p2::body::HyperOutgoingBody;

struct Server {
    app: App,
    proxy: ProxyPre<InstanceState>,
    config: WasiConfig,
    slots: Arc<Semaphore>,
}

/// Binds, calls `on_listening` with the bound address, and serves until
/// SIGINT or SIGTERM; then finishes in-flight requests (bounded by the grace
/// period) and returns.
pub async fn serve(
    app: App,
    options: ServeOptions,
    on_listening: impl FnOnce(SocketAddr) -> Result<()>,
) -> Result<()> {
    let proxy = app.proxy_pre().ok_or_else(|| {
        Error::package(format!(
            "app {} does not export `wasi:http/incoming-handler`, so `weft serve` cannot serve it; build it against the `wasi:http/proxy` world (weft:app/http-app), or run it with `weft run`",
            app.id()
        ))
    })?;
    let config = app.wasi_config(&[], |name| std::env::var_os(name))?;
    let listener = TcpListener::bind(options.listen).await.map_err(|err| {
        Error::usage(format!(
            "cannot listen on {}: {err}; choose another address with --listen (127.0.0.1:0 picks a free port)",
            options.listen
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|err| Error::internal("cannot read the listening address").caused_by(&err))?;
    let server = Arc::new(Server {
        app,
        proxy,
        config,
        slots: Arc::new(Semaphore::new(options.max_concurrent.max(1))),
    });
    // The handlers are installed before anyone hears that weft listens: a
    // SIGTERM right after the READY line must stop weft gracefully, not
    // kill it by the signal's default action.
    let stop = stop_signal();
    tokio::pin!(stop);
    on_listening(local)?;

    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!("accepting a connection failed: {err}");
                        continue;
                    }
                };
                // A response goes out in several writes (head, body chunks):
                // with Nagle's algorithm the last waits for the client's
                // delayed ACK, up to 40 ms.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!("cannot set TCP_NODELAY: {err}");
                }
                let server = server.clone();
                let service = hyper::service::service_fn(move |request| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.handle(request).await) }
                });
                let connection = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!("connection ended with an error: {err}");
                    }
                });
            }
            signal = &mut stop => {
                eprintln!("weft: {signal}: no longer accepting connections; finishing requests in flight");
                break;
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "weft: requests still in flight after {}s were cut off",
            options.shutdown_grace.as_secs()
        );
    }
    Ok(())
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
    async fn handle(
        self: Arc<Self>,
        request: hyper::Request<Incoming>,
    ) -> hyper::Response<ResponseBody> {
        let described = format!("{} {}", request.method(), request.uri());
        let Ok(permit) = self.slots.clone().acquire_owned().await else {
            return plain(503, "the server is shutting down\n");
        };
        match self.clone().run(request, permit).await {
            Ok(response) => response,
            Err(message) => {
                eprintln!("weft: request {described} failed: {message}");
                plain(500, "internal server error\n")
            }
        }
    }

    /// Runs one request in a fresh instance. The response is returned as
    /// soon as the guest sets it; its body streams while the guest runs on.
    async fn run(
        self: Arc<Self>,
        request: hyper::Request<Incoming>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> std::result::Result<hyper::Response<ResponseBody>, String> {
        let started = Instant::now();
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
        let task = tokio::spawn(async move {
            let _slot = permit;
            let work = async {
                let proxy = server.proxy.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            };
            match instance::under_timeout(&limits, started, work).await {
                Ok(outcome) => outcome.map_err(|err| server.describe(&store, err)),
                Err(hit) => Err(format!("app {} was stopped: {hit}", server.app.id())),
            }
        });

        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(format!("the guest answered with the error {code:?}")),
            Err(_) => match task.await {
                Ok(Ok(())) => Err("the guest returned without setting a response".to_string()),
                Ok(Err(message)) => Err(message),
                Err(err) => Err(format!("the request's task failed: {err}")),
            },
        }
    }

    fn describe(&self, store: &Store<InstanceState>, err: wasmtime::Error) -> String {
        crate::process::describe_end(&self.app, store, err)
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
