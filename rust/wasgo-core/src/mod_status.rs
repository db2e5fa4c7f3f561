//! Where an instance is in its life ([`ModStatus`]), and the cell that holds it
//! ([`StatusCell`]): changed under a lock, read without one.
//!
//! The frame driver asks every live instance's status once per node per frame, and an ended
//! instance is found by the same read after every entry. A `Mutex<ModStatus>` made each read two
//! atomic read-modify-writes, a lock and an unlock (8% of a 1000-node frame of empty `process`
//! callbacks in a profile, BENCHMARKS.md "Thirteenth pass"). The cell
//! keeps the lock for changes, which decide on the old value (kill, trap, `main` starting or
//! ending: whoever changes a live instance first owns the change's event), and mirrors the value
//! into an atomic as each change's guard drops, still under the lock. A read is one load.
//!
//! Ordering: the mirror is stored with `Release` and read with `Acquire`, so what the changing
//! thread did before letting the guard go (an instance's last event queued before it is marked
//! ended) is seen by a reader that sees the new status, as it was when readers took the lock.

use parking_lot::{Mutex, MutexGuard};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, Ordering};

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ModStatus {
    /// Instantiated, living on callbacks; `main` is not running.
    Alive,
    /// `main` runs on the worker thread.
    RunningMain,
    /// `main` returned; callbacks go on.
    Finished,
    /// The mod called `proc_exit`; the instance has ended.
    Exited,
    /// A trap ended the instance.
    Trapped,
    /// `kill()` ended the instance.
    Killed,
}

impl ModStatus {
    /// Every status, in the order of their `u8` values.
    const ALL: [ModStatus; 6] = [
        ModStatus::Alive,
        ModStatus::RunningMain,
        ModStatus::Finished,
        ModStatus::Exited,
        ModStatus::Trapped,
        ModStatus::Killed,
    ];

    /// Whether the instance can still run code.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ModStatus::Alive | ModStatus::RunningMain | ModStatus::Finished
        )
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            ModStatus::Alive | ModStatus::RunningMain | ModStatus::Finished => "alive",
            ModStatus::Exited => "it exited",
            ModStatus::Trapped => "it trapped",
            ModStatus::Killed => "it was killed",
        }
    }

    fn from_u8(v: u8) -> ModStatus {
        // Only `StatusCell` stores, and only `ModStatus as u8`.
        Self::ALL[usize::from(v)]
    }
}

/// A [`ModStatus`] changed under a lock ([`StatusCell::lock`]) and read without one
/// ([`StatusCell::get`]).
pub(crate) struct StatusCell {
    lock: Mutex<ModStatus>,
    mirror: AtomicU8,
}

impl StatusCell {
    pub(crate) fn new(status: ModStatus) -> StatusCell {
        StatusCell {
            lock: Mutex::new(status),
            mirror: AtomicU8::new(status as u8),
        }
    }

    /// The status as of the last change that was let go.
    #[inline]
    pub(crate) fn get(&self) -> ModStatus {
        ModStatus::from_u8(self.mirror.load(Ordering::Acquire))
    }

    /// The status, locked for a change that depends on it; readers see the change when the
    /// guard drops.
    pub(crate) fn lock(&self) -> StatusGuard<'_> {
        StatusGuard {
            guard: self.lock.lock(),
            mirror: &self.mirror,
        }
    }
}

/// A locked [`StatusCell`]: read and change it through `*`; the change is published when the
/// guard drops (before the lock is let go).
pub(crate) struct StatusGuard<'a> {
    guard: MutexGuard<'a, ModStatus>,
    mirror: &'a AtomicU8,
}

impl Deref for StatusGuard<'_> {
    type Target = ModStatus;
    fn deref(&self) -> &ModStatus {
        &self.guard
    }
}

impl DerefMut for StatusGuard<'_> {
    fn deref_mut(&mut self) -> &mut ModStatus {
        &mut self.guard
    }
}

impl Drop for StatusGuard<'_> {
    fn drop(&mut self) {
        // Runs before the fields drop: the lock is still held.
        self.mirror.store(*self.guard as u8, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn every_status_survives_the_mirror() {
        for s in ModStatus::ALL {
            let cell = StatusCell::new(s);
            assert_eq!(cell.get(), s);
            assert_eq!(ModStatus::from_u8(s as u8), s);
        }
    }

    #[test]
    fn a_change_is_seen_only_once_its_guard_drops() {
        let cell = StatusCell::new(ModStatus::Alive);
        {
            let mut status = cell.lock();
            *status = ModStatus::Killed;
            assert_eq!(*status, ModStatus::Killed, "the holder sees its change");
            assert_eq!(cell.get(), ModStatus::Alive, "readers see it at the drop");
        }
        assert_eq!(cell.get(), ModStatus::Killed);
        // A guard that changes nothing publishes the same value.
        drop(cell.lock());
        assert_eq!(cell.get(), ModStatus::Killed);
    }

    /// What the changing thread did before letting the guard go, even after writing the new
    /// status, is visible to a reader that sees the new status (an instance's last event is
    /// queued before its status lock is let go). A cell that published at the write would fail
    /// here: the writer waits between the write and the queueing.
    #[test]
    fn a_reader_that_sees_the_new_status_sees_what_was_done_before_the_guard_dropped() {
        for _ in 0..20 {
            let cell = Arc::new(StatusCell::new(ModStatus::Alive));
            let queued = Arc::new(AtomicBool::new(false));
            let writer = {
                let (cell, queued) = (cell.clone(), queued.clone());
                std::thread::spawn(move || {
                    let mut status = cell.lock();
                    *status = ModStatus::Trapped;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    queued.store(true, Ordering::Relaxed);
                    drop(status);
                })
            };
            loop {
                if cell.get() == ModStatus::Trapped {
                    assert!(queued.load(Ordering::Relaxed));
                    break;
                }
                std::hint::spin_loop();
            }
            writer.join().unwrap();
        }
    }
}
