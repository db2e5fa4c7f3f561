//! The `godot` object: how a Go-js program reaches the game.
//!
//! Each method is a thin translation onto the paths a `wasgo` mod uses, so the powers and safety
//! levels are the same: object operations become [`ObjectOp`]s for the game's
//! [`ObjectHost`](crate::objects::ObjectHost) (same allowlist, same level, on the main thread
//! through the bridge), game functions go through the same registry and handler, and the level-2
//! wrappers are exposed exactly when the catalog exposes their `wasgo` twins
//! (`godot.fileWrite` ⇔ `wasgo.file_write`).
//!
//! | method | does | returns / throws |
//! |---|---|---|
//! | `getNode(path)` | the node at `path` relative to the mod's node | a handle object |
//! | `self()` | the mod's own node | a handle object |
//! | `get(h, name)` / `set(h, name, v)` | a property | the value / `undefined` |
//! | `call(h, method, ...args)` | a method | its result |
//! | `connect(h, signal, func)` | calls `func(...signalArgs)` when the signal fires | `undefined` |
//! | `emit(name, payload)` | `mod_event(name, payload)` on the mod's node | `undefined` |
//! | `callGame(module, name, ...args)` | a game function (numbers and strings) | its result |
//! | `vec2(x, y)` / `vec3(x, y, z)` | a `Vector2`/`Vector3` value | the value |
//! | `fileWrite(path, bytes)` `fileRead(path)` `fileDelete(path)` | level 2, `files` permission | - / a `Uint8Array` |
//! | `httpRequest(url, method, body, callback)` | level 2, `network` permission; later `callback(status, bytes, error)` | the request id |
//!
//! A failed operation throws an `Error` whose `message` says why (Go sees a `js.Error` panic or
//! can recover it). A member the allowlist denies, or a level-2 method below level 2, traps the
//! mod with the contract's message and sends `UnexposedCall`, as in a `wasgo` mod.
//!
//! Values: numbers ⇔ `Float` (integral numbers become `Int`), strings, booleans, `null` ⇔
//! `Nil`, arrays ⇔ `Array`, handle objects ⇔ `Object`, `vec2`/`vec3` values (and plain objects
//! with exactly `x`,`y` or `x`,`y`,`z`) ⇔ `Vector2`/`Vector3`, `Uint8Array` ⇔ `PackedByteArray`,
//! other objects ⇔ `Dictionary` with string keys.

use super::builtins::{error, JsResult, Native};
use super::value::{Class, JsValue};
use super::{call_function, Cx};
use crate::catalog;
use crate::error::{HostTrap, KilledTrap, TrapKind};
use crate::events::ModEvent;
use crate::game::GameValue;
use crate::objects::{ObjectError, ObjectOp, ObjectReply};
use crate::permissions::Permission;
use crate::variant::{Vector2, Vector3, WireVariant};

/// The methods of the `godot` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GodotFn {
    SelfNode,
    GetNode,
    Get,
    Set,
    Call,
    Connect,
    Emit,
    CallGame,
    Vec2,
    Vec3,
    FileWrite,
    FileRead,
    FileDelete,
    HttpRequest,
}

const METHODS: [(&str, GodotFn); 14] = [
    ("self", GodotFn::SelfNode),
    ("getNode", GodotFn::GetNode),
    ("get", GodotFn::Get),
    ("set", GodotFn::Set),
    ("call", GodotFn::Call),
    ("connect", GodotFn::Connect),
    ("emit", GodotFn::Emit),
    ("callGame", GodotFn::CallGame),
    ("vec2", GodotFn::Vec2),
    ("vec3", GodotFn::Vec3),
    ("fileWrite", GodotFn::FileWrite),
    ("fileRead", GodotFn::FileRead),
    ("fileDelete", GodotFn::FileDelete),
    ("httpRequest", GodotFn::HttpRequest),
];

/// The `godot` object.
pub fn object() -> JsValue {
    let props: Vec<(&str, JsValue)> = METHODS
        .iter()
        .map(|(n, f)| (*n, JsValue::object(Class::Native(Native::Godot(*f)))))
        .collect();
    JsValue::plain(&props)
}

fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or_default()
}

fn handle_of(v: &JsValue) -> Option<i32> {
    match v.as_object().map(|o| o.0.lock().class.clone()) {
        Some(Class::Handle(h)) => Some(h),
        _ => None,
    }
}

