//! A preview1 core module that ends with `proc_exit(33)`.
fn main() {
    println!("exiting with 33");
    std::process::exit(33);
}
