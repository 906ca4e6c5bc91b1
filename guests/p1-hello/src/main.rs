//! A preview1 core module that exports `_start`.
fn main() {
    println!("Hello from a preview1 module!");
}
