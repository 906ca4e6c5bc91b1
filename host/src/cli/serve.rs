//! `weft serve [FLAGS] APP`: serves a `wasi:http/proxy` app over HTTP.

use super::ServeArgs;
use crate::app::{App, LoadOptions};
use crate::http::serve::{ServeOptions, serve as serve_app};
use crate::package::Package;
use crate::{Error, Result};

pub(crate) fn serve(args: ServeArgs) -> Result<i32> {
    let dir = super::resolve_app(&args.app, &args.store)?;
    let options = LoadOptions {
        limits: args.limits.limits(),
        method: None,
        serve: Some(args.max_concurrent as usize),
        pool: None,
        cache: args.cache.cache(),
        progress: super::show_progress(),
        one_process: false,
    };
    let app = App::load(Package::load(&dir)?, &options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::internal("cannot start the async runtime").caused_by(&err))?;
    let print_ready = args.ready;
    let serve_options = ServeOptions {
        listen: args.listen,
        max_concurrent: args.max_concurrent as usize,
        shutdown_grace: args.shutdown_grace,
    };
    runtime.block_on(serve_app(app, serve_options, move |addr| {
        eprintln!("weft: listening on http://{addr}");
        super::signal_ready(print_ready)
    }))?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(0)
}
