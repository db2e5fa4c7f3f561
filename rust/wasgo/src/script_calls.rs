//! `WasmScript.call_export`: arguments converted and checked against the export's signature,
//! the call made through [`ScriptCore::enter`] (so a nested call fails cleanly and no borrow is
//! held while the mod runs), the events it raised delivered afterwards.

use crate::convert;
use crate::script_core::ScriptCore;
use godot::prelude::*;
use std::rc::Rc;
use wasgo_core::WasgoError;

/// Calls export `name` with `args`; `null` and `get_last_error()` set on failure.
pub fn call_export(core: &Rc<ScriptCore>, name: &str, args: &VarArray) -> Variant {
    let Some(instance) = core.instance() else {
        return core.fail_value(format!(
            "cannot call `{name}`: the mod is not started (call start() first)"
        ));
    };
    let Some(sig) = instance.export_signature(name) else {
        return core.fail_value(format!(
            "`{}` has no exported function `{name}` with number arguments",
            instance.name()
        ));
    };
    drop(instance);
    if sig.params.len() != args.len() {
        return core.fail_value(format!(
            "`{name}` takes {} arguments, {} were given",
            sig.params.len(),
            args.len()
        ));
    }
    let mut vals = Vec::with_capacity(args.len());
    for (i, (v, t)) in args.iter_shared().zip(&sig.params).enumerate() {
        match convert::variant_to_val(&v, *t) {
            Ok(val) => vals.push(val),
            Err(e) => return core.fail_value(format!("argument {} of `{name}`: {e}", i + 1)),
        }
    }
    let Some(result) = core.enter(name, &vals) else {
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
