//! The `wapp.toml` schema and its validation: manifest text → [`Manifest`], or
//! a [`ManifestError`] that names the file, line, column and field.
//!
//! Parsing is strict: unknown fields are errors, and every value is checked
//! here, before any path is built from it or any capability is linked. The
//! same validation serves `weft check` and `weft run`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::capabilities::Group;
use crate::capabilities::cli::{self, EnvVar};
use crate::capabilities::filesystem::{self, Mount};
use crate::capabilities::http::{AllowedHost, HttpSettings};
use crate::digest::{hex, parse_hash};
use crate::id::{AppId, is_command_name};
use crate::limits::{self, Limits, parse_bytes, parse_duration};

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub id: AppId,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub author: Option<String>,
    /// The wasm file, relative to the package directory.
    pub module: PathBuf,
    /// The pinned sha256 of the wasm file, as 32 bytes.
    pub hash: [u8; 32],
    pub method: Option<String>,
    /// The WASI groups the app may import, in manifest order.
    pub imports: Vec<Group>,
    pub wasi: WasiSettings,
    /// `[runtime.limits]`; `weft run` flags override each one.
    pub limits: Limits,
    /// `[runtime.http]`: where outbound requests may go.
    pub http: HttpSettings,
    /// `[runtime.serve]`: what `weft serve` accepts from clients.
    pub serve: ServeSettings,
    pub command: Option<Command>,
    pub ui: Option<Ui>,
}

/// `[runtime.wasi]`.
#[derive(Debug, Clone, Default)]
pub struct WasiSettings {
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub env: Vec<EnvVar>,
    pub mounts: Vec<Mount>,
}

/// `[runtime.serve]`.
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    /// The largest request body, in bytes; `weft serve --max-request-body`
    /// overrides it.
    pub max_request_body: Option<u64>,
}

/// `[command]`: the app as a named command.
#[derive(Debug, Clone)]
pub struct Command {
    pub name: String,
    pub short: Option<String>,
}

/// `[ui]`.
#[derive(Debug, Clone)]
pub struct Ui {
    pub entry: String,
}

/// A manifest that cannot be used, with where and why.
#[derive(Debug, Clone)]
pub struct ManifestError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The dotted path of the field, such as `runtime.wasi.cwd`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid manifest {}:{}:{}: field `{}`: {}",
            self.file.display(),
            self.line,
            self.column,
            self.field,
            self.message
        )
    }
}

impl std::error::Error for ManifestError {}

// ---- the schema as written -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    package: Spanned<RawPackage>,
    runtime: Spanned<RawRuntime>,
    command: Option<Spanned<RawCommand>>,
    ui: Option<RawUi>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    id: Spanned<String>,
    name: Spanned<String>,
    version: Spanned<String>,
    description: Option<String>,
    author: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    module: Spanned<String>,
    hash: Spanned<String>,
    method: Option<Spanned<String>>,
    #[serde(default)]
    imports: Vec<Spanned<String>>,
    #[serde(default)]
    wasi: RawWasi,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    serve: RawServe,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServe {
    max_request_body: Option<Spanned<SizeValue>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    allowed_hosts: Vec<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    first_byte_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory: Option<Spanned<SizeValue>>,
    fuel: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    table_elements: Option<Spanned<i64>>,
    instances: Option<Spanned<i64>>,
    resources: Option<Spanned<i64>>,
}

