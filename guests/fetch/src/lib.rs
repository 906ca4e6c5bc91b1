//! Fetches the URL in its first argument with `wasi:http/outgoing-handler`
//! and prints the status and body, or the error code it got.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/http-client", generate_all });

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, OutgoingRequest, Scheme};

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let url = std::env::args().nth(1).unwrap_or_default();
        match fetch(&url) {
            Ok((status, body)) => {
                println!("status: {status}");
                println!("body: {body}");
                Ok(())
            }
            Err(err) => {
                println!("error: {err}");
                Err(())
            }
        }
    }
}

fn fetch(url: &str) -> Result<(u16, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("the URL has no scheme")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    request.set_scheme(Some(&scheme)).map_err(|()| "bad scheme")?;
    request.set_authority(Some(authority)).map_err(|()| "bad authority")?;
    request.set_path_with_query(Some(path)).map_err(|()| "bad path")?;

    let pending = outgoing_handler::handle(request, None).map_err(|code| format!("{code:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no response")?
        .map_err(|()| "response already taken")?
        .map_err(|code| format!("{code:?}"))?;
    let status = response.status();
    let body = response.consume().map_err(|()| "no body")?;
    let stream = body.stream().map_err(|()| "no body stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(wasi::io::streams::StreamError::Closed) => break,
            Err(err) => return Err(format!("reading the body: {err:?}")),
        }
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

export!(App);
