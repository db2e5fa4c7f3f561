//! Carrying a mod's state across a hot reload, on [`ModInstance`]: the optional export pair
//! `save_state` (asked of the old instance before it ends) and `load_state` (given to the new
//! one right after `init`).
//!
//! Both follow the ABI's conventions for bytes crossing into a mod:
//!
//! - `save_state(out_ptr, out_cap) -> len` is the out-buffer protocol seen from the other side:
//!   the host calls `save_state(0, 0)` for the length, allocates that many bytes with the mod's
//!   `malloc(size, align)`, calls `save_state(ptr, len)`, copies the bytes out and gives the buffer
//!   back with `free(ptr, size, align)`. A negative length means "nothing to carry"; 0 carries an
//!   empty state. A state over [`MAX_CARRIED_STATE`], a `malloc` that answers 0, or a second answer
//!   longer than the first (the state must not change between the two calls) traps the instance
//!   with a message naming `save_state` (the reload goes on without a state).
//! - `load_state(ptr, len)` gets a buffer the host allocated with the mod's `malloc` and filled;
//!   the host frees it with `free` when the call returns. A mod without `malloc` cannot be given
//!   a non-empty state: it traps with a message saying so.
//!
//! Each runs as one main-thread entry under the callback budget ([`ModInstance::call`]'s path),
//! so a mod that spins in `save_state` traps at its budget like in any callback.

use crate::error::{HostTrap, TrapKind, WasgoError};
use crate::instance::ModInstance;
use crate::state::InstanceState;
use wasgo_catalog::{export, MAX_CARRIED_STATE};
use wasmtime::{Instance, Memory, Store, TypedFunc};

/// A trap for a mod that broke the contract of an export the host calls.
pub(crate) fn violation(message: String) -> wasmtime::Error {
    HostTrap::new(TrapKind::HostCall, message).into_error()
}

/// The mod's exported memory, or a trap naming `function`.
pub(crate) fn memory_of(
    store: &mut Store<InstanceState>,
    instance: &Instance,
    function: &str,
) -> wasmtime::Result<Memory> {
    instance
        .get_memory(&mut *store, export::MEMORY)
        .ok_or_else(|| {
            violation(format!(
                "`{function}` needs the mod to export its linear memory as `memory`, and it does not"
            ))
        })
}

/// The mod's `malloc(size, align) -> ptr`, or a trap saying `function` needs it.
fn malloc_of(
    store: &mut Store<InstanceState>,
    instance: &Instance,
    function: &str,
) -> wasmtime::Result<TypedFunc<(i32, i32), i32>> {
    instance
        .get_typed_func::<(i32, i32), i32>(&mut *store, export::MALLOC)
        .map_err(|_| {
            violation(format!(
                "`{function}` needs the mod to export `malloc(size, align) -> ptr` to pass its state, and it does not (the Rust SDK's `allocator` feature exports it)"
            ))
        })
}

/// Allocates `len` bytes in the mod with its `malloc`; a null answer traps naming `function`.
fn allocate(
    store: &mut Store<InstanceState>,
    malloc: &TypedFunc<(i32, i32), i32>,
    function: &str,
    len: usize,
) -> wasmtime::Result<i32> {
    let ptr = malloc.call(&mut *store, (len as i32, 1))?;
    if ptr == 0 {
        return Err(violation(format!(
            "the mod's `malloc` could not give `{function}` {len} bytes for its state (it answered 0)"
        )));
    }
    Ok(ptr)
}

/// Gives a buffer back with the mod's `free(ptr, size, align)`, when it exports one.
fn release(
    store: &mut Store<InstanceState>,
    instance: &Instance,
    ptr: i32,
    len: usize,
) -> wasmtime::Result<()> {
    if let Ok(free) = instance.get_typed_func::<(i32, i32, i32), ()>(&mut *store, export::FREE) {
        free.call(&mut *store, (ptr, len as i32, 1))?;
    }
    Ok(())
}

