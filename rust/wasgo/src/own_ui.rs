//! WasGo's own UI (the permission dialog): marked here so that no mod can obtain a handle to it
//! or to anything inside it, whatever path, search or signal argument it uses. Main thread only.

use godot::prelude::*;
use std::cell::RefCell;

thread_local! {
    /// Roots of WasGo's own UI that exist now (a handful at most).
    static ROOTS: RefCell<Vec<InstanceId>> = const { RefCell::new(Vec::new()) };
}

/// Marks `node` and everything under it as WasGo's own.
pub fn mark(node: InstanceId) {
    ROOTS.with(|r| r.borrow_mut().push(node));
}

/// Forgets a root (it was freed).
pub fn unmark(node: InstanceId) {
    ROOTS.with(|r| r.borrow_mut().retain(|id| *id != node));
}

/// Whether the node `id` is the top of WasGo's own UI.
pub fn is_root(id: InstanceId) -> bool {
    ROOTS.with(|r| r.borrow().contains(&id))
}

/// Whether `obj` is WasGo's own UI or inside it.
pub fn contains(obj: &Gd<Object>) -> bool {
    if ROOTS.with(|r| r.borrow().is_empty()) {
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
        if ROOTS.with(|r| r.borrow().contains(&id)) {
            return true;
        }
        current = n.get_parent();
    }
    false
}

/// Drops every mark (extension shutdown).
pub fn clear() {
    ROOTS.with(|r| r.borrow_mut().clear());
}
