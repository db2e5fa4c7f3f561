//! How much of the main thread the Godot calls of one mod's `main` may take.
//!
//! A `main` runs on a worker thread; each call it makes into Godot runs on the main thread,
//! between frames, where the bridge serves calls for up to 4 ms a frame, checking its budget
//! after each call. Cheap calls are bounded by that budget alone and are not counted here. One
//! call can take much longer, though — decoding an image or an SVG at the limits the game set,
//! say 200 ms — and a `main` looping on such calls held the game at a few frames a second with
//! no budget to stop it. Calls of [`LONG_CALL`] or more count: [`MainShare`] lets them use
//! [`SHARE`] of the main thread's time on average, [`BURST`] at once; past that, the worker
//! waits (killably) before its next call until the mod is back within its share, and the game's
//! frames run meanwhile. The long calls of all instances together are held to [`ALL_SHARE`]
//! the same way ([`charge_all`]): four mods at 30% each took the main thread whole.
//!
//! A leaf: the object calls charge it (`object_calls.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Times a `main` waited because its calls took more than its share (the runtime's stats).
pub static WAITS: AtomicU64 = AtomicU64::new(0);

/// The part of the main thread's time one mod's calls from `main` may take on average.
pub const SHARE: f64 = 0.3;
/// What they may take at once before the mod has to wait.
pub const BURST: Duration = Duration::from_millis(100);
/// A call that takes at least this long on the main thread counts (shorter ones are the bridge's
/// per-frame budget's business).
pub const LONG_CALL: Duration = Duration::from_millis(1);

/// The part of the main thread's time the long calls of all instances' `main`s together may
/// take on average.
pub const ALL_SHARE: f64 = 0.5;
/// What they may take together at once.
pub const ALL_BURST: Duration = Duration::from_millis(200);

/// An allowance of main-thread time: one instance's, or all instances' ([`charge_all`]).
#[derive(Debug)]
pub struct MainShare {
    /// Main-thread time still to use (seconds; negative: owed).
    allowance: f64,
    last: Instant,
    share: f64,
    burst: f64,
}

impl Default for MainShare {
    /// One instance's: [`SHARE`], [`BURST`].
    fn default() -> Self {
        MainShare::new(SHARE, BURST)
    }
}

impl MainShare {
    /// An allowance of `share` of the time on average and `burst` at once.
    pub fn new(share: f64, burst: Duration) -> MainShare {
        MainShare {
            allowance: burst.as_secs_f64(),
            last: Instant::now(),
            share,
            burst: burst.as_secs_f64(),
        }
    }

    /// Counts `used` of main-thread time at `now`; returns how long the caller must wait before
    /// its next call (zero while it is within its share).
    pub fn charge(&mut self, used: Duration, now: Instant) -> Duration {
        let earned = now.saturating_duration_since(self.last).as_secs_f64() * self.share;
        self.last = now.max(self.last);
        self.allowance = (self.allowance + earned).min(self.burst) - used.as_secs_f64();
        if self.allowance >= 0.0 {
            return Duration::ZERO;
        }
        WAITS.fetch_add(1, Ordering::Relaxed);
        Duration::from_secs_f64(-self.allowance / self.share)
    }
}

/// All instances' allowance together.
static ALL: parking_lot::Mutex<Option<MainShare>> = parking_lot::Mutex::new(None);

/// Counts `used` of one instance's long calls against all instances' allowance
/// ([`ALL_SHARE`], [`ALL_BURST`]); returns how long that instance must wait.
pub fn charge_all(used: Duration, now: Instant) -> Duration {
    ALL.lock()
        .get_or_insert_with(|| MainShare::new(ALL_SHARE, ALL_BURST))
        .charge(used, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_calls_never_wait_and_long_ones_keep_the_mod_within_its_share() {
        let start = Instant::now();
        let mut share = MainShare {
            last: start,
            ..MainShare::default()
        };
        // 240 cheap calls a frame (4 ms of calls every 16.7 ms) for ten seconds: never a wait.
        let mut now = start;
        for _ in 0..600 {
            now += Duration::from_micros(16_667);
            assert_eq!(share.charge(Duration::from_millis(4), now), Duration::ZERO);
        }
        // 200 ms calls back to back: the first is within the burst, then each waits so that
        // calls and waits together keep the mod at its share.
        let mut used = Duration::ZERO;
        let begin = now;
        for _ in 0..20 {
            let wait = share.charge(Duration::from_millis(200), now);
            used += Duration::from_millis(200);
            now += Duration::from_millis(200) + wait;
        }
        let part = used.as_secs_f64() / (now - begin).as_secs_f64();
        assert!((part - SHARE).abs() < 0.05, "{part}");
    }

    #[test]
    fn instances_together_keep_within_the_shared_allowance() {
        let start = Instant::now();
        let mut all = MainShare::new(ALL_SHARE, ALL_BURST);
        all.last = start;
        let mut mods: Vec<MainShare> = (0..4)
            .map(|_| MainShare {
                last: start,
                ..MainShare::default()
            })
            .collect();
        // Four mods, each a worker looping on 100 ms calls; the main thread serves one at a
        // time, so each call starts when the mod may call again and the thread is free.
        let mut ready = [start; 4];
        let mut thread_free = start;
        let mut used = Duration::ZERO;
        for _ in 0..200 {
            let i = (0..4).min_by_key(|i| ready[*i]).unwrap();
            let at = ready[i].max(thread_free);
            let end = at + Duration::from_millis(100);
            thread_free = end;
            used += Duration::from_millis(100);
            let wait = mods[i]
                .charge(Duration::from_millis(100), end)
                .max(all.charge(Duration::from_millis(100), end));
            ready[i] = end + wait;
        }
        let part = used.as_secs_f64() / (thread_free - start).as_secs_f64();
        assert!(part < ALL_SHARE + 0.05, "{part}");
    }
}
