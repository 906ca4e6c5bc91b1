//! A preview1 core module that reads a file from its mount: the path given
//! as its first argument, else `/data/message.txt`. Relative paths resolve
//! as wasi-libc resolves them (Rust's std opens files through it).
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/data/message.txt".to_string());
    match std::fs::read_to_string(&path) {
        Ok(text) => print!("message: {text}"),
        Err(err) => {
            eprintln!("cannot read {path}: {err}");
            std::process::exit(2);
        }
    }
}
