//! What a store carries for one mod instance: its name, level, limits, kill switch, the game's
//! [`Hosts`], its WASI context, sandbox, permissions and HTTP table, and the clock of the entry
//! running now.
//!
//! Host functions see the instance through this state; it holds no reference to the runtime, so
//! everything a host function can reach sits below the runtime in the module layers.

use crate::clock::Stamp;
use crate::error::{HostTrap, TrapKind};
use crate::events::{EventSink, ModEvent};
use crate::hosts::Hosts;
use crate::ids::InstanceKey;
use crate::kill::KillSwitch;
use crate::level::SafetyLevel;
use crate::limits::{GrowthTally, Limits};
use crate::wasi_ctx::{LineSink, WasiSlot};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which time limit the current wasm entry runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// A main-thread entry under `wasgo/limits/callback_budget_ms`.
    Callback,
    /// `main` under `main_timeout_ms`.
    Main,
}

/// The bytes of a name [`EntryName`] keeps in place.
const INLINE_NAME: usize = 31;

/// The name of the entry running, kept in the store's own memory when it is short (every
/// frame export's name and most others'): a frame with a thousand mods arms a thousand clocks,
/// and a `String`'s buffer is one more allocation per instance to bring into the cache each
/// time. Longer names go to a heap buffer that is reused.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryName {
    /// The name's bytes when it fits (`len <= INLINE_NAME`).
    inline: [u8; INLINE_NAME],
    len: u8,
    /// The name when it does not fit (then `len` is `u8::MAX`).
    long: String,
}

impl EntryName {
    /// Keeps `name` in place of the last one.
    pub(crate) fn set(&mut self, name: &str) {
        match self.inline.get_mut(..name.len()) {
            Some(room) => {
                room.copy_from_slice(name.as_bytes());
                self.len = name.len() as u8;
            }
            None => {
                self.long.clear();
                self.long.push_str(name);
                self.len = u8::MAX;
            }
        }
    }

