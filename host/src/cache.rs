//! The compiled-artifact cache: Cranelift's output for an app, kept on disk
//! so that only the first run of a given wasm pays for compiling it.
//!
//! An entry's key is the sha256 of three things: the wasm's sha256 (the one
//! [`crate::package`] has already verified against the manifest, so nothing
//! is hashed twice), the engine's settings that change compiled code
//! ([`crate::engine::EngineSettings::code_key`]), and weft's version (which
//! pins Wasmtime's). Another weft, another Wasmtime or another engine setting
//! (fuel on or off, say) therefore looks for another file. Wasmtime also
//! checks each artifact against the engine as it loads it (its version,
//! target, CPU features and settings), and an entry it refuses is treated
//! like a corrupt one: discarded and rebuilt. Core modules are cached as the
//! component weft adapts them into, under a key that says so.
//!
//! An entry is the artifact, then its CRC-32, then `MAGIC`. Loading reads the
//! whole file and checks that checksum before Wasmtime sees a byte, so a
//! truncated or corrupted file is discarded and rebuilt, never trusted. The
//! checksum is against accidents (a crash mid-write, a bad disk), which a
//! CRC-32 catches (any burst of up to 32 bits, and all but one in 2^32 of
//! other damage); it is not against an attacker, who could rewrite the
//! checksum as easily as the artifact, and whom the directory's mode keeps
//! out. It replaced a sha256, which cost a warm start about 0.2 ms. The
//! artifact comes first so that Wasmtime can map the file itself (on Linux,
//! through the descriptor that was checked): its code is then shared with the
//! page cache instead of being read and copied twice. Entries are written to
//! a temporary file in the same directory and renamed into place, so a
//! reader sees a whole entry or none, and writers racing on one key each
//! install a whole, identical entry.
//!
//! The directory is `$WEFT_CACHE_DIR`, else `$XDG_CACHE_HOME/weft`, else
//! `~/.cache/weft`, created with mode 0700, and entries with mode 0600: an
//! artifact is native code that weft maps executable, so only its owner may
//! write there.
//!
//! weft checks that before it trusts the directory, as ssh's `StrictModes`
//! checks `~/.ssh`: the cache directory, and each directory above it up to
//! the first sticky one (such as `/tmp`) or `/`, must be owned by the user
//! weft runs as or by root, and must not be writable by its group or by
//! others (a sticky directory above it may be: nobody else can rename what
//! is in it). A cache that fails this is not used at all: weft says why in
//! one warning line, compiles the app, and neither reads nor writes the
//! cache. Each entry must be owned by that user or root, and writable by
//! nobody else; one that is not is discarded and rebuilt.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::digest::hex;
use crate::{Error, Result};

/// The last bytes of every entry; bump the digit when the layout changes.
const MAGIC: &[u8; 8] = b"WEFTC03\n";
/// The CRC-32 (little-endian) and the magic after the artifact.
const TRAILER_LEN: u64 = 4 + MAGIC.len() as u64;
/// The file name suffix of entries; `weft cache clean` removes only these
/// (and stray temporary files), never anything else in the directory.
const SUFFIX: &str = ".cwasm";
const TEMP_PREFIX: &str = ".tmp-";

/// What is being compiled, as far as the key is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A component, compiled as it is.
    Component,
    /// A core module, compiled after weft adapts it to a component, with
    /// the adapter's pages placed below this many 64 KiB pages (the app's
    /// memory limit; see [`crate::loader`]).
    AdaptedCoreModule { memory_pages: u64 },
}

