//! `cargo xtask docs`: runs the shell blocks of the README and the guides,
//! in order, in a fresh copy of the repository, the way a reader would, and
//! checks what each block says it prints.
//!
//! What a document may hold (see docs/testing.md, "Docs that run"):
//! - a ```` ```sh ```` block runs in `bash` with `set -eo pipefail`. The blocks
//!   of one document share one shell state: the exported variables and the
//!   working directory carry over from one block to the next;
//! - a ```` ```console ```` block right after a `sh` block (blank lines
//!   between, nothing else) is what that block prints: its lines must appear
//!   together in the block's output (stdout and stderr, as a terminal shows
//!   them);
//! - a `console` block whose lines start with `$ ` is a session: each
//!   command runs, and its whole output must be the lines below it. Its exit
//!   status is not checked (a session may show a refusal); its output is;
//! - in expected output, `…` stands for any text within a line, and a line
//!   that is only `…` for any number of lines;
//! - `<!-- doc: skip REASON -->` before a block: the block does not run here,
//!   and the run lists it as skipped with the reason;
//! - `<!-- doc: as-root -->` before a block: it runs only as root (it
//!   installs system packages), and is listed as skipped otherwise.
//!
//! Each document gets its own fresh directory (at one path, in the system's
//! temporary directory): a copy of the repository's
//! files (those git tracks, and new ones it does not ignore) with their
//! modification times, so that cargo sees the same sources, and with
//! `target/debug`, `target/release` and `target/guests` linked to this
//! checkout's, so that what the tests built is not built again. The rest of
//! `target/` (the package store, guest caches, toolchains) starts empty.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The documents, in the order they run: the README first, then the guides,
/// then the references with examples.
pub const DOCUMENTS: [&str; 9] = [
    "README.md",
    "docs/guests/README.md",
    "docs/guests/c.md",
    "docs/guests/python.md",
    "docs/guests/javascript.md",
    "docs/guests/wat.md",
    "docs/guests/rust-p3.md",
    "docs/cli.md",
    "docs/deploy.md",
];

/// How long one block may run before it is stopped and the run fails (a
/// first build of weft is the longest block).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// The folders of `target/` that a fresh copy shares with this checkout.
const SHARED_BUILDS: [&str; 3] = ["debug", "release", "guests"];

/// One runnable thing in a document.
#[derive(Debug, PartialEq)]
pub enum Block {
    /// A `sh` block, and the output it says it prints, if any.
    Shell {
        line: usize,
        code: String,
        expect: Option<Vec<String>>,
    },
    /// A `console` session: commands, each with its whole expected output.
    Session {
        line: usize,
        commands: Vec<(String, Vec<String>)>,
    },
    /// A block that does not run here, and why.
    Skipped {
        line: usize,
        first: String,
        reason: String,
    },
    /// A block that runs only as root.
    AsRoot {
        line: usize,
        code: String,
        expect: Option<Vec<String>>,
    },
}

impl Block {
    fn line(&self) -> usize {
        match self {
            Block::Shell { line, .. }
            | Block::Session { line, .. }
            | Block::Skipped { line, .. }
            | Block::AsRoot { line, .. } => *line,
        }
    }
}

/// A fenced block as written: where, its info string, its lines, and the
/// directive before it.
struct Fence {
    line: usize,
    info: String,
    lines: Vec<String>,
    directive: Option<Directive>,
    /// Only blank lines between the previous fence's end and this one.
    follows_previous: bool,
}

#[derive(Clone)]
enum Directive {
    Skip(String),
    AsRoot,
}

