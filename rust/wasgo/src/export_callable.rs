//! `WasmScript.get_export_callable(name)`: a `Callable` that calls one export of the node's mod.
//!
//! The cheapest way in from GDScript: `call_export(name, args)` makes Godot convert the name
//! and build an `Array` at every call, then dispatches a method with two arguments; a Callable
//! made once carries the export's name and takes its arguments as they are (`c.call(1, 2)`).
//! Calling it behaves exactly like `call_export` (same checks, budget, errors in
//! `get_last_error()`, `null` on failure), and it can be connected to a signal like any
//! Callable (the signal's arguments become the export's arguments).
//!
//! The Callable holds the node's instance id and the export's name, nothing of the node: it is
//! `Send`, may be kept anywhere, and answers `is_valid()` false once the node is freed (calling
//! it then is an error message and `null`). The mod runs only on the main thread: a call from
//! another thread is refused with an error naming the export (the node's state is main-thread
//! only; see `state.rs`).

use crate::cores;
use crate::state;
use godot::builtin::{CowStr, Variant};
use godot::prelude::*;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

/// Export names handed to Callables, kept for the life of the process so that a Callable's
/// name is a `&'static str` (Godot may ask for it at every call, for error messages, and an
/// owned name would be copied each time). At most [`MAX_INTERNED`] names of at most
/// `MAX_CACHED_TEXT` bytes are kept: past that (a game or a level-3 mod asking for Callables
/// of endless or huge made-up names) each Callable owns its name, so memory is bounded.
static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// How many distinct export names are kept for the life of the process.
const MAX_INTERNED: usize = 4096;

fn intern(name: &str) -> CowStr {
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(n) = names.get(name) {
        return CowStr::Borrowed(n);
    }
    if names.len() >= MAX_INTERNED || name.len() > wasgo_core::handles::MAX_CACHED_TEXT {
        return CowStr::Owned(name.to_owned());
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    CowStr::Borrowed(leaked)
}

/// The Callable of export `export` of the `WasmScript` whose instance id is `node`.
pub fn make(node: InstanceId, export: &str) -> Callable {
    Callable::from_custom(ExportCallable {
        node,
        export: intern(export),
    })
}

struct ExportCallable {
    node: InstanceId,
    export: CowStr,
}

impl PartialEq for ExportCallable {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && self.export == other.export
    }
}

impl Hash for ExportCallable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.node.hash(state);
        self.export.hash(state);
    }
}

impl fmt::Display for ExportCallable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WasmScript#{}.{}", self.node.to_i64(), self.export)
    }
}

impl RustCallable for ExportCallable {
    fn invoke(&mut self, args: &[&Variant]) -> Variant {
        match cores::find(self.node.to_i64()) {
            Some(core) => crate::script_calls::call_export(&core, &self.export, args),
            None if state::with_state(|_| ()).is_none() => {
                godot_error!(
                    "WasGo: the Callable of export `{}` was called off the main thread or after WasGo stopped; mods run on the main thread only (use call_deferred)",
                    self.export
                );
                Variant::nil()
            }
            None => {
                godot_error!(
                    "WasGo: the Callable of export `{}` was called after its WasmScript was freed (check is_valid() first)",
                    self.export
                );
                Variant::nil()
            }
        }
    }

    fn callable_name(&self) -> CowStr {
        self.export.clone()
    }

    fn is_valid(&self) -> bool {
        self.node.lookup_validity()
    }
}
