//! The global object a Go-js program finds, and the host's native functions.
//!
//! Go's runtime and standard library reach for a handful of JavaScript globals: `Object`,
//! `Array` and `Uint8Array` (syscall/js), `fs` and `process` (syscall's file layer; output goes
//! through `fs.write`), `Date` (the local time zone), `crypto.getRandomValues` and
//! `performance.now`. They are built here as [`Native`] functions with exactly the behaviour
//! `wasm_exec.js` gives them: `fs.writeSync`/`fs.write` write to the mod's stdout/stderr as
//! line-buffered output events, every other `fs` call answers `ENOSYS` through its callback, and
//! `process` answers -1 for ids and `/` for the working directory. The `godot` object (see
//! [`godot`](super::godot)) is the program's way to the game.

use super::heap::charge;
use super::native::Native;
use super::value::{
    error, error_with, new_prop_bytes, props_bytes, Class, JsRef, JsResult, JsValue, Kind,
    OBJECT_BYTES, VALUE_BYTES,
};
use super::{call_function, Cx, MAX_COLLECTION};
use crate::events::OutputSource;

fn enosys() -> JsValue {
    error("not implemented", Some("ENOSYS"))
}

fn native(n: Native) -> JsValue {
    JsValue::object(Class::Native(n))
}

/// Builds the global object and the Go object (ids 5 and 6 of the value table).
pub fn globals(godot: JsValue) -> (JsRef, JsRef) {
    let global = JsRef::new(Class::Plain);
    let object = native(Native::ObjectCtor);
    if let Some(ctor) = object.as_object() {
        ctor.set("keys", native(Native::ObjectKeys));
    }
    global.set("Object", object);
    global.set("Array", native(Native::ArrayCtor));
    global.set("Uint8Array", native(Native::Uint8ArrayCtor));
    global.set("Date", native(Native::DateCtor));
    global.set("Error", native(Native::ErrorCtor));
    global.set(
        "crypto",
        JsValue::plain(&[("getRandomValues", native(Native::GetRandomValues))]),
    );
    global.set(
        "performance",
        JsValue::plain(&[("now", native(Native::PerformanceNow))]),
    );
    let constants = [
        "O_WRONLY",
        "O_RDWR",
        "O_CREAT",
        "O_TRUNC",
        "O_APPEND",
        "O_EXCL",
        "O_DIRECTORY",
    ]
    .map(|c| (c, JsValue::Number(-1.0)));
    let fs = JsRef::new(Class::Plain);
    fs.set("constants", JsValue::plain(&constants));
    fs.set("writeSync", native(Native::FsWriteSync));
    fs.set("write", native(Native::FsWrite));
    fs.set("fsync", native(Native::FsFsync));
    for name in [
        "chmod",
        "chown",
        "close",
        "fchmod",
        "fchown",
        "fstat",
        "ftruncate",
        "lchown",
        "link",
        "lstat",
        "mkdir",
        "open",
        "read",
        "readdir",
        "readlink",
        "rename",
        "rmdir",
        "stat",
        "symlink",
        "truncate",
        "unlink",
        "utimes",
    ] {
        fs.set(name, native(Native::FsEnosys));
    }
    global.set("fs", JsValue::Object(fs));
    let process = JsRef::new(Class::Plain);
    for name in ["getuid", "getgid", "geteuid", "getegid"] {
        process.set(name, native(Native::ProcessMinusOne));
    }
    for name in ["getgroups", "umask", "chdir"] {
        process.set(name, native(Native::ProcessEnosys));
    }
    process.set("cwd", native(Native::ProcessCwd));
    process.set("pid", JsValue::Number(-1.0));
    process.set("ppid", JsValue::Number(-1.0));
    process.set("env", JsValue::plain(&[]));
    global.set("process", JsValue::Object(process));
    let console = JsRef::new(Class::Plain);
    for name in ["log", "info", "debug"] {
        console.set(name, native(Native::ConsoleLog));
    }
    for name in ["error", "warn"] {
        console.set(name, native(Native::ConsoleError));
    }
    global.set("console", JsValue::Object(console));
    global.set("godot", godot);
    let go = JsRef::new(Class::Plain);
    go.set("_makeFuncWrapper", native(Native::MakeFuncWrapper));
    go.set("_pendingEvent", JsValue::Null);
    go.set("argv", JsValue::array(vec![JsValue::str("js")]));
    go.set("env", JsValue::plain(&[]));
    global.set("globalThis", JsValue::Object(global.clone()));
    (global, go)
}

fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or_default()
}

fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    let o = v.as_object()?;
    let obj = o.0.lock();
    match &obj.class {
        Class::Bytes(b) => Some(b.clone()),
        _ => None,
    }
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Writes `bytes` to the program's stdout (fd 1) or stderr (any other fd), line-buffered.
///
/// # Errors
/// A `KilledTrap` once the game has killed the program: nothing it writes after reaches the
/// game (as `wasgo.log` and WASI `fd_write` do for other mods).
fn write_fd(cx: &mut Cx<'_>, fd: f64, bytes: &[u8]) -> wasmtime::Result<()> {
    if cx.data().kill.is_killed() {
        return Err(wasmtime::Error::new(crate::error::KilledTrap));
    }
    let go = super::state_mut(cx.data_mut());
    let source = if fd == 1.0 {
        OutputSource::Stdout
    } else {
        OutputSource::Stderr
    };
    go.write_output(source, bytes);
    Ok(())
}

/// Calls native `n` with `this` and `args`.
///
/// # Errors
/// A trap (from re-entering Go or from the game) ends the instance.
pub fn call_native(
    cx: &mut Cx<'_>,
    n: Native,
    this: &JsValue,
    args: &[JsValue],
) -> wasmtime::Result<JsResult> {
    Ok(Ok(match n {
        Native::ObjectCtor
        | Native::ArrayCtor
        | Native::Uint8ArrayCtor
        | Native::DateCtor
        | Native::ErrorCtor => return construct(cx, n, args),
        Native::ObjectKeys => return object_keys(cx, &arg(args, 0)),
        Native::ArrayPush
        | Native::ArrayPop
        | Native::ArrayJoin
        | Native::ArraySlice
        | Native::ArrayIndexOf
        | Native::ArrayIncludes => return array_method(cx, n, this, args),
        Native::HasOwnProperty => JsValue::Bool(has_own_property(this, &arg(args, 0))),
        Native::DateGetTimezoneOffset => JsValue::Number(0.0),
        Native::DateGetTime => match this.kind() {
            Some(Kind::Date(ms)) => JsValue::Number(ms),
            _ => JsValue::Number(f64::NAN),
        },
        Native::GetRandomValues => {
            let target = arg(args, 0);
            if let Some(o) = target.as_object() {
                if let Class::Bytes(b) = &mut o.0.lock().class {
                    // As in JavaScript: at most 65,536 bytes a call (a whole memory was filled
                    // in one call nothing could stop).
                    if b.len() > MAX_RANDOM_VALUES {
                        return Ok(Err(super::value::error(
                            &format!("crypto.getRandomValues: {} bytes asked, at most {MAX_RANDOM_VALUES} a call", b.len()),
                            Some("QuotaExceededError"),
                        )));
                    }
                    fill_random(b)?;
                }
            }
            target
        }
        Native::PerformanceNow => {
            let go = super::state_ref(cx.data()).expect("a Go-js instance");
            JsValue::Number(go.start.elapsed().as_secs_f64() * 1000.0)
        }
        Native::FsWriteSync => {
            let buf = bytes_of(&arg(args, 1)).unwrap_or_default();
            write_fd(cx, arg(args, 0).to_number(), &buf)?;
            JsValue::Number(buf.len() as f64)
        }
        Native::FsWrite => {
            let buf = bytes_of(&arg(args, 1)).unwrap_or_default();
            let callback = arg(args, 5);
            let whole = arg(args, 2).to_number() == 0.0
                && arg(args, 3).to_number() == buf.len() as f64
                && matches!(arg(args, 4), JsValue::Null);
            let reply = if whole {
                write_fd(cx, arg(args, 0).to_number(), &buf)?;
                vec![JsValue::Null, JsValue::Number(buf.len() as f64)]
            } else {
                vec![enosys()]
            };
            if let Err(thrown) = call_function(cx, &callback, &JsValue::Undefined, reply)? {
                return Ok(Err(thrown));
            }
            JsValue::Undefined
        }
        Native::FsFsync => {
            let cb = arg(args, 1);
            if let Err(thrown) = call_function(cx, &cb, &JsValue::Undefined, vec![JsValue::Null])? {
                return Ok(Err(thrown));
            }
            JsValue::Undefined
        }
        Native::FsEnosys => {
            if let Some(cb) = args.iter().rev().find(|a| a.is_function()) {
                if let Err(thrown) = call_function(cx, cb, &JsValue::Undefined, vec![enosys()])? {
                    return Ok(Err(thrown));
                }
            }
            JsValue::Undefined
        }
        Native::ProcessMinusOne => JsValue::Number(-1.0),
        Native::ProcessCwd => JsValue::str("/"),
        Native::ProcessEnosys => return Ok(Err(enosys())),
        Native::MakeFuncWrapper => JsValue::object(Class::GoFunc(arg(args, 0).to_number())),
        Native::ConsoleLog | Native::ConsoleError => {
            let fd = if n == Native::ConsoleLog { 1.0 } else { 2.0 };
            write_fd(cx, fd, console_line(args).as_bytes())?;
            JsValue::Undefined
        }
        Native::Godot(f) => return super::godot::call(cx, f, args),
    }))
}

