//! waPC host operations the game registers (`WasmEngine.register_wapc_handler`): the core keeps
//! the registry (operation, level, handler); the Callables live here, on the main thread, because
//! a `Callable` is not `Send`. The core's registry holds a [`GodotWapcHandler`] that finds the
//! Callable by its operation when a mod calls it (always on the main thread, through the bridge).

use crate::runtime::{report, runtime_or_report};
use crate::state::{self, Part};
use godot::global::Error;
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use wasgo_core::wapc::builtin::BINDING;
use wasgo_core::wapc_handlers::{WapcHandler, WapcOperation};
use wasgo_core::{InstanceKey, SafetyLevel};

/// The Callables of registered waPC operations (`state.rs`'s `wapc_calls` part).
#[derive(Default)]
pub struct WapcCallables(RefCell<HashMap<WapcOperation, Callable>>);

impl Part for WapcCallables {}

fn with_callables<R>(f: impl FnOnce(&RefCell<HashMap<WapcOperation, Callable>>) -> R) -> Option<R> {
    state::with_part(|s| &s.wapc_calls, |c: &WapcCallables| f(&c.0))
}

/// Registers `callable` for (binding, namespace, operation) from safety `level` up.
pub fn register(
    binding: &str,
    namespace: &str,
    operation: &str,
    callable: Callable,
    level: i64,
) -> Error {
    let op = WapcOperation::new(binding, namespace, operation);
    let refuse = |why: String| {
        report(format!("cannot register the waPC operation `{op}`: {why}"));
        Error::ERR_INVALID_PARAMETER
    };
    // The binding and the namespace may be empty, as in the reference hosts (a guest that
    // uses no bindings passes ""); the operation names what is called.
    if operation.is_empty() {
        return refuse("the operation must not be empty".into());
    }
    if binding == BINDING {
        return refuse(format!(
            "the binding `{BINDING}` is WasGo's own (the Godot API for waPC mods); choose another binding name"
        ));
    }
    let Some(level) = SafetyLevel::from_number(level) else {
        return refuse(format!("the level must be 1, 2 or 3, not {level}"));
    };
    if !callable.is_valid() {
        return refuse("the Callable is not valid".into());
    }
    let Some(runtime) = runtime_or_report() else {
        return Error::ERR_UNAVAILABLE;
    };
    with_callables(|c| c.borrow_mut().insert(op.clone(), callable));
    runtime
        .hosts()
        .wapc
        .register(op, level, Arc::new(GodotWapcHandler));
    Error::OK
}

/// Removes a registered operation; returns whether it was registered.
pub fn unregister(binding: &str, namespace: &str, operation: &str) -> bool {
    let op = WapcOperation::new(binding, namespace, operation);
    // Taken out first: dropping a Callable may drop what it captured.
    let callable = with_callables(|c| c.borrow_mut().remove(&op)).flatten();
    drop(callable);
    runtime_or_report().is_some_and(|r| r.hosts().wapc.unregister(&op))
}

/// Drops every registered Callable (shutdown; see `lib.rs`).
pub fn clear() {
    // Taken out first: dropping a Callable may drop what it captured.
    let all = with_callables(|c| std::mem::take(&mut *c.borrow_mut()));
    drop(all);
}

/// Calls the Callable registered for an operation (the core calls it on the main thread only).
pub struct GodotWapcHandler;

impl WapcHandler for GodotWapcHandler {
    fn call(
        &self,
        key: InstanceKey,
        op: &WapcOperation,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let callable = with_callables(|c| c.borrow().get(op).cloned())
            .flatten()
            .ok_or_else(|| format!("the waPC operation `{op}` was unregistered"))?;
        if !callable.is_valid() {
            return Err(format!(
                "the handler of `{op}` is no longer valid (was its object freed?)"
            ));
        }
        let payload = PackedByteArray::from(payload.as_slice());
        // What Godot logs for the handler counts against the guest's allowance (`objects`).
        let ret = crate::objects::with_error_allowance(key, || callable.callv(&varray![&payload]));
        // By type: Godot would convert a String to bytes.
        match ret.get_type() {
            VariantType::PACKED_BYTE_ARRAY => {
                return Ok(ret.to::<PackedByteArray>().to_vec());
            }
            // Each by its own type: gdext's `to::<GString>()` panics on a StringName.
            VariantType::STRING => return Err(ret.to::<GString>().to_string()),
            VariantType::STRING_NAME => return Err(ret.to::<StringName>().to_string()),
            _ => {}
        }
        Err(format!(
            "the handler of `{op}` returned {ret} ({:?}); it must return a PackedByteArray (the reply) or a String (an error)",
            ret.get_type()
        ))
    }
}
