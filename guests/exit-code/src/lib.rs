//! Ends with `wasi:cli/exit#exit-with-code(3)` (WASI 0.2.12).
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/app", generate_all });

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        println!("exiting with 3");
        wasi::cli::exit::exit_with_code(3);
        Ok(())
    }
}

export!(App);