/// What `console.log(...args)` prints: the arguments' texts separated by spaces and a line
/// break, the whole line cut at [`MAX_MESSAGE_BYTES`] (with "..."), so that many arguments
/// repeating one long string cannot build a line of gigabytes on the host.
fn console_line(args: &[JsValue]) -> String {
    let mut line = String::new();
    let mut cut = false;
    for (i, a) in args.iter().enumerate() {
        let room = MAX_MESSAGE_BYTES.saturating_sub(line.len() + usize::from(i > 0));
        if room == 0 {
            cut = true;
            break;
        }
        if i > 0 {
            line.push(' ');
        }
        match a {
            JsValue::String(s) => {
                line.push_str(crate::text::prefix(s, room));
                if s.len() > room {
                    cut = true;
                    break;
                }
            }
            other => match other.to_js_string_within(room) {
                Some(text) => line.push_str(&text),
                None if room == MAX_MESSAGE_BYTES => line.push_str("[a value too long to print]"),
                None => {
                    cut = true;
                    break;
                }
            },
        }
    }
    if cut {
        line.push_str("...");
    }
    line.push('\n');
    line
}

/// Longest message `new Error(v)` makes from a value other than a string (whose text it shares).
pub const MAX_MESSAGE_BYTES: usize = 64 << 10;

/// The host bytes `new ctor(args)` makes, besides an `Error`'s message.
fn construct_bytes(ctor: Native, args: &[JsValue]) -> usize {
    let length = |v: &JsValue| match v {
        JsValue::Number(n) if n.is_finite() && *n >= 0.0 => *n as usize,
        _ => 0,
    };
    OBJECT_BYTES
        + match (ctor, args) {
            (Native::ArrayCtor, [n @ JsValue::Number(_)]) => {
                length(n).min(MAX_COLLECTION).saturating_mul(VALUE_BYTES)
            }
            (Native::ArrayCtor, items) => items.len() * VALUE_BYTES,
            (Native::Uint8ArrayCtor, [n @ JsValue::Number(_), ..]) => length(n).min(MAX_COLLECTION),
            (Native::Uint8ArrayCtor, [v, ..]) => byte_len(v),
            (Native::ErrorCtor, _) => props_bytes(2),
            (Native::DateCtor, _) => props_bytes(2),
            _ => 0,
        }
}

fn byte_len(v: &JsValue) -> usize {
    v.as_object().map_or(0, |o| match &o.0.lock().class {
        Class::Bytes(b) => b.len(),
        Class::Array(items) => items.len(),
        _ => 0,
    })
}

/// JavaScript's ToUint8: what a `Uint8Array` element becomes when a number is stored in it
/// (modulo 256; NaN and infinities are 0).
pub fn to_uint8(n: f64) -> u8 {
    if n.is_finite() {
        n.trunc().rem_euclid(256.0) as u8
    } else {
        0
    }
}

