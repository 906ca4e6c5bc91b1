//! Guests in C, Python and JavaScript: their toolchains (installed on first
//! use, from Debian's packages, PyPI and npm) and their builds, each cached
//! under `target/guest-cache/` by a digest of everything that goes into it.
//!
//! - C: clang and wasi-libc (Debian: `clang-19 lld-19
//!   libclang-rt-19-dev-wasm32 wasi-libc`), targeting `wasm32-wasi`
//!   (preview1). A guest without a world is a plain `main`, packed as a core
//!   module that weft adapts itself. A guest with a world gets `wit-bindgen c`
//!   bindings (the `wit-bindgen-c` crate, so no CLI to install), is linked as
//!   a reactor, and is made a component here with the preview1 adapter.
//! - Python: `componentize-py`, pinned in `guests/python/requirements.txt`,
//!   installed into a virtual environment in `target/toolchains/python`.
//! - JavaScript: `componentize-js` (StarlingMonkey) for WASI 0.2 and
//!   `componentize-qjs` (QuickJS) for WASI 0.3, pinned by
//!   `guests/js/package-lock.json`, installed by npm into
//!   `guests/js/node_modules`.
//!
//! When a toolchain is missing and cannot be installed, the build fails,
//! unless `WEFT_GUESTS_SKIP_MISSING=1` asks to skip that language's guests,
//! which is then announced loudly.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::{Build, JsBackend};

/// Set to `1` to skip guests whose toolchain is missing instead of failing.
pub const SKIP_MISSING_VAR: &str = "WEFT_GUESTS_SKIP_MISSING";

/// The Debian packages that build the C guests.
pub const C_PACKAGES: [&str; 4] = [
    "clang-19",
    "lld-19",
    "libclang-rt-19-dev-wasm32",
    "wasi-libc",
];

/// A toolchain, once looked for: where it is, and a version string that
/// is part of every build key.
#[derive(Clone)]
struct Tool {
    program: PathBuf,
    version: String,
}

/// The language toolchains, set up on first use.
pub struct Toolchains {
    root: PathBuf,
    skip_missing: bool,
    c: Option<std::result::Result<Tool, String>>,
    python: Option<std::result::Result<Tool, String>>,
    js: Option<std::result::Result<Tool, String>>,
    /// Guests skipped for a missing toolchain, with the reason.
    pub skipped: Vec<(String, String)>,
}

impl Toolchains {
    pub fn new(root: &Path) -> Toolchains {
        Toolchains {
            root: root.to_path_buf(),
            skip_missing: std::env::var(SKIP_MISSING_VAR).is_ok_and(|v| v == "1"),
            c: None,
            python: None,
            js: None,
            skipped: Vec::new(),
        }
    }

    /// Builds one guest's wasm; `Ok(None)` when it is skipped.
    pub fn build(&mut self, name: &str, dir: &Path, build: &Build) -> Result<Option<Vec<u8>>> {
        let root = self.root.clone();
        let tool = match build {
            Build::C { .. } => self
                .c
                .get_or_insert_with(|| find_c().map_err(|e| format!("{e:#}"))),
            Build::Python { .. } => self
                .python
                .get_or_insert_with(|| find_python(&root).map_err(|e| format!("{e:#}"))),
            Build::Js { .. } => self
                .js
                .get_or_insert_with(|| find_js(&root).map_err(|e| format!("{e:#}"))),
            _ => bail!("guest {name}: not a C, Python or JavaScript guest"),
        };
        let tool = match tool {
            Ok(tool) => tool.clone(),
            Err(why) if self.skip_missing => {
                self.skipped.push((name.to_string(), why.clone()));
                return Ok(None);
            }
            Err(why) => bail!(
                "cannot build guest {name}: {why}; install the toolchain (see docs/guests/), or set {SKIP_MISSING_VAR}=1 to skip these guests"
            ),
        };
        let key = build_key(&root, dir, build, &tool.version)?;
        let cached = root.join("target/guest-cache").join(format!("{key}.wasm"));
        if let Ok(bytes) = std::fs::read(&cached) {
            return Ok(Some(bytes));
        }
        let scratch = root.join("target/guest-build").join(name);
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(&scratch)?;
        eprintln!("xtask: building guest {name}");
        let wasm = match build {
            Build::C { sources, world, .. } => build_c(
                &build.wit_dir(&root),
                dir,
                sources,
                world.as_deref(),
                &tool,
                &scratch,
            ),
            Build::Python { world, module, .. } => {
                build_python(&build.wit_dir(&root), dir, world, module, &tool, &scratch)
            }
            Build::Js {
                source,
                world,
                disable,
                backend,
                ..
            } => build_js(
                &build.wit_dir(&root),
                dir,
                source,
                world,
                disable,
                *backend,
                &tool,
                &scratch,
            ),
            _ => unreachable!("checked above"),
        }
        .with_context(|| format!("building guest {name}"))?;
        std::fs::create_dir_all(cached.parent().unwrap())?;
        let temp = cached.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temp, &wasm)?;
        std::fs::rename(&temp, &cached)?;
        Ok(Some(wasm))
    }

    /// Says loudly which guests were skipped, if any.
    pub fn announce_skipped(&self) {
        if self.skipped.is_empty() {
            return;
        }
        let rule = "=".repeat(72);
        eprintln!("xtask: {rule}");
        eprintln!(
            "xtask: SKIPPED {} guest(s) because their toolchain is missing ({SKIP_MISSING_VAR}=1):",
            self.skipped.len()
        );
        for (name, why) in &self.skipped {
            eprintln!("xtask:   {name}: {why}");
        }
        eprintln!("xtask: their conformance cases do NOT run");
        eprintln!("xtask: {rule}");
    }
}

