//! One running mod: its store, its worker thread for `main`, its main-thread entries and its
//! kill switch.
//!
//! The store lives behind a mutex. `main` holds it on the worker thread for as long as it runs
//! (the worker owns the store then) and frees it there if the instance ended meanwhile; a
//! main-thread entry (`init`, `process`, `call_export`, ...) only *tries* the lock and reports
//! [`WasgoError::Busy`] when `main` has it, so the game never blocks on a mod. Any trap ends the
//! instance and frees its memory.
//!
//! `kill()` never waits for the worker: it throws the kill switch and advances the epoch
//! (running wasm stops at its next epoch check, a wait for the main thread or a WASI sleep wakes
//! at once), marks the instance killed, sends `Killed` and frees the store if no thread is
//! inside it. It then gives the worker at most [`KILL_GRACE`] to finish, so a mod that was only
//! running wasm has no thread left when `kill()` returns; a worker inside a slow host call frees
//! the store itself when that call returns, and [`ModInstance::reap_worker`] joins it later
//! without blocking. The grace is polled (yielding between polls), not slept, and skipped when
//! more `main`s run than there are cores: with ten mods spinning on two cores, a main thread
//! that slept 5 ms was measured waking 10 to 34 ms later, and one that polled was preempted for
//! up to 70 ms.

use crate::budget;
use crate::catalog::Signature;
use crate::clock::Stamp;
use crate::engine::EngineContext;
use crate::entry;
pub use crate::entry::MainKind;
use crate::error::{HostTrap, WasgoError};
use crate::events::{event_channel, EventQueue, EventSink, ModEvent, OutputSource};
use crate::guest_kind::GuestKind;
use crate::kill::KillSwitch;
use crate::level::SafetyLevel;
use crate::limits::Limits;
pub use crate::mod_status::ModStatus;
use crate::mod_status::StatusCell;
use crate::module::CompiledModule;
use crate::module::PlannedExport;
use crate::prefetch::{HotAddresses, MemoryHints};
use crate::state::{DeadlineKind, InstanceState};
use crate::trap::describe_trap;
use crate::wasi_ctx::{self, LineSink, WasiDirs};
use crossbeam_channel::Receiver;
use parking_lot::{Mutex, MutexGuard};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::{Instance, Store, Val};

/// Stack of a worker thread. wasm itself is capped by wasmtime's `max_wasm_stack` (512 KiB);
/// the rest is room for host calls.
const WORKER_STACK_BYTES: usize = 8 << 20;
/// How long `kill()` and `Drop` wait for a worker to notice the kill switch: a worker running
/// wasm notices at its next epoch check (the kill advances the epoch); one in a host call that
/// ignores the switch is not waited for.
pub const KILL_GRACE: Duration = Duration::from_millis(5);

/// How one instance is set up.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The mod's name, used in messages and as WASI's program name.
    pub name: String,
    pub level: SafetyLevel,
    pub limits: Limits,
    /// `main`'s arguments (after the program name).
    pub args: Vec<String>,
    pub dirs: WasiDirs,
    /// The grants of this mod, shared with its owner.
    pub permissions: Arc<crate::permissions::Permissions>,
    /// Identifies the instance to the object host
    /// ([`Runtime::next_instance_key`](crate::runtime::Runtime::next_instance_key)).
    pub key: crate::ids::InstanceKey,
    /// What level-2 HTTP may reach (default: nothing).
    pub network: crate::http::NetworkConfig,
}

impl InstanceConfig {
    /// A configuration with the default [`Limits`], no arguments, no directories, no
    /// permissions and no network: set the other fields on it (`InstanceConfig { limits, ..
    /// InstanceConfig::new(name, level, key) }`).
    pub fn new(
        name: impl Into<String>,
        level: SafetyLevel,
        key: crate::ids::InstanceKey,
    ) -> InstanceConfig {
        InstanceConfig {
            name: name.into(),
            level,
            limits: Limits::default(),
            args: Vec::new(),
            dirs: WasiDirs::default(),
            permissions: crate::permissions::Permissions::new(),
            key,
            network: crate::http::NetworkConfig::default(),
        }
    }
}

/// What an entry into the instance of `shared` and `store` touches first (see
/// [`ModInstance::hot_addresses`]): the shared status and store lock, the store's data (the
/// entry clock, the deadline kind), and the places in its memory that `hints` name (those
/// outside the memory left out). Taken once, when the instance is made: under the guard-page
/// layout the memory never moves; under the compact one a grown memory may move, and those
/// addresses then only miss (see [`crate::prefetch`]).
fn hot_addresses(
    shared: &Arc<Shared>,
    store: &Store<InstanceState>,
    hints: MemoryHints,
) -> HotAddresses {
    let mut hot = HotAddresses::NONE;
    hot.add(Arc::as_ptr(shared) as usize, 2);
    hot.add(store.data() as *const InstanceState as usize, 1);
    if let Some(memory) = store.data().memory {
        let base = memory.data_ptr(store) as usize;
        let size = memory.data_size(store);
        for offset in hints.offsets().map(|o| o as usize).filter(|&o| o < size) {
            hot.add(base + offset, 1);
        }
    }
    hot
}

