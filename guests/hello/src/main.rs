//! The smallest command app: greets whoever its first argument names.
fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "weft".to_string());
    println!("Hello, {who}!");
}
