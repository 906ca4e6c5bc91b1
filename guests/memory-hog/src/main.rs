//! Allocates 1 MiB at a time and keeps it, forever.
fn main() {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![1u8; 1 << 20]);
        if kept.len() % 16 == 0 {
            println!("holding {} MiB", kept.len());
        }
    }
}
