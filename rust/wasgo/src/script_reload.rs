//! The node's side of hot reload (`hot_reload.rs` decides when): swapping the running instance
//! for one of a new module, with the mod's state carried across through its optional
//! `save_state`/`load_state` exports (`wasgo_core`'s `carry_state.rs` runs the protocol).
//!
//! Like every entry into a mod, each step runs with no gdext borrow held (the invariant in
//! `script_core.rs`): `save_state` and `load_state` are counted entries under the callback
//! budget, and the node is looked up again after every emit, because a handler of `killed` may
//! free it.
//!
//! What is kept where: the bytes the old instance saved wait in
//! [`ScriptCore::carried_state`] until an instance takes them in `start()` (right after `init`,
//! before `ready` and `main`). A new module that fails to start leaves them there for the next
//! instance, so fixing a broken build and saving again still brings the state across.

use crate::script_core::{ResolvedModule, ScriptCore};
use godot::global::Error;
use godot::prelude::*;
use std::rc::Rc;
use wasgo_catalog::abi::export;

impl ScriptCore {
    /// Replaces the instance with one of `module`, compiled from the changed file at `path`, and
    /// emits `reloaded(carried_state)` when it started. Nothing happens when the node no longer
    /// runs from `path`, the game stopped it with `kill()`, or a start of its own is under way.
    pub fn hot_swap(self: &Rc<Self>, module: ResolvedModule, path: &str) {
        if self.is_gone() || self.depth.get() > 0 || self.is_loading() {
            return;
        }
        if self.killed_by_game.get() || !(self.hooks.runs_from)(self.node, path) {
            return;
        }
        // Taken before `save_state` runs: a game function it calls may point the node at
        // another mod, which must not get this mod's bytes.
        let source = self.source_changes();
        let saved = self.save_for_reload();
        if self.is_gone() {
            return;
        }
        if self.source_changes() != source || !(self.hooks.runs_from)(self.node, path) {
            self.carried_state.borrow_mut().take();
            return;
        }
        if let Some(saved) = saved {
            *self.carried_state.borrow_mut() = saved;
        }
        self.kill_with(&format!(
            "reloading: `{}` changed on disk",
            wasgo_core::text::printable_line(path)
        ));
        let key = self.key.get();
        self.pump();
        if self.is_gone() {
            // A handler of `killed` freed the node.
            return;
        }
        // (The pump's clean-up of the killed instance clears the key; a new start sets another.)
        if self.key.get().is_some_and(|k| Some(k) != key) || self.is_loading() {
            // A handler of `killed` started the node again (from the file as it is now, and
            // with the carried state): that instance stays, announced by its own `started`.
            return;
        }
        if self.source_changes() != source || !(self.hooks.runs_from)(self.node, path) {
            // A handler of `killed` pointed the node at another mod (`wasm_file`, `module`)
            // without starting it: the old mod's new code is not started in its place (it would
            // run under the new source's id and folders), and its state is not the other's.
            self.carried_state.borrow_mut().take();
            self.drop_instance();
            self.idle_status.set(crate::script_core::status::KILLED);
            return;
        }
        if self.killed_by_game.get() {
            // A handler of `killed` stopped the mod (`kill()`, `WasmEngine.kill_all()`): it stays
            // stopped.
            self.drop_instance();
            self.idle_status.set(crate::script_core::status::KILLED);
            return;
        }
        self.drop_instance();
        self.state_loaded.set(false);
        // Kept until the new instance has started: its `load_state` or `ready` may trap after
        // taking the state, and the next good build must still get it.
        let carried = self.carried_state.borrow().clone();
        let error = (self.hooks.restart)(self.node, module, path);
        self.clear_loaded();
        if error != Error::OK
            && self.source_changes() == source
            && self.carried_state.borrow().is_none()
        {
            *self.carried_state.borrow_mut() = carried;
        }
        if error == Error::OK {
            self.emit("reloaded", &[self.state_loaded.get().to_variant()]);
            return;
        }
        let reason = self.last_error.borrow().clone();
        // A file's name is its author's choice: a line break in it would forge a log line.
        let path = wasgo_core::text::printable_line(path);
        godot_error!(
            "WasGo: `{}`: the hot reload of `{path}` did not start (see the error above); save a fixed file to reload",
            self.label()
        );
        self.set_last_error(format!(
            "`{}`: cannot hot-reload `{path}`: {reason}",
            self.label()
        ));
    }

    /// What the running instance saves for its successor: `None` when there is no instance
    /// whose state could be asked for (none, ended, or its `main` holds the store), so an
    /// earlier saved state stays; `Some(None)` when it was asked and carries nothing (no
    /// `save_state`, a negative answer, or a failure, which is reported).
    fn save_for_reload(self: &Rc<Self>) -> Option<Option<Vec<u8>>> {
        let instance = self.instance()?;
        if !instance.status().is_live() {
            return None;
        }
        if instance.is_main_running() {
            if instance.has_export(export::SAVE_STATE) {
                godot_warn!(
                    "WasGo: `{}`: its `main` is running, so its `save_state` cannot be called (the store belongs to the worker thread); it is reloaded without its state",
                    self.label()
                );
            }
            return Some(None);
        }
        if !instance.has_export(export::SAVE_STATE) {
            return Some(None);
        }
        drop(instance);
        match self.enter_with(export::SAVE_STATE, |instance| instance.save_state()) {
            Some(Ok(state)) => Some(state),
            Some(Err(e)) => {
                // A trap is also delivered as `trapped` by the pump that follows.
                godot_warn!(
                    "WasGo: `{}`: `save_state` failed, the reloaded mod starts without its state: {e}",
                    self.label()
                );
                Some(None)
            }
            None => None,
        }
    }

    /// Gives the instance just started the state a hot reload carried (its `load_state`
    /// export), once; called by `start()` right after `init`. A mod without `load_state` drops
    /// the state; a `load_state` that traps ends the new instance like any callback.
    pub(crate) fn load_carried_state(self: &Rc<Self>) {
        let Some(instance) = self.instance() else {
            return;
        };
        if !instance.status().is_live() || self.carried_state.borrow().is_none() {
            return;
        }
        let Some(bytes) = self.carried_state.borrow_mut().take() else {
            return;
        };
        if !instance.has_export(export::LOAD_STATE) {
            return;
        }
        drop(instance);
        match self.enter_with(export::LOAD_STATE, |instance| instance.load_state(&bytes)) {
            Some(Ok(loaded)) => self.state_loaded.set(loaded),
            Some(Err(e)) => self.set_last_error(format!(
                "`{}`: `load_state` failed, the mod runs without its saved state: {e}",
                self.label()
            )),
            None => {}
        }
        self.pump();
    }
}
