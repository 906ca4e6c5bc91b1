//! A WASI 0.3 command (`wasi:cli/run@0.3.x`, async), built with the `wasip3`
//! crate. Its first argument (after the manifest's `--from-manifest`) picks
//! what it does:
//!
//! - `args`: prints its arguments, its environment (sorted) and its cwd;
//! - `cat PATH`: prints a file from a mount, read as a stream;
//! - `write PATH TEXT`: writes TEXT and a newline to a file as a stream;
//! - `denied PATH`: tries every kind of write at PATH on a read-only mount
//!   and prints which were refused;
//! - `sleep MS`: awaits the monotonic clock;
//! - `echo`: copies stdin to stdout, stream to stream;
//! - `stderr TEXT`: writes TEXT to stderr;
//! - `exit N`: `exit-with-code(N)`; `fail`: returns `err` from `run`;
//! - `trap`: panics; `spin`: loops; `hog`: grows its memory;
//! - `streams N` / `futures N`: holds N stream or future handles at once;
//! - `connect PORT`: opens a TCP connection to 127.0.0.1:PORT;
//! - `empty-stdout [COUNT]` / `empty-file PATH [COUNT]`: writes empty
//!   buffers to stdout or a file's stream, COUNT times or without end.
use wasip3::cli::{environment, exit, stderr, stdin, stdout};
use wasip3::clocks::monotonic_clock;
use wasip3::filesystem::preopens;
use wasip3::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
use wasip3::wit_bindgen::StreamResult;
use wasip3::{wit_future, wit_stream};

wasip3::cli::command::export!(App);

struct App;

impl wasip3::exports::cli::run::Guest for App {
    async fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        // The manifest's own argument comes before the command line's.
        let given: Vec<&String> = args
            .iter()
            .skip(1)
            .filter(|a| *a != "--from-manifest")
            .collect();
        let arg = |i: usize| given.get(i - 1).map(|a| a.to_string()).unwrap_or_default();
        match arg(1).as_str() {
            "args" => {
                let mut text = String::new();
                for (i, a) in args.iter().enumerate() {
                    text.push_str(&format!("arg[{i}]={a}\n"));
                }
                let mut env = environment::get_environment();
                env.sort();
                for (name, value) in env {
                    text.push_str(&format!("env {name}={value}\n"));
                }
                let cwd = environment::get_initial_cwd();
                text.push_str(&format!("cwd {}\n", cwd.as_deref().unwrap_or("(none)")));
                print(text).await;
            }
            "cat" => {
                let (dir, rel) = resolve(&arg(2));
                let opened = dir
                    .open_at(PathFlags::empty(), rel, OpenFlags::empty(), DescriptorFlags::READ)
                    .await;
                let file = match opened {
                    Ok(file) => file,
                    Err(e) => {
                        eprint(format!("open {}: {e:?}\n", arg(2))).await;
                        return Err(());
                    }
                };
                let (data, done) = file.read_via_stream(0);
                let bytes = data.collect().await;
                if let Err(e) = done.await {
                    eprint(format!("read {}: {e:?}\n", arg(2))).await;
                    return Err(());
                }
                print(bytes).await;
            }
            "write" => {
                let (dir, rel) = resolve(&arg(2));
                let written = write_file(&dir, rel, format!("{}\n", arg(3)).into_bytes()).await;
                match written {
                    Ok(()) => print(format!("wrote {}\n", arg(2))).await,
                    Err(e) => {
                        eprint(format!("write {}: {e:?}\n", arg(2))).await;
                        return Err(());
                    }
                }
            }
            "denied" => {
                let (dir, rel) = resolve(&arg(2));
                let mut text = String::new();
                let create = dir
                    .open_at(
                        PathFlags::empty(),
                        format!("{rel}.new"),
                        OpenFlags::CREATE,
                        DescriptorFlags::WRITE,
                    )
                    .await;
                text.push_str(&format!("create: {}\n", verdict(create.err())));
                let append = dir
                    .open_at(PathFlags::empty(), rel.clone(), OpenFlags::empty(), DescriptorFlags::WRITE)
                    .await;
                text.push_str(&format!("open for writing: {}\n", verdict(append.err())));
                let mkdir = dir.create_directory_at(format!("{rel}.dir")).await;
                text.push_str(&format!("mkdir: {}\n", verdict(mkdir.err())));
                let unlink = dir.unlink_file_at(rel.clone()).await;
                text.push_str(&format!("unlink: {}\n", verdict(unlink.err())));
                let rename = dir.rename_at(rel.clone(), &dir, format!("{rel}.moved")).await;
                text.push_str(&format!("rename: {}\n", verdict(rename.err())));
                print(text).await;
            }
            "sleep" => {
                let ms: u64 = arg(2).parse().unwrap_or(50);
                monotonic_clock::wait_for(ms * 1_000_000).await;
                print(format!("slept {ms} ms\n")).await;
            }
            "echo" => {
                let (mut input, done) = stdin::read_via_stream();
                let (mut tx, rx) = wit_stream::new();
                let writing = stdout::write_via_stream(rx);
                loop {
                    let (result, chunk) = input.read(Vec::with_capacity(16 * 1024)).await;
                    match result {
                        StreamResult::Complete(_) => {
                            if !tx.write_all(chunk).await.is_empty() {
                                break;
                            }
                        }
                        StreamResult::Dropped | StreamResult::Cancelled => break,
                    }
                }
                drop(tx);
                let _ = writing.await;
                let _ = done.await;
            }
            "stderr" => eprint(format!("{}\n", arg(2))).await,
            "exit" => {
                print(format!("exiting with {}\n", arg(2))).await;
                exit::exit_with_code(arg(2).parse().unwrap_or(1));
            }
            "fail" => {
                eprint("run returns err\n".to_string()).await;
                return Err(());
            }
            "trap" => panic!("the 0.3 command traps on request"),
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "hog" => {
                let mut held: Vec<Vec<u8>> = Vec::new();
                loop {
                    held.push(vec![1; 1 << 20]);
                    std::hint::black_box(&held);
                }
            }
            "streams" => {
                let n: usize = arg(2).parse().unwrap_or(200_000);
                let held: Vec<_> = (0..n).map(|_| wit_stream::new::<u8>()).collect();
                print(format!("held {} streams\n", held.len())).await;
            }
            "futures" => {
                let n: usize = arg(2).parse().unwrap_or(200_000);
                let held: Vec<_> = (0..n)
                    .map(|_| wit_future::new::<Result<(), stdin::ErrorCode>>(|| Ok(())))
                    .collect();
                print(format!("held {} futures\n", held.len())).await;
            }
            "connect" => {
                // `connect PORT`: TCP to 127.0.0.1:PORT over wasi:sockets 0.3.
                use wasip3::sockets::types::{
                    IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, TcpSocket,
                };
                let port: u16 = arg(2).parse().unwrap_or(9);
                let outcome = match TcpSocket::create(IpAddressFamily::Ipv4) {
                    Ok(socket) => socket
                        .connect(IpSocketAddress::Ipv4(Ipv4SocketAddress {
                            port,
                            address: (127, 0, 0, 1),
                        }))
                        .await
                        .map(|()| "connected".to_string())
                        .unwrap_or_else(|e| format!("refused: {e:?}")),
                    Err(e) => format!("no socket: {e:?}"),
                };
                print(format!("connect 127.0.0.1:{port}: {outcome}\n")).await;
            }
            "empty-stdout" | "empty-file" => {
                let to_file = arg(1) == "empty-file";
                let count: u64 = arg(if to_file { 3 } else { 2 })
                    .parse()
                    .unwrap_or(u64::MAX);
                let (mut tx, rx) = wit_stream::new::<u8>();
                let done = if to_file {
                    let (dir, rel) = resolve(&arg(2));
                    let file = create(&dir, rel).await.expect("opening the file");
                    wasip3::wit_bindgen::spawn_local(async move {
                        let _ = file.write_via_stream(rx, 0).await;
                    });
                    None
                } else {
                    Some(stdout::write_via_stream(rx))
                };
                let mut made = 0u64;
                while made < count {
                    let (status, _) = tx.write(Vec::new()).await;
                    if !matches!(status, StreamResult::Complete(_)) {
                        break;
                    }
                    made += 1;
                }
                drop(tx);
                if let Some(done) = done {
                    let _ = done.await;
                }
                print(format!("made {made} empty writes\n")).await;
            }
            other => {
                eprint(format!("unknown command {other:?}\n")).await;
                return Err(());
            }
        }
        Ok(())
    }
}

