//! How long one node's mod ran on the main thread per frame: what the remote inspector shows as
//! a running `WasmScript`'s `frame_time_usec`. No class here.
//!
//! Every main-thread entry into the mod (`process`, signal callbacks, `call_export`, ...) adds
//! its wall-clock time to the frame it ran in (Godot's process-frame counter). The figure shown
//! is the last *complete* frame's total, so it does not flicker while a frame is under way: the
//! previous frame's total while entries of the current frame come in, 0 when the mod did not run
//! in the previous frame. Plain `Cell`s: the node's core is main-thread only.

use godot::classes::Engine;
use godot::obj::{Gd, Singleton};
use std::cell::{Cell, OnceCell};
use wasgo_core::clock::Span;

thread_local! {
    /// The `Engine` singleton, looked up once per thread: `Engine::singleton()` makes the
    /// class's `StringName` and asks Godot for it on every call, which an entry made thousands
    /// of times a frame cannot afford. `Engine` is not reference-counted and lives as long as
    /// Godot, so keeping the `Gd` holds nothing alive.
    static ENGINE: OnceCell<Gd<Engine>> = const { OnceCell::new() };
}

/// A process-frame counter now: the frame driver's own (no call into Godot), else Godot's
/// (before the driver is connected; the driver counts on from it).
pub(crate) fn process_frames() -> u64 {
    let driver = crate::live::process_frames();
    if driver != 0 {
        return driver;
    }
    ENGINE
        .try_with(|e| e.get_or_init(Engine::singleton).get_process_frames())
        .unwrap_or_else(|_| Engine::singleton().get_process_frames())
}

/// The per-frame totals of one node's entries.
#[derive(Default)]
pub struct FrameTime {
    /// The frame the `current` total belongs to.
    frame: Cell<u64>,
    /// The total of that frame so far (the clock's units: an entry only adds).
    current: Cell<Span>,
    /// The total of the frame before `frame`, if the mod ran in it.
    previous: Cell<Span>,
    /// Every entry's time since the node's first: what the frame driver's overrun check takes
    /// differences of (a mod's own time, never that of the mods the game called inside it).
    total: Cell<Span>,
}

impl FrameTime {
    /// Adds one entry's time to the frame running now.
    pub fn add(&self, took: Span) {
        let now = process_frames();
        if now != self.frame.get() {
            let previous = if now == self.frame.get() + 1 {
                self.current.get()
            } else {
                Span::ZERO
            };
            self.previous.set(previous);
            self.current.set(Span::ZERO);
            self.frame.set(now);
        }
        self.current.set(self.current.get().saturating_add(took));
        self.total.set(self.total.get().saturating_add(took));
    }

    /// Every entry's own time so far (see [`FrameTime::total`]'s field).
    pub fn total(&self) -> Span {
        self.total.get()
    }

    /// The last complete frame's total, in microseconds (see the module essay).
    pub fn last_frame_usec(&self) -> i64 {
        let now = process_frames();
        let total = if now == self.frame.get() {
            self.previous.get()
        } else if now == self.frame.get() + 1 {
            self.current.get()
        } else {
            Span::ZERO
        };
        i64::try_from(total.to_duration().as_micros()).unwrap_or(i64::MAX)
    }
}
