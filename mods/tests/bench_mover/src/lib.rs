//! `bench_mover`: the mod side of `cargo xtask bench`'s frame benchmark. Its `process` moves the
//! `WasmScript`'s parent (a Node2D) one pixel to the right every frame, the way the node's first
//! argument says: `fast` with `wasgo.set_vec2`, `generic` with `wasgo.set` and an encoded
//! Vector2, `empty` not at all (the cost of the callback alone). With `batch-fast` or
//! `batch-generic` its `process` only counts the frame and `process_node(node, delta)` moves each
//! node of the `WasmScript`'s `process_group` the same way (the batched frame path).

use std::cell::Cell;

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn get_node(from: i32, ptr: *const u8, len: usize) -> i32;
    fn set(h: i32, np: *const u8, nl: usize, vp: *const u8, vl: usize) -> i32;
    fn set_vec2(h: i32, np: *const u8, nl: usize, x: f32, y: f32) -> i32;
}

const NAME: &str = "position";

#[derive(Clone, Copy)]
enum Way {
    Fast,
    Generic,
    Empty,
    BatchFast,
    BatchGeneric,
}

thread_local! {
    static PARENT: Cell<i32> = const { Cell::new(0) };
    static WAY: Cell<Way> = const { Cell::new(Way::Empty) };
    static X: Cell<f32> = const { Cell::new(0.0) };
}

/// Finds the parent once and reads the way to move it.
#[no_mangle]
pub extern "C" fn init() {
    let path = "..";
    // SAFETY: `path` is a live slice of this module's memory for the call.
    PARENT.with(|p| p.set(unsafe { get_node(0, path.as_ptr(), path.len()) }));
    let way = match std::env::args().nth(1).as_deref() {
        Some("fast") => Way::Fast,
        Some("generic") => Way::Generic,
        Some("batch-fast") => Way::BatchFast,
        Some("batch-generic") => Way::BatchGeneric,
        _ => Way::Empty,
    };
    WAY.with(|w| w.set(way));
}

#[no_mangle]
pub extern "C" fn process(_delta: f64) {
    let x = X.with(|x| {
        x.set(x.get() + 1.0);
        x.get()
    });
    match WAY.with(Cell::get) {
        Way::Fast => move_fast(PARENT.with(Cell::get), x),
        Way::Generic => move_generic(PARENT.with(Cell::get), x),
        Way::Empty | Way::BatchFast | Way::BatchGeneric => {}
    }
}

/// The batched path: one call per node of the group, each moved to this frame's `x`.
#[no_mangle]
pub extern "C" fn process_node(node: i32, _delta: f64) {
    let x = X.with(Cell::get);
    match WAY.with(Cell::get) {
        Way::BatchFast => move_fast(node, x),
        Way::BatchGeneric => move_generic(node, x),
        Way::Fast | Way::Generic | Way::Empty => {}
    }
}

fn move_fast(h: i32, x: f32) {
    // SAFETY: the name is a live slice of this module's memory for the call.
    unsafe {
        set_vec2(h, NAME.as_ptr(), NAME.len(), x, 0.0);
    }
}

fn move_generic(h: i32, x: f32) {
    let mut v = [0u8; 12];
    v[..4].copy_from_slice(&5u32.to_le_bytes());
    v[4..8].copy_from_slice(&x.to_le_bytes());
    // SAFETY: both slices are live in this module's memory for the call.
    unsafe { set(h, NAME.as_ptr(), NAME.len(), v.as_ptr(), v.len()) };
}