/// How an app's compiled code was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Loaded from a valid cache entry.
    Hit,
    /// Compiled, and stored for next time.
    Stored,
    /// Compiled; an entry was present but unusable, and has been replaced.
    Replaced,
    /// Compiled without the cache (disabled, or the entry could not be written).
    Compiled,
    /// Compiled without the cache, because other users could write to it
    /// (the warning says how).
    Untrusted,
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// The user whose cache this is (besides root): the process's
    /// effective user.
    user: u32,
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: dir.into(),
            user: effective_user(),
        }
    }

    /// The default cache: `$WEFT_CACHE_DIR`, `$XDG_CACHE_HOME/weft`, or
    /// `$HOME/.cache/weft`; `None` when none of those is set.
    pub fn from_env() -> Option<Cache> {
        default_dir(|name| std::env::var_os(name)).map(Cache::new)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the artifact for this wasm on an engine with this
    /// [`code_key`](crate::engine::EngineSettings::code_key).
    pub fn entry_path(&self, engine_key: &str, wasm_sha256: &[u8; 32], source: Source) -> PathBuf {
        self.entry_path_for(env!("CARGO_PKG_VERSION"), engine_key, wasm_sha256, source)
    }

    fn entry_path_for(
        &self,
        weft_version: &str,
        engine_key: &str,
        wasm_sha256: &[u8; 32],
        source: Source,
    ) -> PathBuf {
        let mut key = Sha256::new();
        key.update(b"weft ");
        key.update(weft_version.as_bytes());
        match source {
            Source::Component => key.update(b"\0component\0"),
            Source::AdaptedCoreModule { memory_pages } => {
                key.update(b"\0core-module+preview1-command-adapter+virtual-memory\0");
                key.update(memory_pages.to_le_bytes());
            }
        }
        key.update(wasm_sha256);
        key.update(engine_key.as_bytes());
        self.dir.join(format!("{}{SUFFIX}", hex(&key.finalize())))
    }

    /// Loads the artifact for this wasm, if the cache holds a usable one. An
    /// entry that cannot be used (corrupt, or refused by Wasmtime) is
    /// discarded with a warning, and the load is a miss.
    pub fn load(
        &self,
        engine: &Engine,
        engine_key: &str,
        wasm_sha256: &[u8; 32],
        source: Source,
    ) -> Option<Component> {
        // An untrusted cache is a miss, silently: the weft that compiles
        // the app says why (it warns once, not twice across the hand-over).
        if self.distrust().is_some() {
            return None;
        }
        self.lookup(engine, &self.entry_path(engine_key, wasm_sha256, source))
            .ok()
    }

    /// Why other users could change this cache's entries, if they could:
    /// one sentence that names the path and the fix. `None` when it is safe
    /// to use.
    pub fn distrust(&self) -> Option<String> {
        distrust(&self.dir, self.user)
    }

    /// The entry at `path`: `Ok` with it, or `Err(true)` when there was one
    /// and it was discarded, `Err(false)` when there was none.
    fn lookup(&self, engine: &Engine, path: &Path) -> std::result::Result<Component, bool> {
        match read_entry(engine, path, self.user) {
            Ok(Some(component)) => Ok(component),
            Ok(None) => Err(false),
            Err(reason) => {
                tracing::warn!(
                    "discarding the cache entry {}: {reason}; compiling again",
                    path.display()
                );
                let _ = std::fs::remove_file(path);
                Err(true)
            }
        }
    }

    /// Loads the artifact for this wasm, or compiles it with `compile` and
    /// stores the result.
    ///
    /// Failing to read or write the cache never fails the load: weft warns on
    /// stderr and compiles. Errors from `compile` (the wasm's own) are
    /// returned as they are.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        engine_key: &str,
        wasm_sha256: &[u8; 32],
        source: Source,
        compile: impl FnOnce() -> Result<Component>,
    ) -> Result<(Component, Outcome)> {
        if let Some(why) = self.distrust() {
            tracing::warn!("{why}");
            return Ok((compile()?, Outcome::Untrusted));
        }
        let path = self.entry_path(engine_key, wasm_sha256, source);
        let replacing = match self.lookup(engine, &path) {
            Ok(component) => return Ok((component, Outcome::Hit)),
            Err(discarded) => discarded,
        };
        let component = compile()?;
        match self.write_entry(&component, &path) {
            Ok(()) if replacing => Ok((component, Outcome::Replaced)),
            Ok(()) => Ok((component, Outcome::Stored)),
            Err(err) => {
                tracing::warn!(
                    "cannot write the cache entry {}: {err}; the next run compiles again (set --cache-dir or WEFT_CACHE_DIR to a writable directory, or pass --no-cache)",
                    path.display()
                );
                Ok((component, Outcome::Compiled))
            }
        }
    }

    fn write_entry(&self, component: &Component, path: &Path) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(std::io::Error::other)?;
        create_private_dir(&self.dir)?;
        // Unique per writer: the pid, a per-process counter, and the time.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}-{:x}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed),
            nanos_now()
        ));
        let result = (|| {
            let mut file = private_file(&temp)?;
            file.write_all(&artifact)?;
            file.write_all(&crc32fast::hash(&artifact).to_le_bytes())?;
            file.write_all(MAGIC)?;
            // No fsync: an entry cut short by a crash fails its checksum
            // on the next load and is rebuilt, so durability buys nothing.
            std::fs::rename(&temp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    /// Removes every entry (and stray temporary file); returns how many files
    /// and bytes were removed. A missing directory is an empty cache.
    pub fn clean(&self) -> Result<(usize, u64)> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(err) => {
                return Err(Error::internal(format!(
                    "cannot read the cache directory {}: {err}",
                    self.dir.display()
                )));
            }
        };
        let (mut files, mut bytes) = (0, 0);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.ends_with(SUFFIX) || name.starts_with(TEMP_PREFIX)) {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(entry.path()).map_err(|err| {
                Error::internal(format!(
                    "cannot remove {}: {err}; check the cache directory's permissions",
                    entry.path().display()
                ))
            })?;
            files += 1;
            bytes += size;
        }
        Ok((files, bytes))
    }
}

