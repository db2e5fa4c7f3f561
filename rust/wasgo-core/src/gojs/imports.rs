//! The `gojs` import functions, one per entry of `wasm_exec.js`'s `importObject.gojs`.
//!
//! Every import takes Go's stack pointer `sp`; its arguments sit at `sp + 8` onwards in the
//! layout Go's compiler gives the function's Go signature (8-byte slots, strings and slices as
//! (pointer, length) pairs of int64), and its results follow them. An import that can run Go
//! code again before it returns (a call of a `js.FuncOf` function re-enters through `resume`)
//! re-reads `sp` with `getsp()` before writing its results, because Go may have moved the
//! goroutine's stack meanwhile. Every address is checked against the memory; a bad one traps.

use super::builtins::{construct, instance_of, set_element};
use super::heap::{charge, own_bytes};
use super::value::{error, new_prop_bytes, Class, JsRef, JsValue, Kind, VALUE_BYTES};
use super::{call_function, get_prop, Cx, GoState, MAX_COLLECTION};
use crate::error::{HostTrap, TrapKind};
use crate::guest_kind::GOJS_IMPORTS;
use crate::hostfns::guarded;
use crate::state::InstanceState;
use wasmtime::{AsContextMut, Caller, Linker};

type Import = fn(&mut Cx<'_>, u64) -> wasmtime::Result<()>;

/// Adds every `gojs` import to `linker`.
pub(crate) fn link(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    for name in GOJS_IMPORTS {
        let f = function(name).expect("every `gojs` import has an implementation");
        let qname = format!("gojs.{name}");
        linker.func_wrap(
            super::GOJS_MODULE,
            name,
            move |mut caller: Caller<'_, InstanceState>, sp: i32| {
                let _in = super::enter_heap(caller.data());
                guarded(&qname, || {
                    f(&mut caller.as_context_mut(), u64::from(sp as u32))
                })
            },
        )?;
    }
    Ok(())
}

fn go<'a>(cx: &'a mut Cx<'_>) -> &'a mut GoState {
    super::state_mut(cx.data_mut())
}

/// The implementation of import `name` (every name of [`GOJS_IMPORTS`] has one).
fn function(name: &str) -> Option<Import> {
    Some(match name {
        "runtime.wasmExit" => wasm_exit,
        "runtime.wasmWrite" => wasm_write,
        "runtime.resetMemoryDataView" | "debug" => |_, _| Ok(()),
        "runtime.nanotime1" => nanotime1,
        "runtime.walltime" => walltime,
        "runtime.scheduleTimeoutEvent" => schedule_timeout_event,
        "runtime.clearTimeoutEvent" => clear_timeout_event,
        "runtime.getRandomData" => get_random_data,
        "syscall/js.finalizeRef" => finalize_ref,
        "syscall/js.stringVal" => string_val,
        "syscall/js.valueGet" => value_get,
        "syscall/js.valueSet" => value_set,
        "syscall/js.valueDelete" => value_delete,
        "syscall/js.valueIndex" => value_index,
        "syscall/js.valueSetIndex" => value_set_index,
        "syscall/js.valueCall" => value_call,
        "syscall/js.valueInvoke" => value_invoke,
        "syscall/js.valueNew" => value_new,
        "syscall/js.valueLength" => value_length,
        "syscall/js.valuePrepareString" => value_prepare_string,
        "syscall/js.valueLoadString" => value_load_string,
        "syscall/js.valueInstanceOf" => value_instance_of,
        "syscall/js.copyBytesToGo" => copy_bytes_to_go,
        "syscall/js.copyBytesToJS" => copy_bytes_to_js,
        _ => return None,
    })
}

fn out_of_range(addr: u64, len: u64) -> wasmtime::Error {
    HostTrap::new(
        TrapKind::HostCall,
        format!("a `gojs` import was given {len} bytes at {addr:#x}, outside the program's memory"),
    )
    .into_error()
}

fn range(cx: &mut Cx<'_>, addr: u64, len: u64) -> wasmtime::Result<std::ops::Range<usize>> {
    let size = go(cx).memory()?.data_size(&*cx) as u64;
    match addr.checked_add(len) {
        Some(end) if end <= size => Ok(addr as usize..end as usize),
        _ => Err(out_of_range(addr, len)),
    }
}