/// A size written as bytes (`67108864`) or with a unit (`"64MiB"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(i64),
    Text(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWasi {
    #[serde(default)]
    args: Vec<String>,
    cwd: Option<Spanned<String>>,
    #[serde(default)]
    env: Vec<Spanned<RawEnv>>,
    #[serde(default)]
    mounts: Vec<Spanned<RawMount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    name: String,
    value: Option<String>,
    from: Option<String>,
    required: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMount {
    host: String,
    guest: String,
    #[serde(default)]
    read_only: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: Spanned<String>,
    short: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUi {
    entry: String,
}

// ---- parsing and validation -----------------------------------------------

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn from_file(path: &Path) -> crate::Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            crate::Error::package(format!(
                "cannot read manifest {}: {err}; pass a package directory that holds a wapp.toml, or the wapp.toml itself",
                path.display()
            ))
        })?;
        Manifest::parse(&text, path).map_err(|err| crate::Error::package(err.to_string()))
    }

    /// Parses and validates manifest text; `file` is only used in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Manifest, ManifestError> {
        let at = |span: Range<usize>, field: &str, message: String| {
            ManifestError::at(text, file, span.start, field, message)
        };

        let raw: RawManifest = toml::from_str(text).map_err(|err| {
            let offset = err.span().map(|s| s.start).unwrap_or(0);
            let field = field_at(text, offset);
            ManifestError::at(text, file, offset, &field, err.message().trim().to_string())
        })?;

        let package = raw.package.into_inner();
        let id_span = package.id.span();
        let id = AppId::parse(package.id.get_ref())
            .map_err(|why| at(id_span.clone(), "package.id", why))?;
        non_empty(&package.name, "package.name", &at)?;
        non_empty(&package.version, "package.version", &at)?;

        let runtime = raw.runtime.into_inner();
        let module = validate_module(&runtime.module)
            .map_err(|why| at(runtime.module.span(), "runtime.module", why))?;
        let hash = parse_hash(runtime.hash.get_ref())
            .map_err(|why| at(runtime.hash.span(), "runtime.hash", why))?;
        let method = match runtime.method {
            Some(method) => {
                validate_method(method.get_ref())
                    .map_err(|why| at(method.span(), "runtime.method", why))?;
                Some(method.into_inner())
            }
            None => None,
        };

        let mut imports = Vec::new();
        for entry in &runtime.imports {
            let group = Group::from_name(entry.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = Group::ALL.iter().map(|g| g.name()).collect();
                at(
                    entry.span(),
                    "runtime.imports",
                    format!(
                        "\"{}\" is not a WASI group weft can grant; use one of: {}",
                        entry.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            if imports.contains(&group) {
                return Err(at(
                    entry.span(),
                    "runtime.imports",
                    format!("\"{}\" is listed twice; list each group once", group.name()),
                ));
            }
            imports.push(group);
        }

        let wasi = validate_wasi(runtime.wasi, &at)?;
        let limits = validate_limits(runtime.limits, &at)?;
        let http = validate_http(runtime.http, &at)?;
        let serve = validate_serve(runtime.serve, &at)?;

        let command = match raw.command {
            Some(command) => {
                let command = command.into_inner();
                let name = command.name.get_ref();
                if name == "list" {
                    return Err(at(
                        command.name.span(),
                        "command.name",
                        "\"list\" is reserved for `weft run list`; choose another name".to_string(),
                    ));
                }
                if !is_command_name(name) {
                    return Err(at(
                        command.name.span(),
                        "command.name",
                        format!(
                            "\"{name}\" is not a command name; use lowercase letters, digits and '-', starting with a letter, like \"compute\""
                        ),
                    ));
                }
                Some(Command {
                    name: name.clone(),
                    short: command.short,
                })
            }
            None => None,
        };

        Ok(Manifest {
            id,
            name: package.name.into_inner(),
            version: package.version.into_inner(),
            description: package.description,
            author: package.author,
            module,
            hash,
            method,
            imports,
            wasi,
            limits,
            http,
            serve,
            command,
            ui: raw.ui.map(|ui| Ui { entry: ui.entry }),
        })
    }

    /// The hash in the manifest's own form, `sha256:<hex>`.
    pub fn hash_string(&self) -> String {
        format!("sha256:{}", hex(&self.hash))
    }
}

impl ManifestError {
    fn at(text: &str, file: &Path, offset: usize, field: &str, message: String) -> Self {
        let (line, column) = line_column(text, offset);
        ManifestError {
            file: file.to_path_buf(),
            line,
            column,
            field: field.to_string(),
            message,
        }
    }
}

type At<'a> = dyn Fn(Range<usize>, &str, String) -> ManifestError + 'a;

fn non_empty(value: &Spanned<String>, field: &str, at: &At<'_>) -> Result<(), ManifestError> {
    if value.get_ref().trim().is_empty() {
        return Err(at(value.span(), field, "must not be empty".to_string()));
    }
    Ok(())
}

fn validate_module(module: &Spanned<String>) -> Result<PathBuf, String> {
    let text = module.get_ref();
    let path = Path::new(text);
    if text.is_empty() {
        return Err("must name the wasm file, like \"app.wasm\"".to_string());
    }
    if path.is_absolute() {
        return Err(format!(
            "\"{text}\" is absolute; the wasm must live inside the package, so give a path relative to it, like \"app.wasm\""
        ));
    }
    if path.components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    }) {
        return Err(format!(
            "\"{text}\" leaves the package directory; give a path inside it, like \"app.wasm\""
        ));
    }
    Ok(path.to_path_buf())
}

