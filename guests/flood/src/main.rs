//! Writes output without end; or, given a number of bytes, exactly that many
//! and then exits.
use std::io::Write;

fn main() {
    let line = b"flood flood flood flood flood flood flood flood flood flood flood flood\n";
    let total: Option<u64> = std::env::args().nth(1).and_then(|n| n.parse().ok());
    let mut out = std::io::stdout().lock();
    let mut written: u64 = 0;
    loop {
        let chunk = match total {
            Some(total) if written >= total => break,
            Some(total) => &line[..line.len().min((total - written) as usize)],
            None => &line[..],
        };
        if out.write_all(chunk).is_err() {
            return;
        }
        written += chunk.len() as u64;
    }
    let _ = out.flush();
}
