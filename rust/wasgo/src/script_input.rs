//! Input events for mods: an optional `input(event_handle)` export, fed the events the game did
//! not handle (`WasmScript`'s `_unhandled_input`) when the project setting
//! `wasgo/safety/input_events` is on (off by default). Main thread only.
//!
//! The virtual runs with the node borrowed, so it only schedules the delivery
//! (`call_deferred`): the mod runs after the game's input handling, with no borrow held, through
//! [`ScriptCore::enter`] like every entry (budget, kill, re-entry rules). The mod gets a handle to
//! its own copy of the event, released after the call: reading the allowlisted properties
//! (`keycode`, `pressed`, `position`, `button_index`, ...) and `is_action_pressed(action)` tells
//! it what happened, and nothing it does reaches the game's event. Events that arrive while the
//! mod's `main` holds the instance are not delivered to it, nor, below level 3, key events while
//! the player types in a text field, nor any event once the frame budget is spent (the call's
//! time counts in the mod's frame time, as `process`'s does).

use crate::live;
use crate::objects;
use crate::script_core::ScriptCore;
use crate::settings;
use godot::classes::InputEvent;
use godot::classes::InputEventKey;
use godot::prelude::*;
use std::rc::Rc;
use wasgo_catalog::abi::export;
use wasmtime::Val;

/// From the project's `settings_changed` report: a running mod with an `input` export gets
/// input from now on if `wasgo/safety/input_events` was turned on (see
/// [`ScriptCore::give_input`]; turned off, the check in [`on_unhandled_input`] stops it).
pub fn settings_changed() {
    // Any project setting's change is reported: the nodes are visited only with input on.
    if !settings::input_events() {
        return;
    }
    for core in crate::cores::all() {
        core.give_input();
    }
}

/// From `WasmScript::unhandled_input`: schedules the delivery of a copy of `event`.
pub fn on_unhandled_input(core: &Rc<ScriptCore>, event: &Gd<InputEvent>) {
    if !settings::input_events() {
        return;
    }
    let Some(instance) = core.instance() else {
        return;
    };
    if !instance.has_export(export::INPUT) {
        return;
    }
    drop(instance);
    // What the player types is not the mod's (`wasgo_core::typing`): a text field takes key
    // presses but not releases, and the releases would spell out the text.
    if let Ok(key_event) = event.clone().try_cast::<InputEventKey>() {
        let below_three = core
            .key
            .get()
            .and_then(crate::objects::level_of)
            .is_none_or(|l| l != wasgo_core::SafetyLevel::Unsafe);
        if below_three {
            if crate::typing::player_typing() {
                return;
            }
            // A release only of a key whose press the mod was handed: a key pressed into the
            // field and released after it lost the focus would spell out its last letters.
            let id = (
                key_event.get_keycode().ord() as i64,
                key_event.get_physical_keycode().ord() as i64,
            );
            let mut pressed = core.pressed_keys.borrow_mut();
            if key_event.is_pressed() {
                // Bounded: a key whose release came while the player typed stays listed.
                if pressed.len() >= 512 {
                    pressed.clear();
                }
                pressed.insert(id);
            } else if !pressed.remove(&id) {
                return;
            }
        }
    }
    let copy = event.duplicate_resource();
    let core = core.clone();
    let deliver = Callable::from_fn("wasgo_input", move |_args: &[&Variant]| {
        deliver(&core, copy.clone().upcast());
    });
    deliver.call_deferred(&[]);
}

/// Calls the mod's `input` with a handle to `event`.
fn deliver(core: &Rc<ScriptCore>, event: Gd<Object>) {
    let (Some(key), Some(instance)) = (core.key.get(), core.instance()) else {
        return;
    };
    if !instance.status().is_live() || instance.is_main_running() {
        return;
    }
    drop(instance);
    // Under the frame budget like every frame callback: past it the event is not delivered to
    // the mod (a mod spending 20 ms on each event made a frame of ten events take 200 ms).
    let budget = live::frame_budget();
    if !budget.has_room() {
        return;
    }
    let Some(handle) = objects::lend_handle(key, &event) else {
        return;
    };
    let script: Rc<dyn live::LiveScript> = core.clone();
    let before = script.own_time();
    let result = core.enter(export::INPUT, &[Val::I32(handle)]);
    live::charge_entry(&script, script.own_time().saturating_sub(before));
    objects::release_handle(key, handle);
    core.pump();
    if let Some(Err(e)) = result {
        core.set_last_error(e.to_string());
    }
}
