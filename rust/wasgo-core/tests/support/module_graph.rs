//! The import-graph reader shared by the layering tests of `wasgo-core` (`tests/layering.rs`)
//! and of the glue crate `wasgo` (`rust/wasgo/tests/layering.rs`, which includes this file by
//! path): it reads every `crate::x` reference in a crate's `src/` (comments skipped,
//! `use crate::{a, b}` groups expanded, names re-exported from `lib.rs` resolved to their
//! module) and finds cycles. A folder module (`x/mod.rs`, `x/*.rs`) counts as the one node `x`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The node a file belongs to: its first path component under `src/`, without `.rs`.
fn node_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Source without `//` comments (doc links name modules without importing them).
pub fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of every `crate::...` reference, with `crate::{a, b::c}` expanded.
pub fn referenced_names(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && !c.is_whitespace() => {
                        item_start = false;
                        names.push(ident_at(&group[j..]).to_string());
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident_at(rest).to_string());
        }
    }
    names
}

/// `pub use module::{A, B}` in `lib.rs`: re-exported name -> module.
fn reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for stmt in code_only(lib).split(';') {
        let Some(path) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = ident_at(path);
        if !modules.contains(module) {
            continue;
        }
        let tail = path.rsplit("::").next().unwrap_or("");
        let tail = tail.trim_matches(|c| c == '{' || c == '}');
        for name in tail.split(',') {
            let name = name.split(" as ").last().unwrap().trim();
            if !name.is_empty() {
                map.insert(name.to_string(), module.to_string());
            }
        }
    }
    map
}

/// The import graph of the crate whose sources are in `src`: module -> modules it names.
pub fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| node_of(src, f))
        .filter(|m| m != "lib")
        .collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let names = reexports(&lib, &modules);
    let mut graph = Graph::new();
    for file in &files {
        let from = node_of(src, file);
        if from == "lib" {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let edges = graph.entry(from.clone()).or_default();
        for name in referenced_names(&code) {
            let to = if modules.contains(&name) {
                Some(name)
            } else {
                names.get(&name).cloned()
            };
            if let Some(to) = to.filter(|t| *t != from) {
                edges.insert(to);
            }
        }
    }
    graph
}

/// A path `start -> ... -> start` if `start` lies on a cycle.
pub fn cycle_through(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

/// Every distinct cycle of `graph`, each as a path `a -> ... -> a`.
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for node in graph.keys() {
        if let Some(cycle) = cycle_through(graph, node) {
            // One entry per distinct cycle, whichever member it was found from.
            let mut members: Vec<String> = cycle[1..].to_vec();
            members.sort();
            if seen.insert(members) {
                found.push(cycle);
            }
        }
    }
    found
}
