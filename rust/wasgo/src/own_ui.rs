//! WasGo's own UI (the permission dialog): marked here so that no mod can obtain a handle to it
//! or to anything inside it, whatever path, search or signal argument it uses. Main thread only.

use crate::state::{self, Part};
use godot::prelude::*;
use std::cell::RefCell;

/// Roots of WasGo's own UI that exist now, a handful at most (`state.rs`'s `own_ui` part).
#[derive(Default)]
pub struct Roots(RefCell<Vec<InstanceId>>);

impl Part for Roots {}

fn with_roots<R>(f: impl FnOnce(&RefCell<Vec<InstanceId>>) -> R) -> Option<R> {
    state::with_part(|s| &s.own_ui, |r: &Roots| f(&r.0))
}

/// Marks `node` and everything under it as WasGo's own.
pub fn mark(node: InstanceId) {
    with_roots(|r| r.borrow_mut().push(node));
}

/// Forgets a root (it was freed).
pub fn unmark(node: InstanceId) {
    with_roots(|r| r.borrow_mut().retain(|id| *id != node));
}

/// Whether the node `id` is the top of WasGo's own UI.
pub fn is_root(id: InstanceId) -> bool {
    with_roots(|r| r.borrow().contains(&id)).unwrap_or(false)
}

/// Whether `obj` is WasGo's own UI or inside it.
pub fn contains(obj: &Gd<Object>) -> bool {
    if with_roots(|r| r.borrow().is_empty()).unwrap_or(true) {
        return false;
    }
    let Ok(node) = obj.clone().try_cast::<Node>() else {
        return false;
    };
    let mut current = Some(node);
    // Bounded walk up the tree (a scene tree deeper than this is not one we guard).
    for _ in 0..4096 {
        let Some(n) = current else { return false };
        let id = n.instance_id();
        if with_roots(|r| r.borrow().contains(&id)).unwrap_or(false) {
            return true;
        }
        current = n.get_parent();
    }
    false
}

/// Drops every mark (extension shutdown).
pub fn clear() {
    with_roots(|r| r.borrow_mut().clear());
}
