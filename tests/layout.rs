//! The core's layout rules, checked on its source (the `no_std` library under `src/`; the std
//! shells are crates of their own):
//!
//! * the device-lock engine (`src/device/`) names no scheme: it is generic over the seams in
//!   `scheme.rs` and `persist.rs`;
//! * no file imports one that imports it back, directly or through other files or re-exports:
//!   a module's root file only declares and re-exports, and shared vocabulary is a file of its
//!   own;
//! * no two types share a name, so that a user of several schemes never needs an alias and a
//!   name means one thing.
//!
//! The parse is a light one (`use` trees, `crate::` and `super::` paths, `mod` lines, type
//! items) that holds for rustfmt-formatted code; the test that it finds a loop when one exists is
//! below.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

extern crate alloc;

use alloc::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The scheme modules the engine must not name.
const SCHEMES: &[&str] = &["openpaygo", "nexus", "access", "metrics"];

/// A module path (`["nexus", "full", "verify"]`) and the file it lives in.
type Modules = BTreeMap<Vec<String>, PathBuf>;

/// The source with line comments removed (a `//` inside a string literal is kept).
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            }
            if !in_string && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// Whether `c` can be part of an identifier.
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The declared child modules of a file: `(name, declared inline)`.
fn mod_lines(code: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in code.lines() {
        let mut rest = line.trim_start();
        for prefix in ["pub(crate) ", "pub(super) ", "pub "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        let Some(rest) = rest.strip_prefix("mod ") else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| ident_char(*c)).collect();
        let after = rest[name.len()..].trim_start();
        if after.starts_with(';') {
            out.push((name, false));
        } else if after.starts_with('{') {
            out.push((name, true));
        }
    }
    out
}

/// Every module of the core reachable from `lib.rs`, with its file.
fn modules(src: &Path) -> Modules {
    let mut found = Modules::new();
    let mut todo = vec![(Vec::new(), src.join("lib.rs"))];
    while let Some((path, file)) = todo.pop() {
        let text = code(&fs::read_to_string(&file).unwrap());
        found.insert(path.clone(), file.clone());
        for (name, inline) in mod_lines(&text) {
            let mut child = path.clone();
            child.push(name.clone());
            if inline {
                found.insert(child, file.clone());
                continue;
            }
            let dir = if path.is_empty() {
                file.parent().unwrap().to_path_buf()
            } else {
                file.with_extension("")
            };
            todo.push((child, dir.join(format!("{name}.rs"))));
        }
    }
    found
}

/// The paths a `use` tree names: `a::{b, c::{d, self}}` gives `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            ',' if depth == 0 => parts.push(core::mem::take(&mut current)),
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth -= 1;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p))
        .map(|e| match e.as_str() {
            "self" => prefix.trim_end_matches("::").to_owned(),
            _ => format!("{prefix}{e}"),
        })
        .collect()
}

/// The `use` trees of a file, each with whether it is indented (inside an inline module, where
/// `super` is the file's own module).
fn use_trees(code: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let indented = line.starts_with(char::is_whitespace);
        let mut rest = line.trim_start();
        for prefix in ["pub(crate) ", "pub(super) ", "pub "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        let Some(rest) = rest.strip_prefix("use ") else {
            continue;
        };
        let mut tree = rest.to_owned();
        while !tree.contains(';') {
            tree.push(' ');
            tree.push_str(lines.next().unwrap().trim());
        }
        out.push((tree[..tree.find(';').unwrap()].to_owned(), indented));
    }
    out
}

/// The code without its `use` statements.
fn without_uses(code: &str) -> String {
    let mut out = String::new();
    let mut in_use = false;
    for line in code.lines() {
        let mut rest = line.trim_start();
        for prefix in ["pub(crate) ", "pub(super) ", "pub "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        in_use |= rest.starts_with("use ");
        if !in_use {
            out.push_str(line);
            out.push('\n');
        }
        in_use &= !line.contains(';');
    }
    out
}

/// The paths starting with `crate::` or `super::` written in code outside `use` statements.
fn inline_paths(code: &str) -> Vec<String> {
    let code = &without_uses(code);
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        for (at, _) in code.match_indices(start) {
            if code[..at].ends_with(ident_char) {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| ident_char(*c) || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_owned());
        }
    }
    out
}

/// The module a path written in module `here` lands in (the deepest module it names).
fn resolve(path: &str, here: &[String], modules: &Modules) -> Option<Vec<String>> {
    let segments: Vec<&str> = path.split("::").map(str::trim).collect();
    let (mut at, rest) = match segments[0] {
        "crate" => (Vec::new(), &segments[1..]),
        "self" => (here.to_vec(), &segments[1..]),
        "super" => {
            let supers = segments.iter().take_while(|s| **s == "super").count();
            (
                here[..here.len().checked_sub(supers)?].to_vec(),
                &segments[supers..],
            )
        }
        first => {
            let mut child = here.to_vec();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None; // another crate
            }
            (here.to_vec(), &segments[..])
        }
    };
    for segment in rest {
        let mut child = at.clone();
        child.push((*segment).to_owned());
        if !modules.contains_key(&child) {
            break;
        }
        at = child;
    }
    Some(at)
}

