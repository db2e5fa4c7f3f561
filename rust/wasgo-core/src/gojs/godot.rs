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
//! | `fileWrite(path, bytes)` `fileRead(path)` `fileDelete(path)` `fileList(path)` | level 2, `files` permission | - / a `Uint8Array` / - / an array of names |
//! | `requestPermission(kind)` | level 2: asks the game for `files` or `network` | `true` when granted, else `false` (asked) |
//! | `httpRequest(url, method, body, callback)` | level 2, `network` permission; later `callback(status, bytes, error)` | the request id |
//!
//! A failed operation throws an `Error` whose `message` says why (Go sees a `js.Error` panic or
//! can recover it). A member the allowlist denies, or a level-2 method below level 2, traps the
//! mod with the contract's message and sends `UnexposedCall`, as in a `wasgo` mod.
//!
//! Values: numbers ⇔ `Float` (integral numbers an `i64` holds become `Int`), strings, booleans,
//! `null` ⇔ `Nil`, arrays ⇔ `Array`, handle objects ⇔ `Object`, Godot's value types made of
//! numbers ⇔ objects of their parts ([`shapes`](super::shapes); `vec2`/`vec3` make two of them,
//! and plain objects of exactly the numbers `x`,`y` or `x`,`y`,`z` are vectors too), packed
//! arrays → arrays, `Uint8Array` ⇔ `PackedByteArray`, other objects ⇔ `Dictionary` with string
//! keys. A function has no Godot value: passing one throws.

use super::native::{GodotFn, Native};
use super::shapes::{SelfContaining, Shape};
use super::value::{error, Class, JsObject, JsRef, JsResult, JsValue, Kind};
use super::{call_function, Cx};
use crate::catalog;
use crate::error::{HostTrap, TrapKind};
use crate::events::ModEvent;
use crate::game::GameValue;
use crate::object_calls;
use crate::objects::{ObjectError, ObjectOp, ObjectReply};
use crate::variant::WireVariant;
use std::collections::HashMap;

const METHODS: [(&str, GodotFn); 17] = [
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
    ("fileList", GodotFn::FileList),
    ("httpRequest", GodotFn::HttpRequest),
    ("requestPermission", GodotFn::RequestPermission),
    ("release", GodotFn::Release),
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
    match v.kind() {
        Some(Kind::Handle(h)) => Some(h),
        _ => None,
    }
}

/// Runs `op` on the main thread; `Ok(Err(thrown))` for a failure the program may handle.
fn run_op(cx: &mut Cx<'_>, op: ObjectOp) -> wasmtime::Result<JsResult> {
    let state = cx.data();
    let (key, level) = (state.key, state.level);
    let host = state.hosts.objects.clone();
    let outcome = object_calls::on_main_thread(cx.data_mut(), move || {
        object_calls::run_sized(&*host, key, level, op)
    })?;
    match outcome {
        Ok(ObjectReply::Int(h)) => Ok(Ok(JsValue::Number(f64::from(h)))),
        Ok(ObjectReply::Value(v)) => {
            // Counted whole: Go holds its top only, and the nested parts would wait for the
            // next measurement.
            super::heap::charge(cx, js_bytes(&v))?;
            Ok(Ok(from_wire(v)))
        }
        Err(ObjectError::Failed { message, .. }) => Ok(Err(error(&message, None))),
        Err(ObjectError::Trap(message)) => {
            Err(HostTrap::new(TrapKind::HostCall, message).into_error())
        }
        Err(ObjectError::Denied { member }) => Err(unexposed(cx, &member)),
    }
}

/// The callback ids the game still holds connections (or waiting deliveries) for
/// ([`ObjectOp::LiveCallbacks`]); `None` when the game cannot say (nothing is given back).
fn live_callbacks(cx: &mut Cx<'_>) -> wasmtime::Result<Option<Vec<i32>>> {
    let state = cx.data();
    let (key, level) = (state.key, state.level);
    let host = state.hosts.objects.clone();
    let outcome = object_calls::on_main_thread(cx.data_mut(), move || {
        object_calls::run_sized(&*host, key, level, ObjectOp::LiveCallbacks)
    })?;
    Ok(match outcome {
        Ok(ObjectReply::Value(WireVariant::PackedInt32Array(ids))) => Some(ids),
        _ => None,
    })
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

/// Longest name, path, URL or method the `godot` object takes as text.
pub const MAX_NAME_BYTES: usize = 64 << 10;

/// The JavaScript error of a refused argument, or the value: `Ok(Err(thrown))` from the caller.
macro_rules! or_throw {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(thrown) => return Ok(Err(thrown)),
        }
    };
}

