//! A preview1 core module that reads a file from its mount.
fn main() {
    match std::fs::read_to_string("/data/message.txt") {
        Ok(text) => print!("message: {text}"),
        Err(err) => {
            eprintln!("cannot read /data/message.txt: {err}");
            std::process::exit(2);
        }
    }
}
