//! `weft`: the command line, without the compiler (see the package's docs).

fn main() {
    std::process::exit(weft_cli::weft_main(std::env::args_os().collect()));
}
