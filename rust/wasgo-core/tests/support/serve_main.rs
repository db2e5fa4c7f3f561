//! Serving a mod's `main` from a test thread that stands for Godot's main thread: the bridge's
//! pending calls run here until `main` ends. `queued.rs`, `queued_hostile.rs`,
//! `found_nodes.rs`, `objects.rs` and `gojs_hostile.rs` include it by path.

#![allow(dead_code)] // each test file uses the part it needs

use std::time::{Duration, Instant};
use wasgo_core::{ModEvent, ModInstance, Runtime};

/// How long a `main` may take before the test calls it hung: a guard against a test that would
/// never end, not a timing assertion (every `main` here ends in well under a second).
const HUNG: Duration = Duration::from_secs(120);

/// Serves the bridge until `inst`'s `main` (already started) has ended, then reaps its worker
/// and returns every event it left.
///
/// # Panics
/// When `main` is still running after [`HUNG`].
pub fn serve_to_end(rt: &Runtime, inst: &mut ModInstance) -> Vec<ModEvent> {
    let started = Instant::now();
    while inst.is_main_running() {
        assert!(
            started.elapsed() < HUNG,
            "main did not end within {HUNG:?}: the test is hung"
        );
        rt.bridge().run_pending(Duration::from_millis(2));
        std::thread::yield_now();
    }
    inst.reap_worker();
    inst.drain_events()
}

/// The exit code `main` finished with, if it finished (not when it trapped or was stopped).
pub fn exit_code(events: &[ModEvent]) -> Option<i32> {
    events.iter().find_map(|e| match e {
        ModEvent::Finished { exit_code } => Some(*exit_code),
        _ => None,
    })
}

/// The message of the trap that ended the mod, if one did.
pub fn trap_message(events: &[ModEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        ModEvent::Trapped { message } => Some(message.clone()),
        _ => None,
    })
}
