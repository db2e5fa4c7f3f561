//! The typed fast paths: the same allowlist as `get`/`set`/`call`, with numbers written straight
//! into the mod's memory instead of encoded Variants.

use super::generated::FastFunctions;
use super::{Caller, Host};
use crate::guest;
use crate::object_calls as objects;
use crate::objects::{ObjectOp, ObjectReply};
use crate::variant::{as_f64, Vector2, Vector3, WireVariant};
use wasgo_catalog::ErrorCode;

/// Most arguments `wasgo.call_float` takes.
const MAX_FLOAT_ARGS: i32 = 16;

impl FastFunctions for Host {
    fn get_float(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        out_ptr: i32,
    ) -> wasmtime::Result<i32> {
        let property = Property {
            handle,
            name_ptr,
            name_len,
        };
        fast_get(c, "wasgo.get_float", property, out_ptr, "a number", |v| {
            as_f64(v).map(|f| Bytes::of(&f.to_le_bytes()))
        })
    }

    #[inline]
    fn set_float(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        value: f64,
    ) -> wasmtime::Result<i32> {
        let value = WireVariant::Float(value);
        objects::set_property(c, "wasgo.set_float", handle, name_ptr, name_len, value, 16)
    }

    fn get_vec2(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        out_ptr: i32,
    ) -> wasmtime::Result<i32> {
        let property = Property {
            handle,
            name_ptr,
            name_len,
        };
        fast_get(
            c,
            "wasgo.get_vec2",
            property,
            out_ptr,
            "a Vector2",
            |v| match v {
                WireVariant::Vector2(a) => Some(floats(&[a.x, a.y])),
                _ => None,
            },
        )
    }

    #[inline]
    fn set_vec2(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        x: f32,
        y: f32,
    ) -> wasmtime::Result<i32> {
        let value = WireVariant::Vector2(Vector2::new(x, y));
        objects::set_property(c, "wasgo.set_vec2", handle, name_ptr, name_len, value, 16)
    }

    fn get_vec3(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        out_ptr: i32,
    ) -> wasmtime::Result<i32> {
        let property = Property {
            handle,
            name_ptr,
            name_len,
        };
        fast_get(
            c,
            "wasgo.get_vec3",
            property,
            out_ptr,
            "a Vector3",
            |v| match v {
                WireVariant::Vector3(a) => Some(floats(&[a.x, a.y, a.z])),
                _ => None,
            },
        )
    }

    #[inline]
    fn set_vec3(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        x: f32,
        y: f32,
        z: f32,
    ) -> wasmtime::Result<i32> {
        let value = WireVariant::Vector3(Vector3::new(x, y, z));
        objects::set_property(c, "wasgo.set_vec3", handle, name_ptr, name_len, value, 16)
    }

    fn call_float(
        c: &mut Caller<'_>,
        handle: i32,
        method_ptr: i32,
        method_len: i32,
        args_ptr: i32,
        argc: i32,
        out_ptr: i32,
    ) -> wasmtime::Result<i32> {
        const F: &str = "wasgo.call_float";
        let method = guest::read_str(c, F, method_ptr, method_len)?;
        if !(0..=MAX_FLOAT_ARGS).contains(&argc) {
            return Ok(c.data_mut().fail(
                ErrorCode::InvalidArgument.code(),
                format!("`{F}` takes 0 to {MAX_FLOAT_ARGS} arguments, not {argc}"),
            ));
        }
        let raw = guest::read_bytes(c, F, args_ptr, argc * 8)?;
        let args = raw
            .chunks_exact(8)
            .map(|b| WireVariant::Float(f64::from_le_bytes(b.try_into().unwrap())))
            .collect();
        let op = ObjectOp::Call {
            handle,
            method,
            args,
        };
        let value = match objects::run(c, op)? {
            Ok(ObjectReply::Value(v)) => v,
            Ok(ObjectReply::Int(i)) => WireVariant::Int(i as i64),
            Err(code) => return Ok(code),
        };
        // A number as it is, a bool as 1.0 or 0.0, nothing (a method without a result) as
        // 0.0; any other result is refused after the call (`call` reads it).
        let n = match &value {
            WireVariant::Nil => 0.0,
            WireVariant::Bool(b) => f64::from(u8::from(*b)),
            v => match as_f64(v) {
                Some(n) => n,
                None => {
                    let method = guest::read_str(c, F, method_ptr, method_len)?;
                    return Ok(c.data_mut().fail(
                        ErrorCode::InvalidArgument.code(),
                        format!(
                            "`{F}`: `{method}` returned something other than a number or a bool (the method has run); read such a result with `wasgo.call`"
                        ),
                    ));
                }
            },
        };
        if out_ptr != 0 {
            let memory = guest::memory(c, F)?;
            guest::write_bytes(&memory, &mut *c, F, out_ptr, &n.to_le_bytes())?;
        }
        Ok(0)
    }
}

/// The property a fast path names: a handle and the name's bytes in the mod's memory.
struct Property {
    handle: i32,
    name_ptr: i32,
    name_len: i32,
}

/// A fast getter's answer: at most 12 bytes (a Vector3), kept on the stack.
struct Bytes {
    buf: [u8; 12],
    len: usize,
}

impl Bytes {
    fn of(bytes: &[u8]) -> Bytes {
        let mut buf = [0u8; 12];
        buf[..bytes.len()].copy_from_slice(bytes);
        Bytes {
            buf,
            len: bytes.len(),
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Little-endian `f32`s as the mod reads them (at most three).
fn floats(a: &[f32]) -> Bytes {
    let mut out = Bytes {
        buf: [0u8; 12],
        len: a.len() * 4,
    };
    for (chunk, x) in out.buf.chunks_exact_mut(4).zip(a) {
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    out
}

/// A typed property read: the value's bytes go to `out_ptr`; a value of another type is
/// [`ErrorCode::InvalidArgument`].
fn fast_get(
    c: &mut Caller<'_>,
    function: &str,
    property: Property,
    out_ptr: i32,
    expected: &str,
    bytes_of: impl FnOnce(&WireVariant) -> Option<Bytes>,
) -> wasmtime::Result<i32> {
    let Property {
        handle,
        name_ptr,
        name_len,
    } = property;
    let value = match objects::get_property(c, function, handle, name_ptr, name_len)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let Some(bytes) = bytes_of(&value) else {
        let name = guest::read_str(c, function, name_ptr, name_len)?;
        return Ok(c.data_mut().fail(
            ErrorCode::InvalidArgument.code(),
            format!("`{function}`: property `{name}` is not {expected}"),
        ));
    };
    let memory = guest::memory(c, function)?;
    guest::write_bytes(&memory, &mut *c, function, out_ptr, bytes.as_slice())?;
    Ok(0)
}
