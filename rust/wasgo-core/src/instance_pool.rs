//! An optional pool of instance slots (issue 14 item 5): one engine-wide choice,
//! `wasgo/runtime/instance_pool_size`.
//!
//! By default every instance asks the kernel for its own memory (a mapping of its reservation
//! and of the module's copy-on-write data image) and gives it back when it ends: two to four
//! `mmap`/`munmap`/`mprotect` calls per instance and a page fault for every page it touches.
//! With a pool, wasmtime reserves the address space of `slots` instances once, when the engine
//! starts, and an instance takes a free slot. A slot remembers the module that used it last,
//! so a later instance of the same module finds the module's data image still mapped and only
//! the pages the last one dirtied are reset: a game that spawns and frees many instances of the
//! same mods (enemies, bullets, items) pays no kernel mapping per spawn, and up to
//! [`InstancePool::KEEP_RESIDENT`] of those pages stay mapped (no page faults on reuse).
//!
//! The price: `slots` is a hard cap on instances alive at once (a start past it is refused
//! with an error that names the setting), every slot's memory is as large as
//! `wasgo/limits/memory_mb` (a node asking for a larger `memory_limit_mb` is refused at start),
//! and the whole reservation is made up front (`slots` x the layout's reservation: 4 GiB plus
//! guards per slot in the guard-page layout, the memory cap in the compact one). Figures:
//! `BENCHMARKS.md`, "Instances cheaply".

use crate::memory_layout::MemoryLayout;

/// The pool's shape. `None` in [`RuntimeConfig::instance_pool`](crate::runtime::RuntimeConfig)
/// (the default) means no pool: each instance maps its own memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstancePool {
    /// Instances (and memories, and tables) alive at once.
    pub slots: u32,
    /// The most one slot's linear memory can hold, in bytes: the game's memory cap.
    pub memory_bytes: usize,
}

impl InstancePool {
    /// The most slots a setting may ask for. Above it the reservation alone would not fit in
    /// a 47-bit address space in the guard-page layout (about 31,000 slots of 4 GiB), and in
    /// the compact layout a million instances is far beyond any game.
    pub const MAX_SLOTS: u32 = 1_000_000;

    /// Table entries one slot holds (function references; a table grown past it fails to grow).
    pub const TABLE_ELEMENTS: usize = 100_000;

    /// Bytes of the pages an instance dirtied that its slot keeps mapped (reset to their first
    /// contents in place) when the instance ends, per memory and per table; dirty pages beyond
    /// it are given back to the kernel. A slot whose next instance is of a small mod then
    /// takes no page fault for them: `start()` x 1000 of the bench mover in a pool took
    /// 33-35 ms with none kept and 22-23 ms with 64 KiB (it dirties about 16 KiB; BENCHMARKS.md,
    /// "Ninth pass"). The price is resident memory of slots nobody uses: at most this much per
    /// memory and per table of each slot an instance has used (about 19 KiB per slot for the
    /// bench mover).
    pub const KEEP_RESIDENT: usize = 64 * 1024;

    /// The command-line user argument that sets the pool's slots for one run (after `--`):
    /// `--wasgo-instance-pool=2000`; `0` turns it off.
    pub const ARG_PREFIX: &'static str = "--wasgo-instance-pool=";

    /// The pool a game asks for: the last `--wasgo-instance-pool=N` among the command line's
    /// user arguments, else `setting` (`wasgo/runtime/instance_pool_size`), every slot
    /// `memory_mb` MiB. Returns it with warnings about values that were skipped or changed.
    pub fn choose<S: AsRef<str>>(
        user_args: &[S],
        setting: i64,
        memory_mb: u64,
    ) -> (Option<InstancePool>, Vec<String>) {
        let mut warnings = Vec::new();
        let from_args = user_args
            .iter()
            .filter_map(|a| a.as_ref().strip_prefix(Self::ARG_PREFIX))
            .filter_map(|value| {
                let slots = value.trim().parse::<i64>().ok();
                if slots.is_none() {
                    warnings.push(format!(
                        "command-line argument `{}{value}` is not a whole number of slots; \
                         the argument is ignored",
                        Self::ARG_PREFIX
                    ));
                }
                slots
            })
            .last();
        let (pool, note) = InstancePool::from_setting(from_args.unwrap_or(setting), memory_mb);
        warnings.extend(note);
        (pool, warnings)
    }

    /// The pool a `wasgo/runtime/instance_pool_size` setting stands for, with every slot's
    /// memory `memory_mb` MiB (`wasgo/limits/memory_mb`): `None` for 0 or less (no pool).
    /// Returns the pool and, when the setting had to be changed, why.
    pub fn from_setting(slots: i64, memory_mb: u64) -> (Option<InstancePool>, Option<String>) {
        if slots <= 0 {
            return (None, None);
        }
        let clamped = slots.min(i64::from(Self::MAX_SLOTS)) as u32;
        let note = (clamped as i64 != slots).then(|| {
            format!(
                "`wasgo/runtime/instance_pool_size` is {slots}, above the most WasGo allows \
                 ({}); the pool has {clamped} slots",
                Self::MAX_SLOTS
            )
        });
        let memory_bytes = (memory_mb.max(1) as usize).saturating_mul(1 << 20);
        (
            Some(InstancePool {
                slots: clamped,
                memory_bytes,
            }),
            note,
        )
    }

