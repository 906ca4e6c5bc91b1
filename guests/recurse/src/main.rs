//! Recurses without end.
#[allow(unconditional_recursion)]
fn down(depth: u64) -> u64 {
    std::hint::black_box(down(depth + 1)) + 1
}

fn main() {
    println!("recursing");
    println!("{}", down(0));
}
