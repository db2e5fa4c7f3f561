//! The per-instance limits and their defaults: the one place the defaults are written. The glue
//! registers its project settings with these values and falls back to them.

use std::time::Duration;

/// The per-instance limits, fixed at instantiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory cap in bytes (all memories together). Default [`Limits::DEFAULT_MEMORY_MB`].
    pub memory_bytes: usize,
    /// CPU time one main-thread entry may use (`wasgo/limits/callback_budget_ms`, default
    /// [`Limits::DEFAULT_CALLBACK_BUDGET_MS`]). It counts the time the entry's thread actually
    /// runs (the thread's CPU clock, read at epoch ticks), so a loaded machine does not make a
    /// healthy mod overrun. A sleep in a callback counts in full and stops at the budget.
    pub callback_budget: Duration,
    /// The wall-clock backstop of a main-thread entry, as a multiple of `callback_budget`
    /// (`wasgo/limits/callback_wall_backstop_factor`, default
    /// [`Limits::DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR`]): an entry still running after
    /// `callback_budget * factor` of wall time traps, whatever its CPU time. Values below 1 count
    /// as 1.
    pub callback_wall_backstop_factor: u32,
    /// Which overrun of the callback budget traps (`wasgo/limits/budget_strikes`, default
    /// [`Limits::DEFAULT_BUDGET_STRIKES`]). Earlier overruns are let run up to the backstop and
    /// reported as a `BudgetWarning` event with their figures; this one, and every later one,
    /// traps as soon as it passes the budget. 1 (or 0) makes every overrun trap.
    pub budget_strikes: u32,
    /// Time `main` may run; `None` = no limit (the default, [`Limits::DEFAULT_MAIN_TIMEOUT_MS`]
    /// is 0).
    pub main_timeout: Option<Duration>,
    /// Bytes the mod's sandbox directory may hold. Default [`Limits::DEFAULT_STORAGE_MB`].
    pub storage_bytes: u64,
}

impl Limits {
    /// `wasgo/limits/memory_mb`.
    pub const DEFAULT_MEMORY_MB: u64 = 64;
    /// `wasgo/limits/callback_budget_ms`.
    pub const DEFAULT_CALLBACK_BUDGET_MS: u64 = 50;
    /// `wasgo/limits/callback_wall_backstop_factor`.
    pub const DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR: u32 = 4;
    /// `wasgo/limits/budget_strikes`.
    pub const DEFAULT_BUDGET_STRIKES: u32 = 3;
    /// `wasgo/limits/main_timeout_ms` (0 = no limit).
    pub const DEFAULT_MAIN_TIMEOUT_MS: u64 = 0;
    /// `wasgo/limits/storage_mb`.
    pub const DEFAULT_STORAGE_MB: u64 = 16;
    /// `wasgo/limits/http_response_kb`.
    pub const DEFAULT_HTTP_RESPONSE_KB: u64 = 1024;
    /// `wasgo/limits/max_objects_per_mod`: objects (nodes and resources) one instance may own at
    /// once through `wasgo.new` and the `*_from_bytes` functions.
    pub const DEFAULT_MAX_OBJECTS_PER_MOD: u64 = 1024;
    /// `wasgo/limits/asset_kb`: the largest encoded image, sound or font a mod may pass.
    pub const DEFAULT_ASSET_KB: u64 = 4096;
    /// `wasgo/limits/texture_max_px`: the widest and tallest image a mod may decode.
    pub const DEFAULT_TEXTURE_MAX_PX: u64 = 4096;
    /// `wasgo/limits/svg_draw_mpx`: how much drawing one SVG may ask for, in millions of pixels
    /// painted as [`crate::svg_cost`] estimates it (512: about a fifth of a second at worst on
    /// a 2-core machine).
    pub const DEFAULT_SVG_DRAW_MPX: u64 = 512;
    /// `wasgo/limits/assets_mb`: the memory one instance's live images, sounds and fonts may
    /// take together (a decoded image counts width x height x 4 bytes, a sound or font its
    /// bytes).
    pub const DEFAULT_ASSETS_MB: u64 = 256;