pub(super) fn read(cx: &mut Cx<'_>, addr: u64, len: u64) -> wasmtime::Result<Vec<u8>> {
    let r = range(cx, addr, len)?;
    let mem = go(cx).memory()?;
    Ok(mem.data(&*cx)[r].to_vec())
}

pub(super) fn write(cx: &mut Cx<'_>, addr: u64, bytes: &[u8]) -> wasmtime::Result<()> {
    let r = range(cx, addr, bytes.len() as u64)?;
    let mem = go(cx).memory()?;
    mem.data_mut(&mut *cx)[r].copy_from_slice(bytes);
    Ok(())
}

fn get_u64(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<u64> {
    let b = read(cx, addr, 8)?;
    Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

fn get_i32(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<i32> {
    let b = read(cx, addr, 4)?;
    Ok(i32::from_le_bytes(b.try_into().expect("4 bytes")))
}

fn set_i64(cx: &mut Cx<'_>, addr: u64, v: i64) -> wasmtime::Result<()> {
    write(cx, addr, &v.to_le_bytes())
}

/// A (pointer, length) pair at `addr`, checked against the memory.
fn slice_at(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<(u64, u64)> {
    let (ptr, len) = (get_u64(cx, addr)?, get_u64(cx, addr + 8)?);
    range(cx, ptr, len)?;
    Ok((ptr, len))
}

fn load_string(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<String> {
    let (ptr, len) = slice_at(cx, addr)?;
    Ok(String::from_utf8_lossy(&read(cx, ptr, len)?).into_owned())
}

fn load_value(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<JsValue> {
    let raw = get_u64(cx, addr)?;
    Ok(go(cx).table.load(raw))
}

fn store_value(cx: &mut Cx<'_>, addr: u64, v: &JsValue) -> wasmtime::Result<()> {
    // A value Go did not hold yet is counted against the memory limit: values the host makes
    // without counting (a thrown error's message, `godot.vec2`, the game's answers) reach Go
    // only through here (a million `vec2()` calls took 800 MB past an 8 MiB limit).
    if !go(cx).table.holds(v) {
        charge(cx, own_bytes(v))?;
    }
    let raw = go(cx)
        .table
        .store(v)
        .map_err(|m| HostTrap::new(TrapKind::HostCall, m).into_error())?;
    write(cx, addr, &raw.to_le_bytes())
}

fn load_values(cx: &mut Cx<'_>, addr: u64) -> wasmtime::Result<Vec<JsValue>> {
    let (ptr, len) = (get_u64(cx, addr)?, get_u64(cx, addr + 8)?);
    let bytes = read(cx, ptr, len.saturating_mul(8))?;
    // The values are counted before they are made: an argument list as large as the program's
    // memory takes three times its size on the host, and a callback that calls back with such a
    // list at every level held gigabytes past the limit.
    charge(cx, (bytes.len() / 8).saturating_mul(VALUE_BYTES))?;
    let go = go(cx);
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            go.table
                .load(u64::from_le_bytes(c.try_into().expect("8 bytes")))
        })
        .collect())
}

/// The program's stack pointer, from its `getsp` export (Go's returns it and calls nothing).
/// A `getsp` that calls into the host, which asks `getsp` again after every `valueCall`, would
/// recurse without end: compiled, that ends in wasmtime's stack-overflow trap; interpreted,
/// nothing bounds the thread's own stack (the interpreter has no stack-limit check for the
/// host frames between), and the process crashed. So a `getsp` inside a `getsp` traps.
fn getsp(cx: &mut Cx<'_>) -> wasmtime::Result<u64> {
    if go(cx).in_getsp {
        return Err(HostTrap::new(
            TrapKind::HostCall,
            "the program's `getsp` export called into the host (Go's returns its stack pointer and calls nothing): this module is not a Go program as `wasm_exec.js` runs it".to_string(),
        )
        .into_error());
    }
    let f = go(cx).exports()?.getsp.clone();
    go(cx).in_getsp = true;
    let sp = f.call(&mut *cx, ());
    go(cx).in_getsp = false;
    Ok(u64::from(sp? as u32))
}

fn wasm_exit(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let code = get_i32(cx, sp + 8)?;
    Err(go(cx).exit(code))
}

fn wasm_write(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    // Nothing a killed program writes reaches the game (as for `wasgo.log` and `fd_write`).
    if cx.data().kill.is_killed() {
        return Err(wasmtime::Error::new(crate::error::KilledTrap));
    }
    let fd = get_u64(cx, sp + 8)?;
    let p = get_u64(cx, sp + 16)?;
    let n = get_i32(cx, sp + 24)?;
    let bytes = read(cx, p, u64::from(n.max(0) as u32))?;
    let source = if fd == 1 {
        crate::events::OutputSource::Stdout
    } else {
        crate::events::OutputSource::Stderr
    };
    go(cx).write_output(source, &bytes);
    Ok(())
}

fn nanotime1(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let ns = go(cx).start.elapsed().as_nanos() as i64 + go(cx).time_origin_ns;
    set_i64(cx, sp + 8, ns)
}

fn walltime(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // `wasm_exec.js` has millisecond resolution; nanoseconds do no harm.
    set_i64(cx, sp + 8, now.as_secs() as i64)?;
    write(cx, sp + 16, &(now.subsec_nanos() as i32).to_le_bytes())
}

fn schedule_timeout_event(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let delay_ms = get_u64(cx, sp + 8)? as i64;
    let id = go(cx).schedule_timeout(delay_ms);
    write(cx, sp + 16, &id.to_le_bytes())
}

fn clear_timeout_event(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let id = get_i32(cx, sp + 8)?;
    go(cx).clear_timeout(id);
    Ok(())
}

/// `runtime.getRandomData(slice)`: filled straight into the program's memory, a chunk at a
/// time with the kill switch checked between chunks (see `wasi::fill_random`; a whole memory
/// was made on the host first, in one call nothing could stop).
fn get_random_data(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let (ptr, len) = slice_at(cx, sp + 8)?;
    let memory = go(cx).memory()?;
    if !crate::wasi::fill_random(&mut *cx, &memory, ptr as usize, len as usize)? {
        return Err(wasmtime::Error::msg(
            "the system gave no random bytes for the Go program; it stops rather than run on guessable ones",
        ));
    }
    Ok(())
}

fn finalize_ref(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let id = get_u64(cx, sp + 8)? as u32;
    go(cx).table.finalize(id);
    Ok(())
}

fn string_val(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let s = load_string(cx, sp + 8)?;
    charge(cx, s.len() + VALUE_BYTES)?;
    store_value(cx, sp + 24, &JsValue::str(&s))
}

fn value_get(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let name = load_string(cx, sp + 16)?;
    let result = get_prop(&v, &name);
    store_value(cx, sp + 32, &result)
}

fn value_set(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let name = load_string(cx, sp + 16)?;
    let x = load_value(cx, sp + 32)?;
    if let Some(o) = v.as_object() {
        let collection = matches!(o.0.lock().class, Class::Array(_) | Class::Bytes(_));
        if collection {
            // An index-like name is the element, as in JavaScript (`arr.Set("0", x)` then
            // `arr.Index(0)` read the old element), and an array's `length` cuts it.
            if let Some(i) = super::array_index(&name) {
                return set_element(cx, &v, i, x);
            }
            if name == "length" {
                let grow_to = {
                    let mut obj = o.0.lock();
                    match &mut obj.class {
                        Class::Array(items) => {
                            let n = x.to_number();
                            if !(n >= 0.0 && n.fract() == 0.0 && n <= MAX_COLLECTION as f64) {
                                // JavaScript throws a RangeError; Go's `Set` has no way to
                                // hear it, so the array is left as it is.
                                return Ok(());
                            }
                            let n = n as usize;
                            if n <= items.len() {
                                items.truncate(n);
                                return Ok(());
                            }
                            Some(n)
                        }
                        _ => None,
                    }
                };
                // A longer `length` grows the array (its new elements are `undefined`),
                // charged as a store to its last index is.
                if let Some(n) = grow_to {
                    return set_element(cx, &v, n - 1, JsValue::Undefined);
                }
            }
        }
        set_property(cx, o, &name, x)?;
    }
    Ok(())
}

/// Sets the property `name` of `o`, charging a new one to the program's host memory.
fn set_property(cx: &mut Cx<'_>, o: &JsRef, name: &str, x: JsValue) -> wasmtime::Result<()> {
    let grows = {
        let obj = o.0.lock();
        (!obj.props.contains_key(name)).then(|| new_prop_bytes(obj.props.len()))
    };
    if let Some(bytes) = grows {
        charge(cx, bytes + name.len())?;
    }
    o.set(name, x);
    Ok(())
}

fn value_delete(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let name = load_string(cx, sp + 16)?;
    if let Some(o) = v.as_object() {
        let mut obj = o.0.lock();
        match (&mut obj.class, super::array_index(&name)) {
            // An element deleted reads as `undefined` after (JavaScript leaves a hole).
            (Class::Array(items), Some(i)) => {
                if let Some(slot) = items.get_mut(i) {
                    *slot = JsValue::Undefined;
                }
            }
            _ => {
                obj.props.remove(&name);
            }
        }
    }
    Ok(())
}

fn value_index(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let i = get_u64(cx, sp + 16)? as i64;
    let slot = usize::try_from(i).unwrap_or(usize::MAX);
    // Read in place: copying an array of millions of values for each index made a loop over it
    // quadratic.
    let element = v.as_object().and_then(|o| match &o.0.lock().class {
        // A negative index is the property "-1" (`SetIndex(-1, x)` sets it).
        Class::Array(_) if i < 0 => None,
        Class::Array(items) => Some(items.get(slot).cloned().unwrap_or_default()),
        Class::Bytes(b) => Some(
            b.get(slot)
                .map(|x| JsValue::Number(f64::from(*x)))
                .unwrap_or_default(),
        ),
        _ => None,
    });
    let result = element.unwrap_or_else(|| get_prop(&v, &i.to_string()));
    store_value(cx, sp + 24, &result)
}

fn value_set_index(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    // Signed, as `wasm_exec.js` reads it (`getInt64`): `SetIndex(-1, x)` sets the property
    // "-1" (on an array too; a `Uint8Array` ignores it), as `Index(-1)` reads it back.
    let signed = get_u64(cx, sp + 16)? as i64;
    let x = load_value(cx, sp + 24)?;
    if signed < 0 {
        if let Some(o) = v.as_object() {
            if !matches!(o.0.lock().class, Class::Bytes(_)) {
                set_property(cx, o, &signed.to_string(), x)?;
            }
        }
        return Ok(());
    }
    set_element(cx, &v, signed as usize, x)
}

/// Stores a call's outcome at `getsp() + at`: the value, then the success flag.
fn store_outcome(
    cx: &mut Cx<'_>,
    at: u64,
    outcome: Result<JsValue, JsValue>,
) -> wasmtime::Result<()> {
    let sp = getsp(cx)?;
    let (v, ok) = match outcome {
        Ok(v) => (v, 1u8),
        Err(e) => (e, 0u8),
    };
    store_value(cx, sp + at, &v)?;
    write(cx, sp + at + 8, &[ok])
}

fn value_call(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let name = load_string(cx, sp + 16)?;
    let args = load_values(cx, sp + 32)?;
    let m = get_prop(&v, &name);
    let outcome = if m.is_function() {
        call_function(cx, &m, &v, args)?
    } else {
        // The name as far as it is readable: a 32 MB name made a 32 MB message per call.
        let shown = crate::text::prefix(&name, 200);
        Err(error(&format!("`{shown}` is not a function"), None))
    };
    store_outcome(cx, 56, outcome)
}

fn value_invoke(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let args = load_values(cx, sp + 16)?;
    let outcome = call_function(cx, &v, &JsValue::Undefined, args)?;
    store_outcome(cx, 40, outcome)
}

fn value_new(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let args = load_values(cx, sp + 16)?;
    let outcome = match v.kind() {
        Some(Kind::Native(n)) => construct(cx, n, &args)?,
        _ => Err(error("the value is not a constructor", None)),
    };
    store_outcome(cx, 40, outcome)
}

fn value_length(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let len = get_prop(&v, "length").to_number();
    set_i64(cx, sp + 16, if len.is_nan() { 0 } else { len as i64 })
}

/// The longest text `valuePrepareString` makes of a value that is not a string (an array, a
/// `Uint8Array`, an object): 1 MiB.
pub const MAX_FORMATTED_TEXT: usize = 1 << 20;

fn value_prepare_string(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let budget = cx.data().limits.memory_bytes;
    // A string's text is a copy; any other value's is made number by number, in the host, where
    // no budget can stop it (the text of a 15 MB `Uint8Array` held the game's frame 1.2 s).
    let formatted = !matches!(v, JsValue::String(_));
    let cap = if formatted {
        budget.min(MAX_FORMATTED_TEXT)
    } else {
        budget
    };
    let Some(text) = v.to_js_string_within(cap) else {
        return Err(HostTrap::new(
            TrapKind::HostCall,
            if formatted {
                format!("the program asked for the text of a value that would be longer than {} MiB, the most WasGo makes of a value that is not a string; convert smaller arrays to strings", MAX_FORMATTED_TEXT >> 20)
            } else {
                format!("the program asked for the text of a value longer than its memory limit of {} MiB (`memory_limit_mb`); convert smaller values to strings", budget >> 20)
            },
        )
        .into_error());
    };
    // Counted once, as Go takes it (`store_value`).
    let bytes = text.into_bytes();
    let len = bytes.len() as i64;
    store_value(cx, sp + 16, &JsValue::object(Class::Bytes(bytes)))?;
    set_i64(cx, sp + 24, len)
}

/// The first `most` bytes of a byte array (only what the program's buffer takes is copied: a
/// whole array of many megabytes was copied for every read, however small the buffer).
fn bytes_of(v: &JsValue, most: usize) -> Option<Vec<u8>> {
    v.as_object().and_then(|o| match &o.0.lock().class {
        Class::Bytes(b) => Some(b[..b.len().min(most)].to_vec()),
        _ => None,
    })
}

fn value_load_string(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let (ptr, len) = slice_at(cx, sp + 16)?;
    let bytes = bytes_of(&v, len as usize).unwrap_or_default();
    write(cx, ptr, &bytes)
}

fn value_instance_of(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let v = load_value(cx, sp + 8)?;
    let t = load_value(cx, sp + 16)?;
    write(cx, sp + 24, &[u8::from(instance_of(&v, &t))])
}

fn copy_bytes_to_go(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let (ptr, len) = slice_at(cx, sp + 8)?;
    let src = load_value(cx, sp + 32)?;
    let Some(bytes) = bytes_of(&src, len as usize) else {
        return write(cx, sp + 48, &[0]);
    };
    let n = bytes.len();
    write(cx, ptr, &bytes)?;
    set_i64(cx, sp + 40, n as i64)?;
    write(cx, sp + 48, &[1])
}

fn copy_bytes_to_js(cx: &mut Cx<'_>, sp: u64) -> wasmtime::Result<()> {
    let dst = load_value(cx, sp + 8)?;
    let (ptr, len) = slice_at(cx, sp + 16)?;
    // Only what the destination holds is read (a 1-byte array given a gigabyte-long slice read
    // the gigabyte), as `copyBytesToGo` reads only what the source holds.
    let room = dst.as_object().map_or(0, |o| match &o.0.lock().class {
        Class::Bytes(b) => b.len() as u64,
        _ => 0,
    });
    let src = read(cx, ptr, len.min(room))?;
    let copied = dst.as_object().and_then(|o| match &mut o.0.lock().class {
        Class::Bytes(b) => {
            let n = b.len().min(src.len());
            b[..n].copy_from_slice(&src[..n]);
            Some(n)
        }
        _ => None,
    });
    match copied {
        Some(n) => {
            set_i64(cx, sp + 40, n as i64)?;
            write(cx, sp + 48, &[1])
        }
        None => write(cx, sp + 48, &[0]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_gojs_import_has_an_implementation() {
        for name in super::GOJS_IMPORTS {
            assert!(super::function(name).is_some(), "`{name}`");
        }
    }
}
