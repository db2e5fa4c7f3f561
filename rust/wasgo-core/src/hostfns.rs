//! The implemented `wasgo` functions.
//!
//! [`define`] links one catalog function by name; the linker calls it for every
//! [`Availability::Ready`](crate::catalog::Availability::Ready) entry at or below the instance's
//! level. A unit test checks each definition against the catalog's signature, so the catalog
//! stays the single source of truth.

use crate::catalog::WASGO_MODULE;
use crate::error::HostTrap;
use crate::error::TrapKind;
use crate::events::{ModEvent, OutputSource};
use crate::guest;
use crate::object_calls as objects;
use crate::objects::{ObjectOp, ObjectReply};
use crate::permissions::Permission;
use crate::sandbox::{Sandbox, SandboxError};
use crate::state::InstanceState;
use crate::variant::WireVariant;
use std::panic::{catch_unwind, AssertUnwindSafe};
use wasmtime::{Caller, Linker};

/// Runs a host function body; a panic in it becomes a trap of the calling mod, never an unwind
/// into wasm or Godot.
pub(crate) fn guarded<R>(
    function: &str,
    body: impl FnOnce() -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
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
                    c.data().events.output(
                        OutputSource::Log(level),
                        line.trim_end_matches('\r').to_string(),
                    );
                }
                Ok(())
            })
        })?,
        "abort" => linker.func_wrap(
            M,
            "abort",
            |mut c: C<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
                guarded("wasgo.abort", || {
                    let text = guest::read_str(&mut c, "wasgo.abort", ptr, len)?;
                    Err(HostTrap::new(
                        TrapKind::Abort,
                        format!("`{}` aborted: {text}", c.data().name),
                    )
                    .into_error())
                })
            },
        )?,
        "last_error" => linker.func_wrap(
            M,
            "last_error",
            |mut c: C<'_>, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.last_error", || {
                    let message = c.data().last_error.clone();
                    guest::write_out(
                        &mut c,
                        "wasgo.last_error",
                        out_ptr,
                        out_cap,
                        message.as_bytes(),
                    )
                })
            },
        )?,
        "safety_level" => {
            linker.func_wrap(M, "safety_level", |c: C<'_>| c.data().level.number())?
        }
        "has_function" => linker.func_wrap(
            M,
            "has_function",
            |mut c: C<'_>, mp: i32, ml: i32, np: i32, nl: i32| {
                guarded("wasgo.has_function", || {
                    let module = guest::read_str(&mut c, "wasgo.has_function", mp, ml)?;
                    let name = guest::read_str(&mut c, "wasgo.has_function", np, nl)?;
                    let state = c.data();
                    let exposed = state
                        .hosts
                        .lowest_level(&module, &name)
                        .is_some_and(|l| l <= state.level);
                    Ok(exposed as i32)
                })
            },
        )?,
        "file_write" => linker.func_wrap(
            M,
            "file_write",
            |mut c: C<'_>, pp: i32, pl: i32, dp: i32, dl: i32| {
                guarded("wasgo.file_write", || {
                    let path = guest::read_str(&mut c, "wasgo.file_write", pp, pl)?;
                    let data = guest::read_bytes(&mut c, "wasgo.file_write", dp, dl)?;
                    Ok(with_sandbox(c.data_mut(), |sb| sb.write(&path, &data))
                        .map_or_else(|code| code, |()| 0))
                })
            },
        )?,
        "file_read" => linker.func_wrap(
            M,
            "file_read",
            |mut c: C<'_>, pp: i32, pl: i32, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.file_read", || {
                    let path = guest::read_str(&mut c, "wasgo.file_read", pp, pl)?;
                    match with_sandbox(c.data_mut(), |sb| sb.read(&path)) {
                        Ok(bytes) => {
                            guest::write_out(&mut c, "wasgo.file_read", out_ptr, out_cap, &bytes)
                        }
                        Err(code) => Ok(code),
                    }
                })
            },
        )?,
        "file_list" => linker.func_wrap(
            M,
            "file_list",
            |mut c: C<'_>, pp: i32, pl: i32, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.file_list", || {
                    let path = guest::read_str(&mut c, "wasgo.file_list", pp, pl)?;
                    match with_sandbox(c.data_mut(), |sb| sb.list(&path)) {
                        Ok(text) => guest::write_out(
                            &mut c,
                            "wasgo.file_list",
                            out_ptr,
                            out_cap,
                            text.as_bytes(),
                        ),
                        Err(code) => Ok(code),
                    }
                })
            },
        )?,
        "file_delete" => linker.func_wrap(M, "file_delete", |mut c: C<'_>, pp: i32, pl: i32| {
            guarded("wasgo.file_delete", || {
                let path = guest::read_str(&mut c, "wasgo.file_delete", pp, pl)?;
                Ok(with_sandbox(c.data_mut(), |sb| sb.delete(&path))
                    .map_or_else(|code| code, |()| 0))
            })
        })?,
        "http_request" => linker.func_wrap(
            M,
            "http_request",
            |mut c: C<'_>, up: i32, ul: i32, mp: i32, ml: i32, bp: i32, bl: i32| {
                guarded("wasgo.http_request", || {
                    crate::http_calls::request(&mut c, up, ul, mp, ml, bp, bl)
                })
            },
        )?,
        "http_body" => linker.func_wrap(
            M,
            "http_body",
            |mut c: C<'_>, id: i32, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.http_body", || {
                    crate::http_calls::body(&mut c, id, out_ptr, out_cap)
                })
            },
        )?,
        "request_permission" => {
            linker.func_wrap(M, "request_permission", |mut c: C<'_>, kp: i32, kl: i32| {
                guarded("wasgo.request_permission", || {
                    let kind = guest::read_str(&mut c, "wasgo.request_permission", kp, kl)?;
                    let state = c.data_mut();
                    let Some(kind) = Permission::parse(&kind) else {
                        return Ok(state.fail(
                            -3,
                            format!(
                                "`{kind}` is not a permission kind; use one of [{}]",
                                Permission::names()
                            ),
                        ));
                    };
                    if state.permissions.has(kind) {
                        return Ok(1);
                    }
                    // One request per kind waits for delivery at a time: a mod asking in a loop
                    // cannot flood the game's event queue.
                    if state.permissions.ask(kind) {
                        let detail = format!("`{}` asks for the `{kind}` permission", state.name);
                        state.emit(ModEvent::PermissionRequested { kind, detail });
                    }
                    Ok(0)
                })
            })?
        }
        "self" => linker.func_wrap(M, "self", |mut c: C<'_>| {
            guarded("wasgo.self", || {
                int_reply(objects::run(&mut c, ObjectOp::SelfNode)?)
            })
        })?,
        "get_node" => linker.func_wrap(
            M,
            "get_node",
            |mut c: C<'_>, from: i32, pp: i32, pl: i32| {
                guarded("wasgo.get_node", || {
                    let path = guest::read_str(&mut c, "wasgo.get_node", pp, pl)?;
                    int_reply(objects::run(&mut c, ObjectOp::GetNode { from, path })?)
                })
            },
        )?,
        "singleton" => linker.func_wrap(M, "singleton", |mut c: C<'_>, np: i32, nl: i32| {
            guarded("wasgo.singleton", || {
                let name = guest::read_str(&mut c, "wasgo.singleton", np, nl)?;
                int_reply(objects::run(&mut c, ObjectOp::Singleton { name })?)
            })
        })?,
        "release" => linker.func_wrap(M, "release", |mut c: C<'_>, handle: i32| {
            guarded("wasgo.release", || {
                objects::run(&mut c, ObjectOp::Release { handle }).map(|_| ())
            })
        })?,
        "get" => linker.func_wrap(
            M,
            "get",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.get", || {
                    match objects::get_property(&mut c, "wasgo.get", handle, np, nl)? {
                        Ok(value) => objects::reply_value(
                            &mut c,
                            "wasgo.get",
                            out_ptr,
                            out_cap,
                            ObjectReply::Value(value),
                        ),
                        Err(code) => Ok(code),
                    }
                })
            },
        )?,
        "set" => linker.func_wrap(
            M,
            "set",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, vp: i32, vl: i32| {
                guarded("wasgo.set", || {
                    let value = match objects::decode(&mut c, "wasgo.set", vp, vl)? {
                        Ok(v) => v,
                        Err(code) => return Ok(code),
                    };
                    objects::set_property(&mut c, "wasgo.set", handle, np, nl, value)
                })
            },
        )?,
        "call" => linker.func_wrap(
            M,
            "call",
            |mut c: C<'_>,
             handle: i32,
             mp: i32,
             ml: i32,
             ap: i32,
             al: i32,
             out_ptr: i32,
             out_cap: i32| {
                guarded("wasgo.call", || {
                    call(&mut c, handle, mp, ml, ap, al, out_ptr, out_cap)
                })
            },
        )?,
        "connect" => linker.func_wrap(
            M,
            "connect",
            |mut c: C<'_>, handle: i32, sp: i32, sl: i32, callback_id: i32| {
                guarded("wasgo.connect", || {
                    let signal = guest::read_str(&mut c, "wasgo.connect", sp, sl)?;
                    int_reply(objects::run(
                        &mut c,
                        ObjectOp::Connect {
                            handle,
                            signal,
                            callback_id,
                        },
                    )?)
                })
            },
        )?,
        "callback_args" => linker.func_wrap(
            M,
            "callback_args",
            |mut c: C<'_>, out_ptr: i32, out_cap: i32| {
                guarded("wasgo.callback_args", || {
                    match objects::run(&mut c, ObjectOp::CallbackArgs)? {
                        Ok(reply) => objects::reply_value(
                            &mut c,
                            "wasgo.callback_args",
                            out_ptr,
                            out_cap,
                            reply,
                        ),
                        Err(code) => Ok(code),
                    }
                })
            },
        )?,
        "emit" => linker.func_wrap(
            M,
            "emit",
            |mut c: C<'_>, np: i32, nl: i32, pp: i32, pl: i32| {
                guarded("wasgo.emit", || {
                    let name = guest::read_str(&mut c, "wasgo.emit", np, nl)?;
                    let payload = match objects::decode(&mut c, "wasgo.emit", pp, pl)? {
                        Ok(v) => v,
                        Err(code) => return Ok(code),
                    };
                    int_reply(objects::run(&mut c, ObjectOp::Emit { name, payload })?)
                })
            },
        )?,
        "get_float" => linker.func_wrap(
            M,
            "get_float",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, out_ptr: i32| {
                guarded("wasgo.get_float", || {
                    fast_get(
                        &mut c,
                        "wasgo.get_float",
                        handle,
                        np,
                        nl,
                        out_ptr,
                        |v| crate::variant::as_f64(v).map(|f| f.to_le_bytes().to_vec()),
                        "a number",
                    )
                })
            },
        )?,
        "set_float" => linker.func_wrap(
            M,
            "set_float",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, value: f64| {
                guarded("wasgo.set_float", || {
                    fast_set(
                        &mut c,
                        "wasgo.set_float",
                        handle,
                        np,
                        nl,
                        WireVariant::Float(value),
                    )
                })
            },
        )?,
        "get_vec2" => linker.func_wrap(
            M,
            "get_vec2",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, out_ptr: i32| {
                guarded("wasgo.get_vec2", || {
                    fast_get(
                        &mut c,
                        "wasgo.get_vec2",
                        handle,
                        np,
                        nl,
                        out_ptr,
                        |v| match v {
                            WireVariant::Vector2(a) => Some(floats(&[a.x, a.y])),
                            _ => None,
                        },
                        "a Vector2",
                    )
                })
            },
        )?,
        "set_vec2" => linker.func_wrap(
            M,
            "set_vec2",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, x: f32, y: f32| {
                guarded("wasgo.set_vec2", || {
                    fast_set(
                        &mut c,
                        "wasgo.set_vec2",
                        handle,
                        np,
                        nl,
                        WireVariant::Vector2(crate::variant::Vector2::new(x, y)),
                    )
                })
            },
        )?,
        "get_vec3" => linker.func_wrap(
            M,
            "get_vec3",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, out_ptr: i32| {
                guarded("wasgo.get_vec3", || {
                    fast_get(
                        &mut c,
                        "wasgo.get_vec3",
                        handle,
                        np,
                        nl,
                        out_ptr,
                        |v| match v {
                            WireVariant::Vector3(a) => Some(floats(&[a.x, a.y, a.z])),
                            _ => None,
                        },
                        "a Vector3",
                    )
                })
            },
        )?,
        "set_vec3" => linker.func_wrap(
            M,
            "set_vec3",
            |mut c: C<'_>, handle: i32, np: i32, nl: i32, x: f32, y: f32, z: f32| {
                guarded("wasgo.set_vec3", || {
                    fast_set(
                        &mut c,
                        "wasgo.set_vec3",
                        handle,
                        np,
                        nl,
                        WireVariant::Vector3(crate::variant::Vector3::new(x, y, z)),
                    )
                })
            },
        )?,
        "call_float" => linker.func_wrap(
            M,
            "call_float",
            |mut c: C<'_>, handle: i32, mp: i32, ml: i32, ap: i32, argc: i32, out_ptr: i32| {
                guarded("wasgo.call_float", || {
                    const F: &str = "wasgo.call_float";
                    let method = guest::read_str(&mut c, F, mp, ml)?;
                    if !(0..=16).contains(&argc) {
                        return Ok(c
                            .data_mut()
                            .fail(-3, format!("`{F}` takes 0 to 16 arguments, not {argc}")));
                    }
                    let raw = guest::read_bytes(&mut c, F, ap, argc * 8)?;
                    let args = raw
                        .chunks_exact(8)
                        .map(|b| WireVariant::Float(f64::from_le_bytes(b.try_into().unwrap())))
                        .collect();
                    let value = match objects::run(
                        &mut c,
                        ObjectOp::Call {
                            handle,
                            method,
                            args,
                        },
                    )? {
                        Ok(ObjectReply::Value(v)) => v,
                        Ok(ObjectReply::Int(i)) => WireVariant::Int(i as i64),
                        Err(code) => return Ok(code),
                    };
                    if out_ptr != 0 {
                        let n = crate::variant::as_f64(&value).unwrap_or(0.0);
                        let memory = guest::memory(&mut c, F)?;
                        guest::write_bytes(&memory, &mut c, F, out_ptr, &n.to_le_bytes())?;
                    }
                    Ok(0)
                })
            },
        )?,
        _ => return Ok(false),
    };
    Ok(true)
}