/// The preopen whose guest path prefixes `path`, and the rest of `path`.
fn resolve(path: &str) -> (Descriptor, String) {
    for (dir, name) in preopens::get_directories() {
        let prefix = format!("{}/", name.trim_end_matches('/'));
        if let Some(rest) = path.strip_prefix(&prefix) {
            return (dir, rest.to_string());
        }
    }
    panic!("no mount holds {path}");
}

/// Creates (or truncates) a file to write.
async fn create(dir: &Descriptor, rel: String) -> Result<Descriptor, ErrorCode> {
    dir.open_at(
        PathFlags::empty(),
        rel,
        OpenFlags::CREATE | OpenFlags::TRUNCATE,
        DescriptorFlags::WRITE,
    )
    .await
}

async fn write_file(dir: &Descriptor, rel: String, bytes: Vec<u8>) -> Result<(), ErrorCode> {
    let file = create(dir, rel).await?;
    let (mut tx, rx) = wit_stream::new();
    let done = file.write_via_stream(rx, 0);
    tx.write_all(bytes).await;
    drop(tx);
    done.await
}

fn verdict(error: Option<ErrorCode>) -> String {
    match error {
        None => "allowed".to_string(),
        Some(ErrorCode::NotPermitted | ErrorCode::ReadOnly | ErrorCode::Access) => {
            "denied".to_string()
        }
        Some(other) => format!("failed otherwise ({other:?})"),
    }
}

async fn print(bytes: impl Into<Vec<u8>>) {
    let (mut tx, rx) = wit_stream::new();
    let done = stdout::write_via_stream(rx);
    tx.write_all(bytes.into()).await;
    drop(tx);
    let _ = done.await;
}

async fn eprint(text: String) {
    let (mut tx, rx) = wit_stream::new();
    let done = stderr::write_via_stream(rx);
    tx.write_all(text.into_bytes()).await;
    drop(tx);
    let _ = done.await;
}
