//! WEFT compatibility: `weft-runtime <app_id> <session_id>`, for a WEFT
//! supervisor's `WEFT_RUNTIME_BIN`. Behaves as `weft run --ready <app_id>`.

fn main() {
    std::process::exit(weft_cli::weft_runtime_main(std::env::args_os().collect()));
}