/// The store and instance: the mod's memory. Counted in `stats.instances` while it exists.
struct Live {
    store: Store<InstanceState>,
    instance: Instance,
    ctx: Arc<EngineContext>,
    /// The exported functions in the plan's order, each resolved at its first call: an entry
    /// then finds its `Func` and checks numeric arguments without a name lookup in the
    /// instance or a type query (see `call_from`).
    exports: entry::ResolvedExports,
}

impl Drop for Live {
    fn drop(&mut self) {
        // The memory goes with the store.
        self.store.data().memory_gauge.store(0, Ordering::Relaxed);
        self.ctx.stats.instances.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Shared {
    name: String,
    ctx: Arc<EngineContext>,
    live: Mutex<Option<Live>>,
    /// Changed under its lock, read without one (`mod_status.rs`).
    status: StatusCell,
    kill: Arc<KillSwitch>,
    events: EventSink,
    stdio: [LineSink; 2],
}

impl Shared {
    /// Throws the kill switch and advances the engine's epoch at once, so wasm running now (on
    /// the worker or on this thread) reaches its epoch callback at its next check instead of at
    /// the ticker's next tick (up to 1 ms later, longer when the ticker waits for a core). Other
    /// stores' callbacks run one tick early, find nothing to do and re-arm.
    fn throw_kill(&self, reason: &str) {
        if self.kill.kill(reason) {
            self.ctx.engine.increment_epoch();
        }
    }

    /// Ends the instance after `main` or an entry failed with `err`; returns what to report.
    fn fail(&self, live: &mut Option<Live>, err: wasmtime::Error) -> WasgoError {
        for s in &self.stdio {
            s.flush_partial();
        }
        *live = None;
        let mut status = self.status.lock();
        if self.kill.is_killed() || !status.is_live() {
            // `kill()` owns the status change, the event and the counter.
            return WasgoError::Killed {
                name: self.name.clone(),
                reason: self.kill.reason().unwrap_or_default(),
            };
        }
        if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            *status = ModStatus::Exited;
            self.events.send(ModEvent::Finished { exit_code: exit.0 });
            return WasgoError::Exited {
                name: self.name.clone(),
                code: exit.0,
            };
        }
        let info = describe_trap(&self.name, &err);
        self.ctx.stats.traps.fetch_add(1, Ordering::Relaxed);
        // The event is queued before the status lock is let go: an owner that sees the
        // instance ended (the new status is published as the guard drops) then finds its last
        // event queued (the glue stops delivering to an ended instance after one more drain).
        *status = ModStatus::Trapped;
        self.events.send(ModEvent::Trapped {
            message: info.message.clone(),
        });
        drop(status);
        WasgoError::Trap(info)
    }
}

/// A mod instance. Create it with [`ModInstance::new`] on the main thread.
pub struct ModInstance {
    shared: Arc<Shared>,
    events: EventQueue,
    worker: Option<Worker>,
    main: Option<MainKind>,
    /// The module's guest convention.
    guest: GuestKind,
    /// The module's exported functions and their signatures (`None` for ones outside the
    /// ABI's types), shared by every instance of the module; `Live::exports` has the same order.
    plan: Arc<[PlannedExport]>,
    /// The store's HTTP table (gone once the store is).
    http: std::sync::Weak<crate::http::HttpTable>,
    /// The bytes of linear memory the store holds (see [`ModInstance::memory_in_use`]).
    memory_gauge: Arc<std::sync::atomic::AtomicUsize>,
    /// What an entry touches first, for the frame driver to prefetch ([`crate::prefetch`]).
    hot: HotAddresses,
    /// Whether the store's lock (`Shared::live`) is still taken by the last entry, kept for
    /// the next one ([`ModInstance::lock_live`]).
    held: Cell<bool>,
    /// A Go-js program's global object, for [`ModInstance::has_callable`].
    js_global: Option<crate::gojs::GlobalPeek>,
}

/// The worker thread of `main`; `done` disconnects when the thread has let go of everything.
struct Worker {
    handle: JoinHandle<()>,
    done: Receiver<()>,
}

impl ModInstance {
    /// The addresses an entry into this instance touches first (its shared status and store
    /// lock, its store's data, and the places in its memory that its module's [`MemoryHints`]
    /// name), for a caller about to enter several instances in turn to prefetch (see
    /// [`crate::prefetch`]). Plain numbers: the caller never dereferences them, so they may
    /// outlive the instance. An owner that keeps the instance somewhere (an `Rc`) may add that
    /// address.
    pub fn hot_addresses(&self) -> HotAddresses {
        self.hot
    }

