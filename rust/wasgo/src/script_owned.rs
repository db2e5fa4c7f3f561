//! `WasmScript`'s methods about the objects its mod created (a second `#[godot_api]` block of the
//! class, kept apart from `script.rs`): the game sees them with `get_owned_objects` and keeps one
//! past the instance with `adopt`. The ownership rules are in `created.rs`.

use crate::objects;
use crate::script::WasmScript;
use godot::prelude::*;

#[godot_api(secondary)]
impl WasmScript {
    /// Takes [param object], which this node's running mod created (`wasgo.new` or a resource
    /// made from its bytes), out of the mod's ownership: it is no longer freed when the instance
    /// ends nor counted against `wasgo/limits/max_objects_per_mod`, and from now on the mod
    /// reaches it like any game object (the node's `reach` and the allowlist apply; the mod can
    /// no longer `queue_free` or `remove_child` it). A node's parents that the mod created are
    /// adopted with it (freed with the instance, or by the mod, they would free it too), and so
    /// are the nodes below it that the mod created.
    /// Returns `false` (with a warning) when the
    /// mod does not own it, no instance runs, or the mod's objects are busy with one of its calls
    /// (adopt after the call returns, e.g. with `call_deferred`).
    #[func(gd_self)]
    pub fn adopt(this: Gd<Self>, object: Option<Gd<Object>>) -> bool {
        if !crate::runtime::on_main_thread("WasmScript.adopt") {
            return false;
        }
        let Some(object) = object else {
            godot_warn!(
                "WasGo: `adopt` on `{}`: the object is null (freed, or never made)",
                this.get_name()
            );
            return false;
        };
        let Some(key) = this.bind().core_key() else {
            godot_warn!(
                "WasGo: `adopt` on `{}`: no mod instance runs, so it owns nothing",
                this.get_name()
            );
            return false;
        };
        let adopted = objects::adopt(key, &object);
        if !adopted {
            godot_warn!(
                "WasGo: `adopt` on `{}`: the mod does not own `{}` (or its objects are busy with one of its calls; adopt after the call returns)",
                this.get_name(),
                object.get_class()
            );
        }
        adopted
    }

    /// The objects this node's running mod created that still exist and are not adopted (nodes
    /// and resources), in no particular order; empty when no instance runs.
    #[func(gd_self)]
    pub fn get_owned_objects(this: Gd<Self>) -> Array<Gd<Object>> {
        if !crate::runtime::on_main_thread("WasmScript.get_owned_objects") {
            return Array::new();
        }
        let Some(key) = this.bind().core_key() else {
            return Array::new();
        };
        objects::owned_objects(key).into_iter().collect()
    }
}
