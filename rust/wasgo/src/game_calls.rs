//! Game functions: the Callables behind `WasmEngine.register_function`, kept on the main thread.

use crate::convert;
use crate::state::{self, Part};
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasgo_core::game::GameFunction;
use wasgo_core::{GameCallError, GameCallHandler, GameType, GameValue};

struct Entry {
    callable: Callable,
    results: Vec<GameType>,
    /// `(module, name)`: every id registered under one name goes when it is replaced by another
    /// signature or unregistered. (A pair, not `module.name`: dots are allowed in both parts.)
    qualified: (String, String),
}

/// The game functions' Callables, keyed by the core's function id (`state.rs`'s `game_calls`
/// part: Callables are not `Send`, they live on the main thread).
#[derive(Default)]
pub struct Callables(RefCell<HashMap<u64, Entry>>);

impl Part for Callables {}

fn with_callables<R>(f: impl FnOnce(&RefCell<HashMap<u64, Entry>>) -> R) -> Option<R> {
    state::with_part(|s| &s.game_calls, |c: &Callables| f(&c.0))
}

/// Keeps `callable` for the newly registered `f`. When it replaces a function of the same
/// name (`previous`): with the same signature and level, the ids mods linked before (running
/// mods keep their import) call the new Callable too; with another, they are dropped (a call
/// through them traps as unregistered, as after `unregister_function`). Before, the first
/// Callable stayed live for the mods that linked it, whatever replaced it, and was never freed.
pub fn insert(f: &GameFunction, previous: Option<&GameFunction>, callable: Callable) {
    let qualified = (f.module.clone(), f.name.clone());
    let keeps_links = previous.is_some_and(|p| p.same_shape(f));
    // Dropped Callables leave the cell first: dropping one may drop what it captured.
    let dropped = with_callables(|c| {
        let mut c = c.borrow_mut();
        let mut dropped = Vec::new();
        if keeps_links {
            for entry in c.values_mut().filter(|e| e.qualified == qualified) {
                dropped.push(std::mem::replace(&mut entry.callable, callable.clone()));
            }
        } else {
            dropped.extend(
                take_named(&mut c, &qualified)
                    .into_iter()
                    .map(|e| e.callable),
            );
        }
        c.insert(
            f.id,
            Entry {
                callable,
                results: f.results.clone(),
                qualified,
            },
        );
        dropped
    });
    drop(dropped);
}

/// Drops every Callable registered under `module.name` (all its ids).
pub fn remove(f: &GameFunction) {
    let qualified = (f.module.clone(), f.name.clone());
    let dropped = with_callables(|c| take_named(&mut c.borrow_mut(), &qualified));
    drop(dropped);
}

/// Takes out every entry registered under `qualified` (all its ids).
fn take_named(c: &mut HashMap<u64, Entry>, qualified: &(String, String)) -> Vec<Entry> {
    let ids: Vec<u64> = c
        .iter()
        .filter(|(_, e)| &e.qualified == qualified)
        .map(|(id, _)| *id)
        .collect();
    ids.iter().filter_map(|id| c.remove(id)).collect()
}

pub fn clear() {
    // Taken out first: dropping a Callable may drop what it captured.
    let all = with_callables(|c| std::mem::take(&mut *c.borrow_mut()));
    drop(all);
}

/// Runs game functions for the core; the core only calls it on the main thread.
pub struct GodotGameCalls;

impl GameCallHandler for GodotGameCalls {
    fn call(
        &self,
        key: wasgo_core::InstanceKey,
        id: u64,
        args: Vec<GameValue>,
    ) -> Result<Vec<GameValue>, GameCallError> {
        let (callable, results) = with_callables(|c| {
            c.borrow()
                .get(&id)
                .map(|e| (e.callable.clone(), e.results.clone()))
        })
        .flatten()
        .ok_or(GameCallError::Unregistered)?;
        if !callable.is_valid() {
            return Err("its Callable is no longer valid (was its object freed?)".into());
        }
        let arg_array: VarArray = args.iter().map(convert::game_value_to_variant).collect();
        // What Godot logs for the game code the call runs counts against the mod's allowance.
        let ret = crate::objects::with_error_allowance(key, || callable.callv(&arg_array));
        match results.len() {
            0 => Ok(vec![]),
            1 => Ok(vec![convert::variant_to_game_value(&ret, results[0])?]),
            n => {
                // Typed or not (`-> Array[int]`: an untyped read refuses a typed Array).
                let array = ret.try_to::<godot::builtin::AnyArray>().map_err(|_| {
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