/// `new Uint8Array(v)`'s contents for an object `v`: a copy of a `Uint8Array`, the elements of
/// an array as bytes (ToUint8), else empty.
fn bytes_from(v: &JsValue) -> Vec<u8> {
    let Some(o) = v.as_object() else {
        return Vec::new();
    };
    let obj = o.0.lock();
    match &obj.class {
        Class::Bytes(b) => b.clone(),
        Class::Array(items) => items.iter().map(|x| to_uint8(x.to_number())).collect(),
        _ => Vec::new(),
    }
}

/// `new n(...args)`, counting what it makes against the program's memory limit.
///
/// # Errors
/// A trap when the new value would take the program over its memory limit.
pub fn construct(cx: &mut Cx<'_>, n: Native, args: &[JsValue]) -> wasmtime::Result<JsResult> {
    charge(cx, construct_bytes(n, args))?;
    Ok(Ok(match n {
        // `Object(x)` and `new Object(x)` of an object are that object (a primitive makes an
        // empty object here: the host has no wrappers of strings and numbers).
        Native::ObjectCtor => match args.first() {
            Some(o @ JsValue::Object(_)) => o.clone(),
            _ => JsValue::plain(&[]),
        },
        Native::ArrayCtor => match args {
            [JsValue::Number(len)] => {
                if len.fract() != 0.0 || *len < 0.0 || *len > MAX_COLLECTION as f64 {
                    return Ok(Err(error("Invalid array length", None)));
                }
                let len = *len as usize;
                JsValue::array(vec![JsValue::Undefined; len])
            }
            items => JsValue::array(items.to_vec()),
        },
        Native::Uint8ArrayCtor => {
            let bytes = match args.first() {
                Some(JsValue::Number(len)) => {
                    if len.fract() != 0.0 || *len < 0.0 || *len > MAX_COLLECTION as f64 {
                        return Ok(Err(error("Invalid typed array length", None)));
                    }
                    vec![0; *len as usize]
                }
                Some(v) => bytes_from(v),
                None => Vec::new(),
            };
            JsValue::object(Class::Bytes(bytes))
        }
        Native::DateCtor => {
            // `new Date(ms)`: that time; `new Date()`: now.
            let ms = match args.first() {
                Some(JsValue::Number(ms)) => *ms,
                _ => now_ms(),
            };
            let d = JsRef::new(Class::Date(ms));
            d.set("getTimezoneOffset", native(Native::DateGetTimezoneOffset));
            d.set("getTime", native(Native::DateGetTime));
            JsValue::Object(d)
        }
        Native::ErrorCtor => match arg(args, 0) {
            s @ JsValue::String(_) => error_with(s, None),
            // `new Error()`'s message is empty, as in JavaScript (not "undefined").
            JsValue::Undefined => error("", None),
            v => match v.to_js_string_within(MAX_MESSAGE_BYTES) {
                Some(m) => {
                    charge(cx, m.len())?;
                    error(&m, None)
                }
                None => {
                    return Ok(Err(error(
                        &format!("Invalid string length: an Error's message made from a value other than a string is at most {MAX_MESSAGE_BYTES} bytes"),
                        None,
                    )))
                }
            },
        },
        _ => return Ok(Err(error("not a constructor", None))),
    }))
}

/// `Object.keys(v)`: an array's (or byte array's) indices, then `v`'s own property names (in
/// name order), as strings; a value that is no object throws, as in JavaScript for null.
///
/// # Errors
/// A trap when the keys would take the program over its memory limit.
fn object_keys(cx: &mut Cx<'_>, v: &JsValue) -> wasmtime::Result<JsResult> {
    let Some(o) = v.as_object() else {
        return Ok(Err(error(
            "Cannot convert undefined or null to object",
            None,
        )));
    };
    let (indices, names): (usize, Vec<String>) = {
        let g = o.0.lock();
        let indices = match &g.class {
            Class::Array(items) => items.len(),
            Class::Bytes(bytes) => bytes.len(),
            _ => 0,
        };
        (indices, g.props.keys().cloned().collect())
    };
    let count = indices.saturating_add(names.len());
    if count > MAX_COLLECTION {
        return Ok(Err(error("Invalid array length", None)));
    }
    // Each key is a value and its text (an index has at most 10 digits).
    let text: usize = names.iter().map(String::len).sum::<usize>() + indices * 10;
    charge(cx, count.saturating_mul(VALUE_BYTES).saturating_add(text))?;
    let keys = (0..indices)
        .map(|i| JsValue::str(&i.to_string()))
        .chain(names.iter().map(|n| JsValue::str(n)))
        .collect();
    Ok(Ok(JsValue::array(keys)))
}

