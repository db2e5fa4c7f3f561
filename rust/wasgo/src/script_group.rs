//! The batched frame path: a `WasmScript`'s `process_group` pass ("many nodes, one frame").
//!
//! When [`GroupPass`](crate::group_pass::GroupPass) holds a group name, the frame driver (`live.rs`), right after the
//! script's own `process` (or `physics_process`), calls [`run`]: the mod's `process_node(node,
//! delta)` (or `physics_process_node`) once for every node of that SceneTree group, all in one
//! entry ([`ScriptCore::enter_with`] around wasgo-core's `ModInstance::call_each`): one store
//! lock, one callback-budget arm for the whole pass, one frame-budget measurement, one event
//! pump afterwards. Per node only the wasm call, one clock reading (the counter,
//! `wasgo_core::clock`) and a check that the handles resolved for the group still hold remain:
//! the handles are kept between passes ([`HandleCache`]) and looked up again only after the
//! tree changed or the mod released a handle (also in the middle of a pass).
//!
//! # What a pass respects
//!
//! - **The script's own state.** The pass runs when the script's `process` would: the node
//!   processes (`set_process(false)`, `set_physics_process(false)` and pausing stop it), the
//!   instance is alive and `main` is not running. The group's nodes' own processing flags are
//!   not consulted: the mod decides what each node does.
//! - **Handles.** `node` is the mod's handle for the node, from the instance's object table
//!   (one handle per object, so the one `get_node` gives, the same every frame). A node the mod
//!   may not reach (`reach.rs`) is skipped, never handed out; so is a node freed since the pass
//!   began (by the mod's own call or by a handler it ran).
//! - **Membership.** The group is read once at the start of each pass; nodes added to or
//!   removed from it take part from the next pass.
//! - **The frame budget.** Once this frame's budget (`wasgo/limits/frame_budget_ms`) is spent,
//!   the rest of the group waits: the next pass *resumes* at the first node not called (a
//!   position in the group's order, kept per kind of frame), then goes round the whole group, so
//!   every node gets its turn even when one frame cannot cover them all. A pass that covered the
//!   group starts at the same place next frame.
//! - **The callback budget.** One arm covers the whole pass: a `process_node` that spins traps
//!   like any callback and ends the instance (`trapped` emitted, [`ScriptCore::pump`]).
//! - **Ending.** `kill()` during the pass (from a signal handler) stops it before the next call
//!   and is completed when the entry returns; freeing the `WasmScript` itself stops it as well.
//! - **The bulk form.** A mod that exports `process_nodes` (`physics_process_nodes`, ABI 1.3)
//!   gets the same handles as an array in its memory, up to `wasgo_core::BATCH_NODES` per call
//!   (`ModInstance::call_batched`), instead of a call per node; it wins over `process_node`
//!   when a mod exports both. The frame budget is looked at between batches.
//! - **A missing export.** A group set on a mod that exports none of the four pass exports is
//!   warned about once per instance (also in `get_last_error()`), as is a bulk export without
//!   the `malloc` it needs;
//!   a mod with only one of them runs that one's pass and never the other.

use crate::group_pass::{GroupPass, HandleCache, PASS_EXPORTS};
use crate::live;
use crate::objects::{self, InstanceObjects};
use crate::script_core::ScriptCore;
use godot::classes::{Engine, SceneTree};
use godot::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasgo_catalog::abi::export;
use wasgo_core::clock::Stamp;
use wasgo_core::{InstanceKey, ModStatus, WasgoError, BATCH_NODES};