    /// Instantiates `module` and runs its `init` export, if any, on the calling thread (what
    /// [`ModInstance::new`] does with the runtime's context). Sends one `LinkWarning` event per
    /// unresolved import first. When the setup exports (`_initialize`, `init`, `wapc_init`)
    /// end the instance, what it raised until then is put in `leftover` (its queue goes with
    /// it), its last event (`Trapped`, `Finished`) included.
    pub(crate) fn instantiate(
        ctx: &Arc<EngineContext>,
        module: &CompiledModule,
        mut config: InstanceConfig,
        kill: Arc<KillSwitch>,
        leftover: Option<&mut Vec<ModEvent>>,
    ) -> Result<ModInstance, WasgoError> {
        if let Some(reason) = ctx.pool.and_then(|p| p.refuses(config.limits.memory_bytes)) {
            return Err(WasgoError::Instantiate {
                name: config.name,
                reason,
            });
        }
        if config.level >= SafetyLevel::Wrapped {
            if let Some(Err(reason)) = config
                .dirs
                .sandbox
                .as_deref()
                .map(crate::sandbox::Sandbox::check_root)
            {
                return Err(WasgoError::Instantiate {
                    name: config.name,
                    reason,
                });
            }
        }
        let prelinked = module.prelinked(&ctx.engine, &ctx.hosts, config.level, &config.name)?;
        let (sink, queue) = event_channel();
        for w in prelinked.warnings.iter() {
            sink.send(ModEvent::LinkWarning {
                function: w.function.clone(),
                message: w.message.clone(),
            });
        }
        let stdio = [
            LineSink::new(OutputSource::Stdout, sink.clone()),
            LineSink::new(OutputSource::Stderr, sink.clone()),
        ];
        let created = Instant::now();
        // Level 1's context is made at the mod's first WASI call (see `wasi_ctx::WasiSlot`).
        let wasi = if config.level >= SafetyLevel::Wrapped {
            let ctx = wasi_ctx::build_ctx(
                &config.name,
                &config.args,
                created,
                config.level,
                &config.dirs,
                &stdio,
            )
            .map_err(|reason| WasgoError::Instantiate {
                name: config.name.clone(),
                reason,
            })?;
            wasi_ctx::WasiSlot::made(ctx)
        } else {
            wasi_ctx::WasiSlot::unmade()
        };
        let memory_gauge = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let http = Arc::new(crate::http::HttpTable::new(config.network.clone()));
        let http_weak = Arc::downgrade(&http);
        let state = InstanceState {
            wasi,
            name: config.name.clone(),
            level: config.level,
            limits: config.limits.clone(),
            events: sink.clone(),
            kill: kill.clone(),
            hosts: ctx.hosts.clone(),
            last_error: String::new(),
            main_deadline: None,
            clock: crate::state::EntryClock::idle(),
            strikes: 0,
            growth: Default::default(),
            memory_gauge: memory_gauge.clone(),
            created,
            wasi_args: std::mem::take(&mut config.args),
            sandbox: config
                .dirs
                .sandbox
                .clone()
                .map(|root| crate::sandbox::Sandbox::new(root, config.limits.storage_bytes)),
            permissions: config.permissions.clone(),
            key: config.key,
            on_main_thread: true,
            memory: None,
            stash: None,
            object_calls: 0,
            linked: prelinked.stubbed.clone(),
            guest_kind: module.guest_kind(),
            http,
            guest: crate::gojs::new_guest_state(module.guest_kind(), output(&stdio))
                .or_else(|| crate::wapc::new_guest_state(module.guest_kind(), output(&stdio))),
            remeasure_host: (module.guest_kind() == GuestKind::GoJs)
                .then_some(crate::gojs::heap::remeasure as fn(&mut InstanceState) -> bool),
            stdio: stdio.clone(),
            queued: crate::bridge::CallQueue::new(),
            found_nodes: Default::default(),
            unexposed: Default::default(),
            open_files: Default::default(),
            main_time: Default::default(),
            slow_queue: Default::default(),
            main_share: Default::default(),
        };
        refuse_too_deep(&state, &config.name)?;
        let mut store = Store::new(&ctx.engine, state);
        store.limiter(|s| s as &mut dyn wasmtime::ResourceLimiter);
        store.epoch_deadline_callback(budget::on_epoch);
        budget::arm(
            &mut store,
            DeadlineKind::Callback,
            "instantiation",
            Stamp::now(),
            ctx.ticker.ticks(),
        );
        let instance = {
            let _tick = ctx.ticker.enter();
            prelinked.pre.instantiate(&mut store)
        };
        let late = budget::disarm(&mut store, instance.is_ok(), ctx.ticker.ticks());
        let instance = match late {
            Some(trap) => Err(trap.into_error()),
            None => instance,
        };
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            ctx: ctx.clone(),
            live: Mutex::new(None),
            status: StatusCell::new(ModStatus::Alive),
            kill,
            events: sink,
            stdio,
        });
        let instance = match instance {
            Ok(instance) => instance,
            Err(err) => {
                if err.downcast_ref::<HostTrap>().is_some()
                    || err.downcast_ref::<wasmtime::Trap>().is_some()
                {
                    let mut none = None;
                    return Err(shared.fail(&mut none, err));
                }
                let pool = ctx.pool.map(|pool| {
                    format!(
                        " (the engine runs with an instance pool of {}, {} instances live: \
                         raise `wasgo/runtime/instance_pool_size` if it is full)",
                        pool.describe(),
                        ctx.stats.instances.load(Ordering::Relaxed)
                    )
                });
                return Err(WasgoError::Instantiate {
                    name: config.name,
                    reason: format!("{err:#}{}", pool.unwrap_or_default()),
                });
            }
        };
        let main = match module.guest_kind() {
            GuestKind::GoJs => {
                crate::gojs::attach(&mut store, &instance)?;
                Some(MainKind::GoJs)
            }
            _ => module.main_kind(),
        };
        store.data_mut().memory = module
            .memory_export()
            .and_then(|at| instance.get_module_export(&mut store, &at))
            .and_then(wasmtime::Extern::into_memory);
        let plan = module.export_plan();
        let exports = entry::unresolved_exports(&plan);
        ctx.stats.instances.fetch_add(1, Ordering::Relaxed);
        let hot = hot_addresses(&shared, &store, module.memory_hints());
        let js_global = crate::gojs::global_peek(store.data());
        *shared.live.lock() = Some(Live {
            store,
            instance,
            ctx: ctx.clone(),
            exports,
        });
        let mut this = ModInstance {
            shared,
            events: queue,
            worker: None,
            main,
            guest: module.guest_kind(),
            plan,
            http: http_weak,
            memory_gauge,
            hot,
            held: Cell::new(false),
            js_global,
        };
        match this.set_up(module) {
            Ok(()) => Ok(this),
            Err(error) => {
                if let Some(leftover) = leftover {
                    leftover.extend(this.drain_events());
                }
                Err(error)
            }
        }
    }

    /// Runs the exports that set a new instance up.
    fn set_up(&mut self, module: &CompiledModule) -> Result<(), WasgoError> {
        // WASI reactors (Rust and C `cdylib`s, Zig libraries) set up their runtime here.
        if self.has_export("_initialize") {
            self.call("_initialize", &[])?;
        }
        if self.has_export("init") {
            self.call("init", &[])?;
        }
        // waPC guests are set up as the reference hosts (wapc-rs, wapc-go) set them up: their
        // `_start` first (TinyGo's `main`, where a TinyGo guest registers its operations), then
        // `wapc_init` (where the Rust and AssemblyScript SDKs register theirs). A waPC guest has
        // no `main` on the worker (`CompiledModule::main_kind`).
        if module.guest_kind() == GuestKind::Wapc {
            // A `_start` of another type is no entry point (as for any mod).
            if module.has_start_entry() {
                self.run_wapc_start()?;
            }
            if self.has_export("wapc_init") {
                self.call("wapc_init", &[])?;
            }
        }
        Ok(())
    }

    /// Runs a waPC guest's `_start` under the callback budget. TinyGo 0.35 and later end
    /// `main` with WASI's `proc_exit(0)`: that ends the set-up, not the instance (as in the
    /// reference hosts); any other exit code ends the instance as an exit from `init` does
    /// ([`WasgoError::Exited`]), and a trap ends it as a trap in `init` does.
    fn run_wapc_start(&self) -> Result<(), WasgoError> {
        self.enter("_start", |store, instance| {
            let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
            match start.call(&mut *store, ()) {
                Err(e)
                    if e.downcast_ref::<wasmtime_wasi::I32Exit>()
                        .is_some_and(|x| x.0 == 0) =>
                {
                    Ok(())
                }
                other => other,
            }
        })
    }

    /// The bytes of linear memory the instance holds now (its memories' current sizes, as
    /// counted against the memory limit); 0 once it has ended and its memory was freed. Readable
    /// at any time, also while `main` runs.
    pub fn memory_in_use(&self) -> usize {
        self.memory_gauge.load(Ordering::Relaxed)
    }

    /// The mod's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The entry point `start_main` would run, if the mod has one.
    pub fn main_kind(&self) -> Option<MainKind> {
        self.main
    }

    /// The guest convention of the instance's module.
    pub fn guest_kind(&self) -> GuestKind {
        self.guest
    }

    pub fn status(&self) -> ModStatus {
        self.shared.status.get()
    }

    /// Whether `main` runs on the worker now.
    pub fn is_main_running(&self) -> bool {
        self.status() == ModStatus::RunningMain
    }

    /// Events since the last call, in order.
    pub fn drain_events(&self) -> Vec<ModEvent> {
        self.events.drain()
    }

    /// [`ModInstance::drain_events`], at most `max` of them; true when more wait (they come, in
    /// order, at the next drain).
    pub fn drain_events_at_most(&self, max: usize) -> (Vec<ModEvent>, bool) {
        self.events.drain_at_most(max)
    }

    /// Whether the owner has nothing to do after an entry: no event waits, no `http_response`
    /// is due and the instance lives (an owner still delivers everything when this is false).
    /// Answered from atomics and one uncontended lock, so an owner can ask after every entry.
    pub fn is_quiet(&self) -> bool {
        self.events.is_empty()
            && !self.http.upgrade().is_some_and(|t| t.has_notifications())
            && self.status().is_live()
    }

    /// Finished HTTP requests whose `http_response(id, status)` the owner should call now, oldest
    /// first (empty once the instance has ended).
    pub fn take_http_responses(&self) -> Vec<(i32, i32)> {
        self.http
            .upgrade()
            .map(|t| t.take_notifications())
            .unwrap_or_default()
    }

    /// Puts back `http_response` calls that could not be made yet (while `main` runs).
    pub fn requeue_http_responses(&self, pending: Vec<(i32, i32)>) {
        if let Some(t) = self.http.upgrade() {
            t.requeue_notifications(pending);
        }
    }

    /// Whether the module exports a function called `name` (answered without touching the store,
    /// so it works while `main` runs).
    pub fn has_export(&self, name: &str) -> bool {
        crate::module::find_planned(&self.plan, name).is_some()
    }

    /// Whether the game can call `name` with `call_export`: an exported function of the module,
    /// or for a Go-js program a function it set on its global object (`js.FuncOf`; its wasm
    /// exports `run`, `resume`, ... are Go's runtime, not the program's). Answered without the
    /// store, so it works while `main` runs.
    pub fn has_callable(&self, name: &str) -> bool {
        match &self.js_global {
            Some(global) => global.has_function(name),
            None => self.has_export(name),
        }
    }

    /// Why export `name` has no [`ModInstance::export_signature`]: it does not exist, or it
    /// takes or returns values that are not numbers.
    pub fn no_signature_message(&self, name: &str) -> String {
        if self.has_export(name) {
            format!(
                "`{name}` of `{}` takes or returns values other than numbers (i32, i64, f32, f64), which an export called from the game cannot have",
                self.name()
            )
        } else {
            format!("`{}` has no exported function `{name}`", self.name())
        }
    }

    /// The signature of export `name`, if it is a function with ABI types.
    pub fn export_signature(&self, name: &str) -> Option<&Signature> {
        crate::module::find_planned(&self.plan, name).and_then(|at| self.plan[at].sig.as_ref())
    }

    /// Calls export `name` on the calling (main) thread under the callback budget.
    ///
    /// # Errors
    /// [`WasgoError::Busy`] while `main` runs, [`WasgoError::Ended`] after the instance ended,
    /// [`WasgoError::NoSuchExport`], [`WasgoError::BadArguments`], or [`WasgoError::Trap`] (the
    /// instance has then ended and a `Trapped` event was sent).
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, WasgoError> {
        self.call_shared(name, args)
    }

    /// [`ModInstance::call`] through a shared reference, so that an owner can keep the instance
    /// reachable while it runs (a game function the mod calls may reach the owner again); a
    /// nested call finds the store busy and answers [`WasgoError::Busy`].
    ///
    /// # Errors
    /// As [`ModInstance::call`].
    pub fn call_shared(&self, name: &str, args: &[Val]) -> Result<Vec<Val>, WasgoError> {
        self.call_from(name, args, Stamp::now())
    }

    /// [`ModInstance::call_shared`] for an owner that has just read the clock: `started` is
    /// when the entry began, which its callback budget counts from.
    ///
    /// # Errors
    /// As [`ModInstance::call`].
    pub fn call_from(
        &self,
        name: &str,
        args: &[Val],
        started: Stamp,
    ) -> Result<Vec<Val>, WasgoError> {
        self.with_store_locked(|guard| self.call_locked(guard, name, args, started))
    }

    /// The body of [`ModInstance::call_from`], with the store locked.
    fn call_locked(
        &self,
        guard: &mut MutexGuard<'_, Option<Live>>,
        name: &str,
        args: &[Val],
        started: Stamp,
    ) -> Result<Vec<Val>, WasgoError> {
        let shared = &self.shared;
        let Some(live) = guard.as_mut() else {
            return Err(WasgoError::Ended {
                name: shared.name.clone(),
                state: self.status().describe(),
            });
        };
        // `live.exports` is in the plan's order (`entry::ResolvedExports`).
        let Some(at) = crate::module::find_planned(&self.plan, name) else {
            return Err(WasgoError::NoSuchExport {
                module: shared.name.clone(),
                export: name.into(),
            });
        };
        let planned = &self.plan[at];
        let export = match &mut live.exports[at] {
            Some(export) => &*export,
            slot @ None => {
                let export = entry::resolve_export(&mut live.store, &live.instance, planned)
                    .map_err(|export| WasgoError::Instantiate {
                        name: shared.name.clone(),
                        reason: format!(
                            "wasgo host bug: the instance has no export `{export}` although its \
                             module does; please report it"
                        ),
                    })?;
                &*slot.insert(export)
            }
        };
        let n_results = match &planned.sig {
            Some(sig) if entry::numbers_match(&sig.params, args) => sig.results.len(),
            _ => entry::check_args(&shared.name, name, &export.func, &live.store, args)?,
        };
        // The inline buffer is filled only when there are results: building it costs a
        // store-forwarding stall (the `Val` is written as a tag and a word, then copied as one
        // 16-byte value), a measurable part of an empty entry (BENCHMARKS.md, "Sixth pass").
        let mut inline;
        let mut spilled = Vec::new();
        let results: &mut [Val] = if n_results == 0 {
            &mut []
        } else if n_results <= entry::MAX_INLINE_RESULTS {
            inline = [Val::I32(0); entry::MAX_INLINE_RESULTS];
            &mut inline[..n_results]
        } else {
            spilled.resize(n_results, Val::I32(0));
            &mut spilled
        };
        refuse_too_deep(live.store.data(), &shared.name)?;
        let ticker = &shared.ctx.ticker;
        budget::arm(
            &mut live.store,
            DeadlineKind::Callback,
            name,
            started,
            ticker.ticks(),
        );
        let outcome = {
            let main_thread = live.store.data().on_main_thread;
            let _tick = ticker.enter_from(main_thread);
            entry::call_resolved(&mut live.store, export, args, results)
        };
        let outcome = match budget::disarm(&mut live.store, outcome.is_ok(), ticker.ticks()) {
            Some(trap) => Err(trap.into_error()),
            None => outcome,
        };
        match outcome {
            // `to_vec` of nothing is still a call that is not inlined.
            Ok(()) if n_results == 0 => Ok(Vec::new()),
            Ok(()) => Ok(results.to_vec()),
            Err(err) => Err(shared.fail(guard, err)),
        }
    }

    /// Runs `f` on the store on the calling (main) thread under the callback budget, as
    /// [`ModInstance::call`] runs an export: the guest hosts' entries (`call_js`, `invoke`) use
    /// it.
    pub(crate) fn enter<R>(
        &self,
        label: &str,
        f: impl FnOnce(&mut Store<InstanceState>, Instance) -> wasmtime::Result<R>,
    ) -> Result<R, WasgoError> {
        self.with_store_locked(|guard| self.enter_locked(guard, label, f))
    }

    /// The body of [`ModInstance::enter`], with the store locked.
    fn enter_locked<R>(
        &self,
        guard: &mut MutexGuard<'_, Option<Live>>,
        label: &str,
        f: impl FnOnce(&mut Store<InstanceState>, Instance) -> wasmtime::Result<R>,
    ) -> Result<R, WasgoError> {
        let shared = &self.shared;
        let Some(live) = guard.as_mut() else {
            return Err(WasgoError::Ended {
                name: shared.name.clone(),
                state: self.status().describe(),
            });
        };
        refuse_too_deep(live.store.data(), &shared.name)?;
        let ticker = &shared.ctx.ticker;
        budget::arm(
            &mut live.store,
            DeadlineKind::Callback,
            label,
            Stamp::now(),
            ticker.ticks(),
        );
        let outcome = {
            let main_thread = live.store.data().on_main_thread;
            let _tick = ticker.enter_from(main_thread);
            f(&mut live.store, live.instance)
        };
        let outcome = match budget::disarm(&mut live.store, outcome.is_ok(), ticker.ticks()) {
            Some(trap) => Err(trap.into_error()),
            None => outcome,
        };
        outcome.map_err(|err| shared.fail(guard, err))
    }

    /// Reads the store's state without waiting; `None` while `main` holds it or after the end.
    pub(crate) fn peek_state<R>(&self, f: impl FnOnce(&InstanceState) -> R) -> Option<R> {
        let guard = self.lock_live()?;
        let r = guard.as_ref().map(|live| f(live.store.data()));
        self.keep_live(guard);
        r
    }

    /// The store's lock for an entry: the one the last entry kept, else a new `try_lock`
    /// (`None` while `main` holds it).
    ///
    /// An uncontended lock and unlock are two atomic read-modify-writes, about a tenth of an
    /// empty entry (BENCHMARKS.md, twenty-eighth pass). So an entry that ends while no worker
    /// thread can want the store keeps it locked for the next entry ([`ModInstance::keep_live`]),
    /// and the one path that lets a worker take it ([`ModInstance::start_main`]) unlocks it
    /// first. Every lock of `Shared::live` made through the instance comes here.
    fn lock_live(&self) -> Option<MutexGuard<'_, Option<Live>>> {
        if self.held.replace(false) {
            // SAFETY: `held` is set only by `keep_live`, which forgot a guard of this mutex
            // instead of unlocking it, so the mutex is still locked on this instance's behalf;
            // no guard of it was made since (`held` stayed true until this line, and every lock
            // through the instance comes here first), and the worker, which locks it directly,
            // was gone when it was kept and cannot start before `start_main` unlocks it.
            return Some(unsafe { self.shared.live.make_guard_unchecked() });
        }
        // `main` was started but its thread has not taken the store yet: busy all the same (an
        // entry right after `start()`, or from a `started` handler, ran before `main`).
        if self.status() == ModStatus::RunningMain {
            return None;
        }
        self.shared.live.try_lock()
    }

    /// Runs `body` with the store locked ([`ModInstance::lock_live`]), the lock kept after it
    /// as [`ModInstance::keep_live`] says; [`WasgoError::Busy`] while `main` holds it.
    fn with_store_locked<R>(
        &self,
        body: impl FnOnce(&mut MutexGuard<'_, Option<Live>>) -> Result<R, WasgoError>,
    ) -> Result<R, WasgoError> {
        let Some(mut guard) = self.lock_live() else {
            return Err(busy(&self.shared.name, self.main));
        };
        let result = body(&mut guard);
        self.keep_live(guard);
        result
    }

    /// Ends an entry's use of the store's lock: kept for the next entry while no worker thread
    /// exists (nothing but this instance's entries takes the lock then) and the store lives,
    /// else unlocked.
    fn keep_live(&self, guard: MutexGuard<'_, Option<Live>>) {
        if self.worker.is_none() && guard.is_some() {
            std::mem::forget(guard);
            self.held.set(true);
        }
    }

    /// Unlocks the store's lock if an entry kept it.
    fn let_go_of_live(&self) {
        if self.held.get() {
            drop(self.lock_live());
        }
    }

    /// Runs the mod's entry point on a new worker thread. Returns false when the mod has none
    /// (it then lives on its callbacks).
    ///
    /// # Errors
    /// [`WasgoError::Busy`] if `main` already runs, [`WasgoError::Ended`] after the instance
    /// ended, [`WasgoError::Host`] if no thread can be started.
    pub fn start_main(&mut self) -> Result<bool, WasgoError> {
        let Some(kind) = self.main else {
            return Ok(false);
        };
        // The worker locks the store itself (and blocks until it can).
        self.let_go_of_live();
        {
            let mut status = self.shared.status.lock();
            match *status {
                ModStatus::RunningMain => return Err(busy(&self.shared.name, self.main)),
                s if !s.is_live() => {
                    return Err(WasgoError::Ended {
                        name: self.shared.name.clone(),
                        state: s.describe(),
                    })
                }
                _ => *status = ModStatus::RunningMain,
            }
        }
        let stats = &self.shared.ctx.stats;
        stats.running.fetch_add(1, Ordering::Relaxed);
        stats.workers.fetch_add(1, Ordering::Relaxed);
        let shared = self.shared.clone();
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let spawned = std::thread::Builder::new()
            .name(format!("wasgo-main-{}", self.shared.name))
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || {
                // Below the game's threads, as compiles are: however many mods' `main`s spin,
                // the main thread (and Godot's audio and render threads) keep their share.
                crate::budget::lower_thread_priority();
                let outcome = catch_unwind(AssertUnwindSafe(|| run_main(&shared, kind)));
                if let Err(panic) = outcome {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    *shared.live.lock() = None;
                    let mut status = shared.status.lock();
                    if status.is_live() {
                        *status = ModStatus::Trapped;
                        shared.events.send(ModEvent::Trapped {
                            message: format!("wasgo host bug while running `main` of `{}`: {what} (please report this)", shared.name),
                        });
                    }
                }
                let ctx = shared.ctx.clone();
                ctx.stats.running.fetch_sub(1, Ordering::Relaxed);
                drop(shared);
                // Last things the thread does: from here on it holds nothing of the instance.
                ctx.stats.workers.fetch_sub(1, Ordering::Relaxed);
                drop(done_tx);
            });
        match spawned {
            Ok(handle) => {
                self.worker = Some(Worker {
                    handle,
                    done: done_rx,
                });
                Ok(true)
            }
            Err(e) => {
                *self.shared.status.lock() = ModStatus::Alive;
                stats.running.fetch_sub(1, Ordering::Relaxed);
                stats.workers.fetch_sub(1, Ordering::Relaxed);
                Err(WasgoError::Host(format!(
                    "cannot start a worker thread for `{}`: {e}",
                    self.shared.name
                )))
            }
        }
    }

    /// Lets go of the worker once `main` has ended; never blocks. Call it now and then (every
    /// frame). The thread goes to [`worker_reaper`](crate::worker_reaper), which joins it: its
    /// thread-local destructors may still run for milliseconds after its function returned.
    pub fn reap_worker(&mut self) {
        if self.worker.as_ref().is_some_and(|w| w.handle.is_finished()) {
            self.hand_worker_to_reaper();
        }
    }

    /// Gives the worker thread, if any, to [`worker_reaper`](crate::worker_reaper).
    fn hand_worker_to_reaper(&mut self) {
        if let Some(worker) = self.worker.take() {
            crate::worker_reaper::hand_over(worker.handle);
        }
    }

    /// Throws the kill switch without waiting: the entry that runs now (on this thread or on the
    /// worker) traps at its next check and frees nothing yet. For an owner that is itself inside
    /// one of the instance's calls; it calls [`ModInstance::kill`] once that call has returned,
    /// which sets the status and sends the `Killed` event.
    pub fn request_kill(&self, reason: &str) {
        self.shared.throw_kill(reason);
    }

    /// Ends the instance as a trap its host decided on (the frame budget's overrun, judged
    /// across frames): like [`ModInstance::kill`], but the status is `Trapped`, the traps are
    /// counted and the event is `Trapped` with `message`. Returns false if the instance had
    /// already ended.
    pub fn end_trapped(&mut self, message: &str) -> bool {
        let event = ModEvent::Trapped {
            message: message.to_string(),
        };
        self.end_as(message, ModStatus::Trapped, event)
    }

    /// Ends the instance without waiting for it: throws the kill switch (a running `main` stops
    /// at its next epoch check, a wait in a host call wakes at once), marks the instance killed,
    /// sends the `Killed` event and frees the store unless a thread is inside it (that thread
    /// frees it when its call returns). Waits at most [`KILL_GRACE`] for the worker. Returns
    /// false if the instance had already ended.
    pub fn kill(&mut self, reason: &str) -> bool {
        let event = ModEvent::Killed {
            reason: reason.to_string(),
        };
        self.end_as(reason, ModStatus::Killed, event)
    }

    /// What [`ModInstance::kill`] and [`ModInstance::end_trapped`] share: the kill switch
    /// thrown with `reason`, then, if the instance was live, `status` set, its counter bumped
    /// and `event` queued (before the status lock is let go, as `Shared::fail` does), and the
    /// store released.
    fn end_as(&mut self, reason: &str, status: ModStatus, event: ModEvent) -> bool {
        self.shared.throw_kill(reason);
        {
            let mut now = self.shared.status.lock();
            if !now.is_live() {
                return false;
            }
            *now = status;
            let stats = &self.shared.ctx.stats;
            match status {
                ModStatus::Trapped => stats.traps.fetch_add(1, Ordering::Relaxed),
                _ => stats.kills.fetch_add(1, Ordering::Relaxed),
            };
            self.shared.events.send(event);
        }
        self.release();
        true
    }

    /// Frees the store if no thread is inside it, flushes output and gives the worker a grace
    /// period to end; never blocks longer than [`KILL_GRACE`].
    fn release(&mut self) {
        if let Some(mut live) = self.lock_live() {
            *live = None;
        }
        for s in &self.shared.stdio {
            s.flush_partial();
        }
        // Waiting helps only when the worker has a core to run on: with more `main`s running than
        // cores (ten mods spinning on two), the caller would mostly wait for the scheduler, and
        // `kill()` must return within 10 ms.
        let running = self.shared.ctx.stats.running.load(Ordering::Relaxed);
        let worth_waiting = running < cores();
        if let Some(worker) = self.worker.as_ref().filter(|_| worth_waiting) {
            // Polled, not slept on: on a loaded machine a thread that sleeps may wait tens of
            // milliseconds to run again. Disconnected means the worker is done.
            // Yielding, not spinning, between polls: a worker that shares this thread's core
            // gets it at once (a bare spin held the core for the whole grace, 5 ms, whenever
            // the scheduler had put the worker there), and on another core a yield returns at
            // once.
            let deadline = Instant::now() + KILL_GRACE;
            while Instant::now() < deadline {
                if let Err(crossbeam_channel::TryRecvError::Disconnected) = worker.done.try_recv() {
                    break;
                }
                std::thread::yield_now();
            }
        }
        // Ended or not, the thread is the reaper's now: the kill switch ends it, and shutdown
        // waits for the reaper's joins. (A handle left here was detached with the instance, and
        // a thread still ending at exit ran this library's code after Godot unloaded it.)
        self.hand_worker_to_reaper();
    }
}

