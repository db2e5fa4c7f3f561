//! Game functions: the Callables behind `WasmEngine.register_function`, kept on the main thread.

use crate::convert;
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasgo_core::game::GameFunction;
use wasgo_core::{GameCallError, GameCallHandler, GameType, GameValue};

struct Entry {
    callable: Callable,
    results: Vec<GameType>,
}

thread_local! {
    // Callables are not `Send`: they live on the main thread, keyed by the core's function id.
    static CALLABLES: RefCell<HashMap<u64, Entry>> = RefCell::new(HashMap::new());
}

pub fn insert(f: &GameFunction, callable: Callable) {
    CALLABLES.with(|c| {
        c.borrow_mut().insert(
            f.id,
            Entry {
                callable,
                results: f.results.clone(),
            },
        )
    });
}

pub fn remove(id: u64) {
    CALLABLES.with(|c| c.borrow_mut().remove(&id));
}

pub fn clear() {
    CALLABLES.with(|c| c.borrow_mut().clear());
}

/// Runs game functions for the core; the core only calls it on the main thread.
pub struct GodotGameCalls;

impl GameCallHandler for GodotGameCalls {
    fn call(&self, id: u64, args: Vec<GameValue>) -> Result<Vec<GameValue>, GameCallError> {
        let (callable, results) = CALLABLES.with(|c| {
            c.borrow()
                .get(&id)
                .map(|e| (e.callable.clone(), e.results.clone()))
                .ok_or(GameCallError::Unregistered)
        })?;
        if !callable.is_valid() {
            return Err("its Callable is no longer valid (was its object freed?)".into());
        }
        let arg_array: VarArray = args.iter().map(convert::game_value_to_variant).collect();
        let ret = callable.callv(&arg_array);
        match results.len() {
            0 => Ok(vec![]),
            1 => Ok(vec![convert::variant_to_game_value(&ret, results[0])?]),
            n => {
                let array = ret.try_to::<VarArray>().map_err(|_| {
                    format!("it must return an Array of {n} values, it returned {ret}")
                })?;
                if array.len() != n {
                    return Err(format!(
                        "it must return an Array of {n} values, it returned {} values",
                        array.len()
                    )
                    .into());
                }
                array
                    .iter_shared()
                    .zip(results)
                    .map(|(v, t)| convert::variant_to_game_value(&v, t).map_err(Into::into))
                    .collect()
            }
        }
    }
}
