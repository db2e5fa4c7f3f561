//! A `WasmScript`'s `process_group` setting and where its batched passes resume: the state the
//! node's core keeps (`script_core.rs`) and the pass reads and updates (`script_group.rs`, which
//! runs it). Plain state, below both, so that neither imports the other for it.

use godot::prelude::*;
use std::cell::{Cell, RefCell};
use wasgo_core::InstanceKey;

/// A script's `process_group` and where its passes resume.
#[derive(Default)]
pub struct GroupPass {
    /// The group; empty turns the pass off.
    pub(crate) group: RefCell<StringName>,
    /// Whether `group` is set (read by the frame driver for every script every frame).
    pub(crate) on: Cell<bool>,
    /// Where the next pass starts, per kind of frame ([process, physics]).
    pub(crate) resume: [Cell<usize>; 2],
    /// The instance the missing-export warning was given for.
    pub(crate) warned: Cell<Option<InstanceKey>>,
}

impl GroupPass {
    /// Sets the group (empty turns the pass off); the next pass starts at the group's first node.
    pub fn set_group(&self, group: StringName) {
        self.on.set(!group.is_empty());
        *self.group.borrow_mut() = group;
        for r in &self.resume {
            r.set(0);
        }
        self.warned.set(None);
    }

    /// Whether a group is set.
    pub fn is_on(&self) -> bool {
        self.on.get()
    }
}
