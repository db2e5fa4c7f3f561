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
    GetNode {
        from: i32,
        path: String,
    },
    Singleton {
        name: String,
    },
    Release {
        handle: i32,
    },
    Get {
        handle: i32,
        name: String,
    },
    Set {
        handle: i32,
        name: String,
        value: WireVariant,
    },
    Call {
        handle: i32,
        method: String,
        args: Vec<WireVariant>,
    },
    Connect {
        handle: i32,
        signal: String,
        callback_id: i32,
    },
    /// The arguments of the signal whose `native_callback` runs now.
    CallbackArgs,
    /// `mod_event(name, payload)` on the mod's node.
    Emit {
        name: String,
        payload: WireVariant,
    },
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
    /// The mod passed something malformed (e.g. a name that is not UTF-8): it traps with this
    /// message.
    Trap(String),
}

impl ObjectError {
    pub fn failed(code: i32, message: impl Into<String>) -> ObjectError {
        ObjectError::Failed {
            code,
            message: message.into(),
        }
    }
}

/// The game side of the object functions; implemented by the Godot glue. `run` is only ever
/// called on the main thread.
pub trait ObjectHost: Send + Sync {
    fn run(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError>;

    /// `ObjectOp::Set` without owned arguments: the hot path of `set` and the typed fast paths,
    /// used when the mod calls from the main thread. `name` is the mod's bytes, not yet checked
    /// to be UTF-8 (a host that caches names compares bytes and checks only new ones).
    fn set_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
        value: &WireVariant,
    ) -> Result<(), ObjectError> {
        let name = utf8_name(name)?;
        self.run(
            key,
            level,
            ObjectOp::Set {
                handle,
                name: name.into(),
                value: value.clone(),
            },
        )
        .map(|_| ())
    }

    /// `ObjectOp::Get` without owned arguments (see [`ObjectHost::set_property`]).
    fn get_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<WireVariant, ObjectError> {
        let name = utf8_name(name)?;
        match self.run(
            key,
            level,
            ObjectOp::Get {
                handle,
                name: name.into(),
            },
        )? {
            ObjectReply::Value(v) => Ok(v),
            ObjectReply::Int(i) => Ok(WireVariant::Int(i as i64)),
        }
    }
}

