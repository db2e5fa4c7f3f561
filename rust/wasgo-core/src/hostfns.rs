//! The implemented `wasgo` functions.
//!
//! [`define`] links one catalog function by name; the linker calls it for every
//! [`Availability::Ready`](crate::catalog::Availability::Ready) entry at or below the instance's
//! level. A unit test checks each definition against the catalog's signature, so the catalog
//! stays the single source of truth.

use crate::catalog::WASGO_MODULE;
use crate::error::TrapKind;
use crate::events::OutputSource;
use crate::guest;
use crate::state::{HostTrap, InstanceState};
use std::panic::{catch_unwind, AssertUnwindSafe};
use wasmtime::{Caller, Linker};

/// Runs a host function body; a panic in it becomes a trap of the calling mod, never an unwind
/// into wasm or Godot.
pub(crate) fn guarded<R>(function: &str, body: impl FnOnce() -> wasmtime::Result<R>) -> wasmtime::Result<R> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(HostTrap::new(TrapKind::HostCall, format!("wasgo host bug in `{function}`: {what}; the mod was stopped (please report this)")).into_error())
        }
    }
}

type C<'a> = Caller<'a, InstanceState>;

/// Links the implementation of `wasgo.<name>`. Returns false if WasGo has none.
pub(crate) fn define(linker: &mut Linker<InstanceState>, name: &str) -> wasmtime::Result<bool> {
    const M: &str = WASGO_MODULE;
    match name {
        "log" => linker.func_wrap(M, "log", |mut c: C<'_>, level: i32, ptr: i32, len: i32| {
            guarded("wasgo.log", || {
                let text = guest::read_str(&mut c, "wasgo.log", ptr, len)?;
                let level = level.clamp(0, 3);
                for line in text.split('\n') {
                    c.data().events.output(OutputSource::Log(level), line.trim_end_matches('\r').to_string());
                }
                Ok(())
            })
        })?,
        "abort" => linker.func_wrap(M, "abort", |mut c: C<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            guarded("wasgo.abort", || {
                let text = guest::read_str(&mut c, "wasgo.abort", ptr, len)?;
                Err(HostTrap::new(TrapKind::Abort, format!("`{}` aborted: {text}", c.data().name)).into_error())
            })
        })?,
        "last_error" => linker.func_wrap(M, "last_error", |mut c: C<'_>, out_ptr: i32, out_cap: i32| {
            guarded("wasgo.last_error", || {
                let message = c.data().last_error.clone();
                guest::write_out(&mut c, "wasgo.last_error", out_ptr, out_cap, message.as_bytes())
            })
        })?,
        "safety_level" => linker.func_wrap(M, "safety_level", |c: C<'_>| c.data().level.number())?,
        "has_function" => linker.func_wrap(M, "has_function", |mut c: C<'_>, mp: i32, ml: i32, np: i32, nl: i32| {
            guarded("wasgo.has_function", || {
                let module = guest::read_str(&mut c, "wasgo.has_function", mp, ml)?;
                let name = guest::read_str(&mut c, "wasgo.has_function", np, nl)?;
                let state = c.data();
                let exposed = crate::linking::lowest_level(&state.runtime, &module, &name).is_some_and(|l| l <= state.level);
                Ok(exposed as i32)
            })
        })?,
        _ => return Ok(false),
    };
    Ok(true)
}
