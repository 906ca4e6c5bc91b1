//! Sleeps 200 ms (or the number of milliseconds in its first argument), then says so.
fn main() {
    let ms = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    std::thread::sleep(std::time::Duration::from_millis(ms));
    println!("slept {ms} ms");
}