/// `Reflect.set(v, i, x)` for an index `i` (an array's or a byte array's element, else the
/// property named by it).
pub(crate) fn set_element(
    cx: &mut Cx<'_>,
    v: &JsValue,
    i: usize,
    x: JsValue,
) -> wasmtime::Result<()> {
    if let Some(o) = v.as_object() {
        let growth = {
            let obj = o.0.lock();
            match &obj.class {
                // Room for twice the new length: a vector grown by index doubles.
                Class::Array(items) if i < MAX_COLLECTION => {
                    let after = (i + 1).max(items.len());
                    let room = if after > items.capacity() {
                        after.max(items.capacity() * 2)
                    } else {
                        items.capacity()
                    };
                    (room - items.capacity()) * VALUE_BYTES
                }
                Class::Array(_) | Class::Bytes(_) => 0,
                // A property named by the index (at most 20 digits).
                _ => new_prop_bytes(obj.props.len()) + 20,
            }
        };
        charge(cx, growth)?;
        let mut obj = o.0.lock();
        match &mut obj.class {
            Class::Array(items) if i < MAX_COLLECTION => {
                if i >= items.len() {
                    items.resize(i + 1, JsValue::Undefined);
                }
                items[i] = x;
            }
            Class::Bytes(b) => {
                if let Some(slot) = b.get_mut(i) {
                    *slot = to_uint8(x.to_number());
                }
            }
            Class::Array(_) => {}
            _ => {
                obj.props.insert(i.to_string(), x);
            }
        }
    }
    Ok(())
}

/// The prototype method `name` of an object of class `class` that the host has, if any: an
/// array's `push`, `pop`, `join`, `slice`, `indexOf` and `includes`, and any object's
/// `hasOwnProperty`. The caller looks for an own property of that name first.
pub(crate) fn prototype_method(class: &Class, name: &str) -> Option<Native> {
    let array = matches!(class, Class::Array(_));
    Some(match name {
        "push" if array => Native::ArrayPush,
        "pop" if array => Native::ArrayPop,
        "join" if array => Native::ArrayJoin,
        "slice" if array => Native::ArraySlice,
        "indexOf" if array => Native::ArrayIndexOf,
        "includes" if array => Native::ArrayIncludes,
        "hasOwnProperty" if !matches!(class, Class::Native(_) | Class::GoFunc(_)) => {
            Native::HasOwnProperty
        }
        _ => return None,
    })
}

/// The longest text `join` makes (as `valuePrepareString` of an array): 1 MiB.
const MAX_JOINED_TEXT: usize = 1 << 20;