/// Runs `op` on the main thread; `Ok(Err(thrown))` for a failure the program may handle.
fn run_op(cx: &mut Cx<'_>, op: ObjectOp) -> wasmtime::Result<JsResult> {
    let state = cx.data();
    let (key, level, kill) = (state.key, state.level, state.kill.clone());
    let hosts = state.hosts.clone();
    let host = hosts.objects.clone();
    let outcome = hosts
        .bridge
        .run(&kill, move || host.run(key, level, op))
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    match outcome {
        Ok(ObjectReply::Int(h)) => Ok(Ok(JsValue::Number(f64::from(h)))),
        Ok(ObjectReply::Value(v)) => Ok(Ok(from_wire(v))),
        Err(ObjectError::Failed { message, .. }) => Ok(Err(error(&message, None))),
        Err(ObjectError::Trap(message)) => {
            Err(HostTrap::new(TrapKind::HostCall, message).into_error())
        }
        Err(ObjectError::Denied { member }) => Err(unexposed(cx, &member)),
    }
}

fn unexposed(cx: &mut Cx<'_>, member: &str) -> wasmtime::Error {
    let level = cx.data().level;
    cx.data().emit(ModEvent::UnexposedCall {
        function: member.to_string(),
        level,
    });
    HostTrap::new(
        TrapKind::Unexposed {
            function: member.to_string(),
            level,
        },
        format!("call to `{member}`, which is not exposed at safety level {level}"),
    )
    .into_error()
}

fn handle_value(h: i32) -> JsValue {
    JsValue::object(Class::Handle(h))
}

/// Calls `godot.<f>(...args)`.
pub fn call(cx: &mut Cx<'_>, f: GodotFn, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    let name = |i: usize| arg(args, i).to_js_string();
    let handle = |i: usize| handle_of(&arg(args, i));
    let bad = |what: &str| Ok(Err(error(what, None)));
    let as_handle = |r: JsResult| {
        r.map(|v| match v {
            JsValue::Number(h) if h > 0.0 => handle_value(h as i32),
            _ => JsValue::Null,
        })
    };
    match f {
        GodotFn::SelfNode => Ok(as_handle(run_op(cx, ObjectOp::SelfNode)?)),
        GodotFn::GetNode => {
            let op = ObjectOp::GetNode {
                from: 0,
                path: name(0),
            };
            Ok(as_handle(run_op(cx, op)?))
        }
        GodotFn::Get => match handle(0) {
            Some(handle) => run_op(
                cx,
                ObjectOp::Get {
                    handle,
                    name: name(1),
                },
            ),
            None => bad("godot.get: the first argument must be a handle from godot.getNode"),
        },
        GodotFn::Set => match handle(0) {
            Some(handle) => {
                let value = to_wire(&arg(args, 2));
                let r = run_op(
                    cx,
                    ObjectOp::Set {
                        handle,
                        name: name(1),
                        value,
                    },
                )?;
                Ok(r.map(|_| JsValue::Undefined))
            }
            None => bad("godot.set: the first argument must be a handle from godot.getNode"),
        },
        GodotFn::Call => match handle(0) {
            Some(handle) => {
                let call_args = args.iter().skip(2).map(to_wire).collect();
                run_op(
                    cx,
                    ObjectOp::Call {
                        handle,
                        method: name(1),
                        args: call_args,
                    },
                )
            }
            None => bad("godot.call: the first argument must be a handle from godot.getNode"),
        },
        GodotFn::Connect => {
            let (Some(handle), func) = (handle(0), arg(args, 2)) else {
                return bad(
                    "godot.connect: the first argument must be a handle from godot.getNode",
                );
            };
            if !func.is_function() {
                return bad("godot.connect: the third argument must be a function (js.FuncOf)");
            }
            let go = super::state_mut(cx.data_mut());
            let Some(callback_id) = go.add_callback(func) else {
                return bad("godot.connect: too many connections");
            };
            let op = ObjectOp::Connect {
                handle,
                signal: name(1),
                callback_id,
            };
            Ok(run_op(cx, op)?.map(|_| JsValue::Undefined))
        }
        GodotFn::Emit => {
            let op = ObjectOp::Emit {
                name: name(0),
                payload: to_wire(&arg(args, 1)),
            };
            Ok(run_op(cx, op)?.map(|_| JsValue::Undefined))
        }
        GodotFn::CallGame => call_game(cx, &name(0), &name(1), &args[args.len().min(2)..]),
        GodotFn::Vec2 => Ok(Ok(vector(
            &[("x", arg(args, 0)), ("y", arg(args, 1))],
            Class::Vector2,
        ))),
        GodotFn::Vec3 => Ok(Ok(vector(
            &[
                ("x", arg(args, 0)),
                ("y", arg(args, 1)),
                ("z", arg(args, 2)),
            ],
            Class::Vector3,
        ))),
        GodotFn::FileWrite | GodotFn::FileRead | GodotFn::FileDelete => file(cx, f, args),
        GodotFn::HttpRequest => http_request(cx, args),
    }
}

