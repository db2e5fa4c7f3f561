//! Asking the game for a permission (level 2).

use super::generated::PermissionFunctions;
use super::{Caller, Host};
use crate::events::ModEvent;
use crate::guest;
use crate::permissions::Permission;
use wasgo_catalog::ErrorCode;

impl PermissionFunctions for Host {
    fn request_permission(
        c: &mut Caller<'_>,
        kind_ptr: i32,
        kind_len: i32,
    ) -> wasmtime::Result<i32> {
        let kind = guest::read_str(c, "wasgo.request_permission", kind_ptr, kind_len)?;
        let state = c.data_mut();
        match request(state, &kind) {
            Ok(granted) => Ok(i32::from(granted)),
            Err(message) => Ok(state.fail(ErrorCode::InvalidArgument.code(), message)),
        }
    }
}

/// `request_permission(kind)` for every guest kind (`wasgo.request_permission`,
/// `godot.requestPermission`): `Ok(true)` when the mod has `kind`, else `Ok(false)` with
/// `permission_requested` emitted (once per kind while a request waits for delivery: a mod
/// asking in a loop cannot flood the game's event queue); `Err` naming a kind that is none.
pub(crate) fn request(state: &mut crate::state::InstanceState, kind: &str) -> Result<bool, String> {
    let Some(kind) = Permission::parse(kind) else {
        return Err(format!(
            "`{kind}` is not a permission kind; use one of [{}]",
            Permission::names()
        ));
    };
    if state.permissions.has(kind) {
        return Ok(true);
    }
    if state.permissions.ask(kind) {
        // The mod's id, not its module's name: a file name may hold newlines or BBCode that a
        // game showing `detail` in its own prompt would show as its own words.
        let detail = format!(
            "`{}` asks for the `{kind}` permission",
            crate::grants::mod_id(&state.name)
        );
        state.emit(ModEvent::PermissionRequested { kind, detail });
    }
    Ok(false)
}
