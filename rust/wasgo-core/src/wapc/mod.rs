//! The host of waPC (WebAssembly Procedure Calls) guests.
//!
//! waPC is a request/response protocol: the host invokes an operation by name with a byte
//! payload ([`ModInstance::invoke`]), the guest answers with bytes or an error, and while it runs
//! it may call the host with (binding, namespace, operation, payload). The guest's side of the
//! protocol is the `wapc` import module ([`IMPORTS`]); this file implements it:
//!
//! 1. `invoke(op, payload)` keeps the request in [`WapcState`] and calls the export
//!    `__guest_call(op_len, payload_len)`; the guest fetches the request with
//!    `__guest_request(op_ptr, payload_ptr)` and answers with `__guest_response(ptr, len)` or
//!    `__guest_error(ptr, len)`; `__guest_call` returns 1 on success, 0 on error (read as the
//!    reference hosts read it: a sent error fails the call, any other result than 0 succeeds).
//! 2. `__host_call(binding, namespace, operation, payload)` runs a host operation and returns 1
//!    (its result is then read with `__host_response_len` / `__host_response`) or 0 (the error
//!    with `__host_error_len` / `__host_error`).
//!
//! 3. The guest is set up when its instance is made (`ModInstance::set_up`), as the reference
//!    hosts do it: `_start` if exported (TinyGo's `main`; its closing `proc_exit(0)` ends the
//!    set-up only), then `wapc_init`. It has no `main` on the worker.
//!
//! Host operations are the game's handlers, registered per (binding, namespace, operation) with
//! a safety level in [`WapcHandlers`] (in [`Hosts`](crate::hosts::Hosts), next to the game
//! functions), and the built-in `wasgo` binding ([`builtin`]) that maps onto the same object
//! operations a `wasgo` mod has. An operation that is not registered, or registered above the
//! instance's level, answers a host error naming the operation and the level and sends
//! `UnexposedCall` (it does not trap: waPC guests expect errors as values).
//!
//! Nothing the guest sends makes the host allocate without bound: every payload, response and
//! name is checked against [`MAX_PAYLOAD`] / [`MAX_NAME`] before the host reads it, and a
//! handler's oversized reply becomes a host error.

pub mod builtin;

pub use crate::wapc_handlers::{WapcEntry, WapcHandler, WapcHandlers, WapcOperation};

use crate::error::{HostTrap, TrapKind, WasgoError};
use crate::events::OutputSource;
use crate::guest;
use crate::guest_kind::{GuestKind, GuestOutput};
use crate::hostfns::guarded;
use crate::state::InstanceState;
use wasmtime::{Caller, Instance, Linker, Store};

pub use crate::guest_kind::WAPC_MODULE;

/// Largest payload, response or error either side may pass (1 MiB).
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Longest operation, binding or namespace name.
pub const MAX_NAME: usize = 1024;

/// The waPC state of one instance (in [`InstanceState`]'s guest state).
pub struct WapcState {
    /// The invocation running now: (operation, payload).
    request: Option<(Vec<u8>, Vec<u8>)>,
    response: Option<Vec<u8>>,
    error: Option<Vec<u8>>,
    host_response: Vec<u8>,
    host_error: Vec<u8>,
    console: GuestOutput,
}

impl WapcState {
    pub(crate) fn new(console: GuestOutput) -> WapcState {
        WapcState {
            request: None,
            response: None,
            error: None,
            host_response: Vec::new(),
            host_error: Vec::new(),
            console,
        }
    }
}