/// The digest of everything that goes into a build: the toolchain's
/// version, the build settings, every file of the guest's folder (its
/// sources, `guest.toml` and `wapp.toml` too) and the WIT.
fn build_key(root: &Path, dir: &Path, build: &Build, tool_version: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(tool_version.as_bytes());
    hasher.update([0]);
    hasher.update(format!("{build:?}").as_bytes());
    for base in [dir, &build.wit_dir(root)] {
        let mut files = Vec::new();
        list_files(base, &mut files)?;
        files.sort();
        hasher.update([1]);
        for file in files {
            let relative = file.strip_prefix(base).unwrap_or(&file);
            let name = relative.to_string_lossy();
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(std::fs::read(&file)?);
            hasher.update([0]);
        }
    }
    Ok(crate::hex(&hasher.finalize()))
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "__pycache__" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            list_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid == "0")
}

// ---------------------------------------------------------------- C

fn find_clang() -> Option<Tool> {
    ["clang-19", "clang"].into_iter().find_map(|program| {
        let version = output(Command::new(program).arg("--version"))?;
        // The compiler alone is not enough: wasi-libc must be there too.
        let libc = output(
            Command::new(program).args(["--target=wasm32-wasi", "-print-file-name=libc.a"]),
        )?;
        // The bindings generator and the adapter are part of a C build too.
        Path::new(&libc).is_absolute().then(|| Tool {
            program: program.into(),
            version: format!(
                "{}; wit-bindgen-c 0.61; wasi-preview1-component-adapter-provider 50.0.1",
                version.lines().next().unwrap_or_default()
            ),
        })
    })
}

fn find_c() -> Result<Tool> {
    if let Some(tool) = find_clang() {
        return Ok(tool);
    }
    if !is_root() || output(Command::new("apt-get").arg("--version")).is_none() {
        bail!(
            "clang with wasi-libc is not installed (on Debian: apt-get install {})",
            C_PACKAGES.join(" ")
        );
    }
    eprintln!(
        "xtask: installing the C toolchain with apt-get: {}",
        C_PACKAGES.join(" ")
    );
    if !crate::apt_install(&C_PACKAGES) {
        bail!(
            "apt-get install {} failed; install them by hand",
            C_PACKAGES.join(" ")
        );
    }
    find_clang().context("clang or wasi-libc is still missing after apt-get install")
}