    /// The name kept.
    pub(crate) fn as_str(&self) -> &str {
        match self.inline.get(..usize::from(self.len)) {
            // The bytes were copied whole from a `&str`: always UTF-8.
            Some(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
            None => &self.long,
        }
    }
}

/// How many of its backstops an entry may run, counting the mods the game called from inside it
/// ([`EntryClock::began`]).
pub(crate) const NESTED_BACKSTOP_FACTOR: u32 = 2;

/// The clock of one main-thread entry: when it started, its budget and backstop, and the thread
/// CPU time seen at its first epoch tick (read there, not at entry, so short entries never read
/// the CPU clock). One per store, armed and disarmed in place by every entry (`budget::arm`):
/// nothing is moved in or out of it per call, and the export's name is copied into it (see
/// [`EntryName`]).
#[derive(Debug, Clone)]
pub(crate) struct EntryClock {
    /// A main-thread entry is running under this clock.
    pub(crate) armed: bool,
    /// The export (or `init`, `_initialize`, instantiation) running now, for the warning.
    pub(crate) export: EntryName,
    pub(crate) start: Stamp,
    pub(crate) budget: Duration,
    /// The wall-clock deadline no entry passes: `start + budget * backstop factor` (moved past
    /// what entries nested in it took: only the entry's own time counts).
    pub(crate) backstop: Stamp,
    /// When the entry began, never moved (`start` is moved past nested entries' time): past
    /// [`NESTED_BACKSTOP_FACTOR`] backstops from here, the mods the game called from inside it
    /// counted, it is stopped (`budget::hard_stop_passed`). An entry charged only its own time
    /// could hold the main thread for good by calling a game function that calls another mod,
    /// each call within its budget, thousands of times. (A copy of the start per entry; the
    /// limit is worked out only at epoch ticks.)
    pub(crate) began: Stamp,
    /// (thread CPU time at the first tick, wall time from `start` to that tick).
    pub(crate) cpu_base: Option<(Duration, Duration)>,
    /// The entry has used more than its budget of CPU time (and was let run on).
    pub(crate) overran: bool,
    /// The epoch ticker's count when the entry began: an entry that saw ticks pass is timed
    /// again when it ends (a long host call as its last act meets no epoch check).
    pub(crate) ticks_at_arm: u64,
    /// `ticker::ANY_TICKS` when the entry began or its limits were last checked after a direct
    /// property call, whichever came last (see `budget::after_direct_call`).
    pub(crate) ticks_checked: u64,
    /// How many main-thread entries were running when this one began (0: none; more: the
    /// game called this mod from inside another mod's call), and the main thread's total of
    /// nested entries' time already taken out of this clock (see `budget::NESTED_NS`).
    pub(crate) depth: u32,
    pub(crate) nested_seen: u64,
}

impl EntryClock {
    /// A clock no entry runs under.
    pub(crate) fn idle() -> EntryClock {
        let now = Stamp::now();
        EntryClock {
            armed: false,
            export: EntryName::default(),
            start: now,
            budget: Duration::ZERO,
            backstop: now,
            began: now,
            cpu_base: None,
            overran: false,
            ticks_at_arm: 0,
            ticks_checked: 0,
            depth: 0,
            nested_seen: 0,
        }
    }
}

/// The data every store of a mod instance carries.
pub struct InstanceState {
    /// The WASI context (see [`WasiSlot`]); reach it through [`InstanceState::wasi_ctx`].
    pub(crate) wasi: WasiSlot,
    /// The mod's stdout and stderr as lines (what its WASI context writes to).
    pub(crate) stdio: [LineSink; 2],
    pub(crate) name: String,
    pub(crate) level: SafetyLevel,
    pub(crate) limits: Limits,
    pub(crate) events: EventSink,
    pub(crate) kill: Arc<KillSwitch>,
    pub(crate) hosts: Arc<Hosts>,
    /// The message behind the last negative return of a `wasgo` call.
    pub(crate) last_error: String,
    /// When the running `main` must stop (`main_timeout`); a main-thread entry's deadline is
    /// its clock's ([`InstanceState::deadline`]).
    pub(crate) main_deadline: Option<Instant>,
    /// The budget clock of the main-thread entry running now (when `clock.armed`).
    pub(crate) clock: EntryClock,
    /// Main-thread entries that overran their budget so far.
    pub(crate) strikes: u32,
    /// All memories and tables together, for the limiter.
    pub(crate) growth: GrowthTally,
    /// `growth`'s memory bytes for readers outside the store ([`ModInstance::memory_in_use`]), which is
    /// locked while `main` runs; 0 once the store is gone.
    ///
    /// [`ModInstance::memory_in_use`]: crate::instance::ModInstance::memory_in_use
    pub(crate) memory_gauge: Arc<std::sync::atomic::AtomicUsize>,
    /// When the instance was made (WASI's monotonic clock counts from here).
    pub(crate) created: Instant,
    /// `main`'s arguments after the program name.
    pub(crate) wasi_args: Vec<String>,
    /// The mod's private directory for the level-2 file functions.
    pub(crate) sandbox: Option<crate::sandbox::Sandbox>,
    /// What the game has granted this mod.
    pub(crate) permissions: Arc<crate::permissions::Permissions>,
    /// Identifies the instance to the object host.
    pub(crate) key: InstanceKey,
    /// Whether the entry running now runs on the main thread (set at every entry; saves a
    /// thread-local lookup on every object call).
    pub(crate) on_main_thread: bool,
    /// The mod's exported `memory`, found once after instantiation.
    pub(crate) memory: Option<wasmtime::Memory>,
    /// A `call` result that did not fit the mod's buffer, kept for the retry: (request, result,
    /// `object_calls` when it was kept).
    pub(crate) stash: Option<(Vec<u8>, Vec<u8>, u64)>,
    /// Object calls the instance made so far (a kept `call` result answers only the retry that
    /// comes right after it).
    pub(crate) object_calls: u64,
    /// What the instance's function imports were linked to (`wasgo.has_function` answers for
    /// them as linked, whatever the game registers after the instance was made).
    pub(crate) linked: Arc<LinkedImports>,
    /// The module's guest convention (its own import module, `gojs` or `wapc`, is linked only
    /// for it).
    pub(crate) guest_kind: crate::guest_kind::GuestKind,
    /// The instance's HTTP requests; the only strong reference, so requests are abandoned when
    /// the store goes.
    pub(crate) http: Arc<crate::http::HttpTable>,
    /// The state of the guest kind's host (`gojs::GoState`, `wapc::WapcState`), `None` for
    /// `wasgo` mods. Type-erased so this layer does not depend on the host functions above it;
    /// each host downcasts to its own type.
    pub(crate) guest: Option<Box<dyn std::any::Any + Send>>,
    /// Measures again what the guest's host keeps under the memory cap (a Go-js program's
    /// JavaScript values, `gojs::heap::remeasure`): `true` when the count went down. Asked
    /// before a memory grow is refused beside that count. Set by the instance's maker, so this
    /// layer does not depend on the host above it.
    pub(crate) remeasure_host: Option<fn(&mut InstanceState) -> bool>,
    /// `main`'s queued object calls (sets, `release`) and the first failure among them, which
    /// surfaces at the next object call that returns a value (see `object_calls.rs`).
    pub(crate) queued: Arc<crate::bridge::CallQueue<crate::objects::ObjectError>>,
    /// What the instance's `get_node` calls found, kept while the game's lookup stamp stays
    /// the same (see `found_nodes.rs`).
    pub(crate) found_nodes: crate::found_nodes::FoundNodes,
    /// The functions an `unexposed_call` was already reported for (see
    /// [`InstanceState::report_unexposed`]).
    pub(crate) unexposed: std::collections::HashSet<String>,
    /// The descriptors the mod opened with WASI `path_open` at level 2 (bounded there).
    pub(crate) open_files: crate::open_files::OpenFiles,
    /// Main-thread time the object calls of `main` took since it was last charged to
    /// `main_share` (added on the main thread, taken on the worker).
    pub(crate) main_time: Arc<std::sync::atomic::AtomicU64>,
    /// One of the calls `main` queued took a long time on the main thread: from then on each
    /// queued call waits for the queue to drain, so the main-thread share is checked after each
    /// (4096 queued 20 ms setters ran before the first check).
    pub(crate) slow_queue: Arc<std::sync::atomic::AtomicBool>,
    /// How much of the main thread those calls may take (see `main_share.rs`).
    pub(crate) main_share: crate::main_share::MainShare,
}

impl InstanceState {
    /// The WASI context, made now if the instance started without one (see [`WasiSlot`]).
    pub(crate) fn wasi_ctx(&mut self) -> &mut wasmtime_wasi::p1::WasiP1Ctx {
        self.wasi
            .get(&self.name, &self.wasi_args, self.created, &self.stdio)
    }