/// An array's prototype method `n` called on `this`, as JavaScript's.
///
/// # Errors
/// A trap when what it makes would take the program over its memory limit.
fn array_method(
    cx: &mut Cx<'_>,
    n: Native,
    this: &JsValue,
    args: &[JsValue],
) -> wasmtime::Result<JsResult> {
    let array = this
        .as_object()
        .filter(|o| matches!(o.0.lock().class, Class::Array(_)));
    let Some(o) = array else {
        return Ok(Err(error(
            "an Array method was called on a value that is not an array",
            None,
        )));
    };
    let len = || match &o.0.lock().class {
        Class::Array(items) => items.len(),
        _ => 0,
    };
    // A relative index as `slice` and `indexOf` read one: from the end when negative, within
    // the array.
    let relative = |v: JsValue, default: usize| -> usize {
        let n = match v {
            JsValue::Undefined => return default,
            v => v.to_number(),
        };
        let n = if n.is_nan() { 0.0 } else { n.trunc() };
        let len = len() as f64;
        (if n < 0.0 {
            (len + n).max(0.0)
        } else {
            n.min(len)
        }) as usize
    };
    Ok(Ok(match n {
        Native::ArrayPush => {
            for x in args {
                let at = len();
                if at >= MAX_COLLECTION {
                    return Ok(Err(error("Invalid array length", None)));
                }
                set_element(cx, this, at, x.clone())?;
            }
            JsValue::Number(len() as f64)
        }
        Native::ArrayPop => {
            let popped = match &mut o.0.lock().class {
                Class::Array(items) => items.pop(),
                _ => None,
            };
            popped.unwrap_or_default()
        }
        Native::ArrayJoin => {
            let sep = match arg(args, 0) {
                JsValue::Undefined => Some(",".to_string()),
                v => v.to_js_string_within(MAX_JOINED_TEXT),
            };
            let mut text = String::new();
            let fits = sep.is_some_and(|sep| match &o.0.lock().class {
                Class::Array(items) => {
                    let walk = &mut super::value::JoinWalk::of(o);
                    super::value::push_joined(items, &sep, &mut text, MAX_JOINED_TEXT, walk)
                }
                _ => true,
            });
            if !fits {
                return Ok(Err(error(
                    &format!("Invalid string length: `join` makes at most {MAX_JOINED_TEXT} bytes, from at most {} elements nested ones included", super::value::MAX_JOIN_ELEMENTS),
                    None,
                )));
            }
            charge(cx, text.len())?;
            JsValue::str(&text)
        }
        Native::ArraySlice => {
            let start = relative(arg(args, 0), 0);
            let end = relative(arg(args, 1), len()).max(start);
            charge(cx, (end - start).saturating_mul(VALUE_BYTES))?;
            let items = match &o.0.lock().class {
                Class::Array(items) => items[start.min(items.len())..end.min(items.len())].to_vec(),
                _ => Vec::new(),
            };
            JsValue::array(items)
        }
        Native::ArrayIndexOf | Native::ArrayIncludes => {
            let target = arg(args, 0);
            let from = relative(arg(args, 1), 0);
            // `indexOf` compares as `===` (NaN is never found), `includes` as SameValueZero.
            let zero = n == Native::ArrayIncludes;
            // Each distinct text is compared once: an array of millions of references to one
            // long text (charged once) compared every byte of it at every element, in one host
            // call no budget or kill reaches.
            let mut unequal = std::collections::HashSet::new();
            let found = match &o.0.lock().class {
                Class::Array(items) => items
                    .iter()
                    .skip(from)
                    .position(|v| match (v, &target) {
                        (JsValue::String(x), JsValue::String(_)) => {
                            let at = x.as_ptr() as usize;
                            !unequal.contains(&at)
                                && (same_value(v, &target, zero) || {
                                    unequal.insert(at);
                                    false
                                })
                        }
                        _ => same_value(v, &target, zero),
                    })
                    .map(|at| at + from),
                _ => None,
            };
            if zero {
                JsValue::Bool(found.is_some())
            } else {
                JsValue::Number(found.map_or(-1.0, |at| at as f64))
            }
        }
        _ => JsValue::Undefined,
    }))
}

/// `a === b`, or SameValueZero when `nan_equal` (`NaN` equal to itself).
fn same_value(a: &JsValue, b: &JsValue, nan_equal: bool) -> bool {
    match (a, b) {
        (JsValue::Undefined, JsValue::Undefined) | (JsValue::Null, JsValue::Null) => true,
        (JsValue::Bool(x), JsValue::Bool(y)) => x == y,
        (JsValue::Number(x), JsValue::Number(y)) => {
            x == y || (nan_equal && x.is_nan() && y.is_nan())
        }
        (JsValue::String(x), JsValue::String(y)) => x == y,
        (JsValue::Object(x), JsValue::Object(y)) => x.ptr() == y.ptr(),
        _ => false,
    }
}

/// `this.hasOwnProperty(name)`: an element of an array or byte array, an array's `length`, or
/// an own property.
fn has_own_property(this: &JsValue, name: &JsValue) -> bool {
    let Some(o) = this.as_object() else {
        return false;
    };
    let name = match name {
        JsValue::String(s) => s.to_string(),
        v => v.to_js_string_within(64).unwrap_or_default(),
    };
    let obj = o.0.lock();
    match (&obj.class, super::array_index(&name)) {
        (Class::Array(items), Some(i)) => i < items.len(),
        (Class::Bytes(b), Some(i)) => i < b.len(),
        (Class::Array(_), None) if name == "length" => true,
        _ => obj.props.contains_key(&name),
    }
}