/// Argument `i` as a name, path or URL (`String(v)`), or the `Error` to throw when its text is
/// longer than [`MAX_NAME_BYTES`].
fn text_arg(args: &[JsValue], i: usize, js: &str) -> Result<String, JsValue> {
    arg(args, i)
        .to_js_string_within(MAX_NAME_BYTES)
        .ok_or_else(|| {
            error(
                &format!("{js}: argument {} is longer than {MAX_NAME_BYTES} bytes as text (names, paths, URLs and methods are shorter)", i + 1),
                None,
            )
        })
}

/// `values` as wire Variants for one call into the game, within the mod's memory limit (see
/// [`ToWire`]), or the `Error` to throw.
fn wire_values(cx: &Cx<'_>, js: &str, values: &[JsValue]) -> Result<Vec<WireVariant>, JsValue> {
    let mut convert = ToWire::new(cx.data().limits.memory_bytes);
    values
        .iter()
        .map(|v| convert.value(v))
        .collect::<Result<_, _>>()
        .map_err(|why| error(&format!("{js}: {why}"), None))
}

fn wire_value(cx: &Cx<'_>, js: &str, v: &JsValue) -> Result<WireVariant, JsValue> {
    ToWire::new(cx.data().limits.memory_bytes)
        .value(v)
        .map_err(|why| error(&format!("{js}: {why}"), None))
}

