//! Writes output without end.
use std::io::Write;

fn main() {
    let line = b"flood flood flood flood flood flood flood flood flood flood flood flood\n";
    let mut out = std::io::stdout().lock();
    loop {
        if out.write_all(line).is_err() {
            return;
        }
    }
}
