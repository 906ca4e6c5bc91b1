//! Package stores and app lookup: an app id, a path or a store root → the
//! package directory that holds its `wapp.toml`.
//!
//! App ids are validated before any path is built from them, so an id can
//! never name a directory outside its store.

use std::path::{Path, PathBuf};

use crate::id::{AppId, is_command_name};
use crate::manifest::Manifest;
use crate::{Error, Result};

/// The store roots searched for app ids, in order: `$WEFT_APP_STORE` alone if
/// it is set, else the user's store, then the system store.
pub fn store_roots() -> Vec<PathBuf> {
    if let Some(root) = std::env::var_os("WEFT_APP_STORE") {
        return vec![PathBuf::from(root)];
    }
    let mut roots = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(home).join(".local/share/weft/apps"));
    }
    roots.push(PathBuf::from("/usr/share/weft/apps"));
    roots
}

/// Finds `<root>/<app_id>/wapp.toml` in the first root that has it.
pub fn find_in_stores(id: &AppId, roots: &[PathBuf]) -> Result<PathBuf> {
    for root in roots {
        let dir = root.join(id.as_str());
        if dir.join("wapp.toml").is_file() {
            return Ok(dir);
        }
    }
    let searched: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    Err(Error::package(format!(
        "app \"{id}\" is not installed: no {id}/wapp.toml in {}; install the package there, set WEFT_APP_STORE to the store that holds it, or pass the package directory",
        searched.join(", ")
    )))
}

/// Where the app named on the command line lives: a package directory.
///
/// `target` is a package directory, the path of its `wapp.toml`, an app id
/// to look up in the stores, or a command name (`[command] name`) to look up
/// there. Anything that looks like a path (it contains a `/`, starts with
/// `.`, or exists) is taken as one; a name with dots is an app id.
pub fn resolve(target: &str) -> Result<PathBuf> {
    resolve_in(target, &store_roots())
}

/// [`resolve`], with app ids looked up in `roots`.
pub fn resolve_in(target: &str, roots: &[PathBuf]) -> Result<PathBuf> {
    let path = Path::new(target);
    let looks_like_path = target.contains('/') || target.starts_with('.') || path.exists();
    if looks_like_path {
        return package_dir_of(path);
    }
    if !target.contains('.') && is_command_name(target) {
        return find_command(target, roots);
    }
    match AppId::parse(target) {
        Ok(id) => find_in_stores(&id, roots),
        Err(why) => Err(Error::package(format!(
            "\"{target}\" is neither a package path, an app id nor a command name: {why}; pass a package directory (such as ./my-app), an installed app's id, or a command name from `weft run list`"
        ))),
    }
}

/// A named command found in a store.
#[derive(Debug, Clone)]
pub struct CommandEntry {
    pub name: String,
    pub short: Option<String>,
    pub id: AppId,
    pub dir: PathBuf,
}

