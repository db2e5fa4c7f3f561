//! The core's modules form layers: no module imports, directly or through others, a module that
//! imports it back.
//!
//! The test reads every `crate::x` reference in `src/` with the reader in
//! `support/module_graph.rs` (shared with the glue crate's layering test) and fails on any
//! cycle, printing it.

#[path = "support/module_graph.rs"]
mod module_graph;

use module_graph::{code_only, cycle_through, cycles, referenced_names, Graph};
use std::path::Path;

#[test]
fn the_reference_reader_sees_groups_and_skips_comments() {
    let code = code_only(
        "use crate::a::X;\nuse crate::{b, c::{D, E}};\n// crate::zzz\nlet x = crate::f::g();",
    );
    assert_eq!(referenced_names(&code), ["a", "b", "c", "f"]);
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("a".into());
    assert_eq!(cycle_through(&g, "a").unwrap(), ["a", "b", "a"]);
}

#[test]
fn core_modules_import_each_other_without_cycles() {
    let graph = module_graph::module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 10, "found too few modules: {graph:?}");
    let cycles = cycles(&graph);
    for cycle in &cycles {
        eprintln!("cycle: {}", cycle.join(" -> "));
    }
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between core modules (printed above); move the shared type down a layer",
        cycles.len()
    );
}
