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
        let count: Option<usize> = args.last().and_then(|n| n.parse().ok());
        if args.first().is_some_and(|a| a == "own") {
            let held = hold(count, |n| Token::new(OwnToken { _n: n as u32 }));
            println!("held {held} handles of its own resource");
        } else {
            let held = hold(count, |_| subscribe_duration(60_000_000_000));
            println!("held {held} pollables");
        }
        Ok(())
    }
}

/// Makes and keeps resources until `count` of them are held (without end
/// when there is no count), then drops them and says how many there were.
fn hold<T>(count: Option<usize>, mut make: impl FnMut(usize) -> T) -> usize {
    let mut held = Vec::new();
    while count.is_none_or(|count| held.len() < count) {
        held.push(make(held.len()));
    }
    held.len()
}

export!(App);