/// A member name as text, or the trap for one that is not UTF-8.
pub fn utf8_name(name: &[u8]) -> Result<&str, ObjectError> {
    std::str::from_utf8(name).map_err(|e| {
        ObjectError::Trap(format!(
            "a property name is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

/// Runs `op` for the calling instance and turns failures into codes or traps.
pub(crate) fn run(
    caller: &mut Caller<'_, InstanceState>,
    op: ObjectOp,
) -> wasmtime::Result<Result<ObjectReply, i32>> {
    let state = caller.data();
    let runtime = state.runtime.clone();
    let Some(host) = runtime.object_host() else {
        return Ok(Err(caller.data_mut().fail(
            -5,
            "no game is attached to this WasGo runtime, so there are no objects to reach",
        )));
    };
    let (key, level, kill) = (state.key, state.level, state.kill.clone());
    let host = host.clone();
    let outcome = runtime
        .bridge()
        .run(&kill, move || host.run(key, level, op))
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    match outcome {
        Ok(reply) => Ok(Ok(reply)),
        Err(e) => Ok(Err(settle(caller, Err(e))?)),
    }
}

/// Decodes a value a mod passed, or records -3 for `last_error`.
pub(crate) fn decode(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Result<WireVariant, i32>> {
    let bytes = guest::read_bytes(caller, function, ptr, len)?;
    Ok(WireVariant::decode(&bytes).map_err(|e| {
        caller.data_mut().fail(
            -3,
            format!("`{function}` was given a value it cannot decode: {e}"),
        )
    }))
}

/// Writes a reply value to the caller's buffer (full length returned).
pub(crate) fn reply_value(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    out_ptr: i32,
    out_cap: i32,
    reply: ObjectReply,
) -> wasmtime::Result<i32> {
    match reply {
        ObjectReply::Int(i) => Ok(i),
        ObjectReply::Value(v) => guest::write_out(caller, function, out_ptr, out_cap, &v.encode()),
    }
}

/// Sets a property for the calling instance. On the main thread the name is read in place
/// and the host is called directly (no allocation, no queue); from `main` it goes through
/// [`run`] and the bridge.
pub(crate) fn set_property(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
    value: WireVariant,
) -> wasmtime::Result<i32> {
    if let Some(memory) = main_thread_memory(caller, function)? {
        let outcome = {
            let state = caller.data();
            let host = state
                .runtime
                .object_host()
                .expect("checked by main_thread_memory");
            let name = guest::bytes_in(&memory, &*caller, function, np, nl)?;
            host.set_property(state.key, state.level, handle, name, &value)
        };
        return settle(caller, outcome.map(|()| ObjectReply::Int(0)));
    }
    let name = guest::read_str(caller, function, np, nl)?;
    Ok(
        match run(
            caller,
            ObjectOp::Set {
                handle,
                name,
                value,
            },
        )? {
            Ok(_) => 0,
            Err(code) => code,
        },
    )
}

/// Reads a property for the calling instance (see [`set_property`]).
pub(crate) fn get_property(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
) -> wasmtime::Result<Result<WireVariant, i32>> {
    if let Some(memory) = main_thread_memory(caller, function)? {
        let outcome = {
            let state = caller.data();
            let host = state
                .runtime
                .object_host()
                .expect("checked by main_thread_memory");
            let name = guest::bytes_in(&memory, &*caller, function, np, nl)?;
            host.get_property(state.key, state.level, handle, name)
        };
        return Ok(match outcome {
            Ok(v) => Ok(v),
            Err(e) => Err(settle(caller, Err(e))?),
        });
    }
    let name = guest::read_str(caller, function, np, nl)?;
    Ok(match run(caller, ObjectOp::Get { handle, name })? {
        Ok(ObjectReply::Value(v)) => Ok(v),
        Ok(ObjectReply::Int(i)) => Ok(WireVariant::Int(i as i64)),
        Err(code) => Err(code),
    })
}

/// The mod's memory when the direct path applies: on the main thread, with an object host.
fn main_thread_memory(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
) -> wasmtime::Result<Option<wasmtime::Memory>> {
    let state = caller.data();
    if !state.on_main_thread || state.runtime.object_host().is_none() {
        return Ok(None);
    }
    guest::memory(caller, function).map(Some)
}

/// Turns a host outcome into the mod's return value, a recorded error, or a trap.
fn settle(
    caller: &mut Caller<'_, InstanceState>,
    outcome: Result<ObjectReply, ObjectError>,
) -> wasmtime::Result<i32> {
    let level = caller.data().level;
    match outcome {
        Ok(ObjectReply::Int(i)) => Ok(i),
        Ok(ObjectReply::Value(_)) => Ok(0),
        Err(ObjectError::Failed { code, message }) => {
            Ok(caller.data_mut().fail(code.min(-1), message))
        }
        Err(ObjectError::Trap(message)) => {
            Err(HostTrap::new(TrapKind::HostCall, message).into_error())
        }
        Err(ObjectError::Denied { member }) => {
            caller.data().emit(ModEvent::UnexposedCall {
                function: member.clone(),
                level,
            });
            Err(denied_trap(&member, level))
        }
    }
}

fn denied_trap(member: &str, level: SafetyLevel) -> wasmtime::Error {
    HostTrap::new(
        TrapKind::Unexposed { function: member.to_string(), level },
        format!("call to `{member}`, which is not exposed at safety level {level} (it is not in the WasGo allowlist; the game can extend `addons/wasgo/allowlist.cfg`)"),
    )
    .into_error()
}