fn build_c(
    wit: &Path,
    dir: &Path,
    sources: &[String],
    world: Option<&str>,
    tool: &Tool,
    scratch: &Path,
) -> Result<Vec<u8>> {
    let core = scratch.join("core.wasm");
    let mut clang = Command::new(&tool.program);
    clang
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror", "-o"])
        .arg(&core);
    for source in sources {
        clang.arg(dir.join(source));
    }
    let Some(world) = world else {
        run(&mut clang, "clang")?;
        return Ok(std::fs::read(&core)?);
    };

    // wit-bindgen c: the bindings, and an object file carrying the world's
    // type, which the linker keeps as a custom section for wit-component.
    use wit_bindgen_core::wit_parser::Resolve;
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("parsing {}", wit.display()))?;
    let world_id = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("finding world {world} in {}", wit.display()))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world_id, &mut files)
        .context("generating C bindings")?;
    let bindings = scratch.join("bindings");
    std::fs::create_dir_all(&bindings)?;
    for (name, contents) in files.iter() {
        let path = bindings.join(name);
        std::fs::write(&path, contents)?;
        if name.ends_with(".c") || name.ends_with(".o") {
            clang.arg(&path);
        }
    }
    clang.arg("-I").arg(&bindings).arg("-mexec-model=reactor");
    run(&mut clang, "clang")?;

    use wasi_preview1_component_adapter_provider as adapters;
    let adapter = if world == "http-app" {
        adapters::WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER
    } else {
        adapters::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    wit_component_c::ComponentEncoder::default()
        .validate(true)
        .module(&std::fs::read(&core)?)?
        .adapter(adapters::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)?
        .encode()
        .context("making a component of the C module")
}

// ---------------------------------------------------------------- Python

fn find_python(root: &Path) -> Result<Tool> {
    let requirements = root.join("guests/python/requirements.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let venv = root.join("target/toolchains/python");
    let program = venv.join("bin/componentize-py");
    let stamp = venv.join("weft-requirements.txt");
    if !(program.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == pinned)) {
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| output(Command::new(p).arg("--version")).is_some())
            .context("Python 3 is not installed (it provides pip for componentize-py)")?;
        eprintln!(
            "xtask: installing componentize-py into {} (pip, from {})",
            venv.display(),
            requirements.display()
        );
        if venv.exists() {
            std::fs::remove_dir_all(&venv)?;
        }
        run(
            Command::new(python).args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        )?;
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            "pip install componentize-py",
        )?;
        std::fs::write(&stamp, &pinned)?;
    }
    Ok(Tool {
        program,
        version: pinned,
    })
}

fn build_python(
    wit: &Path,
    dir: &Path,
    world: &str,
    module: &str,
    tool: &Tool,
    scratch: &Path,
) -> Result<Vec<u8>> {
    let out = scratch.join("app.wasm");
    // A bare world name is one of `weft:app`'s.
    let world = if world.contains(':') {
        world.to_string()
    } else {
        format!("weft:app/{world}")
    };
    run(
        Command::new(&tool.program)
            .arg("-d")
            .arg(wit)
            .arg("-w")
            .arg(world)
            .arg("componentize")
            .arg(module)
            .arg("-p")
            .arg(dir)
            .arg("-o")
            .arg(&out)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "componentize-py",
    )?;
    Ok(std::fs::read(&out)?)
}

// ---------------------------------------------------------------- JavaScript

fn find_js(root: &Path) -> Result<Tool> {
    let project = root.join("guests/js");
    let lock = std::fs::read_to_string(project.join("package-lock.json"))
        .context("reading guests/js/package-lock.json")?;
    let program = project.join("node_modules/.bin/componentize-js");
    let qjs = project.join("node_modules/.bin/componentize-qjs");
    let stamp = project.join("node_modules/.weft-package-lock.json");
    if !(program.is_file()
        && qjs.is_file()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s == lock))
    {
        output(Command::new("npm").arg("--version"))
            .context("npm is not installed (it installs componentize-js)")?;
        eprintln!(
            "xtask: installing componentize-js and componentize-qjs into {} (npm install, from package-lock.json)",
            project.join("node_modules").display()
        );
        // Not `npm ci`: some optional, platform-specific packages in the tree
        // (jco-node-fs 0.3.2 for win32 and musl, say) are not published, so
        // the lock file cannot list them and `npm ci` refuses it. `npm install
        // --no-save` installs the versions the lock file pins and leaves it as is.
        run(
            Command::new("npm")
                .args([
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                ])
                .current_dir(&project),
            "npm install",
        )?;
        std::fs::write(&stamp, &lock)?;
    }
    Ok(Tool {
        program,
        version: lock,
    })
}

