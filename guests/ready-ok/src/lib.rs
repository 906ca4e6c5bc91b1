//! A command app with a `weft-ready` hook that succeeds.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/ready-app", generate_all });

struct App;

impl Guest for App {
    fn weft_ready() -> Result<(), String> {
        println!("weft-ready: ok");
        Ok(())
    }
}

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        println!("run: started");
        Ok(())
    }
}

export!(App);