/// Reads the runnable blocks of a Markdown document (`name` is for messages).
pub fn parse(name: &str, text: &str) -> Result<Vec<Block>> {
    let fences = fences(name, text)?;
    let mut blocks: Vec<Block> = Vec::new();
    for fence in fences {
        let kind = fence.info.split_whitespace().next().unwrap_or("");
        let at = format!("{name}:{}", fence.line);
        match kind {
            "sh" | "bash" | "shell" => {
                let code = fence.lines.join("\n");
                blocks.push(match fence.directive {
                    Some(Directive::Skip(reason)) => Block::Skipped {
                        line: fence.line,
                        first: first_line(&fence.lines),
                        reason,
                    },
                    Some(Directive::AsRoot) => Block::AsRoot {
                        line: fence.line,
                        code,
                        expect: None,
                    },
                    None => Block::Shell {
                        line: fence.line,
                        code,
                        expect: None,
                    },
                });
            }
            "console" => {
                let is_session = fence
                    .lines
                    .iter()
                    .find(|l| !l.trim().is_empty())
                    .is_some_and(|l| l.starts_with("$ "));
                if let Some(Directive::Skip(reason)) = fence.directive {
                    blocks.push(Block::Skipped {
                        line: fence.line,
                        first: first_line(&fence.lines),
                        reason,
                    });
                } else if is_session {
                    if matches!(fence.directive, Some(Directive::AsRoot)) {
                        bail!("{at}: `as-root` is for sh blocks, not console sessions");
                    }
                    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
                    for line in fence.lines {
                        match line.strip_prefix("$ ") {
                            Some(command) => commands.push((command.to_string(), Vec::new())),
                            None => commands
                                .last_mut()
                                .expect("a session starts with a command")
                                .1
                                .push(line),
                        }
                    }
                    for (_, output) in &mut commands {
                        while output.last().is_some_and(|l| l.trim().is_empty()) {
                            output.pop();
                        }
                    }
                    blocks.push(Block::Session {
                        line: fence.line,
                        commands,
                    });
                } else {
                    let previous = blocks.last_mut().filter(|_| fence.follows_previous);
                    match previous {
                        Some(Block::Shell { expect, .. } | Block::AsRoot { expect, .. })
                            if expect.is_none() =>
                        {
                            *expect = Some(fence.lines);
                        }
                        Some(Block::Skipped { .. }) => {}
                        _ => bail!(
                            "{at}: a console block without `$ ` commands is the output of the sh block right above it, and there is none; start its commands with `$ `, or mark it <!-- doc: skip REASON -->"
                        ),
                    }
                }
            }
            _ => {
                if fence.directive.is_some() {
                    bail!("{at}: a doc directive stands before a `{kind}` block, which never runs");
                }
            }
        }
    }
    Ok(blocks)
}

fn first_line(lines: &[String]) -> String {
    lines
        .iter()
        .find(|l| !l.trim().is_empty())
        .cloned()
        .unwrap_or_default()
}

fn first_code_line(code: &str) -> String {
    code.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

fn fences(name: &str, text: &str) -> Result<Vec<Fence>> {
    let mut fences = Vec::new();
    let mut directive: Option<Directive> = None;
    let mut only_blank_since_fence = false;
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- doc:") {
            let body = rest
                .strip_suffix("-->")
                .with_context(|| {
                    format!("{name}:{number}: a doc directive ends with `-->` on its line")
                })?
                .trim();
            directive = Some(match body.split_once(' ') {
                Some(("skip", reason)) if !reason.trim().is_empty() => {
                    Directive::Skip(reason.trim().to_string())
                }
                None if body == "as-root" => Directive::AsRoot,
                _ => bail!(
                    "{name}:{number}: unknown doc directive `{body}`; use `skip REASON` or `as-root`"
                ),
            });
            continue;
        }
        if let Some(info) = trimmed.strip_prefix("```") {
            let mut body = Vec::new();
            let mut closed = false;
            for (_, inner) in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    closed = true;
                    break;
                }
                body.push(inner.to_string());
            }
            if !closed {
                bail!("{name}:{number}: this code block is never closed");
            }
            fences.push(Fence {
                line: number,
                info: info.trim().to_string(),
                lines: body,
                directive: directive.take(),
                follows_previous: only_blank_since_fence,
            });
            only_blank_since_fence = true;
            continue;
        }
        if !trimmed.is_empty() {
            if directive.is_some() {
                bail!("{name}:{number}: a doc directive must stand right before its code block");
            }
            only_blank_since_fence = false;
        }
    }
    if directive.is_some() {
        bail!("{name}: a doc directive at the end stands before no code block");
    }
    Ok(fences)
}

/// Whether `line` matches `pattern`, where `…` stands for any text.
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let line = line.trim_end();
    let pattern = pattern.trim_end();
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether `actual` is exactly `expected`, where a line that is only `…`
/// stands for any number of lines.
pub fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "…" => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, others)| line_matches(first, line) && lines_match(rest, others)),
    }
}

/// Whether the `expected` lines appear together somewhere in `actual`.
pub fn lines_contain(expected: &[String], actual: &[&str]) -> bool {
    let mut pattern = vec!["…".to_string()];
    pattern.extend(expected.iter().cloned());
    pattern.push("…".to_string());
    lines_match(&pattern, actual)
}

