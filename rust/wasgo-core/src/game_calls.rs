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
    let handler = caller.data().hosts.game.clone();
    let id = f.id;
    let outcome =
        crate::object_calls::on_main_thread(caller.data_mut(), move || handler.call(id, args))?;
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
        let len = guest::write_out(
            caller,
            &qname,
            params[i].unwrap_i32(),
            params[i + 1].unwrap_i32(),
            text.as_bytes(),
        )?;
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
