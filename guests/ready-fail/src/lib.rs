//! A command app whose `weft-ready` hook fails, so it must never run.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/ready-app", generate_all });

struct App;

impl Guest for App {
    fn weft_ready() -> Result<(), String> {
        Err("the database at db.internal:5432 is not reachable".to_string())
    }
}

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        println!("run: this must not be printed");
        Ok(())
    }
}

export!(App);