impl Drop for ModInstance {
    fn drop(&mut self) {
        self.shared.throw_kill("the instance was dropped");
        self.release();
    }
}

/// The cores this process may use (read once: it reads cgroup files).
fn cores() -> u64 {
    static CORES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1)
    })
}

/// The output of a guest host: the instance's stdout and stderr sinks.
fn output(stdio: &[LineSink; 2]) -> crate::guest_kind::GuestOutput {
    let stdio = stdio.clone();
    Box::new(move |source, bytes| {
        let sink = &stdio[usize::from(source == OutputSource::Stderr)];
        match bytes {
            Some(b) => sink.push(b),
            None => sink.flush_partial(),
        }
    })
}

/// The body of the worker thread: runs the entry point and reports how it ended.
fn run_main(shared: &Shared, kind: MainKind) {
    let mut guard = shared.live.lock();
    let Some(live) = guard.as_mut() else { return };
    budget::arm(&mut live.store, DeadlineKind::Main, "main", Stamp::now(), 0);
    let outcome = {
        let _tick = shared.ctx.ticker.enter_main();
        match entry::call_main(&mut live.store, &live.instance, kind) {
            Ok(code) => {
                crate::object_calls::settle_after_main(live.store.data_mut()).map(|()| code)
            }
            // WASI `exit` (a C program's non-zero return, Rust's `process::exit`) ends `main`
            // too: its queued calls are waited for and judged as after a return (they were
            // dropped, and a denied one's trap lost).
            Err(exit) if exit.downcast_ref::<wasmtime_wasi::I32Exit>().is_some() => {
                crate::object_calls::settle_after_main(live.store.data_mut()).and(Err(exit))
            }
            Err(e) => Err(e),
        }
    };
    // `main` is not under the callback clock: nothing to check late.
    let _ = budget::disarm(&mut live.store, outcome.is_ok(), 0);
    if shared.kill.is_killed() {
        // Killed while `main` ran: free the memory now, from this thread.
        *guard = None;
        return;
    }
    match outcome {
        Ok(exit_code) => {
            for s in &shared.stdio {
                s.flush_partial();
            }
            let mut status = shared.status.lock();
            if *status == ModStatus::RunningMain {
                *status = ModStatus::Finished;
                // A Go-js program whose `run` returned has not exited: it lives on callbacks.
                if kind != MainKind::GoJs {
                    shared.events.send(ModEvent::Finished { exit_code });
                }
            } else if !status.is_live() {
                // Killed after the check above (while the output was flushed): `kill()` found
                // the store held by this thread and left it to be freed here, and with it kept
                // the instance's memory for as long as its owner kept the instance.
                drop(status);
                *guard = None;
            }
        }
        Err(err) => {
            shared.fail(&mut guard, err);
        }
    }
}

