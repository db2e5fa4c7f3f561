//! A `WasmScript`'s `process_group` setting and where its batched passes resume: the state the
//! node's core keeps (`script_core.rs`) and the pass reads and updates (`script_group.rs`, which
//! runs it). Plain state, below both, so that neither imports the other for it.

use crate::objects::InstanceObjects;
use crate::reach;
use godot::prelude::*;
use std::cell::{Cell, RefCell};
use wasgo_catalog::abi::export;
use wasgo_core::InstanceKey;

/// The exports a group pass can run: the per-node and the bulk form, idle and physics frames
/// (read by the pass, the frame driver's bookkeeping and the editor's file checks).
pub const PASS_EXPORTS: [&str; 4] = [
    export::PROCESS_NODE,
    export::PHYSICS_PROCESS_NODE,
    export::PROCESS_NODES,
    export::PHYSICS_PROCESS_NODES,
];

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
    /// The bulk pass's handles for the group as it was last resolved.
    pub(crate) handles: RefCell<HandleCache>,
    /// Counts the changes of `group`: a pass that began under another count (game code it ran
    /// set the group) leaves `resume` and `handles` as the change set them.
    pub(crate) changes: Cell<u64>,
}

/// The handles a pass handed over for a group, kept for the next pass: while the group's
/// members (in order), the scene tree (the reach generation) and the mod's handles (no release
/// since) are the same, every node has the same handle and is still inside reach, so the next
/// pass reuses them instead of looking each node up again. The per-node pass (`process_node`)
/// also asks [`HandleCache::still_holds`] before each call: a call that freed a node or
/// released a handle makes the rest of its pass look nodes up again.
#[derive(Default)]
pub struct HandleCache {
    /// The instance, reach generation and release count the handles were resolved under.
    pub(crate) under: Option<(InstanceKey, u64, u64)>,
    /// The group's members, in the group's order.
    pub(crate) ids: Vec<InstanceId>,
    /// `handles[i]` is the handle of `ids[i]`, 0 for a node the mod may not reach.
    pub(crate) handles: Vec<i32>,
}

impl HandleCache {
    /// What handles resolved now from `table` (the instance `key`'s) depend on: the instance,
    /// the reach generation and the table's release count.
    fn now(key: InstanceKey, table: &InstanceObjects) -> (InstanceKey, u64, u64) {
        (key, reach::generation(), table.releases())
    }

    /// Whether the handles still are what `table` (the instance `key`'s) would give: resolved
    /// for that instance, under the current reach generation, with no handle released since.
    pub fn still_holds(&self, key: InstanceKey, table: &InstanceObjects) -> bool {
        self.under == Some(Self::now(key, table))
    }

    /// Records that the handles were just resolved from `table` (the instance `key`'s).
    pub fn resolved_now(&mut self, key: InstanceKey, table: &InstanceObjects) {
        self.under = Some(Self::now(key, table));
    }
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
        *self.handles.borrow_mut() = HandleCache::default();
        self.changes.set(self.changes.get().wrapping_add(1));
    }

    /// Whether a group is set.
    pub fn is_on(&self) -> bool {
        self.on.get()
    }
}
