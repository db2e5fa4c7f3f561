//! The host side of a mod's call to a game function: lowers the wasm arguments, runs the call on
//! the main thread through the game's [`GameCallHandler`](crate::game::GameCallHandler), and
//! lifts the results. The registry and the types are in [`game`](crate::game).

use crate::error::{HostTrap, TrapKind};
use crate::game::{GameFunction, GameType, GameValue};
use crate::guest;
use crate::state::InstanceState;
use wasmtime::{Caller, Val};

/// The host side of a mod's call to a game function: lowers the wasm arguments, runs the call on
/// the main thread, and lifts the results.
pub(crate) fn call_from_wasm(
    f: &GameFunction,
    caller: &mut Caller<'_, InstanceState>,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let qname = f.qualified_name();
    let mut args = Vec::with_capacity(f.params.len());
    let mut i = 0;
    for t in &f.params {
        let value = match t {
            GameType::I32 => GameValue::I32(params[i].unwrap_i32()),
            GameType::I64 => GameValue::I64(params[i].unwrap_i64()),
            GameType::F32 => GameValue::F32(params[i].unwrap_f32()),
            GameType::F64 => GameValue::F64(params[i].unwrap_f64()),
            GameType::String => {
                let s = guest::read_str(
                    caller,
                    &qname,
                    params[i].unwrap_i32(),
                    params[i + 1].unwrap_i32(),
                )?;
                i += 1;
                GameValue::String(s)
            }
        };
        i += 1;
        args.push(value);
    }
    // A `"string"` result too large for the mod's buffer is kept for the retry the buffer rule
    // asks for (the same call right after it, with room): the game's Callable runs once.
    let retry_key = f
        .returns_string()
        .then(|| retry_key(f, &params[..i], &args));
    if let Some(key) = &retry_key {
        if let Some((kept_key, text, calls)) = caller.data_mut().stash.take() {
            let (out_ptr, out_cap) = (params[i].unwrap_i32(), params[i + 1].unwrap_i32());
            let retry = kept_key == *key
                && calls == caller.data().object_calls
                && usize::try_from(out_cap).is_ok_and(|cap| cap >= text.len());
            if retry {
                results[0] = Val::I32(guest::write_out(caller, &qname, out_ptr, out_cap, &text)?);
                return Ok(());
            }
        }
    }
    // Counted as object calls are: a result kept for a retry answers only a call with none
    // between.
    caller.data_mut().object_calls += 1;
    call_and_lift(f, caller, params, results, args, i, retry_key)
}

/// What a kept string result of `f` answers: the function, every wasm argument before the
/// result's buffer (`params`), and the text arguments as read (the same pointers may hold other
/// text by the retry).
fn retry_key(f: &GameFunction, params: &[Val], args: &[GameValue]) -> Vec<u8> {
    let mut key = b"game\0".to_vec();
    key.extend_from_slice(&f.id.to_le_bytes());
    for p in params {
        let bits = match p {
            Val::I32(v) => i64::from(*v),
            Val::I64(v) => *v,
            Val::F32(v) => i64::from(*v),
            Val::F64(v) => *v as i64,
            _ => 0,
        };
        key.extend_from_slice(&bits.to_le_bytes());
    }
    for a in args {
        if let GameValue::String(text) = a {
            key.extend_from_slice(&(text.len() as u64).to_le_bytes());
            key.extend_from_slice(text.as_bytes());
        }
    }
    key
}

/// Runs the game function `f` with `args` on the main thread and lifts its results; the
/// buffer of a `"string"` result is the wasm arguments from `i` on. A string result too large
/// for the buffer is kept under `retry_key`.
fn call_and_lift(
    f: &GameFunction,
    caller: &mut Caller<'_, InstanceState>,
    params: &[Val],
    results: &mut [Val],
    args: Vec<GameValue>,
    i: usize,
    retry_key: Option<Vec<u8>>,
) -> wasmtime::Result<()> {
    let qname = f.qualified_name();
    let handler = caller.data().hosts.game.clone();
    let (id, key) = (f.id, caller.data().key);
    let outcome = crate::object_calls::on_main_thread(caller.data_mut(), move || {
        handler.call(key, id, args)
    })?;
    let values = outcome.map_err(|m| {
        HostTrap::new(
            TrapKind::HostCall,
            format!("game function `{qname}` failed: {m}"),
        )
        .into_error()
    })?;
    let mismatch = || {
        HostTrap::new(TrapKind::HostCall, format!("game function `{qname}` returned values that do not match its declared results {:?}", f.results)).into_error()
    };
    if values.len() != f.results.len() {
        return Err(mismatch());
    }
    if f.returns_string() {
        let GameValue::String(text) = &values[0] else {
            return Err(mismatch());
        };
        let out_cap = params[i + 1].unwrap_i32();
        let len = guest::write_out(
            caller,
            &qname,
            params[i].unwrap_i32(),
            out_cap,
            text.as_bytes(),
        )?;
        if let Some(key) = retry_key.filter(|_| len > out_cap) {
            let calls = caller.data().object_calls;
            caller.data_mut().stash = Some((key, text.as_bytes().to_vec(), calls));
        }
        results[0] = Val::I32(len);
        return Ok(());
    }
    for (slot, (value, t)) in results.iter_mut().zip(values.into_iter().zip(&f.results)) {
        *slot = match (value, t) {
            (GameValue::I32(v), GameType::I32) => Val::I32(v),
            (GameValue::I64(v), GameType::I64) => Val::I64(v),
            (GameValue::F32(v), GameType::F32) => Val::F32(v.to_bits()),
            (GameValue::F64(v), GameType::F64) => Val::F64(v.to_bits()),
            _ => return Err(mismatch()),
        };
    }
    Ok(())
}
