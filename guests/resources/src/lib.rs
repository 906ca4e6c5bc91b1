//! Holds WASI resources (pollables) without end, or as many as its first
//! argument says and then prints how many it held.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/app", generate_all });

use wasi::clocks::monotonic_clock::subscribe_duration;

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let count: Option<usize> = std::env::args().nth(1).and_then(|n| n.parse().ok());
        let mut held = Vec::new();
        while count.is_none_or(|count| held.len() < count) {
            held.push(subscribe_duration(60_000_000_000));
        }
        println!("held {} pollables", held.len());
        Ok(())
    }
}

export!(App);
