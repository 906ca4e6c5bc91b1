//! Panics, which a wasm guest turns into a trap.
fn main() {
    println!("about to panic");
    panic!("this guest panics on purpose");
}
