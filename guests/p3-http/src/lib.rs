//! A WASI 0.3 HTTP service (`wasi:http/handler@0.3.x`, the `service` world),
//! built with the `wasip3` crate:
//!
//! - `/` says hello;
//! - `/wait/MS` awaits the monotonic clock for MS milliseconds, then answers;
//! - `/big/KIB` streams a body of KIB kibibytes, 16 KiB at a time;
//! - `/echo` streams the request's body back;
//! - `/empty` starts a response and writes empty buffers to its body
//!   without end (until the timeout);
//! - `/length` reads the whole request body, then answers its length (or
//!   the body's error);
//! - `/count` answers how many requests this instance has taken (instances
//!   are reused);
//! - `/together/N` answers `together N` once N requests are in this instance
//!   at the same time, or `alone (at most P at once)` after 3 s;
//! - `/trap` panics at once, `/trap-after/MS` after awaiting MS ms;
//! - `/spin` loops until a fuel or time limit stops it.
use std::cell::Cell;

use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_bindgen, wit_future, wit_stream};

wasip3::http::service::export!(App);

struct App;

thread_local! {
    static TAKEN: Cell<u64> = const { Cell::new(0) };
    static IN_FLIGHT: Cell<u64> = const { Cell::new(0) };
    static PEAK: Cell<u64> = const { Cell::new(0) };
}

/// Waits (10 ms at a time, up to 3 s) until `n` requests have been in this
/// instance at once.
async fn together(n: u64) -> Result<Response, ErrorCode> {
    IN_FLIGHT.with(|f| f.set(f.get() + 1));
    PEAK.with(|p| p.set(p.get().max(IN_FLIGHT.with(Cell::get))));
    let mut answer = None;
    for _ in 0..300 {
        if PEAK.with(Cell::get) >= n {
            answer = Some(format!("together {n}\n"));
            break;
        }
        wait(10).await;
    }
    IN_FLIGHT.with(|f| f.set(f.get() - 1));
    text(answer.unwrap_or_else(|| format!("alone (at most {} at once)\n", PEAK.with(Cell::get))))
}

async fn wait(ms: u64) {
    monotonic_clock::wait_for(ms * 1_000_000).await;
}

/// A 200 response whose body `fill` writes on a task of its own, so that the
/// response goes out while the body is still being written.
fn respond<F, Fut>(content_type: &str, fill: F) -> Result<Response, ErrorCode>
where
    F: FnOnce(wit_bindgen::StreamWriter<u8>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let headers = Fields::from_list(&[(
        "content-type".to_string(),
        content_type.as_bytes().to_vec(),
    )])
    .map_err(|e| ErrorCode::InternalError(Some(format!("{e:?}"))))?;
    let (body_tx, body_rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(body_rx), trailers_rx);
    drop(trailers_tx);
    wit_bindgen::spawn_local(fill(body_tx));
    Ok(response)
}

fn text(body: String) -> Result<Response, ErrorCode> {
    respond("text/plain", move |mut tx| async move {
        tx.write_all(body.into_bytes()).await;
    })
}

fn number(segment: Option<&str>, default: u64) -> u64 {
    segment.and_then(|s| s.parse().ok()).unwrap_or(default)
}

impl wasip3::exports::http::handler::Guest for App {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let taken = TAKEN.with(|t| {
            t.set(t.get() + 1);
            t.get()
        });
        let path = request.get_path_with_query().unwrap_or_default();
        let mut parts = path.trim_start_matches('/').split('/');
        let route = parts.next().unwrap_or("");
        let arg = parts.next();
        match route {
            "" => text("Hello from a WASI 0.3 service!\n".to_string()),
            "wait" => {
                let ms = number(arg, 10);
                wait(ms).await;
                text(format!("waited {ms} ms\n"))
            }
            "big" => {
                let kib = number(arg, 1024);
                respond("application/octet-stream", move |mut tx| async move {
                    let mut left = kib * 1024;
                    while left > 0 {
                        let n = left.min(16 * 1024);
                        if !tx.write_all(vec![b'x'; n as usize]).await.is_empty() {
                            return;
                        }
                        left -= n;
                    }
                })
            }
            "echo" => {
                let (_done_tx, done_rx) = wit_future::new(|| Ok(()));
                let (mut body, _trailers) = Request::consume_body(request, done_rx);
                respond("application/octet-stream", move |mut tx| async move {
                    loop {
                        let (result, chunk) = body.read(Vec::with_capacity(16 * 1024)).await;
                        match result {
                            wit_bindgen::StreamResult::Complete(_) => {
                                if !tx.write_all(chunk).await.is_empty() {
                                    return;
                                }
                            }
                            _ => return,
                        }
                    }
                })
            }
            "empty" => respond("text/plain", move |mut tx| async move {
                loop {
                    let (status, _) = tx.write(Vec::new()).await;
                    if !matches!(status, wit_bindgen::StreamResult::Complete(_)) {
                        return;
                    }
                }
            }),
            "length" => {
                let (_done_tx, done_rx) = wit_future::new(|| Ok(()));
                let (mut body, trailers) = Request::consume_body(request, done_rx);
                let mut total = 0u64;
                loop {
                    let (result, chunk) = body.read(Vec::with_capacity(16 * 1024)).await;
                    match result {
                        wit_bindgen::StreamResult::Complete(_) => total += chunk.len() as u64,
                        _ => break,
                    }
                }
                drop(body);
                trailers.await?;
                text(format!("{total} bytes\n"))
            }
            "count" => text(format!("{taken}\n")),
            "together" => together(number(arg, 2)).await,
            "trap" => panic!("this handler traps on /trap"),
            "trap-after" => {
                wait(number(arg, 50)).await;
                panic!("this handler traps on /trap-after, after its wait");
            }
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            _ => Err(ErrorCode::InternalError(Some(format!("no route for {path}")))),
        }
    }
}
