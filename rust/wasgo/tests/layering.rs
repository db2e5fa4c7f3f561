//! The glue's modules form layers: no module imports, directly or through others, a module that
//! imports it back; the class files (`engine.rs`, `module_res.rs`, `script.rs` with
//! `script_owned.rs` (its ownership methods) and `script_hot.rs` (its hot-reload hooks),
//! `bench.rs`, `error_watch.rs` (a `Logger`), and `compiles.rs`, which defines
//! `WasmModuleRequest`) sit on top, named by no plain module; `state.rs` sits at the bottom,
//! naming none.
//!
//! The reader is the core's (`rust/wasgo-core/tests/support/module_graph.rs`, included by path so
//! both crates check their layers the same way).

#[path = "../../wasgo-core/tests/support/module_graph.rs"]
mod module_graph;

use module_graph::{cycles, module_graph, Graph};
use std::path::Path;

/// The files that hold only `GodotClass`es.
const CLASS_FILES: [&str; 8] = [
    "engine",
    "error_watch",
    "module_res",
    "script",
    "script_owned",
    "script_hot",
    "bench",
    "compiles",
];

fn glue_graph() -> Graph {
    module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn glue_modules_import_each_other_without_cycles() {
    let graph = glue_graph();
    assert!(graph.len() > 10, "found too few modules: {graph:?}");
    let cycles = cycles(&graph);
    for cycle in &cycles {
        eprintln!("cycle: {}", cycle.join(" -> "));
    }
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between glue modules (printed above); move the shared piece down a \
         layer (a trait or a plain module below both)",
        cycles.len()
    );
}

#[test]
fn plain_modules_never_import_class_files() {
    let graph = glue_graph();
    let upward: Vec<String> = graph
        .iter()
        .filter(|(from, _)| !CLASS_FILES.contains(&from.as_str()))
        .flat_map(|(from, to)| {
            to.iter()
                .filter(|t| CLASS_FILES.contains(&t.as_str()))
                .map(move |t| format!("{from} -> {t}"))
        })
        .collect();
    assert!(
        upward.is_empty(),
        "plain modules import class files (keep classes on top; pass what they need down): \
         {upward:?}"
    );
}

#[test]
fn the_state_module_imports_no_other_module() {
    let graph = glue_graph();
    let state = graph.get("state").expect("`state.rs` is in the graph");
    assert!(
        state.is_empty(),
        "`state.rs` must stay at the bottom (every module uses it): it imports {state:?}"
    );
}
