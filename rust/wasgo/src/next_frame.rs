//! Work for the start of the next frame, the one primitive several glue modules share (kept
//! below them all: `script_core`, `permissions`, `file_checks` and `engine` use it).

use godot::classes::object::ConnectFlags;
use godot::classes::{Engine, SceneTree};
use godot::prelude::*;

/// Runs `f` once at the start of the next frame (the SceneTree's `process_frame`, one shot).
/// Not a deferred call: Godot runs deferred calls made by deferred calls in the same flush, so
/// work that always asks for more of itself would never let the frame end.
pub fn at_next_frame(name: &'static str, f: impl Fn() + 'static) {
    let call = Callable::from_fn(name, move |_args: &[&Variant]| {
        f();
        Variant::nil()
    });
    if let Some(mut tree) = Engine::singleton()
        .get_main_loop()
        .and_then(|m| m.try_cast::<SceneTree>().ok())
    {
        tree.connect_flags("process_frame", &call, ConnectFlags::ONE_SHOT);
    }
}