/// Calls `godot.<f>(...args)`.
pub fn call(cx: &mut Cx<'_>, f: GodotFn, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    let js = METHODS
        .iter()
        .find(|(_, g)| *g == f)
        .map_or("godot", |(n, _)| n);
    let js = format!("godot.{js}");
    let name = |i: usize| text_arg(args, i, &js);
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
                path: or_throw!(name(0)),
            };
            Ok(as_handle(run_op(cx, op)?))
        }
        GodotFn::Get => match handle(0) {
            Some(handle) => {
                let name = or_throw!(name(1));
                run_op(cx, ObjectOp::Get { handle, name })
            }
            None => bad("godot.get: the first argument must be a handle from godot.getNode"),
        },
        GodotFn::Set => match handle(0) {
            Some(handle) => {
                let name = or_throw!(name(1));
                let value = or_throw!(wire_value(cx, &js, &arg(args, 2)));
                let r = run_op(
                    cx,
                    ObjectOp::Set {
                        handle,
                        name,
                        value,
                    },
                )?;
                Ok(r.map(|_| JsValue::Undefined))
            }
            None => bad("godot.set: the first argument must be a handle from godot.getNode"),
        },
        GodotFn::Call => match handle(0) {
            Some(handle) => {
                let method = or_throw!(name(1));
                let args = or_throw!(wire_values(cx, &js, args.get(2..).unwrap_or_default()));
                run_op(
                    cx,
                    ObjectOp::Call {
                        handle,
                        method,
                        args,
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
            let signal = or_throw!(name(1));
            if super::state_mut(cx.data_mut()).wants_compaction() {
                // The slots of connections that ended are given back first.
                if let Some(live) = live_callbacks(cx)? {
                    super::state_mut(cx.data_mut()).keep_callbacks(&live);
                }
            }
            let go = super::state_mut(cx.data_mut());
            let Some(callback_id) = go.add_callback(func) else {
                return bad("godot.connect: too many connections");
            };
            let op = ObjectOp::Connect {
                handle,
                signal,
                callback_id,
            };
            let connected = run_op(cx, op)?;
            if connected.is_err() {
                // A failed connect keeps no slot (the program may try again and again).
                super::state_mut(cx.data_mut()).drop_callback(callback_id);
            }
            Ok(connected.map(|_| JsValue::Undefined))
        }
        GodotFn::Emit => {
            let op = ObjectOp::Emit {
                name: or_throw!(name(0)),
                payload: or_throw!(wire_value(cx, &js, &arg(args, 1))),
            };
            Ok(run_op(cx, op)?.map(|_| JsValue::Undefined))
        }
        GodotFn::CallGame => {
            let (module, function) = (or_throw!(name(0)), or_throw!(name(1)));
            call_game(cx, &module, &function, args.get(2..).unwrap_or_default())
        }
        GodotFn::Vec2 => Ok(Ok(Shape::Vector2.object(&numbers(args, 2)))),
        GodotFn::Vec3 => Ok(Ok(Shape::Vector3.object(&numbers(args, 3)))),
        GodotFn::FileWrite | GodotFn::FileRead | GodotFn::FileDelete | GodotFn::FileList => {
            file(cx, f, args)
        }
        GodotFn::Release => match handle(0) {
            // As `wasgo.release`: the object is the program's no more (a resource it made lives
            // on where the game uses it; a timer or tween stops counting once it ends).
            Some(handle) => {
                Ok(run_op(cx, ObjectOp::Release { handle })?.map(|_| JsValue::Undefined))
            }
            None => bad(
                "godot.release: the argument must be a handle (from godot.getNode, get or call)",
            ),
        },
        GodotFn::HttpRequest => http_request(cx, args),
        GodotFn::RequestPermission => request_permission(cx, args),
    }
}

/// The first `count` arguments as numbers (JavaScript's `Number(v)`; a missing one is NaN).
fn numbers(args: &[JsValue], count: usize) -> Vec<f64> {
    (0..count).map(|i| arg(args, i).to_number()).collect()
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
    let max_text = state.limits.memory_bytes;
    let mut values = Vec::with_capacity(f.params.len());
    for (i, t) in f.params.iter().enumerate() {
        let v = arg(args, i);
        values.push(match t {
            GameType::I32 => GameValue::I32(v.to_number() as i32),
            GameType::I64 => GameValue::I64(v.to_number() as i64),
            GameType::F32 => GameValue::F32(v.to_number() as f32),
            GameType::F64 => GameValue::F64(v.to_number()),
            GameType::String => match v.to_js_string_within(max_text) {
                Some(text) => GameValue::String(text),
                None => {
                    return Ok(Err(error(
                        &format!("godot.callGame: argument {} of `{qname}` is longer as text than the mod's memory limit of {} MiB", i + 3, max_text >> 20),
                        None,
                    )))
                }
            },
        });
    }
    let handler = state.hosts.game.clone();
    let (id, key) = (f.id, state.key);
    let outcome =
        object_calls::on_main_thread(cx.data_mut(), move || handler.call(key, id, values))?;
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
        GodotFn::FileList => ("file_list", "godot.fileList"),
        _ => ("file_delete", "godot.fileDelete"),
    };
    let state = cx.data();
    let exposed = catalog::wasgo_function(twin).is_some_and(|c| c.level <= state.level);
    if !exposed {
        return Err(unexposed(cx, js));
    }
    let sandbox = match crate::hostfns::files::files_sandbox(
        state,
        "call `godot.requestPermission(\"files\")`",
    ) {
        Ok(sandbox) => sandbox,
        Err((_, message)) => return Ok(Err(error(&message, None))),
    };
    let path = if f == GodotFn::FileList && matches!(arg(args, 0), JsValue::Undefined) {
        String::new()
    } else {
        or_throw!(text_arg(args, 0, js))
    };
    let outcome = match f {
        GodotFn::FileWrite => {
            let data = match or_throw!(wire_value(cx, js, &arg(args, 1))) {
                WireVariant::PackedByteArray(b) => b,
                WireVariant::String(s) => s.into_bytes(),
                // Written as an empty file, a save was lost with a success reported.
                _ => {
                    return Ok(Err(error(
                        &format!("{js}: the second argument must be a Uint8Array or a string (the bytes to write)"),
                        None,
                    )))
                }
            };
            sandbox.write(&path, &data).map(|()| JsValue::Undefined)
        }
        GodotFn::FileRead => sandbox
            .read(&path)
            .map(|b| JsValue::object(Class::Bytes(b))),
        GodotFn::FileList => sandbox.list(&path).map(|names| {
            let names: Vec<JsValue> = names.lines().map(JsValue::str).collect();
            JsValue::object(Class::Array(names))
        }),
        _ => sandbox.delete(&path).map(|()| JsValue::Undefined),
    };
    Ok(outcome.map_err(|e| error(&e.message(), None)))
}

