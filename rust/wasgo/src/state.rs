//! The glue's one main-thread state: created when the extension starts (`on_stage_init` at
//! `InitStage::Scene`) and dropped when it stops (`on_stage_deinit`), while the engine still
//! runs, so no `Gd`, `Callable` or `Variant` the glue holds outlives Godot.
//!
//! # Where it lives, and why that is sound
//!
//! One `thread_local!` holds `RefCell<Option<MainThreadState>>`. It is set and cleared only by
//! [`start`] and [`stop`], which Godot calls on the main thread, so only the main thread ever
//! sees a state: any other thread (a resource-loader thread, a mod's worker) finds `None` and
//! every accessor answers as if WasGo were stopped, which is also what happens after [`stop`].
//! That is what the Godot values in the state need (they are not `Send`); the one value other
//! threads read, the runtime handle, is not in here: it stays a `Send + Sync` global in
//! `runtime.rs`, started and stopped at the same two points.
//!
//! # Re-entrancy
//!
//! [`with_state`] lends the state *shared* (`&MainThreadState`) for the length of a closure;
//! each part keeps its own `RefCell`s and `Cell`s, borrowed by its module for a statement or two
//! exactly as the former per-module thread-locals were. Closures never call into a mod or into
//! Godot code that can run a script (take what you need, release, then call), and a nested
//! [`with_state`] (one module's accessor using another's) is fine: shared borrows nest. Only
//! [`stop`] borrows mutably, once, from `on_stage_deinit`, where no accessor is running; should
//! that ever not hold, it reports the problem and leaves the state to the thread's exit instead
//! of panicking across the FFI boundary. No accessor panics: a state that is missing, being
//! stopped or holding a part of another type answers `None`.
//!
//! # Parts and teardown order
//!
//! Each field is one module's former globals, of a type that module defines and alone touches
//! ([`Part`], made on first use with `Default`, found by one type check). This module names no
//! other module of the crate, so every module can use it and the glue's imports stay one-way.
//! Teardown happens in one place, `on_stage_deinit` in `lib.rs`: it first stops everything that
//! runs (kills every mod, closes every HTTP request, unregisters the `.wasm` loader), then calls
//! [`stop`], which drops the parts in the order of the fields below (Rust drops fields in
//! declaration order): script state first, then the object tables and their connections, then
//! HTTP, game functions, the loader, the UI marks, grants and the last error.

use std::any::{Any, TypeId};
use std::cell::{OnceCell, RefCell};

/// A piece of the main-thread state owned by one module (its former globals).
pub trait Part: Any + Default {}

/// One field of [`MainThreadState`]: the part of one module, made on first use, with the
/// [`TypeId`] it was made as.
#[derive(Default)]
pub struct Slot(OnceCell<(TypeId, Box<dyn Any>)>);

impl Slot {
    /// The part in this slot, made with `Default` on first use; `None` if the slot holds
    /// another type (a slot given to two modules, a bug the module's accessors survive).
    ///
    /// The type check compares the `TypeId` recorded when the part was made with `T`'s (a
    /// constant) instead of asking the `dyn Any` (`downcast_ref`): that is a virtual call
    /// returning a 16-byte value through the stack, and every property set or get of a mod goes
    /// through here (BENCHMARKS.md, "Seventh pass").
    #[inline]
    pub fn get<T: Part>(&self) -> Option<&T> {
        let (made_as, part) = self
            .0
            .get_or_init(|| (TypeId::of::<T>(), Box::new(T::default())));
        if *made_as != TypeId::of::<T>() {
            return None;
        }
        let part: *const dyn Any = &**part;
        // SAFETY: `made_as` is the `TypeId` of the value `part` was made from (both are set
        // together, once, above), and it equals `T`'s, so the data pointer of the `dyn Any`
        // points to a live `T` owned by this slot for as long as `&self` is borrowed.
        Some(unsafe { &*part.cast::<T>() })
    }
}

