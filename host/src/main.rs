//! The `weft` command line. Invoked as `weft-runtime`, it takes WEFT's argv.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_name())
        .map(|name| name.to_string_lossy().into_owned());
    let code = if invoked_as.as_deref() == Some("weft-runtime") {
        weft::cli::weft_runtime_main(args)
    } else {
        weft::cli::main(args)
    };
    std::process::exit(code);
}
