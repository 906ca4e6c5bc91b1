//! Holds resources without end, or as many as its last argument says, and
//! then prints how many it held.
//!
//! - `resources [N]`: WASI pollables (each is an entry in weft's resource
//!   table and a handle in the component's handle table);
//! - `resources own [N]`: handles to a resource this guest defines itself
//!   (`resource.new`: entries in the component's handle table only, made
//!   without any host code in the loop).
wit_bindgen::generate!({
    path: "../../wit",
    inline: r#"
        package weft:resources-guest;

        interface tokens {
            resource token {
                constructor(n: u32);
            }
        }

        world guest {
            include weft:app/app@0.1.0;
            export tokens;
        }
    "#,
    world: "weft:resources-guest/guest",
    generate_all,
});

use exports::weft::resources_guest::tokens::{Guest as Tokens, GuestToken, Token};
use wasi::clocks::monotonic_clock::subscribe_duration;

struct App;

/// The guest's own resource: a number behind a handle.
struct OwnToken {
    _n: u32,
}

impl GuestToken for OwnToken {
    fn new(n: u32) -> Self {
        OwnToken { _n: n }
    }
}

impl Tokens for App {
    type Token = OwnToken;
}

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let own = args.first().is_some_and(|a| a == "own");
        let count: Option<usize> = args.last().and_then(|n| n.parse().ok());
        let more = |held: usize| count.is_none_or(|count| held < count);
        if own {
            let mut held = Vec::new();
            while more(held.len()) {
                held.push(Token::new(OwnToken { _n: held.len() as u32 }));
            }
            println!("held {} handles of its own resource", held.len());
        } else {
            let mut held = Vec::new();
            while more(held.len()) {
                held.push(subscribe_duration(60_000_000_000));
            }
            println!("held {} pollables", held.len());
        }
        Ok(())
    }
}

export!(App);
