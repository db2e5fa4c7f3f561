//! Finding a `WasmScript`'s [`ScriptCore`] from its instance id without binding the node.
//!
//! gdext's `experimental-threads` feature (which WasGo needs: Godot may call its classes from
//! resource-loader and script threads, and without the feature such a call is a panic in a
//! function that cannot unwind, an abort of the game) makes every `bind()` guard lock a mutex and
//! signal a condition variable when it drops: two futex syscalls, a quarter of an empty
//! `call_export`. The hot entry points (`call_export`, the frame driver) therefore find the core
//! here, in a main-thread table filled when the node is made and emptied when it is freed; off
//! the main thread (no table) callers fall back to `bind()`.

use crate::script_core::ScriptCore;
use crate::state::{self, Part};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasgo_core::fast_hash::FastMap;

/// The cores of the live `WasmScript` nodes, by instance id (`state.rs`'s `cores` part).
#[derive(Default)]
pub struct Cores(RefCell<FastMap<i64, Weak<ScriptCore>>>);

impl Part for Cores {}

fn with_cores<R>(f: impl FnOnce(&Cores) -> R) -> Option<R> {
    state::with_part(|s| &s.cores, f)
}

/// Records `core` as the core of the node `id` (main thread; elsewhere nothing).
pub fn register(id: i64, core: &Rc<ScriptCore>) {
    with_cores(|c| c.0.borrow_mut().insert(id, Rc::downgrade(core)));
}

/// Forgets the node `id` (its `Drop`).
pub fn unregister(id: i64) {
    with_cores(|c| c.0.borrow_mut().remove(&id));
}

/// The cores of every live node (main thread; elsewhere none), in no particular order.
pub fn all() -> Vec<Rc<ScriptCore>> {
    with_cores(|c| c.0.borrow().values().filter_map(Weak::upgrade).collect()).unwrap_or_default()
}

/// The core of the node `id`, if it was registered and lives.
pub fn find(id: i64) -> Option<Rc<ScriptCore>> {
    with_cores(|c| c.0.borrow().get(&id).and_then(Weak::upgrade)).flatten()
}