/// Every named command in the stores. Packages whose manifest does not parse
/// are skipped with a warning; a command name used by two packages is an
/// error that names both.
pub fn commands(roots: &[PathBuf]) -> Result<Vec<CommandEntry>> {
    let mut found: Vec<CommandEntry> = Vec::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("wapp.toml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let manifest = match Manifest::from_file(&dir.join("wapp.toml")) {
                Ok(manifest) => manifest,
                Err(err) => {
                    tracing::warn!("skipping {}: {err}", dir.display());
                    continue;
                }
            };
            let Some(command) = manifest.command else {
                continue;
            };
            if let Some(other) = found.iter().find(|c| c.name == command.name) {
                return Err(Error::package(format!(
                    "command \"{}\" is defined by two packages, {} ({}) and {} ({}); rename `[command] name` in one of them",
                    command.name,
                    other.id,
                    other.dir.display(),
                    manifest.id,
                    dir.display()
                )));
            }
            found.push(CommandEntry {
                name: command.name,
                short: command.short,
                id: manifest.id,
                dir,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The package whose `[command] name` is `name`.
pub fn find_command(name: &str, roots: &[PathBuf]) -> Result<PathBuf> {
    let commands = commands(roots)?;
    match commands.into_iter().find(|c| c.name == name) {
        Some(command) => Ok(command.dir),
        None => {
            let searched: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            Err(Error::package(format!(
                "no package in {} defines the command \"{name}\"; `weft run list` shows the commands there, or pass a package directory or app id",
                searched.join(", ")
            )))
        }
    }
}

/// The package directory for a path that is either the directory or its manifest.
pub fn package_dir_of(path: &Path) -> Result<PathBuf> {
    let meta = std::fs::metadata(path).map_err(|err| {
        Error::package(format!(
            "package {} cannot be opened: {err}; pass a package directory that holds a wapp.toml",
            path.display()
        ))
    })?;
    if meta.is_dir() {
        if !path.join("wapp.toml").is_file() {
            return Err(Error::package(format!(
                "{} holds no wapp.toml, so it is not a weft package; pass the directory that holds the app's wapp.toml",
                path.display()
            )));
        }
        return Ok(path.to_path_buf());
    }
    if path.file_name().is_some_and(|n| n == "wapp.toml") {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        return Ok(parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf));
    }
    Err(Error::package(format!(
        "{} is a file but not a wapp.toml; pass the package directory or its wapp.toml",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(root: &Path, id: &str, command: Option<&str>) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = format!(
            "[package]\nid = \"{id}\"\nname = \"x\"\nversion = \"1\"\n\n[runtime]\nmodule = \"app.wasm\"\nhash = \"sha256:{}\"\n",
            "0".repeat(64)
        );
        if let Some(command) = command {
            text.push_str(&format!(
                "\n[command]\nname = \"{command}\"\nshort = \"Does {command}\"\n"
            ));
        }
        std::fs::write(dir.join("wapp.toml"), text).unwrap();
    }

    #[test]
    fn commands_are_listed_and_found_across_stores() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        package(first.path(), "org.example.a", Some("alpha"));
        package(first.path(), "org.example.plain", None);
        package(second.path(), "org.example.b", Some("beta"));
        std::fs::create_dir_all(second.path().join("org.example.broken")).unwrap();
        std::fs::write(
            second.path().join("org.example.broken/wapp.toml"),
            "not toml",
        )
        .unwrap();
        let roots = vec![first.path().to_path_buf(), second.path().to_path_buf()];
        let commands = commands(&roots).unwrap();
        let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert_eq!(commands[1].short.as_deref(), Some("Does beta"));
        assert_eq!(
            resolve_in("beta", &roots).unwrap(),
            second.path().join("org.example.b")
        );
        let err = resolve_in("gamma", &roots).unwrap_err();
        assert!(
            err.message().contains("defines the command \"gamma\""),
            "{err}"
        );
    }

    #[test]
    fn duplicate_command_names_name_both_packages() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        package(first.path(), "org.example.one", Some("same"));
        package(second.path(), "org.example.two", Some("same"));
        let roots = vec![first.path().to_path_buf(), second.path().to_path_buf()];
        let err = commands(&roots).unwrap_err();
        let message = err.message();
        assert!(message.contains("org.example.one"), "{message}");
        assert!(message.contains("org.example.two"), "{message}");
        assert!(
            message.contains("command \"same\" is defined by two packages"),
            "{message}"
        );
    }

    #[test]
    fn store_lookup_takes_the_first_root_that_has_the_app() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let id = AppId::parse("org.example.hello").unwrap();
        std::fs::create_dir_all(second.path().join("org.example.hello")).unwrap();
        std::fs::write(second.path().join("org.example.hello/wapp.toml"), "").unwrap();
        let roots = vec![first.path().to_path_buf(), second.path().to_path_buf()];
        assert_eq!(
            find_in_stores(&id, &roots).unwrap(),
            second.path().join("org.example.hello")
        );
        let missing = AppId::parse("org.example.other").unwrap();
        let err = find_in_stores(&missing, &roots).unwrap_err();
        assert!(err.message().contains("not installed"), "{err}");
    }
}