    /// The limits from settings in the units the project settings use; 0 for `main_timeout_ms`
    /// means no limit, 0 elsewhere means the default.
    pub fn from_settings(
        memory_mb: u64,
        callback_budget_ms: u64,
        main_timeout_ms: u64,
        storage_mb: u64,
    ) -> Limits {
        let or = |v: u64, d: u64| if v == 0 { d } else { v };
        // Sizes saturate: a shift would drop the high bits (2^44 MiB made a cap of 0, and
        // `i64::MAX` one that no memory reaches, i.e. none).
        let mib = |v: u64| {
            usize::try_from(v)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20)
        };
        Limits {
            memory_bytes: mib(or(memory_mb, Self::DEFAULT_MEMORY_MB)),
            callback_budget: Duration::from_millis(or(
                callback_budget_ms,
                Self::DEFAULT_CALLBACK_BUDGET_MS,
            )),
            callback_wall_backstop_factor: Self::DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR,
            budget_strikes: Self::DEFAULT_BUDGET_STRIKES,
            main_timeout: (main_timeout_ms > 0).then(|| Duration::from_millis(main_timeout_ms)),
            storage_bytes: or(storage_mb, Self::DEFAULT_STORAGE_MB).saturating_mul(1 << 20),
        }
    }

    /// The wall-clock time after which a main-thread entry traps whatever its CPU time.
    pub fn callback_backstop(&self) -> Duration {
        // Saturating: a huge budget times a huge factor overflowed `Duration` (a panic at every
        // entry).
        self.callback_budget
            .checked_mul(self.callback_wall_backstop_factor.max(1))
            .unwrap_or(Duration::MAX)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from_settings(0, 0, Self::DEFAULT_MAIN_TIMEOUT_MS, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_settings() {
        let l = Limits::default();
        assert_eq!(l.memory_bytes, 64 << 20);
        assert_eq!(l.callback_budget, Duration::from_millis(50));
        assert_eq!(l.main_timeout, None);
        assert_eq!(l.storage_bytes, 16 << 20);
        assert_eq!(l.callback_wall_backstop_factor, 4);
        assert_eq!(l.budget_strikes, 3);
        assert_eq!(l.callback_backstop(), Duration::from_millis(200));
    }

    #[test]
    fn zero_means_default_except_for_the_main_timeout() {
        let l = Limits::from_settings(0, 0, 0, 0);
        assert_eq!(l, Limits::default());
        let l = Limits::from_settings(8, 10, 250, 2);
        assert_eq!(l.memory_bytes, 8 << 20);
        assert_eq!(l.callback_budget, Duration::from_millis(10));
        assert_eq!(l.main_timeout, Some(Duration::from_millis(250)));
        assert_eq!(l.storage_bytes, 2 << 20);
    }

    #[test]
    fn huge_settings_saturate_instead_of_wrapping_or_panicking() {
        // 2^44 MiB shifted by 20 wrapped to a cap of 0; i64::MAX to a cap nothing reaches.
        let l = Limits::from_settings(1 << 44, u64::MAX, 0, i64::MAX as u64);
        assert_eq!(l.memory_bytes, usize::MAX);
        assert_eq!(l.storage_bytes, u64::MAX);
        let huge = Limits {
            callback_wall_backstop_factor: u32::MAX,
            ..l
        };
        assert_eq!(huge.callback_backstop(), Duration::MAX);
    }
}

/// The most table entries (function references) one instance may hold in all its tables: far
/// beyond any real mod, 8 MB at most.
pub const MAX_TABLE_ENTRIES: usize = 1_000_000;

/// What all of one instance's memories and tables take together, counted as they grow: the rule
/// a mod's instance and the throwaway instance of its `config` both grow under (each memory capped
/// on its own, a module with 8 memories took 8 times the cap; tables uncapped, one `table.grow`
/// took 3 GB).
#[derive(Debug, Default)]
pub struct GrowthTally {
    memory_bytes: usize,
    table_entries: usize,
    /// What the instance's guest runtime keeps on the host for it under the same cap (a Go-js
    /// program's JavaScript values): memories may grow only into what those leave.
    host_bytes: usize,
    /// The last grow counted, until the next: what [`GrowthTally::grow_failed`] takes back.
    last_grow: Option<Grown>,
}

/// A grow counted, with the total before it.
#[derive(Debug, Clone, Copy)]
enum Grown {
    Memory { before: usize },
    Table { before: usize },
}

impl GrowthTally {
    /// Memories one instance may define (wasmtime refuses a module with more).
    pub const MAX_MEMORIES: usize = 4;
    /// Tables one instance may define.
    pub const MAX_TABLES: usize = 16;

    /// Bytes of all memories together.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// Bytes all memories would take once one grows from `current` to `desired` bytes
    /// (saturating: a 64-bit memory asks for up to `usize::MAX - 65535` bytes, and a sum that
    /// wrapped came out small, passed the cap and lowered the count, so four memories took four
    /// times the cap).
    pub fn memory_after(&self, current: usize, desired: usize) -> usize {
        (self.memory_bytes - current.min(self.memory_bytes)).saturating_add(desired)
    }

    /// Counts a memory growing from `current` to `desired` bytes (its own `maximum` decided
    /// first) when all memories stay within `cap`: `Ok(true)` grown, `Ok(false)` past the
    /// memory's own maximum (wasmtime refuses it; nothing counted), `Err(after)` past `cap`
    /// (nothing counted; the caller traps, naming `after`).
    pub fn grow_memory(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
        cap: usize,
    ) -> Result<bool, usize> {
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let after = self.memory_after(current, desired);
        if after.saturating_add(self.host_bytes) > cap {
            return Err(after);
        }
        self.last_grow = Some(Grown::Memory {
            before: self.memory_bytes,
        });
        self.memory_bytes = after;
        Ok(true)
    }

    /// Takes back the last grow counted: the engine could not make it (out of memory, a
    /// maximum it checks after asking). Left counted, each failed grow blocked the rest of the
    /// instance's room for good.
    pub fn grow_failed(&mut self) {
        match self.last_grow.take() {
            Some(Grown::Memory { before }) => self.memory_bytes = before,
            Some(Grown::Table { before }) => self.table_entries = before,
            None => {}
        }
    }

    /// What the guest runtime keeps on the host under the cap (see the field).
    pub fn host_bytes(&self) -> usize {
        self.host_bytes
    }

    /// Records what the guest runtime keeps on the host now (see the field).
    pub fn set_host_bytes(&mut self, bytes: usize) {
        self.host_bytes = bytes;
    }

    /// Counts a table growing from `current` to `desired` entries; false (nothing counted) when
    /// all tables together would pass [`MAX_TABLE_ENTRIES`] or `desired` the table's own
    /// `maximum` (which the engine checks only after asking: counted, the refused grow of a
    /// small table blocked every other table). Saturating, as [`GrowthTally::memory_after`].
    pub fn grow_table(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> bool {
        if maximum.is_some_and(|max| desired > max) {
            return false;
        }
        let after = (self.table_entries - current.min(self.table_entries)).saturating_add(desired);
        if after > MAX_TABLE_ENTRIES {
            return false;
        }
        self.last_grow = Some(Grown::Table {
            before: self.table_entries,
        });
        self.table_entries = after;
        true
    }
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    #[test]
    fn memories_and_tables_are_counted_together() {
        let mut t = GrowthTally::default();
        assert_eq!(t.grow_memory(0, 10, None, 40), Ok(true));
        assert_eq!(t.grow_memory(0, 20, Some(20), 40), Ok(true));
        assert_eq!(t.memory_bytes(), 30);
        // The first memory grows from 10 to 15; then past the cap, then past its own maximum.
        assert_eq!(t.memory_after(10, 15), 35);
        assert_eq!(t.grow_memory(10, 25, None, 40), Err(45));
        assert_eq!(t.grow_memory(20, 21, Some(20), 400), Ok(false));
        assert_eq!(t.memory_bytes(), 30, "nothing counted for a refusal");
        // Host-side values under the same cap leave memories less room.
        t.set_host_bytes(8);
        assert_eq!(t.grow_memory(10, 13, None, 40), Err(33));
        assert_eq!(t.grow_memory(10, 12, None, 40), Ok(true));
        assert!(t.grow_table(0, MAX_TABLE_ENTRIES / 2, None));
        assert!(t.grow_table(0, MAX_TABLE_ENTRIES / 2, None));
        assert!(!t.grow_table(0, 1, None), "a third table past the total");
        assert!(t.grow_table(MAX_TABLE_ENTRIES / 2, MAX_TABLE_ENTRIES / 2, None));
    }

    /// A 64-bit memory asks for sizes near `usize::MAX`: the sum wrapped, came out small,
    /// passed the cap and lowered the count (four memories took four times the cap).
    #[test]
    fn sizes_near_the_top_of_usize_are_refused_and_count_nothing() {
        let mut t = GrowthTally::default();
        assert_eq!(t.grow_memory(0, 63 << 20, None, 64 << 20), Ok(true));
        let huge = usize::MAX - 65535;
        assert_eq!(t.grow_memory(0, huge, None, 64 << 20), Err(usize::MAX));
        assert_eq!(t.memory_bytes(), 63 << 20, "the count is unchanged");
        assert_eq!(t.grow_memory(0, 2 << 20, None, 64 << 20), Err(65 << 20));
        assert!(t.grow_table(0, 10, None));
        assert!(!t.grow_table(0, usize::MAX - 5, None));
        assert!(!t.grow_table(0, MAX_TABLE_ENTRIES, None));
    }

    /// A grow the engine could not make after it was counted is taken back; a table's own
    /// maximum is decided before anything is counted.
    #[test]
    fn failed_grows_are_taken_back_and_table_maximums_decided_first() {
        let mut t = GrowthTally::default();
        assert_eq!(t.grow_memory(0, 10 << 20, None, 64 << 20), Ok(true));
        assert_eq!(t.grow_memory(10 << 20, 60 << 20, None, 64 << 20), Ok(true));
        t.grow_failed();
        assert_eq!(t.memory_bytes(), 10 << 20);
        assert!(
            !t.grow_table(1, MAX_TABLE_ENTRIES - 10, Some(10)),
            "past the table's maximum"
        );
        assert!(
            t.grow_table(0, MAX_TABLE_ENTRIES - 10, None),
            "nothing was counted for it"
        );
        t.grow_failed();
        assert!(
            t.grow_table(0, MAX_TABLE_ENTRIES, None),
            "the failed grow was taken back"
        );
    }
}
