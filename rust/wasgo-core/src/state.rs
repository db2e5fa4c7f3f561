//! What a store carries for one mod instance, and the kill switch shared with its owner.

use crate::error::TrapKind;
use crate::events::{EventSink, ModEvent};
use crate::level::SafetyLevel;
use crate::limits::Limits;
use crate::runtime::Runtime;
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A trap raised by the host (an error stub, a limit, `wasgo.abort`, a bad call), carried inside
/// `wasmtime::Error` so it can be told apart from wasm faults.
#[derive(Debug, Clone)]
pub struct HostTrap {
    pub kind: TrapKind,
    pub message: String,
}

impl HostTrap {
    pub fn new(kind: TrapKind, message: impl Into<String>) -> HostTrap {
        HostTrap {
            kind,
            message: message.into(),
        }
    }

    /// As a `wasmtime::Error` for returning from a host function.
    pub fn into_error(self) -> wasmtime::Error {
        wasmtime::Error::new(self)
    }
}

impl std::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostTrap {}

/// Raised inside wasm when the instance's kill switch is thrown.
#[derive(Debug, Clone)]
pub struct KilledTrap;

impl std::fmt::Display for KilledTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("killed")
    }
}

impl std::error::Error for KilledTrap {}

/// Stops one instance from any thread: running wasm notices within one epoch tick, a host call
/// waiting on the main thread wakes at once.
pub struct KillSwitch {
    killed: AtomicBool,
    reason: Mutex<Option<String>>,
    /// Dropped on kill, which wakes every `select!` on `wake_rx`.
    wake_tx: Mutex<Option<Sender<()>>>,
    wake_rx: Receiver<()>,
}

impl KillSwitch {
    pub fn new() -> Arc<KillSwitch> {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Arc::new(KillSwitch {
            killed: AtomicBool::new(false),
            reason: Mutex::new(None),
            wake_tx: Mutex::new(Some(tx)),
            wake_rx: rx,
        })
    }

    /// Throws the switch; the first reason given is kept. Returns false if it was already thrown.
    pub fn kill(&self, reason: impl Into<String>) -> bool {
        let mut slot = self.reason.lock();
        if self.killed.swap(true, Ordering::AcqRel) {
            return false;
        }
        *slot = Some(reason.into());
        self.wake_tx.lock().take();
        true
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn reason(&self) -> Option<String> {
        self.reason.lock().clone()
    }

    /// A receiver that becomes ready (disconnected) when the switch is thrown.
    pub fn wake(&self) -> &Receiver<()> {
        &self.wake_rx
    }
}

/// Which time limit the current wasm entry runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// A main-thread entry under `wasgo/limits/callback_budget_ms`.
    Callback,
    /// `main` under `main_timeout_ms`.
    Main,
}

/// The data every store of a mod instance carries.
pub struct InstanceState {
    pub(crate) wasi: wasmtime_wasi::p1::WasiP1Ctx,
    pub(crate) name: String,
    pub(crate) level: SafetyLevel,
    pub(crate) limits: Limits,
    pub(crate) events: EventSink,
    pub(crate) kill: Arc<KillSwitch>,
    pub(crate) runtime: Arc<Runtime>,
    /// The message behind the last negative return of a `wasgo` call.
    pub(crate) last_error: String,
    /// When the current entry must stop, and why.
    pub(crate) deadline: Option<(Instant, DeadlineKind)>,
    /// Current total of linear memory, for the limiter.
    pub(crate) memory_used: usize,
    /// When the WASI context was made (WASI's monotonic clock counts from here).
    pub(crate) created: Instant,
    /// `main`'s arguments after the program name.
    pub(crate) wasi_args: Vec<String>,
    /// The mod's private directory for the level-2 file functions.
    pub(crate) sandbox: Option<crate::sandbox::Sandbox>,
    /// What the game has granted this mod.
    pub(crate) permissions: Arc<crate::permissions::Permissions>,
    /// Identifies the instance to the object host.
    pub(crate) key: crate::objects::InstanceKey,
    /// Whether the entry running now runs on the main thread (set at every entry; saves a
    /// thread-local lookup on every object call).
    pub(crate) on_main_thread: bool,
    /// The mod's exported `memory`, found once after instantiation.
    pub(crate) memory: Option<wasmtime::Memory>,
    /// A `call` result that did not fit the mod's buffer, kept for the retry: (request, result).
    pub(crate) stash: Option<(Vec<u8>, Vec<u8>)>,
    /// The instance's HTTP requests; the only strong reference, so requests are abandoned when
    /// the store goes.
    pub(crate) http: Arc<crate::http::HttpTable>,
}

impl InstanceState {
    /// Records `message` for `wasgo.last_error` and returns `code` (a negative ABI error).
    pub(crate) fn fail(&mut self, code: i32, message: impl Into<String>) -> i32 {
        self.last_error = message.into();
        code
    }

    pub(crate) fn emit(&self, event: ModEvent) {
        self.events.send(event);
    }
}

impl wasmtime::ResourceLimiter for InstanceState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.memory_used - current.min(self.memory_used) + desired;
        if after > self.limits.memory_bytes {
            return Err(HostTrap::new(
                TrapKind::MemoryLimit,
                format!(
                    "memory limit exceeded: `{}` tried to grow its memory to {} MiB, over its limit of {} MiB \
                     (raise `memory_limit_mb` on the node or `wasgo/limits/memory_mb` if the mod really needs it)",
                    self.name,
                    desired.div_ceil(1 << 20),
                    self.limits.memory_bytes >> 20
                ),
            )
            .into_error());
        }
        self.memory_used = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million entries is far beyond any real mod.
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        4
    }

    fn tables(&self) -> usize {
        16
    }
}
