//! Engine objects a mod causes to exist, owned by its instance: the `SceneTreeTimer`s its
//! `SceneTree.create_timer` calls make. (Its signal connections are the other kind; the object
//! table in `objects.rs` keeps those and disconnects them.) Main thread only.
//!
//! A `SceneTreeTimer` is RefCounted and the SceneTree holds it until it fires, so a timer a mod
//! made would outlive the mod by its whole wait (a hostile mod makes thousands with hour-long
//! waits). Each instance tracks the timers it made; when it ends (kill, trap, exit, its node
//! freed), its connections are disconnected first and then each pending timer's `time_left` is set
//! to 0: the tree fires it at its next frame, with nothing connected any more, and drops it. At
//! most [`MAX_TIMERS_PER_INSTANCE`] of an instance's timers may exist at once (waiting, or fired
//! and held by the mod's handles); over that, `create_timer` answers `ErrorCode::Busy` (-7) with
//! a message saying so.

use godot::classes::{Object, SceneTreeTimer};
use godot::prelude::*;
use wasgo_catalog::ErrorCode;
use wasgo_core::{ObjectError, WireVariant};

/// How many of one instance's `SceneTreeTimer`s may wait to fire at once.
pub const MAX_TIMERS_PER_INSTANCE: usize = 1024;

/// The timers one instance made (by id: the list never keeps a timer alive).
#[derive(Default)]
pub struct OwnedTimers {
    timers: Vec<InstanceId>,
}

impl OwnedTimers {
    /// Whether calling `method` on `obj` makes a timer the instance will own.
    pub fn creates_timer(obj: &Gd<Object>, method: &str) -> bool {
        method == "create_timer" && obj.is_class("SceneTree")
    }

    /// Refuses a new timer when [`MAX_TIMERS_PER_INSTANCE`] of the instance's timers still
    /// exist: waiting to fire, or fired but kept alive by the mod's handle to it (counting only
    /// waiting ones let a mod keep a million fired timers alive through its handles).
    ///
    /// # Errors
    /// `ErrorCode::Busy` with a message naming the limit.
    pub fn check_room(&mut self) -> Result<(), ObjectError> {
        if self.timers.len() >= MAX_TIMERS_PER_INSTANCE {
            self.timers
                .retain(|id| Gd::<SceneTreeTimer>::try_from_instance_id(*id).is_ok());
        }
        if self.timers.len() >= MAX_TIMERS_PER_INSTANCE {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!(
                    "`create_timer` refused: this mod already has {MAX_TIMERS_PER_INSTANCE} timers, waiting to fire or held by its handles, the most one mod may have; release the handles of fired timers (`release`) or reuse one before creating more"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a `create_timer` whose delay (its first argument) is no finite number: Godot fires
    /// a timer at `time_left <= 0`, which a NaN never is, and keeps it (walked at every frame)
    /// until someone sets it; an infinite one waits for good.
    ///
    /// # Errors
    /// `ErrorCode::InvalidArgument` naming the delay.
    pub fn check_delay(args: &[WireVariant]) -> Result<(), ObjectError> {
        match args.first() {
            Some(WireVariant::Float(delay)) if !delay.is_finite() => Err(ObjectError::failed(
                ErrorCode::InvalidArgument.code(),
                format!("`create_timer` refused: a delay of {delay} seconds is no finite number; give the seconds to wait"),
            )),
            _ => Ok(()),
        }
    }

    /// Records the timer a `create_timer` call returned.
    pub fn track(&mut self, result: &Variant) {
        if let Ok(timer) = result.try_to::<Gd<SceneTreeTimer>>() {
            self.timers.push(timer.instance_id());
        }
    }

    /// Makes the tree fire and drop every timer still waiting (call once the instance's
    /// connections are gone).
    pub fn release_all(&mut self) {
        for id in self.timers.drain(..) {
            if let Some(mut timer) = pending(id) {
                timer.set_time_left(0.0);
            }
        }
    }
}

/// The timer `id` if it still exists and has not fired (Godot fires one at `time_left <= 0`;
/// a NaN left, never that, counts as waiting).
fn pending(id: InstanceId) -> Option<Gd<SceneTreeTimer>> {
    Gd::<SceneTreeTimer>::try_from_instance_id(id)
        .ok()
        .filter(|t| {
            let left = t.get_time_left();
            left > 0.0 || left.is_nan()
        })
}
