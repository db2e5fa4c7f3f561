//! The mod's sandbox directory (level 2, behind the `files` permission).

use super::generated::FileFunctions;
use super::{Caller, Host};
use crate::guest;
use crate::permissions::Permission;
use crate::sandbox::{Sandbox, SandboxError};
use crate::state::InstanceState;
use wasgo_catalog::ErrorCode;

impl FileFunctions for Host {
    fn file_write(
        c: &mut Caller<'_>,
        path_ptr: i32,
        path_len: i32,
        data_ptr: i32,
        data_len: i32,
    ) -> wasmtime::Result<i32> {
        let path = guest::read_str(c, "wasgo.file_write", path_ptr, path_len)?;
        let data = guest::read_bytes(c, "wasgo.file_write", data_ptr, data_len)?;
        Ok(
            with_sandbox(c.data_mut(), |sb| sb.write(&path, &data))
                .map_or_else(|code| code, |()| 0),
        )
    }

    fn file_read(
        c: &mut Caller<'_>,
        path_ptr: i32,
        path_len: i32,
        out_ptr: i32,
        out_cap: i32,
    ) -> wasmtime::Result<i32> {
        let path = guest::read_str(c, "wasgo.file_read", path_ptr, path_len)?;
        match with_sandbox(c.data_mut(), |sb| sb.read(&path)) {
            Ok(bytes) => guest::write_out(c, "wasgo.file_read", out_ptr, out_cap, &bytes),
            Err(code) => Ok(code),
        }
    }

    fn file_list(
        c: &mut Caller<'_>,
        path_ptr: i32,
        path_len: i32,
        out_ptr: i32,
        out_cap: i32,
    ) -> wasmtime::Result<i32> {
        let path = guest::read_str(c, "wasgo.file_list", path_ptr, path_len)?;
        match with_sandbox(c.data_mut(), |sb| sb.list(&path)) {
            Ok(text) => guest::write_out(c, "wasgo.file_list", out_ptr, out_cap, text.as_bytes()),
            Err(code) => Ok(code),
        }
    }

    fn file_delete(c: &mut Caller<'_>, path_ptr: i32, path_len: i32) -> wasmtime::Result<i32> {
        let path = guest::read_str(c, "wasgo.file_delete", path_ptr, path_len)?;
        Ok(with_sandbox(c.data_mut(), |sb| sb.delete(&path)).map_or_else(|code| code, |()| 0))
    }
}

/// Runs a sandbox operation behind the `files` permission; a failure becomes its negative ABI
/// code with the message kept for `wasgo.last_error`.
fn with_sandbox<T>(
    state: &mut InstanceState,
    op: impl FnOnce(&Sandbox) -> Result<T, SandboxError>,
) -> Result<T, i32> {
    let outcome = files_sandbox(state, "call `wasgo.request_permission(\"files\")`").map(op);
    match outcome {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => {
            let code = e.code();
            Err(state.fail(code, e.message().to_string()))
        }
        Err((code, message)) => Err(state.fail(code, message)),
    }
}

/// The mod's sandbox, behind the `files` permission: what the file functions of every guest
/// kind (`wasgo.file_*`, Go-js `godot.file*`, waPC `wasgo/file/*`) get first. `ask` says how
/// the mod asks for the permission, as its own kind does (`call ...`). `Err((code, message))`
/// without the permission, or when the game configured no sandbox.
pub(crate) fn files_sandbox<'a>(
    state: &'a InstanceState,
    ask: &str,
) -> Result<&'a Sandbox, (i32, String)> {
    if !state.permissions.has(Permission::Files) {
        return Err((
            ErrorCode::PermissionDenied.code(),
            format!(
                "`{}` has not been granted the `files` permission; {ask} and try again once the game grants it",
                state.name
            ),
        ));
    }
    state.sandbox.as_ref().ok_or_else(|| {
        (
            ErrorCode::CallFailed.code(),
            "this mod has no sandbox directory (the game did not configure one)".to_string(),
        )
    })
}