/// Which files each file of the core imports.
fn imports(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let modules = modules(src);
    let mut own: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (path, file) in &modules {
        let entry = own.entry(file.clone()).or_insert_with(|| path.clone());
        if path.len() < entry.len() {
            *entry = path.clone();
        }
    }
    let mut graph = BTreeMap::new();
    for (file, here) in &own {
        let text = code(&fs::read_to_string(file).unwrap());
        let mut deps = BTreeSet::new();
        let mut named = Vec::new();
        for (tree, indented) in use_trees(&text) {
            // Inside an inline module `super` is this file's module: resolve from a child of it.
            let mut from = here.clone();
            if indented {
                from.push("(inline)".to_owned());
            }
            named.extend(expand(&tree).into_iter().map(|p| (p, from.clone())));
        }
        named.extend(inline_paths(&text).into_iter().map(|p| (p, here.clone())));
        for (path, from) in named {
            let path = path.trim_end_matches("::*").to_owned();
            if let Some(module) = resolve(&path, &from, &modules) {
                deps.insert(modules[&module].clone());
            }
        }
        deps.remove(file);
        graph.insert(file.clone(), deps);
    }
    graph
}

/// A chain of imports leading from a file back to itself, if there is one.
fn find_loop(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        at: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        done: &mut BTreeSet<PathBuf>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(i) = stack.iter().position(|f| f == at) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(at.clone());
            return Some(cycle);
        }
        if !done.insert(at.clone()) {
            return None;
        }
        stack.push(at.clone());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|file| visit(file, graph, &mut done, &mut Vec::new()))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_engine_names_no_scheme() {
    let device = src().join("device");
    let mut files = vec![src().join("device.rs")];
    files.extend(fs::read_dir(&device).unwrap().map(|e| e.unwrap().path()));
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for scheme in SCHEMES {
            assert!(
                !text.contains(&format!("crate::{scheme}")),
                "{} names crate::{scheme}",
                file.display()
            );
        }
    }
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let graph = imports(&src());
    assert!(graph.len() > 60, "only {} files found", graph.len());
    // The parse sees the imports it must: a scheme's adapter imports the seam.
    let adapter = src().join("nexus").join("adapter.rs");
    assert!(graph[&adapter].contains(&src().join("scheme.rs")));
    if let Some(cycle) = find_loop(&graph) {
        let names: Vec<_> = cycle
            .iter()
            .map(|f| f.strip_prefix(src()).unwrap().display().to_string())
            .collect();
        panic!("import loop: {}", names.join(" -> "));
    }
}

#[test]
fn a_loop_through_a_module_root_is_found() {
    let dir = std::env::temp_dir().join(format!("paylock-layout-{}", std::process::id()));
    fs::create_dir_all(dir.join("scheme")).unwrap();
    fs::write(dir.join("lib.rs"), "pub mod scheme;\n").unwrap();
    // The root re-exports its children, and a child imports a constant the root defines.
    fs::write(
        dir.join("scheme.rs"),
        "mod issue;\nmod verify;\npub use issue::Issuer;\npub const MAX: u32 = 1;\n",
    )
    .unwrap();
    fs::write(
        dir.join("scheme").join("issue.rs"),
        "use super::MAX;\npub struct Issuer;\n",
    )
    .unwrap();
    fs::write(
        dir.join("scheme").join("verify.rs"),
        "use crate::scheme::issue::Issuer;\n",
    )
    .unwrap();
    let graph = imports(&dir);
    let cycle = find_loop(&graph).expect("the loop scheme.rs <-> issue.rs");
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    // Without the constant in the root, no loop: verify.rs -> issue.rs only.
    fs::write(dir.join("scheme").join("issue.rs"), "pub struct Issuer;\n").unwrap();
    assert_eq!(find_loop(&imports(&dir)), None);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_two_types_share_a_name() {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in modules(&src()).into_values().collect::<BTreeSet<_>>() {
        let text = code(&fs::read_to_string(&file).unwrap());
        for line in text.lines() {
            let mut rest = line.trim_start();
            let Some(visible) = ["pub(crate) ", "pub(super) ", "pub "]
                .iter()
                .find_map(|p| rest.strip_prefix(p))
            else {
                continue;
            };
            rest = visible;
            let Some(item) = ["struct ", "enum ", "trait ", "type ", "union "]
                .iter()
                .find_map(|k| rest.strip_prefix(k))
            else {
                continue;
            };
            let name: String = item.chars().take_while(|c| ident_char(*c)).collect();
            let at = file.strip_prefix(src()).unwrap().display().to_string();
            seen.entry(name).or_default().push(at);
        }
    }
    assert!(seen.contains_key("Engine") && seen.contains_key("NexusState"));
    let shared: Vec<_> = seen.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(shared.is_empty(), "types sharing a name: {shared:?}");
}
