//! The error watch: a Godot `Logger` that counts the errors and warnings Godot logs, for
//! `log_gate.rs` (Godot has no other way to tell an extension that a call logged one).

use godot::classes::{ILogger, Logger, Os, ScriptBacktrace};
use godot::prelude::*;
use std::cell::RefCell;

/// Counts what Godot logs (WasGo's own; added with `OS.add_logger` when the extension starts).
#[derive(GodotClass)]
#[class(base = Logger, init, internal)]
pub struct WasgoErrorWatch {
    base: Base<Logger>,
}

#[godot_api]
impl ILogger for WasgoErrorWatch {
    /// Counts one error or warning and its text's length (from any thread); touches nothing of
    /// Godot's.
    #[allow(clippy::too_many_arguments)]
    fn log_error(
        &mut self,
        _function: GString,
        _file: GString,
        _line: i32,
        code: GString,
        rationale: GString,
        _editor_notify: bool,
        _error_type: i32,
        _script_backtraces: Array<Gd<ScriptBacktrace>>,
    ) {
        // Characters, a close enough count of bytes (no copy of the text is made).
        crate::log_gate::note_error(code.len() + rationale.len());
    }
}

thread_local! {
    /// The watch while it is added (main thread).
    static WATCH: RefCell<Option<Gd<WasgoErrorWatch>>> = const { RefCell::new(None) };
}

/// Adds the watch to Godot's loggers (extension start, main thread).
pub fn install() {
    // gdext names the class of the backtraces' array on the first call; named here first, at
    // start (gdext 0.5 panics when a typed array named the class by string before).
    let _ = <ScriptBacktrace as GodotClass>::class_id();
    let watch = WasgoErrorWatch::new_gd();
    Os::singleton().add_logger(&watch);
    WATCH.with(|w| *w.borrow_mut() = Some(watch));
}

/// Removes it (extension end).
pub fn uninstall() {
    if let Some(watch) = WATCH.with(|w| w.borrow_mut().take()) {
        Os::singleton().remove_logger(&watch);
    }
}