fn vector(parts: &[(&str, JsValue)], class: Class) -> JsValue {
    let v = super::value::JsRef::new(class);
    for (k, x) in parts {
        v.set(k, JsValue::Number(x.to_number()));
    }
    JsValue::Object(v)
}

fn call_game(
    cx: &mut Cx<'_>,
    module: &str,
    name: &str,
    args: &[JsValue],
) -> wasmtime::Result<JsResult> {
    let state = cx.data();
    let qname = format!("{module}.{name}");
    let Some(f) = state.hosts.games.get(module, name) else {
        return Ok(Err(error(
            &format!("godot.callGame: the game has no function `{qname}`"),
            None,
        )));
    };
    if f.level > state.level {
        return Err(unexposed(cx, &qname));
    }
    use crate::game::GameType;
    let values: Vec<GameValue> = f
        .params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = arg(args, i);
            match t {
                GameType::I32 => GameValue::I32(v.to_number() as i32),
                GameType::I64 => GameValue::I64(v.to_number() as i64),
                GameType::F32 => GameValue::F32(v.to_number() as f32),
                GameType::F64 => GameValue::F64(v.to_number()),
                GameType::String => GameValue::String(v.to_js_string()),
            }
        })
        .collect();
    let (hosts, kill) = (state.hosts.clone(), state.kill.clone());
    let handler = hosts.game.clone();
    let id = f.id;
    let outcome = hosts
        .bridge
        .run(&kill, move || handler.call(id, values))
        .map_err(|_| wasmtime::Error::new(KilledTrap))?;
    Ok(match outcome {
        Ok(mut values) => Ok(match values.pop() {
            Some(GameValue::I32(v)) => JsValue::Number(f64::from(v)),
            Some(GameValue::I64(v)) => JsValue::Number(v as f64),
            Some(GameValue::F32(v)) => JsValue::Number(f64::from(v)),
            Some(GameValue::F64(v)) => JsValue::Number(v),
            Some(GameValue::String(s)) => JsValue::str(&s),
            None => JsValue::Undefined,
        }),
        Err(e) => Err(error(&format!("game function `{qname}` failed: {e}"), None)),
    })
}

fn file(cx: &mut Cx<'_>, f: GodotFn, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    let (twin, js) = match f {
        GodotFn::FileWrite => ("file_write", "godot.fileWrite"),
        GodotFn::FileRead => ("file_read", "godot.fileRead"),
        _ => ("file_delete", "godot.fileDelete"),
    };
    let state = cx.data();
    let exposed = catalog::wasgo_function(twin).is_some_and(|c| c.level <= state.level);
    if !exposed {
        return Err(unexposed(cx, js));
    }
    if !state.permissions.has(Permission::Files) {
        return Ok(Err(error(&format!("`{}` has not been granted the `files` permission; ask the game for it and try again", state.name), None)));
    }
    let Some(sandbox) = state.sandbox.as_ref() else {
        return Ok(Err(error(
            "this mod has no sandbox directory (the game did not configure one)",
            None,
        )));
    };
    let path = arg(args, 0).to_js_string();
    let outcome = match f {
        GodotFn::FileWrite => {
            let data = match to_wire(&arg(args, 1)) {
                WireVariant::PackedByteArray(b) => b,
                other => match other {
                    WireVariant::String(s) => s.into_bytes(),
                    _ => Vec::new(),
                },
            };
            sandbox.write(&path, &data).map(|()| JsValue::Undefined)
        }
        GodotFn::FileRead => sandbox
            .read(&path)
            .map(|b| JsValue::object(Class::Bytes(b))),
        _ => sandbox.delete(&path).map(|()| JsValue::Undefined),
    };
    Ok(outcome.map_err(|e| error(&e.message(), None)))
}

/// `godot.httpRequest(url, method, body, callback)`: level 2 with the `network` permission, to
/// URLs the game whitelists, like `wasgo.http_request`; returns the request id, and later calls
/// `callback(status, bodyBytes, error)` on the main thread.
fn http_request(cx: &mut Cx<'_>, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    const JS: &str = "godot.httpRequest";
    let state = cx.data();
    let exposed = catalog::wasgo_function("http_request").is_some_and(|c| c.level <= state.level);
    if !exposed {
        return Err(unexposed(cx, JS));
    }
    let callback = arg(args, 3);
    if !callback.is_function() {
        return Ok(Err(error(
            "godot.httpRequest: the fourth argument must be a function (js.FuncOf) for the answer",
            None,
        )));
    }
    let url = arg(args, 0).to_js_string();
    let method = match arg(args, 1) {
        JsValue::Undefined | JsValue::Null => "GET".to_string(),
        m => m.to_js_string(),
    };
    let body = match to_wire(&arg(args, 2)) {
        WireVariant::PackedByteArray(b) => b,
        WireVariant::String(s) => s.into_bytes(),
        _ => Vec::new(),
    };
    match crate::http_calls::start(cx.data_mut(), JS, url, &method, body)? {
        Ok(id) => {
            super::state_mut(cx.data_mut()).add_http_callback(id, callback);
            Ok(Ok(JsValue::Number(f64::from(id))))
        }
        Err((_, message)) => Ok(Err(error(&message, None))),
    }
}

