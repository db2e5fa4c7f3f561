//! What instances need of the runtime: the wasmtime engine, the epoch ticker, the counters and
//! the game's [`Hosts`]. The [`Runtime`](crate::runtime::Runtime) owns one and adds the module
//! cache on top; instances hold an `Arc` of it, so nothing below the runtime names the runtime.

use crate::hosts::Hosts;
use crate::stats::Stats;
use crate::ticker::EpochTicker;
use std::sync::Arc;

/// The engine-wide context shared by the runtime and its instances.
pub struct EngineContext {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) ticker: EpochTicker,
    pub(crate) stats: Stats,
    pub(crate) hosts: Arc<Hosts>,
    /// The instance pool the engine runs with, if any (see [`crate::instance_pool`]).
    pub(crate) pool: Option<crate::instance_pool::InstancePool>,
}
