//! Handles, properties, methods, signals and events: each builds an [`ObjectOp`] for the game's
//! object host ([`crate::objects`]) and writes its reply back.

use super::generated::ObjectFunctions;
use super::{int_reply, Caller, Host};
use crate::guest;
use crate::object_calls as objects;
use crate::objects::{ObjectOp, ObjectReply};
use crate::variant::WireVariant;
use wasgo_catalog::ErrorCode;

impl ObjectFunctions for Host {
    fn self_(c: &mut Caller<'_>) -> wasmtime::Result<i32> {
        int_reply(objects::run(c, ObjectOp::SelfNode)?)
    }

    fn get_node(
        c: &mut Caller<'_>,
        from: i32,
        path_ptr: i32,
        path_len: i32,
    ) -> wasmtime::Result<i32> {
        objects::get_node(c, from, path_ptr, path_len)
    }

    fn singleton(c: &mut Caller<'_>, name_ptr: i32, name_len: i32) -> wasmtime::Result<i32> {
        let name = guest::read_str(c, "wasgo.singleton", name_ptr, name_len)?;
        int_reply(objects::run(c, ObjectOp::Singleton { name })?)
    }

    fn release(c: &mut Caller<'_>, handle: i32) -> wasmtime::Result<()> {
        if c.data().on_main_thread {
            objects::run(c, ObjectOp::Release { handle }).map(|_| ())
        } else {
            objects::queue(c, ObjectOp::Release { handle }, 0)
        }
    }

    fn get(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        out_ptr: i32,
        out_cap: i32,
    ) -> wasmtime::Result<i32> {
        const F: &str = "wasgo.get";
        match objects::get_property(c, F, handle, name_ptr, name_len)? {
            Ok(value) => objects::reply_value(c, F, out_ptr, out_cap, ObjectReply::Value(value)),
            Err(code) => Ok(code),
        }
    }

    fn set(
        c: &mut Caller<'_>,
        handle: i32,
        name_ptr: i32,
        name_len: i32,
        val_ptr: i32,
        val_len: i32,
    ) -> wasmtime::Result<i32> {
        let value = match objects::decode(c, "wasgo.set", val_ptr, val_len)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        objects::set_property(
            c,
            "wasgo.set",
            handle,
            name_ptr,
            name_len,
            value,
            val_len.max(0) as usize,
        )
    }

    fn call(
        c: &mut Caller<'_>,
        handle: i32,
        method_ptr: i32,
        method_len: i32,
        args_ptr: i32,
        args_len: i32,
        out_ptr: i32,
        out_cap: i32,
    ) -> wasmtime::Result<i32> {
        call(
            c, handle, method_ptr, method_len, args_ptr, args_len, out_ptr, out_cap,
        )
    }

    fn connect(
        c: &mut Caller<'_>,
        handle: i32,
        signal_ptr: i32,
        signal_len: i32,
        callback_id: i32,
    ) -> wasmtime::Result<i32> {
        let signal = guest::read_str(c, "wasgo.connect", signal_ptr, signal_len)?;
        int_reply(objects::run(
            c,
            ObjectOp::Connect {
                handle,
                signal,
                callback_id,
            },
        )?)
    }

    fn callback_args(c: &mut Caller<'_>, out_ptr: i32, out_cap: i32) -> wasmtime::Result<i32> {
        match objects::run(c, ObjectOp::CallbackArgs)? {
            Ok(reply) => objects::reply_value(c, "wasgo.callback_args", out_ptr, out_cap, reply),
            Err(code) => Ok(code),
        }
    }

    fn emit(
        c: &mut Caller<'_>,
        name_ptr: i32,
        name_len: i32,
        payload_ptr: i32,
        payload_len: i32,
    ) -> wasmtime::Result<i32> {
        let name = guest::read_str(c, "wasgo.emit", name_ptr, name_len)?;
        let payload = match objects::decode(c, "wasgo.emit", payload_ptr, payload_len)? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        int_reply(objects::run(c, ObjectOp::Emit { name, payload })?)
    }
}

/// `wasgo.call`: a result too large for the buffer is kept, so the mod's retry with a larger
/// buffer gets it without calling the method a second time. Only that retry: the same call
/// right after it with room for the result, no other object call between. An identical call
/// with no room again (a mod that ignores results: `rotate(0.1)` every frame with no buffer)
/// runs the method again; it was skipped, every time after the first.
#[allow(clippy::too_many_arguments)]
fn call(
    c: &mut Caller<'_>,
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
    if let Some((stashed_request, result, calls)) = c.data_mut().stash.take() {
        let retry = stashed_request == request
            && calls == c.data().object_calls
            && usize::try_from(out_cap).is_ok_and(|cap| cap >= result.len());
        if retry {
            return guest::write_out(c, F, out_ptr, out_cap, &result);
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
                ErrorCode::InvalidArgument.code(),
                format!(
                    "`{F}` takes its arguments as an encoded Array, not {}",
                    // The value's start: a 60 MiB value was spelled out whole here (1.4 s).
                    debug_prefix(&other, 200)
                ),
            ));
        }
        Err(e) => {
            return Ok(c.data_mut().fail(
                ErrorCode::InvalidArgument.code(),
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
        let calls = c.data().object_calls;
        c.data_mut().stash = Some((request, result, calls));
    }
    Ok(len)
}

/// The start of `v`'s `Debug` text, at most `max` bytes: formatting stops there (a 60 MiB value
/// spelled out whole in an error message took 1.4 s and 189 MB).
fn debug_prefix(v: &impl std::fmt::Debug, max: usize) -> String {
    struct Limited {
        text: String,
        max: usize,
    }
    impl std::fmt::Write for Limited {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let kept = crate::text::prefix(s, self.max - self.text.len());
            self.text.push_str(kept);
            if kept.len() < s.len() {
                return Err(std::fmt::Error);
            }
            Ok(())
        }
    }
    let mut out = Limited {
        text: String::new(),
        max,
    };
    if std::fmt::write(&mut out, format_args!("{v:?}")).is_err() {
        out.text.push_str("...");
    }
    out.text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_debug_prefix_stops_at_its_limit() {
        let big = vec![7u8; 10_000_000];
        let text = super::debug_prefix(&big, 20);
        assert_eq!(text, "[7, 7, 7, 7, 7, 7, 7...");
        assert_eq!(super::debug_prefix(&Some(1), 20), "Some(1)");
    }
}
