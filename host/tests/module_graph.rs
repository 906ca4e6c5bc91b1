//! The library's modules form no cycle: each uses only modules before it in
//! the order data flows (docs/architecture.md). Read from the `crate::`
//! paths in `host/src` (comments aside), at the level of the top-level
//! modules: `capabilities/cli.rs` belongs to `capabilities`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Items the crate root re-exports, and the module each comes from.
const ROOT_REEXPORTS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("ErrorKind", "error"),
    ("ExitCodes", "error"),
    ("Result", "error"),
];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src` belongs to (`None` for lib.rs).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_str()?
        .to_string();
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(name) => Some(name.to_string()),
        None => Some(first),
    }
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first path segment of each item in a `{a::b, c, d::{e, f}}` group.
fn group_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                items.push(ident_at(&text[i..]));
                start = false;
            }
            _ => {}
        }
    }
    items
}

/// The top-level modules a file's code names through `crate::`.
fn uses(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with('$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        let names = match rest.strip_prefix('{') {
            Some(group) => group_items(group),
            None => vec![ident_at(rest)],
        };
        for name in names {
            if modules.contains(name) {
                found.insert(name.to_string());
            } else if let Some((_, module)) = ROOT_REEXPORTS.iter().find(|(item, _)| *item == name)
            {
                found.insert(module.to_string());
            } else {
                panic!(
                    "`crate::{name}` names neither a module nor a known re-export; add it to ROOT_REEXPORTS"
                );
            }
        }
    }
    found
}

/// A cycle in the graph, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str())
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

fn library_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let mut used = uses(&text, &modules);
        used.remove(&module);
        graph.entry(module).or_default().extend(used);
    }
    graph
}

#[test]
fn the_library_s_modules_form_no_cycle() {
    let graph = library_graph();
    assert!(graph.len() > 10, "too few modules found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the library's modules form a cycle: {}; move what one of them takes from the next into a module earlier in the order of docs/architecture.md",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_capability_rooms_come_before_the_manifest_and_the_instance() {
    let graph = library_graph();
    let rooms = &graph["capabilities"];
    for later in [
        "manifest", "package", "store", "cache", "instance", "app", "process", "serve",
    ] {
        assert!(!rooms.contains(later), "capabilities uses {later}");
    }
}

#[test]
fn the_checker_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
    let modules = BTreeSet::from(["app".to_string(), "error".to_string()]);
    assert_eq!(
        uses(
            "use crate::{app::App, Error};\n// crate::nothing\n",
            &modules
        ),
        BTreeSet::from(["app".to_string(), "error".to_string()])
    );
}
