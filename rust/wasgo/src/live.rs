//! The `WasmScript` nodes that have an instance, so the frame hook can deliver their events and
//! `kill_all` can reach them. Main thread only.

use crate::script::WasmScript;
use godot::prelude::*;
use std::cell::RefCell;

thread_local! {
    static SCRIPTS: RefCell<Vec<InstanceId>> = const { RefCell::new(Vec::new()) };
}

pub fn add(id: InstanceId) {
    SCRIPTS.with(|s| {
        let mut s = s.borrow_mut();
        if !s.contains(&id) {
            s.push(id);
        }
    });
}

pub fn remove(id: InstanceId) {
    SCRIPTS.with(|s| s.borrow_mut().retain(|x| *x != id));
}

fn snapshot() -> Vec<Gd<WasmScript>> {
    let ids = SCRIPTS.with(|s| s.borrow().clone());
    ids.into_iter()
        .filter_map(|id| Gd::<WasmScript>::try_from_instance_id(id).ok())
        .collect()
}

/// Delivers every script's pending events as signals (once per frame).
pub fn pump_all() {
    for mut script in snapshot() {
        script.bind_mut().pump();
    }
}

/// Kills every script's instance.
pub fn kill_all(reason: &str) {
    for mut script in snapshot() {
        script.bind_mut().kill_with(reason);
    }
}
