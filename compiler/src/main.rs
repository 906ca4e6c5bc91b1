//! `weft-compiler`: the whole `weft` command line with the compiler linked in.
//! `weft` and `weft-runtime` hand over to it (same process, same arguments,
//! `argv[0]` saying which of the two it stands in for) when an app has to be
//! compiled; run directly, it behaves as `weft`.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_name())
        .map(|name| name.to_string_lossy().into_owned());
    let code = if invoked_as.as_deref() == Some("weft-runtime") {
        weft_cli::weft_runtime_main(args)
    } else {
        weft_cli::weft_main(args)
    };
    std::process::exit(code);
}
