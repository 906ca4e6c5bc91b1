//! Reads its read-only mount and writes its read-write one; or, with
//! `write-readonly`, tries to write the read-only mount and reports the error.
use std::process::ExitCode;

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "read-write" => {
            let greeting = match std::fs::read_to_string("/input/greeting.txt") {
                Ok(text) => text,
                Err(err) => {
                    eprintln!("cannot read /input/greeting.txt: {err}");
                    return ExitCode::from(2);
                }
            };
            print!("read: {greeting}");
            if let Err(err) = std::fs::write("/output/result.txt", greeting.to_uppercase()) {
                eprintln!("cannot write /output/result.txt: {err}");
                return ExitCode::from(2);
            }
            println!("wrote /output/result.txt");
            ExitCode::SUCCESS
        }
        "write-readonly" => {
            let attempts: [(&str, std::io::Result<()>); 3] = [
                ("create /input/new.txt", std::fs::write("/input/new.txt", "x")),
                (
                    "append to /input/greeting.txt",
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open("/input/greeting.txt")
                        .map(|_| ()),
                ),
                ("mkdir /input/sub", std::fs::create_dir("/input/sub")),
            ];
            let mut all_denied = true;
            for (what, result) in attempts {
                match result {
                    Ok(()) => {
                        println!("{what}: allowed");
                        all_denied = false;
                    }
                    Err(_) => println!("{what}: denied"),
                }
            }
            if all_denied { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        other => {
            eprintln!("usage: files read-write|write-readonly (got {other:?})");
            ExitCode::from(2)
        }
    }
}