    /// When the current entry must stop, and why (a sleep never passes it): a main-thread
    /// entry at the end of its callback budget, `main` at its timeout.
    pub(crate) fn deadline(&self) -> Option<(Instant, DeadlineKind)> {
        if self.clock.armed {
            let end = self.clock.start.after(self.clock.budget);
            Some((end.to_instant(), DeadlineKind::Callback))
        } else {
            self.main_deadline.map(|d| (d, DeadlineKind::Main))
        }
    }

    /// Records `message` for `wasgo.last_error` and returns `code` (a negative ABI error).
    pub(crate) fn fail(&mut self, code: i32, message: impl Into<String>) -> i32 {
        self.last_error = message.into();
        code
    }

    pub(crate) fn emit(&self, event: ModEvent) {
        self.events.send(event);
    }

    /// Reports a refused call that does not trap the mod (a waPC host error: the guest goes on
    /// and may ask again in a loop): `unexposed_call` once per function name, for at most
    /// [`MAX_UNEXPOSED_REPORTS`] names per instance. Reported every time, a guest looping on
    /// an unregistered operation queued two million signals in 8 s (frames of 100-540 ms).
    pub(crate) fn report_unexposed(&mut self, function: String, level: SafetyLevel) {
        // The guest's own bytes (a waPC operation's names): hidden characters escaped and cut,
        // as every name the game reads is (a newline in one made a line of its own where a
        // game logs the signal).
        let function = crate::text::shown(&function, crate::text::MAX_SHOWN_NAME);
        if self.unexposed.len() >= MAX_UNEXPOSED_REPORTS || !self.unexposed.insert(function.clone())
        {
            return;
        }
        self.emit(ModEvent::UnexposedCall { function, level });
    }
}

pub use crate::limits::MAX_TABLE_ENTRIES;

/// The most distinct functions one instance reports `unexposed_call` for without trapping.
pub const MAX_UNEXPOSED_REPORTS: usize = 64;

impl wasmtime::ResourceLimiter for InstanceState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let mut grown =
            self.growth
                .grow_memory(current, desired, maximum, self.limits.memory_bytes);
        // Refused beside a Go-js program's JavaScript values: counted as they were made, they
        // are measured again (what Go still holds) before the grow is refused.
        if grown.is_err()
            && self.growth.host_bytes() > 0
            && self.remeasure_host.is_some_and(|remeasure| remeasure(self))
        {
            grown = self
                .growth
                .grow_memory(current, desired, maximum, self.limits.memory_bytes);
        }
        let after = match grown {
            // Refused by the memory's own maximum (wasmtime answers -1): nothing counted.
            Ok(false) => return Ok(false),
            Ok(true) => self.growth.memory_bytes(),
            Err(_) => return Err(HostTrap::new(
                TrapKind::MemoryLimit,
                format!(
                    "memory limit exceeded: `{}` tried to grow its memory to {} MiB{}, over its limit of {} MiB \
                     (raise `memory_limit_mb` on the node or `wasgo/limits/memory_mb` if the mod really needs it)",
                    self.name,
                    desired.div_ceil(1 << 20),
                    match self.growth.host_bytes() {
                        0 => String::new(),
                        host => format!(
                            " beside the {} MiB of JavaScript values its program holds on the host",
                            host.div_ceil(1 << 20)
                        ),
                    },
                    self.limits.memory_bytes >> 20
                ),
            )
            .into_error()),
        };
        self.memory_gauge
            .store(after, std::sync::atomic::Ordering::Relaxed);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Counted over all tables: 16 tables of a million entries each took 126 MB outside the
        // memory limit.
        Ok(self.growth.grow_table(current, desired, maximum))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // Counted when asked; the engine could not make it.
        self.growth.grow_failed();
        self.memory_gauge.store(
            self.growth.memory_bytes(),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.growth.grow_failed();
        Ok(())
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        GrowthTally::MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        GrowthTally::MAX_TABLES
    }
}

