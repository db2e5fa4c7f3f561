//! The two questions the core's typing rules (`wasgo_core::typing`) ask of Godot: is the player
//! typing in a text field, and is a `LineEdit` secret. Main thread only.

use godot::classes::{Control, Engine, SceneTree, Viewport};
use godot::prelude::*;
use wasgo_core::typing::TEXT_FIELD_CLASSES;

/// Whether an editable `LineEdit` or `TextEdit` has the keyboard focus, in the root window or
/// in a window embedded in it (a popup's field counts).
pub fn player_typing() -> bool {
    let Some(tree) = Engine::singleton()
        .get_main_loop()
        .and_then(|l| l.try_cast::<SceneTree>().ok())
    else {
        return false;
    };
    let Some(root) = tree.get_root() else {
        return false;
    };
    if typing_in(&root.clone().upcast()) {
        return true;
    }
    root.get_embedded_subwindows()
        .iter_shared()
        .any(|w| typing_in(&w.upcast()))
}

fn typing_in(viewport: &Gd<Viewport>) -> bool {
    viewport
        .gui_get_focus_owner()
        .is_some_and(|c| is_editable_field(&c))
}

fn is_editable_field(control: &Gd<Control>) -> bool {
    TEXT_FIELD_CLASSES.iter().any(|c| control.is_class(*c))
        && control.get("editable").try_to::<bool>().unwrap_or(true)
}

/// Whether `obj` is a `LineEdit` whose `secret` is on (a password field).
pub fn is_secret_field(obj: &Gd<Object>) -> bool {
    obj.is_class("LineEdit") && obj.get("secret").try_to::<bool>().unwrap_or(false)
}
