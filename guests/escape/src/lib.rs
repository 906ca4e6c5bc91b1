//! Tries to leave its mounts and to write where it may not, through the raw
//! `wasi:filesystem` calls a hostile guest would make (no libc in between to
//! normalise paths), and prints one line per attempt.
//!
//! - `escape`: from the read-write mount `/data`, with `..`, absolute paths,
//!   a NUL byte, and host symlinks the test created that point outside the
//!   mount (absolute and relative, to a file and to a directory); then reads,
//!   writes, renames and links through them, and a symlink it makes itself.
//! - `read-only`: every kind of write on the read-only mount `/ro`.
//!
//! An attempt that must be refused prints `denied (<error code>)`, or
//! `ALLOWED` and the guest exits 1. Two controls (a file and a symlink inside
//! the mount) must work, or the guest exits 1 too.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/app", generate_all });

use wasi::clocks::wall_clock::Datetime;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, ErrorCode, NewTimestamp, OpenFlags, PathFlags,
};

struct App;

impl exports::wasi::cli::run::Guest for App {
    fn run() -> Result<(), ()> {
        let mode = std::env::args().nth(1).unwrap_or_default();
        let mut probe = Probe { failed: false };
        match mode.as_str() {
            "escape" => escape(&mut probe, &mount("/data")?),
            "read-only" => read_only(&mut probe, &mount("/ro")?),
            other => {
                eprintln!("usage: escape escape|read-only (got {other:?})");
                return Err(());
            }
        }
        if probe.failed { Err(()) } else { Ok(()) }
    }
}

fn mount(name: &str) -> Result<Descriptor, ()> {
    get_directories()
        .into_iter()
        .find(|(_, path)| path == name)
        .map(|(dir, _)| dir)
        .ok_or_else(|| eprintln!("{name} is not mounted"))
}

struct Probe {
    failed: bool,
}

impl Probe {
    /// An attempt that must fail.
    fn refused<T>(&mut self, what: &str, result: Result<T, ErrorCode>) {
        match result {
            Ok(_) => {
                println!("{what}: ALLOWED");
                self.failed = true;
            }
            Err(code) => println!("{what}: denied ({})", code.name()),
        }
    }

    /// A control that must work: prints what it read.
    fn reads(&mut self, what: &str, result: Result<String, ErrorCode>) {
        match result {
            Ok(text) => println!("{what}: {}", text.trim_end()),
            Err(code) => {
                println!("{what}: failed ({})", code.name());
                self.failed = true;
            }
        }
    }
}

const READ: DescriptorFlags = DescriptorFlags::READ;
const WRITE: DescriptorFlags = DescriptorFlags::WRITE;
const FOLLOW: PathFlags = PathFlags::SYMLINK_FOLLOW;

fn open(dir: &Descriptor, path: &str, open: OpenFlags, flags: DescriptorFlags) -> Result<Descriptor, ErrorCode> {
    dir.open_at(FOLLOW, path, open, flags)
}

