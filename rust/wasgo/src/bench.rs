//! Native baselines for `cargo xtask bench` (not part of the modding API).

use godot::classes::Node2D;
use godot::prelude::*;

/// Benchmark helpers: the same work as a benchmarked mod or script, done by native Rust code,
/// so the benchmarks can print mod-vs-GDScript-vs-native ratios measured in one run. Not meant
/// for games: registered as an internal class, so it stays out of Create Node, the class list
/// and the class reference; the benchmark calls it through `ClassDB.class_call_static`.
#[derive(GodotClass)]
#[class(base = Object, init, internal)]
pub struct WasgoBench {
    base: Base<Object>,
}

#[godot_api]
impl WasgoBench {
    /// Sets [param node]'s position to `Vector2(i, i)` for `i` in `0..n` with the typed setter;
    /// returns 0 (the number of failures, for symmetry with the mod's benchmark exports).
    #[func]
    fn native_set_position(mut node: Gd<Node2D>, n: i64) -> i64 {
        for i in 0..n {
            node.set_position(Vector2::new(i as f32, i as f32));
        }
        0
    }

    /// A Callable of an empty Rust closure, made the way an export's Callable is
    /// (`Callable::from_fn`): calling it costs Godot's and gdext's custom-Callable dispatch and
    /// nothing of WasGo's, the floor under `WasmScript.get_export_callable(name).call()`.
    #[func]
    fn empty_callable() -> Callable {
        Callable::from_fn("wasgo_bench_empty", |_args: &[&Variant]| Variant::nil())
    }
}
