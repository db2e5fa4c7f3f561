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
//! [`ModInstance::call_batched`] is the bulk form (`process_nodes`, ABI 1.3): the handles go
//! over as an array in the mod's memory, up to [`BATCH_NODES`] per call, so per node only the
//! owner's lookup and four bytes remain on the host side and the mod loops over them itself.
//!
//! A mod without the export, or with a different signature, is refused before the store is
//! taken: [`WasgoError::NoSuchExport`] or [`WasgoError::BadArguments`], and the instance goes
//! on.

use crate::carry_state::{memory_of, violation};
use crate::error::WasgoError;
use crate::instance::ModInstance;
use wasgo_catalog::abi::export;
use wasgo_catalog::Abi;

/// Most handles one call of a bulk export (`process_nodes`) gets; a larger group is handed over
/// in several calls of the same entry, with the frame budget looked at between them.
pub const BATCH_NODES: usize = 256;

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
        self.check_pass_export(export, &[Abi::I32, Abi::F64], "`(i32, f64)`")?;
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

    /// The bulk form of [`ModInstance::call_each`]: calls `export(nodes_ptr, count, delta)` (an
    /// `(i32, i32, f64) -> ()` export, e.g. `process_nodes`) with the handles `next` gives, at
    /// most [`BATCH_NODES`] per call, written as little-endian i32s into a buffer allocated with
    /// the mod's `malloc(size, 4)` once per pass (freed with its `free` afterwards, when it
    /// exports one). All calls are one entry under one callback budget; `next` runs between
    /// them (filling the next batch) and ends the pass with `None`. Returns how many handles
    /// were handed over.
    ///
    /// # Errors
    /// As [`ModInstance::call_each`]; [`WasgoError::BadArguments`] also when the mod exports no
    /// `malloc(size, align) -> ptr` (nothing was called); [`WasgoError::Trap`] when `malloc`
    /// answers 0 or a buffer outside the mod's memory (the instance ends, as for any trap).
    pub fn call_batched(
        &self,
        export: &str,
        delta: f64,
        mut next: impl FnMut() -> Option<i32>,
    ) -> Result<usize, WasgoError> {
        self.check_pass_export(
            export,
            &[Abi::I32, Abi::I32, Abi::F64],
            "`(i32, i32, f64)` (nodes pointer, count, delta)",
        )?;
        match self.export_signature(export::MALLOC) {
            Some(sig) if sig.params == [Abi::I32, Abi::I32] && sig.results == [Abi::I32] => {}
            _ => {
                return Err(WasgoError::BadArguments(format!(
                    "`{}`.`{export}` needs the mod to export `malloc(size, align) -> ptr` to receive its nodes, and it does not (the Rust SDK's `allocator` feature exports it)",
                    self.name()
                )))
            }
        }
        self.enter(export, |store, instance| {
            let func = instance.get_typed_func::<(i32, i32, f64), ()>(&mut *store, export)?;
            let malloc = instance.get_typed_func::<(i32, i32), i32>(&mut *store, export::MALLOC)?;
            let memory = memory_of(store, &instance, export)?;
            let mut batch: Vec<i32> = Vec::with_capacity(BATCH_NODES);
            let mut bytes: Vec<u8> = Vec::with_capacity(BATCH_NODES * 4);
            // (pointer, size) of the buffer, allocated for the first batch's size: a later batch
            // exists only when the first was full, so it never needs more.
            let mut buffer: Option<(i32, usize)> = None;
            let mut handed = 0;
            let outcome = loop {
                batch.clear();
                while batch.len() < BATCH_NODES {
                    match next() {
                        Some(handle) => batch.push(handle),
                        None => break,
                    }
                }
                // A kill thrown since the last call (by a handler it ran, or while `next`
                // ran) ends the pass; the owner completes it once the entry has returned.
                if batch.is_empty() || store.data().kill.is_killed() {
                    break Ok(handed);
                }
                let (ptr, size) = match buffer {
                    Some(b) => b,
                    None => {
                        let size = batch.len() * 4;
                        let ptr = malloc.call(&mut *store, (size as i32, 4))?;
                        let end = u64::from(ptr as u32) + size as u64;
                        if ptr == 0 || end > memory.data_size(&*store) as u64 {
                            return Err(violation(format!(
                                "the mod's `malloc` answered {ptr} for the {size} bytes of `{export}`'s nodes (0 or outside its memory)"
                            )));
                        }
                        buffer = Some((ptr, size));
                        // `malloc` is the mod's code: a handler it ran may have killed it.
                        if store.data().kill.is_killed() {
                            break Ok(handed);
                        }
                        (ptr, size)
                    }
                };
                bytes.clear();
                bytes.extend(batch.iter().flat_map(|h| h.to_le_bytes()));
                debug_assert!(bytes.len() <= size);
                // In range: checked when allocated, and a memory never shrinks.
                memory.write(&mut *store, ptr as u32 as usize, &bytes)?;
                let full = batch.len() == BATCH_NODES;
                if let Err(e) = func.call(&mut *store, (ptr, batch.len() as i32, delta)) {
                    break Err(e);
                }
                handed += batch.len();
                if !full {
                    break Ok(handed);
                }
            };
            let outcome = outcome?;
            if let (Some((ptr, size)), Ok(free)) = (
                buffer,
                instance.get_typed_func::<(i32, i32, i32), ()>(&mut *store, export::FREE),
            ) {
                if !store.data().kill.is_killed() {
                    free.call(&mut *store, (ptr, size as i32, 4))?;
                }
            }
            Ok(outcome)
        })
    }

    /// Refuses, before the store is taken, a pass export that is missing or whose signature is
    /// not `params -> ()` (`shape` names the parameters in the message).
    fn check_pass_export(
        &self,
        export: &str,
        params: &[Abi],
        shape: &str,
    ) -> Result<(), WasgoError> {
        match self.export_signature(export) {
            Some(sig) if sig.params == params && sig.results.is_empty() => Ok(()),
            Some(_) => Err(WasgoError::BadArguments(format!(
                "`{}`.`{export}` must take {shape} and return nothing",
                self.name()
            ))),
            None => Err(WasgoError::NoSuchExport {
                module: self.name().to_string(),
                export: export.into(),
            }),
        }
    }
}