/// The cache directory the environment names, if any.
pub fn default_dir(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let set = |name: &str| {
        var(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    set("WEFT_CACHE_DIR")
        .or_else(|| set("XDG_CACHE_HOME").map(|dir| dir.join("weft")))
        .or_else(|| set("HOME").map(|home| home.join(".cache").join("weft")))
}

/// The effective user id of this process.
#[cfg(unix)]
fn effective_user() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn effective_user() -> u32 {
    0
}

/// Why `dir` is not safe to use as `user`'s cache, if it is not (see the
/// module's documentation for the rule).
#[cfg(unix)]
fn distrust(dir: &Path, user: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    const STICKY: u32 = 0o1000;
    const WRITABLE_BY_OTHERS: u32 = 0o022;
    let fix =
        "set --cache-dir or WEFT_CACHE_DIR to a directory only you can write, or pass --no-cache";
    // The directory may not exist yet (weft creates it with mode 0700 on its
    // first write); then its nearest existing parent is where checking
    // starts. Symbolic links are resolved: the directories checked are the
    // ones the entries are really in.
    let mut existing = dir;
    let canonical = loop {
        match existing.canonicalize() {
            Ok(canonical) => break canonical,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => match existing.parent() {
                Some(parent) if parent.as_os_str().is_empty() => existing = Path::new("."),
                Some(parent) => existing = parent,
                None => return None,
            },
            Err(err) => {
                return Some(format!(
                    "not using the cache in {}: its permissions cannot be checked ({err}); {fix}",
                    dir.display()
                ));
            }
        }
    };
    let is_cache = |path: &Path| existing == dir && path == canonical;
    for path in canonical.ancestors() {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(err) => {
                return Some(format!(
                    "not using the cache in {}: the permissions of {} cannot be checked ({err}); {fix}",
                    dir.display(),
                    path.display()
                ));
            }
        };
        let what = if is_cache(path) {
            format!("the cache directory {}", path.display())
        } else {
            format!("{}, a directory above it,", path.display())
        };
        let mode = meta.mode() & 0o7777;
        if meta.uid() != user && meta.uid() != 0 {
            return Some(format!(
                "not using the cache in {}: {what} is owned by another user (uid {}), who could replace the compiled code weft runs; {fix}",
                dir.display(),
                meta.uid()
            ));
        }
        if mode & WRITABLE_BY_OTHERS != 0 {
            // Nobody else can rename or remove what is in a sticky
            // directory; above that, no one else can reach the cache.
            if !is_cache(path) && mode & STICKY != 0 {
                return None;
            }
            let who = if mode & 0o002 != 0 {
                "every user"
            } else {
                "its group"
            };
            return Some(format!(
                "not using the cache in {}: {what} is writable by {who} (mode {mode:04o}), who could replace the compiled code weft runs; run `chmod go-w {}` or {fix}",
                dir.display(),
                path.display()
            ));
        }
    }
    None
}

#[cfg(not(unix))]
fn distrust(_dir: &Path, _user: u32) -> Option<String> {
    None
}

/// Why an open entry must not be trusted, if it must not: it belongs to
/// another user, or others can write it.
#[cfg(unix)]
fn distrust_entry(meta: &std::fs::Metadata, user: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != user && meta.uid() != 0 {
        return Some(format!("it is owned by another user (uid {})", meta.uid()));
    }
    let mode = meta.mode() & 0o7777;
    (mode & 0o022 != 0).then(|| format!("it is writable by other users (mode {mode:04o})"))
}

#[cfg(not(unix))]
fn distrust_entry(_meta: &std::fs::Metadata, _user: u32) -> Option<String> {
    None
}

/// Creates a new file that only its owner can read and write.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Reads and checks an entry: `Ok(None)` when there is none, `Err(reason)`
/// when there is one that must not be used.
fn read_entry(
    engine: &Engine,
    path: &Path,
    user: u32,
) -> std::result::Result<Option<Component>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("it cannot be read ({err})")),
    };
    let unreadable = |err: std::io::Error| format!("it cannot be read ({err})");
    let meta = file.metadata().map_err(unreadable)?;
    if let Some(why) = distrust_entry(&meta, user) {
        return Err(why);
    }
    let len = meta.len();
    let Some(artifact_len) = len.checked_sub(TRAILER_LEN) else {
        return Err("it is not a weft cache entry, or it is truncated".into());
    };
    // The checksum of the artifact, streamed: the bytes are not kept.
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 64 << 10];
    let mut left = artifact_len;
    while left > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        let read = file.read(&mut buffer[..want]).map_err(unreadable)?;
        if read == 0 {
            return Err("it is not a weft cache entry, or it is truncated".into());
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    let mut trailer = [0u8; TRAILER_LEN as usize];
    file.read_exact(&mut trailer).map_err(unreadable)?;
    let (checksum, magic) = trailer.split_at(4);
    if magic != MAGIC {
        return Err("it is not a weft cache entry, or it is truncated".into());
    }
    if hasher.finalize().to_le_bytes() != checksum {
        return Err(
            "its contents do not match their recorded CRC-32 (truncated or corrupted)".into(),
        );
    }
    // SAFETY: deserializing trusts that the bytes came from `serialize` on a
    // compatible engine, and that they do not change while they are in use.
    // They did: the checksum above shows the file is the one weft wrote (in a
    // directory only its owner can write, as `distrust` checked, and the
    // file is this user's, writable by no one else), the key it is stored under names
    // the engine settings that change code, and Wasmtime itself refuses an
    // artifact made for another engine. Writers never modify an entry
    // in place (they rename a new file over it), and on Linux Wasmtime maps
    // the very file checked above, through its open descriptor. Wasmtime
    // ignores the trailer after the artifact's last section.
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let by_descriptor = format!("/proc/self/fd/{}", file.as_raw_fd());
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &by_descriptor) } {
            return Ok(Some(component));
        }
        // No /proc, say: read the bytes instead (which reports any real error).
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.rewind().map_err(unreadable)?;
    file.read_to_end(&mut bytes).map_err(unreadable)?;
    if crc32fast::hash(&bytes[..artifact_len as usize]).to_le_bytes() != checksum {
        return Err("it changed while it was being read".into());
    }
    match unsafe { Component::deserialize(engine, &bytes[..artifact_len as usize]) } {
        Ok(component) => Ok(Some(component)),
        Err(err) => Err(format!("Wasmtime refused it ({err})")),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn nanos_now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn directory_precedence() {
        let all = env(&[
            ("WEFT_CACHE_DIR", "/w"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(default_dir(all), Some(PathBuf::from("/w")));
        let xdg = env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(default_dir(xdg), Some(PathBuf::from("/x/weft")));
        let home = env(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")]);
        assert_eq!(default_dir(home), Some(PathBuf::from("/h/.cache/weft")));
        assert_eq!(default_dir(env(&[])), None);
    }

    #[test]
    fn every_part_of_the_key_changes_the_entry() {
        let cache = Cache::new("/c");
        let limits = crate::limits::Limits::default();
        let plain = &crate::engine::EngineSettings::new(&limits, None, false).code_key();
        let fueled = crate::limits::Limits {
            fuel: Some(1),
            ..Default::default()
        };
        let fuel = &crate::engine::EngineSettings::new(&fueled, None, false).code_key();
        let epochs = &crate::engine::EngineSettings::new(&limits, None, true).code_key();
        let big_pool = &crate::engine::EngineSettings::new(&limits, Some(2000), true).code_key();
        let wasm = [7u8; 32];
        let base = cache.entry_path_for("1.0.0", plain, &wasm, Source::Component);
        assert_eq!(
            base,
            cache.entry_path_for("1.0.0", plain, &wasm, Source::Component),
            "the key is stable"
        );
        assert!(base.to_string_lossy().ends_with(SUFFIX));
        let others = [
            cache.entry_path_for("1.0.1", plain, &wasm, Source::Component),
            cache.entry_path_for("1.0.0", fuel, &wasm, Source::Component),
            cache.entry_path_for("1.0.0", epochs, &wasm, Source::Component),
            cache.entry_path_for("1.0.0", big_pool, &wasm, Source::Component),
            cache.entry_path_for("1.0.0", plain, &[8u8; 32], Source::Component),
            cache.entry_path_for(
                "1.0.0",
                plain,
                &wasm,
                Source::AdaptedCoreModule {
                    memory_pages: 1 << 16,
                },
            ),
            cache.entry_path_for(
                "1.0.0",
                plain,
                &wasm,
                Source::AdaptedCoreModule { memory_pages: 1024 },
            ),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&base, other, "variation {i} must change the key");
        }
    }

    /// Makes `path` another user's, as far as a cache checked as the
    /// returned user can tell: as root it is given to `nobody`; otherwise
    /// the check runs as a user other than its owner.
    #[cfg(unix)]
    fn give_away(path: &Path) -> u32 {
        let me = effective_user();
        if me == 0 {
            std::os::unix::fs::chown(path, Some(65534), None).unwrap();
            0
        } else {
            me + 1
        }
    }

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_private_cache_under_a_sticky_directory_is_trusted() {
        let temp = tempfile::tempdir().unwrap();
        let me = effective_user();
        assert_eq!(distrust(temp.path(), me), None);
        // Not created yet: its parents are what is checked.
        assert_eq!(distrust(&temp.path().join("new").join("cache"), me), None);
        // Created as weft creates it.
        let cache = temp.path().join("made");
        create_private_dir(&cache).unwrap();
        assert_eq!(distrust(&cache, me), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_can_write_is_not_trusted() {
        let temp = tempfile::tempdir().unwrap();
        let me = effective_user();
        chmod(temp.path(), 0o777);
        let why = distrust(temp.path(), me).unwrap();
        assert!(
            why.contains("is writable by every user (mode 0777)"),
            "{why}"
        );
        assert!(
            why.contains(&format!("chmod go-w {}", temp.path().display())),
            "{why}"
        );
        chmod(temp.path(), 0o770);
        let why = distrust(temp.path(), me).unwrap();
        assert!(
            why.contains("is writable by its group (mode 0770)"),
            "{why}"
        );
        // A sticky world-writable cache directory is still one others can
        // add entries to.
        chmod(temp.path(), 0o1777);
        assert!(distrust(temp.path(), me).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_under_a_directory_others_can_write_is_not_trusted() {
        let temp = tempfile::tempdir().unwrap();
        let me = effective_user();
        let cache = temp.path().join("cache");
        create_private_dir(&cache).unwrap();
        chmod(temp.path(), 0o777);
        let why = distrust(&cache, me).unwrap();
        assert!(
            why.contains(&format!(
                "{}, a directory above it, is writable by every user",
                temp.path().display()
            )),
            "{why}"
        );
        // The same, for a cache not created yet.
        assert!(distrust(&cache.join("sub"), me).is_some());
        // Sticky, as /tmp is: nobody else can rename the cache away.
        chmod(temp.path(), 0o1777);
        assert_eq!(distrust(&cache, me), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_owned_by_another_user_is_not_trusted() {
        let temp = tempfile::tempdir().unwrap();
        let cache = temp.path().join("cache");
        create_private_dir(&cache).unwrap();
        let user = give_away(&cache);
        let why = distrust(&cache, user).unwrap();
        assert!(
            why.contains(&format!(
                "the cache directory {} is owned by another user",
                cache.display()
            )),
            "{why}"
        );
        // Through a symbolic link, the directory it points to is checked.
        let link = temp.path().join("link");
        std::os::unix::fs::symlink(&cache, &link).unwrap();
        assert!(distrust(&link, user).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn an_entry_owned_by_another_user_or_writable_by_others_is_not_trusted() {
        let temp = tempfile::tempdir().unwrap();
        let entry = temp.path().join("entry.cwasm");
        private_file(&entry).unwrap();
        let meta = |path: &Path| std::fs::metadata(path).unwrap();
        assert_eq!(distrust_entry(&meta(&entry), effective_user()), None);
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta(&entry).permissions().mode() & 0o777, 0o600);
        }
        chmod(&entry, 0o666);
        let why = distrust_entry(&meta(&entry), effective_user()).unwrap();
        assert_eq!(why, "it is writable by other users (mode 0666)");
        chmod(&entry, 0o600);
        let user = give_away(&entry);
        let why = distrust_entry(&meta(&entry), user).unwrap();
        assert!(
            why.starts_with("it is owned by another user (uid "),
            "{why}"
        );
    }
}