    /// What each memory reserves under this pool in `layout`, when it differs from the
    /// layout's own: wasmtime's pool needs a slot's reservation to hold the slot's largest
    /// memory, so the compact layout's memories reserve the whole memory cap (still bounds
    /// checked; a memory never moves). The compiled code depends on it (see
    /// [`EngineFacts`](crate::precompiled::EngineFacts)). The guard-page layout's 4 GiB already
    /// holds any cap.
    pub fn compact_slot_bytes(&self, layout: MemoryLayout) -> Option<usize> {
        match layout {
            MemoryLayout::GuardPages => None,
            MemoryLayout::Compact { .. } => Some(self.memory_bytes),
        }
    }

    /// Sets the engine configuration's allocation strategy to this pool, after `layout` set its
    /// memory options.
    pub(crate) fn apply(self, config: &mut wasmtime::Config, layout: MemoryLayout) {
        if let Some(bytes) = self.compact_slot_bytes(layout) {
            config.memory_reservation(bytes as u64);
            config.memory_reservation_for_growth(0);
        }
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_core_instances(self.slots)
            .total_memories(self.slots)
            .total_tables(self.slots)
            // WasGo runs core modules only, synchronously: no component instance or async stack
            // slots (the stack pool would otherwise reserve and guard 1000 stacks at start).
            .total_component_instances(0)
            .total_stacks(0)
            .max_memory_size(self.memory_bytes)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .table_elements(Self::TABLE_ELEMENTS)
            // No `PAGEMAP_SCAN` (Linux 6.7's list of the pages an instance dirtied): wasmtime 48
            // resets only the dirty pages that are *present*, so a page the mod wrote that the
            // kernel had swapped out was neither reset nor released, and the slot's next
            // instance (another mod) read it back. Without the scan, the first `KEEP_RESIDENT`
            // bytes are zeroed in place (so the next instance takes no page fault for them) and
            // the rest is released, swapped pages included.
            .pagemap_scan(wasmtime::Enabled::No)
            // A slot stays with the module that used it last while never-used slots remain
            // (wasmtime's default of 100 gives it to another module as soon as 100 wait, which
            // then maps its own image: with two modules taking turns, every start did).
            .max_unused_warm_slots(self.slots)
            .linear_memory_keep_resident(Self::KEEP_RESIDENT)
            .table_keep_resident(Self::KEEP_RESIDENT);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }

    /// Why an instance whose memory cap is `memory_bytes` cannot take a slot of this pool, if
    /// it cannot.
    pub fn refuses(&self, memory_bytes: usize) -> Option<String> {
        (memory_bytes > self.memory_bytes).then(|| {
            format!(
                "its memory limit of {} MiB is larger than the instance pool's slots ({} MiB, the \
                 `wasgo/limits/memory_mb` the game started with): lower the node's \
                 `memory_limit_mb`, start the game with a larger `wasgo/limits/memory_mb`, or \
                 turn the pool off (`wasgo/runtime/instance_pool_size` 0)",
                memory_bytes >> 20,
                self.memory_bytes >> 20
            )
        })
    }

    /// A short description for messages and statistics.
    pub fn describe(&self) -> String {
        format!("{} slots of {} MiB", self.slots, self.memory_bytes >> 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_or_less_means_no_pool_and_large_settings_are_clamped_with_a_note() {
        assert_eq!(InstancePool::from_setting(0, 64), (None, None));
        assert_eq!(InstancePool::from_setting(-5, 64), (None, None));
        let (pool, note) = InstancePool::from_setting(2000, 64);
        assert_eq!(
            pool,
            Some(InstancePool {
                slots: 2000,
                memory_bytes: 64 << 20
            })
        );
        assert_eq!(note, None);
        let (pool, note) = InstancePool::from_setting(i64::MAX, 0);
        let pool = pool.expect("a pool");
        assert_eq!(pool.slots, InstancePool::MAX_SLOTS);
        assert_eq!(pool.memory_bytes, 1 << 20, "a 0 MiB cap still gets a page");
        assert!(note.expect("a note").contains("instance_pool_size"));
    }

    #[test]
    fn the_last_command_line_argument_wins_over_the_setting_and_a_bad_one_is_named() {
        let (pool, warnings) = InstancePool::choose(&["--x"], 0, 64);
        assert_eq!((pool, warnings.len()), (None, 0));
        let (pool, _) = InstancePool::choose(&["--wasgo-instance-pool=100"], 0, 64);
        assert_eq!(pool.map(|p| p.slots), Some(100));
        let (pool, _) = InstancePool::choose(&["--wasgo-instance-pool=0"], 500, 64);
        assert_eq!(
            pool, None,
            "0 on the command line turns the setting's pool off"
        );
        let (pool, warnings) = InstancePool::choose(
            &["--wasgo-instance-pool=7", "--wasgo-instance-pool=many"],
            500,
            32,
        );
        assert_eq!(
            pool,
            Some(InstancePool {
                slots: 7,
                memory_bytes: 32 << 20
            })
        );
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("--wasgo-instance-pool=many"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_memory_cap_above_the_slot_is_refused_with_the_settings_to_change() {
        let (pool, _) = InstancePool::from_setting(10, 64);
        let pool = pool.expect("a pool");
        assert_eq!(pool.refuses(64 << 20), None);
        assert_eq!(pool.refuses(1 << 20), None);
        let why = pool.refuses(128 << 20).expect("refused");
        assert!(why.contains("128 MiB") && why.contains("64 MiB"), "{why}");
        assert!(why.contains("memory_limit_mb") && why.contains("wasgo/limits/memory_mb"));
    }
}
