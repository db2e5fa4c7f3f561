//! The built-in `wasgo` waPC binding: the Godot API a `wasgo` mod has, for waPC guests.
//!
//! Payloads and replies are Godot Variants in the wire format the `wasgo` ABI uses
//! ([`WireVariant`], the bytes of Godot's `var_to_bytes`); a request is an `Array`:
//!
//! | namespace | operation | payload (`Array`) | reply |
//! |---|---|---|---|
//! | `node` | `get` | `[path, property]` | the value |
//! | `node` | `set` | `[path, property, value]` | `null` |
//! | `node` | `call` | `[path, method, args...]` | the method's result |
//! | `game` | `emit` | `[name, payload]` | `null` (sends `mod_event(name, payload)`) |
//! | `perm` | `request` | `[kind]` | `true` when granted, else `false` (the game is asked) |
//! | `file` | `write` / `read` / `delete` / `list` | `[path, data]` / `[path]` | `null` / the bytes / `null` / the names |
//!
//! `perm` and `file` are level 2, as `wasgo.request_permission` and `wasgo.file_*`; `file` needs
//! the `files` permission.
//!
//! `path` is relative to the mod's node. The object host applies the allowlist and the safety
//! level exactly as for a `wasgo` mod; a denied member answers a host error and sends
//! `UnexposedCall`.

use super::WapcOperation;
use crate::error::{HostTrap, TrapKind};
use crate::object_calls;
use crate::objects::{ObjectError, ObjectOp, ObjectReply};
use crate::state::InstanceState;
use crate::variant::WireVariant;
use wasgo_catalog::ErrorCode;
use wasmtime::Caller;

/// The name of the built-in binding.
pub const BINDING: &str = "wasgo";