/// Why [`ModInstance::invoke`] gave no result.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The payload is over [`MAX_PAYLOAD`]; nothing was called.
    #[error("the payload of `{operation}` is {len} bytes, over the waPC limit of {limit} bytes; send less per call")]
    PayloadTooLarge {
        operation: String,
        len: usize,
        limit: usize,
    },
    /// The operation's name is over [`MAX_NAME`]; nothing was called.
    #[error("the waPC operation name `{operation}...` is {len} bytes, over the limit of {limit} bytes; use a shorter name")]
    NameTooLong {
        operation: String,
        len: usize,
        limit: usize,
    },
    /// The guest answered with `__guest_error` (or returned failure without a message).
    #[error("the waPC guest failed `{operation}`: {message}")]
    Guest { operation: String, message: String },
    /// The call could not run or ended the instance (busy, ended, trapped, killed, not waPC).
    #[error(transparent)]
    Failed(#[from] WasgoError),
}

/// The guest state of a new instance of a `kind` module: a [`WapcState`] for waPC guests.
pub(crate) fn new_guest_state(
    kind: GuestKind,
    output: GuestOutput,
) -> Option<Box<dyn std::any::Any + Send>> {
    (kind == GuestKind::Wapc)
        .then(|| Box::new(WapcState::new(output)) as Box<dyn std::any::Any + Send>)
}

fn state_mut(s: &mut InstanceState) -> Option<&mut WapcState> {
    s.guest.as_mut().and_then(|g| g.downcast_mut::<WapcState>())
}

fn wapc<'a>(caller: &'a mut Caller<'_, InstanceState>) -> wasmtime::Result<&'a mut WapcState> {
    state_mut(caller.data_mut()).ok_or_else(|| {
        HostTrap::new(
            TrapKind::HostCall,
            "a `wapc` import was called by a mod that is not a waPC guest",
        )
        .into_error()
    })
}

fn too_large(function: &str, len: i32, limit: usize) -> wasmtime::Error {
    HostTrap::new(
        TrapKind::HostCall,
        format!(
            "`{function}` was given {} bytes, over the waPC limit of {limit} bytes",
            len as u32
        ),
    )
    .into_error()
}