/// `godot.requestPermission(kind)`: level 2, like `wasgo.request_permission`: `true` when the
/// mod has `kind`, else `false` with `permission_requested` emitted (the game's answer arrives
/// as a grant: ask again, or try the call, later); throws for a kind that is none.
fn request_permission(cx: &mut Cx<'_>, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    const JS: &str = "godot.requestPermission";
    let exposed =
        catalog::wasgo_function("request_permission").is_some_and(|c| c.level <= cx.data().level);
    if !exposed {
        return Err(unexposed(cx, JS));
    }
    let kind = or_throw!(text_arg(args, 0, JS));
    Ok(
        match crate::hostfns::permissions::request(cx.data_mut(), &kind) {
            Ok(granted) => Ok(JsValue::Bool(granted)),
            Err(message) => Err(error(&format!("{JS}: {message}"), None)),
        },
    )
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
    let url = or_throw!(text_arg(args, 0, JS));
    let method = match arg(args, 1) {
        JsValue::Undefined | JsValue::Null => "GET".to_string(),
        _ => or_throw!(text_arg(args, 1, JS)),
    };
    let body = match or_throw!(wire_value(cx, JS, &arg(args, 2))) {
        WireVariant::PackedByteArray(b) => b,
        WireVariant::String(s) => s.into_bytes(),
        _ => Vec::new(),
    };
    match crate::http_calls::start(cx.data_mut(), JS, url, &method, body)? {
        Ok(id) => {
            let http = cx.data().http.clone();
            super::state_mut(cx.data_mut())
                .add_http_callback(id, callback, |id| http.may_still_answer(id));
            Ok(Ok(JsValue::Number(f64::from(id))))
        }
        Err((_, message)) => Ok(Err(error(&message, None))),
    }
}

/// Bytes a converted value counts besides its text or bytes: what it takes as a wire Variant
/// and then as a Godot Variant in its container.
const WIRE_VALUE_BYTES: usize = 64;

/// Converts JavaScript values to wire Variants (see the module docs) for one call into the game,
/// within a byte budget. Each value is measured before anything is converted: every value
/// counts [`WIRE_VALUE_BYTES`] plus its text, key or bytes, and a part held in several places
/// counts each time (it becomes several Godot values), with each object measured once, so an
/// array holding the same array twice, nested 60 deep, is refused at once rather than after 2^60
/// conversions. An array or object inside its own contents is refused, and no object is locked
/// while its contents are visited.
pub struct ToWire {
    max: usize,
    left: usize,
    /// What each object visited converts to, in bytes.
    sizes: HashMap<usize, usize>,
    /// The objects being visited, outermost first.
    open: Vec<usize>,
}

/// What an object holds that converts on its own.
enum Contents {
    Items(Vec<JsValue>),
    Props(Vec<(String, JsValue)>),
    /// A typed object that holds itself among its parts.
    SelfContaining,
}

const CONTAINS_ITSELF: &str = "the value contains itself (an array or object inside its own contents); Godot values cannot, so pass a copy without the cycle";

/// A handle, date, byte array or vector object as its wire Variant; `Err` with the contents of
/// an array or any other object.
fn leaf_or_contents(this: usize, obj: &JsObject) -> Result<WireVariant, Contents> {
    // A plain object of exactly these keys, all numbers, is a vector.
    let numbers_at = |keys: &[&str]| {
        obj.props.len() == keys.len()
            && keys
                .iter()
                .all(|k| matches!(obj.props.get(*k), Some(JsValue::Number(_))))
    };
    let typed = |shape: Shape| match shape.numbers(this, obj) {
        Ok(numbers) => Ok(shape.to_wire(&numbers)),
        Err(SelfContaining) => Err(Contents::SelfContaining),
    };
    Ok(match &obj.class {
        Class::Handle(h) => WireVariant::Object(*h),
        Class::Bytes(b) => WireVariant::PackedByteArray(b.clone()),
        Class::Typed(shape) => typed(*shape)?,
        Class::Plain if numbers_at(&["x", "y"]) => typed(Shape::Vector2)?,
        Class::Plain if numbers_at(&["x", "y", "z"]) => typed(Shape::Vector3)?,
        Class::Date(ms) => WireVariant::Float(*ms),
        Class::Array(items) => return Err(Contents::Items(items.clone())),
        _ => {
            let props = obj.props.iter().map(|(k, v)| (k.clone(), v.clone()));
            return Err(Contents::Props(props.collect()));
        }
    })
}

impl ToWire {
    pub fn new(max_bytes: usize) -> ToWire {
        ToWire {
            max: max_bytes,
            left: max_bytes,
            sizes: HashMap::new(),
            open: Vec::new(),
        }
    }