fn read(dir: &Descriptor, path: &str) -> Result<String, ErrorCode> {
    let file = open(dir, path, OpenFlags::empty(), READ)?;
    let (bytes, _) = file.read(4096, 0)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write(dir: &Descriptor, path: &str, open_flags: OpenFlags) -> Result<u64, ErrorCode> {
    let file = open(dir, path, open_flags, WRITE)?;
    file.write(b"written by the guest\n", 0)
}

fn escape(probe: &mut Probe, data: &Descriptor) {
    probe.reads("read inside.txt", read(data, "inside.txt"));
    probe.reads("read link-inside (a symlink within the mount)", read(data, "link-inside"));

    probe.refused("open ..", open(data, "..", OpenFlags::DIRECTORY, READ));
    probe.refused("read ../wapp.toml", read(data, "../wapp.toml"));
    probe.refused("read sub/../../wapp.toml", read(data, "sub/../../wapp.toml"));
    probe.refused("read ../../../outside/secret.txt", read(data, "../../../outside/secret.txt"));
    probe.refused("read /etc/passwd", read(data, "/etc/passwd"));
    probe.refused("read /data/inside.txt (absolute)", read(data, "/data/inside.txt"));
    probe.refused("read inside.txt<NUL>../x", read(data, "inside.txt\0../x"));
    probe.refused("stat ../wapp.toml", data.stat_at(FOLLOW, "../wapp.toml"));

    probe.refused("read link-abs (to a file outside)", read(data, "link-abs"));
    probe.refused("read link-rel (to a file outside)", read(data, "link-rel"));
    probe.refused("read link-dir/secret.txt (to a directory outside)", read(data, "link-dir/secret.txt"));
    probe.refused("read link-dir-rel/secret.txt", read(data, "link-dir-rel/secret.txt"));
    probe.refused("stat link-abs", data.stat_at(FOLLOW, "link-abs"));
    probe.refused("write link-abs", write(data, "link-abs", OpenFlags::empty()));
    probe.refused("truncate link-rel", write(data, "link-rel", OpenFlags::TRUNCATE));
    probe.refused("create link-dir/new.txt", write(data, "link-dir/new.txt", OpenFlags::CREATE));
    probe.refused("create ../../../outside/new.txt", write(data, "../../../outside/new.txt", OpenFlags::CREATE));
    probe.refused(
        "rename inside.txt to ../../../outside/stolen.txt",
        data.rename_at("inside.txt", data, "../../../outside/stolen.txt"),
    );
    probe.refused(
        "rename inside.txt to link-dir/stolen.txt",
        data.rename_at("inside.txt", data, "link-dir/stolen.txt"),
    );
    probe.refused(
        "hard-link ../../../outside/secret.txt",
        data.link_at(PathFlags::empty(), "../../../outside/secret.txt", data, "hard"),
    );
    probe.refused(
        "hard-link link-abs",
        data.link_at(FOLLOW, "link-abs", data, "hard"),
    );
    probe.refused("unlink link-dir/secret.txt", data.unlink_file_at("link-dir/secret.txt"));
    probe.refused("symlink made-abs -> /", data.symlink_at("/", "made-abs"));
    // A relative symlink may be made (its target is only text); following
    // it out of the mount must fail.
    match data.symlink_at("../../../outside", "made-up") {
        Ok(()) => probe.refused("read made-up/secret.txt", read(data, "made-up/secret.txt")),
        Err(code) => println!("symlink made-up -> ../../../outside: denied ({})", code.name()),
    }
    probe.refused(
        "set-times link-abs",
        data.set_times_at(FOLLOW, "link-abs", NewTimestamp::Now, NewTimestamp::Now),
    );
}

fn read_only(probe: &mut Probe, ro: &Descriptor) {
    probe.reads("read file.txt", read(ro, "file.txt"));
    probe.refused("create new.txt", write(ro, "new.txt", OpenFlags::CREATE));
    probe.refused("open file.txt for writing", write(ro, "file.txt", OpenFlags::empty()));
    probe.refused("truncate file.txt on open", write(ro, "file.txt", OpenFlags::TRUNCATE));
    probe.refused("create dir/new.txt", write(ro, "dir/new.txt", OpenFlags::CREATE));
    match open(ro, "file.txt", OpenFlags::empty(), READ) {
        Ok(file) => {
            probe.refused("write through a read descriptor", file.write(b"x", 0));
            probe.refused("set-size through a read descriptor", file.set_size(0));
            probe.refused(
                "set-times through a read descriptor",
                file.set_times(NewTimestamp::Now, NewTimestamp::Now),
            );
        }
        Err(code) => {
            println!("open file.txt for reading: failed ({})", code.name());
            probe.failed = true;
        }
    }
    probe.refused("rename file.txt", ro.rename_at("file.txt", ro, "renamed.txt"));
    probe.refused("unlink file.txt", ro.unlink_file_at("file.txt"));
    probe.refused("mkdir newdir", ro.create_directory_at("newdir"));
    probe.refused("rmdir empty", ro.remove_directory_at("empty"));
    probe.refused(
        "set-times file.txt",
        ro.set_times_at(
            PathFlags::empty(),
            "file.txt",
            NewTimestamp::Timestamp(Datetime { seconds: 0, nanoseconds: 0 }),
            NewTimestamp::NoChange,
        ),
    );
    probe.refused("symlink link -> file.txt", ro.symlink_at("file.txt", "link"));
    probe.refused("hard-link file.txt", ro.link_at(PathFlags::empty(), "file.txt", ro, "hard"));
    // Asking for a mutable descriptor of the mount gets one with the mount's
    // own permissions: nothing can be changed through it either.
    match ro.open_at(PathFlags::empty(), ".", OpenFlags::DIRECTORY, DescriptorFlags::MUTATE_DIRECTORY) {
        Ok(dir) => {
            probe.refused("mkdir through a descriptor opened to mutate", dir.create_directory_at("newdir"));
            probe.refused(
                "create through a descriptor opened to mutate",
                write(&dir, "new.txt", OpenFlags::CREATE),
            );
        }
        Err(code) => println!("open the mount to mutate it: denied ({})", code.name()),
    }
    probe.refused("set-times of the mount", ro.set_times(NewTimestamp::Now, NewTimestamp::Now));
}

export!(App);
