//! How much address space each instance's linear memory takes, and what that costs (issue 14
//! item 5): one engine-wide choice, `wasgo/runtime/memory_reservation_mb`.
//!
//! wasmtime's default reserves 4 GiB of address space per 32-bit linear memory plus a 32 MiB
//! guard region after it (and as much before it). Every address a mod can form then lands in
//! the reservation, so compiled code needs no bounds check: an access past the end faults on an
//! inaccessible page and becomes a trap. The price is address space: a 47-bit user space holds
//! about 31,000 such reservations, so about 30,000 live instances exhaust it. Before that the
//! kernel's map count runs out: each memory takes three or four mappings (its copy-on-write
//! image, its other accessible pages, the rest), and Linux's default `vm.max_map_count` is
//! 65,530, so about 20,000 instances (measured: `examples/instance_study.rs`).
//!
//! A **compact** layout reserves only what the memory uses (at least one page), plus
//! [`MemoryLayout::Compact`]'s `growth` to grow into; the code then checks every access against
//! the memory's current length (a compare and branch per load or store). A memory that grows past
//! its reservation is moved: wasmtime maps a new one (its size plus `growth`) and copies the
//! bytes, so with `growth` 0 every `memory.grow` copies the whole memory. Copy-on-write memory
//! images are off in this layout (data segments are copied at instantiation): an image is one
//! more kernel mapping per instance. So with `growth` 0 a small memory is a single anonymous
//! mapping that the kernel merges with its neighbours, and 100,000 small instances live at once
//! under the default map count; with `growth` above 0 each memory takes two mappings (its pages,
//! the room to grow), about 32,000 instances under the default map count (more where
//! `vm.max_map_count` is raised, as several distributions do).
//!
//! The measured cost of the checks is in `BENCHMARKS.md` ("Instances cheaply"). The layout
//! changes the compiled code, so it is part of [`EngineFacts`](crate::precompiled::EngineFacts):
//! a cached or precompiled artifact made for the other layout is never loaded.
//!
//! The interpreter (Pulley) checks every access in its bytecode either way; the layout only
//! changes its address space.

/// The layout of every instance's linear memory, fixed when the engine starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryLayout {
    /// wasmtime's default: 4 GiB reserved per memory plus guard regions; no bounds checks in
    /// compiled code. About 30,000 live instances at most.
    GuardPages,
    /// Reserve the memory's initial size plus `growth` bytes (rounded up to pages); explicit
    /// bounds checks; a memory growing past its reservation is moved.
    Compact {
        /// Bytes reserved beyond the initial size to grow into without moving.
        growth: u64,
    },
}

/// What the compact layout reserves for every memory before its own size counts: one wasm page.
const COMPACT_RESERVATION: u64 = 64 << 10;

impl MemoryLayout {
    /// `wasgo/runtime/memory_reservation_mb` at or above this many MiB selects
    /// [`MemoryLayout::GuardPages`].
    pub const GUARD_PAGES_MB: u64 = 4096;

    /// The layout a `wasgo/runtime/memory_reservation_mb` value stands for: 4096 or more is
    /// [`MemoryLayout::GuardPages`], anything less a compact layout with that many MiB to grow
    /// into.
    pub fn from_mb(mb: u64) -> MemoryLayout {
        if mb >= Self::GUARD_PAGES_MB {
            MemoryLayout::GuardPages
        } else {
            MemoryLayout::Compact { growth: mb << 20 }
        }
    }

    /// Sets the engine configuration's memory options for this layout.
    pub(crate) fn apply(self, config: &mut wasmtime::Config) {
        match self {
            MemoryLayout::GuardPages => {}
            MemoryLayout::Compact { growth } => {
                // One page reserved ahead (not 0, which would make the interpreter's memories
                // plain heap allocations, zeroed and resident in full): a memory gets its own
                // size, plus `growth`.
                config.memory_reservation(COMPACT_RESERVATION);
                config.memory_guard_size(0);
                config.guard_before_linear_memory(false);
                config.memory_reservation_for_growth(growth);
                // An image mapped into each memory is one more kernel mapping per instance;
                // without it a memory with no room to grow is one anonymous mapping, which the
                // kernel merges with its neighbours. Data segments are copied instead.
                config.memory_init_cow(false);
            }
        }
    }

    /// A short stable name of the layout for the compatibility hash and messages.
    pub fn describe(self) -> String {
        match self {
            MemoryLayout::GuardPages => "guard-pages".into(),
            MemoryLayout::Compact { growth } => format!("compact+{growth}"),
        }
    }
}

impl Default for MemoryLayout {
    /// See `RuntimeConfig::memory_layout` for the default and why.
    fn default() -> MemoryLayout {
        MemoryLayout::GuardPages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_at_or_above_4_gib_mean_guard_pages_and_below_mean_compact() {
        assert_eq!(MemoryLayout::from_mb(4096), MemoryLayout::GuardPages);
        assert_eq!(MemoryLayout::from_mb(100_000), MemoryLayout::GuardPages);
        assert_eq!(
            MemoryLayout::from_mb(0),
            MemoryLayout::Compact { growth: 0 }
        );
        assert_eq!(
            MemoryLayout::from_mb(16),
            MemoryLayout::Compact { growth: 16 << 20 }
        );
    }

    #[test]
    fn every_layout_has_its_own_description() {
        let names = [
            MemoryLayout::GuardPages,
            MemoryLayout::from_mb(0),
            MemoryLayout::from_mb(1),
        ]
        .map(MemoryLayout::describe);
        assert_ne!(names[0], names[1]);
        assert_ne!(names[1], names[2]);
        assert_ne!(names[0], names[2]);
    }
}
