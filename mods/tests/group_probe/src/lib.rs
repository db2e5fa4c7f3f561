//! `group_probe`: the mod side of `tests/test_process_group.gd`. Its `process_node(node, delta)`
//! runs for every node of its `WasmScript`'s `process_group` and does what the node's first
//! argument says:
//!
//! - `move`: sets the node's `position` to `(calls for this node, 0)` with `wasgo.set_vec2`;
//! - `visit`: calls the game's `group_test.visit(node)` (the test's Callable frees nodes or
//!   kills the mod from there);
//! - `spin`: never returns (the callback budget stops it).
//!
//! Every mode counts: the exports `calls_for(handle)`, `pass_calls()` (calls in this frame's
//! pass: `process` resets it), `seen_count()` and `seen(i)` (the distinct handles in the order
//! first seen), `physics_calls()`. The further arguments are NodePaths (relative to the mod's
//! node) the mod looks up with `get_node` in `init`: `looked(i)` is the i-th handle.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

#[link(wasm_import_module = "wasgo")]
extern "C" {
    #[link_name = "self"]
    fn self_() -> i32;
    fn get_node(from: i32, ptr: *const u8, len: usize) -> i32;
    fn set_vec2(h: i32, np: *const u8, nl: usize, x: f32, y: f32) -> i32;
}

#[link(wasm_import_module = "group_test")]
extern "C" {
    fn visit(node: i32);
}

const POSITION: &str = "position";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Move,
    Visit,
    Spin,
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Move) };
    static CALLS: RefCell<HashMap<i32, i32>> = RefCell::new(HashMap::new());
    static SEEN: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
    static LOOKED: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
    static PASS: Cell<i32> = const { Cell::new(0) };
    static PHYSICS: Cell<i32> = const { Cell::new(0) };
}

#[no_mangle]
pub extern "C" fn init() {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("visit") => Mode::Visit,
        Some("spin") => Mode::Spin,
        _ => Mode::Move,
    };
    MODE.with(|m| m.set(mode));
    // SAFETY: no arguments.
    let me = unsafe { self_() };
    for path in args {
        // SAFETY: `path` is a live slice of this module's memory for the call.
        let h = unsafe { get_node(me, path.as_ptr(), path.len()) };
        LOOKED.with(|l| l.borrow_mut().push(h));
    }
}

#[no_mangle]
pub extern "C" fn process(_delta: f64) {
    PASS.with(|p| p.set(0));
}

#[no_mangle]
pub extern "C" fn process_node(node: i32, _delta: f64) {
    PASS.with(|p| p.set(p.get() + 1));
    let calls = CALLS.with(|c| {
        let mut c = c.borrow_mut();
        let n = c.entry(node).or_insert(0);
        *n += 1;
        *n
    });
    if calls == 1 {
        SEEN.with(|s| s.borrow_mut().push(node));
    }
    match MODE.with(Cell::get) {
        // SAFETY: the name is a live slice of this module's memory for the call.
        Mode::Move => unsafe {
            set_vec2(node, POSITION.as_ptr(), POSITION.len(), calls as f32, 0.0);
        },
        // SAFETY: a plain number argument.
        Mode::Visit => unsafe { visit(node) },
        Mode::Spin => {
            let mut counter: u64 = 0;
            loop {
                counter = core::hint::black_box(counter.wrapping_add(1));
            }
        }
    }
}

#[no_mangle]
pub extern "C" fn physics_process_node(_node: i32, _delta: f64) {
    PHYSICS.with(|p| p.set(p.get() + 1));
}

#[no_mangle]
pub extern "C" fn calls_for(node: i32) -> i32 {
    CALLS.with(|c| c.borrow().get(&node).copied().unwrap_or(0))
}

#[no_mangle]
pub extern "C" fn pass_calls() -> i32 {
    PASS.with(Cell::get)
}

#[no_mangle]
pub extern "C" fn physics_calls() -> i32 {
    PHYSICS.with(Cell::get)
}

#[no_mangle]
pub extern "C" fn seen_count() -> i32 {
    SEEN.with(|s| s.borrow().len() as i32)
}

#[no_mangle]
pub extern "C" fn seen(i: i32) -> i32 {
    SEEN.with(|s| s.borrow().get(i as usize).copied().unwrap_or(0))
}

#[no_mangle]
pub extern "C" fn looked(i: i32) -> i32 {
    LOOKED.with(|l| l.borrow().get(i as usize).copied().unwrap_or(0))
}