/// The body of `save_state` (see the module essay).
fn save_in(
    store: &mut Store<InstanceState>,
    instance: Instance,
) -> wasmtime::Result<Option<Vec<u8>>> {
    let name = export::SAVE_STATE;
    let save = instance
        .get_typed_func::<(i32, i32), i32>(&mut *store, name)
        .map_err(|_| {
            violation(format!(
                "`{name}` must be `save_state(out_ptr: i32, out_cap: i32) -> i32`"
            ))
        })?;
    let len = save.call(&mut *store, (0, 0))?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    if len > MAX_CARRIED_STATE {
        return Err(violation(format!(
            "`{name}` returned a state of {len} bytes, over the {} MiB a mod may carry across a reload; carry less (the new instance starts without a state)",
            MAX_CARRIED_STATE >> 20
        )));
    }
    if len == 0 {
        return Ok(Some(Vec::new()));
    }
    let memory = memory_of(store, &instance, name)?;
    let malloc = malloc_of(store, &instance, name)?;
    let ptr = allocate(store, &malloc, name, len)?;
    let written = save.call(&mut *store, (ptr, len as i32))?;
    if written < 0 {
        release(store, &instance, ptr, len)?;
        return Ok(None);
    }
    if written as usize > len {
        return Err(violation(format!(
            "`{name}` announced {len} bytes, then answered {written}: its state must not change between the two calls"
        )));
    }
    let bytes = crate::guest::bytes_in(&memory, &*store, name, ptr, written)?.to_vec();
    release(store, &instance, ptr, len)?;
    Ok(Some(bytes))
}

/// The body of `load_state` (see the module essay).
fn load_in(
    store: &mut Store<InstanceState>,
    instance: Instance,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let name = export::LOAD_STATE;
    let load = instance
        .get_typed_func::<(i32, i32), ()>(&mut *store, name)
        .map_err(|_| violation(format!("`{name}` must be `load_state(ptr: i32, len: i32)`")))?;
    if bytes.is_empty() {
        return load.call(&mut *store, (0, 0));
    }
    let memory = memory_of(store, &instance, name)?;
    let malloc = malloc_of(store, &instance, name)?;
    let ptr = malloc.call(&mut *store, (bytes.len() as i32, 1))?;
    crate::guest::write_malloced(&memory, &mut *store, name, "its state", ptr, bytes)?;
    load.call(&mut *store, (ptr, bytes.len() as i32))?;
    release(store, &instance, ptr, bytes.len())
}

impl ModInstance {
    /// Asks the mod for the state to carry across a reload through its `save_state` export (see
    /// the module essay), on the calling (main) thread under the callback budget. `Ok(None)`
    /// when the mod has no `save_state` or answers a negative length.
    ///
    /// # Errors
    /// The errors of [`ModInstance::call`] ([`WasgoError::Busy`] while `main` runs); a
    /// protocol violation traps the instance ([`WasgoError::Trap`]).
    pub fn save_state(&self) -> Result<Option<Vec<u8>>, WasgoError> {
        if !self.has_export(export::SAVE_STATE) {
            return Ok(None);
        }
        self.enter(export::SAVE_STATE, save_in)
    }

    /// Hands `bytes` (what [`ModInstance::save_state`] gave of an earlier instance) to the mod's
    /// `load_state` export, on the calling (main) thread under the callback budget. `Ok(false)`
    /// when the mod has no `load_state` (the state is dropped).
    ///
    /// # Errors
    /// As [`ModInstance::save_state`].
    pub fn load_state(&self, bytes: &[u8]) -> Result<bool, WasgoError> {
        if !self.has_export(export::LOAD_STATE) {
            return Ok(false);
        }
        if bytes.len() > MAX_CARRIED_STATE {
            return Err(WasgoError::BadArguments(format!(
                "a state of {} bytes is over the {} MiB a mod may carry across a reload",
                bytes.len(),
                MAX_CARRIED_STATE >> 20
            )));
        }
        let bytes = bytes.to_vec();
        self.enter(export::LOAD_STATE, move |store, instance| {
            load_in(store, instance, &bytes)
        })
        .map(|()| true)
    }
}