fn validate_method(method: &str) -> Result<(), String> {
    let (interface, func) = match method.rsplit_once('#') {
        Some((interface, func)) => (Some(interface), func),
        None => (None, method),
    };
    let kebab = |s: &str| {
        !s.is_empty()
            && s.split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    // Core modules name plain exports such as `_start`.
    let core_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !(kebab(func) || (interface.is_none() && core_name(func))) {
        return Err(format!(
            "\"{method}\" is not an export name; use `name` or `namespace:package/interface#name`, like \"compute\""
        ));
    }
    if let Some(interface) = interface
        && (interface.is_empty() || interface.contains(char::is_whitespace))
    {
        return Err(format!(
            "\"{method}\" has an empty or malformed interface before '#'; use `namespace:package/interface#name`"
        ));
    }
    Ok(())
}

/// `[runtime.wasi]`: each value is checked by the capability room it
/// belongs to (`wasi:cli`'s args, env and cwd; `wasi:filesystem`'s mounts);
/// this adds the rules of the list (each name and guest path once) and where
/// an error is.
fn validate_wasi(raw: RawWasi, at: &At<'_>) -> Result<WasiSettings, ManifestError> {
    let cwd = match raw.cwd {
        Some(cwd) => {
            cli::check_cwd(cwd.get_ref()).map_err(|why| at(cwd.span(), "runtime.wasi.cwd", why))?;
            Some(cwd.into_inner())
        }
        None => None,
    };

    let mut env: Vec<EnvVar> = Vec::new();
    for entry in raw.env {
        let span = entry.span();
        let entry = entry.into_inner();
        let field = "runtime.wasi.env";
        let var = cli::env_var(entry.name, entry.value, entry.from, entry.required)
            .map_err(|why| at(span.clone(), field, why))?;
        if env.iter().any(|v| v.name == var.name) {
            return Err(at(
                span,
                field,
                format!("\"{}\" is listed twice; give each variable once", var.name),
            ));
        }
        env.push(var);
    }

    let mut mounts: Vec<Mount> = Vec::new();
    for entry in raw.mounts {
        let span = entry.span();
        let entry = entry.into_inner();
        let field = "runtime.wasi.mounts";
        let mount = filesystem::mount(entry.host, entry.guest, entry.read_only)
            .map_err(|why| at(span.clone(), field, why))?;
        if mounts.iter().any(|m| m.guest == mount.guest) {
            return Err(at(
                span,
                field,
                format!(
                    "guest path \"{}\" is mounted twice; give each guest path once",
                    mount.guest
                ),
            ));
        }
        mounts.push(mount);
    }

    Ok(WasiSettings {
        args: raw.args,
        cwd,
        env,
        mounts,
    })
}

/// `[runtime.limits]`: each value is checked by [`crate::limits`]; this
/// says where an error is.
fn validate_limits(raw: RawLimits, at: &At<'_>) -> Result<Limits, ManifestError> {
    let count = |value: Option<Spanned<i64>>, field: &str, example: &str| match value {
        Some(value) => limits::count_limit(*value.get_ref(), example)
            .map(Some)
            .map_err(|why| at(value.span(), field, why)),
        None => Ok(None),
    };
    let memory = match raw.memory {
        Some(memory) => {
            let span = memory.span();
            let bytes = size(memory.into_inner())
                .and_then(limits::memory_limit)
                .map_err(|why| at(span, "runtime.limits.memory", why))?;
            Some(bytes)
        }
        None => None,
    };
    let timeout = match raw.timeout {
        Some(timeout) => Some(
            parse_duration(timeout.get_ref())
                .map_err(|why| at(timeout.span(), "runtime.limits.timeout", why))?,
        ),
        None => None,
    };
    Ok(Limits {
        memory,
        fuel: count(raw.fuel, "runtime.limits.fuel", "10_000_000")?,
        timeout,
        table_elements: count(
            raw.table_elements,
            "runtime.limits.table_elements",
            "10_000",
        )?,
        instances: count(raw.instances, "runtime.limits.instances", "100")?,
        resources: count(raw.resources, "runtime.limits.resources", "10_000")?,
    })
}

/// A size as bytes: a positive number, or a text with a unit.
fn size(value: SizeValue) -> Result<u64, String> {
    match value {
        SizeValue::Bytes(n) => u64::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{n} is not a size; give a positive size, like \"64MiB\"")),
        SizeValue::Text(text) => parse_bytes(&text),
    }
}