/// Runs the group pass of `core` for this frame (see the module docs). The frame driver has
/// checked the node's processing state; everything else is checked here.
pub fn run(core: &Rc<ScriptCore>, physics: bool, delta: f64) {
    let pass = &core.group;
    if !pass.is_on() || !live::frame_budget().has_room() {
        return;
    }
    let Some(key) = core.key.get() else {
        return;
    };
    let (single, bulk) = if physics {
        (export::PHYSICS_PROCESS_NODE, export::PHYSICS_PROCESS_NODES)
    } else {
        (export::PROCESS_NODE, export::PROCESS_NODES)
    };
    let name = {
        let Some(instance) = core.instance() else {
            return;
        };
        if !matches!(instance.status(), ModStatus::Alive | ModStatus::Finished) {
            return;
        }
        if instance.has_export(bulk) {
            bulk
        } else if instance.has_export(single) {
            single
        } else {
            if !PASS_EXPORTS.iter().any(|e| instance.has_export(e)) {
                warn_missing_export(core, key);
            }
            return;
        }
    };
    let ids = group_members(&pass.group.borrow());
    if ids.is_empty() {
        return;
    }
    let Some(table) = objects::instance_table(key) else {
        return;
    };
    let count = ids.len();
    let changes = pass.changes.get();
    let resume = &pass.resume[usize::from(physics)];
    let start = resume.get() % count;
    let deadline = Stamp::now().after(live::frame_budget().remaining());
    let mut offset = 0;
    let mut stopped_at = None;
    let cache = resolve_handles(pass, key, &table, ids);
    let (ids, handles) = (&cache.ids, &cache.handles);
    let result = if name == bulk {
        let mut handed = 0;
        // The clock is read once per batch (`call_batched` fills a batch, then calls it): the
        // mod's time is spent in the calls, never while the batch is filled.
        let next = || loop {
            if offset >= ids.len() || core.is_gone() {
                return None;
            }
            if handed % BATCH_NODES == 0 && Stamp::now() >= deadline {
                stopped_at = Some(offset);
                return None;
            }
            let handle = handles[(start + offset) % ids.len()];
            offset += 1;
            if handle != 0 {
                handed += 1;
                return Some(handle);
            }
        };
        core.enter_with(name, |instance| instance.call_batched(name, delta, next))
    } else {
        let next = || loop {
            if offset >= ids.len() || core.is_gone() {
                return None;
            }
            if Stamp::now() >= deadline {
                stopped_at = Some(offset);
                return None;
            }
            let at = (start + offset) % ids.len();
            offset += 1;
            // The table is borrowed only between the mod's calls (its host functions borrow
            // it). While nothing the cached handles depend on changed (the mod's calls may free
            // a node, change the tree or release a handle), the cached handle is the one the
            // table would give; else the node is looked up again (and skipped once freed).
            let Ok(mut t) = table.try_borrow_mut() else {
                continue;
            };
            let handle = if cache.still_holds(key, &t) {
                Some(handles[at]).filter(|h| *h != 0)
            } else {
                t.handle_for_id(ids[at])
            };
            if handle.is_some() {
                return handle;
            }
        };
        core.enter_with(name, |instance| instance.call_each(name, delta, next))
    };
    // Game code the pass ran may have set another group: its first node is where the next
    // pass starts, and the old group's handles are not kept for it.
    if pass.changes.get() == changes {
        *pass.handles.borrow_mut() = cache;
        resume.set(stopped_at.map_or(start, |offset| (start + offset) % count));
    }
    match result {
        // A set-up mistake (a bulk export without `malloc`): said once per instance, like a
        // missing export, not every frame.
        Some(Err(WasgoError::BadArguments(message))) => warn_once(core, key, message),
        // A trap is reported (printed, `trapped` emitted) by the pump below.
        Some(Err(e)) => core.set_last_error(e.to_string()),
        _ => {}
    }
    core.pump();
}

/// The pass's handles for the group's members `ids`: the last pass's when nothing they depend
/// on changed (see [`HandleCache`]), else each member looked up in the mod's table (a node the
/// mod may not reach gets 0). Taken out of the pass's state for the pass; the caller puts it
/// back.
fn resolve_handles(
    pass: &GroupPass,
    key: InstanceKey,
    table: &RefCell<InstanceObjects>,
    ids: Vec<InstanceId>,
) -> HandleCache {
    let mut cache = std::mem::take(&mut *pass.handles.borrow_mut());
    let Ok(mut table) = table.try_borrow_mut() else {
        // Not resolved: the bulk pass hands nothing over, the per-node pass looks each node up.
        return HandleCache {
            under: None,
            handles: vec![0; ids.len()],
            ids,
        };
    };
    if cache.ids == ids && cache.still_holds(key, &table) {
        return cache;
    }
    cache.handles.clear();
    cache
        .handles
        .extend(ids.iter().map(|id| table.handle_for_id(*id).unwrap_or(0)));
    // Looking nodes up may hand out new handles, never release one: what they were resolved
    // under is still what holds now.
    cache.resolved_now(key, &table);
    cache.ids = ids;
    cache
}

/// The instance ids of the group's nodes now (an empty list outside a SceneTree).
fn group_members(group: &StringName) -> Vec<InstanceId> {
    let Some(tree) = Engine::singleton()
        .get_main_loop()
        .and_then(|m| m.try_cast::<SceneTree>().ok())
    else {
        return Vec::new();
    };
    // Read as Variants: converting each element to `Gd<Node>` would check its class through
    // Godot (a class name formatted per node); the id is all the pass needs, and the table
    // lookup checks the object itself.
    tree.get_nodes_in_group(group)
        .upcast_any_array()
        .iter_shared()
        .filter_map(|v| v.object_id_unchecked())
        .collect()
}

/// Warns once per instance that the group has no export to run.
fn warn_missing_export(core: &ScriptCore, key: InstanceKey) {
    if core.group.warned.get() == Some(key) {
        return;
    }
    let message = format!(
        "`{}` has `process_group` set to `{}`, but its mod exports none of `{}`, `{}`, `{}` and `{}`: export `{}(node: i32, delta: f64)` (or `{}(nodes_ptr: i32, count: i32, delta: f64)`) or clear `process_group`",
        core.node_name(),
        core.group.group.borrow(),
        export::PROCESS_NODE,
        export::PHYSICS_PROCESS_NODE,
        export::PROCESS_NODES,
        export::PHYSICS_PROCESS_NODES,
        export::PROCESS_NODE,
        export::PROCESS_NODES,
    );
    warn_once(core, key, message);
}

/// Warns about the group's set-up once per instance (also in `get_last_error()`).
fn warn_once(core: &ScriptCore, key: InstanceKey, message: String) {
    if core.group.warned.get() == Some(key) {
        return;
    }
    core.group.warned.set(Some(key));
    godot_warn!("WasGo: {message}");
    core.set_last_error(message);
}