/// Everything the glue keeps between calls on the main thread, one field per module that had
/// globals. Fields drop in declaration order (see the module essay).
#[derive(Default)]
pub struct MainThreadState {
    /// `live.rs`: the live-script slab (formerly `LIVE`) and the frame budget (`BUDGET`).
    pub live: Slot,
    /// `objects.rs`: object tables (`INSTANCES`), outboxes (`OUTBOX`), the allowlist
    /// (`ALLOWLIST`) and its decisions (`DECISIONS`).
    pub objects: Slot,
    /// `http.rs`: requests in flight (`TRANSFERS`).
    pub http: Slot,
    /// `game_calls.rs`: the Callables of game functions (`CALLABLES`).
    pub game_calls: Slot,
    /// `wapc_calls.rs`: the Callables of the game's waPC host operations.
    pub wapc_calls: Slot,
    /// `runtime.rs`: the registered `.wasm` resource loader (formerly `LOADER` in
    /// `module_res.rs`).
    pub loader: Slot,
    /// `own_ui.rs`: roots of WasGo's own UI (`ROOTS`).
    pub own_ui: Slot,
    /// `permissions.rs`: the grants store (formerly the `STORE` mutex).
    pub grants: Slot,
    /// `runtime.rs`: the last engine error (`LAST_ERROR`).
    pub last_error: Slot,
    /// `compiles.rs`: background compiles waiting for an answer.
    pub compiles: Slot,
    /// `reach.rs`: the `reach` of each `WasmScript` that set one.
    pub reach: Slot,
    /// `cores.rs`: each live `WasmScript`'s core by instance id (weak references).
    pub cores: Slot,
    /// `file_checks.rs`: the outcome of checking each `.wasm` file, per change of the file.
    pub file_checks: Slot,
    /// `hot_reload.rs`: the nodes whose `.wasm` files are watched for hot reload.
    pub hot_reload: Slot,
}

thread_local! {
    /// The one state; `Some` on the main thread between [`start`] and [`stop`].
    static STATE: RefCell<Option<MainThreadState>> = const { RefCell::new(None) };
}

/// Runs `f` with the state; `None` when there is none on this thread (not the main thread,
/// WasGo not started or already stopped). Never hold what `f` is lent across a call into a mod
/// or into Godot code that may re-enter WasGo.
pub fn with_state<R>(f: impl FnOnce(&MainThreadState) -> R) -> Option<R> {
    STATE
        .try_with(|cell| {
            let guard = cell.try_borrow().ok()?;
            guard.as_ref().map(f)
        })
        .ok()
        .flatten()
}

/// Runs `f` with one module's part of the state (see [`with_state`]); `field` picks the slot.
pub fn with_part<T: Part, R>(
    field: impl FnOnce(&MainThreadState) -> &Slot,
    f: impl FnOnce(&T) -> R,
) -> Option<R> {
    with_state(|s| field(s).get::<T>().map(f)).flatten()
}

/// Creates the state (extension init, main thread). A state already there is kept.
pub fn start() {
    let _ = STATE.try_with(|cell| {
        if let Ok(mut state) = cell.try_borrow_mut() {
            state.get_or_insert_with(MainThreadState::default);
        }
    });
}

/// Drops the state, part by part in field order (extension deinit, main thread, after every
/// mod was killed and every request closed). Returns false, leaving the state in place, when it
/// is lent out (which `on_stage_deinit` never does).
pub fn stop() -> bool {
    let taken = STATE.try_with(|cell| cell.try_borrow_mut().map(|mut s| s.take()).ok());
    match taken {
        Ok(Some(state)) => {
            drop(state);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter(std::cell::Cell<u32>);
    impl Part for Counter {}

    #[derive(Default)]
    struct Other(#[allow(dead_code)] u64);
    impl Part for Other {}

    #[test]
    fn a_part_is_made_once_and_found_again() {
        let slot = Slot::default();
        slot.get::<Counter>().unwrap().0.set(7);
        let again = slot.get::<Counter>().unwrap();
        assert_eq!(again.0.get(), 7);
        assert!(std::ptr::eq(again, slot.get::<Counter>().unwrap()));
    }

    #[test]
    fn a_slot_holding_another_part_answers_none() {
        let slot = Slot::default();
        slot.get::<Counter>().unwrap().0.set(1);
        assert!(slot.get::<Other>().is_none());
        assert_eq!(slot.get::<Counter>().unwrap().0.get(), 1);
    }
}
