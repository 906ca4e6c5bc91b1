//! A `wasi:http/proxy` component: `/` says hello, `/echo` streams the
//! request body back, `/trap` panics, `/spin` loops until a fuel or time
//! limit stops it, `/hog` grows its memory until the memory limit refuses,
//! `/empty` starts a response and writes empty buffers to its body without
//! end (until the timeout), `/length` reads the whole body and then answers its length (or 400 if
//! the body could not be read).
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/http-app", generate_all });

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::streams::StreamError;

struct App;

impl Guest for App {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        match path.as_str() {
            "/trap" => panic!("this handler traps on /trap"),
            "/spin" => spin(),
            "/hog" => hog(),
            "/echo" => echo(request, response_out),
            "/length" => length(request, response_out),
            "/empty" => empty(response_out),
            _ => hello(response_out),
        }
    }
}

fn spin() {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn hog() {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        held.push(vec![1; 1 << 20]);
        std::hint::black_box(&held);
    }
}

fn empty(response_out: ResponseOutparam) {
    let body = respond(response_out, b"text/plain");
    let out = body.write().expect("the stream is taken once");
    let mut made = 0u64;
    loop {
        match out.check_write() {
            Ok(0) => out.subscribe().block(),
            Ok(_) => {
                if let Err(e) = out.write(&[]) {
                    eprintln!("empty: write failed after {made}: {e:?}");
                    return;
                }
                made += 1;
            }
            Err(e) => {
                eprintln!("empty: check-write failed after {made}: {e:?}");
                return;
            }
        }
    }
}

fn length(request: IncomingRequest, response_out: ResponseOutparam) {
    let incoming = request.consume().expect("the body is consumed once");
    let input = incoming.stream().expect("the stream is taken once");
    let mut total = 0u64;
    let read = loop {
        match input.blocking_read(64 * 1024) {
            Ok(bytes) => total += bytes.len() as u64,
            Err(StreamError::Closed) => break true,
            Err(_) => break false,
        }
    };
    drop(input);
    let (status, text) = if read {
        (200, format!("{total} bytes\n"))
    } else {
        (400, format!("the body could not be read after {total} bytes\n"))
    };
    let body = respond_with(response_out, status, b"text/plain");
    {
        let out = body.write().expect("the stream is taken once");
        out.blocking_write_and_flush(text.as_bytes())
            .expect("writing the body");
    }
    OutgoingBody::finish(body, None).expect("finishing the body");
}

fn respond(response_out: ResponseOutparam, content_type: &[u8]) -> OutgoingBody {
    respond_with(response_out, 200, content_type)
}

fn respond_with(response_out: ResponseOutparam, status: u16, content_type: &[u8]) -> OutgoingBody {
    let headers = Fields::new();
    headers
        .set("content-type", &[content_type.to_vec()])
        .expect("content-type is allowed");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a status");
    let body = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    body
}

fn hello(response_out: ResponseOutparam) {
    let body = respond(response_out, b"text/plain");
    {
        let out = body.write().expect("the stream is taken once");
        out.blocking_write_and_flush(b"Hello from weft serve!\n")
            .expect("writing the body");
    }
    OutgoingBody::finish(body, None).expect("finishing the body");
}

fn echo(request: IncomingRequest, response_out: ResponseOutparam) {
    let incoming = request.consume().expect("the body is consumed once");
    let body = respond(response_out, b"application/octet-stream");
    {
        let input = incoming.stream().expect("the stream is taken once");
        let output = body.write().expect("the stream is taken once");
        // Move the bytes host-side, a chunk at a time, as they arrive.
        loop {
            match output.blocking_splice(&input, 64 * 1024) {
                Ok(_) => {}
                Err(StreamError::Closed) => break,
                Err(err) => panic!("echoing the body failed: {err:?}"),
            }
        }
        output.blocking_flush().expect("flushing the body");
    }
    OutgoingBody::finish(body, None).expect("finishing the body");
}

export!(App);
