//! `weft serve [FLAGS] APP`: serves a `wasi:http/proxy` app over HTTP.

use super::ServeArgs;
use crate::app::{App, LoadOptions};
use crate::http::serve::{ServeOptions, serve as serve_app};
use crate::limits::Limits;
use crate::package::Package;
use crate::{Error, Result, ready, store};

pub(crate) fn serve(args: ServeArgs) -> Result<i32> {
    let target = args.app.to_str().ok_or_else(|| {
        Error::usage(format!(
            "the app path {} is not valid UTF-8; rename it or serve it by app id",
            args.app.to_string_lossy()
        ))
    })?;
    let roots = if args.store.is_empty() {
        store::store_roots()
    } else {
        args.store.clone()
    };
    let dir = store::resolve_in(target, &roots)?;
    let options = LoadOptions {
        limits: Limits {
            memory: args.memory,
            fuel: args.fuel,
            timeout: args.timeout,
            table_elements: None,
            instances: None,
        },
        method: None,
        serve: Some(args.max_concurrent as usize),
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
        if print_ready {
            ready::print_ready_line()
                .map_err(|err| Error::internal("cannot write READY to stdout").caused_by(&err))?;
        }
        if let Err(err) = ready::notify_systemd() {
            tracing::warn!("cannot notify $NOTIFY_SOCKET that the server is ready: {err}");
        }
        Ok(())
    }))?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(0)
}
