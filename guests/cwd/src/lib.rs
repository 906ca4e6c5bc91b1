//! Prints what `wasi:cli/environment#initial-cwd` reports.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/app", generate_all });

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        match wasi::cli::environment::initial_cwd() {
            Some(cwd) => println!("initial-cwd: {cwd}"),
            None => println!("initial-cwd: none"),
        }
        Ok(())
    }
}

export!(App);
