//! `weft serve [FLAGS] APP`: serves a `wasi:http/proxy` (WASI 0.2) or
//! `wasi:http/service` (WASI 0.3) app over HTTP.

use std::ffi::OsString;

use clap::Args;
use weft::Result;
use weft::app::LoadOptions;
use weft::limits::{parse_bytes, parse_duration};
use weft::package::Package;
use weft::serve::{
    ClientLimits, ClientTimeouts, DEFAULT_MAX_CONNECTIONS, Listen, MIN_MAX_HEADER_SIZE, Reuse,
    ServeOptions, serve as serve_app,
};

use crate::load_app;
use crate::options::{CacheArgs, LimitArgs, StoreArgs};

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (the real one is
    /// printed). Ignored when systemd passes a socket (socket activation).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Requests handled at once; more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent: u32,
    /// Instances alive at once; past it, requests wait for an instance to be
    /// retired. A WASI 0.2 app has one instance per request in flight.
    #[arg(long, value_name = "N", default_value_t = weft::serve::DEFAULT_MAX_INSTANCES as u32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_instances: u32,
    /// WASI 0.3 apps: requests one instance takes in its life (then it is retired).
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instance_reuse_count: u32,
    /// WASI 0.3 apps: requests one instance handles at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instance_concurrent_reuse_count: u32,
    /// WASI 0.3 apps: how long an instance with nothing to do is kept.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub idle_instance_timeout: std::time::Duration,
    /// Serving threads, each with its own connections and instances
    /// [default: the number of CPUs weft may use].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Connections open at once; past it, new ones wait in the listen backlog.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// The largest request head (start line and headers); past it, 431.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = parse_header_size)]
    pub max_header_size: u64,
    /// The largest request body; past it, 413 [default: the manifest's
    /// `[runtime.serve] max_request_body`, else 100MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub max_request_body: Option<u64>,
    /// How long a client may take to send a request head, from its first
    /// byte (or from connecting); then its connection is closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: std::time::Duration,
    /// How long a keep-alive connection with no request in flight is kept.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// How long a client may pause a request body that the app waits for.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub body_timeout: std::time::Duration,
    /// How long a client may stop reading a response.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub send_timeout: std::time::Duration,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: std::time::Duration,
    /// Serve metrics in the Prometheus text format at http://ADDR/metrics:
    /// requests by method and status, latency, bytes, instances, traps and
    /// limit hits. Port 0 picks a free port (the real one is printed).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Print the line READY on stdout once the server accepts connections.
    #[arg(long)]
    pub ready: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Limits for each request, overriding the manifest's.
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The app: a package directory, its wapp.toml, an app id or a command name.
    #[arg(value_name = "APP")]
    pub app: OsString,
}

pub(crate) fn serve(args: ServeArgs) -> Result<i32> {
    let dir = args.store.resolve(&args.app)?;
    let app = load_app(Package::load(&dir)?, &args.load_options())?;
    serve_loaded(app, &args, None)
}

impl ServeArgs {
    /// How `weft serve` loads its app.
    pub(crate) fn load_options(&self) -> LoadOptions {
        LoadOptions {
            limits: self.limits.limits(),
            method: None,
            // The pool holds every instance that may be alive at once.
            serve: Some(self.max_concurrent.max(self.max_instances) as usize),
            pool: None,
            cache: self.cache.cache(),
            progress: crate::show_progress(),
            one_process: false,
        }
    }
}

/// Serves a loaded app as the flags say, until SIGINT or SIGTERM. `env` is
/// the host environment for the manifest's `from =` variables (`None`:
/// this process's).
pub(crate) fn serve_loaded(
    app: weft::app::App,
    args: &ServeArgs,
    env: Option<std::collections::BTreeMap<String, String>>,
) -> Result<i32> {
    let print_ready = args.ready;
    let threads = match args.threads {
        Some(threads) => threads as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // Socket activation: systemd's socket, if it passed one, else --listen.
    let listen = match weft::ready::listen_fds()? {
        Some(socket) => {
            tracing::info!(
                "serving on the socket systemd passed (LISTEN_FDS); --listen is ignored"
            );
            Listen::Socket(std::sync::Arc::new(socket))
        }
        None => Listen::Address(args.listen),
    };
    let serve_options = ServeOptions {
        listen,
        max_concurrent: args.max_concurrent as usize,
        max_instances: args.max_instances as usize,
        reuse: Reuse {
            max_count: args.max_instance_reuse_count as usize,
            max_concurrent: args.max_instance_concurrent_reuse_count as usize,
            idle_timeout: args.idle_instance_timeout,
        },
        shutdown_grace: args.shutdown_grace,
        threads,
        client: ClientLimits {
            max_connections: args.max_connections as usize,
            max_header_size: usize::try_from(args.max_header_size).unwrap_or(usize::MAX),
            max_request_body: args.max_request_body,
            timeouts: ClientTimeouts {
                header: args.header_timeout,
                idle: args.idle_timeout,
                body: args.body_timeout,
                send: args.send_timeout,
            },
        },
        env,
        metrics: args.metrics,
    };
    serve_app(app, serve_options, move |addr| {
        eprintln!("weft: listening on http://{addr}");
        crate::signal_ready(print_ready)
    })?;
    Ok(0)
}

/// `--max-header-size`: at least 8KiB (hyper's smallest buffer).
fn parse_header_size(text: &str) -> std::result::Result<u64, String> {
    let size = parse_bytes(text)?;
    if size < MIN_MAX_HEADER_SIZE as u64 {
        return Err(format!(
            "{text} is smaller than the smallest request head weft can read ({}KiB); give 8KiB or more",
            MIN_MAX_HEADER_SIZE >> 10
        ));
    }
    Ok(size)
}