/// `v instanceof ctor`.
pub fn instance_of(v: &JsValue, ctor: &JsValue) -> bool {
    let (Some(Kind::Native(n)), Some(kind)) = (ctor.kind(), v.kind()) else {
        return false;
    };
    match n {
        Native::ObjectCtor => true,
        Native::ArrayCtor => kind == Kind::Array,
        Native::Uint8ArrayCtor => kind == Kind::Bytes,
        Native::DateCtor => matches!(kind, Kind::Date(_)),
        Native::ErrorCtor => kind == Kind::Error,
        _ => false,
    }
}

/// Fills `b` from the operating system's random source (what `crypto.getRandomValues` and the
/// Go runtime's `getRandomData` are): `getrandom`, which reads the right source on every
/// platform a game ships to (`/dev/urandom` is a path on the current drive on Windows, which any
/// local user could create, and no clock makes up for it).
///
/// # Errors
/// A trap when the system has no random source to give: a Go program's seeds and `crypto/rand`
/// must never be guessable, so the mod stops instead.
/// The most bytes one `crypto.getRandomValues` call fills (JavaScript's own limit).
const MAX_RANDOM_VALUES: usize = 65_536;

pub fn fill_random(b: &mut [u8]) -> wasmtime::Result<()> {
    getrandom::fill(b).map_err(|e| {
        wasmtime::Error::msg(format!(
            "the system gave no random bytes for the Go program ({e}); it stops rather than run on guessable ones"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::{
        console_line, fill_random, has_own_property, instance_of, native, prototype_method,
        same_value, MAX_MESSAGE_BYTES,
    };
    use crate::gojs::native::Native;
    use crate::gojs::value::{error, Class, JsValue};

    #[test]
    fn arrays_have_their_prototype_methods_and_every_object_has_own_property() {
        let array = Class::Array(vec![]);
        assert_eq!(prototype_method(&array, "push"), Some(Native::ArrayPush));
        assert_eq!(prototype_method(&array, "map"), None);
        assert_eq!(prototype_method(&Class::Plain, "push"), None);
        assert_eq!(
            prototype_method(&Class::Plain, "hasOwnProperty"),
            Some(Native::HasOwnProperty)
        );
        let a = JsValue::array(vec![JsValue::Number(1.0), JsValue::Undefined]);
        assert!(has_own_property(&a, &JsValue::Number(1.0)));
        assert!(!has_own_property(&a, &JsValue::str("2")));
        assert!(has_own_property(&a, &JsValue::str("length")));
        assert!(!has_own_property(&a, &JsValue::str("push")));
        let o = JsValue::plain(&[("k", JsValue::Null)]);
        assert!(has_own_property(&o, &JsValue::str("k")));
        assert!(!has_own_property(
            &JsValue::str("k"),
            &JsValue::str("length")
        ));
    }

    #[test]
    fn index_of_compares_strictly_and_includes_finds_nan() {
        let nan = JsValue::Number(f64::NAN);
        assert!(!same_value(&nan, &nan, false));
        assert!(same_value(&nan, &nan, true));
        assert!(same_value(&JsValue::str("a"), &JsValue::str("a"), false));
        assert!(!same_value(&JsValue::str("1"), &JsValue::Number(1.0), true));
        let (x, y) = (JsValue::plain(&[]), JsValue::plain(&[]));
        assert!(same_value(&x, &x.clone(), false) && !same_value(&x, &y, false));
    }

    /// `join` of an array whose text passes the limit stops there instead of building it.
    #[test]
    fn a_join_past_its_limit_stops() {
        use crate::gojs::value::push_joined;
        let items = vec![JsValue::str(&"x".repeat(1000)); 100];
        let mut out = String::new();
        let holder = JsValue::array(vec![]);
        let walk = &mut crate::gojs::value::JoinWalk::of(holder.as_object().unwrap());
        assert!(!push_joined(&items, "--", &mut out, 10_000, walk));
        assert!(out.len() <= 10_000);
        // An array of many references to a nested array that makes no text: stopped at the
        // element count, not at the text's size.
        let mut nested = JsValue::array(vec![]);
        for _ in 0..60 {
            nested = JsValue::array(vec![nested]);
        }
        let wide = vec![nested; 100_000];
        let mut out = String::new();
        let walk = &mut crate::gojs::value::JoinWalk::of(holder.as_object().unwrap());
        assert!(!push_joined(&wide, "", &mut out, 10_000, walk));
        assert!(out.is_empty());
    }

    /// As JavaScript joins: an array inside is joined with ",", an array inside itself is empty,
    /// other objects are their `String(v)` (every object was "[object]").
    #[test]
    fn join_follows_arrays_inside_and_stops_at_one_inside_itself() {
        let text = |v: &JsValue| v.to_js_string_within(1000).unwrap();
        let inner = JsValue::array(vec![JsValue::Number(1.0), JsValue::Number(2.0)]);
        let outer = JsValue::array(vec![
            inner,
            JsValue::Null,
            JsValue::plain(&[]),
            error("e", None),
        ]);
        assert_eq!(text(&outer), "1,2,,[object Object],Error: e");
        // An array holding itself, twice removed: the inner mention is empty.
        let a = JsValue::array(vec![JsValue::Number(1.0)]);
        let b = JsValue::array(vec![a.clone(), JsValue::Number(3.0)]);
        if let Some(Class::Array(items)) = a.as_object().map(|o| o.0.lock().class.clone()) {
            let mut items = items;
            items.push(b.clone());
            a.as_object().unwrap().0.lock().class = Class::Array(items);
        }
        assert_eq!(text(&a), "1,,3");
        // Nested deeper than the join follows: the deepest levels are empty, without a stack
        // overflow.
        let mut deep = JsValue::Number(7.0);
        for _ in 0..10_000 {
            deep = JsValue::array(vec![deep]);
        }
        assert_eq!(text(&deep), "");
        crate::gojs::value::drop_values(vec![a, b, deep]);
    }
    /// Go code tells a thrown `Error` from other values with `v.InstanceOf(js.Global().Get("Error"))`
    /// (a promise's rejection, a caught exception): the host's errors and `new Error(...)` were
    /// plain objects, and no value was `instanceof Error`.
    #[test]
    fn errors_are_instances_of_error_and_other_objects_are_not() {
        let error_ctor = native(Native::ErrorCtor);
        let failure = error("not implemented", Some("ENOSYS"));
        assert!(instance_of(&failure, &error_ctor));
        assert!(instance_of(&failure, &native(Native::ObjectCtor)));
        assert!(!instance_of(&failure, &native(Native::ArrayCtor)));
        let plain = JsValue::plain(&[("message", JsValue::str("x"))]);
        assert!(!instance_of(&plain, &error_ctor));
        assert!(!instance_of(&JsValue::array(vec![]), &error_ctor));
        assert!(!instance_of(&JsValue::str("Error"), &error_ctor));
        // `String(v)`: only an Error reads "Error: ...".
        let text = |v: &JsValue| v.to_js_string_within(100).unwrap();
        assert_eq!(text(&failure), "Error: not implemented");
        assert_eq!(text(&error("", None)), "Error");
        assert_eq!(text(&plain), "[object Object]");
        let message = failure.as_object().map(|o| o.get_own("message"));
        assert!(matches!(message, Some(JsValue::String(_))), "{message:?}");
    }

    /// `console.log` of 1000 references to one 64 KiB string built a 64 MB line on the host (200,000
    /// of them, 13 GB: the allocation aborted the game). The whole line is cut at the limit.
    #[test]
    fn a_console_line_of_many_long_arguments_is_cut_as_a_whole() {
        let long = JsValue::str(&"x".repeat(MAX_MESSAGE_BYTES));
        let line = console_line(&vec![long; 1000]);
        assert!(line.len() <= MAX_MESSAGE_BYTES + 4, "{} bytes", line.len());
        assert!(line.ends_with("...\n"));
        let many = console_line(&vec![JsValue::Number(1.0); 100_000]);
        assert!(many.len() <= MAX_MESSAGE_BYTES + 4 && many.ends_with("...\n"));
        let short = console_line(&[JsValue::str("a"), JsValue::Number(2.0), JsValue::Bool(true)]);
        assert_eq!(short, "a 2 true\n");
    }

    #[test]
    fn random_bytes_fill_the_whole_buffer_and_differ_each_time() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
        // 64 bytes from a real source: a zero byte in each of the last 16 is a 1-in-2^128 event.
        assert!(a[48..].iter().any(|&x| x != 0) && b[48..].iter().any(|&x| x != 0));
        let mut empty: [u8; 0] = [];
        fill_random(&mut empty).unwrap();
    }
}
