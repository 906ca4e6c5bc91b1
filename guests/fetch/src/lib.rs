//! Fetches the URL in its first argument with `wasi:http/outgoing-handler`
//! and prints the status and body, or the error code it got. With
//! `--follow URL`, it follows redirects itself (the host never does), each
//! hop a new request that weft checks against `allowed_hosts` again. With
//! `--header-flood`, it appends 1 KiB headers to one `fields` until the host
//! refuses, and prints how many went in.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/http-client", generate_all });

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, OutgoingRequest, Scheme};

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let (follow, mut url) = match args.as_slice() {
            [flag] if flag == "--header-flood" => return header_flood(),
            [flag, url] if flag == "--follow" => (true, url.clone()),
            [url] => (false, url.clone()),
            _ => {
                eprintln!("usage: fetch [--follow] URL, or fetch --header-flood");
                return Err(());
            }
        };
        for _ in 0..5 {
            match fetch(&url) {
                Ok(response) => {
                    println!("status: {}", response.status);
                    match response.location {
                        Some(location) if follow && (300..400).contains(&response.status) => {
                            println!("following the redirect to {location}");
                            url = location;
                        }
                        _ => {
                            println!("body: {}", response.body);
                            return Ok(());
                        }
                    }
                }
                Err(err) => {
                    println!("error: {err}");
                    return Err(());
                }
            }
        }
        println!("error: too many redirects");
        Err(())
    }
}

/// One `fields` resource, grown without end: each header is host memory.
fn header_flood() -> Result<(), ()> {
    let fields = Fields::new();
    let value = vec![b'x'; 1024];
    for n in 0.. {
        if let Err(err) = fields.append(&format!("x-flood-{n}"), &value) {
            println!("refused after {n} headers: {err:?}");
            return Err(());
        }
    }
    Ok(())
}

struct Response {
    status: u16,
    location: Option<String>,
    body: String,
}

fn fetch(url: &str) -> Result<Response, String> {
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
    let location = response
        .headers()
        .get("location")
        .first()
        .map(|value| String::from_utf8_lossy(value).into_owned());
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
    Ok(Response {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

export!(App);
