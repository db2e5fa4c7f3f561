//! The implemented `wasgo` functions.
//!
//! [`define`] links one catalog function by name; the linker calls it for every
//! [`Availability::Ready`](crate::catalog::Availability::Ready) entry at or below the instance's
//! level. A unit test checks each definition against the catalog's signature, so the catalog
//! stays the single source of truth.

use crate::catalog::WASGO_MODULE;
use crate::error::TrapKind;
use crate::events::{ModEvent, OutputSource};
use crate::sandbox::{Sandbox, SandboxError};
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
        "file_write" => linker.func_wrap(M, "file_write", |mut c: C<'_>, pp: i32, pl: i32, dp: i32, dl: i32| {
            guarded("wasgo.file_write", || {
                let path = guest::read_str(&mut c, "wasgo.file_write", pp, pl)?;
                let data = guest::read_bytes(&mut c, "wasgo.file_write", dp, dl)?;
                Ok(with_sandbox(c.data_mut(), |sb| sb.write(&path, &data)).map_or_else(|code| code, |()| 0))
            })
        })?,
        "file_read" => linker.func_wrap(M, "file_read", |mut c: C<'_>, pp: i32, pl: i32, out_ptr: i32, out_cap: i32| {
            guarded("wasgo.file_read", || {
                let path = guest::read_str(&mut c, "wasgo.file_read", pp, pl)?;
                match with_sandbox(c.data_mut(), |sb| sb.read(&path)) {
                    Ok(bytes) => guest::write_out(&mut c, "wasgo.file_read", out_ptr, out_cap, &bytes),
                    Err(code) => Ok(code),
                }
            })
        })?,
        "file_list" => linker.func_wrap(M, "file_list", |mut c: C<'_>, pp: i32, pl: i32, out_ptr: i32, out_cap: i32| {
            guarded("wasgo.file_list", || {
                let path = guest::read_str(&mut c, "wasgo.file_list", pp, pl)?;
                match with_sandbox(c.data_mut(), |sb| sb.list(&path)) {
                    Ok(text) => guest::write_out(&mut c, "wasgo.file_list", out_ptr, out_cap, text.as_bytes()),
                    Err(code) => Ok(code),
                }
            })
        })?,
        "file_delete" => linker.func_wrap(M, "file_delete", |mut c: C<'_>, pp: i32, pl: i32| {
            guarded("wasgo.file_delete", || {
                let path = guest::read_str(&mut c, "wasgo.file_delete", pp, pl)?;
                Ok(with_sandbox(c.data_mut(), |sb| sb.delete(&path)).map_or_else(|code| code, |()| 0))
            })
        })?,
        "request_permission" => linker.func_wrap(M, "request_permission", |mut c: C<'_>, kp: i32, kl: i32| {
            guarded("wasgo.request_permission", || {
                let kind = guest::read_str(&mut c, "wasgo.request_permission", kp, kl)?;
                let state = c.data_mut();
                if !crate::permissions::KINDS.contains(&kind.as_str()) {
                    return Ok(state.fail(-3, format!("`{kind}` is not a permission kind; use one of {:?}", crate::permissions::KINDS)));
                }
                if state.permissions.has(&kind) {
                    return Ok(1);
                }
                let detail = format!("`{}` asks for the `{kind}` permission", state.name);
                state.emit(ModEvent::PermissionRequested { kind, detail });
                Ok(0)
            })
        })?,
        _ => return Ok(false),
    };
    Ok(true)
}

/// Runs a sandbox operation behind the `files` permission; a failure becomes its negative ABI
/// code with the message kept for `wasgo.last_error`.
fn with_sandbox<T>(state: &mut InstanceState, op: impl FnOnce(&Sandbox) -> Result<T, SandboxError>) -> Result<T, i32> {
    if !state.permissions.has("files") {
        let message = format!(
            "`{}` has not been granted the `files` permission; call `wasgo.request_permission(\"files\")` and try again once the game grants it",
            state.name
        );
        return Err(state.fail(-6, message));
    }
    let Some(sandbox) = state.sandbox.as_ref() else {
        return Err(state.fail(-5, "this mod has no sandbox directory (the game did not configure one)"));
    };
    op(sandbox).map_err(|e| {
        let code = e.code();
        state.fail(code, e.message().to_string())
    })
}
