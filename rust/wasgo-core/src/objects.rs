//! The `wasgo` functions that reach Godot objects: handles, properties, methods, signals, events.
//!
//! The core checks the mod's memory and decodes what it passes (names as UTF-8, values as
//! [`WireVariant`] bytes), then hands an [`ObjectOp`] to the game's [`ObjectHost`] — the Godot glue
//! — on the main thread (through the [`MainThreadBridge`](crate::bridge::MainThreadBridge) when
//! `main` calls from its worker). The host holds the per-instance handle table, checks the
//! allowlist and talks to Godot. A denied member traps the mod like an unexposed import.

use crate::error::TrapKind;
use crate::events::ModEvent;
use crate::guest;
use crate::level::SafetyLevel;
use crate::state::{HostTrap, InstanceState, KilledTrap};
use crate::variant::WireVariant;
use wasmtime::Caller;

/// Identifies one instance to the object host.
pub type InstanceKey = u64;

/// One request a mod makes of the game's objects.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectOp {
    /// Handle of the mod's own node.
    SelfNode,
    /// The node at `path` relative to handle `from` (0 = the mod's own node).
    GetNode { from: i32, path: String },
    Singleton { name: String },
    Release { handle: i32 },
    Get { handle: i32, name: String },
    Set { handle: i32, name: String, value: WireVariant },
    Call { handle: i32, method: String, args: Vec<WireVariant> },
    Connect { handle: i32, signal: String, callback_id: i32 },
    /// The arguments of the signal whose `native_callback` runs now.
    CallbackArgs,
    /// `mod_event(name, payload)` on the mod's node.
    Emit { name: String, payload: WireVariant },
}

/// What an [`ObjectOp`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectReply {
    /// A handle, or 0 for "done".
    Int(i32),
    Value(WireVariant),
}

/// Why an [`ObjectOp`] failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectError {
    /// A negative ABI code (-1 not found, -3 invalid argument, -4 invalid handle, -5 the Godot
    /// call failed) with its message for `wasgo.last_error`.
    Failed { code: i32, message: String },
    /// The member is not reachable at this level: the mod traps like at an unexposed import.
    /// `member` reads like `Node.set_script` or `OS` (a singleton).
    Denied { member: String },
}

impl ObjectError {
    pub fn failed(code: i32, message: impl Into<String>) -> ObjectError {
        ObjectError::Failed { code, message: message.into() }
    }
}

/// The game side of the object functions; implemented by the Godot glue. `run` is only ever
/// called on the main thread.
pub trait ObjectHost: Send + Sync {
    fn run(&self, key: InstanceKey, level: SafetyLevel, op: ObjectOp) -> Result<ObjectReply, ObjectError>;
}

/// Runs `op` for the calling instance and turns failures into codes or traps.
pub(crate) fn run(caller: &mut Caller<'_, InstanceState>, op: ObjectOp) -> wasmtime::Result<Result<ObjectReply, i32>> {
    let state = caller.data();
    let runtime = state.runtime.clone();
    let Some(host) = runtime.object_host() else {
        return Ok(Err(caller.data_mut().fail(-5, "no game is attached to this WasGo runtime, so there are no objects to reach")));
    };
    let (key, level, kill) = (state.key, state.level, state.kill.clone());
    let outcome = runtime.bridge().run(&kill, move || host.run(key, level, op)).map_err(|_| wasmtime::Error::new(KilledTrap))?;
    match outcome {
        Ok(reply) => Ok(Ok(reply)),
        Err(ObjectError::Failed { code, message }) => Ok(Err(caller.data_mut().fail(code.min(-1), message))),
        Err(ObjectError::Denied { member }) => {
            caller.data().emit(ModEvent::UnexposedCall { function: member.clone(), level });
            Err(HostTrap::new(
                TrapKind::Unexposed { function: member.clone(), level },
                format!("call to `{member}`, which is not exposed at safety level {level} (it is not in the WasGo allowlist; the game can extend `addons/wasgo/allowlist.cfg`)"),
            )
            .into_error())
        }
    }
}

/// Decodes a value a mod passed, or records -3 for `last_error`.
pub(crate) fn decode(caller: &mut Caller<'_, InstanceState>, function: &str, ptr: i32, len: i32) -> wasmtime::Result<Result<WireVariant, i32>> {
    let bytes = guest::read_bytes(caller, function, ptr, len)?;
    Ok(WireVariant::decode(&bytes).map_err(|e| caller.data_mut().fail(-3, format!("`{function}` was given a value it cannot decode: {e}"))))
}

/// Writes a reply value to the caller's buffer (full length returned).
pub(crate) fn reply_value(caller: &mut Caller<'_, InstanceState>, function: &str, out_ptr: i32, out_cap: i32, reply: ObjectReply) -> wasmtime::Result<i32> {
    match reply {
        ObjectReply::Int(i) => Ok(i),
        ObjectReply::Value(v) => guest::write_out(caller, function, out_ptr, out_cap, &v.encode()),
    }
}