    /// `v` as a wire Variant.
    ///
    /// # Errors
    /// A message naming what was refused: a value that contains itself, one nested deeper than
    /// [`MAX_DEPTH`](crate::variant::MAX_DEPTH), or one larger than what is left of the budget.
    pub fn value(&mut self, v: &JsValue) -> Result<WireVariant, String> {
        let need = self.size(v)?;
        self.left = self
            .left
            .checked_sub(need)
            .ok_or_else(|| self.too_large())?;
        Ok(build(v))
    }

    fn too_large(&self) -> String {
        format!(
            "the value would take more than {} MiB as Godot values (the mod's memory limit; a part held in several places counts each time); pass less at once",
            self.max.div_ceil(1 << 20)
        )
    }

    /// The bytes `v` converts to; an error as soon as it is more than what is left.
    fn size(&mut self, v: &JsValue) -> Result<usize, String> {
        let size = match v {
            JsValue::String(s) => WIRE_VALUE_BYTES.saturating_add(s.len()),
            JsValue::Object(o) => self.object_size(o)?,
            _ => WIRE_VALUE_BYTES,
        };
        if size > self.left {
            return Err(self.too_large());
        }
        Ok(size)
    }

    fn object_size(&mut self, o: &JsRef) -> Result<usize, String> {
        let ptr = o.ptr();
        if let Some(size) = self.sizes.get(&ptr) {
            return Ok(*size);
        }
        if self.open.contains(&ptr) {
            return Err(CONTAINS_ITSELF.into());
        }
        if self.open.len() >= crate::variant::MAX_DEPTH {
            return Err(format!(
                "the value is nested deeper than {} arrays or objects",
                crate::variant::MAX_DEPTH
            ));
        }
        let (own, children) = {
            let obj = o.0.lock();
            match &obj.class {
                Class::Native(_) | Class::GoFunc(_) => {
                    return Err("a function has no Godot value and cannot be passed to the game (a game calls a Go function the program exported with godot.Export, through call_export)".into());
                }
                Class::Bytes(b) => (b.len(), Vec::new()),
                Class::Array(items) => {
                    if items.len().saturating_mul(WIRE_VALUE_BYTES) > self.left {
                        return Err(self.too_large());
                    }
                    (0, items.clone())
                }
                _ => match leaf_or_contents(ptr, &obj) {
                    Ok(_) => (0, Vec::new()),
                    Err(Contents::SelfContaining) => return Err(CONTAINS_ITSELF.into()),
                    Err(Contents::Props(props)) => {
                        let keys = props.iter().map(|(k, _)| k.len() + WIRE_VALUE_BYTES).sum();
                        (keys, props.into_iter().map(|(_, v)| v).collect())
                    }
                    Err(Contents::Items(items)) => (0, items),
                },
            }
        };
        self.open.push(ptr);
        let total = children
            .iter()
            .try_fold(WIRE_VALUE_BYTES + own, |total, child| {
                let total = total.saturating_add(self.size(child)?);
                if total > self.left {
                    return Err(self.too_large());
                }
                Ok(total)
            });
        self.open.pop();
        let total = total?;
        self.sizes.insert(ptr, total);
        Ok(total)
    }
}

/// `v` as a wire Variant, once [`ToWire`] has measured it (no cycle, no deeper than
/// [`MAX_DEPTH`](crate::variant::MAX_DEPTH)).
fn build(v: &JsValue) -> WireVariant {
    match v {
        JsValue::Undefined | JsValue::Null => WireVariant::Nil,
        JsValue::Bool(b) => WireVariant::Bool(*b),
        // Every integral number `i64` holds exactly (2^63 is the first it does not).
        JsValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.223_372_036_854_776e18 => {
            WireVariant::Int(*n as i64)
        }
        JsValue::Number(n) => WireVariant::Float(*n),
        JsValue::String(s) => WireVariant::String(s.to_string()),
        JsValue::Object(o) => {
            // Taken out of the lock: an element is locked when it converts.
            let contents = leaf_or_contents(o.ptr(), &o.0.lock());
            match contents {
                Ok(leaf) => leaf,
                // Refused when measured; never built.
                Err(Contents::SelfContaining) => WireVariant::Nil,
                Err(Contents::Items(items)) => {
                    WireVariant::Array(items.iter().map(build).collect())
                }
                Err(Contents::Props(props)) => WireVariant::Dictionary(
                    props
                        .iter()
                        .map(|(k, v)| (WireVariant::String(k.clone()), build(v)))
                        .collect(),
                ),
            }
        }
    }
}

