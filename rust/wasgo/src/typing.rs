//! The questions the core's typing rules (`wasgo_core::typing`) ask of Godot: is the player
//! typing in a text field, is a control a text field, is a `LineEdit` secret. Main thread only.

use godot::classes::{Control, Engine, SceneTree, Viewport};
use godot::prelude::*;
use std::cell::RefCell;
use wasgo_core::typing::TEXT_FIELD_CLASSES;

thread_local! {
    /// The viewports under the root (sub-viewports, windows), found again only when the tree
    /// changed (the reach's tree generation) or, without one, once per frame at most:
    /// `(generation or frame, viewports)`.
    static VIEWPORTS: RefCell<(Stamp, Vec<Gd<Viewport>>)> = const { RefCell::new((Stamp::None, Vec::new())) };
}

thread_local! {
    /// The keys pressed while the player typed and not released since (by physical keycode,
    /// else keycode; see [`note_window_input`]).
    static HELD_FROM_TYPING: RefCell<std::collections::HashSet<i64>> =
        RefCell::new(std::collections::HashSet::new());
}

/// From the root window's `window_input` (every event the game's window gets, before its
/// controls): notes the keys pressed while the player types, until they are released. Keys go
/// down into the text field and come up after it lost the focus (a fast typist's last letter,
/// still held when Enter hid the login panel); `Input.is_key_pressed` answered true for them
/// to a mod that polled when the focus went.
pub fn note_window_input(event: &Gd<godot::classes::InputEvent>) {
    let Ok(key) = event.clone().try_cast::<godot::classes::InputEventKey>() else {
        return;
    };
    let code = match key.get_physical_keycode().ord() {
        0 => key.get_keycode().ord(),
        physical => physical,
    } as i64;
    HELD_FROM_TYPING.with(|held| {
        let mut held = held.borrow_mut();
        if !key.is_pressed() {
            held.remove(&code);
        } else if !key.is_echo() && player_typing() {
            // Bounded: a release lost to another window leaves its key listed.
            if held.len() >= 256 {
                held.clear();
            }
            held.insert(code);
        }
    });
}

/// Whether a key pressed while the player typed is still held ([`note_window_input`]): the
/// `Input` queries answer mods "nothing pressed" until it is released, as while typing.
pub fn keys_held_from_typing() -> bool {
    HELD_FROM_TYPING.with(|held| !held.borrow().is_empty())
}

/// When the list of viewports was made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    None,
    Tree(u64),
    Frame(u64),
}

/// Whether a `LineEdit` or `TextEdit` has the keyboard focus in the root window or any viewport
/// under it (an embedded or native window, a `SubViewport` of an in-world screen). Editable or
/// not: a mod may change `editable`.
pub fn player_typing() -> bool {
    typing_field().is_some()
}

/// The text field the player types in ([`player_typing`]), if any.
pub fn typing_field() -> Option<Gd<Control>> {
    let tree = Engine::singleton()
        .get_main_loop()
        .and_then(|l| l.try_cast::<SceneTree>().ok())?;
    let root = tree.get_root()?;
    if let Some(field) = typing_in(&root.clone().upcast()) {
        return Some(field);
    }
    let stamp = crate::reach::tree_generation().map_or_else(
        || Stamp::Frame(Engine::singleton().get_process_frames()),
        Stamp::Tree,
    );
    VIEWPORTS.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != stamp {
            // `find_children` walks the tree: only after it changed, and only when a mod asks.
            let found = root
                .find_children_ex("*")
                .type_("Viewport")
                .owned(false)
                .done();
            // Internal windows (a popup menu's) are embedded in the root: listed by it.
            let embedded = root.get_embedded_subwindows();
            cached.1 = found
                .iter_shared()
                .filter_map(|n| n.try_cast::<Viewport>().ok())
                .chain(embedded.iter_shared().map(|w| w.upcast()))
                .collect();
            cached.0 = stamp;
        }
        cached
            .1
            .iter()
            .filter(|v| v.is_instance_valid())
            .find_map(typing_in)
    })
}

fn typing_in(viewport: &Gd<Viewport>) -> Option<Gd<Control>> {
    viewport
        .gui_get_focus_owner()
        .filter(|c| is_text_field(&c.clone().upcast()))
}

/// Below level 3, the refusal of `member` on `obj` when it would hide the text field the player
/// types in or take its focus away (`obj` is the field or a node above it; see
/// `wasgo_core::typing::ends_focus`).
pub fn refuse_ending_focus(obj: &Gd<Object>, member: &str) -> Result<(), String> {
    let Ok(node) = obj.clone().try_cast::<Node>() else {
        return Ok(());
    };
    let Some(field) = typing_field() else {
        return Ok(());
    };
    let field = field.upcast::<Node>();
    if node == field || node.is_ancestor_of(&field) {
        return Err(wasgo_core::typing::ends_focus_refusal(member));
    }
    Ok(())
}

/// Whether `obj` is a `LineEdit` or `TextEdit` (or a subclass: `CodeEdit`).
pub fn is_text_field(obj: &Gd<Object>) -> bool {
    TEXT_FIELD_CLASSES.iter().any(|c| obj.is_class(*c))
}

/// Whether `obj` is a `LineEdit` whose `secret` is on (a password field).
pub fn is_secret_field(obj: &Gd<Object>) -> bool {
    obj.is_class("LineEdit") && obj.get("secret").try_to::<bool>().unwrap_or(false)
}