#[allow(clippy::too_many_arguments)]
fn build_js(
    wit: &Path,
    dir: &Path,
    source: &str,
    world: &str,
    disable: &[String],
    backend: Option<JsBackend>,
    tool: &Tool,
    scratch: &Path,
) -> Result<Vec<u8>> {
    let out = scratch.join("app.wasm");
    if backend == Some(JsBackend::Qjs) {
        // componentize-qjs sits beside componentize-js in the same
        // node_modules (guests/js/package.json lists both).
        let program = tool.program.with_file_name("componentize-qjs");
        if !disable.is_empty() {
            bail!(
                "`disable` is a componentize-js option; componentize-qjs imports only what the world names"
            );
        }
        run(
            Command::new(program)
                .arg("--wit")
                .arg(wit)
                .arg("--world")
                .arg(world)
                .arg("--js")
                .arg(dir.join(source))
                .arg("-o")
                .arg(&out)
                .stdout(std::process::Stdio::null()),
            "componentize-qjs",
        )?;
        return Ok(std::fs::read(&out)?);
    }
    let mut command = Command::new(&tool.program);
    command
        .arg(dir.join(source))
        .arg("--wit")
        .arg(wit)
        .arg("--world-name")
        .arg(world)
        .arg("-o")
        .arg(&out);
    if !disable.is_empty() {
        command.arg("--disable").args(disable);
    }
    run(&mut command, "componentize-js")?;
    Ok(std::fs::read(&out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch repository with `wit/` and one C guest.
    fn scratch(name: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("weft-key-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let guest = root.join("guests/c/app");
        std::fs::create_dir_all(&guest).unwrap();
        std::fs::create_dir_all(root.join("wit")).unwrap();
        std::fs::write(root.join("wit/app.wit"), "package weft:app;\n").unwrap();
        std::fs::write(guest.join("app.c"), "int main(void) { return 0; }\n").unwrap();
        std::fs::write(guest.join("guest.toml"), "[build]\nkind = \"c\"\n").unwrap();
        std::fs::write(
            guest.join("wapp.toml"),
            "[package]\nid = \"org.example.a\"\n",
        )
        .unwrap();
        (root, guest)
    }

    fn c_build() -> Build {
        Build::C {
            sources: vec!["app.c".into()],
            world: None,
            wit: None,
        }
    }

    #[test]
    fn a_guest_is_rebuilt_when_what_goes_into_it_changes() {
        let (root, guest) = scratch("changes");
        let key = || build_key(&root, &guest, &c_build(), "clang 19").unwrap();
        let first = key();
        assert_eq!(first, key(), "nothing changed, nothing to rebuild");

        let mut seen = vec![first];
        let mut changed = |what: &str, path: PathBuf, text: &str| {
            std::fs::write(path, text).unwrap();
            let now = key();
            assert!(
                !seen.contains(&now),
                "changing {what} must rebuild the guest"
            );
            seen.push(now);
        };
        changed(
            "a source",
            guest.join("app.c"),
            "int main(void) { return 1; }\n",
        );
        changed("a new source", guest.join("extra.h"), "#define X 1\n");
        changed(
            "the manifest",
            guest.join("wapp.toml"),
            "[package]\nid = \"org.example.b\"\n",
        );
        changed(
            "guest.toml",
            guest.join("guest.toml"),
            "[build]\nkind = \"c\" # x\n",
        );
        changed(
            "the WIT",
            root.join("wit/app.wit"),
            "package weft:app@0.1.0;\n",
        );

        let other_tool = build_key(&root, &guest, &c_build(), "clang 20").unwrap();
        assert!(
            !seen.contains(&other_tool),
            "another toolchain must rebuild the guest"
        );
        let other_settings = Build::C {
            sources: vec!["app.c".into()],
            world: Some("compute".into()),
            wit: None,
        };
        let other_settings = build_key(&root, &guest, &other_settings, "clang 19").unwrap();
        assert!(
            !seen.contains(&other_settings),
            "other build settings must rebuild the guest"
        );
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn build_output_in_the_guest_folder_is_not_part_of_the_key() {
        let (root, guest) = scratch("output");
        let before = build_key(&root, &guest, &c_build(), "v").unwrap();
        std::fs::create_dir_all(guest.join("__pycache__")).unwrap();
        std::fs::write(guest.join("__pycache__/app.cpython-311.pyc"), "x").unwrap();
        std::fs::create_dir_all(guest.join("node_modules/x")).unwrap();
        std::fs::write(guest.join("node_modules/x/index.js"), "x").unwrap();
        assert_eq!(before, build_key(&root, &guest, &c_build(), "v").unwrap());
        std::fs::remove_dir_all(&root).ok();
    }
}
