//! The runtime's counters, shared by the layers that change them.

use std::sync::atomic::AtomicU64;

/// Counters behind [`Runtime::stats`](crate::runtime::Runtime::stats).
#[derive(Debug, Default)]
pub struct Stats {
    /// Live instances: instances whose store (and memory) still exists.
    pub instances: AtomicU64,
    /// `main`s running now.
    pub running: AtomicU64,
    /// Worker threads alive now.
    pub workers: AtomicU64,
    pub traps: AtomicU64,
    pub kills: AtomicU64,
    pub cache_hits: AtomicU64,
    /// Modules compiled from bytes (not found in the memory or disk cache).
    pub compiles: AtomicU64,
}