/// Reads one of `__host_call`'s names (`what`: binding, namespace, operation): a name over
/// [`MAX_NAME`] bytes is the call's host error (the mod lives on), as an oversized payload is.
fn name_arg(
    caller: &mut Caller<'_, InstanceState>,
    what: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Result<Vec<u8>, String>> {
    if len as u32 as usize > MAX_NAME {
        return Ok(Err(format!(
            "the {what} is {} bytes, over the waPC limit of {MAX_NAME} bytes for a name",
            len as u32
        )));
    }
    Ok(Ok(guest::read_bytes(caller, "wapc.__host_call", ptr, len)?))
}

/// Reads a guest buffer of at most `limit` bytes.
fn read_limited(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
    limit: usize,
) -> wasmtime::Result<Vec<u8>> {
    if len as u32 as usize > limit {
        return Err(too_large(function, len, limit));
    }
    guest::read_bytes(caller, function, ptr, len)
}

fn write(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let memory = guest::memory(caller, function)?;
    guest::write_bytes(&memory, caller, function, ptr, bytes)
}

/// Adds the `wapc` imports to `linker`.
pub(crate) fn link(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    const M: &str = WAPC_MODULE;
    linker.func_wrap(
        M,
        "__guest_request",
        |mut c: Caller<'_, InstanceState>, op_ptr: i32, payload_ptr: i32| {
            guarded("wapc.__guest_request", || {
                // Outside an invocation (from `_start` or `wapc_init`) there is no request:
                // nothing is written, as wapc-rs and wapc-go do.
                let Some((op, payload)) = wapc(&mut c)?.request.clone() else {
                    return Ok(());
                };
                write(&mut c, "wapc.__guest_request", op_ptr, &op)?;
                write(&mut c, "wapc.__guest_request", payload_ptr, &payload)
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__guest_response",
        |mut c: Caller<'_, InstanceState>, ptr: i32, len: i32| {
            guarded("wapc.__guest_response", || {
                let bytes = read_limited(&mut c, "wapc.__guest_response", ptr, len, MAX_PAYLOAD)?;
                wapc(&mut c)?.response = Some(bytes);
                Ok(())
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__guest_error",
        |mut c: Caller<'_, InstanceState>, ptr: i32, len: i32| {
            guarded("wapc.__guest_error", || {
                let bytes = read_limited(&mut c, "wapc.__guest_error", ptr, len, MAX_PAYLOAD)?;
                wapc(&mut c)?.error = Some(bytes);
                Ok(())
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__host_call",
        |mut c: Caller<'_, InstanceState>,
         bp: i32,
         bl: i32,
         np: i32,
         nl: i32,
         op: i32,
         ol: i32,
         pp: i32,
         pl: i32| {
            // A killed mod's next host call does nothing (the game may kill it from the
            // handler of its last one).
            crate::hostfns::stop_if_killed(&c)?;
            guarded("wapc.__host_call", || {
                const F: &str = "wapc.__host_call";
                let binding = name_arg(&mut c, "binding", bp, bl)?;
                let namespace = name_arg(&mut c, "namespace", np, nl)?;
                let operation = name_arg(&mut c, "operation", op, ol)?;
                let (binding, namespace, operation) = match (binding, namespace, operation) {
                    (Ok(b), Ok(n), Ok(o)) => (b, n, o),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        let state = wapc(&mut c)?;
                        state.host_error = format!("`{F}`: {e}").into_bytes();
                        state.host_response.clear();
                        return Ok(0);
                    }
                };
                let payload = if pl as u32 as usize > MAX_PAYLOAD {
                    Err(format!(
                        "the payload is {} bytes, over the waPC limit of {MAX_PAYLOAD} bytes",
                        pl as u32
                    ))
                } else {
                    Ok(guest::read_bytes(&mut c, F, pp, pl)?)
                };
                let op = WapcOperation {
                    binding: String::from_utf8_lossy(&binding).into_owned(),
                    namespace: String::from_utf8_lossy(&namespace).into_owned(),
                    operation: String::from_utf8_lossy(&operation).into_owned(),
                };
                let outcome = match payload {
                    Ok(payload) => host_call(&mut c, &op, payload)?,
                    Err(e) => Err(format!("`{op}`: {e}")),
                };
                let state = wapc(&mut c)?;
                Ok(match outcome {
                    Ok(reply) => {
                        state.host_response = reply;
                        state.host_error.clear();
                        1
                    }
                    Err(message) => {
                        state.host_error = message.into_bytes();
                        state.host_response.clear();
                        0
                    }
                })
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__host_response_len",
        |mut c: Caller<'_, InstanceState>| {
            guarded("wapc.__host_response_len", || {
                Ok(wapc(&mut c)?.host_response.len() as i32)
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__host_response",
        |mut c: Caller<'_, InstanceState>, ptr: i32| {
            guarded("wapc.__host_response", || {
                let bytes = std::mem::take(&mut wapc(&mut c)?.host_response);
                let r = write(&mut c, "wapc.__host_response", ptr, &bytes);
                wapc(&mut c)?.host_response = bytes;
                r
            })
        },
    )?;
    linker.func_wrap(M, "__host_error_len", |mut c: Caller<'_, InstanceState>| {
        guarded("wapc.__host_error_len", || {
            Ok(wapc(&mut c)?.host_error.len() as i32)
        })
    })?;
    linker.func_wrap(
        M,
        "__host_error",
        |mut c: Caller<'_, InstanceState>, ptr: i32| {
            guarded("wapc.__host_error", || {
                let bytes = std::mem::take(&mut wapc(&mut c)?.host_error);
                let r = write(&mut c, "wapc.__host_error", ptr, &bytes);
                wapc(&mut c)?.host_error = bytes;
                r
            })
        },
    )?;
    linker.func_wrap(
        M,
        "__console_log",
        |mut c: Caller<'_, InstanceState>, ptr: i32, len: i32| {
            guarded("wapc.__console_log", || {
                // Nothing a killed guest logs reaches the game (as for `wasgo.log`).
                crate::hostfns::stop_if_killed(&c)?;
                let mut bytes = read_limited(&mut c, "wapc.__console_log", ptr, len, MAX_PAYLOAD)?;
                bytes.push(b'\n');
                (wapc(&mut c)?.console)(OutputSource::Stdout, Some(&bytes));
                Ok(())
            })
        },
    )?;
    Ok(())
}

/// Runs host operation `op`: the built-in `wasgo` binding or a game handler, on the main thread.
/// `Ok(Err(message))` is a waPC host error, as is a reply over [`MAX_PAYLOAD`] (a file the
/// built-in binding reads, an answer of the game's).
fn host_call(
    caller: &mut Caller<'_, InstanceState>,
    op: &WapcOperation,
    payload: Vec<u8>,
) -> wasmtime::Result<Result<Vec<u8>, String>> {
    Ok(match host_reply(caller, op, payload)? {
        Ok(reply) if reply.len() > MAX_PAYLOAD => Err(format!(
            "the reply of `{op}` is {} bytes, over the waPC limit of {MAX_PAYLOAD} bytes",
            reply.len()
        )),
        // So is an error, as the README says of every direction (a game handler's error text
        // reached the guest whatever its size).
        Err(error) if error.len() > MAX_PAYLOAD => Err(format!(
            "the error of `{op}` is {} bytes, over the waPC limit of {MAX_PAYLOAD} bytes",
            error.len()
        )),
        other => other,
    })
}

fn host_reply(
    caller: &mut Caller<'_, InstanceState>,
    op: &WapcOperation,
    payload: Vec<u8>,
) -> wasmtime::Result<Result<Vec<u8>, String>> {
    let state = caller.data();
    let level = state.level;
    if op.binding == builtin::BINDING {
        return builtin::call(caller, op, &payload);
    }
    let Some(entry) = state.hosts.wapc.get(op) else {
        caller.data_mut().report_unexposed(op.to_string(), level);
        return Ok(Err(format!(
            "the waPC operation `{op}` is not registered by the game (safety level {level})"
        )));
    };
    if entry.level > level {
        caller.data_mut().report_unexposed(op.to_string(), level);
        return Ok(Err(format!(
            "the waPC operation `{op}` needs safety level {}, and this mod runs at safety level {level}",
            entry.level
        )));
    }
    let key = state.key;
    let handler = entry.handler.clone();
    let op_owned = op.clone();
    crate::object_calls::on_main_thread(caller.data_mut(), move || {
        handler.call(key, &op_owned, payload)
    })
}

/// What one `__guest_call` left: its result (0 error, any other value success, as in
/// wapc-rs), the guest's response and the guest's error.
pub(crate) type Invocation = (i32, Option<Vec<u8>>, Option<Vec<u8>>);

/// Runs one invocation in `store`: sets the request, calls `__guest_call(op_len, payload_len)`
/// and returns (its result, the guest's response, the guest's error).
pub(crate) fn invoke_in(
    store: &mut Store<InstanceState>,
    instance: Instance,
    op: Vec<u8>,
    data: Vec<u8>,
) -> wasmtime::Result<Invocation> {
    let guest_call = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "__guest_call")?;
    let (ol, pl) = (op.len() as i32, data.len() as i32);
    let state = state_mut(store.data_mut()).ok_or_else(|| {
        HostTrap::new(TrapKind::HostCall, "the mod has no waPC state").into_error()
    })?;
    state.request = Some((op, data));
    state.response = None;
    state.error = None;
    // Each invocation starts with no host reply (as in wapc-rs and wapc-go): a guest reading
    // `__host_response_len` before its first host call reads 0, not the last invocation's.
    state.host_response = Vec::new();
    state.host_error = Vec::new();
    let ok = guest_call.call(&mut *store, (ol, pl))?;
    let state = state_mut(store.data_mut()).expect("checked above");
    state.request = None;
    Ok((ok, state.response.take(), state.error.take()))
}