#[cfg(test)]
mod entry_name_tests {
    use super::EntryName;

    #[test]
    fn short_and_long_names_read_back_and_replace_each_other() {
        let mut name = EntryName::default();
        assert_eq!(name.as_str(), "");
        name.set("process");
        assert_eq!(name.as_str(), "process");
        let long = "an_export_whose_name_is_longer_than_the_room_kept_in_place";
        name.set(long);
        assert_eq!(name.as_str(), long);
        name.set("físico_ü");
        assert_eq!(name.as_str(), "físico_ü");
        let exactly = "x".repeat(super::INLINE_NAME);
        name.set(&exactly);
        assert_eq!(name.as_str(), exactly);
        let one_more = "y".repeat(super::INLINE_NAME + 1);
        name.set(&one_more);
        assert_eq!(name.as_str(), one_more);
        name.set("");
        assert_eq!(name.as_str(), "");
    }
}

/// What a module's function imports were linked to at a level.
#[derive(Debug, Default)]
pub(crate) struct LinkedImports {
    /// The imports linked to stubs, as (`module`, `name`).
    pub(crate) stubbed: std::collections::HashSet<(String, String)>,
    /// The game functions linked, by (`module`, `name`): the id each was linked to.
    pub(crate) games: std::collections::HashMap<(String, String), u64>,
}
