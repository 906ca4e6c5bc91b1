//! A WASI 0.3 command that fetches the URL in its first argument with
//! `wasi:http/client#send` and prints the status and body, or the error code
//! it got.
use wasip3::cli::{environment, stdout};
use wasip3::http::client;
use wasip3::http::types::{ErrorCode, Fields, Request, Response, Scheme};
use wasip3::{wit_future, wit_stream};

wasip3::cli::command::export!(App);

struct App;

impl wasip3::exports::cli::run::Guest for App {
    async fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        let Some(url) = args.get(1) else {
            print("usage: p3-fetch URL\n".to_string()).await;
            return Err(());
        };
        match fetch(url).await {
            Ok((status, body)) => {
                print(format!("status: {status}\nbody: {body}\n")).await;
                Ok(())
            }
            Err(code) => {
                print(format!("error: {}\n", name(&code))).await;
                Err(())
            }
        }
    }
}

/// `ErrorCode::HttpRequestDenied`: the variant, without its payload.
fn name(code: &ErrorCode) -> String {
    let debug = format!("{code:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

async fn fetch(url: &str) -> Result<(u16, String), ErrorCode> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        Some((other, rest)) => (Scheme::Other(other.to_string()), rest),
        None => return Err(ErrorCode::HttpRequestUriInvalid),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (_trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (request, _sent) = Request::new(Fields::new(), None, trailers_rx, None);
    let invalid = |_| ErrorCode::HttpRequestUriInvalid;
    request.set_scheme(Some(&scheme)).map_err(invalid)?;
    request.set_authority(Some(authority)).map_err(invalid)?;
    request.set_path_with_query(Some(path)).map_err(invalid)?;
    let response = client::send(request).await?;
    let status = response.get_status_code();
    let (_done_tx, done_rx) = wit_future::new(|| Ok(()));
    let (body, trailers) = Response::consume_body(response, done_rx);
    let bytes = body.collect().await;
    trailers.await?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

async fn print(text: String) {
    let (mut tx, rx) = wit_stream::new();
    let done = stdout::write_via_stream(rx);
    tx.write_all(text.into_bytes()).await;
    drop(tx);
    let _ = done.await;
}
