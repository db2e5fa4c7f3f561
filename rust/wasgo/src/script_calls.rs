//! `WasmScript.call_export` and `WasmScript.invoke`: arguments converted and checked against the
//! export's signature, the call made through [`ScriptCore::enter`] (so a nested call fails cleanly
//! and no borrow is held while the mod runs), the events it raised delivered afterwards. A
//! `String` or `PackedByteArray` argument is passed as a pointer and a length in a buffer from
//! the mod's `malloc` (`wasgo_core::export_args`). A Go-js mod's `call_export` calls the function
//! its program set on the global object (`js.FuncOf`); `invoke` runs a waPC operation.

use crate::convert;
use crate::objects;
use crate::script_core::ScriptCore;
use godot::prelude::*;
use std::borrow::Borrow;
use std::rc::Rc;
use wasgo_core::export_args::ExportArg;
use wasgo_core::wapc::InvokeError;
use wasgo_core::{MainKind, WasgoError};

/// Calls export `name` with `args` (an Array's items, or a Callable's arguments); `null` and
/// `get_last_error()` set on failure.
pub fn call_export<V: Borrow<Variant>>(core: &Rc<ScriptCore>, name: &str, args: &[V]) -> Variant {
    let Some(instance) = core.instance() else {
        return core.fail_value(format!(
            "cannot call `{name}`: the mod is not started (call start() first)"
        ));
    };
    if instance.main_kind() == Some(MainKind::GoJs) {
        drop(instance);
        return call_js(core, name, args);
    }
    // The arguments are checked and converted while the signature is borrowed from the
    // instance; the instance's `Rc` is dropped before the entry (a kill settled after it needs
    // the only reference).
    let vals = {
        let Some(sig) = instance.export_signature(name) else {
            return core.fail_value(instance.no_signature_message(name));
        };
        if args.iter().any(|v| is_data(v.borrow())) {
            let mut passed = Vec::with_capacity(args.len());
            let mut at = 0;
            for (i, v) in args.iter().enumerate() {
                let v = v.borrow();
                if let Some(bytes) = data_of(v) {
                    passed.push(ExportArg::Bytes(bytes));
                    at += 2;
                    continue;
                }
                let Some(t) = sig.params.get(at) else {
                    break; // too many arguments: `call_with_bytes` says so
                };
                match convert::variant_to_val(v, *t) {
                    Ok(val) => passed.push(ExportArg::Number(val)),
                    Err(e) => {
                        return core.fail_value(format!("argument {} of `{name}`: {e}", i + 1))
                    }
                }
                at += 1;
            }
            if passed.len() < args.len() {
                return core.fail_value(format!(
                    "`{name}` takes {} parameters, and the {} arguments given fill more (a String or PackedByteArray fills two: a pointer and a length)",
                    sig.params.len(),
                    args.len()
                ));
            }
            drop(instance);
            let result = core.enter_with(name, |instance| instance.call_with_bytes(name, passed));
            return finish(core, name, result);
        }
        if sig.params.len() != args.len() {
            return core.fail_value(format!(
                "`{name}` takes {} arguments, {} were given",
                sig.params.len(),
                args.len()
            ));
        }
        let mut vals = Vec::with_capacity(args.len());
        for (i, (v, t)) in args.iter().zip(&sig.params).enumerate() {
            match convert::variant_to_val(v.borrow(), *t) {
                Ok(val) => vals.push(val),
                Err(e) => return core.fail_value(format!("argument {} of `{name}`: {e}", i + 1)),
            }
        }
        vals
    };
    drop(instance);
    let result = core.enter(name, &vals);
    finish(core, name, result)
}

/// Whether `v` is passed as a pointer and a length (text or bytes).
fn is_data(v: &Variant) -> bool {
    matches!(
        v.get_type(),
        VariantType::STRING | VariantType::PACKED_BYTE_ARRAY
    )
}

/// The bytes of a `String` (UTF-8) or `PackedByteArray` argument.
fn data_of(v: &Variant) -> Option<Vec<u8>> {
    match v.get_type() {
        VariantType::STRING => Some(v.to::<GString>().to_string().into_bytes()),
        VariantType::PACKED_BYTE_ARRAY => Some(v.to::<PackedByteArray>().to_vec()),
        _ => None,
    }
}

/// The Variant `call_export` answers for the outcome of an entry (`None`: no instance), the
/// events delivered first.
fn finish(
    core: &Rc<ScriptCore>,
    name: &str,
    result: Option<Result<Vec<wasmtime::Val>, WasgoError>>,
) -> Variant {
    let Some(result) = result else {
        return core.fail_value(format!("cannot call `{name}`: the mod is not started"));
    };
    core.pump();
    match result {
        Ok(results) => match results.len() {
            0 => Variant::nil(),
            1 => convert::val_to_variant(&results[0]),
            _ => results
                .iter()
                .map(convert::val_to_variant)
                .collect::<VarArray>()
                .to_variant(),
        },
        // A trap was reported (printed, `trapped` emitted) by pump() already.
        Err(WasgoError::Trap(info)) => {
            core.set_last_error(info.message);
            Variant::nil()
        }
        Err(e) => core.fail_value(e.to_string()),
    }
}

/// Calls the Go-js function `name` (set on the global with `js.FuncOf`) with any Variants.
fn call_js<V: Borrow<Variant>>(core: &Rc<ScriptCore>, name: &str, args: &[V]) -> Variant {
    let Some(key) = core.key.get() else {
        return core.fail_value(format!("cannot call `{name}`: the mod is not started"));
    };
    let values: Vec<Variant> = args.iter().map(|v| v.borrow().clone()).collect();
    let wire = match objects::arguments_for_mod(key, &values) {
        Ok(wire) => wire,
        Err(e) => return core.fail_value(format!("cannot call `{name}`: {e}")),
    };
    let Some(result) = core.enter_with(name, |instance| instance.call_js(name, wire)) else {
        return core.fail_value(format!("cannot call `{name}`: the mod is not started"));
    };
    core.pump();
    match result {
        Ok(value) => match objects::value_from_mod(key, &value) {
            Ok(v) => v,
            Err(e) => core.fail_value(format!("the result of `{name}`: {e}")),
        },
        Err(WasgoError::Trap(info)) => {
            core.set_last_error(info.message);
            Variant::nil()
        }
        Err(e) => core.fail_value(e.to_string()),
    }
}

/// Runs waPC operation `operation` with `payload`; the guest's response, or empty with
/// `get_last_error()` set on failure.
pub fn invoke(
    core: &Rc<ScriptCore>,
    operation: &str,
    payload: &PackedByteArray,
) -> PackedByteArray {
    let Some(result) = core.enter_with(operation, |instance| {
        instance.invoke(operation, payload.as_slice())
    }) else {
        core.fail_value(format!(
            "cannot invoke `{operation}`: the mod is not started (call start() first)"
        ));
        return PackedByteArray::new();
    };
    core.pump();
    match result {
        Ok(bytes) => PackedByteArray::from(bytes.as_slice()),
        // A trap was reported (printed, `trapped` emitted) by pump() already.
        Err(InvokeError::Failed(WasgoError::Trap(info))) => {
            core.set_last_error(info.message);
            PackedByteArray::new()
        }
        Err(e) => {
            core.fail_value(e.to_string());
            PackedByteArray::new()
        }
    }
}