/// What happened to one block.
pub struct Outcome {
    pub document: String,
    pub line: usize,
    pub first: String,
    pub result: std::result::Result<Duration, String>,
}

/// Runs the documents (all of [`DOCUMENTS`] that exist, or those named),
/// and prints one line per block. Fails at the first block that fails,
/// after printing its output.
pub fn run(root: &Path, only: &[String]) -> Result<Vec<Outcome>> {
    let documents: Vec<&str> = if only.is_empty() {
        DOCUMENTS
            .iter()
            .copied()
            .filter(|d| root.join(d).is_file() || *d != "docs/deploy.md")
            .collect()
    } else {
        only.iter().map(String::as_str).collect()
    };
    let files = repository_files(root)?;
    // One path for every document's fresh copy: cargo records the files a
    // crate reads from outside its package (the WIT that `bindgen!` reads
    // from `wit/`) by absolute path, so a copy at a new path each time would
    // make every copy rebuild weft.
    let dir = std::env::temp_dir().join("weft-docs").join("clone");
    let mut outcomes = Vec::new();
    for document in documents {
        let text = std::fs::read_to_string(root.join(document))
            .with_context(|| format!("reading {document}"))?;
        let blocks = parse(document, &text)?;
        eprintln!(
            "docs: {document}: {} block(s), in a fresh copy at {}",
            blocks.len(),
            dir.display()
        );
        fresh_copy(root, &files, &dir)?;
        let mut shell = Shell::new(&dir)?;
        for block in blocks {
            let outcome = run_block(document, &block, &mut shell);
            let failed = outcome.result.is_err() && !is_skip(&outcome);
            outcomes.push(outcome);
            if failed {
                let last = outcomes.last().unwrap();
                eprintln!("{}", describe(last));
                bail!(
                    "{document}:{} failed; its fresh copy is kept at {} (rerun with `cargo xtask docs {document}`)",
                    last.line,
                    dir.display()
                );
            }
            eprintln!("{}", describe(outcomes.last().unwrap()));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(dir.with_extension("shell")).ok();
    Ok(outcomes)
}

/// One line for a block's outcome (and its output, if it failed).
pub fn describe(outcome: &Outcome) -> String {
    let at = format!("{}:{}", outcome.document, outcome.line);
    match &outcome.result {
        Ok(took) => format!(
            "docs: {at} `{}`: ok ({:.1} s)",
            outcome.first,
            took.as_secs_f64()
        ),
        Err(why) if why.starts_with("SKIPPED") => {
            format!("docs: {at} `{}`: {why}", outcome.first)
        }
        Err(why) => format!("docs: {at} `{}`: FAILED\n{why}", outcome.first),
    }
}

/// Whether an outcome is a skip (listed, not a failure).
pub fn is_skip(outcome: &Outcome) -> bool {
    matches!(&outcome.result, Err(why) if why.starts_with("SKIPPED"))
}

fn run_block(document: &str, block: &Block, shell: &mut Shell) -> Outcome {
    let line = block.line();
    let started = Instant::now();
    let (first, result) = match block {
        Block::Skipped { first, reason, .. } => (first.clone(), Err(format!("SKIPPED: {reason}"))),
        Block::AsRoot { code, .. } if !is_root() => (
            first_code_line(code),
            Err("SKIPPED: it installs system packages and needs root (run it with sudo)".into()),
        ),
        Block::Shell { code, expect, .. } | Block::AsRoot { code, expect, .. } => {
            let first = first_code_line(code);
            let result = shell.run(code).and_then(|(status, output)| {
                if !status {
                    return Err(format!(
                        "the block exited with an error; its output:\n{}",
                        tail(&output)
                    ));
                }
                match expect {
                    Some(expect) => {
                        let actual: Vec<&str> = output.lines().collect();
                        if lines_contain(expect, &actual) {
                            Ok(())
                        } else {
                            Err(format!(
                                "the document says it prints\n{}\nbut its output was\n{}",
                                indent(&expect.join("\n")),
                                tail(&output)
                            ))
                        }
                    }
                    None => Ok(()),
                }
            });
            (first, result.map(|()| started.elapsed()))
        }
        Block::Session { commands, .. } => {
            let first = format!("$ {}", commands.first().map(|c| c.0.as_str()).unwrap_or(""));
            let mut result = Ok(());
            for (command, expect) in commands {
                match shell.run(command) {
                    Ok((_, output)) => {
                        let actual: Vec<&str> = output.lines().collect();
                        if !lines_match(expect, &actual) {
                            result = Err(format!(
                                "`{command}` should print\n{}\nbut printed\n{}",
                                indent(&expect.join("\n")),
                                tail(&output)
                            ));
                            break;
                        }
                    }
                    Err(why) => {
                        result = Err(why);
                        break;
                    }
                }
            }
            (first, result.map(|()| started.elapsed()))
        }
    };
    Outcome {
        document: document.to_string(),
        line,
        first,
        result,
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}\n")).collect()
}

/// The last 200 lines of an output, indented.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.len().saturating_sub(200);
    let mut text = String::new();
    if start > 0 {
        let _ = writeln!(text, "    | ({start} earlier lines)");
    }
    text + &indent(&lines[start..].join("\n"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A reader's shell: the exported variables and the working directory,
/// kept between blocks.
struct Shell {
    dir: PathBuf,
    state: PathBuf,
    cwd: PathBuf,
    count: usize,
}

impl Shell {
    fn new(dir: &Path) -> Result<Shell> {
        let scratch = dir.with_extension("shell");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(&scratch)?;
        let shell = Shell {
            dir: dir.to_path_buf(),
            state: scratch.join("exports.sh"),
            cwd: scratch.join("cwd"),
            count: 0,
        };
        std::fs::write(&shell.state, "")?;
        std::fs::write(&shell.cwd, dir.as_os_str().as_encoded_bytes())?;
        Ok(shell)
    }

    /// Runs `code` as one block: whether it succeeded, and its output.
    fn run(&mut self, code: &str) -> std::result::Result<(bool, String), String> {
        self.count += 1;
        let scratch = self.state.parent().unwrap();
        let script = scratch.join(format!("block{}.sh", self.count));
        let log = scratch.join(format!("block{}.log", self.count));
        let text = format!(
            "set -eo pipefail\nsource {state}\ncd \"$(cat {cwd})\"\n{code}\nexport -p > {state}\npwd > {cwd}\n",
            state = quote(&self.state),
            cwd = quote(&self.cwd),
        );
        let prepared = std::fs::write(&script, text)
            .and_then(|()| std::fs::File::create(&log))
            .and_then(|out| Ok((out.try_clone()?, out)));
        let (out, err) = prepared.map_err(|e| format!("preparing the block: {e}"))?;
        let mut command = Command::new("bash");
        command
            .arg(&script)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // What `cargo xtask` set for itself is not the reader's.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name == "CARGO"
                || name == "CARGO_TARGET_DIR"
                || crate::is_set_by_cargo_for_xtask(&name)
            {
                command.env_remove(&key);
            }
        }
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.spawn().map_err(|e| format!("starting bash: {e}"))?;
        let deadline = Instant::now() + BLOCK_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() > deadline => {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{}", child.id())])
                        .status();
                    let _ = child.wait();
                    return Err(format!(
                        "the block ran past {} minutes and was stopped; its output:\n{}",
                        BLOCK_TIMEOUT.as_secs() / 60,
                        tail(&std::fs::read_to_string(&log).unwrap_or_default())
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("waiting for bash: {e}")),
            }
        };
        let output = std::fs::read(&log).map_err(|e| format!("reading the block's output: {e}"))?;
        Ok((
            status.success(),
            String::from_utf8_lossy(&output).into_owned(),
        ))
    }
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The repository's files: those git tracks (and still exist) and new ones
/// it does not ignore, relative to `root`.
fn repository_files(root: &Path) -> Result<Vec<PathBuf>> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .context("running git ls-files (the docs run in a copy of the repository's files)")?;
    if !output.status.success() {
        bail!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut files: Vec<PathBuf> = output
        .stdout
        .split(|b| *b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
        .filter(|name| root.join(name).is_file())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// A fresh copy of the repository at `dir`: its files with their
/// modification times, and the shared build folders linked.
fn fresh_copy(root: &Path, files: &[PathBuf], dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    for file in files {
        let from = root.join(file);
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap())?;
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        let modified = std::fs::metadata(&from)?.modified()?;
        std::fs::File::options()
            .write(true)
            .open(&to)
            .and_then(|f| f.set_modified(modified))
            .with_context(|| format!("setting the time of {}", to.display()))?;
    }
    let target = dir.join("target");
    std::fs::create_dir_all(&target)?;
    for shared in SHARED_BUILDS {
        let from = root.join("target").join(shared);
        std::fs::create_dir_all(&from)?;
        std::os::unix::fs::symlink(&from, target.join(shared))
            .with_context(|| format!("linking {}", target.join(shared).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn an_ellipsis_stands_for_any_text_in_a_line() {
        assert!(line_matches("sha256:… verified", "sha256:abc verified"));
        assert!(line_matches("a…b…c", "a-x-b-y-c"));
        assert!(line_matches("exit status 7", "exit status 7  "));
        assert!(!line_matches("exit status 7", "exit status 70"));
        assert!(!line_matches("a…b…c", "a-c-b"));
        assert!(!line_matches("ab…ba", "aba"));
    }

    #[test]
    fn an_ellipsis_line_stands_for_any_lines() {
        let expect = strings(&["…", "READY", "Hello, world!"]);
        assert!(lines_match(
            &expect,
            &["compiling", "READY", "Hello, world!"]
        ));
        assert!(lines_match(&expect, &["READY", "Hello, world!"]));
        assert!(!lines_match(&expect, &["READY", "Hello, world!", "more"]));
        assert!(!lines_match(&strings(&["42"]), &["42", "43"]));
    }

    #[test]
    fn expected_output_may_stand_anywhere_in_a_blocks_output() {
        let expect = strings(&["READY", "Hello, world!"]);
        assert!(lines_contain(
            &expect,
            &["building", "READY", "Hello, world!", "done"]
        ));
        assert!(!lines_contain(
            &expect,
            &["READY", "noise", "Hello, world!"]
        ));
        assert!(!lines_contain(&expect, &["Hello, world!", "READY"]));
    }

    #[test]
    fn blocks_directives_and_sessions_are_read() {
        let text = "# T\n\n```sh\necho hi\n```\n\n```console\nhi\n```\n\n<!-- doc: skip too slow here -->\n```sh\ncargo xtask bench\n```\n\n```toml\n[a]\n```\n\n<!-- doc: as-root -->\n```sh\napt-get install x\n```\n\ntext\n\n```console\n$ echo a\na\n$ false\n\n```\n";
        let blocks = parse("t.md", text).unwrap();
        assert_eq!(
            blocks,
            vec![
                Block::Shell {
                    line: 3,
                    code: "echo hi".into(),
                    expect: Some(strings(&["hi"])),
                },
                Block::Skipped {
                    line: 12,
                    first: "cargo xtask bench".into(),
                    reason: "too slow here".into(),
                },
                Block::AsRoot {
                    line: 21,
                    code: "apt-get install x".into(),
                    expect: None,
                },
                Block::Session {
                    line: 27,
                    commands: vec![("echo a".into(), strings(&["a"])), ("false".into(), vec![]),],
                },
            ]
        );
    }

    #[test]
    fn misplaced_output_and_unknown_directives_are_refused() {
        let orphan = "text\n\n```console\nhello\n```\n";
        let err = parse("t.md", orphan).unwrap_err().to_string();
        assert!(err.contains("t.md:3"), "{err}");
        let after_prose = "```sh\necho hi\n```\n\nprose\n\n```console\nhi\n```\n";
        assert!(parse("t.md", after_prose).is_err());
        let unknown = "<!-- doc: skpi reason -->\n```sh\nx\n```\n";
        let err = parse("t.md", unknown).unwrap_err().to_string();
        assert!(err.contains("unknown doc directive"), "{err}");
        let dangling = "<!-- doc: skip why -->\n\nprose\n\n```sh\nx\n```\n";
        assert!(parse("t.md", dangling).is_err());
        let unclosed = "```sh\nx\n";
        assert!(parse("t.md", unclosed).is_err());
    }

    #[test]
    fn the_shell_keeps_exports_and_the_directory_between_blocks() {
        let dir = std::env::temp_dir().join(format!("weft-docs-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let mut shell = Shell::new(&dir).unwrap();
        let (ok, _) = shell.run("export GREETING=hi\ncd sub").unwrap();
        assert!(ok);
        let (ok, output) = shell
            .run("echo \"$GREETING from $(basename \"$PWD\")\"")
            .unwrap();
        assert!(ok);
        assert_eq!(output, "hi from sub\n");
        let (ok, output) = shell.run("echo before; false; echo after").unwrap();
        assert!(!ok, "set -e stops a block at its first failing command");
        assert_eq!(output, "before\n");
        let (ok, output) = shell.run("echo out; echo err >&2").unwrap();
        assert!(ok);
        assert_eq!(output, "out\nerr\n");
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_dir_all(dir.with_extension("shell")).ok();
    }
}
