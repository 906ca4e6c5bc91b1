//! weft's own log lines: `tracing` events, written to stderr (stdout belongs
//! to the app and to the `READY` line). `RUST_LOG` sets the filter; without
//! it, warnings and errors are shown.

/// Installs the stderr subscriber (once; later calls do nothing).
pub fn init() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;
    let logger = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    // Without `RUST_LOG` (the usual case) a plain level does: building an
    // `EnvFilter` was 2 % of a warm start of a small app.
    let _ = match std::env::var_os("RUST_LOG") {
        None => logger.with_max_level(LevelFilter::WARN).try_init(),
        Some(_) => {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
            logger.with_env_filter(filter).try_init()
        }
    };
}