/// `[runtime.serve]`.
fn validate_serve(raw: RawServe, at: &At<'_>) -> Result<ServeSettings, ManifestError> {
    let max_request_body = match raw.max_request_body {
        Some(value) => {
            let span = value.span();
            Some(
                size(value.into_inner())
                    .map_err(|why| at(span, "runtime.serve.max_request_body", why))?,
            )
        }
        None => None,
    };
    Ok(ServeSettings { max_request_body })
}

fn validate_http(raw: RawHttp, at: &At<'_>) -> Result<HttpSettings, ManifestError> {
    let mut settings = HttpSettings::default();
    for entry in raw.allowed_hosts {
        let host = AllowedHost::parse(entry.get_ref())
            .map_err(|why| at(entry.span(), "runtime.http.allowed_hosts", why))?;
        settings.allowed_hosts.push(host);
        settings.allowed_hosts_text.push(entry.into_inner());
    }
    let timeout = |value: Option<Spanned<String>>, field: &str| match value {
        Some(value) => parse_duration(value.get_ref())
            .map(Some)
            .map_err(|why| at(value.span(), field, why)),
        None => Ok(None),
    };
    settings.connect_timeout = timeout(raw.connect_timeout, "runtime.http.connect_timeout")?;
    settings.first_byte_timeout =
        timeout(raw.first_byte_timeout, "runtime.http.first_byte_timeout")?;
    Ok(settings)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted field path that the text at `offset` belongs to: the nearest
/// table header above it, plus the key on its line, if any.
fn field_at(text: &str, offset: usize) -> String {
    let offset = text.floor_char_boundary(offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();

    let mut table = String::new();
    for previous in text[..line_start].lines().rev() {
        let previous = previous.trim();
        if previous.starts_with('[') {
            table = previous
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            break;
        }
    }
    if line.starts_with('[') {
        return line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string();
    }
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .filter(|key| !key.is_empty() && !key.contains(char::is_whitespace));
    match (table.is_empty(), key) {
        (true, Some(key)) => key,
        (false, Some(key)) => format!("{table}.{key}"),
        (false, None) => table,
        (true, None) => "(top level)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::cli::EnvSource;

    const HASH: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn good() -> String {
        format!(
            r#"[package]
id = "org.example.hello"
name = "Hello"
version = "0.1.0"

[runtime]
module = "app.wasm"
hash = "{HASH}"
imports = ["wasi:cli", "wasi:io"]

[runtime.wasi]
args = ["--flag"]
cwd = "/data"
env = [{{ name = "MODE", value = "fast" }}, {{ name = "API", from = "HOST_API", required = true }}]
mounts = [{{ host = "data", guest = "/data", read_only = true }}, {{ host = "out", guest = "/out", read_only = false }}]

[runtime.limits]
memory = "64MiB"
fuel = 10_000_000
timeout = "5s"

[command]
name = "hello"
short = "Say hello"
"#
        )
    }

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("wapp.toml"))
    }

    #[test]
    fn parses_a_full_manifest() {
        let m = parse(&good()).unwrap();
        assert_eq!(m.id.as_str(), "org.example.hello");
        assert_eq!(m.imports, vec![Group::Cli, Group::Io]);
        assert_eq!(m.wasi.args, vec!["--flag"]);
        assert_eq!(m.wasi.cwd.as_deref(), Some("/data"));
        assert_eq!(m.wasi.env.len(), 2);
        assert_eq!(
            m.wasi.env[1].source,
            EnvSource::Host {
                var: "HOST_API".into(),
                required: true
            }
        );
        assert_eq!(m.wasi.mounts[0].guest, "/data");
        assert!(m.wasi.mounts[0].read_only);
        assert!(!m.wasi.mounts[1].read_only);
        assert_eq!(m.command.as_ref().unwrap().name, "hello");
        assert_eq!(m.limits.memory, Some(64 << 20));
        assert_eq!(m.limits.fuel, Some(10_000_000));
        assert_eq!(m.limits.timeout, Some(std::time::Duration::from_secs(5)));
        assert_eq!(m.hash_string(), HASH);
    }

    fn error(text: &str) -> ManifestError {
        parse(text).expect_err("manifest should be rejected")
    }

    #[test]
    fn unknown_field_names_line_column_and_field() {
        let text = good().replace("name = \"Hello\"", "name = \"Hello\"\ncolour = \"red\"");
        let err = error(&text);
        assert_eq!((err.line, err.column), (4, 1));
        assert_eq!(err.field, "package.colour");
        assert!(err.message.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn relative_cwd_is_rejected() {
        let err = error(&good().replace("cwd = \"/data\"", "cwd = \"data\""));
        assert_eq!(err.field, "runtime.wasi.cwd");
        assert_eq!(err.line, 13);
        assert!(err.message.contains("absolute"), "{err}");
    }

    #[test]
    fn duplicate_mount_and_env_are_rejected() {
        let err = error(&good().replace("guest = \"/out\"", "guest = \"/data\""));
        assert_eq!(err.field, "runtime.wasi.mounts");
        assert!(err.message.contains("mounted twice"), "{err}");
        let err = error(&good().replace("name = \"API\"", "name = \"MODE\""));
        assert_eq!(err.field, "runtime.wasi.env");
        assert!(err.message.contains("listed twice"), "{err}");
    }

    #[test]
    fn bad_hash_forms_are_rejected() {
        for bad in [
            "sha256:ABC",
            "md5:00",
            &HASH.to_uppercase(),
            &format!("{HASH}0"),
        ] {
            let err = error(&good().replace(HASH, bad));
            assert_eq!(err.field, "runtime.hash", "{bad}");
            assert_eq!(err.line, 8);
        }
    }

    #[test]
    fn unknown_import_group_is_rejected() {
        let err = error(&good().replace("\"wasi:io\"]", "\"wasi:gpu\"]"));
        assert_eq!(err.field, "runtime.imports");
        assert!(err.message.contains("wasi:gpu"), "{err}");
        assert!(err.message.contains("wasi:filesystem"), "{err}");
    }

    #[test]
    fn missing_required_field_is_named() {
        let err = error(&good().replace(&format!("hash = \"{HASH}\"\n"), ""));
        assert!(err.message.contains("missing field `hash`"), "{err}");
        assert_eq!(err.field, "runtime");
    }

    #[test]
    fn bad_app_id_is_rejected() {
        for bad in [
            "hello",
            "Org.example.hello",
            "org.example.",
            "org..x",
            "org/ex/../x",
        ] {
            let err = error(&good().replace("org.example.hello", bad));
            assert_eq!(err.field, "package.id", "{bad}");
        }
    }

    #[test]
    fn module_outside_the_package_is_rejected() {
        for bad in ["/abs/app.wasm", "../app.wasm", "a/../../b.wasm"] {
            let err = error(&good().replace("\"app.wasm\"", &format!("\"{bad}\"")));
            assert_eq!(err.field, "runtime.module", "{bad}");
        }
    }

    #[test]
    fn env_entries_need_exactly_one_source() {
        let err = error(&good().replace(
            "{ name = \"MODE\", value = \"fast\" }",
            "{ name = \"MODE\" }",
        ));
        assert!(err.message.contains("neither"), "{err}");
        let err = error(&good().replace(
            "{ name = \"MODE\", value = \"fast\" }",
            "{ name = \"MODE\", value = \"fast\", from = \"X\" }",
        ));
        assert!(err.message.contains("both"), "{err}");
    }

    #[test]
    fn type_errors_name_the_field() {
        let err = error(&good().replace("args = [\"--flag\"]", "args = 3"));
        assert_eq!(err.field, "runtime.wasi.args");
        assert_eq!(err.line, 12);
    }

    #[test]
    fn bad_limits_are_rejected() {
        let err = error(&good().replace("memory = \"64MiB\"", "memory = \"64 parsecs\""));
        assert_eq!(err.field, "runtime.limits.memory");
        let err = error(&good().replace("fuel = 10_000_000", "fuel = -1"));
        assert_eq!(err.field, "runtime.limits.fuel");
        let err = error(&good().replace("timeout = \"5s\"", "timeout = \"soon\""));
        assert_eq!(err.field, "runtime.limits.timeout");
        let ok = parse(&good().replace("memory = \"64MiB\"", "memory = 1048576")).unwrap();
        assert_eq!(ok.limits.memory, Some(1 << 20));
    }

    #[test]
    fn http_settings() {
        let text = good().replace(
            "[command]",
            "[runtime.http]\nallowed_hosts = [\"https://*.example.com\", \"http://127.0.0.1:8080\"]\nconnect_timeout = \"2s\"\n\n[command]",
        );
        let m = parse(&text).unwrap();
        assert_eq!(m.http.allowed_hosts.len(), 2);
        assert_eq!(
            m.http.connect_timeout,
            Some(std::time::Duration::from_secs(2))
        );
        let err = error(&text.replace("https://*.example.com", "example.com"));
        assert_eq!(err.field, "runtime.http.allowed_hosts");
        assert!(err.message.contains("has no scheme"), "{err}");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = error("[package\nid = 1");
        assert_eq!(err.line, 1);
    }
}