/// A JavaScript value as a wire Variant (see the module docs).
pub fn to_wire(v: &JsValue) -> WireVariant {
    to_wire_at(v, 0)
}

fn to_wire_at(v: &JsValue, depth: usize) -> WireVariant {
    if depth > crate::variant::MAX_DEPTH {
        return WireVariant::Nil;
    }
    match v {
        JsValue::Undefined | JsValue::Null => WireVariant::Nil,
        JsValue::Bool(b) => WireVariant::Bool(*b),
        JsValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => WireVariant::Int(*n as i64),
        JsValue::Number(n) => WireVariant::Float(*n),
        JsValue::String(s) => WireVariant::String(s.to_string()),
        JsValue::Object(o) => {
            let obj = o.0.lock();
            let num = |k: &str| {
                obj.props
                    .get(k)
                    .map(|v| v.to_number() as f32)
                    .unwrap_or(0.0)
            };
            let keys: Vec<&str> = obj.props.keys().map(|k| k.as_str()).collect();
            match &obj.class {
                Class::Handle(h) => WireVariant::Object(*h),
                Class::Bytes(b) => WireVariant::PackedByteArray(b.clone()),
                Class::Array(items) => {
                    WireVariant::Array(items.iter().map(|i| to_wire_at(i, depth + 1)).collect())
                }
                Class::Vector2 => WireVariant::Vector2(Vector2::new(num("x"), num("y"))),
                Class::Vector3 => WireVariant::Vector3(Vector3::new(num("x"), num("y"), num("z"))),
                Class::Plain if keys == ["x", "y"] => {
                    WireVariant::Vector2(Vector2::new(num("x"), num("y")))
                }
                Class::Plain if keys == ["x", "y", "z"] => {
                    WireVariant::Vector3(Vector3::new(num("x"), num("y"), num("z")))
                }
                Class::Date(ms) => WireVariant::Float(*ms),
                _ => WireVariant::Dictionary(
                    obj.props
                        .iter()
                        .map(|(k, v)| (WireVariant::String(k.clone()), to_wire_at(v, depth + 1)))
                        .collect(),
                ),
            }
        }
    }
}

/// A wire Variant as a JavaScript value (see the module docs); types without a JavaScript
/// counterpart become their text.
pub fn from_wire(v: WireVariant) -> JsValue {
    match v {
        WireVariant::Nil => JsValue::Null,
        WireVariant::Bool(b) => JsValue::Bool(b),
        WireVariant::Int(i) => JsValue::Number(i as f64),
        WireVariant::Float(f) => JsValue::Number(f),
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => {
            JsValue::str(&s)
        }
        WireVariant::Object(0) => JsValue::Null,
        WireVariant::Object(h) => handle_value(h),
        WireVariant::Vector2(p) => vector(
            &[
                ("x", JsValue::Number(p.x.into())),
                ("y", JsValue::Number(p.y.into())),
            ],
            Class::Vector2,
        ),
        WireVariant::Vector3(p) => vector(
            &[
                ("x", JsValue::Number(p.x.into())),
                ("y", JsValue::Number(p.y.into())),
                ("z", JsValue::Number(p.z.into())),
            ],
            Class::Vector3,
        ),
        WireVariant::Array(items) => JsValue::array(items.into_iter().map(from_wire).collect()),
        WireVariant::PackedByteArray(b) => JsValue::object(Class::Bytes(b)),
        WireVariant::Dictionary(pairs) => {
            let o = super::value::JsRef::new(Class::Plain);
            for (k, v) in pairs {
                let key = match k {
                    WireVariant::String(s) | WireVariant::StringName(s) => s,
                    other => from_wire(other).to_js_string(),
                };
                o.set(&key, from_wire(v));
            }
            JsValue::Object(o)
        }
        other => JsValue::str(&format!("{other:?}")),
    }
}

/// Calls a connected js function with the signal's arguments.
pub(crate) fn deliver(
    cx: &mut Cx<'_>,
    func: &JsValue,
    args: Vec<WireVariant>,
) -> wasmtime::Result<JsResult> {
    let js_args = args.into_iter().map(from_wire).collect();
    call_function(cx, func, &JsValue::Undefined, js_args)
}