fn text(v: Option<&WireVariant>) -> Option<String> {
    match v? {
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// Runs a `wasgo` binding operation; `Ok(Err(message))` is a host error.
pub(crate) fn call(
    caller: &mut Caller<'_, InstanceState>,
    op: &WapcOperation,
    payload: &[u8],
) -> wasmtime::Result<Result<Vec<u8>, String>> {
    let items = match WireVariant::decode(payload) {
        Ok(WireVariant::Array(items)) => items,
        Ok(_) => {
            return Ok(Err(format!(
                "`{op}` expects an Array payload (Godot's `var_to_bytes`)"
            )))
        }
        Err(e) => return Ok(Err(format!("`{op}` cannot decode its payload: {e}"))),
    };
    let usage = |shape: &str| Ok(Err(format!("`{op}` expects the payload {shape}")));
    let (first, second) = (text(items.first()), text(items.get(1)));
    if let Some(reply) = level_two(caller, op, &items)? {
        return Ok(reply);
    }
    let request = match (op.namespace.as_str(), op.operation.as_str()) {
        ("game", "emit") => match first {
            Some(name) => Request::Direct(ObjectOp::Emit {
                name,
                payload: items.get(1).cloned().unwrap_or(WireVariant::Nil),
            }),
            None => return usage("[name, payload]"),
        },
        ("node", "get") => match (first, second) {
            (Some(path), Some(name)) => {
                Request::OnNode(path, Box::new(move |handle| ObjectOp::Get { handle, name }))
            }
            _ => return usage("[path, property]"),
        },
        ("node", "set") => match (first, second, items.get(2)) {
            (Some(path), Some(name), Some(value)) => {
                let value = value.clone();
                Request::OnNode(
                    path,
                    Box::new(move |handle| ObjectOp::Set {
                        handle,
                        name,
                        value,
                    }),
                )
            }
            _ => return usage("[path, property, value]"),
        },
        ("node", "call") => match (first, second) {
            (Some(path), Some(method)) => {
                let args = items[2..].to_vec();
                Request::OnNode(
                    path,
                    Box::new(move |handle| ObjectOp::Call {
                        handle,
                        method,
                        args,
                    }),
                )
            }
            _ => return usage("[path, method, args...]"),
        },
        _ => {
            let level = caller.data().level;
            caller.data_mut().report_unexposed(op.to_string(), level);
            return Ok(Err(format!("the waPC operation `{op}` does not exist in the built-in `wasgo` binding (safety level {level}); see the README's waPC operation table")));
        }
    };
    let state = caller.data();
    let (key, level) = (state.key, state.level);
    let host = state.hosts.objects.clone();
    let outcome = object_calls::on_main_thread(caller.data_mut(), move || {
        let run = |op| object_calls::run_sized(&*host, key, level, op);
        let reply = match request {
            Request::Direct(op) => run(op),
            Request::OnNode(path, make) => {
                let handle = match run(ObjectOp::GetNode { from: 0, path })? {
                    ObjectReply::Int(h) if h > 0 => h,
                    _ => {
                        return Err(ObjectError::failed(
                            ErrorCode::NotFound.code(),
                            "no node at that path",
                        ))
                    }
                };
                let reply = run(make(handle));
                let _ = run(ObjectOp::Release { handle });
                reply
            }
        };
        // A waPC guest names nodes by path and cannot use or release a handle: the objects in
        // a reply (a tween `create_tween` made, a texture `get` read) are let go of at once
        // (they are null to the guest). Kept, each pinned its object for the guest's life.
        let mut reply = reply;
        if let Ok(ObjectReply::Value(value)) = &mut reply {
            let mut handles = Vec::new();
            take_handles(value, &mut handles);
            for handle in handles {
                let _ = run(ObjectOp::Release { handle });
            }
        }
        reply
    })?;
    Ok(match outcome {
        Ok(ObjectReply::Value(v)) => Ok(v.encode()),
        Ok(ObjectReply::Int(_)) => Ok(WireVariant::Nil.encode()),
        Err(ObjectError::Failed { message, .. }) => Err(format!("`{op}` failed: {message}")),
        Err(ObjectError::Denied { member }) => {
            caller.data_mut().report_unexposed(member.clone(), level);
            Err(format!(
                "`{op}`: `{member}` is not exposed at safety level {level}"
            ))
        }
        Err(ObjectError::Trap(message)) => {
            return Err(HostTrap::new(TrapKind::HostCall, message).into_error())
        }
    })
}

/// What to run on the main thread.
enum Request {
    Direct(ObjectOp),
    /// An operation on the node at a path (found first, released after).
    OnNode(String, Box<dyn FnOnce(i32) -> ObjectOp + Send>),
}

/// The level-2 operations (`perm/request`, `file/*`): `None` for another operation.
fn level_two(
    caller: &mut Caller<'_, InstanceState>,
    op: &WapcOperation,
    items: &[WireVariant],
) -> wasmtime::Result<Option<Result<Vec<u8>, String>>> {
    let twin = match (op.namespace.as_str(), op.operation.as_str()) {
        ("perm", "request") => "request_permission",
        ("file", "write") => "file_write",
        ("file", "read") => "file_read",
        ("file", "delete") => "file_delete",
        ("file", "list") => "file_list",
        _ => return Ok(None),
    };
    let state = caller.data_mut();
    let level = state.level;
    if crate::catalog::wasgo_function(twin).is_none_or(|c| c.level > level) {
        state.report_unexposed(op.to_string(), level);
        return Ok(Some(Err(format!(
            "`{op}` is not exposed at safety level {level} (it is level 2, as `wasgo.{twin}`)"
        ))));
    }
    let path = text(items.first());
    if twin == "request_permission" {
        let Some(kind) = path else {
            return Ok(Some(Err(format!("`{op}` expects the payload [kind]"))));
        };
        return Ok(Some(
            crate::hostfns::permissions::request(state, &kind)
                .map(|granted| WireVariant::Bool(granted).encode())
                .map_err(|message| format!("`{op}` failed: {message}")),
        ));
    }
    let sandbox = match crate::hostfns::files::files_sandbox(
        state,
        "invoke `wasgo/perm/request` with [\"files\"]",
    ) {
        Ok(sandbox) => sandbox,
        Err((_, message)) => return Ok(Some(Err(format!("`{op}`: {message}")))),
    };
    let path = match (path, twin) {
        (Some(p), _) => p,
        (None, "file_list") if items.is_empty() => String::new(),
        _ => return Ok(Some(Err(format!("`{op}` expects the payload [path, ...]")))),
    };
    let outcome = match twin {
        "file_write" => {
            let data = match items.get(1) {
                Some(WireVariant::PackedByteArray(b)) => b.clone(),
                Some(WireVariant::String(s)) => s.clone().into_bytes(),
                _ => {
                    return Ok(Some(Err(format!(
                        "`{op}` expects the payload [path, bytes or text]"
                    ))))
                }
            };
            sandbox.write(&path, &data).map(|()| WireVariant::Nil)
        }
        "file_read" => sandbox.read(&path).map(WireVariant::PackedByteArray),
        "file_delete" => sandbox.delete(&path).map(|()| WireVariant::Nil),
        _ => sandbox.list(&path).map(|names| {
            WireVariant::Array(
                names
                    .lines()
                    .map(|n| WireVariant::String(n.into()))
                    .collect(),
            )
        }),
    };
    Ok(Some(
        outcome
            .map(|v| v.encode())
            .map_err(|e| format!("`{op}` failed: {}", e.message())),
    ))
}

/// Takes the object handles out of `value` (its Arrays and Dictionaries walked), each replaced
/// by null, for releasing.
fn take_handles(value: &mut WireVariant, out: &mut Vec<i32>) {
    match value {
        WireVariant::Object(h) => {
            if *h > 0 {
                out.push(*h);
            }
            *value = WireVariant::Nil;
        }
        WireVariant::Array(items) => items.iter_mut().for_each(|v| take_handles(v, out)),
        WireVariant::Dictionary(entries) => entries.iter_mut().for_each(|(k, v)| {
            take_handles(k, out);
            take_handles(v, out);
        }),
        _ => {}
    }
}
