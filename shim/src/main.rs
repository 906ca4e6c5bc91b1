//! `containerd-shim-weft-v1`: containerd's runtime `io.containerd.weft.v1`.
//! It runs the images `weft image` writes as containers, under weft's rules
//! (the hash pin, the grants, the limits, exit codes and one-line messages;
//! see `weft_cli::container`), on runwasi's `containerd-shim-wasm`: that
//! library talks to containerd, sets the container up in its namespaces and
//! cgroup, and keeps what [`WeftCompiler`] compiles in containerd's content
//! store, so that later containers of the same image start without
//! compiling.

#[cfg(target_os = "linux")]
mod shim;

#[cfg(target_os = "linux")]
fn main() {
    use containerd_shim_wasm::shim::Cli;
    shim::WeftShim::run(None);
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("containerd-shim-weft-v1 runs on Linux only");
    std::process::exit(1);
}
