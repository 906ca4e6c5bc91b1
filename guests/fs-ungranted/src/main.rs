//! Lists the guest's root directory: it needs wasi:filesystem, which its
//! manifest deliberately does not grant.
fn main() {
    match std::fs::read_dir("/") {
        Ok(entries) => println!("{} entries", entries.count()),
        Err(err) => println!("cannot list /: {err}"),
    }
}