/// Runs a sandbox operation behind the `files` permission; a failure becomes its negative ABI
/// code with the message kept for `wasgo.last_error`.
fn with_sandbox<T>(
    state: &mut InstanceState,
    op: impl FnOnce(&Sandbox) -> Result<T, SandboxError>,
) -> Result<T, i32> {
    if !state.permissions.has(Permission::Files) {
        let message = format!(
            "`{}` has not been granted the `files` permission; call `wasgo.request_permission(\"files\")` and try again once the game grants it",
            state.name
        );
        return Err(state.fail(-6, message));
    }
    let Some(sandbox) = state.sandbox.as_ref() else {
        return Err(state.fail(
            -5,
            "this mod has no sandbox directory (the game did not configure one)",
        ));
    };
    op(sandbox).map_err(|e| {
        let code = e.code();
        state.fail(code, e.message().to_string())
    })
}

/// An object reply that is a number (a handle or 0), or the failure's code.
fn int_reply(outcome: Result<ObjectReply, i32>) -> wasmtime::Result<i32> {
    Ok(match outcome {
        Ok(ObjectReply::Int(i)) => i,
        Ok(ObjectReply::Value(_)) => 0,
        Err(code) => code,
    })
}

fn floats(a: &[f32]) -> Vec<u8> {
    a.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A typed property read: the value's bytes go to `out_ptr`, a value of another type is -3.
#[allow(clippy::too_many_arguments)]
fn fast_get(
    c: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
    out_ptr: i32,
    bytes_of: impl FnOnce(&WireVariant) -> Option<Vec<u8>>,
    expected: &str,
) -> wasmtime::Result<i32> {
    let value = match objects::get_property(c, function, handle, np, nl)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let Some(bytes) = bytes_of(&value) else {
        let name = guest::read_str(c, function, np, nl)?;
        return Ok(c.data_mut().fail(
            -3,
            format!("`{function}`: property `{name}` is not {expected}"),
        ));
    };
    let memory = guest::memory(c, function)?;
    guest::write_bytes(&memory, &mut *c, function, out_ptr, &bytes)?;
    Ok(0)
}

fn fast_set(
    c: &mut Caller<'_, InstanceState>,
    function: &str,
    handle: i32,
    np: i32,
    nl: i32,
    value: WireVariant,
) -> wasmtime::Result<i32> {
    objects::set_property(c, function, handle, np, nl, value)
}

/// `wasgo.call`: a result too large for the buffer is kept, so the mod's retry with a larger
/// buffer gets it without calling the method a second time.
#[allow(clippy::too_many_arguments)]
fn call(
    c: &mut Caller<'_, InstanceState>,
    handle: i32,
    mp: i32,
    ml: i32,
    ap: i32,
    al: i32,
    out_ptr: i32,
    out_cap: i32,
) -> wasmtime::Result<i32> {
    const F: &str = "wasgo.call";
    let method = guest::read_str(c, F, mp, ml)?;
    let arg_bytes = guest::read_bytes(c, F, ap, al)?;
    let mut request = handle.to_le_bytes().to_vec();
    request.extend_from_slice(method.as_bytes());
    request.push(0);
    request.extend_from_slice(&arg_bytes);
    if let Some((stashed_request, result)) = c.data_mut().stash.take() {
        if stashed_request == request {
            let len = guest::write_out(c, F, out_ptr, out_cap, &result)?;
            if len > out_cap {
                c.data_mut().stash = Some((stashed_request, result));
            }
            return Ok(len);
        }
    }
    let decoded = if arg_bytes.is_empty() {
        Ok(WireVariant::Array(Vec::new()))
    } else {
        WireVariant::decode(&arg_bytes)
    };
    let args = match decoded {
        Ok(WireVariant::Array(items)) => items,
        Ok(WireVariant::Nil) if arg_bytes.len() == 4 => Vec::new(),
        Ok(other) => {
            return Ok(c.data_mut().fail(
                -3,
                format!("`{F}` takes its arguments as an encoded Array, not {other:?}"),
            ))
        }
        Err(e) => {
            return Ok(c.data_mut().fail(
                -3,
                format!("`{F}` was given arguments it cannot decode: {e}"),
            ))
        }
    };
    let result = match objects::run(
        c,
        ObjectOp::Call {
            handle,
            method,
            args,
        },
    )? {
        Ok(ObjectReply::Value(v)) => v.encode(),
        Ok(ObjectReply::Int(i)) => WireVariant::Int(i as i64).encode(),
        Err(code) => return Ok(code),
    };
    let len = guest::write_out(c, F, out_ptr, out_cap, &result)?;
    if len > out_cap {
        c.data_mut().stash = Some((request, result));
    }
    Ok(len)
}
