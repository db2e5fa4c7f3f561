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
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::{Rc, Weak};

/// Instance ids are unique integers already: hash them as they are.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b) ^ (self.0 >> 56);
        }
    }

    fn write_i64(&mut self, id: i64) {
        // Godot's ids carry a sequence in the low bits: mix so the map's buckets spread.
        self.0 = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The cores of the live `WasmScript` nodes, by instance id (`state.rs`'s `cores` part).
#[derive(Default)]
pub struct Cores(RefCell<HashMap<i64, Weak<ScriptCore>, BuildHasherDefault<IdHasher>>>);

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

/// The core of the node `id`, if it was registered and lives.
pub fn find(id: i64) -> Option<Rc<ScriptCore>> {
    with_cores(|c| c.0.borrow().get(&id).and_then(Weak::upgrade)).flatten()
}
