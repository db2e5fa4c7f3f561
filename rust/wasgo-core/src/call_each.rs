//! The batched frame path: one export called for many nodes in one entry.
//!
//! A game that drives many nodes from one mod (a `WasmScript`'s `process_group`, ABI 1.2) does
//! not pay a whole entry per node. [`ModInstance::call_each`] takes the store once, arms the
//! callback budget once for the whole pass, resolves the export once, and then calls
//! `export(handle, delta)` for every handle the owner's `next` hands it, until `next` has no
//! more. Per node only the wasm call and what `next` does (the owner's handle lookup, its reach
//! and validity checks, its frame-budget check) remain.
//!
//! What the pass shares with any entry:
//! - one callback budget (`callback_budget`, with its strikes and wall-clock backstop) covers
//!   the whole pass, so a spinning call traps as any callback does and ends the instance;
//! - a trap or `exit` in any call ends the pass and the instance, reported as by
//!   [`ModInstance::call`];
//! - a kill requested during a call (`kill()` from a signal handler the mod's call ran) ends the
//!   pass before the next call: the owner completes the kill when the entry returns.
//!
//! A mod without the export, or with a different signature, is refused before the store is
//! taken: [`WasgoError::NoSuchExport`] or [`WasgoError::BadArguments`], and the instance goes
//! on.

use crate::error::WasgoError;
use crate::instance::ModInstance;
use wasgo_catalog::Abi;

impl ModInstance {
    /// Calls `export(node, delta)` (an `(i32, f64) -> ()` export) once for each handle `next`
    /// gives, all in one entry under one callback budget, on the calling (main) thread. `next`
    /// runs between the calls, with the store held (it must not call into this instance) and
    /// answers `None` to end the pass. Returns how many calls were made.
    ///
    /// # Errors
    /// [`WasgoError::NoSuchExport`] or [`WasgoError::BadArguments`] (the export is missing or
    /// is not `(i32, f64) -> ()`; nothing was called and the instance goes on);
    /// [`WasgoError::Busy`] while `main` runs; [`WasgoError::Ended`] after the instance ended;
    /// [`WasgoError::Trap`], [`WasgoError::Killed`] or [`WasgoError::Exited`] when a call ended
    /// the instance (the calls before it were made).
    pub fn call_each(
        &self,
        export: &str,
        delta: f64,
        mut next: impl FnMut() -> Option<i32>,
    ) -> Result<usize, WasgoError> {
        match self.export_signature(export) {
            Some(sig) if sig.params == [Abi::I32, Abi::F64] && sig.results.is_empty() => {}
            Some(_) => {
                return Err(WasgoError::BadArguments(format!(
                    "`{}`.`{export}` must take `(i32, f64)` and return nothing",
                    self.name()
                )))
            }
            None => {
                return Err(WasgoError::NoSuchExport {
                    module: self.name().to_string(),
                    export: export.into(),
                })
            }
        }
        self.enter(export, |store, instance| {
            let func = instance.get_typed_func::<(i32, f64), ()>(&mut *store, export)?;
            let mut calls = 0;
            while let Some(node) = next() {
                func.call(&mut *store, (node, delta))?;
                calls += 1;
                // A kill thrown during the call (a signal handler's `kill()`) ends the pass;
                // the owner completes it once the entry has returned.
                if store.data().kill.is_killed() {
                    break;
                }
            }
            Ok(calls)
        })
    }
}