/// The host bytes [`from_wire`] makes of `v`, about.
fn js_bytes(v: &WireVariant) -> usize {
    use super::value::{props_bytes, OBJECT_BYTES, VALUE_BYTES};
    match v {
        WireVariant::Nil
        | WireVariant::Bool(_)
        | WireVariant::Int(_)
        | WireVariant::Float(_)
        | WireVariant::Object(_) => VALUE_BYTES,
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => {
            VALUE_BYTES + s.len()
        }
        WireVariant::Array(items) => OBJECT_BYTES + items.iter().map(js_bytes).sum::<usize>(),
        WireVariant::PackedByteArray(b) => OBJECT_BYTES + b.len(),
        WireVariant::Dictionary(pairs) => {
            OBJECT_BYTES
                + props_bytes(pairs.len())
                + pairs
                    .iter()
                    .map(|(k, v)| js_bytes(k) + js_bytes(v))
                    .sum::<usize>()
        }
        other => super::shapes::js_bytes(other).unwrap_or(VALUE_BYTES),
    }
}

/// A wire Variant as a JavaScript value (see the module docs); Godot's value types made of
/// numbers become objects of their parts, packed arrays arrays ([`shapes`](super::shapes)).
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
        WireVariant::Array(items) => JsValue::array(items.into_iter().map(from_wire).collect()),
        WireVariant::PackedByteArray(b) => JsValue::object(Class::Bytes(b)),
        WireVariant::Dictionary(pairs) => {
            let o = super::value::JsRef::new(Class::Plain);
            for (k, v) in pairs {
                let key = match k {
                    WireVariant::String(s) | WireVariant::StringName(s) => s,
                    // A key of another type is the text of its value (unbounded: the game made it).
                    other => from_wire(other)
                        .to_js_string_within(usize::MAX)
                        .unwrap_or_default(),
                };
                o.set(&key, from_wire(v));
            }
            JsValue::Object(o)
        }
        // Every other type is made of numbers or is a packed array.
        other => super::shapes::to_js(&other).unwrap_or(JsValue::Null),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_wire_converts_shared_parts_each_time_and_refuses_cycles_depth_and_size() {
        let pair = JsValue::array(vec![JsValue::Number(1.0), JsValue::str("b")]);
        let twice = JsValue::array(vec![pair.clone(), pair.clone()]);
        let w = ToWire::new(1 << 20).value(&twice).unwrap();
        let one = WireVariant::Array(vec![WireVariant::Int(1), WireVariant::String("b".into())]);
        assert_eq!(w, WireVariant::Array(vec![one.clone(), one]));
        let point = JsValue::plain(&[("y", JsValue::Number(2.0)), ("x", JsValue::Number(1.0))]);
        assert_eq!(
            ToWire::new(1 << 20).value(&point).unwrap(),
            WireVariant::Vector2(crate::variant::Vector2::new(1.0, 2.0))
        );

        let cycle = JsValue::array(vec![]);
        let inner = JsValue::plain(&[("back", cycle.clone())]);
        if let Some(o) = cycle.as_object() {
            o.0.lock().class = Class::Array(vec![inner]);
        }
        let err = ToWire::new(1 << 20).value(&cycle).unwrap_err();
        assert!(err.contains("contains itself"), "{err}");

        let mut deep = JsValue::array(vec![]);
        for _ in 0..70 {
            deep = JsValue::array(vec![deep]);
        }
        let err = ToWire::new(1 << 20).value(&deep).unwrap_err();
        assert!(err.contains("nested deeper than 64"), "{err}");

        let mut wide = JsValue::array(vec![]);
        for _ in 0..60 {
            wide = JsValue::array(vec![wide.clone(), wide]);
        }
        let err = ToWire::new(64 << 20).value(&wide).unwrap_err();
        assert!(err.contains("more than 64 MiB"), "{err}");

        // The budget is shared by the values of one call.
        let text = JsValue::str(&"t".repeat(600));
        let mut convert = ToWire::new(1024);
        assert!(convert.value(&text).is_ok());
        assert!(convert.value(&text).is_err());
    }
}
