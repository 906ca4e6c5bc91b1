//! Writes empty buffers to a WASI 0.2 output stream, without end: to
//! stdout (`stdout`), to a file in its `/out` mount (`file`), or to the
//! body of an outgoing HTTP request it never sends (`body`). A host that
//! kept something for each empty write would grow without bound; the
//! app's timeout stops it. With a count as second argument it stops after
//! that many writes and prints how many it made.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/http-client", generate_all });

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasi::http::types::{Fields, OutgoingRequest};
use wasi::io::streams::OutputStream;

struct App;

fn flood(stream: &OutputStream, count: u64) -> Result<u64, String> {
    let mut made = 0;
    while made < count {
        // As the protocol asks: `check-write` first, waiting while it
        // permits nothing, then a write of no more than it permits (here,
        // nothing at all).
        let permitted = stream
            .check_write()
            .map_err(|err| format!("check-write failed after {made} empty writes: {err:?}"))?;
        if permitted == 0 {
            stream.subscribe().block();
            continue;
        }
        stream
            .write(&[])
            .map_err(|err| format!("an empty write failed after {made}: {err:?}"))?;
        made += 1;
    }
    Ok(made)
}

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let count = args
            .get(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX);
        let made = match args.first().map(String::as_str) {
            Some("stdout") => flood(&wasi::cli::stdout::get_stdout(), count),
            Some("file") => {
                let dirs = get_directories();
                let (dir, _) = dirs.first().expect("the /out mount");
                let file = dir
                    .open_at(
                        PathFlags::empty(),
                        "empty-writes.txt",
                        OpenFlags::CREATE | OpenFlags::TRUNCATE,
                        DescriptorFlags::WRITE,
                    )
                    .expect("opening the file");
                let stream = file.write_via_stream(0).expect("a write stream");
                flood(&stream, count)
            }
            Some("body") => {
                let request = OutgoingRequest::new(Fields::new());
                let body = request.body().expect("the body");
                let made = {
                    let stream = body.write().expect("the body's stream");
                    flood(&stream, count)
                };
                drop(body);
                made
            }
            _ => Err("usage: empty-writes stdout|file|body [COUNT]".to_string()),
        };
        match made {
            Ok(made) => {
                println!("made {made} empty writes");
                Ok(())
            }
            Err(message) => {
                eprintln!("{message}");
                Err(())
            }
        }
    }
}

export!(App);