/// [`WasgoError::TooDeep`] when one more call into a mod, inside the calls into mods already
/// running on the main thread, would not have the stack it may need ([`crate::stack_room`]).
/// Also [`WasgoError::ChainTooLong`] once the outermost of those calls has held the main thread
/// past its hard stop (`budget::refuse_past_chain_stop`).
fn refuse_too_deep(state: &InstanceState, name: &str) -> Result<(), WasgoError> {
    let depth = state.hosts.bridge.nesting.depth.load(Ordering::Relaxed);
    crate::stack_room::check(depth).map_err(|deep| WasgoError::TooDeep {
        name: name.to_string(),
        depth: deep.depth,
        room: deep.room,
    })?;
    budget::refuse_past_chain_stop(state, name, depth)
}

/// [`WasgoError::Busy`] for the instance `name` whose entry point is `main`.
fn busy(name: &str, main: Option<MainKind>) -> WasgoError {
    WasgoError::Busy {
        name: name.to_string(),
        hint: match main {
            Some(MainKind::GoJs) => {
                " (a Go-js program's `main` goes on while any timer of the program is pending: a \
                 goroutine's `time.Sleep`, `time.Tick` or `time.AfterFunc`; with none pending, \
                 `select {}` or `godot.Wait()` hands the program to the game's calls and signals)"
            }
            _ => "",
        },
    }
}
