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
//! `~/.cache/weft`, created with mode 0700: an artifact is native code that
//! weft maps executable, so only its owner may write there.

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
    /// A core module, compiled after weft adapts it to a component.
    AdaptedCoreModule,
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
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
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
        key.update(match source {
            Source::Component => b"\0component\0".as_slice(),
            Source::AdaptedCoreModule => b"\0core-module+preview1-command-adapter\0".as_slice(),
        });
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
        self.lookup(engine, &self.entry_path(engine_key, wasm_sha256, source))
            .ok()
    }

    /// The entry at `path`: `Ok` with it, or `Err(true)` when there was one
    /// and it was discarded, `Err(false)` when there was none.
    fn lookup(&self, engine: &Engine, path: &Path) -> std::result::Result<Component, bool> {
        match read_entry(engine, path) {
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
            let mut file = std::fs::File::create(&temp)?;
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

/// Reads and checks an entry: `Ok(None)` when there is none, `Err(reason)`
/// when there is one that must not be used.
fn read_entry(engine: &Engine, path: &Path) -> std::result::Result<Option<Component>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("it cannot be read ({err})")),
    };
    let unreadable = |err: std::io::Error| format!("it cannot be read ({err})");
    let len = file.metadata().map_err(unreadable)?.len();
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
    // directory only its owner can write), the key it is stored under names
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
            cache.entry_path_for("1.0.0", plain, &wasm, Source::AdaptedCoreModule),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&base, other, "variation {i} must change the key");
        }
    }
}
